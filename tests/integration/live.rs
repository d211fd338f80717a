//! The generated configuration run by a real Prometheus and a real
//! Alertmanager, on loopback only.
//!
//! Each test writes a small repository (one production environment, one
//! team, one `http` service with an availability SLO), compiles it, and
//! starts the Debian `prometheus` and `alertmanager` on 127.0.0.1 with
//! ports chosen at run time, next to two tiny HTTP servers of its own: the
//! service's `/metrics`, and a sink standing in for Slack and for the
//! team's webhook. Nothing leaves 127.0.0.1: the Slack URL is a file the
//! test writes, the webhook and the dashboard and runbook links are
//! loopback URLs, there is no PagerDuty and no e-mail, Alertmanager's
//! clustering is off, and proxy variables are removed from the children's
//! environment.
//!
//! - Prometheus scrapes the service with the labels of the contract
//!   (`job`, `env`, `team`, `service` and the manifest's own), evaluates
//!   every generated rule group without error, computes the recorded error
//!   ratio from the live series, and holds the fast SLO burn alert pending.
//! - Alertmanager routes an alert with the rules' labels to the team's
//!   receiver and renders obsgen's templates into the Slack message and the
//!   webhook body that reach the sink.
//! - Prometheus itself fires `ServiceUnavailable` to Alertmanager when the
//!   service stops answering, and resolves it when it is back.
//!
//! Every child is killed and reaped by a guard, every wait is bounded, and
//! the servers' threads stop when their guards drop.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{
    HttpServer, Process, TempDir, dashboard_queries, encode, free_ports, get_json, http, labels,
    number, string_map, tool,
};

const SERVICE: &str = "checkout";
const TEAM: &str = "payments";
const ENV: &str = "production";
const CHANNEL: &str = "#payments-alerts";
const RECEIVER: &str = "payments/notify";
const RUNBOOK: &str = "http://127.0.0.1:9/runbooks/checkout";
/// Every wait is bounded by this, unless it waits for a `for:` clause.
const WAIT: Duration = Duration::from_secs(30);
const STEP: Duration = Duration::from_millis(200);
/// Per scrape, the service answers this many requests with 200 for each
/// one with 500: the error ratio is exactly 1/11.
const OK_PER_ERROR: u64 = 10;

// ---------------------------------------------------------------------------
// The stack: a repository, its output, the two servers and the two tools
// ---------------------------------------------------------------------------

fn platform_yaml(alertmanager_port: u16, slack_url_file: &Path, sink_port: u16) -> String {
    format!(
        r#"apiVersion: obsgen.dev/v1
kind: Platform
metadata: {{name: live}}
spec:
  environments:
    - {{name: {ENV}, production: true}}
  grafana: {{url: "http://127.0.0.1:9"}}
  prometheus:
    discovery: static
    scrape_interval: 1s
    evaluation_interval: 1s
    alertmanagers: ["127.0.0.1:{alertmanager_port}"]
  alerting:
    group_wait: 1s
    group_interval: 1s
    repeat_interval: 1h
  teams:
    {TEAM}:
      slack: {{channel: "{CHANNEL}", api_url_file: "{slack}"}}
      webhook: {{url: "http://127.0.0.1:{sink_port}/hook"}}
"#,
        slack = slack_url_file.display()
    )
}

fn service_yaml(metrics_port: u16) -> String {
    format!(
        r#"apiVersion: obsgen.dev/v1
kind: Service
metadata:
  name: {SERVICE}
  team: {TEAM}
  labels: {{tier: critical}}
spec:
  language: go
  framework: http
  metrics: {{discovery: static}}
  targets:
    {ENV}: ["127.0.0.1:{metrics_port}"]
  slos:
    - name: availability
      objective: 99.9
      indicator: {{type: availability}}
  alerts: {{page: false, unavailable_for: 1m, runbook_url: "{RUNBOOK}"}}
"#
    )
}

/// The service's exposition after `scrape` scrapes: both counters grow by
/// a fixed amount per scrape.
fn metrics_text(scrape: u64) -> String {
    let mut text = String::from(
        "# HELP http_server_request_duration_seconds Duration of HTTP server requests.\n\
         # TYPE http_server_request_duration_seconds histogram\n",
    );
    for (code, count) in [("200", OK_PER_ERROR * scrape), ("500", scrape)] {
        let labels = format!(
            "http_request_method=\"GET\",http_response_status_code=\"{code}\",http_route=\"/items\""
        );
        for (le, share) in [("0.1", count / 2), ("0.5", count), ("+Inf", count)] {
            text.push_str(&format!(
                "http_server_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {share}\n"
            ));
        }
        text.push_str(&format!(
            "http_server_request_duration_seconds_sum{{{labels}}} {}\n",
            count as f64 * 0.1
        ));
        text.push_str(&format!(
            "http_server_request_duration_seconds_count{{{labels}}} {count}\n"
        ));
    }
    text.push_str("# TYPE go_goroutines gauge\ngo_goroutines 12\n");
    text.push_str(&format!(
        "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total {}\n",
        scrape as f64 * 0.01
    ));
    text
}

/// Every query of the service's dashboard and of the landing page, with
/// Grafana's variables substituted as Grafana would, is accepted by the
/// real Prometheus; the request-rate, goroutine and landing-table queries
/// return data from the live series.
fn check_dashboard_queries(stack: &mut Stack) {
    let read = |path: &str| -> Value {
        let text = std::fs::read_to_string(stack.out.join(path))
            .unwrap_or_else(|e| panic!("reading {path}: {e}"));
        serde_json::from_str(&text).expect("dashboard JSON")
    };
    let dashboard = read(&format!("grafana/dashboards/{TEAM}/{SERVICE}.json"));
    let home = read("grafana/dashboards/Services/home.json");
    let mut queries = dashboard_queries(&dashboard, ENV);
    queries.extend(dashboard_queries(&home, ENV));
    assert!(queries.len() > 20, "{} queries", queries.len());
    // Answers with data, once the 5m recordings and rates have samples.
    for (title, must_have_data) in [
        ("Request rate", true),
        ("Goroutines", true),
        ("Services", true),
    ] {
        let (_, expr) = queries
            .iter()
            .find(|(t, _)| t == title)
            .unwrap_or_else(|| panic!("no `{title}` panel"));
        if must_have_data {
            stack.wait(
                &format!("the `{title}` panel to have data"),
                WAIT,
                |stack| stack.query(expr).map(|_| ()),
            );
        }
    }
    let mut failures = Vec::new();
    for (title, expr) in &queries {
        let answer = http(
            stack.prometheus_port,
            "GET",
            &format!("/api/v1/query?query={}", encode(expr)),
            None,
        );
        match answer {
            Ok((200, body)) if body.contains("\"status\":\"success\"") => {}
            other => failures.push(format!("{title}: {expr}\n  -> {other:?}")),
        }
    }
    assert!(
        failures.is_empty(),
        "dashboard queries Prometheus refused:\n{}",
        failures.join("\n")
    );
    // The landing table's info series carries what the table shows.
    let info = stack
        .query(&format!("obsgen_service_info{{service=\"{SERVICE}\"}}"))
        .expect("obsgen_service_info");
    let info = labels(&info[0]["metric"]);
    assert_eq!(info.get("language").map(String::as_str), Some("go"));
    assert_eq!(info.get("framework").map(String::as_str), Some("http"));
    assert_eq!(
        info.get("dashboard").map(String::as_str),
        Some("svc-checkout")
    );
}

struct Stack {
    // Dropped in this order: the tools first, then the servers, then the files.
    prometheus: Process,
    alertmanager: Process,
    metrics: HttpServer,
    sink: HttpServer,
    /// Whether the service answers its scrapes.
    healthy: Arc<AtomicBool>,
    prometheus_port: u16,
    alertmanager_port: u16,
    out: PathBuf,
    _dir: TempDir,
}

impl Stack {
    fn start(label: &str) -> Self {
        let dir = TempDir::new(label);
        let sink = HttpServer::start(Box::new(|_| (200, "ok".to_string())));
        let healthy = Arc::new(AtomicBool::new(true));
        let metrics = {
            let healthy = Arc::clone(&healthy);
            let scrapes = AtomicU64::new(0);
            HttpServer::start(Box::new(move |request| {
                if request.path != "/metrics" {
                    return (404, "not found\n".to_string());
                }
                if !healthy.load(Ordering::SeqCst) {
                    return (503, "unavailable\n".to_string());
                }
                (
                    200,
                    metrics_text(scrapes.fetch_add(1, Ordering::SeqCst) + 1),
                )
            }))
        };
        let [prometheus_port, alertmanager_port] = free_ports();

        let repo = dir.join("repo");
        let slack_url = dir.join("secrets/slack-url");
        dir.write(
            "secrets/slack-url",
            &format!("http://127.0.0.1:{}/slack", sink.port),
        );
        dir.write(
            "repo/obsgen.yaml",
            &platform_yaml(alertmanager_port, &slack_url, sink.port),
        );
        dir.write(
            &format!("repo/services/{SERVICE}.yaml"),
            &service_yaml(metrics.port),
        );
        let (compilation, output) = obsgen::compile::compile(&repo).expect("compiling");
        let errors: Vec<_> = compilation
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .collect();
        assert!(
            errors.is_empty(),
            "the live repository has errors: {errors:#?}"
        );
        let out = dir.join("out");
        obsgen::output::write(&out, &output.expect("an output set")).expect("writing the output");

        let alertmanager_data = dir.join("alertmanager-data");
        let alertmanager = Process::start(
            "alertmanager",
            &tool("alertmanager"),
            &[
                format!(
                    "--config.file={}",
                    out.join("alertmanager/alertmanager.yml").display()
                ),
                format!("--storage.path={}", alertmanager_data.display()),
                format!("--web.listen-address=127.0.0.1:{alertmanager_port}"),
                format!("--web.external-url=http://127.0.0.1:{alertmanager_port}/"),
                // Empty: no cluster, no gossip.
                "--cluster.listen-address=".to_string(),
                "--log.level=debug".to_string(),
            ],
            dir.path(),
        );
        let prometheus_data = dir.join("prometheus-data");
        let prometheus = Process::start(
            "prometheus",
            &tool("prometheus"),
            &[
                format!(
                    "--config.file={}",
                    out.join(format!("prometheus/{ENV}/prometheus.yml"))
                        .display()
                ),
                format!("--storage.tsdb.path={}", prometheus_data.display()),
                format!("--web.listen-address=127.0.0.1:{prometheus_port}"),
                format!("--web.external-url=http://127.0.0.1:{prometheus_port}/"),
            ],
            dir.path(),
        );
        let mut stack = Self {
            prometheus,
            alertmanager,
            metrics,
            sink,
            healthy,
            prometheus_port,
            alertmanager_port,
            out,
            _dir: dir,
        };
        for port in [prometheus_port, alertmanager_port] {
            stack.wait("both tools to be ready", WAIT, |_| {
                matches!(http(port, "GET", "/-/ready", None), Ok((200, _))).then_some(())
            });
        }
        stack
    }

    /// Everything worth seeing when an assertion fails.
    fn context(&self) -> String {
        let received: Vec<String> = self
            .sink
            .requests()
            .iter()
            .map(|r| format!("{} {} {}", r.method, r.path, r.body))
            .collect();
        format!(
            "{}\n{}\n--- sink received ---\n{}\n--- scrapes: {} ---",
            self.prometheus.log_tail(),
            self.alertmanager.log_tail(),
            received.join("\n"),
            self.metrics.requests().len()
        )
    }

    /// Polls `probe` (failing at once when a tool has died) until it yields.
    fn wait<T>(
        &mut self,
        what: &str,
        limit: Duration,
        mut probe: impl FnMut(&Self) -> Option<T>,
    ) -> T {
        let start = Instant::now();
        loop {
            self.prometheus.assert_running();
            self.alertmanager.assert_running();
            if let Some(value) = probe(self) {
                return value;
            }
            if start.elapsed() > limit {
                panic!(
                    "timed out after {limit:?} waiting for {what}\n{}",
                    self.context()
                );
            }
            std::thread::sleep(STEP);
        }
    }

    /// An instant query's result vector; `None` until it has a series.
    fn query(&self, promql: &str) -> Option<Vec<Value>> {
        let answer = get_json(
            self.prometheus_port,
            &format!("/api/v1/query?query={}", encode(promql)),
        )?;
        let result = answer["data"]["result"].as_array()?.clone();
        (!result.is_empty()).then_some(result)
    }

    /// The generated rule file of the service, as JSON.
    fn rules_file(&self) -> Value {
        let path = self.out.join(format!("prometheus/rules/{SERVICE}.yml"));
        let text = std::fs::read_to_string(&path).expect("reading the generated rules");
        serde_saphyr::from_str(&text).expect("the generated rules are YAML")
    }

    /// Prometheus' active alerts (pending or firing).
    fn prometheus_alerts(&self) -> Option<Vec<Value>> {
        Some(
            get_json(self.prometheus_port, "/api/v1/alerts")?["data"]["alerts"]
                .as_array()?
                .clone(),
        )
    }

    /// Waits until the service's target is up; returns its `up` series.
    fn wait_until_up(&mut self) -> Value {
        let query = format!("up{{job=\"{SERVICE}\"}}");
        self.wait("the service's target to be up", WAIT, |stack| {
            stack
                .query(&query)?
                .into_iter()
                .find(|series| series["value"][1] == "1")
        })
    }
}

// ---------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------

#[test]
fn prometheus_scrapes_and_evaluates_and_alertmanager_routes_and_renders() {
    let mut stack = Stack::start("live");
    let rules = stack.rules_file();

    // 1. The target carries the contract's labels, and only those.
    let up = stack.wait_until_up();
    assert_eq!(
        labels(&up["metric"]),
        string_map(&[
            ("__name__", "up"),
            ("instance", &format!("127.0.0.1:{}", stack.metrics.port)),
            ("job", SERVICE),
            ("env", ENV),
            ("team", TEAM),
            ("service", SERVICE),
            ("tier", "critical"),
        ]),
        "{}",
        stack.context()
    );

    // The recording rules read the framework's metrics as the service
    // exposes them: 1 request in 11 fails.
    for (rule, selector) in [
        ("job_env:request_errors:ratio_rate5m", "job=\"checkout\""),
        ("slo:sli_error:ratio_rate5m", "sloth_service=\"checkout\""),
    ] {
        let query = format!("{rule}{{{selector},env=\"{ENV}\"}}");
        let series = stack.wait(&format!("{rule} to be recorded"), WAIT, |stack| {
            stack
                .query(&query)?
                .into_iter()
                .find(|s| number(s).is_finite())
        });
        let ratio = number(&series);
        assert!(
            (ratio - 1.0 / 11.0).abs() < 1e-9,
            "{rule} = {ratio}, expected 1/11\n{}",
            stack.context()
        );
    }
    let rate = stack
        .query(&format!(
            "job_env:requests:rate5m{{job=\"{SERVICE}\",env=\"{ENV}\"}}"
        ))
        .expect("a request rate");
    assert!(number(&rate[0]) > 0.0, "{rate:?}");

    // Every generated group is loaded, and every rule evaluates cleanly
    // (the check is repeated after a few more evaluation intervals).
    let mut expected_groups: Vec<String> = rules["groups"]
        .as_array()
        .expect("rule groups")
        .iter()
        .map(|g| g["name"].as_str().expect("a group name").to_string())
        .collect();
    expected_groups.sort();
    let rule_count: usize = rules["groups"]
        .as_array()
        .expect("rule groups")
        .iter()
        .map(|g| g["rules"].as_array().map_or(0, Vec::len))
        .sum();
    let evaluated = |stack: &Stack| -> Option<Vec<Value>> {
        let answer = get_json(stack.prometheus_port, "/api/v1/rules")?;
        let groups = answer["data"]["groups"].as_array()?.clone();
        let all_evaluated = groups.iter().all(|g| {
            g["rules"].as_array().is_some_and(|rules| {
                rules.iter().all(|r| {
                    r["health"] != "unknown"
                        && !r["lastEvaluation"]
                            .as_str()
                            .unwrap_or("0001")
                            .starts_with("0001")
                })
            })
        });
        all_evaluated.then_some(groups)
    };
    stack.wait("every rule to be evaluated", WAIT, evaluated);
    std::thread::sleep(Duration::from_millis(2500));
    let groups = stack.wait("the rules", WAIT, evaluated);
    let mut names: Vec<String> = groups
        .iter()
        .map(|g| g["name"].as_str().unwrap_or_default().to_string())
        .collect();
    names.sort();
    assert_eq!(names, expected_groups, "{}", stack.context());
    let loaded: Vec<&Value> = groups
        .iter()
        .flat_map(|g| g["rules"].as_array().into_iter().flatten())
        .collect();
    assert_eq!(loaded.len(), rule_count);
    let unhealthy: Vec<String> = loaded
        .iter()
        .filter(|r| r["health"] != "ok" || r.get("lastError").is_some_and(|e| e != ""))
        .map(|r| format!("{} ({}): {}", r["name"], r["health"], r["lastError"]))
        .collect();
    assert!(
        unhealthy.is_empty(),
        "rules that do not evaluate cleanly:\n{}\n{}",
        unhealthy.join("\n"),
        stack.context()
    );
    for group in &groups {
        let file = group["file"].as_str().unwrap_or_default();
        assert!(file.ends_with(&format!("rules/{SERVICE}.yml")), "{file}");
    }

    // The generated dashboards' queries run against this Prometheus.
    check_dashboard_queries(&mut stack);

    // The alerts follow the live series: the service is up, so
    // ServiceUnavailable is quiet; 1/11 of the requests fail, far over the
    // 0.1 % budget, so the fast burn is pending (for 2m), with its
    // description rendered from the value.
    let burn = stack.wait("the fast burn alert to be pending", WAIT, |stack| {
        stack.prometheus_alerts()?.into_iter().find(|a| {
            a["labels"]["alertname"] == "ErrorBudgetBurn" && a["labels"]["slo_burn"] == "fast"
        })
    });
    assert_eq!(burn["state"], "pending", "{burn}");
    assert_eq!(burn["labels"]["severity"], "ticket", "{burn}");
    let description = burn["annotations"]["description"]
        .as_str()
        .unwrap_or_default();
    assert!(
        description.starts_with("9.091% of the requests to checkout failed in production"),
        "{description}"
    );
    let alerts = stack.prometheus_alerts().expect("Prometheus' alerts");
    assert!(
        alerts
            .iter()
            .all(|a| a["labels"]["alertname"] != "ServiceUnavailable"),
        "{alerts:?}"
    );

    // 2. An alert with the labels and annotations of the generated
    // ServiceUnavailable rule reaches the team's Slack channel and webhook,
    // rendered by obsgen's templates. Its description tests Slack escaping.
    let rule = rules["groups"]
        .as_array()
        .expect("rule groups")
        .iter()
        .flat_map(|g| g["rules"].as_array().into_iter().flatten())
        .find(|r| r["alert"] == "ServiceUnavailable")
        .expect("the ServiceUnavailable rule")
        .clone();
    let mut alert_labels = labels(&rule["labels"]);
    assert!(
        !alert_labels.contains_key("env"),
        "a shared rule names no env"
    );
    alert_labels.insert("alertname".to_string(), "ServiceUnavailable".to_string());
    // As Prometheus sends it: `env` from the series, or from its external
    // labels when `absent(up)` fired.
    alert_labels.insert("env".to_string(), ENV.to_string());
    assert_eq!(
        alert_labels,
        string_map(&[
            ("alertname", "ServiceUnavailable"),
            ("env", ENV),
            ("service", SERVICE),
            ("severity", "ticket"),
            ("team", TEAM),
            ("tier", "critical"),
        ])
    );
    let summary = rule["annotations"]["summary"]
        .as_str()
        .expect("a summary")
        .to_string();
    let dashboard = rule["annotations"]["dashboard_url"]
        .as_str()
        .expect("a dashboard URL")
        .to_string();
    assert_eq!(rule["annotations"]["runbook_url"], RUNBOOK);
    assert!(
        dashboard.starts_with("http://127.0.0.1:9/d/"),
        "{dashboard}"
    );
    let alert = json!([{
        "labels": alert_labels,
        "annotations": {
            "summary": summary,
            "description": "p99 > 5s & <rising>",
            "dashboard_url": dashboard,
            "runbook_url": RUNBOOK,
        },
    }]);
    let (status, body) = http(
        stack.alertmanager_port,
        "POST",
        "/api/v2/alerts",
        Some(&alert.to_string()),
    )
    .expect("posting an alert");
    assert_eq!(status, 200, "{body}\n{}", stack.context());

    let group = stack.wait("Alertmanager to group the alert", WAIT, |stack| {
        get_json(stack.alertmanager_port, "/api/v2/alerts/groups")?
            .as_array()?
            .iter()
            .find(|g| g["labels"]["service"] == SERVICE)
            .cloned()
    });
    assert_eq!(group["receiver"]["name"], RECEIVER, "{group}");
    assert_eq!(
        labels(&group["labels"]),
        string_map(&[
            ("alertname", "ServiceUnavailable"),
            ("env", ENV),
            ("service", SERVICE),
        ])
    );

    let (slack, hook) = stack.wait("the Slack and webhook notifications", WAIT, |stack| {
        let slack = stack.sink.posts("/slack").into_iter().next()?;
        let hook = stack.sink.posts("/hook").into_iter().next()?;
        Some((slack, hook))
    });
    let context = stack.context();
    assert_eq!(slack["channel"], CHANNEL, "{slack}");
    let attachment = &slack["attachments"][0];
    assert_eq!(
        attachment["title"], "[FIRING:1] ServiceUnavailable: checkout in production",
        "{slack}"
    );
    assert_eq!(attachment["title_link"], dashboard.as_str(), "{slack}");
    let text = attachment["text"].as_str().unwrap_or_default();
    for expected in [
        format!("*{summary}*"),
        "p99 &gt; 5s &amp; &lt;rising&gt;".to_string(),
        "service `checkout` · env `production` · severity `ticket`".to_string(),
        format!("<{dashboard}|Dashboard> · <{RUNBOOK}|Runbook>"),
    ] {
        assert!(
            text.contains(&expected),
            "the Slack text lacks {expected:?}:\n{text}\n{context}"
        );
    }

    assert_eq!(hook["receiver"], RECEIVER, "{hook}");
    assert_eq!(hook["status"], "firing", "{hook}");
    assert_eq!(labels(&hook["commonLabels"]), alert_labels, "{hook}");
    assert_eq!(hook["commonAnnotations"]["summary"], summary.as_str());
    assert_eq!(
        hook["commonAnnotations"]["dashboard_url"],
        dashboard.as_str()
    );
    assert_eq!(hook["alerts"].as_array().map_or(0, Vec::len), 1, "{hook}");

    // Nothing else reached the sink: Prometheus sent no alert of its own.
    let mut received: Vec<String> = stack
        .sink
        .requests()
        .iter()
        .map(|r| r.path.clone())
        .collect();
    received.sort();
    assert_eq!(received, ["/hook", "/slack"], "{context}");
}

#[test]
fn prometheus_fires_service_unavailable_through_alertmanager_and_resolves_it() {
    let mut stack = Stack::start("live-fire");
    stack.wait_until_up();

    // The service stops answering: after `unavailable_for` (1m, the
    // shortest allowed) Prometheus fires ServiceUnavailable, Alertmanager
    // notifies the team.
    stack.healthy.store(false, Ordering::SeqCst);
    let stopped = Instant::now();
    let hook = stack.wait(
        "Prometheus to fire ServiceUnavailable to Alertmanager",
        Duration::from_secs(90),
        |stack| {
            stack.sink.posts("/hook").into_iter().find(|p| {
                p["status"] == "firing" && p["commonLabels"]["alertname"] == "ServiceUnavailable"
            })
        },
    );
    let waited = stopped.elapsed();
    assert!(
        waited >= Duration::from_secs(60),
        "fired after {waited:?}, before `for: 1m`"
    );
    let alert = &hook["alerts"][0];
    assert_eq!(hook["receiver"], RECEIVER, "{hook}");
    assert_eq!(
        labels(&alert["labels"]),
        string_map(&[
            ("alertname", "ServiceUnavailable"),
            ("env", ENV),
            ("job", SERVICE),
            ("service", SERVICE),
            ("severity", "ticket"),
            ("team", TEAM),
            ("tier", "critical"),
        ]),
        "{hook}"
    );
    assert_eq!(
        alert["annotations"]["description"],
        "Every target of job checkout in production has been down, or no target has been found, for 1m.",
        "{hook}"
    );
    let generator = alert["generatorURL"].as_str().unwrap_or_default();
    assert!(
        generator.starts_with(&format!("http://127.0.0.1:{}/", stack.prometheus_port)),
        "{generator}"
    );
    let slack = stack.wait("the Slack notification", WAIT, |stack| {
        stack.sink.posts("/slack").into_iter().next()
    });
    assert_eq!(
        slack["attachments"][0]["title"], "[FIRING:1] ServiceUnavailable: checkout in production",
        "{slack}"
    );

    // Back up: the alert resolves, and both receivers say so.
    stack.healthy.store(true, Ordering::SeqCst);
    let slack = stack.wait("the resolved notifications", WAIT, |stack| {
        stack
            .sink
            .posts("/hook")
            .iter()
            .any(|p| p["status"] == "resolved")
            .then(|| stack.sink.posts("/slack"))?
            .into_iter()
            .find(|p| {
                p["attachments"][0]["title"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("[RESOLVED]"))
            })
    });
    let text = slack["attachments"][0]["text"].as_str().unwrap_or_default();
    assert!(
        text.contains("checkout is unavailable in production.* (resolved)"),
        "{text}"
    );
}

/// One rule file, two environments: the `prometheus.yml` of `staging` and
/// of `production` both load `prometheus/rules/<service>.yml`, and each
/// real Prometheus evaluates it with its own `env`: from the series for the
/// recordings, from its `external_labels` for the annotations. Staging's
/// target answers 503, so `ServiceUnavailable` is pending there, and only
/// there.
#[test]
fn two_environments_share_one_rule_file_and_each_evaluates_it_with_its_env() {
    const ENVS: [&str; 2] = ["staging", "production"];
    let dir = TempDir::new("live-shared-rules");
    let healthy = HttpServer::start(Box::new({
        let scrapes = AtomicU64::new(0);
        move |_| {
            (
                200,
                metrics_text(scrapes.fetch_add(1, Ordering::SeqCst) + 1),
            )
        }
    }));
    let broken = HttpServer::start(Box::new(|_| (503, "unavailable\n".to_string())));
    dir.write(
        "repo/obsgen.yaml",
        &format!(
            r#"apiVersion: obsgen.dev/v1
kind: Platform
metadata: {{name: live}}
spec:
  environments:
    - {{name: staging}}
    - {{name: production, production: true}}
  grafana: {{url: "http://127.0.0.1:9"}}
  prometheus: {{discovery: static, scrape_interval: 1s, evaluation_interval: 1s}}
  teams:
    {TEAM}: {{webhook: {{url: "http://127.0.0.1:9/hook"}}}}
"#
        ),
    );
    dir.write(
        &format!("repo/services/{SERVICE}.yaml"),
        &format!(
            r#"apiVersion: obsgen.dev/v1
kind: Service
metadata: {{name: {SERVICE}, team: {TEAM}}}
spec:
  language: go
  framework: http
  metrics: {{discovery: static}}
  targets:
    staging: ["127.0.0.1:{}"]
    production: ["127.0.0.1:{}"]
  slos:
    - {{name: availability, objective: 99.9, indicator: {{type: availability}}}}
  alerts: {{unavailable_for: 10m}}
"#,
            broken.port, healthy.port
        ),
    );
    let (compilation, output) = obsgen::compile::compile(&dir.join("repo")).expect("compiling");
    assert!(!compilation.has_errors(), "{:#?}", compilation.diagnostics);
    let out = dir.join("out");
    obsgen::output::write(&out, &output.expect("an output set")).expect("writing");
    let shared = format!("../rules/{SERVICE}.yml");
    let mut servers = Vec::new();
    for env in ENVS {
        let config = out.join(format!("prometheus/{env}/prometheus.yml"));
        let value: Value =
            serde_saphyr::from_str(&std::fs::read_to_string(&config).expect("a config"))
                .expect("YAML");
        assert_eq!(value["rule_files"], json!([shared]), "{env}");
        assert_eq!(value["global"]["external_labels"]["env"], env);
        let [port] = free_ports();
        let process = Process::start(
            "prometheus",
            &tool("prometheus"),
            &[
                format!("--config.file={}", config.display()),
                format!(
                    "--storage.tsdb.path={}",
                    dir.join(&format!("data-{env}")).display()
                ),
                format!("--web.listen-address=127.0.0.1:{port}"),
            ],
            dir.path(),
        );
        servers.push((env, port, process));
    }
    let wait = |what: &str, probe: &mut dyn FnMut() -> Option<Value>| -> Value {
        let start = Instant::now();
        loop {
            if let Some(value) = probe() {
                return value;
            }
            assert!(start.elapsed() < WAIT, "timed out waiting for {what}");
            std::thread::sleep(STEP);
        }
    };
    let query = |port: u16, promql: &str| -> Option<Vec<Value>> {
        let answer = get_json(port, &format!("/api/v1/query?query={}", encode(promql)))?;
        let result = answer["data"]["result"].as_array()?.clone();
        (!result.is_empty()).then_some(result)
    };
    for (env, port, process) in &mut servers {
        let (env, port) = (*env, *port);
        process.assert_running();
        // The info recording takes `env` from the series.
        let info = wait(&format!("{env}: obsgen_service_info"), &mut || {
            query(port, "obsgen_service_info").map(|r| r[0].clone())
        });
        assert_eq!(info["metric"]["env"], env, "{info}");
        assert_eq!(info["metric"]["service"], SERVICE, "{info}");
        // The alert: pending in staging with staging's name in its
        // annotations; absent in production.
        let alerts = wait(&format!("{env}: the rules to be evaluated"), &mut || {
            let groups = get_json(port, "/api/v1/rules")?["data"]["groups"].clone();
            let evaluated = groups.as_array()?.iter().all(|g| {
                g["rules"]
                    .as_array()
                    .is_some_and(|rules| rules.iter().all(|r| r["health"] == "ok"))
            }) && !groups.as_array()?.is_empty();
            evaluated.then(|| get_json(port, "/api/v1/alerts"))??["data"]["alerts"]
                .as_array()
                .cloned()
                .map(Value::Array)
        });
        let unavailable: Vec<&Value> = alerts
            .as_array()
            .expect("alerts")
            .iter()
            .filter(|a| a["labels"]["alertname"] == "ServiceUnavailable")
            .collect();
        if env == "staging" {
            // Before the first scrape `absent(up)` holds: that alert has no
            // `env` until Prometheus sends it (external labels). Once the
            // target is scraped, `up == 0` carries the series' `env`.
            let alert = wait("staging: ServiceUnavailable from up == 0", &mut || {
                get_json(port, "/api/v1/alerts")?["data"]["alerts"]
                    .as_array()?
                    .iter()
                    .find(|a| {
                        a["labels"]["alertname"] == "ServiceUnavailable"
                            && a["labels"]["env"] == "staging"
                    })
                    .cloned()
            });
            assert!(!unavailable.is_empty());
            assert_eq!(
                alert["annotations"]["summary"],
                format!("{SERVICE} is unavailable in staging."),
                "{alert}"
            );
            assert!(
                alert["annotations"]["dashboard_url"]
                    .as_str()
                    .is_some_and(|url| url.ends_with("?var-env=staging")),
                "{alert}"
            );
        } else {
            // `absent(up)` may hold before the first scrape; once scraped,
            // production is up and nothing stays pending.
            let _ = unavailable;
            wait("production: no ServiceUnavailable", &mut || {
                let alerts = get_json(port, "/api/v1/alerts")?["data"]["alerts"].clone();
                (!alerts
                    .as_array()?
                    .iter()
                    .any(|a| a["labels"]["alertname"] == "ServiceUnavailable"))
                .then_some(Value::Null)
            });
            let ratio = wait("production: the error ratio", &mut || {
                query(
                    port,
                    &format!("job_env:request_errors:ratio_rate5m{{job=\"{SERVICE}\"}}"),
                )
                .and_then(|r| r.into_iter().find(|s| number(s).is_finite()))
            });
            assert_eq!(ratio["metric"]["env"], "production", "{ratio}");
            assert!((number(&ratio) - 1.0 / 11.0).abs() < 1e-9, "{ratio}");
        }
    }
}
