//! Recording and alerting rules, one rule file per service and environment
//! (`prometheus/<env>/rules/<service>.yml`).
//!
//! What a service gets, in this order of groups (each at most
//! [`MAX_RULES_PER_GROUP`] rules, the Mimir/Thanos ruler limit):
//!
//! 1. `<service>-requests`: request rate, error ratio and latency
//!    p50/p90/p99 over 5 minutes, by `job, env` and, when the framework has
//!    a route label, by route too (`job_env:requests:rate5m`,
//!    `job_env_route:request_errors:ratio_rate5m`, ...), from the
//!    framework's metrics in [`crate::model::metrics`].
//! 2. `<service>-alerts`: [`alerts::SERVICE_UNAVAILABLE`] and, with an
//!    ingress, [`alerts::PROXY_ERRORS`].
//! 3. Per SLO, Sloth-compatible `slo:*` recordings (the SLI error ratio over
//!    every burn-rate window and over the SLO window; objective, error
//!    budget, burn rates, remaining budget) and four
//!    [`alerts::ERROR_BUDGET_BURN`] alerts, one per burn-rate tier and speed.
//!
//! Alongside the rules, [`service_rules`] describes every alert it emitted
//! ([`EmittedAlert`]) so that [`super::promtool_cases`] can generate promtool
//! tests that expect exactly these labels and annotations.

use std::collections::BTreeMap;

use serde::{Serialize, Serializer};

use super::promql::{
    push_quoted, push_template_literal, quote, regex_literal, template_literal_owned,
};
use crate::model::alerts;
use crate::model::metrics::{self, RequestMetrics};
use crate::model::slo::{BurnWindow, Tier, burn_windows, sli_windows};
use crate::model::{Indicator, Ingress, Model, Service, ServiceEnvironment, Slo};
use crate::spec::units::format_number;
use crate::spec::{Duration, IngressKind};
use crate::validate::promql::render as render_window;

/// Mimir and Thanos rulers evaluate a group sequentially on one core; they
/// recommend (and some deployments enforce) small groups.
pub const MAX_RULES_PER_GROUP: usize = 20;

/// The window of the request recordings and of the reverse-proxy alert.
pub const RATE_WINDOW: Duration = Duration::from_mins(5);

/// How long an SLO's indicator may be missing while the service is up
/// before [`alerts::SLO_INDICATOR_MISSING`] fires: longer than a deploy or
/// a first request takes.
pub const INDICATOR_MISSING_FOR: Duration = Duration::from_mins(30);

/// How long the reverse-proxy error ratio must stay above its threshold.
pub const PROXY_ERRORS_FOR: Duration = Duration::from_mins(2);

/// The `sloth_mode` of `sloth_slo_info`: where the SLO recordings came from.
pub const SLOTH_MODE: &str = "obsgen";

/// A Prometheus rule file.
#[derive(Debug, Clone, Serialize)]
pub struct RuleFile {
    pub groups: Vec<Group>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Group {
    pub name: String,
    pub rules: Vec<Rule>,
}

/// A recording or alerting rule.
#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert: Option<String>,
    pub expr: Expr,
    #[serde(rename = "for", skip_serializing_if = "Option::is_none")]
    pub hold: Option<Duration>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Annotations>,
}

/// A PromQL expression, written as a YAML block literal so that long
/// expressions are never folded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expr(pub String);

impl Serialize for Expr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serde_saphyr::LitStr(&self.0).serialize(serializer)
    }
}

/// An alert's annotations, in the order people read them. The same type
/// holds the templates (in a rule) and their expansion (in a test).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Annotations {
    pub summary: String,
    pub description: String,
    pub dashboard_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traces_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runbook_url: Option<String>,
}

/// The template action printing the alert's value as a percentage.
const VALUE_PERCENT: &str = "{{ $value | humanizePercentage }}";
/// The template action printing the server's environment.
const EXTERNAL_ENV: &str = "{{ $externalLabels.env }}";
/// What goes around a label's name in the action printing its value.
const LABEL_OPEN: &str = "{{ $labels.";
const LABEL_CLOSE: &str = " }}";

/// A piece of an alert template.
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    /// Literal text (escaped on the way into the template).
    Text(String),
    /// The alert's value as a percentage (`humanizePercentage`).
    ValuePercent,
    /// A label of the expression's result.
    Label(&'static str),
    /// The environment's name from the server's `external_labels` (set by
    /// every per-environment `prometheus.yml`): present even when the
    /// expression's result has no `env` (`absent(...)`).
    ExternalEnv,
}

/// An alert annotation, kept as pieces so that the rule (a Go template) and
/// the test's expectation (its expansion) come from one definition.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Template(Vec<Piece>);

impl Template {
    fn text(mut self, text: impl Into<String>) -> Self {
        self.0.push(Piece::Text(text.into()));
        self
    }
    fn value_percent(mut self) -> Self {
        self.0.push(Piece::ValuePercent);
        self
    }
    fn label(mut self, name: &'static str) -> Self {
        self.0.push(Piece::Label(name));
        self
    }
    /// The environment's name: literal in one environment's file, from the
    /// external labels in a shared one.
    fn env(mut self, scope: RuleScope<'_>) -> Self {
        self.0.push(match scope {
            RuleScope::Shared => Piece::ExternalEnv,
            RuleScope::Environment(env) => Piece::Text(env.name.clone()),
        });
        self
    }

    /// The Prometheus template.
    pub fn source(&self) -> String {
        let mut source = String::with_capacity(self.source_len());
        for piece in &self.0 {
            match piece {
                Piece::Text(text) => push_template_literal(&mut source, text),
                Piece::ValuePercent => source.push_str(VALUE_PERCENT),
                Piece::Label(name) => {
                    source.push_str(LABEL_OPEN);
                    source.push_str(name);
                    source.push_str(LABEL_CLOSE);
                }
                Piece::ExternalEnv => source.push_str(EXTERNAL_ENV),
            }
        }
        source
    }

    /// The length of [`Template::source`] when no text holds `{{`.
    fn source_len(&self) -> usize {
        self.0
            .iter()
            .map(|piece| match piece {
                Piece::Text(text) => text.len(),
                Piece::ValuePercent => VALUE_PERCENT.len(),
                Piece::Label(name) => LABEL_OPEN.len() + name.len() + LABEL_CLOSE.len(),
                Piece::ExternalEnv => EXTERNAL_ENV.len(),
            })
            .sum()
    }

    /// What Prometheus expands the template to, on the server of `env`.
    pub fn expand(&self, value: f64, labels: &BTreeMap<String, String>, env: &str) -> String {
        self.0
            .iter()
            .map(|piece| match piece {
                Piece::Text(text) => text.clone(),
                Piece::ValuePercent => format!("{}%", go_g4(value * 100.0)),
                Piece::Label(name) => labels.get(*name).cloned().unwrap_or_default(),
                Piece::ExternalEnv => env.to_string(),
            })
            .collect()
    }
}

/// Go's `%.4g` for the moderate values alerts print (humanizePercentage).
fn go_g4(value: f64) -> String {
    format_number(round_significant(value, 4))
}

/// Rounds to `digits` significant digits.
pub(crate) fn round_significant(value: f64, digits: i32) -> f64 {
    if value == 0.0 || !value.is_finite() {
        return value;
    }
    let magnitude = value.abs().log10().floor() as i32;
    let scale = 10f64.powi(digits - 1 - magnitude);
    (value * scale).round() / scale
}

/// Removes float noise (`0.9990000000000001` → `0.999`).
pub(crate) fn tidy(value: f64) -> f64 {
    (value * 1e12).round() / 1e12
}

/// A number as PromQL and YAML read it.
pub(crate) fn number(value: f64) -> String {
    format_number(tidy(value))
}

/// What kind of alert, with the parameters its tests need.
#[derive(Debug, Clone)]
pub enum AlertKind {
    /// Every target down, or none at all.
    Unavailable,
    /// Too many 5xx through the ingress.
    ProxyErrors {
        ingress: Ingress,
        threshold: f64,
        min_rps: f64,
    },
    /// The service is up but an SLO's indicator has no series.
    IndicatorMissing { slo: Slo },
    /// An SLO's error budget burns faster than `window.factor`.
    Burn {
        slo: Slo,
        window: BurnWindow,
        threshold: f64,
    },
}

/// An alert as emitted, described for test generation.
#[derive(Debug, Clone)]
pub struct EmittedAlert {
    pub name: &'static str,
    pub kind: AlertKind,
    pub expr: String,
    pub hold: Duration,
    /// The rule's static labels, as the alert carries them (unescaped).
    pub labels: BTreeMap<String, String>,
    /// The labels the expression itself yields.
    pub output_labels: BTreeMap<String, String>,
    pub summary: Template,
    pub description: Template,
    pub dashboard_url: Template,
    /// The tracing UI's page of the service's traces there, if any.
    pub traces_url: Option<Template>,
    pub runbook_url: Option<String>,
    /// The environment the rule is written for, when its file is that
    /// environment's own; `None` in a shared file.
    pub env: Option<String>,
}

impl EmittedAlert {
    /// The alerting rule.
    pub fn rule(&self) -> Rule {
        self.clone().into_rule()
    }

    /// The alerting rule, made of the alert's own strings (a rule file
    /// needs nothing else of it).
    pub fn into_rule(mut self) -> Rule {
        // The values are escaped in place: the map keeps its nodes.
        for value in self.labels.values_mut() {
            *value = template_literal_owned(std::mem::take(value));
        }
        Rule {
            record: None,
            alert: Some(self.name.to_string()),
            expr: Expr(self.expr),
            hold: Some(self.hold),
            labels: self.labels,
            annotations: Some(Annotations {
                summary: self.summary.source(),
                description: self.description.source(),
                dashboard_url: self.dashboard_url.source(),
                traces_url: self.traces_url.as_ref().map(Template::source),
                runbook_url: self.runbook_url.map(template_literal_owned),
            }),
        }
    }

    /// Every label of the firing alert (without `alertname`).
    pub fn expected_labels(&self) -> BTreeMap<String, String> {
        let mut labels = self.output_labels.clone();
        labels.extend(self.labels.clone());
        labels
    }

    /// The annotations of the firing alert whose value is `value`, on the
    /// server of `env`.
    pub fn expected_annotations(&self, value: f64, env: &str) -> Annotations {
        let labels = self.output_labels.clone();
        Annotations {
            summary: self.summary.expand(value, &labels, env),
            description: self.description.expand(value, &labels, env),
            dashboard_url: self.dashboard_url.expand(value, &labels, env),
            traces_url: self
                .traces_url
                .as_ref()
                .map(|url| url.expand(value, &labels, env)),
            runbook_url: self.runbook_url.clone(),
        }
    }
}

/// A service's rules in one environment.
#[derive(Debug, Clone)]
pub struct ServiceRules {
    pub file: RuleFile,
    pub alerts: Vec<EmittedAlert>,
}

/// Where a rule file is evaluated, which decides how it names the
/// environment.
#[derive(Debug, Clone, Copy)]
pub enum RuleScope<'a> {
    /// One file loaded by the Prometheus of every environment the service
    /// runs in (each server scrapes one environment): selectors carry no
    /// `env` matcher, results take `env` from the series, and annotations
    /// from the server's `external_labels` (which also label, on the way
    /// to Alertmanager, an alert whose expression has no `env`, such as
    /// `absent(...)`). `severity: page` then means "pages in production":
    /// Alertmanager's routes send it to PagerDuty only from production
    /// environments.
    Shared,
    /// One environment's own file: a literal `env` everywhere. Used for
    /// Prometheus Operator objects (namespaced per environment) and for the
    /// few rules whose selectors differ per environment.
    Environment(&'a ServiceEnvironment),
}

impl RuleScope<'_> {
    /// Whether the service's alerts page from this file.
    fn pages(self, service: &Service) -> bool {
        match self {
            RuleScope::Shared => {
                service.alerts.page && service.environments.iter().any(|env| env.production)
            }
            RuleScope::Environment(env) => service.pages_in(env),
        }
    }

    /// The environment's name in one environment's file.
    fn env_name(self) -> Option<String> {
        match self {
            RuleScope::Shared => None,
            RuleScope::Environment(env) => Some(env.name.clone()),
        }
    }

    /// Adds the static `env` label of an environment's file.
    fn insert_env(self, labels: &mut BTreeMap<String, String>) {
        if let RuleScope::Environment(env) = self {
            labels.insert("env".to_string(), env.name.clone());
        }
    }
}

/// The path of a service's rule file, shared by every environment.
pub fn rule_path(service: &str) -> String {
    format!("prometheus/rules/{service}.yml")
}

/// The path of the rules of a service that differ in `env` (see
/// [`environment_rules`]).
pub fn environment_rule_path(env: &str, service: &str) -> String {
    format!("prometheus/{env}/rules/{service}.yml")
}

/// Whether an ingress' alert must be written per environment: ingress-nginx
/// splits a controller shared by environments by each one's namespace, so
/// its selector differs per environment.
fn per_environment(ingress: &Ingress) -> bool {
    ingress.kind == IngressKind::Nginx
}

/// Whether `service` has rules written per environment.
pub fn has_environment_rules(service: &Service) -> bool {
    service.ingress.as_ref().is_some_and(per_environment)
}

/// The rules of `service` that differ in `env`, for a shared rule file's
/// companion: today only the ingress-nginx alert. `None` when there are none.
pub fn environment_rules(
    model: &Model,
    service: &Service,
    env: &ServiceEnvironment,
) -> Option<ServiceRules> {
    let ingress = service.ingress.as_ref().filter(|i| per_environment(i))?;
    let scope = RuleScope::Environment(env);
    let alert = proxy_errors(
        &AlertLinks::new(model, service, scope),
        service,
        scope,
        ingress,
    );
    Some(ServiceRules {
        file: RuleFile {
            groups: vec![Group {
                name: format!("{}-{}-alerts", service.name, env.name),
                rules: vec![alert.rule()],
            }],
        },
        alerts: vec![alert],
    })
}

/// Builds the rules of `service` for `scope`, and the alerts they hold. A
/// shared file leaves out what [`environment_rules`] writes per environment.
pub fn service_rules(model: &Model, service: &Service, scope: RuleScope<'_>) -> ServiceRules {
    build_rules(model, service, scope, true)
}

/// The rule file of [`service_rules`] alone, built without copying the
/// alerts' strings into its rules.
pub fn service_rule_file(model: &Model, service: &Service, scope: RuleScope<'_>) -> RuleFile {
    build_rules(model, service, scope, false).file
}

/// The rules of `alerts`; the alerts are kept in `kept` when it is given
/// (tests need them), and otherwise taken apart into their rules.
fn alert_rules(alerts: Vec<EmittedAlert>, kept: Option<&mut Vec<EmittedAlert>>) -> Vec<Rule> {
    match kept {
        Some(kept) => {
            let rules = alerts.iter().map(EmittedAlert::rule).collect();
            kept.extend(alerts);
            rules
        }
        None => alerts.into_iter().map(EmittedAlert::into_rule).collect(),
    }
}

fn build_rules(
    model: &Model,
    service: &Service,
    scope: RuleScope<'_>,
    keep_alerts: bool,
) -> ServiceRules {
    let mut kept = keep_alerts.then(Vec::new);
    let request = metrics::for_framework(service.framework).server;
    let mut groups = Vec::new();
    let mut requests = request_recordings(service, scope, &request);
    requests.push(service_info(service, scope));
    push_group(&mut groups, format!("{}-requests", service.name), requests);

    let links = AlertLinks::new(model, service, scope);
    let mut first = vec![unavailable(&links, service, scope)];
    if let Some(ingress) = &service.ingress
        && !(matches!(scope, RuleScope::Shared) && per_environment(ingress))
    {
        first.push(proxy_errors(&links, service, scope, ingress));
    }
    push_group(
        &mut groups,
        format!("{}-alerts", service.name),
        alert_rules(first, kept.as_mut()),
    );

    for slo in &service.slos {
        let prefix = format!("{}-slo-{}", service.name, slo.name);
        push_group(
            &mut groups,
            format!("{prefix}-sli"),
            sli_recordings(service, scope, slo, &request),
        );
        push_group(
            &mut groups,
            format!("{prefix}-meta"),
            meta_recordings(service, scope, slo),
        );
        let shared = BurnShared::new(&links, service, scope, slo);
        let mut burns: Vec<EmittedAlert> = burn_windows(slo.window)
            .iter()
            .map(|window| burn_alert(service, scope, slo, window, &shared))
            .collect();
        // A custom `total` that yields a value with no series at all (`or
        // vector(1)`) is never missing: its alert could never fire.
        let never_missing = match &slo.indicator {
            Indicator::Ratio { total, .. } => {
                super::promql::always_yields(&render_window(total, &RATE_WINDOW.to_string()))
            }
            _ => false,
        };
        if !never_missing {
            burns.push(indicator_missing(&links, service, scope, slo, &request));
        }
        push_group(
            &mut groups,
            format!("{prefix}-alerts"),
            alert_rules(burns, kept.as_mut()),
        );
    }
    ServiceRules {
        file: RuleFile { groups },
        alerts: kept.unwrap_or_default(),
    }
}

/// The name of the info recording: one constant series per service and
/// environment, whose labels say what the service is. Grafana's landing
/// page lists services from it (so it needs no file per service).
pub const SERVICE_INFO: &str = "obsgen_service_info";

/// `obsgen_service_info{service, env, team, language, framework, dashboard, <labels>} 1`.
/// A shared file takes `env` from the service's `up` series, so the series
/// exists where the service has targets.
fn service_info(service: &Service, scope: RuleScope<'_>) -> Rule {
    let mut labels = service.labels.clone();
    scope.insert_env(&mut labels);
    for (key, value) in [
        ("job", service.name.clone()),
        ("service", service.name.clone()),
        ("team", service.team.clone()),
        ("language", service.language_name()),
        ("framework", service.framework_name()),
        ("dashboard", service.dashboard_uid()),
    ] {
        labels.insert(key.to_string(), value);
    }
    let expr = match scope {
        RuleScope::Shared => format!(
            "group by (env) (up{})",
            service_selector(service, scope, &[])
        ),
        RuleScope::Environment(_) => "vector(1)".to_string(),
    };
    record(SERVICE_INFO, expr, labels)
}

/// Adds `rules` as one group, or as several numbered ones when they exceed
/// [`MAX_RULES_PER_GROUP`].
fn push_group(groups: &mut Vec<Group>, name: String, rules: Vec<Rule>) {
    if rules.len() <= MAX_RULES_PER_GROUP {
        groups.push(Group { name, rules });
        return;
    }
    for (index, chunk) in rules.chunks(MAX_RULES_PER_GROUP).enumerate() {
        groups.push(Group {
            name: format!("{name}-{}", index + 1),
            rules: chunk.to_vec(),
        });
    }
}

fn record(name: impl Into<String>, expr: String, labels: BTreeMap<String, String>) -> Rule {
    Rule {
        record: Some(name.into()),
        alert: None,
        expr: Expr(expr),
        hold: None,
        labels,
        annotations: None,
    }
}

/// `{job="checkout"}` (and `env="production"` in one environment's file)
/// plus extra matchers (already rendered).
fn service_selector(service: &Service, scope: RuleScope<'_>, extra: &[String]) -> String {
    let extra_length: usize = extra.iter().map(|matcher| matcher.len() + 1).sum();
    let mut selector = String::with_capacity(service.name.len() + extra_length + 32);
    selector.push_str("{job=");
    push_quoted(&mut selector, &service.name);
    if let RuleScope::Environment(env) = scope {
        selector.push_str(",env=");
        push_quoted(&mut selector, &env.name);
    }
    for matcher in extra {
        selector.push(',');
        selector.push_str(matcher);
    }
    selector.push('}');
    selector
}

/// The matchers latency reads (`grpc_type="unary"`: streams last as long
/// as they are open and are not requests to time).
fn latency_matchers(metrics: &RequestMetrics) -> Vec<String> {
    metrics
        .latency_matchers
        .iter()
        .map(|(name, value)| format!("{name}={}", quote(value)))
        .collect()
}

/// The matcher selecting failed requests.
fn error_matcher(metrics: &RequestMetrics) -> String {
    format!("{}=~{}", metrics.errors.label, quote(metrics.errors.regex))
}

/// The matcher selecting the latency bucket at `threshold`, whichever way
/// the client library writes the boundary.
pub(crate) fn le_matcher(threshold: Duration) -> String {
    let values = metrics::le_values(threshold.as_secs_f64());
    if let [only] = values.as_slice() {
        format!("le={}", quote(only))
    } else {
        let alternatives: Vec<String> = values.iter().map(|v| regex_literal(v)).collect();
        format!("le=~{}", quote(&alternatives.join("|")))
    }
}

fn request_recordings(
    service: &Service,
    scope: RuleScope<'_>,
    metrics: &RequestMetrics,
) -> Vec<Rule> {
    let all = service_selector(service, scope, &[]);
    let timed = service_selector(service, scope, &latency_matchers(metrics));
    let errors = service_selector(service, scope, &[error_matcher(metrics)]);
    let mut levels = vec![("job_env", vec!["job", "env"])];
    if !metrics.route_labels.is_empty() {
        let mut by = vec!["job", "env"];
        by.extend(metrics.route_labels.iter().copied());
        levels.push(("job_env_route", by));
    }
    let window = RATE_WINDOW.to_string();
    let bucket = metrics.duration_bucket();
    let mut rules = Vec::new();
    for (level, by) in levels {
        let by_list = by.join(", ");
        let rate = |selector: &str| {
            concat(&[
                "sum by (",
                &by_list,
                ") (rate(",
                metrics.requests,
                selector,
                "[",
                &window,
                "]))",
            ])
        };
        let all_rate = rate(&all);
        // `or 0 * total`: no 5xx series yet means a ratio of 0, not no data.
        let error_ratio = concat(&[
            "(\n  ",
            &rate(&errors),
            "\n  or\n  0 * ",
            &all_rate,
            "\n)\n/\n",
            &all_rate,
        ]);
        rules.push(record(
            concat(&[level, ":requests:rate", &window]),
            all_rate,
            BTreeMap::new(),
        ));
        rules.push(record(
            concat(&[level, ":request_errors:ratio_rate", &window]),
            error_ratio,
            BTreeMap::new(),
        ));
        for (name, quantile) in [("p50", "0.5"), ("p90", "0.9"), ("p99", "0.99")] {
            rules.push(record(
                concat(&[level, ":request_duration_seconds:", name, "_rate", &window]),
                concat(&[
                    "histogram_quantile(",
                    quantile,
                    ", sum by (",
                    &by_list,
                    ", le) (rate(",
                    &bucket,
                    &timed,
                    "[",
                    &window,
                    "])))",
                ]),
                BTreeMap::new(),
            ));
        }
    }
    rules
}

/// `pieces` joined into one string sized once: what `format!` gives for
/// plain text, without its machinery (names and expressions are built for
/// every rule of every service).
fn concat(pieces: &[&str]) -> String {
    let mut text = String::with_capacity(pieces.iter().map(|piece| piece.len()).sum());
    push_all(&mut text, pieces);
    text
}

/// [`concat`] at the end of `out`.
fn push_all(out: &mut String, pieces: &[&str]) {
    for piece in pieces {
        out.push_str(piece);
    }
}

/// The static labels every alert of the service carries.
fn base_alert_labels(
    service: &Service,
    scope: RuleScope<'_>,
    pages: bool,
) -> BTreeMap<String, String> {
    let mut labels = service.labels.clone();
    scope.insert_env(&mut labels);
    labels.insert("service".to_string(), service.name.clone());
    labels.insert("team".to_string(), service.team.clone());
    labels.insert(
        alerts::SEVERITY.to_string(),
        if pages {
            alerts::SEVERITY_PAGE
        } else {
            alerts::SEVERITY_TICKET
        }
        .to_string(),
    );
    labels
}

/// The labels `max by (job, env) (up{...})` yields: `job`, and `env` when
/// the selector names it (a shared file's series carry it too, but tests
/// state it from their inputs).
fn job_env_labels(service: &Service, scope: RuleScope<'_>) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::from([("job".to_string(), service.name.clone())]);
    scope.insert_env(&mut labels);
    labels
}

/// The service's dashboard in the alert's environment.
fn dashboard_url(model: &Model, service: &Service, scope: RuleScope<'_>) -> Template {
    match scope {
        RuleScope::Shared => Template::default()
            .text(model.platform.dashboard_url(service, ""))
            .env(scope),
        RuleScope::Environment(env) => {
            Template::default().text(model.platform.dashboard_url(service, &env.name))
        }
    }
}

/// The link to the service's traces in the alert's environment: the
/// tracing UI's template, with the environment from the server's external
/// labels in a shared file (`docs/tracing.md`).
fn traces_url(model: &Model, service: &Service, scope: RuleScope<'_>) -> Option<Template> {
    match scope {
        RuleScope::Shared => {
            let segments = model.platform.traces_url_segments(service)?;
            let mut template = Template::default();
            for (index, segment) in segments.into_iter().enumerate() {
                if index > 0 {
                    template = template.env(scope);
                }
                template = template.text(segment);
            }
            Some(template)
        }
        RuleScope::Environment(env) => model
            .platform
            .traces_url(service, &env.name)
            .map(|url| Template::default().text(url)),
    }
}

/// The links every alert of a service carries in one scope (its dashboard,
/// its traces), made once per rule file.
struct AlertLinks {
    dashboard_url: Template,
    traces_url: Option<Template>,
}

impl AlertLinks {
    fn new(model: &Model, service: &Service, scope: RuleScope<'_>) -> Self {
        Self {
            dashboard_url: dashboard_url(model, service, scope),
            traces_url: traces_url(model, service, scope),
        }
    }
}

fn unavailable(links: &AlertLinks, service: &Service, scope: RuleScope<'_>) -> EmittedAlert {
    let selector = service_selector(service, scope, &[]);
    let hold = service.alerts.unavailable_for;
    EmittedAlert {
        name: alerts::SERVICE_UNAVAILABLE,
        kind: AlertKind::Unavailable,
        expr: format!("max by (job, env) (up{selector}) == 0\nor\nabsent(up{selector})"),
        hold,
        labels: base_alert_labels(service, scope, scope.pages(service)),
        output_labels: job_env_labels(service, scope),
        summary: Template::default()
            .text(format!("{} is unavailable in ", service.name))
            .env(scope)
            .text("."),
        description: Template::default()
            .text("Every target of job ")
            .label("job")
            .text(" in ")
            .env(scope)
            .text(format!(
                " has been down, or no target has been found, for {hold}."
            )),
        dashboard_url: links.dashboard_url.clone(),
        traces_url: links.traces_url.clone(),
        runbook_url: service.alerts.runbook_url.clone(),
        env: scope.env_name(),
    }
}

/// The proxy's request counter, the matcher of one proxied service and the
/// matcher of its 5xx answers.
pub(crate) fn proxy_metrics(ingress: &Ingress) -> (&'static str, String, String) {
    match ingress.kind {
        IngressKind::Nginx => (
            "nginx_ingress_controller_requests",
            format!("ingress={}", quote(&ingress.name)),
            format!("status=~{}", quote("5..")),
        ),
        IngressKind::Envoy => (
            "envoy_cluster_upstream_rq_xx",
            format!("envoy_cluster_name={}", quote(&ingress.name)),
            format!("envoy_response_code_class={}", quote("5")),
        ),
        IngressKind::Traefik => (
            "traefik_service_requests_total",
            // Traefik suffixes service names with `@<provider>`.
            format!(
                "service=~{}",
                quote(&format!("{}(@.+)?", regex_literal(&ingress.name)))
            ),
            format!("code=~{}", quote("5..")),
        ),
        IngressKind::Haproxy => (
            "haproxy_backend_http_responses_total",
            format!("proxy={}", quote(&ingress.name)),
            format!("code={}", quote("5xx")),
        ),
    }
}

pub(crate) fn ingress_kind_name(kind: IngressKind) -> &'static str {
    match kind {
        IngressKind::Nginx => "ingress-nginx",
        IngressKind::Envoy => "Envoy",
        IngressKind::Traefik => "Traefik",
        IngressKind::Haproxy => "HAProxy",
    }
}

/// The matchers that keep one environment's requests, alternatives joined
/// by `or`. ingress-nginx labels each request with its Ingress' namespace
/// (`namespace`, or `exported_namespace` when the scrape job sets its own
/// `namespace`), so a controller shared by several environments is split by
/// the environment's namespace. The other proxies' metrics name no
/// namespace: their series are expected to carry the environment's `env`
/// label, from a scrape job per environment.
pub(crate) fn proxy_env_scopes(ingress: &Ingress, env: &ServiceEnvironment) -> Vec<String> {
    match ingress.kind {
        IngressKind::Nginx => vec![
            format!("namespace={}", quote(&env.namespace)),
            format!("exported_namespace={}", quote(&env.namespace)),
        ],
        IngressKind::Envoy | IngressKind::Traefik | IngressKind::Haproxy => {
            vec![format!("env={}", quote(&env.name))]
        }
    }
}

/// `sum(rate(...[window]))` of the proxy's counter for the service in
/// `env`. The alert ranges over 5m; dashboards over `$__rate_interval`,
/// with `$env`/`$namespace` as the environment.
pub(crate) fn proxy_rate(
    ingress: &Ingress,
    env: &ServiceEnvironment,
    metric: &str,
    matchers: &[&str],
    window: &str,
) -> String {
    let rates: Vec<String> = proxy_env_scopes(ingress, env)
        .iter()
        .map(|scope| {
            let mut all: Vec<&str> = matchers.to_vec();
            all.push(scope);
            format!("rate({metric}{{{}}}[{window}])", all.join(","))
        })
        .collect();
    format!("sum({})", rates.join(" or "))
}

fn proxy_errors(
    links: &AlertLinks,
    service: &Service,
    scope: RuleScope<'_>,
    ingress: &Ingress,
) -> EmittedAlert {
    let threshold = tidy(service.alerts.proxy_error_ratio);
    let min_rps = service.alerts.proxy_min_rps;
    let (metric, name, errors) = proxy_metrics(ingress);
    let percent = format!("{}%", number(threshold * 100.0));
    let proxy = ingress_kind_name(ingress.kind);
    let window = RATE_WINDOW.to_string();
    let rate = |matchers: &[&str]| match scope {
        RuleScope::Environment(env) => proxy_rate(ingress, env, metric, matchers, &window),
        // Only for proxies whose series carry `env` (see `per_environment`).
        RuleScope::Shared => format!(
            "sum by (env) (rate({metric}{{{}}}[{window}]))",
            matchers.join(",")
        ),
    };
    let all = rate(&[&name]);
    let failed = rate(&[&name, &errors]);
    let mut expr = format!("{failed}\n/\n{all}\n> {}", number(threshold));
    if min_rps > 0.0 {
        // Too few requests make a ratio of a handful of answers.
        expr = format!("(\n{expr}\n)\nand\n{all} >= {}", number(min_rps));
    }
    EmittedAlert {
        name: alerts::PROXY_ERRORS,
        kind: AlertKind::ProxyErrors {
            ingress: ingress.clone(),
            threshold,
            min_rps,
        },
        expr,
        hold: PROXY_ERRORS_FOR,
        labels: base_alert_labels(service, scope, scope.pages(service)),
        output_labels: BTreeMap::new(),
        summary: Template::default()
            .text(format!(
                "More than {percent} of the requests to {} through {proxy} fail in ",
                service.name
            ))
            .env(scope)
            .text("."),
        description: Template::default()
            .value_percent()
            .text(format!(" of the requests to {} in ", service.name))
            .env(scope)
            .text(format!(
                " through {proxy} (`{}`) were answered with a 5xx status over the last {RATE_WINDOW}; the threshold is {percent} (with at least {} requests per second).",
                ingress.name, number(min_rps)
            )),
        dashboard_url: links.dashboard_url.clone(),
        traces_url: links.traces_url.clone(),
        runbook_url: service.alerts.runbook_url.clone(),
        env: scope.env_name(),
    }
}

/// Sloth's identifying labels of an SLO (and `env` in one environment's
/// file).
pub(crate) fn slo_labels(
    service: &Service,
    scope: RuleScope<'_>,
    slo: &Slo,
) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::from([
        (
            "sloth_id".to_string(),
            format!("{}-{}", service.name, slo.name),
        ),
        ("sloth_service".to_string(), service.name.clone()),
        ("sloth_slo".to_string(), slo.name.clone()),
    ]);
    scope.insert_env(&mut labels);
    labels
}

fn slo_selector(service: &Service, scope: RuleScope<'_>, slo: &Slo) -> String {
    let labels = slo_labels(service, scope, slo);
    let pairs: Vec<(&str, &str)> = labels
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    super::promql::selector(&pairs)
}

/// Bytes reserved for an SLI expression: three selectors of a job and its
/// matchers, which is most of them.
const SLI_EXPR_CAPACITY: usize = 512;

/// What every SLI error-ratio recording's name starts with.
const SLI_RECORD_PREFIX: &str = "slo:sli_error:ratio_rate";

/// The name of the SLI error-ratio recording over `window`.
pub fn sli_record(window: Duration) -> String {
    let mut name = String::with_capacity(SLI_RECORD_PREFIX.len() + 8);
    push_sli_record(&mut name, window);
    name
}

/// [`sli_record`] at the end of `out`.
fn push_sli_record(out: &mut String, window: Duration) {
    use std::fmt::Write as _;
    out.push_str(SLI_RECORD_PREFIX);
    let _ = write!(out, "{window}");
}

/// What an SLO's error ratio is made of but its window: the selectors and
/// metric names, built once for all the windows it is recorded over.
enum SliParts<'a> {
    Availability {
        requests: &'static str,
        errors: String,
        all: String,
    },
    Latency {
        count: String,
        bucket: String,
        fast: String,
        all: String,
    },
    Ratio {
        errors: &'a str,
        total: &'a str,
    },
}

fn sli_parts<'a>(
    service: &Service,
    scope: RuleScope<'_>,
    slo: &'a Slo,
    metrics: &RequestMetrics,
) -> SliParts<'a> {
    match &slo.indicator {
        Indicator::Availability => SliParts::Availability {
            requests: metrics.requests,
            errors: service_selector(service, scope, &[error_matcher(metrics)]),
            all: service_selector(service, scope, &[]),
        },
        Indicator::Latency { threshold } => {
            let timed = latency_matchers(metrics);
            let mut fast_matchers = timed.clone();
            fast_matchers.push(le_matcher(*threshold));
            SliParts::Latency {
                count: metrics.duration_count(),
                bucket: metrics.duration_bucket(),
                fast: service_selector(service, scope, &fast_matchers),
                all: service_selector(service, scope, &timed),
            }
        }
        Indicator::Ratio { errors, total } => SliParts::Ratio { errors, total },
    }
}

/// The SLI error ratio over `window`, from the indicator.
///
/// A window without traffic divides 0 by 0: the trailing `>= 0` drops that
/// NaN, so the window has no sample instead of one that would poison the
/// period average (`sum_over_time` of anything with a NaN is NaN, for as
/// long as the NaN stays in the SLO window).
fn sli_expr(parts: &SliParts<'_>, window: Duration) -> String {
    let window = window.to_string();
    let mut expr = String::with_capacity(SLI_EXPR_CAPACITY);
    let sum = |expr: &mut String, metric: &str, selector: &str| {
        push_all(
            expr,
            &["sum by (env) (rate(", metric, selector, "[", &window, "]))"],
        );
    };
    // `(\n  bad\n  <joint>other\n)\n/\ntotal`, each a sum of the rate of a
    // metric's selected series.
    type Series<'s> = (&'s str, &'s str);
    let mut share = |bad: Series<'_>, joint: &str, other: Series<'_>, total: Series<'_>| {
        expr.push_str("(\n  ");
        sum(&mut expr, bad.0, bad.1);
        expr.push_str(joint);
        sum(&mut expr, other.0, other.1);
        expr.push_str("\n)\n/\n");
        sum(&mut expr, total.0, total.1);
    };
    match parts {
        SliParts::Availability {
            requests,
            errors,
            all,
        } => share(
            (requests, errors),
            "\n  or\n  0 * ",
            (requests, all),
            (requests, all),
        ),
        SliParts::Latency {
            count,
            bucket,
            fast,
            all,
        } => share((count, all), "\n  -\n  ", (bucket, fast), (count, all)),
        SliParts::Ratio { errors, total } => {
            expr.push_str("(\n  ");
            expr.push_str(&render_window(errors, &window));
            expr.push_str("\n)\n/\n(\n  ");
            expr.push_str(&render_window(total, &window));
            expr.push_str("\n)");
        }
    }
    expr.push_str("\n>= 0");
    expr
}

fn sli_recordings(
    service: &Service,
    scope: RuleScope<'_>,
    slo: &Slo,
    metrics: &RequestMetrics,
) -> Vec<Rule> {
    let labels = slo_labels(service, scope, slo);
    let with_window = |window: Duration| {
        let mut labels = labels.clone();
        labels.insert("sloth_window".to_string(), window.to_string());
        labels
    };
    let parts = sli_parts(service, scope, slo, metrics);
    let mut rules: Vec<Rule> = sli_windows(slo.window)
        .into_iter()
        .map(|window| {
            record(
                sli_record(window),
                sli_expr(&parts, window),
                with_window(window),
            )
        })
        .collect();
    // The SLO window's ratio averages the 5m one, as Sloth does: a rate over
    // 30 days of raw series would be far too expensive.
    let short = sli_record(RATE_WINDOW);
    let selector = slo_selector(service, scope, slo);
    let period = slo.window.to_string();
    rules.push(record(
        sli_record(slo.window),
        concat(&[
            "sum_over_time(",
            &short,
            &selector,
            "[",
            &period,
            "])\n/ ignoring (sloth_window)\ncount_over_time(",
            &short,
            &selector,
            "[",
            &period,
            "])",
        ]),
        with_window(slo.window),
    ));
    rules
}

fn meta_recordings(service: &Service, scope: RuleScope<'_>, slo: &Slo) -> Vec<Rule> {
    let labels = slo_labels(service, scope, slo);
    let selector = slo_selector(service, scope, slo);
    let days = slo.window.as_secs_f64() / 86_400.0;
    let on = "on (sloth_id, sloth_slo, sloth_service) group_left";
    let mut info_labels = labels.clone();
    info_labels.insert("sloth_mode".to_string(), SLOTH_MODE.to_string());
    info_labels.insert("sloth_objective".to_string(), number(slo.objective));
    let vector = |value: f64| concat(&["vector(", &number(value), ")"]);
    let burn_rate = |window: Duration| {
        concat(&[
            &sli_record(window),
            &selector,
            "\n/ ",
            on,
            "\nslo:error_budget:ratio",
            &selector,
        ])
    };
    vec![
        record(
            "slo:objective:ratio",
            vector(slo.objective / 100.0),
            labels.clone(),
        ),
        record(
            "slo:error_budget:ratio",
            vector(slo.error_budget()),
            labels.clone(),
        ),
        record("slo:time_period:days", vector(days), labels.clone()),
        record(
            "slo:current_burn_rate:ratio",
            burn_rate(RATE_WINDOW),
            labels.clone(),
        ),
        record(
            "slo:period_burn_rate:ratio",
            burn_rate(slo.window),
            labels.clone(),
        ),
        record(
            "slo:period_error_budget_remaining:ratio",
            concat(&["1 - slo:period_burn_rate:ratio", &selector]),
            labels,
        ),
        record("sloth_slo_info", "vector(1)".to_string(), info_labels),
    ]
}

/// The series whose presence shows the indicator has data: the requests
/// counter, the histogram's bucket at the threshold, or the custom total.
fn indicator_presence(
    service: &Service,
    scope: RuleScope<'_>,
    slo: &Slo,
    metrics: &RequestMetrics,
) -> String {
    match &slo.indicator {
        Indicator::Availability => {
            format!(
                "{}{}",
                metrics.requests,
                service_selector(service, scope, &[])
            )
        }
        Indicator::Latency { threshold } => {
            let mut matchers = latency_matchers(metrics);
            matchers.push(le_matcher(*threshold));
            format!(
                "{}{}",
                metrics.duration_bucket(),
                service_selector(service, scope, &matchers)
            )
        }
        Indicator::Ratio { total, .. } => render_window(total, &RATE_WINDOW.to_string()),
    }
}

fn indicator_missing(
    links: &AlertLinks,
    service: &Service,
    scope: RuleScope<'_>,
    slo: &Slo,
    metrics: &RequestMetrics,
) -> EmittedAlert {
    let up = service_selector(service, scope, &[]);
    let presence = indicator_presence(service, scope, slo, metrics);
    let mut labels = base_alert_labels(service, scope, false);
    labels.insert(alerts::SLO.to_string(), slo.name.clone());
    let what = match &slo.indicator {
        Indicator::Availability => format!("`{}`", metrics.requests),
        Indicator::Latency { threshold } => format!(
            "`{}` with a bucket at {threshold}",
            metrics.duration_bucket()
        ),
        Indicator::Ratio { .. } => "the `total` query".to_string(),
    };
    EmittedAlert {
        name: alerts::SLO_INDICATOR_MISSING,
        kind: AlertKind::IndicatorMissing { slo: slo.clone() },
        expr: format!(
            "max by (job, env) (up{up}) == 1\nunless on ()\n(\n  {presence}\n)"
        ),
        hold: INDICATOR_MISSING_FOR,
        labels,
        output_labels: job_env_labels(service, scope),
        summary: Template::default()
            .text(format!(
                "The {} SLO of {} has no data in ",
                slo.name, service.name
            ))
            .env(scope)
            .text("."),
        description: Template::default()
            .text("Job ")
            .label("job")
            .text(" in ")
            .env(scope)
            .text(format!(
                " is up, but {what}, which the {} SLO is computed from, has had no series for {INDICATOR_MISSING_FOR}: its recordings are empty and its burn-rate alerts cannot fire. Check the metric names and the histogram's buckets against docs/metrics.md.",
                slo.name
            )),
        dashboard_url: links.dashboard_url.clone(),
        traces_url: links.traces_url.clone(),
        runbook_url: service.alerts.runbook_url.clone(),
        env: scope.env_name(),
    }
}

/// How long the error budget lasts when burning `factor` times too fast.
fn budget_lasts(slo: &Slo, factor: f64) -> Duration {
    let minutes = slo.window.as_secs_f64() / 60.0 / factor;
    Duration::from_mins(minutes.round().max(1.0) as u64)
}

/// What every burn-rate alert of an SLO has in common, built once for
/// all its windows.
struct BurnShared<'l> {
    /// The SLO's recordings' selector.
    selector: String,
    /// The labels the alert's expression yields.
    output_labels: BTreeMap<String, String>,
    /// The error budget as PromQL writes it.
    budget: String,
    /// The static labels of a paging alert and of one that does not page
    /// (both with the SLO's name).
    page_labels: BTreeMap<String, String>,
    ticket_labels: BTreeMap<String, String>,
    links: &'l AlertLinks,
}

impl<'l> BurnShared<'l> {
    fn new(links: &'l AlertLinks, service: &Service, scope: RuleScope<'_>, slo: &Slo) -> Self {
        let labels = |pages| {
            let mut labels = base_alert_labels(service, scope, pages);
            labels.insert(alerts::SLO.to_string(), slo.name.clone());
            labels
        };
        Self {
            page_labels: labels(true),
            ticket_labels: labels(false),
            selector: slo_selector(service, scope, slo),
            output_labels: slo_labels(service, scope, slo),
            budget: number(slo.error_budget()),
            links,
        }
    }
}

fn burn_alert(
    service: &Service,
    scope: RuleScope<'_>,
    slo: &Slo,
    window: &BurnWindow,
    shared: &BurnShared<'_>,
) -> EmittedAlert {
    let budget = slo.error_budget();
    let threshold = tidy(window.factor * budget);
    let factor = number(window.factor);
    // The long window first: the alert's value is its error ratio.
    let mut expr = String::with_capacity(2 * (shared.selector.len() + 96));
    for (index, range) in [window.long, window.short].into_iter().enumerate() {
        if index > 0 {
            expr.push_str("\nand\n");
        }
        expr.push_str("max without (sloth_window) (");
        push_sli_record(&mut expr, range);
        push_all(
            &mut expr,
            &[
                &shared.selector,
                " > (",
                &factor,
                " * ",
                &shared.budget,
                "))",
            ],
        );
    }
    let pages = window.tier == Tier::Page && scope.pages(service);
    let mut labels = if pages {
        shared.page_labels.clone()
    } else {
        shared.ticket_labels.clone()
    };
    labels.insert(
        alerts::SLO_TIER.to_string(),
        window.tier.as_str().to_string(),
    );
    labels.insert(
        alerts::SLO_BURN.to_string(),
        window.speed.as_str().to_string(),
    );
    let what = match &slo.indicator {
        Indicator::Availability => format!("of the requests to {} failed", service.name),
        Indicator::Latency { threshold } => format!(
            "of the requests to {} took longer than {threshold}",
            service.name
        ),
        Indicator::Ratio { .. } => format!(
            "of the events of the {} SLO of {} were bad",
            slo.name, service.name
        ),
    };
    let threshold_percent = format!("{}%", number(threshold * 100.0));
    EmittedAlert {
        name: alerts::ERROR_BUDGET_BURN,
        kind: AlertKind::Burn {
            slo: slo.clone(),
            window: *window,
            threshold,
        },
        expr,
        hold: window.hold,
        labels,
        output_labels: shared.output_labels.clone(),
        summary: Template::default()
            .text(format!(
                "{} burns the error budget of its {} SLO too fast in ",
                service.name, slo.name
            ))
            .env(scope)
            .text("."),
        description: Template::default()
            .value_percent()
            .text(format!(" {what} in "))
            .env(scope)
            .text(format!(
            " over the last {}, and more than {threshold_percent} over the last {}. The error budget of the {} SLO ({}% over {}) burns {} times too fast: at this rate it is spent in {}.",
            window.long,
            window.short,
            slo.name,
            number(slo.objective),
            slo.window,
            factor,
            budget_lasts(slo, window.factor)
        )),
        dashboard_url: shared.links.dashboard_url.clone(),
        traces_url: shared.links.traces_url.clone(),
        runbook_url: service.alerts.runbook_url.clone(),
        env: scope.env_name(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::prometheus::model_from;

    const PLATFORM: &str = "apiVersion: obsgen.dev/v1\nkind: Platform\nmetadata: {name: p}\nspec:\n  environments:\n    - {name: staging}\n    - {name: production, production: true}\n  grafana: {url: 'https://grafana.example'}\n  teams: {t: {}}\n";

    fn rules_of(service_yaml: &str, env: &str) -> ServiceRules {
        let model = model_from(PLATFORM, &[service_yaml]);
        let service = &model.services[0];
        let env = service
            .environments
            .iter()
            .find(|e| e.name == env)
            .expect("env");
        service_rules(&model, service, RuleScope::Environment(env))
    }

    #[test]
    fn a_shared_file_names_no_environment() {
        let model = model_from(PLATFORM, &[PAGING]);
        let service = &model.services[0];
        let shared = service_rules(&model, service, RuleScope::Shared);
        let text = serde_saphyr::to_string(&shared.file).unwrap();
        assert!(!text.contains("env=\""), "{text}");
        assert!(!text.contains("env: "), "{text}");
        assert!(text.contains("{{ $externalLabels.env }}"), "{text}");
        // The ingress-nginx alert selects the environment's namespace, so it
        // lives in each environment's own file.
        assert!(!shared.alerts.iter().any(|a| a.name == alerts::PROXY_ERRORS));
        for env in &service.environments {
            let own = environment_rules(&model, service, env).expect("nginx rules");
            assert_eq!(own.alerts.len(), 1);
            let expr = &own.alerts[0].expr;
            assert!(
                expr.contains(&format!("namespace=\"{}\"", env.namespace)),
                "{expr}"
            );
            assert_eq!(own.alerts[0].env.as_deref(), Some(env.name.as_str()));
        }
        // `page` means "pages in production": the routes decide per environment.
        assert_eq!(
            severities(&shared)
                .iter()
                .filter(|(_, s)| s == "page")
                .count(),
            3
        );
        // Envoy's series carry `env`: one shared alert, by environment.
        let envoy = model_from(PLATFORM, &[&PAGING.replace("nginx", "envoy")]);
        let service = &envoy.services[0];
        assert!(environment_rules(&envoy, service, &service.environments[0]).is_none());
        let shared = service_rules(&envoy, service, RuleScope::Shared);
        let proxy = shared
            .alerts
            .iter()
            .find(|a| a.name == alerts::PROXY_ERRORS)
            .expect("a proxy alert");
        assert!(
            proxy.expr.contains("\nsum by (env) (rate("),
            "{}",
            proxy.expr
        );
    }

    fn severities(rules: &ServiceRules) -> Vec<(String, String)> {
        rules
            .alerts
            .iter()
            .map(|a| {
                (
                    format!(
                        "{}{}",
                        a.name,
                        a.labels
                            .get(alerts::SLO_TIER)
                            .map(|t| format!("/{t}"))
                            .unwrap_or_default()
                    ),
                    a.labels[alerts::SEVERITY].clone(),
                )
            })
            .collect()
    }

    const PAGING: &str = "apiVersion: obsgen.dev/v1\nkind: Service\nmetadata: {name: a, team: t}\nspec:\n  ingress: {kind: nginx}\n  slos: [{name: availability, objective: 99.9, indicator: {type: availability}}]\n  alerts: {page: true}\n";

    #[test]
    fn only_opted_in_production_pages() {
        let production = rules_of(PAGING, "production");
        let pages: Vec<_> = severities(&production)
            .into_iter()
            .filter(|(_, severity)| severity == "page")
            .map(|(name, _)| name)
            .collect();
        assert_eq!(
            pages,
            [
                "ServiceUnavailable",
                "ReverseProxyErrorRatioHigh",
                "ErrorBudgetBurn/page",
                "ErrorBudgetBurn/page"
            ]
        );
        let staging = rules_of(PAGING, "staging");
        assert!(
            severities(&staging).iter().all(|(_, s)| s == "ticket"),
            "{:?}",
            severities(&staging)
        );
        let opted_out = rules_of(&PAGING.replace("page: true", "page: false"), "production");
        assert!(severities(&opted_out).iter().all(|(_, s)| s == "ticket"));
    }

    fn burn_exprs(rules: &ServiceRules) -> Vec<String> {
        rules
            .alerts
            .iter()
            .filter(|a| a.name == alerts::ERROR_BUDGET_BURN)
            .map(|a| a.expr.clone())
            .collect()
    }

    #[test]
    fn thirty_day_factors_and_windows_are_the_workbook_ones() {
        let exprs = burn_exprs(&rules_of(PAGING, "production"));
        let expected = [
            ("1h", "5m", "14.4"),
            ("6h", "30m", "6"),
            ("1d", "2h", "3"),
            ("3d", "6h", "1"),
        ];
        for (expr, (long, short, factor)) in exprs.iter().zip(expected) {
            assert!(
                expr.contains(&format!("slo:sli_error:ratio_rate{long}{{"))
                    && expr.contains(&format!("slo:sli_error:ratio_rate{short}{{"))
                    && expr.contains(&format!("> ({factor} * 0.001)")),
                "{expr}"
            );
        }
    }

    #[test]
    fn twenty_eight_days_scale_the_factors() {
        let service = PAGING.replace("objective: 99.9,", "objective: 99.9, window: 28d,");
        let exprs = burn_exprs(&rules_of(&service, "production"));
        for (expr, factor) in exprs.iter().zip(["13.44", "5.6", "2.8", "0.9333"]) {
            assert!(expr.contains(&format!("({factor} * 0.001)")), "{expr}");
        }
        let rules = rules_of(&service, "production");
        let text = crate::output::yaml::document("", &rules.file).expect("yaml");
        assert!(text.contains("slo:sli_error:ratio_rate28d"), "{text}");
        assert!(text.contains("vector(28)"), "{text}");
    }

    #[test]
    fn hostile_label_values_stay_inside_their_strings() {
        let hostile = PAGING.replace(
            "metadata: {name: a, team: t}",
            "metadata: {name: a, team: t, labels: {owner: \"x\\\"} or vector(1) {{ .Value }}\"}}",
        );
        let rules = rules_of(&hostile, "production");
        let alert = &rules.alerts[0];
        let rule = alert.rule();
        assert_eq!(
            rule.labels["owner"],
            "x\"} or vector(1) {{ \"{{\" }} .Value }}"
        );
        assert_eq!(
            alert.expected_labels()["owner"],
            "x\"} or vector(1) {{ .Value }}"
        );
        // The YAML round-trips to the same value.
        let text = crate::output::yaml::document("", &rules.file).expect("yaml");
        let back: serde_json::Value = serde_saphyr::from_str(&text).expect("parses");
        assert_eq!(
            back["groups"][1]["rules"][0]["labels"]["owner"],
            rule.labels["owner"]
        );
        for group in &rules.file.groups {
            for rule in &group.rules {
                assert!(
                    promql_parser::parser::parse(&rule.expr.0).is_ok(),
                    "{}",
                    rule.expr.0
                );
            }
        }
    }

    #[test]
    fn groups_stay_small_and_every_expression_parses() {
        let rules = rules_of(PAGING, "production");
        for group in &rules.file.groups {
            assert!(group.rules.len() <= MAX_RULES_PER_GROUP, "{}", group.name);
            for rule in &group.rules {
                assert!(
                    promql_parser::parser::parse(&rule.expr.0).is_ok(),
                    "{}",
                    rule.expr.0
                );
            }
        }
        let mut groups = Vec::new();
        let many: Vec<Rule> = (0..45)
            .map(|i| record(format!("r{i}"), "vector(1)".into(), BTreeMap::new()))
            .collect();
        push_group(&mut groups, "g".into(), many);
        let sizes: Vec<usize> = groups.iter().map(|g| g.rules.len()).collect();
        assert_eq!(sizes, [20, 20, 5]);
    }

    #[test]
    fn grpc_latency_selects_unary_calls_only() {
        let grpc = "apiVersion: obsgen.dev/v1\nkind: Service\nmetadata: {name: g, team: t}\nspec:\n  language: go\n  framework: grpc\n  slos: [{name: latency, objective: 99, indicator: {type: latency, threshold: 250ms}}]\n";
        let rules = rules_of(grpc, "production");
        let exprs: Vec<&str> = rules
            .file
            .groups
            .iter()
            .flat_map(|g| &g.rules)
            .filter(|r| r.expr.0.contains("grpc_server_handling_seconds"))
            .map(|r| r.expr.0.as_str())
            .collect();
        assert!(!exprs.is_empty());
        for expr in exprs {
            for selector in expr.split("grpc_server_handling_seconds").skip(1) {
                assert!(
                    selector
                        .split('}')
                        .next()
                        .unwrap_or("")
                        .contains("grpc_type=\"unary\""),
                    "{expr}"
                );
            }
        }
    }

    #[test]
    fn proxy_alert_needs_traffic_and_keeps_to_its_environment() {
        let rules = rules_of(PAGING, "production");
        let proxy = rules
            .alerts
            .iter()
            .find(|a| a.name == alerts::PROXY_ERRORS)
            .expect("a proxy alert");
        assert!(proxy.expr.contains("\nand\n"), "{}", proxy.expr);
        assert!(proxy.expr.ends_with(">= 1"), "{}", proxy.expr);
        assert!(
            proxy.expr.contains("namespace=\"production\""),
            "{}",
            proxy.expr
        );
        assert!(
            proxy.expr.contains("exported_namespace=\"production\""),
            "{}",
            proxy.expr
        );
        let quiet = PAGING.replace("page: true", "page: true, proxy_min_rps: 0");
        let unguarded = rules_of(&quiet, "production");
        let proxy = unguarded
            .alerts
            .iter()
            .find(|a| a.name == alerts::PROXY_ERRORS)
            .expect("a proxy alert");
        assert!(!proxy.expr.contains("\nand\n"), "{}", proxy.expr);
        let envoy = PAGING.replace("kind: nginx", "kind: envoy");
        let rules = rules_of(&envoy, "staging");
        let proxy = rules
            .alerts
            .iter()
            .find(|a| a.name == alerts::PROXY_ERRORS)
            .expect("a proxy alert");
        assert!(proxy.expr.contains("env=\"staging\""), "{}", proxy.expr);
    }

    #[test]
    fn every_slo_has_an_indicator_missing_ticket() {
        let rules = rules_of(PAGING, "production");
        let missing: Vec<&EmittedAlert> = rules
            .alerts
            .iter()
            .filter(|a| a.name == alerts::SLO_INDICATOR_MISSING)
            .collect();
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].labels[alerts::SEVERITY], alerts::SEVERITY_TICKET);
        assert_eq!(missing[0].hold, INDICATOR_MISSING_FOR);
        assert!(
            missing[0].expr.contains("== 1\nunless on ()"),
            "{}",
            missing[0].expr
        );
    }

    #[test]
    fn idle_windows_leave_no_nan_in_the_sli() {
        let rules = rules_of(PAGING, "production");
        let slis: Vec<&Rule> = rules
            .file
            .groups
            .iter()
            .flat_map(|g| &g.rules)
            .filter(|r| {
                r.record.as_deref().is_some_and(|n| {
                    n.starts_with("slo:sli_error:ratio_rate") && n != "slo:sli_error:ratio_rate30d"
                })
            })
            .collect();
        assert_eq!(slis.len(), 7);
        for rule in slis {
            assert!(rule.expr.0.ends_with("\n>= 0"), "{}", rule.expr.0);
        }
    }

    #[test]
    fn templates_expand_like_prometheus() {
        let template = Template::default()
            .value_percent()
            .text(" of {{x}} in ")
            .label("env");
        assert_eq!(
            template.source(),
            "{{ $value | humanizePercentage }} of {{ \"{{\" }}x}} in {{ $labels.env }}"
        );
        let labels = BTreeMap::from([("env".to_string(), "prod".to_string())]);
        assert_eq!(
            template.expand(0.022000000000000002, &labels, "prod"),
            "2.2% of {{x}} in prod"
        );
    }
}
