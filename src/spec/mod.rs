//! The manifest contract: what users write, as serde + schemars types.
//!
//! Two kinds of document share a Kubernetes-style envelope
//! (`apiVersion: obsgen.dev/v1`, `kind`, `metadata`, `spec`):
//!
//! ```yaml
//! apiVersion: obsgen.dev/v1
//! kind: Service
//! metadata: {name: checkout, team: payments, labels: {tier: critical}}
//! spec:
//!   framework: grpc
//!   slos:
//!     - {name: availability, objective: 99.9, indicator: {type: availability}}
//!   alerts: {page: true}
//! ```
//!
//! These types are deliberately *raw*: optional where users may omit a
//! field, no defaults applied. `crate::model` turns them into the normalized
//! model the backends read, so backends never see user input or defaults
//! logic. The JSON Schemas in `schema/` are generated from these types
//! (`obsgen schema`) and a test keeps them in step.

pub mod units;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use units::{Duration, Percent, Rate};

/// The one API version this obsgen understands.
pub const API_VERSION: &str = "obsgen.dev/v1";

/// The `apiVersion` field: always `obsgen.dev/v1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ApiVersion {
    #[serde(rename = "obsgen.dev/v1")]
    V1,
}

/// `kind: Service`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ServiceKind {
    Service,
}

/// `kind: Platform`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum PlatformKind {
    Platform,
}

// ---------------------------------------------------------------------------
// Service
// ---------------------------------------------------------------------------

/// A service manifest, `services/<name>.yaml`: what one team declares about
/// one service. Only `metadata.name` and `metadata.team` are required; the
/// platform's defaults fill in everything else.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "obsgen Service manifest")]
pub struct ServiceManifest {
    #[serde(rename = "apiVersion")]
    pub api_version: ApiVersion,
    pub kind: ServiceKind,
    pub metadata: ServiceMetadata,
    #[serde(default)]
    pub spec: ServiceSpec,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceMetadata {
    /// The service's name: a DNS label (lower-case letters, digits, `-`),
    /// unique in the repository. It becomes the `job` and `service` labels.
    #[schemars(regex(pattern = r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$"))]
    pub name: String,
    /// The owning team; must be one of the platform's `spec.teams`.
    #[schemars(regex(pattern = r"^[a-z][-a-z0-9_]*$"))]
    pub team: String,
    /// One line saying what the service does; shown on dashboards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Extra labels copied onto every series, alert and log event of the
    /// service. Names must be valid Prometheus label names.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    /// The runtime; selects runtime panels. Default `other`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<Language>,
    /// The server framework; selects the request metrics. Default `http`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework: Option<Framework>,
    /// The environments the service runs in. Default: all of the platform's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environments: Option<Vec<String>>,
    /// Where Prometheus scrapes the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<MetricsSpec>,
    /// Scrape targets per environment (`host:port`), for static discovery.
    /// Default: derived from the platform's `service_url`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub targets: BTreeMap<String, Vec<String>>,
    /// The reverse proxy in front of the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress: Option<IngressSpec>,
    /// Services and external systems this service calls.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<DependencySpec>,
    /// Service level objectives; each gets SLI recordings and burn-rate alerts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slos: Vec<SloSpec>,
    /// Alert settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alerts: Option<AlertsSpec>,
    /// How the service logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logs: Option<LogsSpec>,
    /// Load test scenarios.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loadtest: Option<LoadtestSpec>,
    /// Additions to the service's Grafana dashboard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dashboards: Option<DashboardsSpec>,
    /// Distributed tracing of the service. Default: on, at the platform's
    /// sample ratio, whenever the platform configures `tracing`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracing: Option<ServiceTracingSpec>,
}

/// A service's tracing settings; every field is optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceTracingSpec {
    /// `false` turns tracing off for the service: its settings file says
    /// `OTEL_TRACES_SAMPLER=always_off` and it gets no sampling policy and
    /// no trace links. Default `true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// The share of the service's traces kept by the collector, from 0 to 1
    /// (`0.25` keeps a quarter). Traces with an error, and traces slower
    /// than the service's latency SLO threshold, are kept whatever the
    /// ratio. Default: the platform's `tracing.sample_ratio`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub sample_ratio: Option<f64>,
    /// Span attributes the service promises to record (`order.id`,
    /// `customer.tier`), listed on its dashboard so that people know what
    /// they can search traces by. OpenTelemetry attribute names:
    /// lower-case words separated by `.`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<String>,
}

/// Additions to the service's dashboard.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DashboardsSpec {
    /// Panels of the service's own metrics, in an "Extra panels" row. Each
    /// query is checked like obsgen's own panels: valid PromQL, scoped with
    /// `job="<service>"` and `env="$env"`, rates over `$__rate_interval`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_panels: Vec<ExtraPanelSpec>,
}

/// A time-series panel from one PromQL query.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtraPanelSpec {
    /// The panel's title, unique on the dashboard.
    #[schemars(length(min = 1, max = 120))]
    pub title: String,
    /// What the panel shows. Default: the query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A Grafana unit id (`reqps`, `s`, `bytes`, `percentunit`, ...). Default `short`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9:/._-]{1,40}$"))]
    pub unit: Option<String>,
    /// The PromQL query, e.g.
    /// `sum(rate(orders_total{job="checkout",env="$env"}[$__rate_interval]))`.
    pub expr: String,
    /// The legend of each series, e.g. `{{method}}`. Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legend: Option<String>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Go,
    Jvm,
    Python,
    Node,
    Dotnet,
    Rust,
    Other,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Framework {
    /// Generic HTTP instrumented with OpenTelemetry semantic conventions.
    Http,
    /// gRPC with go-grpc-prometheus / grpc-ecosystem interceptors.
    Grpc,
    /// Spring Boot with Micrometer.
    SpringBoot,
    /// Express with express-prom-bundle.
    Express,
    /// Django with django-prometheus.
    Django,
    /// Flask with prometheus-flask-exporter.
    Flask,
    /// ASP.NET Core with prometheus-net.
    Aspnetcore,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricsSpec {
    /// The port serving metrics. Default: the port of the platform's `service_url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 65535))]
    pub port: Option<u16>,
    /// The metrics path. Default `/metrics`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^/[^\s]*$"))]
    pub path: Option<String>,
    /// `http` or `https`. Default `http`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<Scheme>,
    /// Overrides the platform's discovery mode for this service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discovery: Option<Discovery>,
    /// Overrides the platform's scrape interval for this service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scrape_interval: Option<Duration>,
    /// The latency histogram's bucket boundaries in seconds, when the
    /// service configures its own (`[0.05, 0.1, 0.3, 1]`). Latency SLO
    /// thresholds must be one of them. Default: the client library's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buckets: Vec<f64>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    Http,
    Https,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Discovery {
    /// Targets listed in the Prometheus configuration.
    Static,
    /// Kubernetes pod discovery, one namespace per environment.
    Kubernetes,
    /// Targets in JSON files next to the configuration, for external tooling to rewrite.
    FileSd,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IngressSpec {
    pub kind: IngressKind,
    /// The proxy's name for this service (ingress name, Envoy cluster,
    /// Traefik service, HAProxy backend). Default: the service name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum IngressKind {
    Nginx,
    Envoy,
    Traefik,
    Haproxy,
}

/// A dependency: either `service:` (another manifest) or `name:` (an
/// external system), exactly one of them.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DependencySpec {
    /// Another service of this repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// An external system (a database, a SaaS API).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// How the service talks to it. Default: the dependency's framework, or `http`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Protocol>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Http,
    Grpc,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SloSpec {
    /// The SLO's name, unique within the service (`[a-z][a-z0-9_-]*`).
    #[schemars(regex(pattern = r"^[a-z][-a-z0-9_]*$"))]
    pub name: String,
    /// The objective in percent, strictly between 0 and 100.
    pub objective: Percent,
    /// The compliance window. Default `30d`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub indicator: IndicatorSpec,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum IndicatorSpec {
    /// The share of requests that did not fail, from the framework's request metrics.
    Availability {},
    /// The share of requests faster than `threshold`, from the framework's latency histogram.
    Latency {
        threshold: Duration,
        /// The histogram's bucket boundaries in seconds, when they differ
        /// from `metrics.buckets` and the library's defaults.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        buckets: Vec<f64>,
    },
    /// Custom PromQL: `errors` / `total`, each with `{{window}}` where the range goes.
    Ratio { errors: String, total: String },
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertsSpec {
    /// Opt in to paging. Pages only ever go out for production environments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<bool>,
    /// Alert when more than this share of requests through the ingress are
    /// answered 5xx over 5 minutes. Default `3%`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_error_ratio: Option<Percent>,
    /// The reverse-proxy alert stays silent below this many requests per
    /// second through the proxy (over 5 minutes), so that one 5xx among a
    /// handful of requests cannot page. Default `1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub proxy_min_rps: Option<f64>,
    /// How long the service must be fully unavailable before alerting. Default `5m`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailable_for: Option<Duration>,
    /// A runbook linked from every alert of the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^https?://\S+$"))]
    pub runbook_url: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogsSpec {
    /// The log line format. Default `json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<LogFormat>,
    /// The grok pattern, required with `format: grok`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// How long logs are kept. Default `14d`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<Duration>,
    /// Where the event's time is and how it is written. Default: the
    /// format's own timestamp field (`timestamp` for json, logfmt and grok,
    /// ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<TimestampSpec>,
}

/// The field holding an event's time, and its format for Logstash's `date`
/// filter.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimestampSpec {
    /// The parsed field holding the time. Default `timestamp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z_@][A-Za-z0-9_.@-]*$"))]
    pub field: Option<String>,
    /// A Joda-Time pattern (`yyyy-MM-dd HH:mm:ss,SSS`) or one of
    /// `ISO8601`, `UNIX`, `UNIX_MS`, `TAI64N`. Default `ISO8601`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Json,
    Logfmt,
    Nginx,
    Apache,
    Syslog,
    Grok,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadtestSpec {
    /// `false` generates no load test for this service (no warm-up
    /// either). Default: the platform's `loadtest.enabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Default: `grpc` for gRPC services, else `http`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Protocol>,
    /// The environments load tests may run in. Default: the service's
    /// non-production environments; production only when named here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environments: Option<Vec<String>>,
    /// The URL requests go to, in every environment (`{service}` and
    /// `{env}` are filled in). Default: the environment's `service_url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// The path the warm-up requests (HTTP only). Default `/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_path: Option<String>,
    /// Without scenarios, a gentle warm-up scenario is generated.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scenarios: Vec<ScenarioSpec>,
}

/// One step of a ramping scenario: reach `target` over `duration`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StageSpec {
    /// The arrival rate reached at the end of the stage, e.g. `50/s`.
    pub target: Rate,
    /// How long the ramp to `target` takes.
    pub duration: Duration,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioSpec {
    #[schemars(regex(pattern = r"^[a-z][-a-z0-9_]*$"))]
    pub name: String,
    /// Arrival rate, e.g. `20/s`.
    pub rate: Rate,
    /// How long the scenario runs, e.g. `1m`; with `stages`, how long it
    /// holds the last stage's rate.
    pub duration: Duration,
    /// Ramps the arrival rate from `rate` through each stage's target.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<StageSpec>,
    pub requests: Vec<RequestSpec>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestSpec {
    /// HTTP method (`GET`, `POST`, ...). Not used for gRPC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<HttpMethod>,
    /// HTTP path (`/items`), or for gRPC the full method (`shop.Cart/Get`).
    pub path: String,
    /// Request body (JSON for gRPC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Text the response body must contain (HTTP), checked besides the
    /// status class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect_body: Option<String>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    Head,
    Options,
}

// ---------------------------------------------------------------------------
// Platform
// ---------------------------------------------------------------------------

/// `obsgen.yaml`: what the platform team owns: environments, teams and their
/// receivers, where logs go, how Prometheus discovers targets.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "obsgen Platform configuration")]
pub struct PlatformManifest {
    #[serde(rename = "apiVersion")]
    pub api_version: ApiVersion,
    pub kind: PlatformKind,
    pub metadata: PlatformMetadata,
    pub spec: PlatformSpec,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlatformMetadata {
    #[schemars(regex(pattern = r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$"))]
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlatformSpec {
    /// The environments, in the order dashboards and files list them.
    #[schemars(length(min = 1))]
    pub environments: Vec<EnvironmentSpec>,
    /// Where services are found, relative to the root. Default
    /// `services/**/*.{yaml,yml,jsonnet}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub services: Option<String>,
    /// The URL of a service in an environment, with `{service}` and `{env}`
    /// placeholders. Default `http://{service}.{env}.svc:8080`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prometheus: Option<PrometheusSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grafana: Option<GrafanaSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logging: Option<LoggingSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alerting: Option<AlertingSpec>,
    /// The Alertmanager obsgen configures, where every Prometheus sends
    /// its alerts (unless `prometheus.alertmanagers` lists others).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alertmanager: Option<AlertmanagerSpec>,
    /// A folder of the repository whose `logstash/*.conf.j2` files replace
    /// obsgen's Logstash templates of the same name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub templates: Option<String>,
    /// The override templates read from `templates` (filled by the loader;
    /// not a field of `obsgen.yaml`).
    #[serde(skip)]
    #[schemars(skip)]
    pub template_overrides: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loadtest: Option<PlatformLoadtestSpec>,
    /// Distributed tracing: where the OpenTelemetry Collector of each
    /// environment sends traces, and the tracing UI that dashboards and
    /// alerts link to. Without it obsgen generates nothing for traces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracing: Option<TracingSpec>,
    /// The teams that own services, with their alert receivers.
    pub teams: BTreeMap<String, TeamSpec>,
}

/// Platform-wide load-test settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlatformLoadtestSpec {
    /// `false` generates no load test (and no warm-up) for any service
    /// that does not turn it on itself. Default `true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// The platform's tracing backend and UI.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TracingSpec {
    /// The kind of backend the collectors export to: `zipkin` (Zipkin's
    /// v2 JSON API) or `otlp` (an OTLP-native backend: Tempo, Jaeger,
    /// Lightstep, ...).
    pub backend: TracingBackend,
    /// With `backend: otlp`: `grpc` (default) or `http`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<OtlpProtocol>,
    /// Where the collectors send traces: for Zipkin the spans API
    /// (`http://zipkin:9411/api/v2/spans`), for OTLP the backend's base URL
    /// (`https://tempo.example:4317`). No credentials in it: put them in
    /// `headers`.
    #[schemars(regex(pattern = r#"^https?://[^\s"'#$\\`]+$"#))]
    pub endpoint: String,
    /// Headers sent with every export. A secret never appears here: each
    /// value must take it from the collector's environment with a
    /// `${env:NAME}` reference (`Bearer ${env:TRACING_TOKEN}`), which the
    /// collector expands when it starts.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// The share of each service's traces the collectors keep, from 0 to 1,
    /// unless the service sets its own. Default `0.1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub sample_ratio: Option<f64>,
    /// Where services send their spans: the OTLP/HTTP address of their
    /// environment's collector, `{env}` standing for the environment.
    /// Default `http://otel-collector.{env}.svc:4318`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r#"^https?://[^\s"'#$\\`]+$"#))]
    pub collector_url: Option<String>,
    /// The tracing UI, for links from dashboards and alerts. Default for
    /// Zipkin: the Zipkin UI at the endpoint's host; none for OTLP
    /// backends (no links).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ui: Option<TracingUiSpec>,
}

/// URL templates of the tracing UI.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TracingUiSpec {
    /// One trace: `{trace_id}` is replaced with the trace's id, e.g.
    /// `http://zipkin:9411/zipkin/traces/{trace_id}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^https?://\S+$"))]
    pub trace_url: Option<String>,
    /// A service's traces in one environment: `{service}` and `{env}` are
    /// replaced, e.g.
    /// `http://zipkin:9411/zipkin/?serviceName={service}&annotationQuery=deployment.environment.name%3D{env}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^https?://\S+$"))]
    pub service_url: Option<String>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum TracingBackend {
    /// Zipkin, or anything speaking its v2 JSON API.
    Zipkin,
    /// An OTLP-native backend (Tempo, Jaeger, Lightstep, ...).
    Otlp,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum OtlpProtocol {
    Grpc,
    Http,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertmanagerSpec {
    /// Where Prometheus reaches it: `http://alertmanager.monitoring.svc:9093`
    /// (scheme, host, port and an optional path prefix).
    #[schemars(regex(pattern = r"^https?://[^\s/?#@]+(/[^\s?#]*)?$"))]
    pub url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentSpec {
    #[schemars(regex(pattern = r"^[a-z]([-a-z0-9]{0,30}[a-z0-9])?$"))]
    pub name: String,
    /// Production environments are the only ones that page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub production: Option<bool>,
    /// The Kubernetes namespace of the environment. Default: its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Overrides the platform's `service_url` in this environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_url: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PrometheusSpec {
    /// How Prometheus finds targets. Default `static`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discovery: Option<Discovery>,
    /// Default `30s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scrape_interval: Option<Duration>,
    /// Default: the scrape interval, at most `10s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scrape_timeout: Option<Duration>,
    /// Default `30s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation_interval: Option<Duration>,
    /// `files` (plain prometheus.yml and rule files, default) or `operator`
    /// (PrometheusRule and monitor objects for the Prometheus Operator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<PrometheusOutput>,
    /// Split scrape jobs over this many Prometheus servers per environment. Default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 64))]
    pub shards: Option<u32>,
    /// The pod label that carries the service name, for Kubernetes discovery.
    /// Default `app.kubernetes.io/name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_label: Option<String>,
    /// Labels added to every series and alert leaving Prometheus. obsgen
    /// adds `env` itself (the environment of each server).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub external_labels: BTreeMap<String, String>,
    /// `true` writes the generated promtool unit tests into the output tree
    /// (`prometheus/tests/`) instead of only generating them when
    /// `obsgen test` runs. Default `false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_tests: Option<bool>,
    /// `host:port` of the Alertmanager(s) each Prometheus sends alerts to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alertmanagers: Vec<String>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum PrometheusOutput {
    Files,
    Operator,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GrafanaSpec {
    /// Grafana's base URL, for links from alerts. Default `http://grafana:3000`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^https?://\S+$"))]
    pub url: Option<String>,
    /// The uid of the Prometheus datasource. Default `prometheus`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datasource_uid: Option<String>,
    /// The Grafana folder of the landing dashboard (service dashboards go
    /// into one folder per team). Default `Services`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9][A-Za-z0-9 _-]{0,63}$"))]
    pub folder: Option<String>,
    /// The URL Grafana's provisioned Prometheus datasource queries: a
    /// Prometheus, or a query layer over every environment's (Thanos,
    /// Mimir). Default `http://prometheus:9090`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^https?://\S+$"))]
    pub prometheus_url: Option<String>,
    /// A folder of the repository holding the platform's own dashboard
    /// library, `dashboards.jsonnet` (a copy of obsgen's
    /// `library/dashboards.jsonnet`): rows of panels added to every
    /// service's dashboard, or to those of some languages or frameworks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub library: Option<String>,
    /// The rows of that library, once evaluated (validation fills this in
    /// from `dashboards.jsonnet`; it is not a field of `obsgen.yaml`).
    #[serde(skip)]
    #[schemars(skip)]
    pub library_rows: Vec<LibraryRowSpec>,
}

/// What a dashboard library (`dashboards.jsonnet`) evaluates to.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DashboardLibrarySpec {
    /// Rows added after obsgen's own, in this order.
    #[serde(default)]
    pub rows: Vec<LibraryRowSpec>,
}

/// A row of library panels. `{{service}}` in a panel's `expr`, `title` and
/// `description` is replaced with the service's name.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LibraryRowSpec {
    pub title: String,
    /// Only services of these languages get the row (default: every language).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<Language>,
    /// Only services of these frameworks get the row (default: every framework).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub frameworks: Vec<Framework>,
    pub panels: Vec<ExtraPanelSpec>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoggingSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<LogInputSpec>,
    /// Kibana's base URL, for the Logs links of dashboards. Default
    /// `http://kibana:5601`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^https?://\S+$"))]
    pub kibana_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elasticsearch: Option<ElasticsearchSpec>,
    /// Grok patterns the platform defines for services' `format: grok`
    /// patterns, by name (`ACME_TRACE: "[0-9a-f]{32}"`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub grok_patterns: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogInputSpec {
    /// `beats` (default), `tcp` (JSON lines), `http`, or `kafka`.
    #[serde(rename = "type")]
    pub kind: LogInputKind,
    /// The port Logstash listens on (`beats`, `tcp`, `http`). Default 5044
    /// for Beats, 5000 for TCP, 8080 for HTTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 65535))]
    pub port: Option<u16>,
    /// `kafka`: the brokers, `host:port` each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bootstrap_servers: Vec<String>,
    /// `kafka`: the topics the shippers write to. Default `["logs"]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<String>,
    /// `kafka`: the consumer group of the Logstash nodes. Default `obsgen-logstash`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9._-]{1,255}$"))]
    pub group_id: Option<String>,
    /// `kafka`: `PLAINTEXT` (default), `SSL`, `SASL_PLAINTEXT` or `SASL_SSL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_protocol: Option<KafkaSecurityProtocol>,
    /// `kafka` with SASL: `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sasl_mechanism: Option<KafkaSaslMechanism>,
    /// `kafka` with SASL: the user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9._@-]{1,255}$"))]
    pub user: Option<String>,
    /// `kafka` with SASL: the environment variable holding the password
    /// (never the password).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z_][A-Za-z0-9_]*$"))]
    pub password_env: Option<String>,
}

/// How Logstash talks to the Kafka brokers.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum KafkaSecurityProtocol {
    Plaintext,
    Ssl,
    SaslPlaintext,
    SaslSsl,
}

/// The SASL mechanism of a Kafka input.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub enum KafkaSaslMechanism {
    #[serde(rename = "PLAIN")]
    Plain,
    #[serde(rename = "SCRAM-SHA-256")]
    ScramSha256,
    #[serde(rename = "SCRAM-SHA-512")]
    ScramSha512,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum LogInputKind {
    Beats,
    Tcp,
    Http,
    Kafka,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ElasticsearchSpec {
    #[schemars(length(min = 1))]
    pub hosts: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The environment variable holding the password (never the password).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z_][A-Za-z0-9_]*$"))]
    pub password_env: Option<String>,
    /// The index name prefix, with `output: indices`. Default `logs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[a-z][a-z0-9_]*$"))]
    pub index_prefix: Option<String>,
    /// The environment variable holding an API key (`id:key`), instead of a
    /// user and password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z_][A-Za-z0-9_]*$"))]
    pub api_key_env: Option<String>,
    /// `data_streams` (default) or `indices` (classic indices behind an ILM
    /// rollover alias).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<LogOutput>,
}

/// How Logstash writes into Elasticsearch.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum LogOutput {
    DataStreams,
    Indices,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertingSpec {
    /// Default `30s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_wait: Option<Duration>,
    /// Default `5m`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_interval: Option<Duration>,
    /// Default `4h`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat_interval: Option<Duration>,
    /// Default `5m`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolve_timeout: Option<Duration>,
    /// File holding the Slack webhook URL used by every Slack receiver
    /// unless a team sets its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack_api_url_file: Option<String>,
    /// Outgoing mail for e-mail receivers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp: Option<SmtpSpec>,
    /// Where alerts of no known team go (the root route's receiver).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<ReceiversSpec>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SmtpSpec {
    /// `host:port` of the mail relay.
    pub smarthost: String,
    pub from: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_username: Option<String>,
    /// File holding the SMTP password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_password_file: Option<String>,
    /// Default true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_tls: Option<bool>,
}

/// A team: its receivers and routing preferences.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamSpec {
    /// The SSO group whose members are the team in Elasticsearch and
    /// Kibana (the role mapping's group). Default: the team's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sso_group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pagerduty: Option<PagerdutySpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack: Option<SlackSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<WebhookSpec>,
    /// Overrides the platform's `alerting.group_wait` for this team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_wait: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_interval: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat_interval: Option<Duration>,
    /// Notifications (not pages) only reach the team in these hours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_hours: Option<WorkingHoursSpec>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiversSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pagerduty: Option<PagerdutySpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack: Option<SlackSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<WebhookSpec>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PagerdutySpec {
    /// File holding the Events API v2 routing key.
    pub routing_key_file: String,
    /// The Events API v2 endpoint. Default: Alertmanager's
    /// `https://events.pagerduty.com/v2/enqueue`. For PagerDuty's EU
    /// service region, a proxy, or a local stand-in; it must carry no
    /// secret (no `user:password@`, no query string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^https?://\S+$"))]
    pub url: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SlackSpec {
    /// The channel, e.g. `#payments-alerts`.
    #[schemars(regex(pattern = r"^[#@]?[^\s]+$"))]
    pub channel: String,
    /// File holding this team's Slack webhook URL. Default: the platform's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url_file: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailSpec {
    #[schemars(regex(pattern = r"^[^@\s]+@[^@\s]+$"))]
    pub to: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookSpec {
    /// The endpoint alerts are posted to. It must carry no secret (no
    /// user:password, no query string): put the token in `credentials_file`.
    #[schemars(regex(pattern = r"^https?://\S+$"))]
    pub url: String,
    /// File holding a bearer token sent as `Authorization: Bearer <token>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_file: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkingHoursSpec {
    /// Weekdays, e.g. `monday:friday`. Default `monday:friday`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weekdays: Option<String>,
    /// `HH:MM`, e.g. `09:00`.
    #[schemars(regex(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"))]
    pub start: String,
    /// `HH:MM`, e.g. `17:00`.
    #[schemars(regex(pattern = r"^([01][0-9]|2[0-4]):[0-5][0-9]$"))]
    pub end: String,
    /// IANA time zone, e.g. `Europe/Berlin`. Default `UTC`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}
