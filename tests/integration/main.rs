//! obsgen's integration tests: one crate, one module per concern, driven by
//! the fixture folders `examples/`, `golden/` and `tests/bad/`.

mod amtool;
mod bad;
mod cli;
mod common;
mod determinism;
mod fuzz;
mod golden;
mod hostile;
mod live;
mod promtool;
mod schema;
