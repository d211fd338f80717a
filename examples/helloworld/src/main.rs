//! `obsgen-helloworld`: the demo service of `examples/helloworld`.
//!
//! A small HTTP server (std only: a `TcpListener` and a thread per
//! connection) that exposes the request metrics obsgen expects of a
//! `framework: http` service (`docs/metrics.md`): the OpenTelemetry
//! semantic conventions' `http_server_request_duration_seconds` histogram
//! with `http_request_method`, `http_route` and `http_response_status_code`,
//! and, on Linux, the `process_*` metrics the dashboard's runtime row reads
//! for `language: rust`.
//!
//! | request | answer |
//! | --- | --- |
//! | `GET /` | `hello, world` (route `/`) |
//! | `GET /hello/<name>` | `hello, <name>` (route `/hello/{name}`) |
//! | `GET /metrics` | the Prometheus text exposition (not counted) |
//! | `GET /admin/fail` | the share of requests made to fail, in percent |
//! | `PUT /admin/fail?percent=N` | make N % of the counted requests answer 500 |
//!
//! The failing share is spread evenly and deterministically (with 25 %,
//! every fourth request fails), so the error ratio Prometheus records is
//! exactly the share asked for. `--fail-percent N` sets it at start.
//!
//! Usage: `obsgen-helloworld [--listen 127.0.0.1:8080] [--fail-percent N]`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The OpenTelemetry semantic conventions' advice for
/// `http.server.request.duration`, the boundaries obsgen assumes for
/// `framework: http` (`src/model/metrics.rs`, `OTEL_HTTP`).
const BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// The largest request head read; longer ones are refused.
const MAX_HEAD: usize = 16 * 1024;
/// The largest request body read (and discarded).
const MAX_BODY: u64 = 64 * 1024;

/// One histogram series: counts per bucket (not cumulative), sum, count.
#[derive(Default)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        if let Some(slot) = BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .and_then(|index| self.buckets.get_mut(index))
        {
            *slot += 1;
        }
        self.sum += seconds;
        self.count += 1;
    }
}

/// The labels of one request series: method, route, status.
type SeriesKey = (String, String, u16);

struct State {
    requests: Mutex<BTreeMap<SeriesKey, Histogram>>,
    /// The share of counted requests that fail, in percent.
    fail_percent: AtomicU32,
    /// Counted requests so far, for spreading the failures evenly.
    served: AtomicU64,
    started: SystemTime,
}

impl State {
    /// Whether the next counted request fails: request `n` fails when
    /// `floor((n + 1) p / 100) > floor(n p / 100)`, so exactly `p` in every
    /// 100 fail, evenly spread.
    fn next_fails(&self) -> bool {
        let percent = u64::from(self.fail_percent.load(Ordering::SeqCst));
        let n = self.served.fetch_add(1, Ordering::SeqCst);
        (n + 1) * percent / 100 > n * percent / 100
    }
}

fn main() {
    let mut listen = "127.0.0.1:8080".to_string();
    let mut fail_percent = 0u32;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--listen", Some(value)) => listen = value,
            ("--fail-percent", Some(value)) => match parse_percent(&value) {
                Some(percent) => fail_percent = percent,
                None => usage(&format!("--fail-percent wants 0 to 100, not {value:?}")),
            },
            _ => usage(&format!("unexpected argument {arg:?}")),
        }
    }
    let listener = match TcpListener::bind(&listen) {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("obsgen-helloworld: cannot listen on {listen}: {error}");
            std::process::exit(1);
        }
    };
    let address = listener
        .local_addr()
        .map_or(listen.clone(), |a| a.to_string());
    println!("obsgen-helloworld: listening on http://{address} (failing {fail_percent} %)");
    let state = Arc::new(State {
        requests: Mutex::new(BTreeMap::new()),
        fail_percent: AtomicU32::new(fail_percent),
        served: AtomicU64::new(0),
        started: SystemTime::now(),
    });
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let state = Arc::clone(&state);
        std::thread::spawn(move || {
            let _ = handle(stream, &state);
        });
    }
}

fn usage(problem: &str) -> ! {
    eprintln!(
        "obsgen-helloworld: {problem}\nusage: obsgen-helloworld [--listen HOST:PORT] [--fail-percent N]"
    );
    std::process::exit(2);
}

fn parse_percent(text: &str) -> Option<u32> {
    text.parse().ok().filter(|percent| *percent <= 100)
}

/// A parsed request line and the parts of the head that matter here.
struct Request {
    method: String,
    path: String,
    query: String,
}

fn read_request(stream: &TcpStream) -> std::io::Result<Option<Request>> {
    let mut reader = BufReader::new(stream.take(MAX_HEAD as u64));
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Ok(None);
    };
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let request = Request {
        method: method.to_string(),
        path: path.to_string(),
        query: query.to_string(),
    };
    let mut content_length = 0u64;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 {
            return Ok(None);
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            content_length = value.trim().parse().unwrap_or(0);
        }
    }
    // The body is not used; read it so the client sees a clean close
    // (closing a socket with unread data resets the connection).
    let buffered = reader.buffer().len() as u64;
    let remaining = content_length.min(MAX_BODY).saturating_sub(buffered);
    let mut body = reader.into_inner().into_inner().take(remaining);
    std::io::copy(&mut body, &mut std::io::sink())?;
    Ok(Some(request))
}

fn handle(mut stream: TcpStream, state: &State) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.set_write_timeout(Some(Duration::from_secs(10)))?;
    let start = Instant::now();
    let Some(request) = read_request(&stream)? else {
        return respond(&mut stream, 400, "text/plain", "bad request\n");
    };
    match (request.method.as_str(), request.path.as_str()) {
        ("GET", "/metrics") => {
            let text = exposition(state);
            return respond(
                &mut stream,
                200,
                "text/plain; version=0.0.4; charset=utf-8",
                &text,
            );
        }
        (_, "/admin/fail") => return admin_fail(&mut stream, state, &request),
        _ => {}
    }
    let route = if request.path == "/" {
        Some("/")
    } else if request.path.starts_with("/hello/") {
        Some("/hello/{name}")
    } else {
        None
    };
    let (status, body) = match route {
        None => (404, "not found\n".to_string()),
        Some(_) if request.method != "GET" && request.method != "HEAD" => {
            (405, "method not allowed\n".to_string())
        }
        Some(_) if state.next_fails() => (500, "failing on purpose\n".to_string()),
        Some(_) => {
            let name = request.path.strip_prefix("/hello/").unwrap_or("world");
            (
                200,
                format!("hello, {}\n", if name.is_empty() { "world" } else { name }),
            )
        }
    };
    let result = respond(&mut stream, status, "text/plain; charset=utf-8", &body);
    record(
        state,
        &request.method,
        route.unwrap_or(""),
        status,
        start.elapsed(),
    );
    result
}

/// `GET` reads the failing share, `PUT ...?percent=N` (or `POST`) sets it.
fn admin_fail(stream: &mut TcpStream, state: &State, request: &Request) -> std::io::Result<()> {
    if request.method == "PUT" || request.method == "POST" {
        let wanted = request
            .query
            .split('&')
            .find_map(|pair| pair.strip_prefix("percent="))
            .and_then(parse_percent);
        let Some(percent) = wanted else {
            return respond(stream, 400, "text/plain", "want ?percent=0..100\n");
        };
        state.fail_percent.store(percent, Ordering::SeqCst);
        println!("obsgen-helloworld: now failing {percent} % of the requests");
    }
    let percent = state.fail_percent.load(Ordering::SeqCst);
    respond(stream, 200, "text/plain", &format!("{percent}\n"))
}

fn respond(
    stream: &mut TcpStream,
    status: u16,
    content_type: &str,
    body: &str,
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Internal Server Error",
    };
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes())?;
    stream.flush()
}

/// Counts a finished request. Methods outside HTTP's own are `_OTHER`, as
/// the semantic conventions say, so a client cannot create series at will.
fn record(state: &State, method: &str, route: &str, status: u16, elapsed: Duration) {
    const METHODS: [&str; 9] = [
        "CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE",
    ];
    let method = if METHODS.contains(&method) {
        method
    } else {
        "_OTHER"
    };
    if let Ok(mut requests) = state.requests.lock() {
        requests
            .entry((method.to_string(), route.to_string(), status))
            .or_default()
            .observe(elapsed.as_secs_f64());
    }
}

/// The Prometheus text exposition of every metric.
fn exposition(state: &State) -> String {
    let mut out = String::new();
    out.push_str(
        "# HELP http_server_request_duration_seconds Duration of HTTP server requests.\n\
         # TYPE http_server_request_duration_seconds histogram\n",
    );
    if let Ok(requests) = state.requests.lock() {
        for ((method, route, status), histogram) in requests.iter() {
            let labels = format!(
                "http_request_method=\"{method}\",http_response_status_code=\"{status}\",http_route=\"{route}\""
            );
            let mut cumulative = 0;
            for (bound, count) in BUCKETS.iter().zip(histogram.buckets.iter()) {
                cumulative += count;
                let _ = writeln!(
                    out,
                    "http_server_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "http_server_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                histogram.count
            );
            let _ = writeln!(
                out,
                "http_server_request_duration_seconds_sum{{{labels}}} {}",
                histogram.sum
            );
            let _ = writeln!(
                out,
                "http_server_request_duration_seconds_count{{{labels}}} {}",
                histogram.count
            );
        }
    }
    process_metrics(state, &mut out);
    out
}

/// The standard `process_*` metrics, from `/proc` (Linux only: elsewhere
/// only the start time is known).
fn process_metrics(state: &State, out: &mut String) {
    let start = state
        .started
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let _ = writeln!(
        out,
        "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n\
         # TYPE process_start_time_seconds gauge\nprocess_start_time_seconds {start}"
    );
    // utime and stime (fields 14 and 15 of /proc/self/stat, every thread
    // included) are in clock ticks of USER_HZ, which Linux fixes at 100
    // for user space on every architecture it supports.
    if let Some(ticks) = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|text| {
            // The command name (field 2) may hold spaces: count after it.
            let (_, rest) = text.rsplit_once(')')?;
            let mut fields = rest.split_whitespace().skip(11);
            let user = fields.next()?.parse::<f64>().ok()?;
            let system = fields.next()?.parse::<f64>().ok()?;
            Some(user + system)
        })
    {
        let _ = writeln!(
            out,
            "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n\
             # TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total {}",
            ticks / 100.0
        );
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| -> Option<f64> {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    };
    if let Some(kib) = field("VmRSS:") {
        let _ = writeln!(
            out,
            "# HELP process_resident_memory_bytes Resident memory size in bytes.\n\
             # TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes {}",
            kib * 1024.0
        );
    }
    if let Some(kib) = field("VmSize:") {
        let _ = writeln!(
            out,
            "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n\
             # TYPE process_virtual_memory_bytes gauge\nprocess_virtual_memory_bytes {}",
            kib * 1024.0
        );
    }
    if let Some(threads) = field("Threads:") {
        let _ = writeln!(
            out,
            "# HELP process_threads Number of OS threads in the process.\n\
             # TYPE process_threads gauge\nprocess_threads {threads}"
        );
    }
    if let Ok(entries) = std::fs::read_dir("/proc/self/fd") {
        let _ = writeln!(
            out,
            "# HELP process_open_fds Number of open file descriptors.\n\
             # TYPE process_open_fds gauge\nprocess_open_fds {}",
            entries.count()
        );
    }
    if let Some(limit) = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|line| line.strip_prefix("Max open files"))?
                .split_whitespace()
                .next()?
                .parse::<f64>()
                .ok()
        })
    {
        let _ = writeln!(
            out,
            "# HELP process_max_fds Maximum number of open file descriptors.\n\
             # TYPE process_max_fds gauge\nprocess_max_fds {limit}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(percent: u32) -> State {
        State {
            requests: Mutex::new(BTreeMap::new()),
            fail_percent: AtomicU32::new(percent),
            served: AtomicU64::new(0),
            started: SystemTime::now(),
        }
    }

    #[test]
    fn the_failing_share_is_exact_and_spread_evenly() {
        for percent in [0, 1, 25, 50, 99, 100] {
            let state = state(percent);
            let failed: Vec<bool> = (0..400).map(|_| state.next_fails()).collect();
            let count = failed.iter().filter(|f| **f).count();
            assert_eq!(count as u32, percent * 4, "{percent} %");
        }
        let quarter = state(25);
        let pattern: Vec<bool> = (0..8).map(|_| quarter.next_fails()).collect();
        assert_eq!(
            pattern,
            [false, false, false, true, false, false, false, true]
        );
    }

    #[test]
    fn the_histogram_is_cumulative_with_an_inf_bucket() {
        let state = state(0);
        record(&state, "GET", "/", 200, Duration::from_millis(3));
        record(&state, "GET", "/", 200, Duration::from_millis(60));
        record(&state, "BREW", "/", 500, Duration::from_secs(20));
        let text = exposition(&state);
        let labels = r#"http_request_method="GET",http_response_status_code="200",http_route="/""#;
        for expected in [
            format!("http_server_request_duration_seconds_bucket{{{labels},le=\"0.005\"}} 1"),
            format!("http_server_request_duration_seconds_bucket{{{labels},le=\"0.05\"}} 1"),
            format!("http_server_request_duration_seconds_bucket{{{labels},le=\"0.075\"}} 2"),
            format!("http_server_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} 2"),
            format!("http_server_request_duration_seconds_count{{{labels}}} 2"),
        ] {
            assert!(text.contains(&expected), "{expected}\n{text}");
        }
        // Above the last boundary: only in +Inf. Unknown methods are _OTHER.
        let other =
            r#"http_request_method="_OTHER",http_response_status_code="500",http_route="/""#;
        assert!(text.contains(&format!(
            "http_server_request_duration_seconds_bucket{{{other},le=\"10\"}} 0"
        )));
        assert!(text.contains(&format!(
            "http_server_request_duration_seconds_bucket{{{other},le=\"+Inf\"}} 1"
        )));
        assert!(text.contains("process_start_time_seconds "));
    }
}
