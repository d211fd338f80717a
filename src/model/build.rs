//! From validated spec documents to the [`Model`]: every default lives here.

use std::collections::{BTreeMap, HashMap};

use super::*;
use crate::spec::{self, IndicatorSpec, PlatformManifest, ServiceManifest};

/// The default location of service manifests.
pub const DEFAULT_SERVICES_GLOB: &str = "services/**/*.{yaml,yml,jsonnet}";
/// The default URL of a service in an environment.
pub const DEFAULT_SERVICE_URL: &str = "http://{service}.{env}.svc:8080";
/// Where logs go when the platform names no Elasticsearch.
pub const DEFAULT_ELASTICSEARCH: &str = "http://elasticsearch:9200";
/// The default ingress error ratio that alerts (3 %).
pub const DEFAULT_PROXY_ERROR_RATIO: f64 = 0.03;
/// One request per second: 300 requests in the 5-minute window, so the
/// default 3 % threshold takes at least 9 failed requests.
pub const DEFAULT_PROXY_MIN_RPS: f64 = 1.0;
/// The share of traces kept when neither platform nor service says.
pub const DEFAULT_SAMPLE_RATIO: f64 = 0.1;
/// Where services send spans: their environment's collector, OTLP/HTTP.
pub const DEFAULT_COLLECTOR_URL: &str = "http://otel-collector.{env}.svc:4318";

/// A loaded document: the spec and the file it came from (relative to the root).
#[derive(Debug, Clone)]
pub struct Sourced<T> {
    pub source: String,
    pub spec: T,
}

/// Builds the model. Expects documents that passed [`crate::validate`];
/// anything validation would have rejected is resolved leniently here
/// rather than panicking (unknown environments are dropped, for instance).
///
/// Takes the service documents by value: each is dropped as soon as its
/// part of the model is built, so that the documents and the model (about
/// 300 MB each at 100,000 services) are never held whole at once.
pub fn build(
    platform: &Sourced<PlatformManifest>,
    services: Vec<Sourced<ServiceManifest>>,
) -> Model {
    let platform = build_platform(platform);
    // Every service's framework by name, for its dependants: one lookup per
    // dependency instead of a scan of every service, so that building stays
    // linear in the number of services. The first declaration of a name
    // wins (validation rejects duplicates; this stays lenient).
    let mut frameworks: HashMap<String, Option<Framework>> = HashMap::with_capacity(services.len());
    for service in &services {
        frameworks
            .entry(service.spec.metadata.name.clone())
            .or_insert(service.spec.spec.framework);
    }
    // In any order on every core: the sort below puts them in place.
    let mut services: Vec<Service> =
        crate::parallel::unordered(services, PARALLEL_MIN, |service| {
            build_service(&platform, &service, &frameworks)
        });
    services.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.source.cmp(&b.source)));
    services.dedup_by(|b, a| a.name == b.name);
    Model::new(platform, services)
}

/// Fewer services than this are built on one core: starting threads would
/// cost more than it saves.
const PARALLEL_MIN: usize = 256;

fn build_platform(doc: &Sourced<PlatformManifest>) -> Platform {
    let spec = &doc.spec.spec;
    let service_url = spec
        .service_url
        .clone()
        .unwrap_or_else(|| DEFAULT_SERVICE_URL.to_string());
    let environments = spec
        .environments
        .iter()
        .map(|env| Environment {
            name: env.name.clone(),
            production: env.production.unwrap_or(false),
            namespace: env.namespace.clone().unwrap_or_else(|| env.name.clone()),
            service_url: env
                .service_url
                .clone()
                .unwrap_or_else(|| service_url.clone()),
        })
        .collect();

    let prom = spec.prometheus.clone().unwrap_or_default();
    let scrape_interval = prom.scrape_interval.unwrap_or(Duration::from_secs(30));
    let prometheus = Prometheus {
        discovery: prom.discovery.unwrap_or(Discovery::Static),
        scrape_interval,
        scrape_timeout: prom
            .scrape_timeout
            .unwrap_or_else(|| scrape_interval.min(Duration::from_secs(10))),
        evaluation_interval: prom.evaluation_interval.unwrap_or(Duration::from_secs(30)),
        output: prom.output.unwrap_or(PrometheusOutput::Files),
        shards: prom.shards.unwrap_or(1).max(1),
        pod_label: prom
            .pod_label
            .unwrap_or_else(|| "app.kubernetes.io/name".to_string()),
        external_labels: prom.external_labels,
        alertmanagers: prom.alertmanagers,
        commit_tests: prom.commit_tests.unwrap_or(false),
        alertmanager: spec
            .alertmanager
            .as_ref()
            .and_then(|am| crate::model::AlertmanagerUrl::parse(&am.url)),
    };

    let grafana_spec = spec.grafana.clone().unwrap_or_default();
    let grafana = Grafana {
        url: grafana_spec
            .url
            .unwrap_or_else(|| "http://grafana:3000".to_string()),
        datasource_uid: grafana_spec
            .datasource_uid
            .unwrap_or_else(|| "prometheus".to_string()),
        folder: grafana_spec
            .folder
            .unwrap_or_else(|| "Services".to_string()),
        prometheus_url: grafana_spec
            .prometheus_url
            .unwrap_or_else(|| "http://prometheus:9090".to_string()),
        library_rows: grafana_spec
            .library_rows
            .iter()
            .map(|row| LibraryRow {
                title: row.title.clone(),
                languages: row.languages.clone(),
                frameworks: row.frameworks.clone(),
                panels: row.panels.iter().map(extra_panel).collect(),
            })
            .collect(),
    };

    let logging_spec = spec.logging.clone().unwrap_or_default();
    let logging = Logging {
        kibana_url: logging_spec
            .kibana_url
            .clone()
            .unwrap_or_else(|| "http://kibana:5601".to_string())
            .trim_end_matches('/')
            .to_string(),
        input: log_input(logging_spec.input.as_ref()),
        elasticsearch: match logging_spec.elasticsearch {
            Some(es) => Elasticsearch {
                hosts: es.hosts,
                user: es.user,
                password_env: es.password_env,
                api_key_env: es.api_key_env,
                index_prefix: es.index_prefix.unwrap_or_else(|| "logs".to_string()),
                output: es.output.unwrap_or(LogOutput::DataStreams),
            },
            None => Elasticsearch {
                hosts: vec![DEFAULT_ELASTICSEARCH.to_string()],
                user: None,
                password_env: None,
                api_key_env: None,
                index_prefix: "logs".to_string(),
                output: LogOutput::DataStreams,
            },
        },
        grok_patterns: logging_spec.grok_patterns,
        templates: spec.template_overrides.clone(),
    };

    let alerting_spec = spec.alerting.clone().unwrap_or_default();
    let slack_api_url_file = alerting_spec.slack_api_url_file.clone();
    let alerting = Alerting {
        group_wait: alerting_spec.group_wait.unwrap_or(Duration::from_secs(30)),
        group_interval: alerting_spec
            .group_interval
            .unwrap_or(Duration::from_mins(5)),
        repeat_interval: alerting_spec
            .repeat_interval
            .unwrap_or(Duration::from_hours(4)),
        resolve_timeout: alerting_spec
            .resolve_timeout
            .unwrap_or(Duration::from_mins(5)),
        slack_api_url_file: slack_api_url_file.clone(),
        smtp: alerting_spec.smtp.map(|smtp| Smtp {
            smarthost: smtp.smarthost,
            from: smtp.from,
            auth_username: smtp.auth_username,
            auth_password_file: smtp.auth_password_file,
            require_tls: smtp.require_tls.unwrap_or(true),
        }),
        fallback: alerting_spec
            .fallback
            .map(|r| {
                receivers(
                    r.pagerduty,
                    r.slack,
                    r.email,
                    r.webhook,
                    &slack_api_url_file,
                )
            })
            .unwrap_or_default(),
    };

    let teams = spec
        .teams
        .iter()
        .map(|(name, team)| Team {
            name: name.clone(),
            sso_group: team.sso_group.clone().unwrap_or_else(|| name.clone()),
            receivers: receivers(
                team.pagerduty.clone(),
                team.slack.clone(),
                team.email.clone(),
                team.webhook.clone(),
                &slack_api_url_file,
            ),
            group_wait: team.group_wait.unwrap_or(alerting.group_wait),
            group_interval: team.group_interval.unwrap_or(alerting.group_interval),
            repeat_interval: team.repeat_interval.unwrap_or(alerting.repeat_interval),
            working_hours: team.working_hours.as_ref().map(|hours| WorkingHours {
                weekdays: hours
                    .weekdays
                    .clone()
                    .unwrap_or_else(|| "monday:friday".to_string()),
                start: hours.start.clone(),
                end: hours.end.clone(),
                location: hours.location.clone().unwrap_or_else(|| "UTC".to_string()),
            }),
        })
        .collect();

    Platform {
        name: doc.spec.metadata.name.clone(),
        source: doc.source.clone(),
        environments,
        prometheus,
        grafana,
        logging,
        alerting,
        loadtest_enabled: spec
            .loadtest
            .as_ref()
            .and_then(|loadtest| loadtest.enabled)
            .unwrap_or(true),
        tracing: spec.tracing.as_ref().map(tracing),
        teams,
    }
}

/// The platform's tracing, defaults applied. A Zipkin backend's UI
/// defaults to the Zipkin UI on the endpoint's host.
fn tracing(spec: &spec::TracingSpec) -> Tracing {
    let exporter = match (spec.backend, spec.protocol) {
        (spec::TracingBackend::Zipkin, _) => TraceExporter::Zipkin,
        (spec::TracingBackend::Otlp, Some(spec::OtlpProtocol::Http)) => TraceExporter::OtlpHttp,
        (spec::TracingBackend::Otlp, _) => TraceExporter::OtlpGrpc,
    };
    let zipkin_ui = (exporter == TraceExporter::Zipkin)
        .then(|| url_origin(&spec.endpoint))
        .flatten()
        .map(|origin| format!("{origin}/zipkin"));
    let ui = spec.ui.clone();
    let trace_url = ui.as_ref().and_then(|ui| ui.trace_url.clone()).or_else(|| {
        zipkin_ui
            .as_ref()
            .map(|ui| format!("{ui}/traces/{{trace_id}}"))
    });
    let service_url = ui.and_then(|ui| ui.service_url).or_else(|| {
        zipkin_ui.map(|ui| {
            format!("{ui}/?serviceName={{service}}&annotationQuery=deployment.environment.name%3D{{env}}")
        })
    });
    Tracing {
        exporter,
        endpoint: spec.endpoint.clone(),
        headers: spec.headers.clone(),
        sample_ratio: spec.sample_ratio.unwrap_or(DEFAULT_SAMPLE_RATIO),
        collector_url: spec
            .collector_url
            .clone()
            .unwrap_or_else(|| DEFAULT_COLLECTOR_URL.to_string()),
        trace_url,
        service_url,
    }
}

/// `scheme://host:port` of a URL; `None` without a scheme or host.
fn url_origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    (!authority.is_empty()).then(|| format!("{scheme}://{authority}"))
}

fn receivers(
    pagerduty: Option<spec::PagerdutySpec>,
    slack: Option<spec::SlackSpec>,
    email: Option<spec::EmailSpec>,
    webhook: Option<spec::WebhookSpec>,
    platform_slack_file: &Option<String>,
) -> Receivers {
    Receivers {
        pagerduty: pagerduty.map(|p| Pagerduty {
            routing_key_file: p.routing_key_file,
            url: p.url,
        }),
        slack: slack.map(|s| Slack {
            channel: s.channel,
            api_url_file: s.api_url_file.or_else(|| platform_slack_file.clone()),
        }),
        email: email.map(|e| Email { to: e.to }),
        webhook: webhook.map(|w| Webhook {
            url: w.url,
            credentials_file: w.credentials_file,
        }),
    }
}

fn build_service(
    platform: &Platform,
    doc: &Sourced<ServiceManifest>,
    frameworks: &HashMap<String, Option<Framework>>,
) -> Service {
    let meta = &doc.spec.metadata;
    let spec = &doc.spec.spec;
    let framework = spec.framework.unwrap_or(Framework::Http);
    let metrics_spec = spec.metrics.clone().unwrap_or_default();

    let wanted: Vec<&Environment> = match &spec.environments {
        Some(names) => platform
            .environments
            .iter()
            .filter(|env| names.contains(&env.name))
            .collect(),
        None => platform.environments.iter().collect(),
    };
    let mut port_from_url = None;
    let environments: Vec<ServiceEnvironment> = wanted
        .into_iter()
        .map(|env| {
            let url = naming::expand_service_url(&env.service_url, &meta.name, &env.name);
            let url_host = naming::host_port(&url);
            if port_from_url.is_none() {
                port_from_url = url_host.as_ref().and_then(|(_, port)| *port);
            }
            let targets = match spec.targets.get(&env.name) {
                Some(targets) => targets.clone(),
                None => url_host
                    .map(|(host, port)| {
                        let port = metrics_spec.port.or(port).unwrap_or(80);
                        vec![format!("{host}:{port}")]
                    })
                    .unwrap_or_default(),
            };
            ServiceEnvironment {
                name: env.name.clone(),
                production: env.production,
                namespace: env.namespace.clone(),
                url,
                targets,
            }
        })
        .collect();

    let metrics = Metrics {
        port: metrics_spec.port.or(port_from_url).unwrap_or(8080),
        path: metrics_spec
            .path
            .clone()
            .unwrap_or_else(|| "/metrics".to_string()),
        scheme: metrics_spec.scheme.unwrap_or(Scheme::Http),
        discovery: metrics_spec
            .discovery
            .unwrap_or(platform.prometheus.discovery),
        scrape_interval: metrics_spec
            .scrape_interval
            .unwrap_or(platform.prometheus.scrape_interval),
    };

    let dependencies = spec
        .dependencies
        .iter()
        .filter_map(|dep| {
            let (name, target) = match (&dep.service, &dep.name) {
                (Some(service), _) => (service.clone(), frameworks.get(service.as_str())),
                (None, Some(name)) => (name.clone(), None),
                (None, None) => return None,
            };
            let internal = target.is_some();
            let protocol = dep.protocol.unwrap_or_else(|| {
                let target_framework = target.copied().flatten();
                if target_framework == Some(Framework::Grpc) {
                    Protocol::Grpc
                } else {
                    Protocol::Http
                }
            });
            Some(Dependency {
                name,
                internal,
                protocol,
            })
        })
        .collect();

    let slos: Vec<Slo> = spec
        .slos
        .iter()
        .map(|slo| Slo {
            name: slo.name.clone(),
            objective: slo.objective.percent(),
            window: slo.window.unwrap_or(Duration::from_days(30)),
            description: slo.description.clone(),
            indicator: match &slo.indicator {
                IndicatorSpec::Availability {} => Indicator::Availability,
                IndicatorSpec::Latency { threshold, .. } => Indicator::Latency {
                    threshold: *threshold,
                },
                IndicatorSpec::Ratio { errors, total } => Indicator::Ratio {
                    errors: errors.trim().to_string(),
                    total: total.trim().to_string(),
                },
            },
        })
        .collect();

    let alerts_spec = spec.alerts.clone().unwrap_or_default();
    let alerts = Alerts {
        page: alerts_spec.page.unwrap_or(false),
        proxy_error_ratio: alerts_spec
            .proxy_error_ratio
            .map(|p| p.ratio())
            .unwrap_or(DEFAULT_PROXY_ERROR_RATIO),
        proxy_min_rps: alerts_spec.proxy_min_rps.unwrap_or(DEFAULT_PROXY_MIN_RPS),
        unavailable_for: alerts_spec
            .unavailable_for
            .unwrap_or(Duration::from_mins(5)),
        runbook_url: alerts_spec.runbook_url,
    };

    let logs_spec = spec.logs.clone().unwrap_or(spec::LogsSpec {
        format: None,
        pattern: None,
        retention: None,
        timestamp: None,
    });
    let format = logs_spec.format.unwrap_or(LogFormat::Json);
    let timestamp = logs_spec.timestamp.unwrap_or(spec::TimestampSpec {
        field: None,
        format: None,
    });
    let logs = Logs {
        format,
        pattern: logs_spec.pattern,
        retention: logs_spec.retention.unwrap_or(Duration::from_days(14)),
        timestamp_field: timestamp
            .field
            .unwrap_or_else(|| Logs::default_timestamp_field(format).to_string()),
        timestamp_formats: match timestamp.format {
            Some(format) => vec![format],
            None => Logs::default_timestamp_formats(format)
                .iter()
                .map(|f| f.to_string())
                .collect(),
        },
    };

    let default_protocol = if framework == Framework::Grpc {
        Protocol::Grpc
    } else {
        Protocol::Http
    };
    let loadtest = build_loadtest(platform, spec, &environments, default_protocol);
    let tracing_spec = spec.tracing.clone().unwrap_or_default();
    let tracing = ServiceTracing {
        enabled: platform.tracing.is_some() && tracing_spec.enabled.unwrap_or(true),
        sample_ratio: tracing_spec
            .sample_ratio
            .or(platform.tracing.as_ref().map(|t| t.sample_ratio))
            .unwrap_or(DEFAULT_SAMPLE_RATIO)
            .clamp(0.0, 1.0),
        slow_threshold: slos
            .iter()
            .filter_map(|slo: &Slo| match slo.indicator {
                Indicator::Latency { threshold } => Some(threshold),
                _ => None,
            })
            .min(),
        attributes: tracing_spec.attributes,
    };

    Service {
        name: meta.name.clone(),
        team: meta.team.clone(),
        description: meta.description.clone(),
        labels: meta.labels.clone().into_iter().collect::<BTreeMap<_, _>>(),
        source: doc.source.clone(),
        language: spec.language.unwrap_or(Language::Other),
        framework,
        environments,
        metrics,
        ingress: spec.ingress.as_ref().map(|ingress| Ingress {
            kind: ingress.kind,
            name: ingress.name.clone().unwrap_or_else(|| meta.name.clone()),
        }),
        dependencies,
        slos,
        alerts,
        logs,
        loadtest,
        dashboards: Dashboards {
            extra_panels: spec
                .dashboards
                .iter()
                .flat_map(|d| &d.extra_panels)
                .map(extra_panel)
                .collect(),
        },
        tracing,
    }
}

/// A panel from one PromQL query, with the defaults of `docs/manifest.md`.
fn extra_panel(panel: &spec::ExtraPanelSpec) -> ExtraPanel {
    ExtraPanel {
        title: panel.title.clone(),
        description: panel
            .description
            .clone()
            .unwrap_or_else(|| format!("`{}`", panel.expr)),
        unit: panel.unit.clone().unwrap_or_else(|| "short".to_string()),
        expr: panel.expr.clone(),
        legend: panel.legend.clone().unwrap_or_default(),
    }
}

/// The warm-up scenario's rate and duration: gentle, and long enough for a
/// few scrapes to see it.
pub const WARMUP_RATE: Rate = Rate {
    count: 2,
    per: Duration::from_secs(1),
};
pub const WARMUP_DURATION: Duration = Duration::from_secs(60);

/// The service's load test: its scenarios (or the warm-up), and where it
/// may run. Production only when the manifest names it.
fn build_loadtest(
    platform: &Platform,
    spec: &spec::ServiceSpec,
    environments: &[ServiceEnvironment],
    default_protocol: Protocol,
) -> Loadtest {
    let loadtest = spec.loadtest.clone().unwrap_or(spec::LoadtestSpec {
        enabled: None,
        protocol: None,
        environments: None,
        base_url: None,
        health_path: None,
        scenarios: Vec::new(),
    });
    let protocol = loadtest.protocol.unwrap_or(default_protocol);
    let enabled = loadtest.enabled.unwrap_or(platform.loadtest_enabled);
    let environments = if enabled {
        environments
            .iter()
            .filter(|env| match &loadtest.environments {
                Some(names) => names.contains(&env.name),
                None => !env.production,
            })
            .map(|env| env.name.clone())
            .collect()
    } else {
        Vec::new()
    };
    let mut scenarios: Vec<Scenario> = loadtest
        .scenarios
        .iter()
        .map(|scenario| Scenario {
            name: scenario.name.clone(),
            rate: scenario.rate,
            duration: scenario.duration,
            stages: scenario
                .stages
                .iter()
                .map(|stage| Stage {
                    target: stage.target,
                    duration: stage.duration,
                })
                .collect(),
            requests: scenario
                .requests
                .iter()
                .map(|request| Request {
                    method: request.method.unwrap_or(HttpMethod::Get),
                    path: request.path.clone(),
                    body: request.body.clone(),
                    headers: request.headers.clone(),
                    expect_body: request.expect_body.clone(),
                })
                .collect(),
            warmup: false,
        })
        .collect();
    if scenarios.is_empty() {
        let requests = match protocol {
            Protocol::Http => vec![Request {
                method: HttpMethod::Get,
                path: loadtest.health_path.unwrap_or_else(|| "/".to_string()),
                body: None,
                headers: BTreeMap::new(),
                expect_body: None,
            }],
            // Connecting with reflection lists the server's services.
            Protocol::Grpc => Vec::new(),
        };
        scenarios.push(Scenario {
            name: "warm-up".to_string(),
            rate: WARMUP_RATE,
            duration: WARMUP_DURATION,
            stages: Vec::new(),
            requests,
            warmup: true,
        });
    }
    Loadtest {
        protocol,
        environments,
        base_url: loadtest.base_url,
        scenarios,
    }
}

/// The distributor's input, with defaults: Beats on 5044 when the platform
/// names none.
fn log_input(spec: Option<&crate::spec::LogInputSpec>) -> crate::model::LogInput {
    use crate::model::{KafkaInput, KafkaSasl, LogInput};
    let Some(spec) = spec else {
        return LogInput::Listen {
            kind: LogInputKind::Beats,
            port: 5044,
        };
    };
    let default_port = match spec.kind {
        LogInputKind::Tcp => 5000,
        LogInputKind::Http => 8080,
        LogInputKind::Beats | LogInputKind::Kafka => 5044,
    };
    if spec.kind != LogInputKind::Kafka {
        return LogInput::Listen {
            kind: spec.kind,
            port: spec.port.unwrap_or(default_port),
        };
    }
    let sasl = match (&spec.sasl_mechanism, &spec.user, &spec.password_env) {
        (Some(mechanism), Some(user), Some(password_env)) => Some(KafkaSasl {
            mechanism: *mechanism,
            user: user.clone(),
            password_env: password_env.clone(),
        }),
        _ => None,
    };
    LogInput::Kafka(KafkaInput {
        bootstrap_servers: spec.bootstrap_servers.clone(),
        topics: if spec.topics.is_empty() {
            vec!["logs".to_string()]
        } else {
            spec.topics.clone()
        },
        group_id: spec
            .group_id
            .clone()
            .unwrap_or_else(|| "obsgen-logstash".to_string()),
        security_protocol: spec.security_protocol,
        sasl,
    })
}

#[cfg(test)]
mod tests {
    use crate::backend::prometheus::model_from;

    const SERVICE: &str =
        "apiVersion: obsgen.dev/v1\nkind: Service\nmetadata: {name: checkout, team: t}\nspec: {}\n";

    fn platform(tracing: &str) -> String {
        format!(
            "apiVersion: obsgen.dev/v1\nkind: Platform\nmetadata: {{name: p}}\nspec:\n  environments: [{{name: prod-eu}}]\n  teams: {{t: {{}}}}\n{tracing}"
        )
    }

    #[test]
    fn services_are_found_by_name_after_edits_too() {
        let named = |name: &str| SERVICE.replace("checkout", name);
        let mut model = model_from(&platform(""), &[&named("b"), &named("a"), &named("c")]);
        for name in ["a", "b", "c"] {
            assert_eq!(model.service(name).map(|s| s.name.as_str()), Some(name));
        }
        assert!(model.service("d").is_none());
        // The index made by the lookups above no longer holds: a renamed
        // service is found under its new name only.
        if let Some(last) = model.services.last_mut() {
            last.name = "d".to_string();
        }
        assert!(model.service("c").is_none());
        assert_eq!(model.service("d").map(|s| s.name.as_str()), Some("d"));
        assert_eq!(model.service("a").map(|s| s.name.as_str()), Some("a"));
    }

    #[test]
    fn zipkin_links_default_to_the_zipkin_ui_on_the_endpoints_host() {
        let model = model_from(
            &platform(
                "  tracing: {backend: zipkin, endpoint: \"https://zipkin.example:9411/api/v2/spans\"}\n",
            ),
            &[SERVICE],
        );
        let tracing = model.platform.tracing.as_ref().unwrap();
        assert_eq!(
            tracing.trace_url.as_deref(),
            Some("https://zipkin.example:9411/zipkin/traces/{trace_id}")
        );
        let service = &model.services[0];
        assert!(service.tracing.enabled);
        assert_eq!(service.tracing.sample_ratio, super::DEFAULT_SAMPLE_RATIO);
        assert_eq!(
            model.platform.traces_url(service, "prod-eu").as_deref(),
            Some(
                "https://zipkin.example:9411/zipkin/?serviceName=checkout&annotationQuery=deployment.environment.name%3Dprod-eu"
            )
        );
        assert_eq!(
            tracing.collector_endpoint("prod-eu"),
            "http://otel-collector.prod-eu.svc:4318"
        );
    }

    #[test]
    fn without_platform_tracing_or_with_it_turned_off_there_are_no_links() {
        let model = model_from(&platform(""), &[SERVICE]);
        assert!(model.platform.tracing.is_none());
        assert!(!model.services[0].tracing.enabled);
        assert_eq!(
            model.platform.traces_url(&model.services[0], "prod-eu"),
            None
        );

        let off = SERVICE.replace("spec: {}", "spec: {tracing: {enabled: false}}");
        let model = model_from(
            &platform(
                "  tracing: {backend: zipkin, endpoint: \"http://zipkin:9411/api/v2/spans\"}\n",
            ),
            &[&off],
        );
        assert_eq!(
            model.platform.traces_url(&model.services[0], "prod-eu"),
            None
        );
    }
}
