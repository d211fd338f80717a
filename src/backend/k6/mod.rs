//! k6: one load-test script per service, `k6/<service>.js`, taking the
//! environment as a parameter (`k6 run -e ENV=staging k6/checkout.js`).
//!
//! The script's data — scenarios with arrival-rate executors, requests,
//! per-environment base URLs and thresholds derived from the service's
//! SLOs — is built here as typed JSON ([`script`]) and written into the
//! MiniJinja templates of `templates/k6/` (embedded in the binary) only
//! through [`js::literal`]. The templates hold the code: the same code for
//! every service, so a manifest change shows as a data change in the
//! golden diff.
//!
//! A service gets a script when load tests are on (platform and service)
//! and it runs in at least one environment they may use (production only
//! when the manifest names it); without scenarios it is a warm-up.

pub mod js;
mod script;

pub use script::{Overrides, ScriptError, render_script};

use crate::backend::{Backend, Prepared, RenderContext};
use crate::output::{OutputError, OutputSet};

pub struct K6Backend;

/// Where a service's script goes in the output tree.
pub fn script_path(service: &str) -> String {
    format!("k6/{service}.js")
}

impl Backend for K6Backend {
    fn name(&self) -> &'static str {
        "k6"
    }

    fn prepare<'a>(&'a self, context: &'a RenderContext<'a>) -> Result<Prepared<'a>, OutputError> {
        let model = context.model;
        Ok(Prepared {
            shared: OutputSet::new(),
            shared_parts: Vec::new(),
            per_service: Some(Box::new(move |service, output| {
                let script = render_script(model, service, &Overrides::default())
                    .map_err(|error| OutputError::Serialize(error.to_string()))?;
                if let Some(script) = script {
                    output.add(script_path(&service.name), script)?;
                }
                Ok(())
            })),
        })
    }
}
