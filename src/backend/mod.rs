//! Backends: one module per target tool, each turning the [`Model`] into
//! files.
//!
//! A backend never writes: it returns an [`OutputSet`], so the same files
//! feed `build`, `diff`, `check` and the golden tests. Backends read only
//! the model (never spec types or raw input) and take user strings into
//! their format only through that format's escaping module.

pub mod alertmanager;
pub mod prometheus;

use crate::model::Model;
use crate::output::{OutputError, OutputSet};

/// What every backend is handed.
pub struct RenderContext<'a> {
    pub model: &'a Model,
}

/// A target tool's generator.
pub trait Backend {
    /// The tool's name, also the top folder of its files (`prometheus/`).
    fn name(&self) -> &'static str;
    /// Every file this backend generates for the model.
    fn render(&self, context: &RenderContext<'_>) -> Result<OutputSet, OutputError>;
}

/// Every backend, in a fixed order.
pub fn all() -> Vec<Box<dyn Backend>> {
    vec![
        Box::new(prometheus::PrometheusBackend),
        Box::new(alertmanager::AlertmanagerBackend),
    ]
}

/// Runs every backend and gathers their files.
pub fn render_all(model: &Model) -> Result<OutputSet, OutputError> {
    let context = RenderContext { model };
    let mut output = OutputSet::new();
    for backend in all() {
        output.extend(backend.render(&context)?)?;
    }
    Ok(output)
}
