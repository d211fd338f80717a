//! Alertmanager: the routing tree, receivers and inhibitions.

use crate::backend::{Backend, RenderContext};
use crate::output::{OutputError, OutputSet};

pub struct AlertmanagerBackend;

impl Backend for AlertmanagerBackend {
    fn name(&self) -> &'static str {
        "alertmanager"
    }

    fn render(&self, _context: &RenderContext<'_>) -> Result<OutputSet, OutputError> {
        Ok(OutputSet::new())
    }
}
