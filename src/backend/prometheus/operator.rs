//! `prometheus.output: operator`: Prometheus Operator objects instead of a
//! `prometheus.yml` and plain rule files.
//!
//! ```text
//! prometheus/<env>/operator/prometheusrules/<service>.yaml  PrometheusRule (the rule groups)
//! prometheus/<env>/operator/podmonitors/<service>.yaml      PodMonitor, Kubernetes discovery
//! prometheus/<env>/operator/scrapeconfigs/<service>.yaml    ScrapeConfig, static and file_sd discovery
//! prometheus/<env>/file_sd/<service>.json                   targets, mounted at /etc/prometheus/file_sd/
//! prometheus/<env>/tests/<service>.rules.yml                the groups, for promtool   } by `obsgen test`, or
//! prometheus/<env>/tests/<service>.test.yml                 promtool unit tests         } `commit_tests: true`
//! ```
//!
//! Objects live in the environment's namespace and carry the same labels
//! as the plain files' targets and alerts. promtool cannot read a
//! PrometheusRule, so the very same groups are also written as a plain rule
//! file next to the tests. Sharding is the Operator's own business
//! (`spec.shards` of the Prometheus resource), so `prometheus.shards` does
//! not change these files.

use std::collections::BTreeMap;

use serde::Serialize;

use super::promql::{regex_literal, sanitize_label_name};
use super::rules::{RuleFile, ServiceRules};
use super::scrape::{StaticConfig, file_sd_json, target_labels};
use crate::model::{Model, Service, ServiceEnvironment};
use crate::output::{OutputError, OutputSet, header, yaml};
use crate::spec::{Discovery, Duration, Scheme};

const API_V1: &str = "monitoring.coreos.com/v1";
const API_V1ALPHA1: &str = "monitoring.coreos.com/v1alpha1";
/// Where the Prometheus pods mount `prometheus/<env>/file_sd/`.
pub const FILE_SD_MOUNT: &str = "/etc/prometheus/file_sd";

#[derive(Serialize)]
struct Object<S> {
    #[serde(rename = "apiVersion")]
    api_version: &'static str,
    kind: &'static str,
    metadata: Metadata,
    spec: S,
}

#[derive(Serialize)]
struct Metadata {
    name: String,
    namespace: String,
    labels: BTreeMap<String, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PodMonitorSpec {
    selector: LabelSelector,
    namespace_selector: NamespaceSelector,
    pod_metrics_endpoints: Vec<PodMetricsEndpoint>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LabelSelector {
    match_labels: BTreeMap<String, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NamespaceSelector {
    match_names: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PodMetricsEndpoint {
    path: String,
    scheme: &'static str,
    interval: Duration,
    relabelings: Vec<Relabeling>,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct Relabeling {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    source_labels: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    regex: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target_label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    replacement: Option<String>,
    action: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ScrapeConfigSpec {
    job_name: String,
    metrics_path: String,
    scheme: &'static str,
    scrape_interval: Duration,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    static_configs: Vec<StaticConfig>,
    #[serde(rename = "fileSDConfigs", skip_serializing_if = "Vec::is_empty")]
    file_sd_configs: Vec<FileSd>,
}

#[derive(Serialize)]
struct FileSd {
    files: Vec<String>,
}

fn metadata(service: &Service, env: &ServiceEnvironment) -> Metadata {
    Metadata {
        name: service.name.clone(),
        namespace: env.namespace.clone(),
        labels: BTreeMap::from([
            (
                "app.kubernetes.io/managed-by".to_string(),
                "obsgen".to_string(),
            ),
            ("obsgen.dev/env".to_string(), env.name.clone()),
            ("obsgen.dev/service".to_string(), service.name.clone()),
            ("obsgen.dev/team".to_string(), service.team.clone()),
        ]),
    }
}

/// The path of a service's PrometheusRule.
pub fn prometheus_rule_path(env: &str, service: &str) -> String {
    format!("prometheus/{env}/operator/prometheusrules/{service}.yaml")
}

/// Writes a service's monitor objects for every environment.
pub fn render_monitors(model: &Model, output: &mut OutputSet) -> Result<(), OutputError> {
    for env in &model.platform.environments {
        for service in &model.services {
            let Some(service_env) = service.environments.iter().find(|e| e.name == env.name) else {
                continue;
            };
            let sources = [model.platform.source.as_str(), service.source.as_str()];
            let header = header::hash_comment(&sources);
            let scheme = match service.metrics.scheme {
                Scheme::Http => "http",
                Scheme::Https => "https",
            };
            match service.metrics.discovery {
                Discovery::Kubernetes => {
                    let pod_label = &model.platform.prometheus.pod_label;
                    let mut relabelings = vec![
                        Relabeling {
                            source_labels: vec![format!(
                                "__meta_kubernetes_pod_label_{}",
                                sanitize_label_name(pod_label)
                            )],
                            regex: Some(regex_literal(&service.name)),
                            action: "keep",
                            ..Relabeling::default()
                        },
                        Relabeling {
                            source_labels: vec![
                                "__meta_kubernetes_pod_container_port_number".to_string(),
                            ],
                            regex: Some(service.metrics.port.to_string()),
                            action: "keep",
                            ..Relabeling::default()
                        },
                    ];
                    let mut labels = target_labels(service, service_env);
                    labels.insert("job".to_string(), service.name.clone());
                    for (name, value) in labels {
                        relabelings.push(Relabeling {
                            target_label: Some(name),
                            replacement: Some(value),
                            action: "replace",
                            ..Relabeling::default()
                        });
                    }
                    let object = Object {
                        api_version: API_V1,
                        kind: "PodMonitor",
                        metadata: metadata(service, service_env),
                        spec: PodMonitorSpec {
                            selector: LabelSelector {
                                match_labels: BTreeMap::from([(
                                    pod_label.clone(),
                                    service.name.clone(),
                                )]),
                            },
                            namespace_selector: NamespaceSelector {
                                match_names: vec![service_env.namespace.clone()],
                            },
                            pod_metrics_endpoints: vec![PodMetricsEndpoint {
                                path: service.metrics.path.clone(),
                                scheme,
                                interval: service.metrics.scrape_interval,
                                relabelings,
                            }],
                        },
                    };
                    output.add(
                        format!(
                            "prometheus/{}/operator/podmonitors/{}.yaml",
                            env.name, service.name
                        ),
                        yaml::document(&header, &object)?,
                    )?;
                }
                Discovery::Static | Discovery::FileSd => {
                    let file_sd = service.metrics.discovery == Discovery::FileSd;
                    if file_sd {
                        output.add(
                            format!("prometheus/{}/file_sd/{}.json", env.name, service.name),
                            file_sd_json(service, service_env)?,
                        )?;
                    }
                    let object = Object {
                        api_version: API_V1ALPHA1,
                        kind: "ScrapeConfig",
                        metadata: metadata(service, service_env),
                        spec: ScrapeConfigSpec {
                            job_name: service.name.clone(),
                            metrics_path: service.metrics.path.clone(),
                            scheme: match service.metrics.scheme {
                                Scheme::Http => "HTTP",
                                Scheme::Https => "HTTPS",
                            },
                            scrape_interval: service.metrics.scrape_interval,
                            static_configs: if file_sd {
                                Vec::new()
                            } else {
                                vec![StaticConfig {
                                    targets: service_env.targets.clone(),
                                    labels: target_labels(service, service_env),
                                }]
                            },
                            file_sd_configs: if file_sd {
                                vec![FileSd {
                                    files: vec![format!("{FILE_SD_MOUNT}/{}.json", service.name)],
                                }]
                            } else {
                                Vec::new()
                            },
                        },
                    };
                    output.add(
                        format!(
                            "prometheus/{}/operator/scrapeconfigs/{}.yaml",
                            env.name, service.name
                        ),
                        yaml::document(&header, &object)?,
                    )?;
                }
            }
        }
    }
    Ok(())
}

/// Writes a service's PrometheusRule, and its groups as a plain rule file
/// for promtool. Returns that file's path relative to the tests.
pub fn render_rules(
    model: &Model,
    service: &Service,
    env: &ServiceEnvironment,
    rules: &ServiceRules,
    output: &mut OutputSet,
) -> Result<(), OutputError> {
    let sources = [model.platform.source.as_str(), service.source.as_str()];
    let object: Object<&RuleFile> = Object {
        api_version: API_V1,
        kind: "PrometheusRule",
        metadata: metadata(service, env),
        spec: &rules.file,
    };
    output.add(
        prometheus_rule_path(&env.name, &service.name),
        yaml::document(&header::hash_comment(&sources), &object)?,
    )
}

/// The folder of an environment's tests: promtool cannot read a
/// PrometheusRule, so they come with a plain copy of its groups.
pub fn tests_folder(env: &str) -> String {
    format!("prometheus/{env}/tests")
}

/// Writes the plain copy of a PrometheusRule's groups next to its tests;
/// returns its path relative to them.
pub fn render_rules_copy(
    model: &Model,
    service: &Service,
    env: &ServiceEnvironment,
    rules: &ServiceRules,
    output: &mut OutputSet,
) -> Result<String, OutputError> {
    let sources = [model.platform.source.as_str(), service.source.as_str()];
    let copy_header = format!(
        "{}# the groups of {}, for `promtool test rules`\n",
        header::hash_comment(&sources),
        prometheus_rule_path(&env.name, &service.name)
    );
    output.add(
        format!("{}/{}.rules.yml", tests_folder(&env.name), service.name),
        yaml::document(&copy_header, &rules.file)?,
    )?;
    Ok(format!("{}.rules.yml", service.name))
}
