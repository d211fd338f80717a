//! Backends: one module per target tool, each turning the [`Model`] into
//! files.
//!
//! A backend never writes: it returns an [`OutputSet`], so the same files
//! feed `build`, `diff`, `check` and the golden tests. Backends read only
//! the model (never spec types or raw input) and take user strings into
//! their format only through that format's escaping module.

pub mod alertmanager;
pub mod grafana;
pub mod k6;
pub mod logstash;
pub mod otel;
pub mod prometheus;

use crate::model::{Model, Service};
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
        Box::new(grafana::GrafanaBackend),
        Box::new(logstash::LogstashBackend),
        Box::new(k6::K6Backend),
        Box::new(otel::OtelBackend),
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

/// Escapes a literal for Go's RE2 regex syntax, which Prometheus (relabel
/// rules, `=~` matchers) and Alertmanager (`=~` matchers) both use: every
/// metacharacter is backslash-escaped, so a user's name can never match
/// more than itself.
pub fn re2_literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Below this many services, one thread renders everything: spawning
/// threads would cost more than it saves.
const PARALLEL_THRESHOLD: usize = 64;

/// Renders per-service files on every core. `render` gets one service and
/// the set to add its files to; the sets are merged in service order, so
/// the result is the same as a sequential loop, byte for byte.
pub fn per_service<F>(services: &[Service], render: F) -> Result<OutputSet, OutputError>
where
    F: Fn(&Service, &mut OutputSet) -> Result<(), OutputError> + Sync,
{
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || services.len() < PARALLEL_THRESHOLD {
        let mut output = OutputSet::new();
        for service in services {
            render(service, &mut output)?;
        }
        return Ok(output);
    }
    let chunk = services.len().div_ceil(threads);
    let parts: Vec<Result<OutputSet, OutputError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = services
            .chunks(chunk)
            .map(|part| {
                let render = &render;
                scope.spawn(move || {
                    let mut output = OutputSet::new();
                    for service in part {
                        render(service, &mut output)?;
                    }
                    Ok(output)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    let mut output = OutputSet::new();
    for part in parts {
        output.extend(part?)?;
    }
    Ok(output)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_rendering_equals_sequential() {
        let services: Vec<&str> = (0..200)
            .map(|i| if i % 2 == 0 { "alpha" } else { "beta" })
            .collect();
        let names: Vec<String> = (0..services.len()).map(|i| format!("svc-{i:03}")).collect();
        let platform = "apiVersion: obsgen.dev/v1\nkind: Platform\nmetadata: {name: p}\nspec:\n  environments: [{name: staging}, {name: production, production: true}]\n  teams: {alpha: {}, beta: {}}\n";
        let manifests: Vec<String> = names
            .iter()
            .zip(&services)
            .map(|(name, team)| {
                format!("apiVersion: obsgen.dev/v1\nkind: Service\nmetadata: {{name: {name}, team: {team}}}\nspec: {{slos: [{{name: a, objective: 99.9, indicator: {{type: availability}}}}]}}\n")
            })
            .collect();
        let refs: Vec<&str> = manifests.iter().map(String::as_str).collect();
        let model = prometheus::model_from(platform, &refs);
        assert!(model.services.len() >= PARALLEL_THRESHOLD);
        let render = |service: &Service, output: &mut OutputSet| {
            output.add(format!("{}/a", service.name), service.team.clone())?;
            output.add(
                format!("{}/b", service.name),
                service.environments.len().to_string(),
            )
        };
        let parallel = per_service(&model.services, render).unwrap();
        let mut sequential = OutputSet::new();
        for service in &model.services {
            render(service, &mut sequential).unwrap();
        }
        assert_eq!(parallel, sequential);
        // And the whole backend is deterministic across runs.
        assert_eq!(render_all(&model).unwrap(), render_all(&model).unwrap());
    }
}
