//! Prometheus: per environment a complete `prometheus.yml` (scrape jobs for
//! every service running there), its rule files and their promtool tests.
//!
//! Layout of the generated tree:
//!
//! ```text
//! prometheus/<env>/prometheus.yml          scrape configuration
//! prometheus/<env>/file_sd/<service>.json  targets, for file_sd discovery
//! prometheus/<env>/rules/<service>.yml     recording and alerting rules
//! ```

pub mod promql;
pub mod scrape;

use crate::backend::{Backend, RenderContext};
use crate::output::{OutputError, OutputSet};

pub struct PrometheusBackend;

impl Backend for PrometheusBackend {
    fn name(&self) -> &'static str {
        "prometheus"
    }

    fn render(&self, context: &RenderContext<'_>) -> Result<OutputSet, OutputError> {
        let mut output = OutputSet::new();
        scrape::render(context.model, &mut output)?;
        Ok(output)
    }
}
