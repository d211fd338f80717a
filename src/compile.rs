//! The whole pipeline in one call: load → validate → model → backends.
//!
//! Every command starts here. The result keeps what each stage produced,
//! so `validate` can stop after diagnostics and `build`/`diff`/`check`
//! use the output set.

use std::path::Path;

use crate::backend;
use crate::diagnostics::{Diagnostic, Sources};
use crate::load::{self, LoadError};
use crate::model::{self, Model};
use crate::output::{OutputError, OutputSet};
use crate::validate;

/// What a compilation produced.
#[derive(Debug)]
pub struct Compilation {
    /// Errors and warnings, sorted.
    pub diagnostics: Vec<Diagnostic>,
    /// Source texts, for excerpts in diagnostics.
    pub sources: Sources,
    /// The model, when the input was valid.
    pub model: Option<Model>,
}

impl Compilation {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Failures that are not about the manifests.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Output(#[from] OutputError),
}

/// Loads and validates the repository at `root`; builds the model when valid.
pub fn check(root: &Path) -> Result<Compilation, CompileError> {
    let loaded = load::load(root)?;
    let validated = validate::validate(&loaded);
    let model = match (&validated.platform, validated.has_errors()) {
        (Some(platform), false) => Some(model::build(platform, &validated.services)),
        _ => None,
    };
    Ok(Compilation {
        diagnostics: validated.diagnostics,
        sources: loaded.sources,
        model,
    })
}

/// Compiles the repository at `root` into its output set (`None` when invalid).
pub fn compile(root: &Path) -> Result<(Compilation, Option<OutputSet>), CompileError> {
    let compilation = check(root)?;
    let output = match &compilation.model {
        Some(model) => Some(backend::render_all(model)?),
        None => None,
    };
    Ok((compilation, output))
}
