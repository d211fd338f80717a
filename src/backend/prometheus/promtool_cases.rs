//! promtool unit tests of the generated rules, one file per service
//! (`prometheus/tests/<service>.test.yml`), fed with the series of one of
//! its environments (see [`test_environment`]). `obsgen test` generates
//! them into a temporary folder; `tests.commit: true` in the platform file
//! writes them into the output tree.
//!
//! Every alert that [`super::rules`] emits gets synthetic input series and
//! at least one case where it fires, with every label and annotation it must
//! carry, and one where it must stay silent: just under its threshold, or
//! before its `for:` has elapsed. The cases are derived from the same
//! [`EmittedAlert`] descriptions the rules were built from, so changing a
//! threshold or a hold in a rule file makes its test fail; an integration
//! test proves that for each kind of alert.
//!
//! Inputs are the service's raw metrics (`up`, the framework's request
//! counters and histograms, the proxy's counters) so the recordings are
//! tested along with the alerts. Custom ratio SLIs are arbitrary PromQL, so
//! their burn-rate tests start from the SLI recordings instead.

use std::collections::BTreeMap;

use serde::Serialize;

use super::promql::selector;
use super::rules::{
    AlertKind, Annotations, EmittedAlert, RuleScope, ServiceRules, number, proxy_metrics,
    round_significant, sli_record, slo_labels,
};
use crate::model::metrics::{self, RequestMetrics, le_values};
use crate::model::slo::sli_windows;
use crate::model::{Indicator, Ingress, Service, ServiceEnvironment, Slo};
use crate::spec::{Duration, IngressKind};

/// Synthetic samples come once a minute.
const STEP: Duration = Duration::from_mins(1);

/// Rules are evaluated every five minutes in the main test file: the
/// ticket tiers hold for an hour, and evaluating every rule of the file
/// once a minute for that long in every case makes promtool slow for no
/// gain. Rate windows of 5m still see five samples, and every check below
/// is placed on an evaluation step.
const EVALUATION: Duration = Duration::from_mins(5);

/// The holds file evaluates every minute, like the samples come, so that a
/// check one evaluation before a `for:` ends tells a 2m hold from a 1m one.
const HOLD_EVALUATION: Duration = Duration::from_mins(1);

/// Requests per minute in the synthetic series.
const REQUESTS_PER_STEP: f64 = 1000.0;

#[derive(Debug, Serialize)]
pub struct TestFile {
    pub rule_files: Vec<String>,
    pub evaluation_interval: Duration,
    /// The file's order; promtool would otherwise sort groups by name and
    /// evaluate alerts before the recordings they read.
    pub group_eval_order: Vec<String>,
    pub tests: Vec<TestGroup>,
}

#[derive(Debug, Serialize)]
pub struct TestGroup {
    pub name: String,
    pub interval: Duration,
    /// The server's external labels: `env`, which shared rule files'
    /// annotations read.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub external_labels: BTreeMap<String, String>,
    pub input_series: Vec<Series>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alert_rule_test: Vec<AlertTest>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub promql_expr_test: Vec<ExprTest>,
}

/// A check of a recording's value.
#[derive(Debug, Serialize)]
pub struct ExprTest {
    pub expr: String,
    pub eval_time: Duration,
    pub exp_samples: Vec<ExpectedSample>,
}

#[derive(Debug, Serialize)]
pub struct ExpectedSample {
    pub labels: String,
    pub value: f64,
}

/// promtool compares values exactly, and rates carry float noise in their
/// last bits: a check asks whether the recording is within a millionth of
/// the expected value (`1` when it is, `0` when not, and `0` for NaN).
const TOLERANCE: &str = "0.000001";

fn close_to(
    matchers: &str,
    name: &str,
    labels: &BTreeMap<String, String>,
    value: f64,
) -> (String, ExpectedSample) {
    let pairs: Vec<(&str, &str)> = labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    (
        format!("abs({name}{matchers} - {value:?}) <= bool {TOLERANCE}"),
        ExpectedSample {
            labels: selector(&pairs),
            value: 1.0,
        },
    )
}

#[derive(Debug, Serialize)]
pub struct Series {
    pub series: String,
    pub values: String,
}

#[derive(Debug, Serialize)]
pub struct AlertTest {
    pub eval_time: Duration,
    pub alertname: String,
    pub exp_alerts: Vec<ExpectedAlert>,
}

#[derive(Debug, Serialize)]
pub struct ExpectedAlert {
    pub exp_labels: BTreeMap<String, String>,
    pub exp_annotations: Annotations,
}

/// The folder of the test files of shared rule files.
pub const TESTS_FOLDER: &str = "prometheus/tests";

/// The path of a service's test file in `folder`.
pub fn test_path(folder: &str, service: &str) -> String {
    format!("{folder}/{service}.test.yml")
}

/// The path of a service's holds test file in `folder`.
pub fn holds_path(folder: &str, service: &str) -> String {
    format!("{folder}/{service}.holds.test.yml")
}

/// The environment whose series a shared rule file is tested with: the
/// first production one (where the service pages), else the first.
pub fn test_environment(service: &Service) -> Option<&ServiceEnvironment> {
    service
        .environments
        .iter()
        .find(|env| env.production)
        .or_else(|| service.environments.first())
}

/// The `for:` holds of every alert, checked one minute before and when
/// they end, with rules evaluated every minute. Kept apart from
/// [`test_file`] because a one-minute evaluation of every case would make
/// promtool several times slower.
pub fn holds_file(
    service: &Service,
    env: &ServiceEnvironment,
    rules: &ServiceRules,
    rule_files: Vec<String>,
) -> TestFile {
    let step = HOLD_EVALUATION;
    let minute_before = |at: Duration| Duration::from_millis(at.as_millis() - step.as_millis());
    let check = |alert: &EmittedAlert, at: Duration, expected: Vec<ExpectedAlert>| AlertTest {
        eval_time: at,
        alertname: alert.name.to_string(),
        exp_alerts: expected,
    };
    let group = |name: String, input_series: Vec<Series>, checks: Vec<AlertTest>| TestGroup {
        name,
        interval: STEP,
        external_labels: BTreeMap::new(),
        input_series,
        alert_rule_test: checks,
        promql_expr_test: Vec::new(),
    };
    let up = |value: f64, count: u64| {
        series(
            "up",
            &[
                ("job", &service.name),
                ("env", &env.name),
                ("instance", "target-1:80"),
            ],
            gauge(value, count),
        )
    };
    let mut tests = Vec::new();
    let missing: Vec<&EmittedAlert> = rules
        .alerts
        .iter()
        .filter(|a| matches!(a.kind, AlertKind::IndicatorMissing { .. }))
        .collect();
    for alert in &rules.alerts {
        match &alert.kind {
            AlertKind::Unavailable => {
                let at = alert.hold;
                tests.push(group(
                    format!(
                        "{}: fires after {}, not a minute before",
                        alert.name, alert.hold
                    ),
                    vec![up(0.0, samples_until(at))],
                    vec![
                        check(alert, minute_before(at), vec![]),
                        check(alert, at, vec![expect(alert, env, 0.0)]),
                    ],
                ));
            }
            AlertKind::ProxyErrors {
                ingress, threshold, ..
            } => {
                // Rates need two samples: the condition holds from the
                // second evaluation on.
                let at = Duration::from_millis(step.as_millis() + alert.hold.as_millis());
                let ratio = above(*threshold);
                let inputs = proxy_inputs(
                    env,
                    ingress,
                    ratio,
                    REQUESTS_PER_STEP,
                    None,
                    samples_until(at),
                );
                tests.push(group(
                    format!(
                        "{}: fires {} after the ratio rises, not a minute before",
                        alert.name, alert.hold
                    ),
                    inputs,
                    vec![
                        check(alert, minute_before(at), vec![]),
                        check(alert, at, vec![expect(alert, env, ratio)]),
                    ],
                ));
            }
            AlertKind::IndicatorMissing { .. } => {
                if missing
                    .first()
                    .is_some_and(|first| std::ptr::eq(*first, alert))
                {
                    let at = alert.hold;
                    tests.push(group(
                        format!(
                            "{}: fires after {}, not a minute before",
                            alert.name, alert.hold
                        ),
                        vec![up(1.0, samples_until(at))],
                        vec![
                            check(alert, minute_before(at), vec![]),
                            check(
                                alert,
                                at,
                                missing.iter().map(|a| expect(a, env, 1.0)).collect(),
                            ),
                        ],
                    ));
                }
            }
            AlertKind::Burn { slo, window, .. } => {
                if window.tier == crate::model::slo::Tier::Page
                    && window.speed == crate::model::slo::Speed::Fast
                {
                    let tiers: Vec<&EmittedAlert> = rules
                        .alerts
                        .iter()
                        .filter(|other| matches!(&other.kind, AlertKind::Burn { slo: s, .. } if s.name == slo.name))
                        .collect();
                    tests.push(burn_holds_case(service, env, slo, &tiers));
                }
            }
        }
    }
    TestFile {
        rule_files,
        evaluation_interval: HOLD_EVALUATION,
        group_eval_order: rules.file.groups.iter().map(|g| g.name.clone()).collect(),
        tests: on_server_of(env, tests),
    }
}

/// The tests of a service's rules, fed with the series of `env`;
/// `rule_files` are their paths relative to the test file.
pub fn test_file(
    service: &Service,
    env: &ServiceEnvironment,
    rules: &ServiceRules,
    rule_files: Vec<String>,
) -> TestFile {
    let request = metrics::for_framework(service.framework).server;
    let mut tests = vec![request_recording_case(service, env, &request)];
    for alert in &rules.alerts {
        match &alert.kind {
            AlertKind::Unavailable => tests.extend(unavailable_cases(service, env, alert)),
            AlertKind::ProxyErrors {
                ingress,
                threshold,
                min_rps,
            } => {
                tests.extend(proxy_cases(env, alert, ingress, *threshold, *min_rps));
            }
            AlertKind::IndicatorMissing { .. } => {
                // All SLOs together: they share the alert name, and promtool
                // compares every alert of that name.
                let first = rules
                    .alerts
                    .iter()
                    .position(|a| matches!(a.kind, AlertKind::IndicatorMissing { .. }));
                if first
                    .and_then(|index| rules.alerts.get(index))
                    .is_some_and(|first| std::ptr::eq(first, alert))
                {
                    tests.extend(indicator_missing_cases(
                        service,
                        env,
                        &request,
                        &rules.alerts,
                    ));
                }
            }
            AlertKind::Burn { slo, window, .. } => {
                // All tiers of one SLO are tested together: a burn fast enough
                // for one tier also fires every slower tier.
                if window.tier == crate::model::slo::Tier::Page
                    && window.speed == crate::model::slo::Speed::Fast
                {
                    let tiers: Vec<&EmittedAlert> = rules
                        .alerts
                        .iter()
                        .filter(|other| matches!(&other.kind, AlertKind::Burn { slo: s, .. } if s.name == slo.name))
                        .collect();
                    tests.extend(burn_cases(service, env, slo, &request, &tiers));
                    tests.extend(window_cases(service, env, slo, &tiers));
                    let scope = match tiers.first().and_then(|a| a.env.as_ref()) {
                        Some(_) => RuleScope::Environment(env),
                        None => RuleScope::Shared,
                    };
                    tests.push(slo_recording_case(service, env, scope, slo, &request));
                }
            }
        }
    }
    TestFile {
        rule_files,
        evaluation_interval: EVALUATION,
        group_eval_order: rules.file.groups.iter().map(|g| g.name.clone()).collect(),
        tests: on_server_of(env, tests),
    }
}

/// Runs every case as on the Prometheus of `env`, whose `external_labels`
/// name it.
fn on_server_of(env: &ServiceEnvironment, mut tests: Vec<TestGroup>) -> Vec<TestGroup> {
    for test in &mut tests {
        test.external_labels = BTreeMap::from([("env".to_string(), env.name.clone())]);
    }
    tests
}

/// Samples of a series lasting until `end`.
fn samples_until(end: Duration) -> u64 {
    end.as_millis() / STEP.as_millis() + 1
}

/// The first evaluation at which an alert whose condition holds from
/// `active` on (an evaluation step) fires after `hold`.
fn fires_at(active: Duration, hold: Duration) -> Duration {
    let step = EVALUATION.as_millis();
    let due = active.as_millis() + hold.as_millis();
    Duration::from_millis(due.div_ceil(step) * step)
}

/// Conditions built on rates become true at the first evaluation that has
/// two samples in the window: the second evaluation step.
const RATES_ACTIVE: Duration = EVALUATION;

/// A counter growing by `per_step` every step, `count` steps long.
fn counter(per_step: f64, count: u64) -> String {
    format!("0+{}x{count}", number(per_step))
}

/// A gauge holding `value`.
fn gauge(value: f64, count: u64) -> String {
    format!("{}+0x{count}", number(value))
}

fn series(metric: &str, labels: &[(&str, &str)], values: String) -> Series {
    Series {
        series: format!("{metric}{}", selector(labels)),
        values,
    }
}

/// The alert as it fires in `env`, whose series carry `env`.
fn expect(alert: &EmittedAlert, env: &ServiceEnvironment, value: f64) -> ExpectedAlert {
    let mut expected = expect_without_series(alert, env, value);
    expected
        .exp_labels
        .insert("env".to_string(), env.name.clone());
    expected
}

/// The alert as it fires in `env` from an expression with no series
/// (`absent(...)`): only the labels the rule states.
fn expect_without_series(
    alert: &EmittedAlert,
    env: &ServiceEnvironment,
    value: f64,
) -> ExpectedAlert {
    ExpectedAlert {
        exp_labels: alert.expected_labels(),
        exp_annotations: alert.expected_annotations(value, &env.name),
    }
}

fn unavailable_cases(
    service: &Service,
    env: &ServiceEnvironment,
    alert: &EmittedAlert,
) -> Vec<TestGroup> {
    // `up` and `absent` hold from the very first evaluation.
    let fired_at = fires_at(Duration::from_millis(0), alert.hold);
    let count = samples_until(fired_at);
    let up = |instance: &str, value: f64| {
        series(
            "up",
            &[
                ("job", &service.name),
                ("env", &env.name),
                ("instance", instance),
            ],
            gauge(value, count),
        )
    };
    let test = |eval_time: Duration, expected: Vec<ExpectedAlert>| AlertTest {
        eval_time,
        alertname: alert.name.to_string(),
        exp_alerts: expected,
    };
    vec![
        TestGroup {
            name: format!(
                "{}: fires once every target has been down for {}",
                alert.name, alert.hold
            ),
            interval: STEP,
            external_labels: BTreeMap::new(),
            promql_expr_test: Vec::new(),
            input_series: vec![up("target-1:80", 0.0), up("target-2:80", 0.0)],
            alert_rule_test: vec![
                test(
                    Duration::from_millis(fired_at.as_millis() - EVALUATION.as_millis()),
                    vec![],
                ),
                test(fired_at, vec![expect(alert, env, 0.0)]),
            ],
        },
        TestGroup {
            name: format!("{}: fires when the job has no target at all", alert.name),
            interval: STEP,
            external_labels: BTreeMap::new(),
            promql_expr_test: Vec::new(),
            input_series: vec![series(
                "up",
                &[
                    ("job", &format!("not-{}", service.name)),
                    ("env", &env.name),
                    ("instance", "target-1:80"),
                ],
                gauge(1.0, count),
            )],
            alert_rule_test: vec![test(fired_at, vec![expect_without_series(alert, env, 1.0)])],
        },
        TestGroup {
            name: format!("{}: stays silent while one target is up", alert.name),
            interval: STEP,
            external_labels: BTreeMap::new(),
            promql_expr_test: Vec::new(),
            input_series: vec![up("target-1:80", 0.0), up("target-2:80", 1.0)],
            alert_rule_test: vec![test(fired_at, vec![])],
        },
    ]
}

/// A ratio clearly above `threshold` (and below 1), with three significant
/// digits so that `humanizePercentage` prints it exactly.
fn above(threshold: f64) -> f64 {
    round_significant((threshold * 1.1).min((1.0 + threshold) / 2.0), 3)
}

/// A ratio just under `threshold`.
fn under(threshold: f64) -> f64 {
    round_significant(threshold * 0.9, 3)
}

/// The labels naming the proxied service in the proxy's series, and the
/// label distinguishing a success from a 5xx.
fn proxy_series_labels(
    ingress: &Ingress,
) -> (Vec<(&'static str, String)>, &'static str, [&'static str; 2]) {
    match ingress.kind {
        IngressKind::Nginx => (
            vec![("ingress", ingress.name.clone())],
            "status",
            ["200", "503"],
        ),
        IngressKind::Envoy => (
            vec![("envoy_cluster_name", ingress.name.clone())],
            "envoy_response_code_class",
            ["2", "5"],
        ),
        IngressKind::Traefik => (
            vec![("service", format!("{}@kubernetes", ingress.name))],
            "code",
            ["200", "502"],
        ),
        IngressKind::Haproxy => (
            vec![("proxy", ingress.name.clone())],
            "code",
            ["2xx", "5xx"],
        ),
    }
}

/// The label keeping one environment's proxy series (see
/// [`super::rules::proxy_env_scopes`]), with this environment's value and
/// another one's.
fn proxy_scope(ingress: &Ingress, env: &ServiceEnvironment) -> (&'static str, String, String) {
    match ingress.kind {
        IngressKind::Nginx => (
            "exported_namespace",
            env.namespace.clone(),
            format!("not-{}", env.namespace),
        ),
        _ => ("env", env.name.clone(), format!("not-{}", env.name)),
    }
}

/// The proxy's counters for the service: `requests_per_step` with a share
/// `ratio` of 5xx, in this environment or (with `other_env`) in another.
fn proxy_inputs(
    env: &ServiceEnvironment,
    ingress: &Ingress,
    ratio: f64,
    requests_per_step: f64,
    other_env: Option<&str>,
    count: u64,
) -> Vec<Series> {
    let (metric, _, _) = proxy_metrics(ingress);
    let (name_labels, outcome, [ok, failed]) = proxy_series_labels(ingress);
    let (scope_label, this_env, _) = proxy_scope(ingress, env);
    let scope = other_env.unwrap_or(&this_env);
    let errors = ratio * requests_per_step;
    [(ok, requests_per_step - errors), (failed, errors)]
        .into_iter()
        .map(|(code, per_step)| {
            let mut labels: Vec<(&str, &str)> =
                name_labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
            labels.push((outcome, code));
            labels.push((scope_label, scope));
            labels.push(("instance", "proxy-1:10254"));
            series(metric, &labels, counter(per_step, count))
        })
        .collect()
}

fn proxy_cases(
    env: &ServiceEnvironment,
    alert: &EmittedAlert,
    ingress: &Ingress,
    threshold: f64,
    min_rps: f64,
) -> Vec<TestGroup> {
    let (scope_label, _, other_env) = proxy_scope(ingress, env);
    let eval_time = fires_at(RATES_ACTIVE, alert.hold);
    let count = samples_until(eval_time);
    let inputs = |ratio: f64, requests_per_step: f64, other: Option<&str>| {
        proxy_inputs(env, ingress, ratio, requests_per_step, other, count)
    };
    let check = |expected: Vec<ExpectedAlert>| AlertTest {
        eval_time,
        alertname: alert.name.to_string(),
        exp_alerts: expected,
    };
    let case = |ratio: f64, fires: bool| TestGroup {
        name: format!(
            "{}: {} at {}% 5xx (threshold {}%)",
            alert.name,
            if fires { "fires" } else { "stays silent" },
            number(ratio * 100.0),
            number(threshold * 100.0)
        ),
        interval: STEP,
        external_labels: BTreeMap::new(),
        promql_expr_test: Vec::new(),
        input_series: inputs(ratio, REQUESTS_PER_STEP, None),
        alert_rule_test: if fires {
            vec![
                // Pending, not yet firing, one evaluation before its hold ends.
                AlertTest {
                    eval_time: Duration::from_millis(
                        eval_time.as_millis() - EVALUATION.as_millis(),
                    ),
                    alertname: alert.name.to_string(),
                    exp_alerts: vec![],
                },
                check(vec![expect(alert, env, ratio)]),
            ]
        } else {
            vec![check(vec![])]
        },
    };
    let high = above(threshold);
    let mut groups = vec![case(high, true), case(under(threshold), false)];
    // A shared rule file is only ever loaded with one environment's series.
    if alert.env.is_some() {
        groups.push(TestGroup {
            name: format!(
                "{}: stays silent at {}% 5xx in another environment ({scope_label}=\"{other_env}\")",
                alert.name,
                number(high * 100.0)
            ),
            interval: STEP,
            external_labels: BTreeMap::new(),
            promql_expr_test: Vec::new(),
            input_series: inputs(high, REQUESTS_PER_STEP, Some(&other_env)),
            alert_rule_test: vec![check(vec![])],
        });
    }
    if min_rps > 0.0 {
        // Half the minimum rate: a high ratio of too few requests.
        let per_step = min_rps * STEP.as_secs_f64() / 2.0;
        groups.push(TestGroup {
            name: format!(
                "{}: stays silent at {}% 5xx of {} requests per second (minimum {})",
                alert.name,
                number(high * 100.0),
                number(min_rps / 2.0),
                number(min_rps)
            ),
            interval: STEP,
            external_labels: BTreeMap::new(),
            promql_expr_test: Vec::new(),
            input_series: inputs(high, per_step, None),
            alert_rule_test: vec![check(vec![])],
        });
    }
    groups
}

/// The values of the outcome label for a success and for a failure.
fn outcomes(request: &RequestMetrics) -> [&'static str; 2] {
    if request.errors.label == "grpc_code" {
        ["OK", "Unavailable"]
    } else {
        ["200", "500"]
    }
}

/// Input series making the SLI error ratio of `slo` equal `ratio`.
fn sli_inputs(
    service: &Service,
    env: &ServiceEnvironment,
    slo: &Slo,
    request: &RequestMetrics,
    ratio: f64,
    count: u64,
) -> Vec<Series> {
    sli_inputs_shaped(
        service,
        env,
        slo,
        request,
        ratio,
        count,
        REQUESTS_PER_STEP,
        |per_step| counter(per_step, count),
    )
}

/// [`sli_inputs`] with `requests` per step and counters shaped by `shape`
/// (given the increase per step).
#[allow(clippy::too_many_arguments)]
fn sli_inputs_shaped(
    service: &Service,
    env: &ServiceEnvironment,
    slo: &Slo,
    request: &RequestMetrics,
    ratio: f64,
    count: u64,
    requests: f64,
    shape: impl Fn(f64) -> String,
) -> Vec<Series> {
    let base = [
        ("job", service.name.as_str()),
        ("env", env.name.as_str()),
        ("instance", "target-1:80"),
    ];
    let bad = ratio * requests;
    match &slo.indicator {
        Indicator::Availability => {
            let [ok, failed] = outcomes(request);
            [(ok, requests - bad), (failed, bad)]
                .into_iter()
                .map(|(code, per_step)| {
                    let mut labels = base.to_vec();
                    labels.push((request.errors.label, code));
                    series(request.requests, &labels, shape(per_step))
                })
                .collect()
        }
        Indicator::Latency { threshold } => {
            let le = le_values(threshold.as_secs_f64());
            // The last spelling (`1.0` for whole seconds) proves the
            // matcher accepts both.
            let le = le.last().cloned().unwrap_or_default();
            let mut timed = base.to_vec();
            timed.extend(request.latency_matchers.iter().copied());
            let mut bucket = timed.clone();
            bucket.push(("le", &le));
            vec![
                series(&request.duration_count(), &timed, shape(requests)),
                series(&request.duration_bucket(), &bucket, shape(requests - bad)),
            ]
        }
        Indicator::Ratio { .. } => {
            let labels = slo_labels(service, RuleScope::Environment(env), slo);
            sli_windows(slo.window)
                .into_iter()
                .map(|window| {
                    let window = window.to_string();
                    let mut labels: Vec<(&str, &str)> = labels
                        .iter()
                        .map(|(k, v)| (k.as_str(), v.as_str()))
                        .collect();
                    labels.push(("sloth_window", &window));
                    series(&sli_record_of(&window), &labels, gauge(ratio, count))
                })
                .collect()
        }
    }
}

fn sli_record_of(window: &str) -> String {
    Duration::parse(window)
        .map(sli_record)
        .unwrap_or_else(|_| format!("slo:sli_error:ratio_rate{window}"))
}

/// Each tier is checked at the first evaluation after its own `for:` has
/// elapsed, when the slower tiers (with longer holds) are still pending:
/// the test expects the tiers that are over their threshold *and* past
/// their hold, which pins both the threshold and the hold of every tier.
fn burn_cases(
    service: &Service,
    env: &ServiceEnvironment,
    slo: &Slo,
    request: &RequestMetrics,
    tiers: &[&EmittedAlert],
) -> Vec<TestGroup> {
    let threshold_of = |alert: &EmittedAlert| match &alert.kind {
        AlertKind::Burn { threshold, .. } => *threshold,
        _ => f64::INFINITY,
    };
    let mut groups = Vec::new();
    for alert in tiers {
        let AlertKind::Burn { window, .. } = &alert.kind else {
            continue;
        };
        let eval_time = fires_at(RATES_ACTIVE, alert.hold);
        let count = samples_until(eval_time);
        let threshold = threshold_of(alert);
        for (ratio, fires) in [(above(threshold), true), (under(threshold), false)] {
            let expected: Vec<ExpectedAlert> = tiers
                .iter()
                .filter(|other| {
                    threshold_of(other) < ratio && fires_at(RATES_ACTIVE, other.hold) <= eval_time
                })
                .map(|other| expect(other, env, ratio))
                .collect();
            groups.push(TestGroup {
                name: format!(
                    "{} {} {}/{}: {} at an error ratio of {}% (threshold {}%)",
                    alert.name,
                    slo.name,
                    window.tier.as_str(),
                    window.speed.as_str(),
                    if fires { "fires" } else { "stays silent" },
                    number(ratio * 100.0),
                    number(threshold * 100.0)
                ),
                interval: STEP,
                external_labels: BTreeMap::new(),
                promql_expr_test: Vec::new(),
                input_series: sli_inputs(service, env, slo, request, ratio, count),
                alert_rule_test: vec![AlertTest {
                    eval_time,
                    alertname: alert.name.to_string(),
                    exp_alerts: expected,
                }],
            });
        }
    }
    groups
}

/// SLOIndicatorMissing fires once the service has been up for its hold
/// without the indicators' series, and stays silent while they exist or
/// while the service is down (ServiceUnavailable's business).
fn indicator_missing_cases(
    service: &Service,
    env: &ServiceEnvironment,
    request: &RequestMetrics,
    all_alerts: &[EmittedAlert],
) -> Vec<TestGroup> {
    let alerts: Vec<(&Slo, &EmittedAlert)> = all_alerts
        .iter()
        .filter_map(|alert| match &alert.kind {
            AlertKind::IndicatorMissing { slo } => Some((slo, alert)),
            _ => None,
        })
        .collect();
    let Some((_, first)) = alerts.first() else {
        return Vec::new();
    };
    let name = first.name;
    let fired_at = fires_at(Duration::from_millis(0), first.hold);
    let count = samples_until(fired_at);
    let up = |value: f64| {
        series(
            "up",
            &[
                ("job", &service.name),
                ("env", &env.name),
                ("instance", "target-1:80"),
            ],
            gauge(value, count),
        )
    };
    let test = |eval_time: Duration, expected: Vec<ExpectedAlert>| AlertTest {
        eval_time,
        alertname: name.to_string(),
        exp_alerts: expected,
    };
    let before = Duration::from_millis(fired_at.as_millis() - EVALUATION.as_millis());
    let every: Vec<ExpectedAlert> = alerts.iter().map(|(_, a)| expect(a, env, 1.0)).collect();
    // Custom ratio SLIs are arbitrary PromQL: no synthetic series feed
    // their `total` query, so they stay missing in the third case.
    let mut present = vec![up(1.0)];
    let mut still_missing = Vec::new();
    for (slo, alert) in &alerts {
        if matches!(slo.indicator, Indicator::Ratio { .. }) {
            still_missing.push(expect(alert, env, 1.0));
        } else {
            for input in sli_inputs(service, env, slo, request, 0.0, count) {
                if !present.iter().any(|p: &Series| p.series == input.series) {
                    present.push(input);
                }
            }
        }
    }
    vec![
        TestGroup {
            name: format!(
                "{name}: fires once the service has been up without the indicators' series for {}",
                first.hold
            ),
            interval: STEP,
            external_labels: BTreeMap::new(),
            promql_expr_test: Vec::new(),
            input_series: vec![up(1.0)],
            alert_rule_test: vec![test(before, vec![]), test(fired_at, every)],
        },
        TestGroup {
            name: format!("{name}: stays silent while the service is down"),
            interval: STEP,
            external_labels: BTreeMap::new(),
            promql_expr_test: Vec::new(),
            input_series: vec![up(0.0)],
            alert_rule_test: vec![test(fired_at, vec![])],
        },
        TestGroup {
            name: format!("{name}: stays silent while the indicators' series exist"),
            interval: STEP,
            external_labels: BTreeMap::new(),
            promql_expr_test: Vec::new(),
            input_series: present,
            alert_rule_test: vec![test(fired_at, still_missing)],
        },
    ]
}

/// Requests per step in the recording checks: 10 per second, with a
/// quarter failing, so that every rate and ratio is exact in binary and
/// promtool's exact comparison holds.
const EXACT_REQUESTS_PER_STEP: f64 = 600.0;
/// The error ratio of the recording checks.
const EXACT_RATIO: f64 = 0.25;

/// A number as the rule file writes it, read back as Prometheus reads it.
fn as_written(value: f64) -> f64 {
    number(value).parse().unwrap_or(value)
}

/// The request recordings (rate and error ratio, by job and by route) on
/// 10 requests per second of which a quarter fail.
fn request_recording_case(
    service: &Service,
    env: &ServiceEnvironment,
    request: &RequestMetrics,
) -> TestGroup {
    let eval_time = Duration::from_mins(10);
    let count = samples_until(eval_time);
    let [ok, failed] = outcomes(request);
    let bad = EXACT_RATIO * EXACT_REQUESTS_PER_STEP;
    let inputs = [(ok, EXACT_REQUESTS_PER_STEP - bad), (failed, bad)]
        .into_iter()
        .map(|(code, per_step)| {
            let mut labels = vec![
                ("job", service.name.as_str()),
                ("env", env.name.as_str()),
                ("instance", "target-1:80"),
                (request.errors.label, code),
            ];
            labels.extend(request.route_labels.iter().map(|l| (*l, "r")));
            series(request.requests, &labels, counter(per_step, count))
        })
        .collect();
    let job = BTreeMap::from([
        ("job".to_string(), service.name.clone()),
        ("env".to_string(), env.name.clone()),
    ]);
    let mut levels = vec![("job_env", job.clone())];
    if !request.route_labels.is_empty() {
        let mut route = job;
        route.extend(
            request
                .route_labels
                .iter()
                .map(|l| (l.to_string(), "r".to_string())),
        );
        levels.push(("job_env_route", route));
    }
    let per_second = EXACT_REQUESTS_PER_STEP / STEP.as_secs_f64();
    let mut checks = Vec::new();
    for (level, labels) in levels {
        for (name, value) in [
            (format!("{level}:requests:rate5m"), per_second),
            (format!("{level}:request_errors:ratio_rate5m"), EXACT_RATIO),
        ] {
            let (expr, expected) = close_to("", &name, &labels, value);
            checks.push(ExprTest {
                expr,
                eval_time,
                exp_samples: vec![expected],
            });
        }
    }
    TestGroup {
        name: format!(
            "request recordings: {} requests per second, {}% failing",
            number(per_second),
            number(EXACT_RATIO * 100.0)
        ),
        interval: STEP,
        external_labels: BTreeMap::new(),
        input_series: inputs,
        alert_rule_test: Vec::new(),
        promql_expr_test: checks,
    }
}

/// The SLO-window ratio and the meta recordings after an idle gap (no
/// request at all for 20 minutes, then a quarter of the requests failing):
/// the idle windows must not make the SLO-window ratio NaN. Custom ratio
/// SLIs start from their recordings, without a gap.
fn slo_recording_case(
    service: &Service,
    env: &ServiceEnvironment,
    scope: RuleScope<'_>,
    slo: &Slo,
    request: &RequestMetrics,
) -> TestGroup {
    let idle = 20;
    let busy = 20;
    let eval_time = Duration::from_mins(idle + busy);
    let count = samples_until(eval_time);
    let gap = !matches!(slo.indicator, Indicator::Ratio { .. });
    let inputs = if gap {
        sli_inputs_shaped(
            service,
            env,
            slo,
            request,
            EXACT_RATIO,
            count,
            EXACT_REQUESTS_PER_STEP,
            |per_step| {
                format!(
                    "0x{idle} {}+{}x{}",
                    number(per_step),
                    number(per_step),
                    busy - 1
                )
            },
        )
    } else {
        sli_inputs(service, env, slo, request, EXACT_RATIO, count)
    };
    // The recordings computed from the series carry their `env`; the
    // constants (objective, budget, period) only the labels the rule states.
    let labels = slo_labels(service, RuleScope::Environment(env), slo);
    let constant_labels = slo_labels(service, scope, slo);
    let with_window = |window: Duration| {
        let mut labels = labels.clone();
        labels.insert("sloth_window".to_string(), window.to_string());
        labels
    };
    let budget = as_written(slo.error_budget());
    let burn = EXACT_RATIO / budget;
    let sloth_id = labels
        .get("sloth_id")
        .map(String::as_str)
        .unwrap_or_default();
    let selector_of = format!("{{sloth_id={}}}", super::promql::quote(sloth_id));
    let check = |name: &str, labels: BTreeMap<String, String>, value: f64| {
        let (expr, expected) = close_to(&selector_of, name, &labels, value);
        ExprTest {
            expr,
            eval_time,
            exp_samples: vec![expected],
        }
    };
    let period = sli_record(slo.window);
    let checks = vec![
        check(&period, with_window(slo.window), EXACT_RATIO),
        check(
            "slo:objective:ratio",
            constant_labels.clone(),
            as_written(slo.objective / 100.0),
        ),
        check("slo:error_budget:ratio", constant_labels.clone(), budget),
        check(
            "slo:time_period:days",
            constant_labels,
            as_written(slo.window.as_secs_f64() / 86_400.0),
        ),
        check(
            "slo:current_burn_rate:ratio",
            with_window(super::rules::RATE_WINDOW),
            burn,
        ),
        check("slo:period_burn_rate:ratio", with_window(slo.window), burn),
        check(
            "slo:period_error_budget_remaining:ratio",
            with_window(slo.window),
            1.0 - burn,
        ),
    ];
    TestGroup {
        name: if gap {
            format!(
                "{} SLO recordings: {idle}m without traffic, then {busy}m with {}% errors",
                slo.name,
                number(EXACT_RATIO * 100.0)
            )
        } else {
            format!(
                "{} SLO recordings: {}% errors",
                slo.name,
                number(EXACT_RATIO * 100.0)
            )
        },
        interval: STEP,
        external_labels: BTreeMap::new(),
        input_series: inputs,
        alert_rule_test: Vec::new(),
        promql_expr_test: checks,
    }
}

/// The burn-rate tiers of one SLO, with their windows and thresholds.
fn burn_tiers<'a>(
    tiers: &[&'a EmittedAlert],
) -> Vec<(&'a EmittedAlert, crate::model::slo::BurnWindow, f64)> {
    tiers
        .iter()
        .filter_map(|alert| match &alert.kind {
            AlertKind::Burn {
                window, threshold, ..
            } => Some((*alert, *window, *threshold)),
            _ => None,
        })
        .collect()
}

/// The SLI recordings as gauges, one per window: every window at `high`
/// except `clean`, at 0. The burn-rate cases below start from them so that
/// each window can be set on its own.
fn window_gauges(
    service: &Service,
    env: &ServiceEnvironment,
    slo: &Slo,
    high: f64,
    clean: Option<Duration>,
    count: u64,
) -> Vec<Series> {
    let labels = slo_labels(service, RuleScope::Environment(env), slo);
    sli_windows(slo.window)
        .iter()
        .map(|window| {
            let name = window.to_string();
            let mut pairs: Vec<(&str, &str)> = labels
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            pairs.push(("sloth_window", &name));
            let value = if Some(*window) == clean { 0.0 } else { high };
            series(&sli_record(*window), &pairs, gauge(value, count))
        })
        .collect()
}

/// The tiers that fire at `at` when every window is at `high` except
/// `clean`: both windows of the tier above its threshold and its hold over
/// (the gauges hold from the first evaluation on).
fn firing_tiers(
    env: &ServiceEnvironment,
    burns: &[(&EmittedAlert, crate::model::slo::BurnWindow, f64)],
    high: f64,
    clean: Option<Duration>,
    at: Duration,
) -> Vec<ExpectedAlert> {
    burns
        .iter()
        .filter(|(alert, window, _)| {
            Some(window.long) != clean && Some(window.short) != clean && alert.hold <= at
        })
        .map(|(alert, _, _)| expect(alert, env, high))
        .collect()
}

/// A ratio above every tier's threshold.
fn above_all(burns: &[(&EmittedAlert, crate::model::slo::BurnWindow, f64)]) -> Option<f64> {
    burns.iter().map(|(_, _, t)| *t).reduce(f64::max).map(above)
}

/// Burn-rate cases that tell the windows apart, per tier: a burst (the
/// short window high, the long one clean) and a recovered incident (the
/// long window high, the short one clean), checked once the tier's hold is
/// over. The tier must stay silent, which proves the `and` and both of its
/// windows: with `or`, or with either window swapped for another, it fires.
fn window_cases(
    service: &Service,
    env: &ServiceEnvironment,
    slo: &Slo,
    tiers: &[&EmittedAlert],
) -> Vec<TestGroup> {
    let burns = burn_tiers(tiers);
    let Some(high) = above_all(&burns) else {
        return Vec::new();
    };
    let mut groups = Vec::new();
    for (alert, window, _) in &burns {
        let at = fires_at(Duration::from_millis(0), alert.hold);
        for (what, clean) in [
            (
                "a burst: the short window high, the long one clean",
                window.long,
            ),
            (
                "a recovered incident: the long window high, the short one clean",
                window.short,
            ),
        ] {
            groups.push(TestGroup {
                name: format!(
                    "{} {} {}/{}: stays silent on {what} ({} at 0, the others at {}%)",
                    alert.name,
                    slo.name,
                    window.tier.as_str(),
                    window.speed.as_str(),
                    clean,
                    number(high * 100.0)
                ),
                interval: STEP,
                external_labels: BTreeMap::new(),
                input_series: window_gauges(
                    service,
                    env,
                    slo,
                    high,
                    Some(clean),
                    samples_until(at),
                ),
                alert_rule_test: vec![AlertTest {
                    eval_time: at,
                    alertname: alert.name.to_string(),
                    exp_alerts: firing_tiers(env, &burns, high, Some(clean), at),
                }],
                promql_expr_test: Vec::new(),
            });
        }
    }
    groups
}

/// Every window above every threshold; each tier is checked a minute
/// before its `for:` ends (still pending) and when it ends (firing). For
/// [`holds_file`], evaluated every minute.
fn burn_holds_case(
    service: &Service,
    env: &ServiceEnvironment,
    slo: &Slo,
    tiers: &[&EmittedAlert],
) -> TestGroup {
    let burns = burn_tiers(tiers);
    let high = above_all(&burns).unwrap_or(0.5);
    let mut holds: Vec<Duration> = burns.iter().map(|(a, _, _)| a.hold).collect();
    holds.sort();
    holds.dedup();
    let last = holds.last().copied().unwrap_or(HOLD_EVALUATION);
    let check = |at: Duration| AlertTest {
        eval_time: at,
        alertname: crate::model::alerts::ERROR_BUDGET_BURN.to_string(),
        exp_alerts: firing_tiers(env, &burns, high, None, at),
    };
    let mut checks = Vec::new();
    for hold in &holds {
        checks.push(check(Duration::from_millis(
            hold.as_millis() - HOLD_EVALUATION.as_millis(),
        )));
        checks.push(check(*hold));
    }
    TestGroup {
        name: format!(
            "{} {}: every window at {}%, each tier a minute before and at the end of its for:",
            crate::model::alerts::ERROR_BUDGET_BURN,
            slo.name,
            number(high * 100.0)
        ),
        interval: STEP,
        external_labels: BTreeMap::new(),
        input_series: window_gauges(service, env, slo, high, None, samples_until(last)),
        alert_rule_test: checks,
        promql_expr_test: Vec::new(),
    }
}
