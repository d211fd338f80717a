//! obsgen's integration tests: one crate, one module per concern, driven by
//! the fixture folders `examples/`, `golden/` and `tests/bad/`.

// Tests fail by panicking: the library's no-panic lints do not apply here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod amtool;
mod bad;
mod cli;
mod common;
mod crash;
mod determinism;
mod docs;
mod e2e;
mod fuzz;
mod golden;
mod grafana;
mod hostile;
mod incremental;
mod k6;
mod live;
mod logstash;
mod otel;
mod output_safety;
mod pre_commit;
mod promtool;
mod review;
mod scaffold;
mod schema;
mod terminal;
