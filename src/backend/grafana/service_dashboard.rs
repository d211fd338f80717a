//! One service's dashboard: an environment switch and the rows the service
//! has something to show in.
//!
//! Rows, in order (each owns a block of panel ids, see [`layout::RowId`]):
//! Overview (SLOs, request rate, errors, latency, targets), Requests (by
//! route and status), Client requests (per dependency, with links to the
//! dependency's dashboard, and who calls this service), Runtime (by
//! language), Framework (framework- and proxy-specific), Container
//! (Kubernetes discovery only), Logs (Kibana), Traces (the tracing UI,
//! when the platform has one and the service traces), Extra panels (the
//! manifest's own). Metric names come from the model's framework table
//! ([`crate::model::metrics`]) and the recordings of the rules backend.

use super::dashboard_json::{
    Annotation, Annotations, Dashboard, DatasourceRef, Link, Panel, SCHEMA_VERSION, Templating,
    TimeRange, Variable, VariableKind, VariableOption,
};
use super::layout::{Layout, RowId};
use super::panels::{self, Query, unit};
use super::queries::{self, Selector, legend, quantile, sum_rate};
use super::runtime;
use crate::backend::prometheus::rules::{ingress_kind_name, proxy_metrics, proxy_rate, sli_record};
use crate::model::metrics::{self, RequestMetrics};
use crate::model::{Indicator, Model, Service, ServiceEnvironment, naming};
use crate::spec::{Discovery, Framework, IngressKind, Protocol};

/// The landing dashboard's uid; every service dashboard links back to it.
pub const HOME_UID: &str = "obsgen-home";

const OVERVIEW: RowId = RowId(1000);
const REQUESTS: RowId = RowId(2000);
const CLIENTS: RowId = RowId(3000);
const RUNTIME: RowId = RowId(4000);
const FRAMEWORK: RowId = RowId(5000);
const CONTAINER: RowId = RowId(6000);
const LOGS: RowId = RowId(7000);
const TRACES: RowId = RowId(7500);
/// Extension panels (the platform's library and the manifest's own).
pub const EXTRA: RowId = RowId(8000);

/// Builds the dashboard of `service`. `called_by` lists the services that
/// declare it as a dependency, sorted.
pub fn dashboard(model: &Model, service: &Service, called_by: &[&Service]) -> Dashboard {
    let mut layout = Layout::new();
    overview_row(&mut layout, service);
    requests_row(&mut layout, service);
    clients_row(&mut layout, model, service, called_by);
    runtime_row(&mut layout, service);
    framework_row(&mut layout, service);
    if service.metrics.discovery == Discovery::Kubernetes {
        container_row(&mut layout, service);
    }
    logs_row(&mut layout, model, service);
    traces_row(&mut layout, model, service);
    Dashboard {
        uid: service.dashboard_uid().into(),
        title: service.name.clone().into(),
        description: service
            .description
            .clone()
            .unwrap_or_else(|| format!("The {} service of team {}.", service.name, service.team))
            .into(),
        tags: vec!["obsgen".into(), team_tag(&service.team).into()],
        timezone: "browser".into(),
        editable: false,
        graph_tooltip: 1,
        time: TimeRange {
            from: "now-6h".into(),
            to: "now".into(),
        },
        refresh: "1m".into(),
        schema_version: SCHEMA_VERSION,
        templating: Templating {
            list: variables(model, service),
        },
        annotations: builtin_annotations(),
        links: dashboard_links(model, service),
        panels: layout.finish(),
    }
}

/// The tag that groups a team's dashboards (`team:payments`).
pub fn team_tag(team: &str) -> String {
    format!("team:{team}")
}

pub fn builtin_annotations() -> Annotations {
    Annotations {
        list: vec![Annotation {
            built_in: 1,
            datasource: DatasourceRef::grafana(),
            enable: true,
            hide: true,
            icon_color: "rgba(0, 211, 255, 1)".into(),
            name: "Annotations & Alerts".into(),
            kind: "dashboard".into(),
        }],
    }
}

/// The `datasource` variable: Prometheus datasources, the platform's selected.
pub fn datasource_variable(model: &Model) -> Variable {
    let uid = &model.platform.grafana.datasource_uid;
    Variable {
        kind: VariableKind::Datasource,
        name: "datasource".into(),
        label: "Data source".into(),
        hide: 0,
        query: "prometheus".into(),
        datasource: None,
        current: Some(VariableOption {
            selected: true,
            text: uid.clone().into(),
            value: uid.clone().into(),
        }),
        options: Vec::new(),
        multi: false,
        include_all: false,
        all_value: None,
        refresh: Some(1),
        regex: String::new().into(),
        sort: None,
    }
}

fn variables(model: &Model, service: &Service) -> Vec<Variable> {
    let default_env = service
        .environments
        .iter()
        .find(|env| env.production)
        .or_else(|| service.environments.first())
        .map(|env| env.name.clone())
        .unwrap_or_default();
    let env_options: Vec<VariableOption> = service
        .environments
        .iter()
        .map(|env| VariableOption {
            selected: env.name == default_env,
            text: env.name.clone().into(),
            value: env.name.clone().into(),
        })
        .collect();
    let names: Vec<&str> = service
        .environments
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    let env = Variable {
        kind: VariableKind::Custom,
        name: "env".into(),
        label: "Environment".into(),
        hide: 0,
        query: names.join(",").into(),
        datasource: None,
        current: Some(VariableOption {
            selected: true,
            text: default_env.clone().into(),
            value: default_env.into(),
        }),
        options: env_options,
        multi: false,
        include_all: false,
        all_value: None,
        refresh: None,
        regex: String::new().into(),
        sort: None,
    };
    let instance = Variable {
        kind: VariableKind::Query,
        name: "instance".into(),
        label: "Instance".into(),
        hide: 0,
        query: format!(
            "label_values({}, instance)",
            Selector::job(&service.name).on("up")
        )
        .into(),
        datasource: Some(DatasourceRef::templated()),
        current: Some(VariableOption {
            selected: true,
            text: "All".into(),
            value: "$__all".into(),
        }),
        options: Vec::new(),
        multi: true,
        include_all: true,
        all_value: Some(".*".into()),
        refresh: Some(2),
        regex: String::new().into(),
        sort: Some(1),
    };
    let mut list = vec![datasource_variable(model), env, instance];
    if service
        .ingress
        .as_ref()
        .is_some_and(|ingress| ingress.kind == IngressKind::Nginx)
    {
        // ingress-nginx labels requests with the Ingress' namespace: the
        // environment's, as the service's own targets carry it.
        list.push(Variable {
            kind: VariableKind::Query,
            name: "namespace".into(),
            label: "Namespace".into(),
            hide: 2,
            query: format!(
                "label_values({}, namespace)",
                Selector::job(&service.name).on("up")
            )
            .into(),
            datasource: Some(DatasourceRef::templated()),
            current: None,
            options: Vec::new(),
            multi: false,
            include_all: false,
            all_value: None,
            refresh: Some(2),
            regex: String::new().into(),
            sort: Some(1),
        });
    }
    list
}

fn dashboard_links(model: &Model, service: &Service) -> Vec<Link> {
    let mut links = vec![Link::url(
        "All services",
        "Every service and environment",
        format!("/d/{HOME_UID}"),
    )];
    for dependency in service.dependencies.iter().filter(|d| d.internal) {
        if let Some(target) = model.service(&dependency.name) {
            links.push(Link::url(
                format!("→ {}", target.name),
                format!("{}'s dashboard, same environment", target.name),
                target.dashboard_path("${env}"),
            ));
        }
    }
    links.push(Link::external(
        "Logs",
        "The service's logs in Kibana, this environment",
        kibana_url(model, service),
    ));
    if let Some(url) = model.platform.traces_link(service, "${env}") {
        links.push(Link {
            keep_time: false,
            ..Link::external(
                "Traces",
                "The service's traces in the tracing UI, this environment",
                url,
            )
        });
    }
    links.push(Link::tagged(
        format!("{} dashboards", service.team),
        vec![team_tag(&service.team).into()],
    ));
    links
}

/// Kibana's Discover with the service's saved search, on the data view of
/// `$env`, with the dashboard's time range. The space, saved search and
/// data view are the ones the logs backend generates (same `naming`
/// functions).
pub fn kibana_url(model: &Model, service: &Service) -> String {
    format!(
        "{}/s/{}/app/discover#/view/{}?_g=(time:(from:'${{__from:date:iso}}',to:'${{__to:date:iso}}'))&_a=(dataSource:(dataViewId:'{}',type:dataView))",
        model.platform.logging.kibana_url.trim_end_matches('/'),
        naming::kibana_space(&service.team),
        naming::log_saved_search(&service.name),
        naming::log_data_view(&service.name, "${env}"),
    )
}

fn overview_row(layout: &mut Layout, service: &Service) {
    layout.row(OVERVIEW, "Overview", false);
    let job = Selector::job(&service.name);
    for slo in &service.slos {
        let selector = Selector::slo(service, &slo.name);
        let window = slo.window.to_string();
        layout.panel(
            panels::stat_low_is_bad(
                format!("SLO {}: SLI over {window}", slo.name),
                format!(
                    "The share of good events over the SLO window ({window}); the objective is {}%. From the `{}` recording.",
                    crate::spec::units::format_number(slo.objective),
                    sli_record(slo.window)
                ),
                unit::RATIO,
                vec![Query::new(
                    format!("1 - {}", selector.on(&sli_record(slo.window))),
                    "SLI",
                )],
                &[(slo.objective / 100.0, "green")],
            ),
            4,
            4,
        );
        layout.panel(
            panels::stat_low_is_bad(
                format!("SLO {}: error budget left", slo.name),
                format!(
                    "The share of the {window} error budget not yet spent ({}% of events may fail). Below 0 the objective is missed.",
                    crate::spec::units::format_number(100.0 - slo.objective)
                ),
                unit::RATIO,
                vec![Query::new(
                    selector.on("slo:period_error_budget_remaining:ratio"),
                    "budget left",
                )],
                &[(0.0, "orange"), (0.25, "green")],
            ),
            4,
            4,
        );
    }
    layout.finish_line();
    layout.panel(
        panels::timeseries(
            "Request rate",
            "Requests per second finished by the service (`job_env:requests:rate5m`).",
            unit::REQUESTS_PER_SECOND,
            vec![Query::new(job.on("job_env:requests:rate5m"), "requests/s")],
        ),
        6,
        8,
    );
    let availability_budget = service.slos.iter().find_map(|slo| {
        matches!(slo.indicator, Indicator::Availability).then(|| slo.error_budget())
    });
    let errors = Query::new(job.on("job_env:request_errors:ratio_rate5m"), "errors");
    let errors_description = "The share of requests that failed on the server side (`job_env:request_errors:ratio_rate5m`).";
    layout.panel(
        match availability_budget {
            Some(budget) => panels::timeseries_with_threshold(
                "Error ratio",
                format!(
                    "{errors_description} The dashed line is the availability SLO's error budget."
                ),
                unit::RATIO,
                vec![errors],
                budget,
            ),
            None => {
                panels::timeseries("Error ratio", errors_description, unit::RATIO, vec![errors])
            }
        },
        6,
        8,
    );
    let latency_queries = ["p50", "p90", "p99"]
        .iter()
        .map(|q| {
            Query::new(
                job.on(&format!("job_env:request_duration_seconds:{q}_rate5m")),
                *q,
            )
        })
        .collect();
    let latency_threshold = service.slos.iter().find_map(|slo| match &slo.indicator {
        Indicator::Latency { threshold } => Some(threshold.as_secs_f64()),
        _ => None,
    });
    let latency_description = "Request latency quantiles from the latency histogram (`job_env:request_duration_seconds:p50|p90|p99_rate5m`).";
    layout.panel(
        match latency_threshold {
            Some(threshold) => panels::timeseries_with_threshold(
                "Latency",
                format!("{latency_description} The dashed line is the latency SLO's threshold."),
                unit::SECONDS,
                latency_queries,
                threshold,
            ),
            None => panels::timeseries(
                "Latency",
                latency_description,
                unit::SECONDS,
                latency_queries,
            ),
        },
        6,
        8,
    );
    layout.panel(
        panels::stat_low_is_bad(
            "Targets up",
            "Targets answering Prometheus' scrapes, and all targets Prometheus knows for the service (`up`).",
            unit::COUNT,
            vec![
                Query::new(format!("sum({})", job.on("up")), "up"),
                Query::new(format!("count({})", job.on("up")), "expected"),
            ],
            &[(1.0, "green")],
        ),
        6,
        8,
    );
}

fn requests_row(layout: &mut Layout, service: &Service) {
    let server = metrics::for_framework(service.framework).server;
    let selector = Selector::instances(service);
    let routes = server.route_labels;
    layout.row(REQUESTS, "Requests", false);
    let status = server.errors.label;
    layout.panel(
        panels::timeseries(
            "Requests by status",
            format!("Requests per second by `{status}` (`{}`).", server.requests),
            unit::REQUESTS_PER_SECOND,
            vec![Query::new(
                sum_rate(&[status], &selector.on(server.requests)),
                legend(&[status]),
            )],
        ),
        12,
        8,
    );
    if routes.is_empty() {
        return;
    }
    layout.panel(
        panels::timeseries(
            "Requests by route",
            format!(
                "Requests per second by {} (`{}`).",
                routes.join(", "),
                server.requests
            ),
            unit::REQUESTS_PER_SECOND,
            vec![Query::new(
                sum_rate(routes, &selector.on(server.requests)),
                legend(routes),
            )],
        ),
        12,
        8,
    );
    let failed = selector
        .clone()
        .regex(server.errors.label, server.errors.regex);
    layout.panel(
        panels::timeseries(
            "Errors by route",
            format!(
                "Failed requests per second ({} =~ `{}`) by {}.",
                server.errors.label,
                server.errors.regex,
                routes.join(", ")
            ),
            unit::REQUESTS_PER_SECOND,
            vec![Query::new(
                sum_rate(routes, &failed.on(server.requests)),
                legend(routes),
            )],
        ),
        12,
        8,
    );
    layout.panel(
        panels::timeseries(
            "p99 latency by route",
            format!(
                "99th percentile latency by {} (`{}`).",
                routes.join(", "),
                server.duration_bucket()
            ),
            unit::SECONDS,
            vec![Query::new(
                quantile(
                    0.99,
                    routes,
                    &latency(&selector, &server).on(&server.duration_bucket()),
                ),
                legend(routes),
            )],
        ),
        12,
        8,
    );
}

fn clients_row(layout: &mut Layout, model: &Model, service: &Service, called_by: &[&Service]) {
    if service.dependencies.is_empty() && called_by.is_empty() {
        return;
    }
    layout.row(CLIENTS, "Client requests", false);
    for dependency in &service.dependencies {
        let client = client_metrics(service.framework, dependency.protocol);
        let target = if dependency.internal {
            model.service(&dependency.name)
        } else {
            None
        };
        let link = target.map(|target| {
            Link::url(
                format!("{} dashboard", target.name),
                format!("Open {}'s dashboard in the same environment", target.name),
                target.dashboard_path("${env}"),
            )
        });
        match client {
            Some(client) => dependency_panels(layout, service, client, &dependency.name, link),
            None => {
                let mut panel = panels::text(
                    format!("Calls to {}", dependency.name),
                    "The framework's instrumentation exposes no client metrics.",
                    format!(
                        "{} declares a dependency on **{}**; its framework exposes no client request metrics.{}",
                        service.name,
                        markdown_text(&dependency.name),
                        target
                            .map(|t| format!(
                                " [Open {}'s dashboard]({})",
                                t.name,
                                t.dashboard_path("${env}")
                            ))
                            .unwrap_or_default()
                    ),
                );
                panel.links.extend(link);
                layout.panel(panel, 8, 4);
            }
        }
    }
    if !called_by.is_empty() {
        layout.finish_line();
        let list: Vec<String> = called_by
            .iter()
            .map(|caller| format!("- [{}]({})", caller.name, caller.dashboard_path("${env}")))
            .collect();
        layout.panel(
            panels::text(
                "Called by",
                "Services whose manifests declare this service as a dependency.",
                list.join("\n"),
            ),
            24,
            (2 + list.len() as u32).min(12),
        );
    }
}

/// The selector of a latency histogram: the library's latency matchers
/// added (gRPC streams last as long as the stream, so only unary calls
/// measure latency).
fn latency(selector: &Selector, metrics: &RequestMetrics) -> Selector {
    metrics
        .latency_matchers
        .iter()
        .fold(selector.clone(), |selector, (label, value)| {
            selector.matcher(format!(
                "{label}={}",
                crate::backend::prometheus::promql::quote(value)
            ))
        })
}

/// The client metrics of calls over `protocol` from a service of
/// `framework`: gRPC calls are counted by the gRPC client interceptors;
/// HTTP calls by the framework's own HTTP client instrumentation, or the
/// OpenTelemetry HTTP client conventions when the framework is gRPC.
/// Frameworks whose libraries instrument no client get `None`.
fn client_metrics(framework: Framework, protocol: Protocol) -> Option<RequestMetrics> {
    match (protocol, framework) {
        (Protocol::Grpc, _) => metrics::for_framework(Framework::Grpc).client,
        (Protocol::Http, Framework::Grpc) => metrics::for_framework(Framework::Http).client,
        (Protocol::Http, framework) => metrics::for_framework(framework).client,
    }
}

fn dependency_panels(
    layout: &mut Layout,
    service: &Service,
    client: RequestMetrics,
    dependency: &str,
    link: Option<Link>,
) {
    layout.finish_line();
    let peer = client.route_labels.first().copied().unwrap_or("instance");
    let selector = Selector::instances(service).peer(peer, dependency);
    let failed = selector
        .clone()
        .regex(client.errors.label, client.errors.regex);
    let calls = sum_rate(&[], &selector.on(client.requests));
    let mut panels = vec![
        panels::timeseries(
            format!("Calls to {dependency}"),
            format!(
                "Requests per second to {dependency} (`{}`, `{peer}` naming it).",
                client.requests
            ),
            unit::REQUESTS_PER_SECOND,
            vec![Query::new(calls.clone(), "calls/s")],
        ),
        panels::timeseries(
            format!("Errors calling {dependency}"),
            format!(
                "The share of calls to {dependency} that failed ({} =~ `{}`).",
                client.errors.label, client.errors.regex
            ),
            unit::RATIO,
            vec![Query::new(
                format!("{} / {calls}", sum_rate(&[], &failed.on(client.requests))),
                "errors",
            )],
        ),
        panels::timeseries(
            format!("Latency calling {dependency}"),
            format!(
                "p50 and p99 latency of calls to {dependency} (`{}`).",
                client.duration_bucket()
            ),
            unit::SECONDS,
            vec![
                Query::new(
                    quantile(
                        0.5,
                        &[],
                        &latency(&selector, &client).on(&client.duration_bucket()),
                    ),
                    "p50",
                ),
                Query::new(
                    quantile(
                        0.99,
                        &[],
                        &latency(&selector, &client).on(&client.duration_bucket()),
                    ),
                    "p99",
                ),
            ],
        ),
    ];
    for mut panel in panels.drain(..) {
        panel.links.extend(link.clone());
        layout.panel(panel, 8, 7);
    }
}

fn runtime_row(layout: &mut Layout, service: &Service) {
    layout.row(
        RUNTIME,
        format!("Runtime ({})", service.language_name()),
        true,
    );
    let selector = Selector::instances(service);
    for panel in runtime::panels(service.language, service.framework) {
        layout.panel(
            panels::timeseries(
                panel.title,
                panel.description,
                panel.unit,
                panel.queries(&selector),
            ),
            8,
            7,
        );
    }
}

fn framework_row(layout: &mut Layout, service: &Service) {
    layout.row(
        FRAMEWORK,
        format!("Framework ({})", service.framework_name()),
        true,
    );
    let server = metrics::for_framework(service.framework).server;
    let selector = Selector::instances(service);
    let count = |by: &[&str], selector: &Selector| sum_rate(by, &selector.on(server.requests));
    match service.framework {
        Framework::Grpc => {
            layout.panel(
                panels::timeseries(
                    "gRPC codes by method",
                    "Finished RPCs per second by method and status code (`grpc_server_handled_total`).",
                    unit::REQUESTS_PER_SECOND,
                    vec![Query::new(
                        count(&["grpc_method", "grpc_code"], &selector),
                        "{{grpc_method}} {{grpc_code}}",
                    )],
                ),
                12,
                8,
            );
            layout.panel(
                panels::timeseries(
                    "Started RPCs by type",
                    "RPCs started per second by type: unary and streaming (`grpc_server_started_total`).",
                    unit::REQUESTS_PER_SECOND,
                    vec![Query::new(
                        sum_rate(&["grpc_type"], &selector.on("grpc_server_started_total")),
                        "{{grpc_type}}",
                    )],
                ),
                12,
                8,
            );
        }
        Framework::SpringBoot => {
            for (label, what) in [("outcome", "outcome"), ("exception", "exception")] {
                layout.panel(
                    panels::timeseries(
                        format!("Requests by {what}"),
                        format!(
                            "Requests per second by Micrometer's `{label}` tag (`{}`).",
                            server.requests
                        ),
                        unit::REQUESTS_PER_SECOND,
                        vec![Query::new(count(&[label], &selector), legend(&[label]))],
                    ),
                    12,
                    8,
                );
            }
        }
        Framework::Django => {
            layout.panel(
                panels::timeseries(
                    "Requests by view",
                    "Requests per second by Django view and method (`django_http_requests_total_by_view_transport_method_total`).",
                    unit::REQUESTS_PER_SECOND,
                    vec![Query::new(
                        sum_rate(
                            &["view", "method"],
                            &selector.on("django_http_requests_total_by_view_transport_method_total"),
                        ),
                        "{{method}} {{view}}",
                    )],
                ),
                12,
                8,
            );
            layout.panel(
                panels::timeseries(
                    "Database query time",
                    "p99 duration of database queries by connection alias (`django_db_query_duration_seconds`).",
                    unit::SECONDS,
                    vec![Query::new(
                        quantile(
                            0.99,
                            &["alias"],
                            &selector.on("django_db_query_duration_seconds_bucket"),
                        ),
                        "{{alias}}",
                    )],
                ),
                12,
                8,
            );
        }
        Framework::Express | Framework::Flask | Framework::Aspnetcore | Framework::Http => {
            let routes = server.route_labels;
            layout.panel(
                panels::timeseries(
                    format!("Busiest {}", routes.join(", ")),
                    format!(
                        "The ten {} with the most requests per second (`{}`).",
                        routes.join(", "),
                        server.requests
                    ),
                    unit::REQUESTS_PER_SECOND,
                    vec![Query::new(
                        format!("topk(10, {})", count(routes, &selector)),
                        legend(routes),
                    )],
                ),
                12,
                8,
            );
            layout.panel(
                panels::timeseries(
                    format!("Slowest {}", routes.join(", ")),
                    format!(
                        "The ten {} with the highest p99 latency (`{}`).",
                        routes.join(", "),
                        server.duration_bucket()
                    ),
                    unit::SECONDS,
                    vec![Query::new(
                        format!(
                            "topk(10, {})",
                            quantile(
                                0.99,
                                routes,
                                &latency(&selector, &server).on(&server.duration_bucket())
                            )
                        ),
                        legend(routes),
                    )],
                ),
                12,
                8,
            );
        }
    }
    if let (Some(ingress), Some(any_env)) = (&service.ingress, service.environments.first()) {
        let (metric, name, errors) = proxy_metrics(ingress);
        // The alert's own environment scoping (`env`, or for ingress-nginx
        // the environment's namespace), with the dashboard's variables.
        let env = ServiceEnvironment {
            name: queries::ENV.to_string(),
            namespace: queries::NAMESPACE.to_string(),
            ..any_env.clone()
        };
        let all = proxy_rate(ingress, &env, metric, &[&name], queries::RATE_INTERVAL);
        let failed = proxy_rate(
            ingress,
            &env,
            metric,
            &[&name, &errors],
            queries::RATE_INTERVAL,
        );
        // The proxy's series come from the proxy's own job: the lint's
        // service scope is the service's `up` in `$env`.
        let scope = format!(
            "on() group_left() (max({}) >= 0)",
            Selector::job(&service.name).on("up")
        );
        layout.panel(
            panels::timeseries_with_threshold(
                format!("{} 5xx ratio", ingress_kind_name(ingress.kind)),
                format!(
                    "The share of requests to {} that {} answered with a 5xx status (`{metric}`); the dashed line is the alert threshold.",
                    service.name,
                    ingress_kind_name(ingress.kind)
                ),
                unit::RATIO,
                vec![Query::new(
                    format!("({failed} / {all}) * {scope}"),
                    "5xx ratio",
                )],
                service.alerts.proxy_error_ratio,
            ),
            12,
            8,
        );
    }
}

fn container_row(layout: &mut Layout, service: &Service) {
    layout.row(CONTAINER, "Container", true);
    // cAdvisor and kube-state-metrics series carry `namespace` and `pod`,
    // not the service's job: keep those of the pods the service's job scrapes.
    let pods = format!(
        "on (namespace, pod) group_left() max by (namespace, pod) ({})",
        Selector::job(&service.name).on("up")
    );
    let container = "container!=\"\",container!=\"POD\"";
    let by_pod = |expr: String| format!("sum by (pod) ({expr} * {pods})");
    let rate = |metric: &str, extra: &str| {
        format!(
            "rate({metric}{{{container}{extra}}}[{}])",
            queries::RATE_INTERVAL
        )
    };
    let resource = |kind: &str, resource: &str| {
        format!(
            "sum(kube_pod_container_resource_{kind}{{resource=\"{resource}\"}} * {pods}) / count(max by (pod) (kube_pod_container_resource_{kind}{{resource=\"{resource}\"}} * {pods}))"
        )
    };
    let panels = vec![
        panels::timeseries(
            "CPU usage",
            "CPU used per pod in cores (cAdvisor `container_cpu_usage_seconds_total`), against the per-pod request and limit (kube-state-metrics).",
            unit::CORES,
            vec![
                Query::new(
                    by_pod(rate("container_cpu_usage_seconds_total", "")),
                    "{{pod}}",
                ),
                Query::new(resource("requests", "cpu"), "request"),
                Query::new(resource("limits", "cpu"), "limit"),
            ],
        ),
        panels::timeseries(
            "CPU throttling",
            "The share of CFS periods in which the container was throttled (cAdvisor `container_cpu_cfs_throttled_periods_total` / `container_cpu_cfs_periods_total`).",
            unit::RATIO,
            vec![Query::new(
                format!(
                    "{} / {}",
                    by_pod(rate("container_cpu_cfs_throttled_periods_total", "")),
                    by_pod(rate("container_cpu_cfs_periods_total", ""))
                ),
                "{{pod}}",
            )],
        ),
        panels::timeseries(
            "Memory working set",
            "Working set per pod (cAdvisor `container_memory_working_set_bytes`), against the per-pod limit (kube-state-metrics).",
            unit::BYTES,
            vec![
                Query::new(
                    by_pod(format!("container_memory_working_set_bytes{{{container}}}")),
                    "{{pod}}",
                ),
                Query::new(resource("limits", "memory"), "limit"),
            ],
        ),
        panels::timeseries(
            "Restarts",
            "Container restarts per pod in each rate interval (kube-state-metrics `kube_pod_container_status_restarts_total`).",
            unit::COUNT,
            vec![Query::new(
                format!(
                    "sum by (pod) (increase(kube_pod_container_status_restarts_total[{}]) * {pods})",
                    queries::RATE_INTERVAL
                ),
                "{{pod}}",
            )],
        ),
        panels::timeseries(
            "Network",
            "Bytes received and sent per second per pod (cAdvisor `container_network_receive_bytes_total`, `container_network_transmit_bytes_total`).",
            unit::BYTES_PER_SECOND,
            vec![
                Query::new(
                    format!(
                        "sum by (pod) (rate(container_network_receive_bytes_total[{}]) * {pods})",
                        queries::RATE_INTERVAL
                    ),
                    "{{pod}} in",
                ),
                Query::new(
                    format!(
                        "sum by (pod) (rate(container_network_transmit_bytes_total[{}]) * {pods})",
                        queries::RATE_INTERVAL
                    ),
                    "{{pod}} out",
                ),
            ],
        ),
    ];
    for panel in panels {
        layout.panel(panel, 8, 7);
    }
}

fn logs_row(layout: &mut Layout, model: &Model, service: &Service) {
    layout.row(LOGS, "Logs", false);
    let url = kibana_url(model, service);
    let mut panel = panels::text(
        "Logs in Kibana",
        "The service's log events in this environment, in Kibana (the team's space; the data stream the log pipeline writes).",
        format!(
            "[Open the logs of **{}** in **${{env}}** in Kibana]({url})\n\nData view `{}`, in the Kibana space of team **{}**.",
            service.name,
            naming::log_data_view(&service.name, "${env}"),
            markdown_text(&service.team),
        ),
    );
    panel
        .links
        .push(Link::external("Kibana", "Open in Kibana", url));
    layout.panel(panel, 24, 3);
}

/// The service's traces in this environment, and the span attributes it
/// promises to record; only when there is a tracing UI to link to.
fn traces_row(layout: &mut Layout, model: &Model, service: &Service) {
    let Some(url) = model.platform.traces_link(service, "${env}") else {
        return;
    };
    layout.row(TRACES, "Traces", false);
    let mut text = format!(
        "[Open the traces of **{}** in **${{env}}**]({})\n\nThe collector keeps every trace with an error",
        service.name,
        markdown_url(&url),
    );
    if let Some(threshold) = service.tracing.slow_threshold {
        text.push_str(&format!(
            ", every trace slower than {threshold} (the latency SLO)"
        ));
    }
    text.push_str(&format!(
        " and {}% of the others.",
        crate::spec::units::format_number(service.tracing.sample_percentage())
    ));
    if !service.tracing.attributes.is_empty() {
        let attributes: Vec<String> = service
            .tracing
            .attributes
            .iter()
            .map(|attribute| format!("`{attribute}`"))
            .collect();
        text.push_str(&format!("\n\nSpans carry: {}.", attributes.join(", ")));
    }
    let mut panel = panels::text(
        "Traces",
        "The service's traces in this environment, in the tracing UI: what the collector keeps, and the span attributes to search by.",
        text,
    );
    panel.links.push(Link {
        keep_time: false,
        ..Link::external("Traces", "Open in the tracing UI", url)
    });
    layout.panel(panel, 24, 4);
}

/// A URL for a Markdown link target: the characters that would end the
/// target (`(`, `)`, `<`, `>`, spaces) percent-encoded.
fn markdown_url(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    for c in url.chars() {
        match c {
            '(' => out.push_str("%28"),
            ')' => out.push_str("%29"),
            '<' => out.push_str("%3C"),
            '>' => out.push_str("%3E"),
            c if c.is_whitespace() || c.is_control() => {
                out.push_str(&crate::model::naming::url_query_escape(&c.to_string()))
            }
            c => out.push(c),
        }
    }
    out
}

/// Text for a Markdown panel: Markdown's punctuation escaped, HTML impossible.
pub fn markdown_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if "\\`*_{}[]()<>#+-.!|~&$".contains(c) {
            out.push('\\');
        }
        if c.is_control() {
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}

/// Appends extension panels (already linted) as their own row, below
/// everything else.
pub fn add_row(dashboard: &mut Dashboard, id: RowId, title: &str, extra: Vec<Panel>) {
    if extra.is_empty() {
        return;
    }
    let mut layout = Layout::new();
    layout.row(id, title.to_string(), false);
    for panel in extra {
        let w = panel.grid_pos.w.max(1);
        let h = panel.grid_pos.h.max(1);
        layout.panel(panel, w, h);
    }
    let bottom = dashboard
        .panels
        .iter()
        .map(|item| match item {
            super::dashboard_json::PanelOrRow::Row(row) => row.grid_pos.y + 1,
            super::dashboard_json::PanelOrRow::Panel(panel) => panel.grid_pos.y + panel.grid_pos.h,
        })
        .max()
        .unwrap_or(0);
    for mut item in layout.finish() {
        match &mut item {
            super::dashboard_json::PanelOrRow::Row(row) => row.grid_pos.y += bottom,
            super::dashboard_json::PanelOrRow::Panel(panel) => panel.grid_pos.y += bottom,
        }
        dashboard.panels.push(item);
    }
}
