//! End to end: the helloworld platform (`examples/helloworld`) run live on
//! loopback, as `make demo` runs it, headless.
//!
//! The test copies the example repository, puts ports chosen at run time
//! (and a secrets folder) in place of the example's loopback defaults,
//! builds it with the obsgen binary, and starts on 127.0.0.1 what the
//! generated output drives, each configuration used as it is:
//!
//! - three `obsgen-helloworld` processes: `helloworld` in production (it
//!   opted in to paging) and in staging, and `guestbook` in production (it
//!   did not opt in);
//! - one real Prometheus per environment with its generated
//!   `prometheus.yml` (which names its own rule files);
//! - a real Alertmanager with the generated `alertmanager.yml`, whose
//!   PagerDuty receiver posts to `scripts/fake-pagerduty.py` and whose
//!   webhook (tickets) posts to the same fake;
//! - k6 with the generated warm-up script, in staging.
//!
//! It proves, in about two and a half minutes:
//!
//! 1. every target is up with the contract's labels, and the request and
//!    SLO recordings return the values the traffic implies;
//! 2. every PromQL query of the service's dashboard (and the landing
//!    page's) runs on each environment's Prometheus without error, and
//!    every panel of the service's dashboard has data, in staging once k6
//!    has warmed it up (but the errors by route: staging serves no 5xx);
//! 3. making half of production's requests fail raises all four
//!    availability burn-rate alerts (and no latency one), with the
//!    severities their rules give, and the fast page fires after its
//!    `for: 2m` and pages;
//! 4. stopping production's helloworld fires ServiceUnavailable after its
//!    `for: 1m`, and the fake PagerDuty receives exactly one `trigger`:
//!    the team's routing key (read from its key file), a dedup key,
//!    severity `critical`, the summary, the dashboard link; restarting it
//!    sends one `resolve` with the same dedup key;
//! 5. ServiceUnavailable of the service that did not opt in (a ticket),
//!    and of staging (the shared rule's `severity: page`, which pages in
//!    production only), reach the team's webhook, and nothing of theirs
//!    reaches PagerDuty.
//!
//! The alerts fire quickly because the demo platform scrapes and evaluates
//! every second and notifies at once (`group_wait`/`group_interval` 1s),
//! and the service asks for the shortest `unavailable_for` obsgen allows
//! (1m); the rules themselves are the generated ones, holds included.
//! Waits overlap: the burn alert's 2m hold runs through the outage, and
//! staging is stopped as soon as its warm-up ends.
//!
//! Every process is killed and reaped by a guard (also when an assertion
//! fails), and every wait is bounded.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::common::{
    Process, TempDir, dashboard_queries, encode, free_ports, get_json, http, labels, number,
    obsgen, repo, string_map, tool,
};

const TEAM: &str = "hello";
/// Opted in to paging, in staging and production.
const SERVICE: &str = "helloworld";
/// Did not opt in; production only.
const QUIET_SERVICE: &str = "guestbook";
const PRODUCTION: &str = "production";
const STAGING: &str = "staging";
/// What the team's PagerDuty key file holds (PagerDuty's keys have 32 characters).
const ROUTING_KEY: &str = "e2e-routing-key-0123456789abcdef";
/// The share of production's requests made to fail, in percent.
const FAIL_PERCENT: u32 = 50;
const WAIT: Duration = Duration::from_secs(30);
const STEP: Duration = Duration::from_millis(250);
/// `alerts.unavailable_for` of both services.
const UNAVAILABLE_FOR: Duration = Duration::from_secs(60);
/// The `for:` of the page-tier fast burn alert (fixed by obsgen).
const FAST_BURN_FOR: Duration = Duration::from_secs(120);

// ---------------------------------------------------------------------------
// The demo repository with run-time ports
// ---------------------------------------------------------------------------

/// Ports chosen at run time.
struct Ports {
    helloworld_production: u16,
    helloworld_staging: u16,
    guestbook: u16,
    alertmanager: u16,
    fake_pagerduty: u16,
    prometheus_production: u16,
    prometheus_staging: u16,
    k6_api: u16,
}

impl Ports {
    fn choose() -> Self {
        let [a, b, c, d, e, f, g, h] = free_ports();
        Self {
            helloworld_production: a,
            helloworld_staging: b,
            guestbook: c,
            alertmanager: d,
            fake_pagerduty: e,
            prometheus_production: f,
            prometheus_staging: g,
            k6_api: h,
        }
    }

    fn prometheus(&self, env: &str) -> u16 {
        if env == PRODUCTION {
            self.prometheus_production
        } else {
            self.prometheus_staging
        }
    }
}

/// The example's inputs with its loopback defaults (listed in its
/// `obsgen.yaml`) replaced, as `scripts/demo.sh` does. Fails when an
/// address is left that the demo runs without replacing it.
fn write_demo_repository(dir: &TempDir, ports: &Ports) -> PathBuf {
    let example = repo().join("examples/helloworld");
    let secrets = dir.join("secrets");
    dir.write("secrets/hello-pagerduty", ROUTING_KEY);
    let replacements = [
        ("127.0.0.1:18080", ports.helloworld_production),
        ("127.0.0.1:18081", ports.helloworld_staging),
        ("127.0.0.1:18082", ports.guestbook),
        ("127.0.0.1:19093", ports.alertmanager),
        ("127.0.0.1:19094", ports.fake_pagerduty),
        ("127.0.0.1:9090", ports.prometheus_production),
    ];
    let mut files = vec!["obsgen.yaml".to_string()];
    for entry in std::fs::read_dir(example.join("services")).expect("the example's services") {
        let name = entry.expect("an entry").file_name();
        files.push(format!("services/{}", name.to_string_lossy()));
    }
    for file in &files {
        let mut text = std::fs::read_to_string(example.join(file)).expect("an example file");
        for (default, port) in replacements {
            text = text.replace(default, &format!("127.0.0.1:{port}"));
        }
        text = text.replace(
            "/etc/alertmanager/secrets/",
            &format!("{}/", secrets.display()),
        );
        let mut rest = text.as_str();
        while let Some(at) = rest.find("127.0.0.1:") {
            let port: String = rest[at + 10..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            let run_time = replacements.iter().any(|(_, p)| p.to_string() == port);
            // Grafana, Kibana and Elasticsearch: links and configuration
            // the demo does not run.
            assert!(
                run_time || ["3000", "5601", "9200"].contains(&port.as_str()),
                "{file}: 127.0.0.1:{port} is not replaced by a run-time port"
            );
            rest = &rest[at + 10..];
        }
        dir.write(&format!("repo/{file}"), &text);
    }
    dir.join("repo")
}

// ---------------------------------------------------------------------------
// The running platform
// ---------------------------------------------------------------------------

/// Requests to one port every 100 ms (answers and refusals alike), until
/// dropped: the users of production's helloworld.
struct Traffic {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Traffic {
    fn start(port: u16) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let _ = http(port, "GET", "/hello/e2e", None);
                    std::thread::sleep(Duration::from_millis(100));
                }
            })
        };
        Self {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Traffic {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The services' processes, by name (`helloworld-production`, ...).
const HELLOWORLD_PRODUCTION: &str = "helloworld-production";
const HELLOWORLD_STAGING: &str = "helloworld-staging";
const GUESTBOOK_PRODUCTION: &str = "guestbook-production";

struct Demo {
    // Dropped in this order: load, tools, services, the fake, the files.
    traffic: Option<Traffic>,
    k6: Option<Process>,
    /// k6's exit status, and when (Unix time) staging was stopped after it.
    warm_up_ended: Option<(std::process::ExitStatus, f64)>,
    prometheus: BTreeMap<&'static str, Process>,
    alertmanager: Process,
    services: BTreeMap<&'static str, Process>,
    fake_pagerduty: Process,
    ports: Ports,
    out: PathBuf,
    dir: TempDir,
}

impl Demo {
    fn start() -> Self {
        let dir = TempDir::new("e2e");
        let ports = Ports::choose();
        let repo = write_demo_repository(&dir, &ports);
        obsgen(&repo, &["build"]).success();
        let out = repo.join("generated");

        let fake_pagerduty = Process::start(
            "fake-pagerduty",
            &tool("python3"),
            &[
                repo_path("scripts/fake-pagerduty.py"),
                "--port".to_string(),
                ports.fake_pagerduty.to_string(),
            ],
            dir.path(),
        );
        let alertmanager = Process::start(
            "alertmanager",
            &tool("alertmanager"),
            &[
                format!(
                    "--config.file={}",
                    out.join("alertmanager/alertmanager.yml").display()
                ),
                format!("--storage.path={}", dir.join("alertmanager-data").display()),
                format!("--web.listen-address=127.0.0.1:{}", ports.alertmanager),
                format!(
                    "--web.external-url=http://127.0.0.1:{}/",
                    ports.alertmanager
                ),
                // Empty: no cluster, no gossip.
                "--cluster.listen-address=".to_string(),
            ],
            dir.path(),
        );
        let mut prometheus = BTreeMap::new();
        for (name, env) in [
            ("prometheus-production", PRODUCTION),
            ("prometheus-staging", STAGING),
        ] {
            let port = ports.prometheus(env);
            prometheus.insert(
                env,
                Process::start(
                    name,
                    &tool("prometheus"),
                    &[
                        format!(
                            "--config.file={}",
                            out.join(format!("prometheus/{env}/prometheus.yml"))
                                .display()
                        ),
                        format!(
                            "--storage.tsdb.path={}",
                            dir.join(&format!("prometheus-{env}-data")).display()
                        ),
                        format!("--web.listen-address=127.0.0.1:{port}"),
                        format!("--web.external-url=http://127.0.0.1:{port}/"),
                    ],
                    dir.path(),
                ),
            );
        }
        let mut demo = Self {
            traffic: None,
            k6: None,
            warm_up_ended: None,
            prometheus,
            alertmanager,
            services: BTreeMap::new(),
            fake_pagerduty,
            ports,
            out,
            dir,
        };
        for name in [
            HELLOWORLD_PRODUCTION,
            HELLOWORLD_STAGING,
            GUESTBOOK_PRODUCTION,
        ] {
            demo.start_service(name, &[]);
        }
        for port in [
            demo.ports.prometheus_production,
            demo.ports.prometheus_staging,
            demo.ports.alertmanager,
        ] {
            demo.wait("Prometheus and Alertmanager to be ready", WAIT, |_| {
                matches!(http(port, "GET", "/-/ready", None), Ok((200, _))).then_some(())
            });
        }
        demo.wait("the fake PagerDuty to listen", WAIT, |demo| demo.events());
        demo
    }

    fn service_port(&self, name: &str) -> u16 {
        match name {
            HELLOWORLD_PRODUCTION => self.ports.helloworld_production,
            HELLOWORLD_STAGING => self.ports.helloworld_staging,
            _ => self.ports.guestbook,
        }
    }

    fn start_service(&mut self, name: &'static str, args: &[&str]) {
        let mut arguments = vec![
            "--listen".to_string(),
            format!("127.0.0.1:{}", self.service_port(name)),
        ];
        arguments.extend(args.iter().map(|a| a.to_string()));
        let process = Process::start(
            name,
            Path::new(env!("CARGO_BIN_EXE_obsgen-helloworld")),
            &arguments,
            self.dir.path(),
        );
        self.services.insert(name, process);
        let port = self.service_port(name);
        self.wait(&format!("{name} to answer"), WAIT, |_| {
            matches!(http(port, "GET", "/admin/fail", None), Ok((200, _))).then_some(())
        });
    }

    /// Kills a service (its port then refuses connections).
    fn stop_service(&mut self, name: &str) {
        self.services.remove(name);
    }

    /// k6 with the generated script, in `env`, against that helloworld.
    fn start_warm_up(&mut self, env: &str) {
        let name = if env == PRODUCTION {
            HELLOWORLD_PRODUCTION
        } else {
            HELLOWORLD_STAGING
        };
        self.k6 = Some(Process::start(
            "k6",
            &tool("k6"),
            &[
                "run".to_string(),
                "--quiet".to_string(),
                "--no-color".to_string(),
                "--no-usage-report".to_string(),
                format!("--address=127.0.0.1:{}", self.ports.k6_api),
                "-e".to_string(),
                format!("ENV={env}"),
                "-e".to_string(),
                format!("BASE_URL=http://127.0.0.1:{}", self.service_port(name)),
                self.out.join("k6/helloworld.js").display().to_string(),
            ],
            self.dir.path(),
        ));
    }

    /// Housekeeping between probes: when the staging warm-up has ended,
    /// staging's helloworld stops (the non-production outage).
    fn tick(&mut self) {
        if self.warm_up_ended.is_none()
            && let Some(status) = self.k6.as_mut().and_then(Process::exited)
        {
            self.stop_service(HELLOWORLD_STAGING);
            self.warm_up_ended = Some((status, unix_now()));
        }
    }

    /// Fails at once when PagerDuty heard of another service or
    /// environment than production's helloworld, the only one that pages.
    fn assert_pages_only_for_helloworld_in_production(&self) {
        if let Some(stray) = self
            .pages()
            .into_iter()
            .find(|p| p["payload"]["component"] != SERVICE || p["payload"]["group"] != PRODUCTION)
        {
            panic!(
                "PagerDuty received an event of another service or environment:\n{stray:#}\n{}",
                self.context()
            );
        }
    }

    /// Everything worth seeing when an assertion fails.
    fn context(&self) -> String {
        let mut text = String::new();
        for process in self.prometheus.values() {
            text.push_str(&process.log_tail());
            text.push('\n');
        }
        text.push_str(&self.alertmanager.log_tail());
        text.push('\n');
        text.push_str(&self.fake_pagerduty.log_tail());
        if let Some(k6) = &self.k6 {
            text.push('\n');
            text.push_str(&k6.log_tail());
        }
        text
    }

    /// Polls `probe` (failing at once when a tool has died) until it yields.
    fn wait<T>(
        &mut self,
        what: &str,
        limit: Duration,
        mut probe: impl FnMut(&mut Self) -> Option<T>,
    ) -> T {
        let start = Instant::now();
        loop {
            for process in self.prometheus.values_mut() {
                process.assert_running();
            }
            self.alertmanager.assert_running();
            self.fake_pagerduty.assert_running();
            self.assert_pages_only_for_helloworld_in_production();
            self.tick();
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

    /// An instant query on `env`'s Prometheus; `None` until it has a series.
    fn query(&self, env: &str, promql: &str) -> Option<Vec<Value>> {
        let answer = get_json(
            self.ports.prometheus(env),
            &format!("/api/v1/query?query={}", encode(promql)),
        )?;
        let result = answer["data"]["result"].as_array()?.clone();
        (!result.is_empty()).then_some(result)
    }

    /// `env`'s Prometheus' active alerts (pending or firing).
    fn alerts(&self, env: &str) -> Option<Vec<Value>> {
        Some(
            get_json(self.ports.prometheus(env), "/api/v1/alerts")?["data"]["alerts"]
                .as_array()?
                .clone(),
        )
    }

    /// What the fake PagerDuty (and the webhook) received, oldest first.
    fn events(&self) -> Option<Vec<Value>> {
        get_json(self.ports.fake_pagerduty, "/events")?
            .as_array()
            .cloned()
    }

    /// The Events API v2 bodies received.
    fn pages(&self) -> Vec<Value> {
        self.events()
            .unwrap_or_default()
            .into_iter()
            .filter(|e| e["path"] == "/v2/enqueue")
            .map(|e| e["body"].clone())
            .collect()
    }

    /// Waits until `job` is up in `env`; returns its `up` series.
    fn wait_until_up(&mut self, env: &'static str, job: &str) -> Value {
        let query = format!("up{{job=\"{job}\"}}");
        self.wait(&format!("{job} to be up in {env}"), WAIT, |demo| {
            demo.query(env, &query)?
                .into_iter()
                .find(|series| series["value"][1] == "1")
        })
    }

    /// Waits until a recording's value for `selector` in `env` is a number
    /// that meets `expected` (described by `what`). Rule groups evaluate
    /// independently, so one recording may lag another by an evaluation:
    /// the first number seen can predate the traffic. A 5-minute rate that
    /// once went wrong stays wrong far longer than the wait, so waiting for
    /// the expected value cannot hide a real fault.
    fn recorded(
        &mut self,
        env: &'static str,
        rule: &str,
        selector: &str,
        what: &str,
        expected: impl Fn(f64) -> bool,
    ) {
        let query = format!("{rule}{{{selector},env=\"{env}\"}}");
        self.wait(&format!("{query} to be {what}"), WAIT, |demo| {
            demo.query(env, &query)?.into_iter().find(|s| {
                let value = number(s);
                value.is_finite() && expected(value)
            })
        });
    }
}

/// Now, in seconds since the Unix epoch (the fake's clock for `received_at`).
fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn repo_path(relative: &str) -> String {
    repo().join(relative).display().to_string()
}

/// Whether a burn-rate alert is one of `slo`'s, with this tier and speed.
fn is_burn(alert: &Value, slo: &str, tier: &str, speed: &str) -> bool {
    alert["labels"]["alertname"] == "ErrorBudgetBurn"
        && alert["labels"]["service"] == SERVICE
        && alert["labels"]["slo"] == slo
        && alert["labels"]["slo_tier"] == tier
        && alert["labels"]["slo_burn"] == speed
}

// ---------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------

#[test]
fn the_helloworld_platform_pages_its_team_once_and_nobody_for_the_others() {
    let mut demo = Demo::start();

    // 1. Every target is up, with the contract's labels.
    for (env, job, port) in [
        (PRODUCTION, SERVICE, demo.ports.helloworld_production),
        (STAGING, SERVICE, demo.ports.helloworld_staging),
        (PRODUCTION, QUIET_SERVICE, demo.ports.guestbook),
    ] {
        let up = demo.wait_until_up(env, job);
        assert_eq!(
            labels(&up["metric"]),
            string_map(&[
                ("__name__", "up"),
                ("instance", &format!("127.0.0.1:{port}")),
                ("job", job),
                ("env", env),
                ("team", TEAM),
                ("service", job),
            ]),
        );
    }

    // 2. k6 warms staging up. Production's helloworld is made to fail half
    // of its requests, and its users arrive. The service that did not opt
    // in stops: its outage must not page.
    demo.start_warm_up(STAGING);
    let (status, body) = http(
        demo.ports.helloworld_production,
        "PUT",
        &format!("/admin/fail?percent={FAIL_PERCENT}"),
        None,
    )
    .expect("switching the failures on");
    assert_eq!((status, body.trim()), (200, "50"));
    let failing_since = Instant::now();
    demo.traffic = Some(Traffic::start(demo.ports.helloworld_production));
    demo.stop_service(GUESTBOOK_PRODUCTION);
    let quiet_stopped = unix_now();

    // 3. The recordings follow the traffic: half of production's requests
    // fail, none of staging's; no request is slower than the latency SLO.
    let ratio = demo.wait("production's error ratio to settle", WAIT, |demo| {
        let query = format!(
            "job_env:request_errors:ratio_rate5m{{job=\"{SERVICE}\",env=\"{PRODUCTION}\"}}"
        );
        let value = number(demo.query(PRODUCTION, &query)?.first()?);
        ((value - 0.5).abs() < 0.05).then_some(value)
    });
    assert!((ratio - 0.5).abs() < 0.05, "{ratio}");
    demo.recorded(
        PRODUCTION,
        "slo:sli_error:ratio_rate5m",
        "sloth_service=\"helloworld\",sloth_slo=\"availability\"",
        "above 0.4",
        |value| value > 0.4,
    );
    demo.recorded(
        PRODUCTION,
        "slo:sli_error:ratio_rate5m",
        "sloth_service=\"helloworld\",sloth_slo=\"latency\"",
        "0",
        |value| value == 0.0,
    );
    demo.recorded(
        STAGING,
        "job_env:requests:rate5m",
        "job=\"helloworld\"",
        "above 0",
        |value| value > 0.0,
    );
    demo.recorded(
        STAGING,
        "job_env:request_errors:ratio_rate5m",
        "job=\"helloworld\"",
        "0",
        |value| value == 0.0,
    );

    // 4. The dashboard: every query runs in both environments; every panel
    // has data (staging has no 5xx to show by route).
    check_dashboards(&mut demo);

    // 5. The burn-rate alerts, as their rules say: 50 % errors exceed all
    // four availability thresholds (14.4, 6, 3 and 1 times the 0.1 %
    // budget), so all four are pending, the page tier with
    // `severity: page`; the latency SLO is met, so nothing burns it.
    let burning = demo.wait("the four availability burn alerts", WAIT, |demo| {
        let alerts = demo.alerts(PRODUCTION)?;
        let burning: Vec<Value> = alerts
            .into_iter()
            .filter(|a| a["labels"]["alertname"] == "ErrorBudgetBurn")
            .collect();
        (burning.len() >= 4).then_some(burning)
    });
    for (tier, speed, severity) in [
        ("page", "fast", "page"),
        ("page", "slow", "page"),
        ("ticket", "fast", "ticket"),
        ("ticket", "slow", "ticket"),
    ] {
        let alert = burning
            .iter()
            .find(|a| is_burn(a, "availability", tier, speed))
            .unwrap_or_else(|| panic!("no {tier}/{speed} burn alert: {burning:?}"));
        assert_eq!(alert["state"], "pending", "{alert}");
        assert_eq!(alert["labels"]["severity"], severity, "{alert}");
        assert_eq!(alert["labels"]["env"], PRODUCTION, "{alert}");
    }
    assert_eq!(burning.len(), 4, "only availability burns: {burning:?}");
    let fast_burn_active_at = burning
        .iter()
        .find(|a| is_burn(a, "availability", "page", "fast"))
        .map(|a| a["activeAt"].clone())
        .expect("the fast burn");

    // 6. Production's helloworld stops: after `for: 1m` ServiceUnavailable
    // fires and pages, once.
    demo.stop_service(HELLOWORLD_PRODUCTION);
    let stopped = Instant::now();
    let trigger = demo.wait(
        "ServiceUnavailable to page",
        UNAVAILABLE_FOR + WAIT,
        |demo| {
            demo.pages().into_iter().find(|p| {
                p["event_action"] == "trigger"
                    && p["payload"]["class"] == "ServiceUnavailable"
                    && p["payload"]["component"] == SERVICE
            })
        },
    );
    let waited = stopped.elapsed();
    assert!(
        waited >= UNAVAILABLE_FOR,
        "paged after {waited:?}, before `for: 1m`"
    );
    let unavailable = demo
        .alerts(PRODUCTION)
        .unwrap_or_default()
        .into_iter()
        .find(|a| {
            a["labels"]["alertname"] == "ServiceUnavailable" && a["labels"]["service"] == SERVICE
        })
        .unwrap_or_else(|| panic!("ServiceUnavailable is not active\n{}", demo.context()));
    assert_eq!(unavailable["state"], "firing");
    check_page(&trigger, &unavailable, "ServiceUnavailable");

    // 7. Back up (still failing half its requests): the page resolves,
    // under the same dedup key.
    demo.start_service(HELLOWORLD_PRODUCTION, &["--fail-percent", "50"]);
    let resolve = demo.wait("the page to resolve", WAIT, |demo| {
        demo.pages()
            .into_iter()
            .find(|p| p["event_action"] == "resolve")
    });
    assert_eq!(resolve["dedup_key"], trigger["dedup_key"], "{resolve}");
    assert_eq!(resolve["routing_key"], ROUTING_KEY, "{resolve}");

    // 8. The fast burn has held for its 2 minutes, through the outage: it
    // fires and pages, as a separate incident.
    let burn_page = demo.wait("the fast burn to page", FAST_BURN_FOR + WAIT, |demo| {
        demo.pages()
            .into_iter()
            .find(|p| p["event_action"] == "trigger" && p["payload"]["class"] == "ErrorBudgetBurn")
    });
    let failing = failing_since.elapsed();
    assert!(
        failing >= FAST_BURN_FOR,
        "the fast burn paged {failing:?} after the failures began, before `for: 2m`"
    );
    let fast = demo
        .alerts(PRODUCTION)
        .unwrap_or_default()
        .into_iter()
        .find(|a| is_burn(a, "availability", "page", "fast"))
        .unwrap_or_else(|| panic!("the fast burn is not active\n{}", demo.context()));
    assert_eq!(fast["state"], "firing", "{fast}");
    // Pending since the same evaluation: the outage did not restart the hold.
    assert_eq!(fast["activeAt"], fast_burn_active_at, "{fast}");
    check_page(&burn_page, &fast, "ErrorBudgetBurn");
    assert_ne!(burn_page["dedup_key"], trigger["dedup_key"]);

    // 9. The outages of the service that did not opt in, and of staging
    // (stopped when its warm-up ended), reach the team's webhook.
    for (service, env) in [(QUIET_SERVICE, PRODUCTION), (SERVICE, STAGING)] {
        let (ticket, received_at) = demo.wait(
            &format!("the ticket of {service} in {env}"),
            UNAVAILABLE_FOR + WAIT * 2,
            |demo| {
                demo.events().unwrap_or_default().into_iter().find_map(|e| {
                    let t = &e["body"];
                    (e["path"] == "/hook"
                        && t["status"] == "firing"
                        && t["commonLabels"]["alertname"] == "ServiceUnavailable"
                        && t["commonLabels"]["service"] == service
                        && t["commonLabels"]["env"] == env)
                        .then(|| (t.clone(), e["received_at"].as_f64().unwrap_or(0.0)))
                })
            },
        );
        assert_eq!(ticket["receiver"], "hello/notify", "{ticket}");
        // The service that did not opt in has tickets only. Staging's
        // alert comes from the rule file every environment shares, whose
        // `severity: page` means "pages in production": the routing tree
        // is what keeps it from PagerDuty.
        let severity = if service == SERVICE { "page" } else { "ticket" };
        assert_eq!(ticket["commonLabels"]["severity"], severity, "{ticket}");
        let stopped = if env == STAGING {
            demo.warm_up_ended.expect("the warm-up ended").1
        } else {
            quiet_stopped
        };
        assert!(
            received_at - stopped >= UNAVAILABLE_FOR.as_secs_f64(),
            "{service} in {env}: ticket {}s after the stop, before `for: 1m`",
            received_at - stopped
        );
    }
    let (k6_status, _) = demo.warm_up_ended.expect("the warm-up ended");
    assert!(
        k6_status.success(),
        "the warm-up crossed a threshold ({k6_status})\n{}",
        demo.context()
    );

    // 10. PagerDuty heard about helloworld in production only: one
    // incident for the outage (triggered once, resolved once), one for the
    // burn. Another second lets a late notification arrive.
    std::thread::sleep(Duration::from_secs(2));
    let pages = demo.pages();
    let summary: Vec<String> = pages
        .iter()
        .map(|p| {
            format!(
                "{} {} {}/{}",
                p["event_action"].as_str().unwrap_or_default(),
                p["payload"]["class"].as_str().unwrap_or_default(),
                p["payload"]["component"].as_str().unwrap_or_default(),
                p["payload"]["group"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            "trigger ServiceUnavailable helloworld/production",
            "resolve ServiceUnavailable helloworld/production",
            "trigger ErrorBudgetBurn helloworld/production",
        ],
        "{pages:#?}"
    );
    let refused: Vec<Value> = demo
        .events()
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e["status"] != 200 && e["status"] != 202)
        .collect();
    assert!(
        refused.is_empty(),
        "the fake PagerDuty refused: {refused:#?}"
    );
}

/// A trigger event as PagerDuty's Events API v2 defines it, from the
/// team's receiver, for the firing alert `alert` of Prometheus.
fn check_page(page: &Value, alert: &Value, alertname: &str) {
    assert_eq!(page["routing_key"], ROUTING_KEY, "{page}");
    assert_eq!(page["event_action"], "trigger", "{page}");
    let dedup_key = page["dedup_key"].as_str().unwrap_or_default();
    assert!(
        dedup_key.len() == 64 && dedup_key.chars().all(|c| c.is_ascii_hexdigit()),
        "{page}"
    );
    let payload = &page["payload"];
    assert_eq!(payload["severity"], "critical", "{page}");
    assert_eq!(payload["class"], alertname, "{page}");
    assert_eq!(payload["component"], SERVICE, "{page}");
    assert_eq!(payload["group"], PRODUCTION, "{page}");
    let summary = alert["annotations"]["summary"].as_str().unwrap_or_default();
    assert!(!summary.is_empty(), "{alert}");
    assert_eq!(
        payload["summary"],
        format!("{alertname}: {SERVICE} in {PRODUCTION} — {summary}"),
        "{page}"
    );
    let dashboard = alert["annotations"]["dashboard_url"]
        .as_str()
        .unwrap_or_default();
    assert!(
        dashboard.starts_with("http://127.0.0.1:3000/d/")
            && dashboard.ends_with("var-env=production"),
        "{dashboard}"
    );
    let details = &payload["custom_details"];
    assert_eq!(details["dashboard"], dashboard, "{page}");
    assert_eq!(details["team"], TEAM, "{page}");
    assert_eq!(details["service"], SERVICE, "{page}");
    assert_eq!(details["env"], PRODUCTION, "{page}");
    assert_eq!(page["links"][0]["href"], dashboard, "{page}");
    assert_eq!(page["links"][0]["text"], "Dashboard", "{page}");
}

/// Every query of helloworld's dashboard, and of the landing page, runs on
/// both environments' Prometheus; every panel shows data.
fn check_dashboards(demo: &mut Demo) {
    let read = |path: &str| -> Value {
        let text = std::fs::read_to_string(demo.out.join(path))
            .unwrap_or_else(|e| panic!("reading {path}: {e}"));
        serde_json::from_str(&text).expect("dashboard JSON")
    };
    let dashboard = read(&format!("grafana/dashboards/{TEAM}/{SERVICE}.json"));
    let home = read("grafana/dashboards/Services/home.json");
    for env in [STAGING, PRODUCTION] {
        let mut queries = dashboard_queries(&dashboard, env);
        let panels = queries.len();
        queries.extend(dashboard_queries(&home, env));
        assert!(panels > 15, "{panels} queries");
        for (index, (title, expr)) in queries.iter().enumerate() {
            let answer = http(
                demo.ports.prometheus(env),
                "GET",
                &format!("/api/v1/query?query={}", encode(expr)),
                None,
            );
            assert!(
                matches!(&answer, Ok((200, body)) if body.contains("\"status\":\"success\"")),
                "{env}: `{title}` {expr}\n  -> {answer:?}"
            );
            // Staging serves no 5xx, so its errors by route are empty.
            let empty_by_design = env == STAGING && title == "Errors by route";
            if index < panels && !empty_by_design {
                demo.wait(
                    &format!("the `{title}` panel to have data in {env}: {expr}"),
                    WAIT,
                    |demo| demo.query(env, expr).map(|_| ()),
                );
            }
        }
    }
}
