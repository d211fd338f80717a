//! Prometheus: per environment a complete `prometheus.yml` (scrape jobs for
//! every service running there), its rule files and their promtool tests.
//!
//! Layout of the generated tree (`prometheus.output: files`, the default):
//!
//! ```text
//! prometheus/<env>/prometheus.yml             scrape configuration (one server)
//! prometheus/<env>/shard-<i>/prometheus.yml   ... or one per shard (`prometheus.shards`)
//! prometheus/<env>/file_sd/<service>.json     targets, for file_sd discovery
//! prometheus/<env>/rules/<service>.yml        recording and alerting rules
//! prometheus/<env>/tests/<service>.test.yml   promtool unit tests of those rules
//! prometheus/<env>/tests/<service>.holds.test.yml   ... and of their `for:` holds
//! ```
//!
//! With `prometheus.output: operator` the configuration and rule files are
//! replaced by Prometheus Operator objects (see [`operator`]).

pub mod operator;
pub mod promql;
pub mod promtool_cases;
pub mod rules;
pub mod scrape;

use crate::backend::{Backend, RenderContext};
use crate::output::{OutputError, OutputSet, header, yaml};
use crate::spec::PrometheusOutput;

pub struct PrometheusBackend;

impl Backend for PrometheusBackend {
    fn name(&self) -> &'static str {
        "prometheus"
    }

    fn render(&self, context: &RenderContext<'_>) -> Result<OutputSet, OutputError> {
        let model = context.model;
        let mut output = OutputSet::new();
        let operator = model.platform.prometheus.output == PrometheusOutput::Operator;
        if operator {
            operator::render_monitors(model, &mut output)?;
        } else {
            scrape::render(model, &mut output)?;
        }
        let rendered = crate::backend::per_service(&model.services, |service, output| {
            for service_env in &service.environments {
                let env = &service_env.name;
                let service_rules = rules::service_rules(model, service, service_env);
                let sources = [model.platform.source.as_str(), service.source.as_str()];
                let rule_file = if operator {
                    operator::render_rules(model, service, service_env, &service_rules, output)?
                } else {
                    let path = rules::rule_path(env, &service.name);
                    let text =
                        yaml::document(&header::hash_comment(&sources), &service_rules.file)?;
                    output.add(&path, text)?;
                    format!("../rules/{}.yml", service.name)
                };
                let tests = promtool_cases::test_file(
                    service,
                    service_env,
                    &service_rules,
                    rule_file.clone(),
                );
                output.add(
                    promtool_cases::test_path(env, &service.name),
                    yaml::document(&header::hash_comment(&sources), &tests)?,
                )?;
                let holds =
                    promtool_cases::holds_file(service, service_env, &service_rules, rule_file);
                output.add(
                    promtool_cases::holds_path(env, &service.name),
                    yaml::document(&header::hash_comment(&sources), &holds)?,
                )?;
            }
            Ok(())
        })?;
        output.extend(rendered)?;
        Ok(output)
    }
}

/// Builds a model from manifest texts, for unit tests of the backend.
#[cfg(test)]
pub(crate) fn model_from(platform: &str, services: &[&str]) -> crate::model::Model {
    let dir = crate::output::test_dir();
    std::fs::write(dir.join("obsgen.yaml"), platform).expect("writing obsgen.yaml");
    std::fs::create_dir_all(dir.join("services")).expect("services/");
    for (index, service) in services.iter().enumerate() {
        std::fs::write(dir.join(format!("services/s{index}.yaml")), service)
            .expect("writing a service");
    }
    let compilation = crate::compile::check(&dir).expect("loading");
    let _ = std::fs::remove_dir_all(&dir);
    let errors: Vec<_> = compilation
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    compilation.model.expect("a model")
}
