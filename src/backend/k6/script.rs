//! One service's k6 script: its data as typed JSON, rendered through the
//! embedded templates.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;
use serde_json::Value;

use super::js;
use crate::model::{Indicator, Model, Scenario, Service};
use crate::output::header;
use crate::spec::{Duration, Protocol, Rate};

/// The latency a request is expected to take when the service has no
/// latency SLO, for sizing the VU pool.
pub const DEFAULT_EXPECTED_LATENCY: Duration = Duration::from_millis(500);
/// How long k6 waits before a paging service's threshold may abort a run:
/// the first seconds of a run (connections, JIT warm-up) are not the SLO.
pub const DELAY_ABORT_EVAL: &str = "30s";
/// The trend statistics of k6's summary; a latency SLO's own percentile
/// is added when it is not one of these.
const SUMMARY_TREND_STATS: [&str; 7] = ["avg", "min", "med", "max", "p(90)", "p(95)", "p(99)"];

/// What `obsgen loadtest` may change in a script before running it.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// Every scenario's duration (with stages: the hold after them).
    pub duration: Option<Duration>,
    /// Every scenario's arrival rate; stages are dropped.
    pub rate: Option<Rate>,
}

#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    #[error("rendering the k6 script of `{service}`: {message}")]
    Template { service: String, message: String },
}

const HTTP_TEMPLATE: &str = include_str!("../../../templates/k6/http.js.j2");
const GRPC_TEMPLATE: &str = include_str!("../../../templates/k6/grpc.js.j2");

/// The template environment, built once: strict about undefined values,
/// no HTML auto-escaping, and a formatter that only prints `js` output.
static TEMPLATES: LazyLock<Result<Environment<'static>, String>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_keep_trailing_newline(true);
    env.add_filter("js", js::filter);
    env.set_formatter(js::formatter);
    env.add_template("http.js", HTTP_TEMPLATE)
        .map_err(|e| e.to_string())?;
    env.add_template("grpc.js", GRPC_TEMPLATE)
        .map_err(|e| e.to_string())?;
    Ok(env)
});

/// The script of `service`, or `None` when it gets no load test.
pub fn render_script(
    model: &Model,
    service: &Service,
    overrides: &Overrides,
) -> Result<Option<String>, ScriptError> {
    let loadtest = &service.loadtest;
    if loadtest.environments.is_empty() {
        return Ok(None);
    }
    let fail = |message: String| ScriptError::Template {
        service: service.name.clone(),
        message,
    };
    let templates = TEMPLATES.as_ref().map_err(|e| fail(e.clone()))?;
    let template_name = match loadtest.protocol {
        Protocol::Http => "http.js",
        Protocol::Grpc => "grpc.js",
    };
    let template = templates
        .get_template(template_name)
        .map_err(|e| fail(e.to_string()))?;
    let scenarios: Vec<Scenario> = loadtest
        .scenarios
        .iter()
        .map(|scenario| apply(scenario, overrides))
        .collect();
    let context = context(service, &scenarios);
    let body = template
        .render(minijinja::Value::from_serialize(&context))
        .map_err(|e| fail(format!("{e:#}")))?;
    let sources = [model.platform.source.as_str(), service.source.as_str()];
    Ok(Some(format!("{}{body}", header::slash_comment(&sources))))
}

/// Everything the templates print. Typed, so that rendering builds no
/// `serde_json::Value` tree on the way to the template's values (about 3 %
/// of a fresh build's CPU: `docs/performance.md`); the fields and their
/// order are the JSON the scripts print.
#[derive(Debug, Serialize)]
struct Context<'a> {
    service: &'a str,
    team: &'a str,
    environments: Entries<EnvironmentContext>,
    default_env: Option<&'a str>,
    scenarios: Entries<ScriptScenario<'a>>,
    options_scenarios: Entries<Executor>,
    summary_trend_stats: Vec<String>,
}

/// A JSON object whose keys keep the order they were added in; adding a
/// key again replaces its value in place.
#[derive(Debug, PartialEq)]
struct Entries<T>(Vec<(String, T)>);

impl<T> Entries<T> {
    fn new() -> Self {
        Self(Vec::new())
    }

    fn insert(&mut self, key: String, value: T) {
        match self.0.iter_mut().find(|(existing, _)| *existing == key) {
            Some((_, slot)) => *slot = value,
            None => self.0.push((key, value)),
        }
    }
}

impl<T> Entries<Vec<T>> {
    /// Adds `item` to the list under `key`.
    fn push(&mut self, key: String, item: T) {
        match self.0.iter_mut().find(|(existing, _)| *existing == key) {
            Some((_, items)) => items.push(item),
            None => self.0.push((key, vec![item])),
        }
    }
}

impl<T: Serialize> Serialize for Entries<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(key, value)| (key, value)))
    }
}

#[derive(Debug, Serialize)]
struct EnvironmentContext {
    base_url: String,
    production: bool,
    thresholds: Entries<Vec<Threshold>>,
}

/// One threshold of a metric: its condition, or with `abortOnFail` for a
/// paging service.
#[derive(Debug, PartialEq, Serialize)]
#[serde(untagged)]
enum Threshold {
    Condition(String),
    Aborting {
        threshold: String,
        #[serde(rename = "abortOnFail")]
        abort_on_fail: bool,
        #[serde(rename = "delayAbortEval")]
        delay_abort_eval: &'static str,
    },
}

#[derive(Debug, Serialize)]
struct ScriptScenario<'a> {
    warmup: bool,
    requests: Vec<RequestContext<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum RequestContext<'a> {
    Http {
        name: String,
        method: String,
        path: &'a str,
        body: &'a Option<String>,
        headers: &'a BTreeMap<String, String>,
        expect_body: &'a Option<String>,
    },
    Grpc {
        name: String,
        method: &'a str,
        message: Value,
        metadata: &'a BTreeMap<String, String>,
    },
}

/// A k6 scenario's executor (k6's own option names).
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Executor {
    #[serde(rename_all = "camelCase")]
    Constant {
        executor: &'static str,
        rate: u64,
        time_unit: String,
        duration: String,
        #[serde(rename = "preAllocatedVUs")]
        pre_allocated_vus: u64,
        #[serde(rename = "maxVUs")]
        max_vus: u64,
    },
    #[serde(rename_all = "camelCase")]
    Ramping {
        executor: &'static str,
        start_rate: u64,
        time_unit: String,
        stages: Vec<ExecutorStage>,
        #[serde(rename = "preAllocatedVUs")]
        pre_allocated_vus: u64,
        #[serde(rename = "maxVUs")]
        max_vus: u64,
    },
}

#[derive(Debug, Serialize)]
struct ExecutorStage {
    target: u64,
    duration: String,
}

/// Everything the templates print, for `scenarios` (the service's, with
/// the overrides applied).
fn context<'a>(service: &'a Service, scenarios: &'a [Scenario]) -> Context<'a> {
    let loadtest = &service.loadtest;
    let protocol = loadtest.protocol;
    let endpoints: BTreeSet<String> = scenarios
        .iter()
        .filter(|scenario| !scenario.warmup)
        .flat_map(|scenario| &scenario.requests)
        .map(|request| endpoint_name(protocol, request))
        .collect();

    let mut environments = Entries::new();
    let mut default_env = None;
    for env in &service.environments {
        if !loadtest.environments.contains(&env.name) {
            continue;
        }
        if default_env.is_none() && !env.production {
            default_env = Some(env.name.as_str());
        }
        let base_url = match &loadtest.base_url {
            Some(template) => {
                crate::model::naming::expand_service_url(template, &service.name, &env.name)
            }
            None => env.url.clone(),
        };
        environments.insert(
            env.name.clone(),
            EnvironmentContext {
                base_url,
                production: env.production,
                thresholds: thresholds(service, protocol, &endpoints, service.pages_in(env)),
            },
        );
    }

    let latency = expected_latency(service);
    let mut k6_scenarios = Entries::new();
    let mut script_scenarios = Entries::new();
    for scenario in scenarios {
        k6_scenarios.insert(scenario.name.clone(), executor(scenario, latency));
        let requests = scenario
            .requests
            .iter()
            .map(|request| {
                let name = endpoint_name(protocol, request);
                match protocol {
                    Protocol::Http => RequestContext::Http {
                        name,
                        method: spelling(request.method),
                        path: &request.path,
                        body: &request.body,
                        headers: &request.headers,
                        expect_body: &request.expect_body,
                    },
                    Protocol::Grpc => RequestContext::Grpc {
                        name,
                        method: &request.path,
                        // Validation accepts only JSON objects.
                        message: request
                            .body
                            .as_deref()
                            .and_then(|body| serde_json::from_str::<Value>(body).ok())
                            .unwrap_or_else(|| Value::Object(serde_json::Map::new())),
                        metadata: &request.headers,
                    },
                }
            })
            .collect();
        script_scenarios.insert(
            scenario.name.clone(),
            ScriptScenario {
                warmup: scenario.warmup,
                requests,
            },
        );
    }

    let mut trend_stats: Vec<String> = SUMMARY_TREND_STATS.iter().map(|s| s.to_string()).collect();
    for slo in &service.slos {
        if let Indicator::Latency { .. } = slo.indicator {
            let stat = format!("p({})", slo.objective);
            if !trend_stats.contains(&stat) {
                trend_stats.push(stat);
            }
        }
    }

    Context {
        service: &service.name,
        team: &service.team,
        environments,
        default_env,
        scenarios: script_scenarios,
        options_scenarios: k6_scenarios,
        summary_trend_stats: trend_stats,
    }
}

/// A scenario with `obsgen loadtest`'s overrides applied.
fn apply(scenario: &Scenario, overrides: &Overrides) -> Scenario {
    let mut scenario = scenario.clone();
    if let Some(duration) = overrides.duration {
        scenario.duration = duration;
    }
    if let Some(rate) = overrides.rate {
        scenario.rate = rate;
        scenario.stages.clear();
    }
    scenario
}

/// The `name` tag of a request: `GET /items` (the query string dropped, so
/// pages of one endpoint are one series), or the gRPC method.
fn endpoint_name(protocol: Protocol, request: &crate::model::Request) -> String {
    match protocol {
        Protocol::Http => {
            let path = request.path.split('?').next().unwrap_or_default();
            format!("{} {path}", spelling(request.method))
        }
        Protocol::Grpc => request.path.clone(),
    }
}

/// Whether a `name` tag can be written into a threshold key
/// (`metric{name:value}`): k6 splits the tags at `,` and trims quotes.
fn threshold_safe(name: &str) -> bool {
    !name.contains([',', '"', '\'', '{', '}'])
}

/// The thresholds of one environment: each availability SLO bounds the
/// failure rate by its error budget, each latency SLO a percentile of the
/// request duration; over the whole test and per endpoint. Ratio SLOs are
/// custom PromQL with no k6 counterpart and give no threshold.
fn thresholds(
    service: &Service,
    protocol: Protocol,
    endpoints: &BTreeSet<String>,
    pages: bool,
) -> Entries<Vec<Threshold>> {
    let (failed, duration) = match protocol {
        Protocol::Http => ("http_req_failed", "http_req_duration"),
        Protocol::Grpc => ("grpc_req_failed", "grpc_req_duration"),
    };
    let mut conditions: Vec<(&str, String)> = Vec::new();
    for slo in &service.slos {
        match &slo.indicator {
            Indicator::Availability => {
                conditions.push((failed, format!("rate<{}", slo.error_budget())));
            }
            Indicator::Latency { threshold } => conditions.push((
                duration,
                format!("p({})<{}", slo.objective, threshold.as_millis()),
            )),
            Indicator::Ratio { .. } => {}
        }
    }
    let threshold = |condition: &str| {
        if pages {
            Threshold::Aborting {
                threshold: condition.to_string(),
                abort_on_fail: true,
                delay_abort_eval: DELAY_ABORT_EVAL,
            }
        } else {
            Threshold::Condition(condition.to_string())
        }
    };
    let mut out = Entries::new();
    let mut add = |metric: String, condition: &str| {
        out.push(metric, threshold(condition));
    };
    for (metric, condition) in &conditions {
        add(metric.to_string(), condition);
    }
    for endpoint in endpoints.iter().filter(|name| threshold_safe(name)) {
        for (metric, condition) in &conditions {
            add(format!("{metric}{{name:{endpoint}}}"), condition);
        }
    }
    out
}

/// The latency used to size VU pools: the service's largest latency SLO
/// threshold, else [`DEFAULT_EXPECTED_LATENCY`].
fn expected_latency(service: &Service) -> Duration {
    service
        .slos
        .iter()
        .filter_map(|slo| match slo.indicator {
            Indicator::Latency { threshold } => Some(threshold),
            _ => None,
        })
        .max()
        .unwrap_or(DEFAULT_EXPECTED_LATENCY)
}

/// The VUs an arrival rate needs: requests in flight = rate × latency
/// (Little's law), per request of an iteration. `maxVUs` leaves room for
/// the service slowing down under load.
fn vus(peak_per_second: f64, requests: usize, latency: Duration) -> (u64, u64) {
    let in_flight = peak_per_second * latency.as_secs_f64() * requests.max(1) as f64;
    let pre = (in_flight.ceil() as u64).max(1);
    (pre, (pre * 5).max(10))
}

/// The k6 scenario: `constant-arrival-rate`, or `ramping-arrival-rate`
/// through the stages (then holding the last one for `duration`).
fn executor(scenario: &Scenario, latency: Duration) -> Executor {
    let per = scenario.rate.per;
    let peak = scenario
        .stages
        .iter()
        .map(|stage| stage.target.per_second())
        .fold(scenario.rate.per_second(), f64::max);
    let (pre, max) = vus(peak, scenario.requests.len(), latency);
    if scenario.stages.is_empty() {
        return Executor::Constant {
            executor: "constant-arrival-rate",
            rate: scenario.rate.count,
            time_unit: go_duration(per),
            duration: go_duration(scenario.duration),
            pre_allocated_vus: pre,
            max_vus: max,
        };
    }
    // Every stage's target in the scenario's time unit.
    let in_unit = |rate: Rate| (rate.per_second() * per.as_secs_f64()).round() as u64;
    let mut stages: Vec<ExecutorStage> = scenario
        .stages
        .iter()
        .map(|stage| ExecutorStage {
            target: in_unit(stage.target),
            duration: go_duration(stage.duration),
        })
        .collect();
    let last = scenario
        .stages
        .last()
        .map_or(scenario.rate, |stage| stage.target);
    stages.push(ExecutorStage {
        target: in_unit(last),
        duration: go_duration(scenario.duration),
    });
    Executor::Ramping {
        executor: "ramping-arrival-rate",
        start_rate: scenario.rate.count,
        time_unit: go_duration(per),
        stages,
        pre_allocated_vus: pre,
        max_vus: max,
    }
}

/// A duration as k6 (Go's `time.ParseDuration`) reads it: no days.
fn go_duration(duration: Duration) -> String {
    let ms = duration.as_millis();
    if !ms.is_multiple_of(1000) {
        return format!("{ms}ms");
    }
    let secs = ms / 1000;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}

/// How a spec enum is spelt in manifests (`GET`).
fn spelling(value: impl serde::Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::prometheus::model_from;
    use serde_json::json;

    const PLATFORM: &str = "apiVersion: obsgen.dev/v1\nkind: Platform\nmetadata: {name: p}\nspec:\n  environments: [{name: dev}, {name: staging, service_url: 'http://{service}.stg:9000'}, {name: production, production: true}]\n  teams: {t: {}}\n";

    fn service(spec: &str) -> String {
        format!(
            "apiVersion: obsgen.dev/v1\nkind: Service\nmetadata: {{name: svc, team: t}}\nspec:\n{spec}"
        )
    }

    fn script_of(platform: &str, spec: &str) -> Option<String> {
        let model = model_from(platform, &[&service(spec)]);
        render_script(&model, &model.services[0], &Overrides::default()).unwrap()
    }

    #[test]
    fn a_service_without_scenarios_gets_a_warmup_outside_production() {
        let script = script_of(PLATFORM, "  language: go\n").unwrap();
        assert!(script.contains(r#""warm-up": {"#), "{script}");
        assert!(script.contains(r#""warmup": true"#));
        assert!(script.contains(r#""path": "/""#));
        assert!(script.contains(r#""rate": 2,"#) && script.contains(r#""duration": "1m""#));
        // Environments: dev and staging, not production; each with its URL.
        assert!(script.contains(r#""base_url": "http://svc.dev.svc:8080""#));
        assert!(script.contains(r#""base_url": "http://svc.stg:9000""#));
        assert!(!script.contains(r#""production": {"#), "{script}");
        assert!(script.contains(r#"const DEFAULT_ENV = "dev";"#));
    }

    #[test]
    fn load_tests_can_be_turned_off_by_the_platform_or_the_service() {
        assert!(script_of(PLATFORM, "  loadtest: {enabled: false}\n").is_none());
        let off = PLATFORM.replace("  teams:", "  loadtest: {enabled: false}\n  teams:");
        assert!(script_of(&off, "  language: go\n").is_none());
        // A service may opt back in.
        assert!(script_of(&off, "  loadtest: {enabled: true}\n").is_some());
        // A service only in production gets none unless it names production.
        assert!(script_of(PLATFORM, "  environments: [production]\n").is_none());
        let named = script_of(
            PLATFORM,
            "  environments: [production]\n  loadtest: {environments: [production]}\n",
        )
        .unwrap();
        assert!(named.contains(r#""production": {"#));
        assert!(named.contains("const DEFAULT_ENV = null;"), "{named}");
    }

    #[test]
    fn slos_become_thresholds_and_paging_services_abort_in_production() {
        let spec = "  alerts: {page: true}\n  slos:\n    - {name: a, objective: 99.95, indicator: {type: availability}}\n    - {name: l, objective: 99.9, indicator: {type: latency, threshold: 250ms}}\n    - {name: r, objective: 99, indicator: {type: ratio, errors: 'sum(rate(e[{{window}}]))', total: 'sum(rate(t[{{window}}]))'}}\n  loadtest:\n    environments: [staging, production]\n    scenarios:\n      - {name: s, rate: 100/s, duration: 10s, requests: [{path: '/a?x=1'}, {method: POST, path: '/a,b'}]}\n";
        let model = model_from(PLATFORM, &[&service(spec)]);
        let svc = &model.services[0];
        let endpoints: BTreeSet<String> = ["GET /a", "POST /a,b"].map(String::from).into();
        let staging =
            serde_json::to_value(thresholds(svc, Protocol::Http, &endpoints, false)).unwrap();
        assert_eq!(
            staging,
            json!({
                "http_req_failed": ["rate<0.0005"],
                "http_req_duration": ["p(99.9)<250"],
                // `,` cannot be written in a threshold key: no per-endpoint
                // threshold for that one.
                "http_req_failed{name:GET /a}": ["rate<0.0005"],
                "http_req_duration{name:GET /a}": ["p(99.9)<250"],
            })
        );
        let production =
            serde_json::to_value(thresholds(svc, Protocol::Http, &endpoints, true)).unwrap();
        assert_eq!(
            production["http_req_failed"],
            json!([{"threshold": "rate<0.0005", "abortOnFail": true, "delayAbortEval": "30s"}])
        );
        let script = render_script(&model, svc, &Overrides::default())
            .unwrap()
            .unwrap();
        assert!(
            script.contains(r#""p(99.9)""#),
            "summaryTrendStats: {script}"
        );
        // 100/s × 250 ms × 2 requests = 50 VUs in flight.
        assert!(script.contains(r#""preAllocatedVUs": 50,"#), "{script}");
        assert!(script.contains(r#""maxVUs": 250"#));
    }

    #[test]
    fn stages_ramp_and_overrides_flatten() {
        let spec = "  loadtest:\n    scenarios:\n      - {name: s, rate: 1/s, duration: 90m, stages: [{target: 120/m, duration: 30s}], requests: [{path: /}]}\n";
        let model = model_from(PLATFORM, &[&service(spec)]);
        let svc = &model.services[0];
        let ramp =
            serde_json::to_value(executor(&svc.loadtest.scenarios[0], Duration::from_secs(1)))
                .unwrap();
        assert_eq!(ramp["executor"], "ramping-arrival-rate");
        assert_eq!(
            ramp["stages"],
            json!([{"target": 2, "duration": "30s"}, {"target": 2, "duration": "1h30m"}])
        );
        let flat = apply(
            &svc.loadtest.scenarios[0],
            &Overrides {
                duration: Some(Duration::from_secs(3)),
                rate: Some(Rate::parse("7/s").unwrap()),
            },
        );
        let constant = serde_json::to_value(executor(&flat, Duration::from_secs(1))).unwrap();
        assert_eq!(constant["executor"], "constant-arrival-rate");
        assert_eq!(constant["rate"], 7);
        assert_eq!(constant["duration"], "3s");
        assert_eq!(go_duration(Duration::from_hours(24)), "24h");
        assert_eq!(go_duration(Duration::from_millis(1500)), "1500ms");
    }

    #[test]
    fn a_grpc_service_warms_up_through_reflection() {
        let script = script_of(PLATFORM, "  framework: grpc\n").unwrap();
        assert!(script.contains(r#"import grpc from "k6/net/grpc";"#));
        assert!(script.contains(r#""requests": []"#), "{script}");
        assert!(script.contains("reflect: true"));
    }
}
