//! The normalized model: what every backend reads.
//!
//! Built from validated spec documents by [`build`]: the platform's defaults
//! are applied, each service's environments are resolved against the
//! platform's (in the platform's order), dependencies are linked, and units
//! are plain numbers. Everything is sorted by name, so output order never
//! depends on file-system or hash-map order. Backends must not look at spec
//! types: anything they need that is derived (a dashboard uid, a URL, whether
//! an environment pages) is a method here, so that every backend agrees.

pub mod alerts;
pub mod build;
pub mod fingerprint;
pub mod metrics;
pub mod naming;
pub mod slo;

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

pub use build::build;

use crate::spec::{
    Discovery, Duration, Framework, HttpMethod, IngressKind, KafkaSaslMechanism,
    KafkaSecurityProtocol, Language, LogFormat, LogInputKind, LogOutput, PrometheusOutput,
    Protocol, Rate, Scheme,
};

/// The whole repository, normalized.
#[derive(Debug, Clone)]
pub struct Model {
    pub platform: Platform,
    /// Sorted by name.
    pub services: Vec<Service>,
    /// Each service's position in `services` by name, made on the first
    /// [`Model::service`] lookup: the dashboards look up every dependency
    /// and caller, and a binary search over 10,000 names that share long
    /// prefixes cost a percent of a fresh build.
    service_positions: OnceLock<HashMap<String, usize>>,
}

impl Model {
    pub fn new(platform: Platform, services: Vec<Service>) -> Self {
        Self {
            platform,
            services,
            service_positions: OnceLock::new(),
        }
    }

    /// The service named `name`. A position the index holds is used only
    /// if the service there still has that name (a test may edit the
    /// services); otherwise the sorted list is searched.
    pub fn service(&self, name: &str) -> Option<&Service> {
        let positions = self.service_positions.get_or_init(|| {
            self.services
                .iter()
                .enumerate()
                .map(|(position, service)| (service.name.clone(), position))
                .collect()
        });
        match positions
            .get(name)
            .and_then(|&position| self.services.get(position))
        {
            Some(service) if service.name == name => Some(service),
            _ => self
                .services
                .binary_search_by(|service| service.name.as_str().cmp(name))
                .ok()
                .and_then(|index| self.services.get(index)),
        }
    }
    pub fn team(&self, name: &str) -> Option<&Team> {
        self.platform.teams.iter().find(|team| team.name == name)
    }
}

#[derive(Debug, Clone)]
pub struct Platform {
    pub name: String,
    /// The source file, relative to the root (`obsgen.yaml`).
    pub source: String,
    /// In the order the platform declares them.
    pub environments: Vec<Environment>,
    pub prometheus: Prometheus,
    pub grafana: Grafana,
    pub logging: Logging,
    pub alerting: Alerting,
    /// Whether services get load tests (and warm-ups) unless they say.
    pub loadtest_enabled: bool,
    /// The tracing backend, when the platform configures one.
    pub tracing: Option<Tracing>,
    /// Sorted by name.
    pub teams: Vec<Team>,
}

impl Platform {
    /// Where a service's logs of one environment are written: its data
    /// stream, or with `output: indices` its rollover alias. Kibana's data
    /// view and the team's role name exactly this.
    pub fn log_target(&self, service: &str, env: &str) -> String {
        let es = &self.logging.elasticsearch;
        match es.output {
            LogOutput::DataStreams => naming::log_data_stream(service, env),
            LogOutput::Indices => naming::log_rollover_alias(&es.index_prefix, service, env),
        }
    }

    pub fn environment(&self, name: &str) -> Option<&Environment> {
        self.environments.iter().find(|env| env.name == name)
    }

    /// The URL of a service's dashboard, opened on one environment. Alerts
    /// link here; the Grafana backend publishes the dashboard under the same
    /// uid ([`Service::dashboard_uid`]).
    pub fn dashboard_url(&self, service: &Service, env: &str) -> String {
        format!(
            "{}{}",
            self.grafana.url.trim_end_matches('/'),
            service.dashboard_path(&naming::url_query_escape(env))
        )
    }

    /// The tracing UI's page of a service's traces in one environment:
    /// alerts link here (`traces_url`). `None` when the platform has no
    /// tracing UI or the service does not trace.
    pub fn traces_url(&self, service: &Service, env: &str) -> Option<String> {
        self.traces_link(service, &naming::url_query_escape(env))
    }

    /// The same page with `env` already URL-safe, or a dashboard variable
    /// such as `${env}`: dashboards and the landing page link through here.
    pub fn traces_link(&self, service: &Service, env: &str) -> Option<String> {
        self.traces_url_segments(service)
            .map(|segments| segments.join(env))
    }

    /// The same page cut where the environment goes, for a template that
    /// fills it in later (an alert rule shared by every environment).
    pub fn traces_url_segments(&self, service: &Service) -> Option<Vec<String>> {
        let template = self.tracing.as_ref()?.service_url.as_deref()?;
        service.tracing.enabled.then(|| {
            naming::traces_url_segments(template, &naming::url_query_escape(&service.name))
        })
    }
}

/// Where traces go, and the UI that shows them.
#[derive(Debug, Clone)]
pub struct Tracing {
    pub exporter: TraceExporter,
    /// The backend's URL, as the platform wrote it.
    pub endpoint: String,
    /// Header values hold `${env:NAME}` references, never secrets.
    pub headers: BTreeMap<String, String>,
    /// The share of traces kept when a service names none, 0 to 1.
    pub sample_ratio: f64,
    /// Where services send spans (OTLP/HTTP), `{env}` standing for the
    /// environment.
    pub collector_url: String,
    /// The UI's page of one trace, `{trace_id}` standing for its id.
    pub trace_url: Option<String>,
    /// The UI's page of a service's traces, `{service}` and `{env}`
    /// standing for the names.
    pub service_url: Option<String>,
}

impl Tracing {
    /// Where services of `env` send their spans.
    pub fn collector_endpoint(&self, env: &str) -> String {
        self.collector_url.replace("{env}", env)
    }
}

/// How the collectors export traces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceExporter {
    /// Zipkin's v2 JSON API.
    Zipkin,
    /// OTLP over gRPC.
    OtlpGrpc,
    /// OTLP over HTTP (protobuf).
    OtlpHttp,
}

#[derive(Debug, Clone)]
pub struct Environment {
    pub name: String,
    /// Only production environments page.
    pub production: bool,
    /// The Kubernetes namespace the environment's pods live in.
    pub namespace: String,
    /// `{service}`/`{env}` URL template of services in this environment.
    pub service_url: String,
}

#[derive(Debug, Clone)]
pub struct Prometheus {
    pub discovery: Discovery,
    pub scrape_interval: Duration,
    pub scrape_timeout: Duration,
    pub evaluation_interval: Duration,
    pub output: PrometheusOutput,
    pub shards: u32,
    pub pod_label: String,
    pub external_labels: BTreeMap<String, String>,
    pub alertmanagers: Vec<String>,
    /// Whether the promtool tests are part of the output tree.
    pub commit_tests: bool,
    /// Where alerts go when `alertmanagers` is empty: the platform's
    /// `alertmanager.url`.
    pub alertmanager: Option<AlertmanagerUrl>,
}

/// An Alertmanager URL split the way Prometheus' `alerting:` block wants it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertmanagerUrl {
    pub scheme: String,
    /// `host:port`.
    pub address: String,
    /// `/prefix`, when the URL has a path.
    pub path_prefix: Option<String>,
}

impl AlertmanagerUrl {
    /// Splits `scheme://host:port/path`; `None` when it is not one.
    pub fn parse(url: &str) -> Option<Self> {
        let (scheme, rest) = url.split_once("://")?;
        if scheme != "http" && scheme != "https" {
            return None;
        }
        let (address, path) = match rest.find('/') {
            Some(index) => (&rest[..index], &rest[index..]),
            None => (rest, ""),
        };
        if address.is_empty() {
            return None;
        }
        let path = path.trim_end_matches('/');
        Some(Self {
            scheme: scheme.to_string(),
            address: address.to_string(),
            path_prefix: (!path.is_empty()).then(|| path.to_string()),
        })
    }
}

#[derive(Debug, Clone)]
pub struct Grafana {
    pub url: String,
    pub datasource_uid: String,
    pub folder: String,
    /// What the provisioned Prometheus datasource queries.
    pub prometheus_url: String,
    /// The platform's dashboard library: rows added to service dashboards.
    pub library_rows: Vec<LibraryRow>,
}

/// A row of the platform's dashboard library. `{{service}}` in its panels'
/// `expr`, `title` and `description` stands for the service's name.
#[derive(Debug, Clone)]
pub struct LibraryRow {
    pub title: String,
    /// Empty: every language.
    pub languages: Vec<Language>,
    /// Empty: every framework.
    pub frameworks: Vec<Framework>,
    pub panels: Vec<ExtraPanel>,
}

impl LibraryRow {
    /// Whether the row is for `service`.
    pub fn applies_to(&self, service: &Service) -> bool {
        (self.languages.is_empty() || self.languages.contains(&service.language))
            && (self.frameworks.is_empty() || self.frameworks.contains(&service.framework))
    }
}

/// Where the distributor pipeline's events come from.
#[derive(Debug, Clone)]
pub enum LogInput {
    /// Logstash listens on a port: Beats, TCP (JSON lines) or HTTP.
    Listen { kind: LogInputKind, port: u16 },
    /// Logstash consumes topics from Kafka brokers.
    Kafka(KafkaInput),
}

#[derive(Debug, Clone)]
pub struct KafkaInput {
    pub bootstrap_servers: Vec<String>,
    pub topics: Vec<String>,
    pub group_id: String,
    pub security_protocol: Option<KafkaSecurityProtocol>,
    pub sasl: Option<KafkaSasl>,
}

/// SASL credentials: the password only as an environment variable's name.
#[derive(Debug, Clone)]
pub struct KafkaSasl {
    pub mechanism: KafkaSaslMechanism,
    pub user: String,
    pub password_env: String,
}

#[derive(Debug, Clone)]
pub struct Logging {
    /// Kibana's base URL, without a trailing `/`.
    pub kibana_url: String,
    pub input: LogInput,
    /// `http://elasticsearch:9200` without credentials when the platform
    /// names none.
    pub elasticsearch: Elasticsearch,
    /// Grok patterns the platform defines, by name.
    pub grok_patterns: BTreeMap<String, String>,
    /// The platform's replacements of obsgen's Logstash templates, by file
    /// name (`service.conf.j2`).
    pub templates: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct Elasticsearch {
    pub hosts: Vec<String>,
    pub user: Option<String>,
    /// The *name* of the environment variable holding the password.
    pub password_env: Option<String>,
    /// The *name* of the environment variable holding an API key.
    pub api_key_env: Option<String>,
    /// The prefix of rollover aliases with `output: indices`.
    pub index_prefix: String,
    pub output: LogOutput,
}

#[derive(Debug, Clone)]
pub struct Alerting {
    pub group_wait: Duration,
    pub group_interval: Duration,
    pub repeat_interval: Duration,
    pub resolve_timeout: Duration,
    pub slack_api_url_file: Option<String>,
    pub smtp: Option<Smtp>,
    /// Receivers of alerts that match no team.
    pub fallback: Receivers,
}

#[derive(Debug, Clone)]
pub struct Smtp {
    pub smarthost: String,
    pub from: String,
    pub auth_username: Option<String>,
    pub auth_password_file: Option<String>,
    pub require_tls: bool,
}

#[derive(Debug, Clone)]
pub struct Team {
    pub name: String,
    /// The SSO group mapped to the team's Elasticsearch and Kibana roles.
    pub sso_group: String,
    pub receivers: Receivers,
    pub group_wait: Duration,
    pub group_interval: Duration,
    pub repeat_interval: Duration,
    pub working_hours: Option<WorkingHours>,
}

/// Where a team's (or the fallback's) alerts go. Secrets are only ever file
/// paths here, never values.
#[derive(Debug, Clone, Default)]
pub struct Receivers {
    pub pagerduty: Option<Pagerduty>,
    pub slack: Option<Slack>,
    pub email: Option<Email>,
    pub webhook: Option<Webhook>,
}

impl Receivers {
    pub fn is_empty(&self) -> bool {
        self.pagerduty.is_none()
            && self.slack.is_none()
            && self.email.is_none()
            && self.webhook.is_none()
    }
}

#[derive(Debug, Clone)]
pub struct Pagerduty {
    pub routing_key_file: String,
    /// The Events API endpoint, when not PagerDuty's default.
    pub url: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Slack {
    pub channel: String,
    /// The team's own webhook file, or the platform's.
    pub api_url_file: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Email {
    pub to: String,
}

#[derive(Debug, Clone)]
pub struct Webhook {
    /// Carries no secret (validation refuses credentials in it).
    pub url: String,
    /// File holding the bearer token, if the endpoint needs one.
    pub credentials_file: Option<String>,
}

#[derive(Debug, Clone)]
pub struct WorkingHours {
    pub weekdays: String,
    pub start: String,
    pub end: String,
    pub location: String,
}

/// One service, with every default applied.
#[derive(Debug, Clone)]
pub struct Service {
    pub name: String,
    pub team: String,
    pub description: Option<String>,
    /// `metadata.labels`: copied onto every series, alert and log event.
    pub labels: BTreeMap<String, String>,
    /// The manifest, relative to the root, with `/` separators.
    pub source: String,
    pub language: Language,
    pub framework: Framework,
    /// The environments the service runs in, in the platform's order.
    pub environments: Vec<ServiceEnvironment>,
    pub metrics: Metrics,
    pub ingress: Option<Ingress>,
    pub dependencies: Vec<Dependency>,
    pub slos: Vec<Slo>,
    pub alerts: Alerts,
    pub logs: Logs,
    pub loadtest: Loadtest,
    pub dashboards: Dashboards,
    pub tracing: ServiceTracing,
}

/// A service's tracing, defaults applied.
#[derive(Debug, Clone)]
pub struct ServiceTracing {
    /// False when the platform has no tracing or the service turned it off.
    pub enabled: bool,
    /// The share of its traces the collector keeps, 0 to 1.
    pub sample_ratio: f64,
    /// Traces at least this slow are always kept: the lowest threshold of
    /// the service's latency SLOs.
    pub slow_threshold: Option<Duration>,
    /// Span attributes the service promises to record.
    pub attributes: Vec<String>,
}

impl ServiceTracing {
    /// The sample ratio in percent, without float noise (`0.1 * 100` is
    /// `10.000000000000002`): the collector's policy and the dashboard
    /// both say this figure.
    pub fn sample_percentage(&self) -> f64 {
        (self.sample_ratio.clamp(0.0, 1.0) * 100.0 * 1e6).round() / 1e6
    }
}

impl Service {
    /// The service's Grafana dashboard uid: at most 40 characters of
    /// `[a-zA-Z0-9_-]`, stable for a given service name.
    pub fn dashboard_uid(&self) -> String {
        naming::dashboard_uid(&self.name)
    }

    /// The path of the service's dashboard under Grafana's root, opened on
    /// `env` (already URL-safe, or a dashboard variable such as `${env}`).
    /// Alerts ([`Platform::dashboard_url`]), dashboard links and the landing
    /// page all link through here.
    pub fn dashboard_path(&self, env: &str) -> String {
        let uid = self.dashboard_uid();
        let mut path =
            String::with_capacity(uid.len() + self.name.len() + env.len() + "/d//?var-env=".len());
        for part in ["/d/", &uid, "/", &self.name, "?var-env=", env] {
            path.push_str(part);
        }
        path
    }

    /// The language as manifests spell it (`go`, `jvm`, ...).
    pub fn language_name(&self) -> String {
        spelling(self.language)
    }

    /// The framework as manifests spell it (`grpc`, `spring-boot`, ...).
    pub fn framework_name(&self) -> String {
        spelling(self.framework)
    }

    /// Whether alerts of this service page in `env`: only when the service
    /// opted in *and* the environment is a production one.
    pub fn pages_in(&self, env: &ServiceEnvironment) -> bool {
        self.alerts.page && env.production
    }
}

/// How a spec enum is spelt in manifests (its serde name).
fn spelling(value: impl serde::Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// A service in one environment.
#[derive(Debug, Clone)]
pub struct ServiceEnvironment {
    pub name: String,
    pub production: bool,
    pub namespace: String,
    /// The service's base URL there (`http://checkout.production.svc:8080`).
    pub url: String,
    /// `host:port` scrape targets, for static discovery.
    pub targets: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Metrics {
    pub port: u16,
    pub path: String,
    pub scheme: Scheme,
    pub discovery: Discovery,
    pub scrape_interval: Duration,
}

#[derive(Debug, Clone)]
pub struct Ingress {
    pub kind: IngressKind,
    /// The proxy's name for the service.
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct Dependency {
    pub name: String,
    /// True when the dependency is another service of the repository.
    pub internal: bool,
    pub protocol: Protocol,
}

#[derive(Debug, Clone)]
pub struct Slo {
    pub name: String,
    /// In percent, e.g. `99.9`.
    pub objective: f64,
    pub window: Duration,
    pub description: Option<String>,
    pub indicator: Indicator,
}

impl Slo {
    /// The error budget as a ratio: `1 - objective / 100`.
    pub fn error_budget(&self) -> f64 {
        // Round away the float noise of `1 - 0.999` so outputs read `0.001`.
        let budget = 1.0 - self.objective / 100.0;
        (budget * 1e12).round() / 1e12
    }
}

#[derive(Debug, Clone)]
pub enum Indicator {
    Availability,
    Latency {
        threshold: Duration,
    },
    /// PromQL with `{{window}}` placeholders for the range.
    Ratio {
        errors: String,
        total: String,
    },
}

#[derive(Debug, Clone)]
pub struct Alerts {
    pub page: bool,
    /// As a ratio, e.g. `0.03`.
    pub proxy_error_ratio: f64,
    /// Requests per second through the proxy below which its error ratio
    /// is not alerted on.
    pub proxy_min_rps: f64,
    pub unavailable_for: Duration,
    pub runbook_url: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Logs {
    pub format: LogFormat,
    pub pattern: Option<String>,
    pub retention: Duration,
    /// The parsed field holding the event's time.
    pub timestamp_field: String,
    /// Its formats, for Logstash's `date` filter (tried in order).
    pub timestamp_formats: Vec<String>,
}

impl Logs {
    /// Where each format's parser leaves the event's time.
    pub fn default_timestamp_field(format: LogFormat) -> &'static str {
        match format {
            LogFormat::Logfmt => "ts",
            _ => "timestamp",
        }
    }

    /// How each format writes the time.
    pub fn default_timestamp_formats(format: LogFormat) -> &'static [&'static str] {
        match format {
            LogFormat::Nginx | LogFormat::Apache => &["dd/MMM/yyyy:HH:mm:ss Z"],
            LogFormat::Syslog => &["MMM  d HH:mm:ss", "MMM dd HH:mm:ss", "ISO8601"],
            _ => &["ISO8601"],
        }
    }

    /// The dataset of the service's events: `<service>.<format>`
    /// (ECS `event.dataset`).
    pub fn dataset(&self, service: &str) -> String {
        format!("{service}.{}", spelling(self.format))
    }
}

/// Additions to the service's dashboard.
#[derive(Debug, Clone, Default)]
pub struct Dashboards {
    pub extra_panels: Vec<ExtraPanel>,
}

#[derive(Debug, Clone)]
pub struct ExtraPanel {
    pub title: String,
    pub description: String,
    pub unit: String,
    pub expr: String,
    pub legend: String,
}

/// A service's load test. Empty `environments`: none is generated.
#[derive(Debug, Clone)]
pub struct Loadtest {
    pub protocol: Protocol,
    /// The environments a load test may run in, in the platform's order:
    /// the non-production ones unless the manifest names its own; none when
    /// load tests are turned off.
    pub environments: Vec<String>,
    /// The URL template requests go to, when the manifest sets one
    /// (`{service}`/`{env}` placeholders); else the environment's URL.
    pub base_url: Option<String>,
    /// The manifest's scenarios, or the warm-up scenario.
    pub scenarios: Vec<Scenario>,
}

#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub rate: Rate,
    pub duration: Duration,
    /// Ramp steps after `rate` (a `ramping-arrival-rate` executor).
    pub stages: Vec<Stage>,
    pub requests: Vec<Request>,
    /// The default scenario of a service that declares none: its requests
    /// only need an answer (a 4xx still warms the graphs), and for gRPC it
    /// lists the server's services through reflection.
    pub warmup: bool,
}

#[derive(Debug, Clone)]
pub struct Stage {
    pub target: Rate,
    pub duration: Duration,
}

#[derive(Debug, Clone)]
pub struct Request {
    pub method: HttpMethod,
    pub path: String,
    pub body: Option<String>,
    pub headers: BTreeMap<String, String>,
    pub expect_body: Option<String>,
}
