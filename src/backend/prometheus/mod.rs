//! Prometheus: per environment a complete `prometheus.yml` (scrape jobs for
//! every service running there); per service one rule file that every
//! environment's server loads; and, generated on demand, their promtool
//! tests.
//!
//! Layout of the generated tree (`prometheus.output: files`, the default):
//!
//! ```text
//! prometheus/<env>/prometheus.yml             scrape configuration (one server)
//! prometheus/<env>/shard-<i>/prometheus.yml   ... or one per shard (`prometheus.shards`)
//! prometheus/<env>/file_sd/<service>.json     targets, for file_sd discovery
//! prometheus/rules/<service>.yml              recording and alerting rules, every environment
//! prometheus/<env>/rules/<service>.yml        ... and the few that differ per environment
//! prometheus/tests/<service>.test.yml         promtool unit tests (`commit_tests: true`)
//! prometheus/tests/<service>.holds.test.yml   ... and of their `for:` holds
//! ```
//!
//! The rule files are written once because every environment's server
//! scrapes only that environment: `env` comes from the series, and from
//! the `env` external label each `prometheus.yml` sets (see
//! [`rules::RuleScope::Shared`]). The tests are not part of the tree unless
//! `prometheus.commit_tests` says so: `obsgen test` generates them into a
//! temporary folder ([`render_tests`]) and runs promtool on them, which
//! keeps the committed tree to what reviewers and the running tools read
//! (see `docs/decisions.md`).
//!
//! With `prometheus.output: operator` the configuration and rule files are
//! replaced by Prometheus Operator objects (see [`operator`]), one per
//! environment's namespace.

pub mod operator;
pub mod promql;
pub mod promtool_cases;
mod rule_file_yaml;
pub mod rules;
pub mod scrape;

use crate::backend::{Backend, Prepared, RenderContext, SharedPart};
use crate::model::{Model, Service};
use crate::output::{OutputError, OutputSet, header, yaml};
use crate::spec::PrometheusOutput;
use rules::RuleScope;

pub struct PrometheusBackend;

impl Backend for PrometheusBackend {
    fn name(&self) -> &'static str {
        "prometheus"
    }

    fn prepare<'a>(&'a self, context: &'a RenderContext<'a>) -> Result<Prepared<'a>, OutputError> {
        let model = context.model;
        let mut shared = OutputSet::new();
        let mut shared_parts: Vec<SharedPart<'a>> = Vec::new();
        if model.platform.prometheus.output == PrometheusOutput::Operator {
            operator::render_monitors(model, &mut shared)?;
        } else {
            // Each environment's configuration lists every service's job.
            for env in &model.platform.environments {
                shared_parts.push(Box::new(move || {
                    let mut output = OutputSet::new();
                    scrape::render_environment(model, env, &mut output)?;
                    Ok(output)
                }));
            }
        }
        Ok(Prepared {
            shared,
            shared_parts,
            per_service: Some(Box::new(move |service, output| {
                render_service_rules(model, service, output)?;
                if model.platform.prometheus.commit_tests {
                    render_service_tests(model, service, output)?;
                }
                Ok(())
            })),
        })
    }
}

/// The header of a file generated from the platform and one manifest.
fn service_header(model: &Model, service: &Service) -> String {
    header::hash_comment(&[model.platform.source.as_str(), service.source.as_str()])
}

/// A service's rule files (or PrometheusRule objects).
fn render_service_rules(
    model: &Model,
    service: &Service,
    output: &mut OutputSet,
) -> Result<(), OutputError> {
    let header = service_header(model, service);
    if model.platform.prometheus.output == PrometheusOutput::Operator {
        for env in &service.environments {
            let service_rules = rules::service_rules(model, service, RuleScope::Environment(env));
            operator::render_rules(model, service, env, &service_rules, output)?;
        }
        return Ok(());
    }
    let shared = rules::service_rule_file(model, service, RuleScope::Shared);
    output.add(rules::rule_path(&service.name), shared.to_yaml(&header)?)?;
    for env in &service.environments {
        if let Some(own) = rules::environment_rules(model, service, env) {
            output.add(
                rules::environment_rule_path(&env.name, &service.name),
                own.file.to_yaml(&header)?,
            )?;
        }
    }
    Ok(())
}

/// Every service's promtool tests (and, for Operator objects, the plain
/// rule files they read), for `obsgen test` to run from a temporary
/// folder next to the rule files.
pub fn render_tests(model: &Model) -> Result<OutputSet, OutputError> {
    crate::backend::per_service(&model.services, |service, output| {
        render_service_tests(model, service, output)
    })
}

/// A service's promtool test files: for a shared rule file, once, fed with
/// the series of [`promtool_cases::test_environment`]; for Operator
/// objects, once per environment.
fn render_service_tests(
    model: &Model,
    service: &Service,
    output: &mut OutputSet,
) -> Result<(), OutputError> {
    let header = service_header(model, service);
    let write = |folder: &str,
                 env: &crate::model::ServiceEnvironment,
                 tested: &rules::ServiceRules,
                 rule_files: Vec<String>,
                 output: &mut OutputSet| {
        let tests = promtool_cases::test_file(service, env, tested, rule_files.clone());
        output.add(
            promtool_cases::test_path(folder, &service.name),
            yaml::document(&header, &tests)?,
        )?;
        let holds = promtool_cases::holds_file(service, env, tested, rule_files);
        output.add(
            promtool_cases::holds_path(folder, &service.name),
            yaml::document(&header, &holds)?,
        )
    };
    if model.platform.prometheus.output == PrometheusOutput::Operator {
        for env in &service.environments {
            let tested = rules::service_rules(model, service, RuleScope::Environment(env));
            let copy = operator::render_rules_copy(model, service, env, &tested, output)?;
            write(
                &operator::tests_folder(&env.name),
                env,
                &tested,
                vec![copy],
                output,
            )?;
        }
        return Ok(());
    }
    let Some(env) = promtool_cases::test_environment(service) else {
        return Ok(());
    };
    let mut tested = rules::service_rules(model, service, RuleScope::Shared);
    let mut rule_files = vec![format!("../rules/{}.yml", service.name)];
    if let Some(own) = rules::environment_rules(model, service, env) {
        tested.file.groups.extend(own.file.groups);
        tested.alerts.extend(own.alerts);
        rule_files.push(format!("../{}/rules/{}.yml", env.name, service.name));
    }
    write(
        promtool_cases::TESTS_FOLDER,
        env,
        &tested,
        rule_files,
        output,
    )
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
    drop(dir);
    let errors: Vec<_> = compilation
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    compilation.model.expect("a model")
}
