//! Traces: an OpenTelemetry Collector configuration per environment, and
//! the `OTEL_*` settings each service runs with there.
//!
//! Layout of the generated tree (only when the platform configures
//! `tracing`):
//!
//! ```text
//! otel/<env>/collector.yaml     the environment's collector: OTLP in, sampling, the backend out
//! otel/<env>/<service>.env      what the service's deployment loads: name, resource, endpoint, sampler
//! ```
//!
//! Sampling happens once, in the collector (`tail_sampling`): services
//! send every span (`parentbased_always_on`), so that the collector sees
//! the errors and slow traces it must always keep. A head ratio in the SDK
//! would drop them before the collector could look, and multiply with the
//! collector's ratio. The configuration is built as typed values
//! ([`collector`]) and serialized once; user strings reach the env files
//! only percent-encoded ([`resource_value`]).

pub mod collector;

use std::collections::BTreeMap;

use crate::backend::{Backend, Prepared, RenderContext, SharedPart};
use crate::model::{Model, Service, ServiceEnvironment, TraceExporter, Tracing, naming};
use crate::output::{OutputError, OutputSet, header, yaml};
use crate::spec::units::format_number;
use collector::*;

/// Where the collector listens for OTLP over gRPC and HTTP (the
/// protocol's registered ports, on every interface of its container).
pub const OTLP_GRPC_LISTEN: &str = "0.0.0.0:4317";
pub const OTLP_HTTP_LISTEN: &str = "0.0.0.0:4318";
/// The resource attribute naming the environment (semantic conventions).
pub const ENVIRONMENT_ATTRIBUTE: &str = "deployment.environment.name";
/// The resource attribute naming the owning team.
pub const TEAM_ATTRIBUTE: &str = "service.namespace";
/// The resource attribute the sampling policies match services by.
pub const SERVICE_ATTRIBUTE: &str = "service.name";
/// How long the collector waits for a trace's spans before deciding.
pub const DECISION_WAIT: &str = "10s";
/// Traces held while waiting (the processor's documented default).
pub const NUM_TRACES: u64 = 50_000;

/// `otel/<env>/collector.yaml`.
pub fn collector_path(env: &str) -> String {
    format!("otel/{env}/collector.yaml")
}

/// `otel/<env>/<service>.env`.
pub fn env_file_path(env: &str, service: &str) -> String {
    format!("otel/{env}/{service}.env")
}

pub struct OtelBackend;

impl Backend for OtelBackend {
    fn name(&self) -> &'static str {
        "otel"
    }

    fn prepare<'a>(&'a self, context: &'a RenderContext<'a>) -> Result<Prepared<'a>, OutputError> {
        let model = context.model;
        let Some(tracing) = &model.platform.tracing else {
            return Ok(Prepared {
                shared: OutputSet::new(),
                shared_parts: Vec::new(),
                per_service: None,
            });
        };
        let sources = format!(
            "{} and {} service manifests",
            model.platform.source,
            model.services.len()
        );
        // One collector per environment, each with a policy per service.
        let shared_parts = model
            .platform
            .environments
            .iter()
            .map(|env| {
                let header = header::hash_comment(&[&sources]);
                Box::new(move || {
                    let mut output = OutputSet::new();
                    let config = collector_config(model, tracing, &env.name);
                    output.add(collector_path(&env.name), yaml::document(&header, &config)?)?;
                    Ok(output)
                }) as SharedPart<'a>
            })
            .collect();
        Ok(Prepared {
            shared: OutputSet::new(),
            shared_parts,
            per_service: Some(Box::new(move |service, output| {
                for env in &service.environments {
                    output.add(
                        env_file_path(&env.name, &service.name),
                        env_file(tracing, service, env)?,
                    )?;
                }
                Ok(())
            })),
        })
    }
}

/// The collector of one environment.
pub fn collector_config(model: &Model, tracing: &Tracing, env: &str) -> CollectorConfig {
    let traced: Vec<&Service> = model
        .services
        .iter()
        .filter(|service| service.tracing.enabled)
        .filter(|service| service.environments.iter().any(|e| e.name == env))
        .collect();
    let (exporters, exporter_id) = exporter(tracing);
    CollectorConfig {
        receivers: Receivers {
            otlp: OtlpReceiver {
                protocols: OtlpReceiverProtocols {
                    grpc: ServerConfig {
                        endpoint: OTLP_GRPC_LISTEN.into(),
                    },
                    http: ServerConfig {
                        endpoint: OTLP_HTTP_LISTEN.into(),
                    },
                },
            },
        },
        processors: Processors {
            memory_limiter: MemoryLimiter {
                check_interval: "1s".into(),
                limit_percentage: 80,
                spike_limit_percentage: 20,
            },
            resource: ResourceProcessor {
                attributes: vec![ResourceAction {
                    key: ENVIRONMENT_ATTRIBUTE.into(),
                    value: env.to_string(),
                    action: AttributeAction::Upsert,
                }],
            },
            tail_sampling: TailSampling {
                decision_wait: DECISION_WAIT.into(),
                num_traces: NUM_TRACES,
                policies: policies(&traced),
            },
            batch: Batch {
                send_batch_size: 8192,
                timeout: "200ms".into(),
            },
        },
        exporters,
        service: ServiceSection {
            pipelines: Pipelines {
                traces: Pipeline {
                    receivers: vec!["otlp".into()],
                    // The limiter first, so that it can refuse data before
                    // anything else holds it; batching last, after sampling.
                    processors: vec![
                        "memory_limiter".into(),
                        "resource".into(),
                        "tail_sampling".into(),
                        "batch".into(),
                    ],
                    exporters: vec![exporter_id.into()],
                },
            },
        },
    }
}

/// The exporter section and the id the pipeline names it by.
fn exporter(tracing: &Tracing) -> (Exporters, &'static str) {
    let headers = tracing.headers.clone();
    let endpoint = tracing.endpoint.clone();
    match tracing.exporter {
        TraceExporter::Zipkin => (
            Exporters {
                zipkin: Some(HttpExporter { endpoint, headers }),
                ..Exporters::default()
            },
            "zipkin",
        ),
        TraceExporter::OtlpHttp => (
            Exporters {
                otlp_http: Some(HttpExporter { endpoint, headers }),
                ..Exporters::default()
            },
            "otlp_http",
        ),
        TraceExporter::OtlpGrpc => (
            Exporters {
                otlp_grpc: Some(GrpcExporter {
                    tls: Tls {
                        insecure: endpoint.starts_with("http://"),
                    },
                    endpoint,
                    headers,
                }),
                ..Exporters::default()
            },
            "otlp_grpc",
        ),
    }
}

/// The sampling policies of an environment's traced services. The
/// collector keeps a trace when *any* policy samples it, so a per-service
/// ratio is an `and` of "a span of these services" and the ratio: without
/// the `and`, one service's ratio would apply to every trace. Services
/// sharing a ratio (or a latency threshold) share one policy, so the
/// configuration grows with the number of distinct settings, not of
/// services. A trace through several services is kept when any of their
/// policies keeps it.
pub fn policies(traced: &[&Service]) -> Vec<Policy> {
    let mut policies = vec![Policy::StatusCode {
        name: "errors".into(),
        status_code: StatusCode {
            status_codes: vec!["ERROR".into()],
        },
    }];
    // Keyed by the exact figure written into the file, in ascending order.
    let mut by_percentage: BTreeMap<u64, (f64, Vec<String>)> = BTreeMap::new();
    let mut by_threshold: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for service in traced {
        let percentage = service.tracing.sample_percentage();
        if percentage > 0.0 {
            by_percentage
                .entry((percentage * 1e6).round() as u64)
                .or_insert_with(|| (percentage, Vec::new()))
                .1
                .push(service.name.clone());
        }
        if let Some(threshold) = service.tracing.slow_threshold {
            by_threshold
                .entry(threshold.as_millis().max(1))
                .or_default()
                .push(service.name.clone());
        }
    }
    for (percentage, services) in by_percentage.into_values() {
        let figure = format_number(percentage);
        policies.push(Policy::And {
            name: format!("sample-{figure}-percent"),
            and: And {
                and_sub_policy: vec![
                    services_policy(services),
                    SubPolicy::Probabilistic {
                        name: "ratio".into(),
                        probabilistic: Probabilistic {
                            sampling_percentage: percentage,
                        },
                    },
                ],
            },
        });
    }
    for (threshold_ms, services) in by_threshold {
        policies.push(Policy::And {
            name: format!("slower-than-{threshold_ms}ms"),
            and: And {
                and_sub_policy: vec![
                    services_policy(services),
                    SubPolicy::Latency {
                        name: "slow".into(),
                        latency: Latency { threshold_ms },
                    },
                ],
            },
        });
    }
    policies
}

fn services_policy(services: Vec<String>) -> SubPolicy {
    SubPolicy::StringAttribute {
        name: "services".into(),
        string_attribute: StringAttribute {
            key: SERVICE_ATTRIBUTE.into(),
            values: services,
        },
    }
}

/// The settings file of a service in one environment: `NAME=value` lines,
/// as Docker's `--env-file`, Kubernetes' `--from-env-file` and systemd's
/// `EnvironmentFile` read them. Values never hold whitespace, quotes, `#`,
/// `$` or `\`, so every reader takes them literally.
pub fn env_file(
    tracing: &Tracing,
    service: &Service,
    env: &ServiceEnvironment,
) -> Result<String, OutputError> {
    let mut attributes = vec![
        (ENVIRONMENT_ATTRIBUTE.to_string(), env.name.clone()),
        (TEAM_ATTRIBUTE.to_string(), service.team.clone()),
    ];
    attributes.extend(
        service
            .labels
            .iter()
            .map(|(name, value)| (name.clone(), value.clone())),
    );
    let resource = attributes
        .iter()
        .map(|(key, value)| format!("{}={}", resource_value(key), resource_value(value)))
        .collect::<Vec<_>>()
        .join(",");
    let enabled = service.tracing.enabled;
    let mut lines: Vec<(&str, String)> = vec![
        ("OTEL_SERVICE_NAME", service.name.clone()),
        ("OTEL_RESOURCE_ATTRIBUTES", resource),
        (
            "OTEL_TRACES_EXPORTER",
            if enabled { "otlp" } else { "none" }.into(),
        ),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf".into()),
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            tracing.collector_endpoint(&env.name),
        ),
        (
            "OTEL_TRACES_SAMPLER",
            if enabled {
                "parentbased_always_on"
            } else {
                "always_off"
            }
            .into(),
        ),
        // The collector takes traces only: metrics come from Prometheus'
        // scrapes, logs through Logstash.
        ("OTEL_METRICS_EXPORTER", "none".into()),
        ("OTEL_LOGS_EXPORTER", "none".into()),
    ];
    if !enabled {
        lines.retain(|(name, _)| *name != "OTEL_EXPORTER_OTLP_PROTOCOL");
    }
    let mut out = header::hash_comment(&[&service.source]);
    out.push_str(if enabled {
        "# Every span goes to the environment's collector, which keeps errors, slow traces and a sample of the rest.\n"
    } else {
        "# Tracing is turned off for this service (tracing.enabled: false).\n"
    });
    for (name, value) in lines {
        if let Some(bad) = value.chars().find(|c| !is_env_value_char(*c)) {
            return Err(OutputError::Serialize(format!(
                "{}: `{name}` would hold {bad:?}, which an env file cannot carry literally",
                env_file_path(&env.name, &service.name)
            )));
        }
        out.push_str(name);
        out.push('=');
        out.push_str(&value);
        out.push('\n');
    }
    Ok(out)
}

/// Characters every env-file reader takes literally.
fn is_env_value_char(c: char) -> bool {
    c.is_ascii_graphic() && !matches!(c, '"' | '\'' | '#' | '$' | '\\' | '`')
}

/// A key or value of `OTEL_RESOURCE_ATTRIBUTES`: percent-encoded, as the
/// OpenTelemetry specification asks (W3C Baggage octets), so that `,`, `=`,
/// spaces and anything else in a label value stay data.
pub fn resource_value(text: &str) -> String {
    naming::url_query_escape(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::prometheus::model_from;

    const PLATFORM: &str = "apiVersion: obsgen.dev/v1\nkind: Platform\nmetadata: {name: p}\nspec:\n  environments: [{name: staging}, {name: production, production: true}]\n  teams: {payments: {}}\n  tracing:\n    backend: zipkin\n    endpoint: http://zipkin.monitoring:9411/api/v2/spans\n    headers: {authorization: \"Bearer ${env:ZIPKIN_TOKEN}\"}\n";

    fn service(name: &str, extra: &str) -> String {
        let spec = if extra.is_empty() { " {}\n" } else { "\n" };
        format!(
            "apiVersion: obsgen.dev/v1\nkind: Service\nmetadata: {{name: {name}, team: payments, labels: {{tier: \"a, b=c%\"}}}}\nspec:{spec}{extra}"
        )
    }

    fn model(services: &[String]) -> Model {
        let refs: Vec<&str> = services.iter().map(String::as_str).collect();
        model_from(PLATFORM, &refs)
    }

    fn sampled_services(policy: &Policy) -> Option<(Vec<String>, &SubPolicy)> {
        let Policy::And { and, .. } = policy else {
            return None;
        };
        let [
            SubPolicy::StringAttribute {
                string_attribute, ..
            },
            other,
        ] = and.and_sub_policy.as_slice()
        else {
            return None;
        };
        assert_eq!(string_attribute.key, "service.name");
        Some((string_attribute.values.clone(), other))
    }

    #[test]
    fn each_ratio_applies_only_to_its_services() {
        let model = model(&[
            service("a", "  tracing: {sample_ratio: 0.25}\n"),
            service(
                "b",
                "  slos: [{name: fast, objective: 99, indicator: {type: latency, threshold: 300ms}}]\n",
            ),
            service("c", ""),
            service("d", "  tracing: {enabled: false}\n"),
            service("e", "  tracing: {sample_ratio: 0}\n"),
        ]);
        let tracing = model.platform.tracing.as_ref().unwrap();
        let config = collector_config(&model, tracing, "production");
        let policies = &config.processors.tail_sampling.policies;
        assert!(
            matches!(&policies[0], Policy::StatusCode { status_code, .. } if status_code.status_codes == ["ERROR"])
        );
        let ratios: Vec<(Vec<String>, f64)> = policies
            .iter()
            .filter_map(sampled_services)
            .filter_map(|(services, sub)| match sub {
                SubPolicy::Probabilistic { probabilistic, .. } => {
                    Some((services, probabilistic.sampling_percentage))
                }
                _ => None,
            })
            .collect();
        // The platform's default (10 %) for b and c, 25 % for a; none for d
        // (off) and e (ratio 0: errors and slow traces only).
        assert_eq!(
            ratios,
            vec![
                (vec!["b".to_string(), "c".to_string()], 10.0),
                (vec!["a".to_string()], 25.0)
            ]
        );
        let slow: Vec<(Vec<String>, u64)> = policies
            .iter()
            .filter_map(sampled_services)
            .filter_map(|(services, sub)| match sub {
                SubPolicy::Latency { latency, .. } => Some((services, latency.threshold_ms)),
                _ => None,
            })
            .collect();
        assert_eq!(slow, vec![(vec!["b".to_string()], 300)]);
        let names: Vec<&str> = policies.iter().map(Policy::name).collect();
        assert_eq!(
            names,
            [
                "errors",
                "sample-10-percent",
                "sample-25-percent",
                "slower-than-300ms"
            ]
        );
    }

    #[test]
    fn the_configuration_round_trips_and_is_wired() {
        let model = model(&[service("a", "")]);
        let tracing = model.platform.tracing.as_ref().unwrap();
        let config = collector_config(&model, tracing, "staging");
        let text = yaml::document("# h\n", &config).unwrap();
        let back: CollectorConfig = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(back, config);
        assert!(config.undefined_components().is_empty());
        assert!(config.unused_components().is_empty());
        assert!(
            text.contains("authorization: Bearer ${env:ZIPKIN_TOKEN}"),
            "{text}"
        );
        // A misspelt field is refused by the typed model.
        let typo = text.replace("decision_wait", "decision_wiat");
        assert!(serde_saphyr::from_str::<CollectorConfig>(&typo).is_err());
        let unknown_policy = text.replace("type: status_code", "type: status_kode");
        assert!(serde_saphyr::from_str::<CollectorConfig>(&unknown_policy).is_err());
    }

    #[test]
    fn a_pipeline_naming_an_undefined_component_is_caught() {
        let model = model(&[service("a", "")]);
        let tracing = model.platform.tracing.as_ref().unwrap();
        let mut config = collector_config(&model, tracing, "staging");
        config.service.pipelines.traces.exporters = vec!["otlp_grpc".into()];
        assert_eq!(config.undefined_components(), ["exporters/otlp_grpc"]);
        assert_eq!(config.unused_components(), ["exporters/zipkin"]);
    }

    #[test]
    fn env_files_carry_percent_encoded_attributes() {
        let model = model(&[
            service("a", ""),
            service("d", "  tracing: {enabled: false}\n"),
        ]);
        let tracing = model.platform.tracing.as_ref().unwrap();
        let a = model.service("a").unwrap();
        let text = env_file(tracing, a, &a.environments[1]).unwrap();
        assert!(text.starts_with("# generated by obsgen from "), "{text}");
        assert!(text.contains("\nOTEL_SERVICE_NAME=a\n"), "{text}");
        assert!(text.contains("\nOTEL_RESOURCE_ATTRIBUTES=deployment.environment.name=production,service.namespace=payments,tier=a%2C%20b%3Dc%25\n"), "{text}");
        assert!(
            text.contains(
                "\nOTEL_EXPORTER_OTLP_ENDPOINT=http://otel-collector.production.svc:4318\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("\nOTEL_TRACES_SAMPLER=parentbased_always_on\n"),
            "{text}"
        );
        let d = model.service("d").unwrap();
        let off = env_file(tracing, d, &d.environments[0]).unwrap();
        assert!(off.contains("\nOTEL_TRACES_SAMPLER=always_off\n"), "{off}");
        assert!(off.contains("\nOTEL_TRACES_EXPORTER=none\n"), "{off}");
    }

    #[test]
    fn otlp_backends_get_their_exporter() {
        for (spec, id) in [
            (
                "backend: otlp, endpoint: \"http://tempo:4317\"",
                "otlp_grpc",
            ),
            (
                "backend: otlp, protocol: http, endpoint: \"https://tempo:4318\"",
                "otlp_http",
            ),
        ] {
            let platform = format!(
                "apiVersion: obsgen.dev/v1\nkind: Platform\nmetadata: {{name: p}}\nspec:\n  environments: [{{name: staging}}]\n  teams: {{payments: {{}}}}\n  tracing: {{{spec}}}\n"
            );
            let model = model_from(&platform, &[]);
            let tracing = model.platform.tracing.as_ref().unwrap();
            let config = collector_config(&model, tracing, "staging");
            assert_eq!(config.service.pipelines.traces.exporters, [id]);
            assert!(config.undefined_components().is_empty());
            if let Some(grpc) = &config.exporters.otlp_grpc {
                assert!(grpc.tls.insecure, "an http:// gRPC endpoint is plaintext");
            }
            // No links without a UI for OTLP backends.
            assert!(tracing.service_url.is_none());
        }
    }
}
