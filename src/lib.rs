//! obsgen: a declarative observability compiler.
//!
//! The module list is the pipeline:
//! [`load`] (YAML / Jsonnet → JSON values with source positions) →
//! [`validate`] (JSON Schema + semantic checks, every error at once) →
//! [`model`] (normalized, defaults applied) →
//! [`backend`] (model → files, one module per target tool) →
//! [`output`] (the in-memory tree: write atomically, diff, check).
//! [`review`] reads the output back for reviewers (change summary,
//! service inspector). [`cli`] is the thin shell around it.

pub mod backend;
pub mod cli;
pub mod compile;
pub mod diagnostics;
pub mod limits;
pub mod load;
pub mod model;
pub mod output;
pub mod parallel;
pub mod review;
pub mod spec;
pub mod validate;
