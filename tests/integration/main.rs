//! obsgen's integration tests: one crate, one module per concern, driven by
//! the fixture folders `examples/`, `golden/` and `tests/bad/`.

mod common;
mod golden;
mod promtool;
