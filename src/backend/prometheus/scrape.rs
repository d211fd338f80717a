//! `prometheus.yml` per environment: global settings, rule files, where
//! alerts go, and one scrape job per service running there.
//!
//! Every target gets `env`, `team`, `service` and the manifest's labels;
//! `job` is the service's name. How targets are found follows the
//! service's discovery mode: static targets, Kubernetes pods (selected
//! server-side by the service's pod label, one namespace per environment)
//! or `file_sd` JSON files written next to the configuration.

use std::collections::BTreeMap;

use serde::Serialize;

use super::promql::{regex_literal, sanitize_label_name};
use crate::model::{Environment, Model, Service, ServiceEnvironment};
use crate::output::{OutputError, OutputSet, header, yaml};
use crate::spec::{Discovery, Duration, Scheme};

#[derive(Serialize)]
struct Config<'a> {
    global: Global,
    #[serde(skip_serializing_if = "Option::is_none")]
    alerting: Option<Alerting>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    rule_files: Vec<String>,
    scrape_configs: Jobs<'a>,
}

/// An environment's scrape jobs, built one at a time as they are written:
/// at 100,000 services the jobs of one environment would take hundreds of
/// megabytes as values, for a file of 90.
struct Jobs<'a> {
    model: &'a Model,
    env: &'a Environment,
    shard: Option<(u32, u32)>,
}

impl Jobs<'_> {
    fn services(&self) -> impl Iterator<Item = (&Service, &ServiceEnvironment)> {
        self.model.services.iter().filter_map(|service| {
            let service_env = service
                .environments
                .iter()
                .find(|e| e.name == self.env.name)?;
            Some((service, service_env))
        })
    }
}

impl Serialize for Jobs<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut jobs = serializer.serialize_seq(Some(self.services().count()))?;
        for (service, service_env) in self.services() {
            jobs.serialize_element(&job_in_shard(self.model, service, service_env, self.shard))?;
        }
        jobs.end()
    }
}

/// A service's job, with a shard's hash-mod selection when sharded.
fn job_in_shard(
    model: &Model,
    service: &Service,
    service_env: &ServiceEnvironment,
    shard: Option<(u32, u32)>,
) -> ScrapeConfig {
    let mut job = scrape_job(model, service, service_env);
    if let Some((index, count)) = shard {
        for file_sd in &mut job.file_sd_configs {
            for file in &mut file_sd.files {
                *file = format!("../{file}");
            }
        }
        let mut relabel = hashmod_relabel(index, count);
        relabel.append(&mut job.relabel_configs);
        job.relabel_configs = relabel;
    }
    job
}

#[derive(Serialize)]
struct Global {
    scrape_interval: Duration,
    scrape_timeout: Duration,
    evaluation_interval: Duration,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    external_labels: BTreeMap<String, String>,
}

#[derive(Serialize)]
struct Alerting {
    alertmanagers: Vec<AlertmanagerConfig>,
}

#[derive(Serialize)]
struct AlertmanagerConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    scheme: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    path_prefix: Option<String>,
    static_configs: Vec<StaticConfig>,
}

#[derive(Serialize)]
pub(crate) struct ScrapeConfig {
    pub(crate) job_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) scrape_interval: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) scrape_timeout: Option<Duration>,
    pub(crate) metrics_path: String,
    pub(crate) scheme: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) static_configs: Vec<StaticConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) file_sd_configs: Vec<FileSdConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) kubernetes_sd_configs: Vec<KubernetesSdConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) relabel_configs: Vec<RelabelConfig>,
}

#[derive(Serialize, Clone)]
pub(crate) struct StaticConfig {
    pub(crate) targets: Vec<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) labels: BTreeMap<String, String>,
}

#[derive(Serialize)]
pub(crate) struct FileSdConfig {
    pub(crate) files: Vec<String>,
    pub(crate) refresh_interval: Duration,
}

#[derive(Serialize)]
pub(crate) struct KubernetesSdConfig {
    pub(crate) role: &'static str,
    pub(crate) namespaces: Namespaces,
    pub(crate) selectors: Vec<Selector>,
}

#[derive(Serialize)]
pub(crate) struct Namespaces {
    pub(crate) names: Vec<String>,
}

#[derive(Serialize)]
pub(crate) struct Selector {
    pub(crate) role: &'static str,
    pub(crate) label: String,
}

#[derive(Serialize, Default, Clone)]
pub(crate) struct RelabelConfig {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) source_labels: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) regex: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) modulus: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) target_label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) replacement: Option<String>,
    pub(crate) action: &'static str,
}

/// The labels every series of a service carries in an environment (besides
/// `job`, which Prometheus sets from the job name).
pub fn target_labels(service: &Service, env: &ServiceEnvironment) -> BTreeMap<String, String> {
    let mut labels = service.labels.clone();
    labels.insert("env".to_string(), env.name.clone());
    labels.insert("team".to_string(), service.team.clone());
    labels.insert("service".to_string(), service.name.clone());
    labels
}

/// Bytes reserved per scrape job in `prometheus.yml` (a job of the
/// synthetic benchmark repository takes about 900).
const BYTES_PER_JOB: usize = 1024;

/// The path of an environment's `prometheus.yml`.
pub fn config_path(env: &str) -> String {
    format!("prometheus/{env}/prometheus.yml")
}

/// Renders one environment's configuration (and its file_sd files).
pub fn render_environment(
    model: &Model,
    env: &Environment,
    output: &mut OutputSet,
) -> Result<(), OutputError> {
    let prometheus = &model.platform.prometheus;
    let shards = prometheus.shards.max(1);
    let mut service_count = 0;
    for service in &model.services {
        let Some(service_env) = service.environments.iter().find(|e| e.name == env.name) else {
            continue;
        };
        service_count += 1;
        if service.metrics.discovery == Discovery::FileSd {
            output.add(
                format!("prometheus/{}/file_sd/{}.json", env.name, service.name),
                file_sd_json(service, service_env)?,
            )?;
        }
    }
    let sources = format!(
        "{} and {service_count} service manifests",
        model.platform.source
    );
    let header = header::hash_comment(&[&sources]);
    // Reserved whole up front (see `BYTES_PER_JOB`).
    let capacity = (service_count / shards as usize + 1) * BYTES_PER_JOB + 4096;
    if shards == 1 {
        let config = config(model, env, None);
        return output.add(
            config_path(&env.name),
            yaml::document_sized(&header, &config, capacity)?,
        );
    }
    for shard in 0..shards {
        let config = config(model, env, Some((shard, shards)));
        output.add(
            shard_config_path(&env.name, shard),
            yaml::document_sized(&header, &config, capacity)?,
        )?;
    }
    Ok(())
}

/// The label telling shards apart when their series meet (Thanos, Mimir).
pub const SHARD_LABEL: &str = "prometheus_shard";

/// The path of one shard's `prometheus.yml`.
pub fn shard_config_path(env: &str, shard: u32) -> String {
    format!("prometheus/{env}/shard-{shard}/prometheus.yml")
}

/// The targets of a `file_sd` service, as Prometheus reads them.
pub(crate) fn file_sd_json(
    service: &Service,
    env: &ServiceEnvironment,
) -> Result<String, OutputError> {
    let groups = vec![StaticConfig {
        targets: env.targets.clone(),
        labels: target_labels(service, env),
    }];
    let json =
        serde_json::to_string_pretty(&groups).map_err(|e| OutputError::Serialize(e.to_string()))?;
    Ok(json + "\n")
}

/// One server's configuration; `shard` is `(index, count)` when the
/// environment's targets are split over several servers. A shard sees only
/// part of each job's targets, so it evaluates no rules: those run on a
/// ruler with the global view (Thanos or Mimir), from `rules/`.
fn config<'a>(model: &'a Model, env: &'a Environment, shard: Option<(u32, u32)>) -> Config<'a> {
    let prometheus = &model.platform.prometheus;
    let scrape_configs = Jobs { model, env, shard };
    let mut rule_files = Vec::new();
    for (service, _) in scrape_configs.services() {
        rule_files.push(format!("../rules/{}.yml", service.name));
        if super::rules::has_environment_rules(service) {
            rule_files.push(format!("rules/{}.yml", service.name));
        }
    }
    // `prometheus.alertmanagers` wins; otherwise the Alertmanager obsgen
    // configures (`alertmanager.url`). Without either, validation warns:
    // alerts would go nowhere.
    let alerting = if prometheus.alertmanagers.is_empty() {
        prometheus.alertmanager.as_ref().map(|url| Alerting {
            alertmanagers: vec![AlertmanagerConfig {
                scheme: (url.scheme != "http").then(|| url.scheme.clone()),
                path_prefix: url.path_prefix.clone(),
                static_configs: vec![StaticConfig {
                    targets: vec![url.address.clone()],
                    labels: BTreeMap::new(),
                }],
            }],
        })
    } else {
        Some(Alerting {
            alertmanagers: vec![AlertmanagerConfig {
                scheme: None,
                path_prefix: None,
                static_configs: vec![StaticConfig {
                    targets: prometheus.alertmanagers.clone(),
                    labels: BTreeMap::new(),
                }],
            }],
        })
    };
    let mut external_labels = prometheus.external_labels.clone();
    // Shared rule files read the environment from here (validation keeps
    // users from setting `env` themselves).
    external_labels.insert("env".to_string(), env.name.clone());
    if let Some((index, _)) = shard {
        external_labels.insert(SHARD_LABEL.to_string(), index.to_string());
    }
    Config {
        global: Global {
            scrape_interval: prometheus.scrape_interval,
            scrape_timeout: prometheus.scrape_timeout,
            evaluation_interval: prometheus.evaluation_interval,
            external_labels,
        },
        alerting,
        rule_files: if shard.is_some() {
            Vec::new()
        } else {
            rule_files
        },
        scrape_configs,
    }
}

/// Keeps the targets whose address hashes to shard `index` of `count`.
pub(crate) fn hashmod_relabel(index: u32, count: u32) -> Vec<RelabelConfig> {
    vec![
        RelabelConfig {
            source_labels: vec!["__address__".to_string()],
            modulus: Some(u64::from(count)),
            target_label: Some("__tmp_hash".to_string()),
            action: "hashmod",
            ..RelabelConfig::default()
        },
        RelabelConfig {
            source_labels: vec!["__tmp_hash".to_string()],
            regex: Some(index.to_string()),
            action: "keep",
            ..RelabelConfig::default()
        },
    ]
}

pub(crate) fn scrape_job(
    model: &Model,
    service: &Service,
    env: &ServiceEnvironment,
) -> ScrapeConfig {
    let prometheus = &model.platform.prometheus;
    let interval = service.metrics.scrape_interval;
    let mut job = ScrapeConfig {
        job_name: service.name.clone(),
        scrape_interval: (interval != prometheus.scrape_interval).then_some(interval),
        // A per-job interval shorter than the global timeout needs its own timeout.
        scrape_timeout: (interval < prometheus.scrape_timeout).then_some(interval),
        metrics_path: service.metrics.path.clone(),
        scheme: match service.metrics.scheme {
            Scheme::Http => "http",
            Scheme::Https => "https",
        },
        static_configs: Vec::new(),
        file_sd_configs: Vec::new(),
        kubernetes_sd_configs: Vec::new(),
        relabel_configs: Vec::new(),
    };
    match service.metrics.discovery {
        Discovery::Static => {
            job.static_configs = vec![StaticConfig {
                targets: env.targets.clone(),
                labels: target_labels(service, env),
            }];
        }
        Discovery::FileSd => {
            job.file_sd_configs = vec![FileSdConfig {
                files: vec![format!("file_sd/{}.json", service.name)],
                refresh_interval: Duration::from_mins(1),
            }];
        }
        Discovery::Kubernetes => {
            let pod_label = &prometheus.pod_label;
            job.kubernetes_sd_configs = vec![KubernetesSdConfig {
                role: "pod",
                namespaces: Namespaces {
                    names: vec![env.namespace.clone()],
                },
                selectors: vec![Selector {
                    role: "pod",
                    label: format!("{pod_label}={}", service.name),
                }],
            }];
            let keep = |source: String, regex: String| RelabelConfig {
                source_labels: vec![source],
                regex: Some(regex),
                action: "keep",
                ..RelabelConfig::default()
            };
            let mut relabel = vec![
                keep(
                    format!(
                        "__meta_kubernetes_pod_label_{}",
                        sanitize_label_name(pod_label)
                    ),
                    regex_literal(&service.name),
                ),
                keep(
                    "__meta_kubernetes_pod_container_port_number".to_string(),
                    service.metrics.port.to_string(),
                ),
                RelabelConfig {
                    source_labels: vec!["__meta_kubernetes_pod_phase".to_string()],
                    regex: Some("Pending|Succeeded|Failed".to_string()),
                    action: "drop",
                    ..RelabelConfig::default()
                },
                RelabelConfig {
                    source_labels: vec!["__meta_kubernetes_namespace".to_string()],
                    target_label: Some("namespace".to_string()),
                    action: "replace",
                    ..RelabelConfig::default()
                },
                RelabelConfig {
                    source_labels: vec!["__meta_kubernetes_pod_name".to_string()],
                    target_label: Some("pod".to_string()),
                    action: "replace",
                    ..RelabelConfig::default()
                },
            ];
            for (name, value) in target_labels(service, env) {
                relabel.push(RelabelConfig {
                    target_label: Some(name),
                    replacement: Some(value),
                    action: "replace",
                    ..RelabelConfig::default()
                });
            }
            job.relabel_configs = relabel;
        }
    }
    job
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::build::Sourced;
    use serde_json::Value;

    const PLATFORM: &str = r#"
apiVersion: obsgen.dev/v1
kind: Platform
metadata: {name: p}
spec:
  environments:
    - {name: staging}
    - {name: production, production: true, namespace: prod}
  prometheus: {discovery: kubernetes, pod_label: app.kubernetes.io/name}
  teams: {payments: {}}
"#;

    fn model(service: &str) -> Model {
        let platform = Sourced {
            source: "obsgen.yaml".into(),
            spec: serde_saphyr::from_str(PLATFORM).unwrap(),
        };
        let service = Sourced {
            source: "services/s.yaml".into(),
            spec: serde_saphyr::from_str(service).unwrap(),
        };
        crate::model::build(&platform, vec![service])
    }

    fn job(model: &Model, env: usize) -> Value {
        let service = &model.services[0];
        serde_json::to_value(scrape_job(model, service, &service.environments[env])).unwrap()
    }

    /// Debian's promtool cannot parse Kubernetes discovery (see
    /// tests/integration/promtool.rs), so this checks the block against
    /// the fields Prometheus documents for `kubernetes_sd_config`.
    #[test]
    fn kubernetes_discovery_uses_only_documented_fields() {
        let model = model(
            "apiVersion: obsgen.dev/v1\nkind: Service\nmetadata: {name: checkout, team: payments, labels: {tier: critical}}\nspec: {metrics: {port: 9090}}\n",
        );
        let job = job(&model, 1);
        let sd = job["kubernetes_sd_configs"].as_array().unwrap();
        assert_eq!(sd.len(), 1);
        let documented = [
            "api_server",
            "role",
            "kubeconfig_file",
            "namespaces",
            "selectors",
            "attach_metadata",
        ];
        for key in sd[0].as_object().unwrap().keys() {
            assert!(
                documented.contains(&key.as_str()),
                "`{key}` is not a kubernetes_sd_config field"
            );
        }
        assert_eq!(sd[0]["role"], "pod");
        assert_eq!(sd[0]["namespaces"], serde_json::json!({"names": ["prod"]}));
        for selector in sd[0]["selectors"].as_array().unwrap() {
            for key in selector.as_object().unwrap().keys() {
                assert!(
                    ["role", "label", "field"].contains(&key.as_str()),
                    "selector field `{key}`"
                );
            }
            assert_eq!(
                selector["role"], "pod",
                "a selector's role must be the discovery role"
            );
            assert_eq!(selector["label"], "app.kubernetes.io/name=checkout");
        }
        // Pods are kept by the (sanitized) pod label and the metrics port,
        // then labelled like every other target.
        let relabel = job["relabel_configs"].as_array().unwrap();
        assert_eq!(
            relabel[0]["source_labels"][0],
            "__meta_kubernetes_pod_label_app_kubernetes_io_name"
        );
        assert_eq!(relabel[0]["regex"], "checkout");
        assert_eq!(relabel[1]["regex"], "9090");
        let set: Vec<(&str, &str)> = relabel
            .iter()
            .filter(|r| r["replacement"].is_string())
            .map(|r| {
                (
                    r["target_label"].as_str().unwrap(),
                    r["replacement"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            set,
            [
                ("env", "production"),
                ("service", "checkout"),
                ("team", "payments"),
                ("tier", "critical")
            ]
        );
    }

    #[test]
    fn static_targets_carry_every_label() {
        let model = model(
            "apiVersion: obsgen.dev/v1\nkind: Service\nmetadata: {name: api, team: payments, labels: {pci: \"true\"}}\nspec: {metrics: {discovery: static}, targets: {staging: [\"api-1:8080\"]}}\n",
        );
        let job = job(&model, 0);
        assert_eq!(job["job_name"], "api");
        assert_eq!(
            job["static_configs"][0]["targets"],
            serde_json::json!(["api-1:8080"])
        );
        assert_eq!(
            job["static_configs"][0]["labels"],
            serde_json::json!({"env": "staging", "pci": "true", "service": "api", "team": "payments"})
        );
        // Without explicit targets, the platform's service URL gives one.
        let production = self::job(&model, 1);
        assert_eq!(
            production["static_configs"][0]["targets"],
            serde_json::json!(["api.production.svc:8080"])
        );
    }
}
