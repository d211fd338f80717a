//! `obsgen test`: generates the tests of the output tree's rules and
//! routes, and runs them with the real tools.
//!
//! The repository is compiled as `build` would, and the promtool tests of
//! every rule file ([`crate::backend::prometheus::render_tests`]) are
//! written to a temporary folder (removed afterwards) next to a copy of the
//! output tree's Prometheus and Alertmanager files: what is tested is what
//! is deployed, and the committed tree need not hold the tests
//! (`prometheus.commit_tests`). Every promtool test file
//! (`*.test.yml`) goes through `promtool test rules`; the Alertmanager
//! configuration through `amtool check-config`, then every routing case of
//! `alertmanager/tests/routes.tsv` through `amtool config routes test
//! --verify.receivers=<expected> <labels...>`. The tools come from `PATH`.
//! Runs are spread over the machine's cores. Prints one line per failure
//! and a summary line; exit 0 when everything passed, 1 on a failure or
//! invalid input, 2 when a tool is missing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, bail};

use super::print::{errln, outln};
use super::{Cli, Format, exit};
use crate::backend::alertmanager::{CASES_PATH, CONFIG_PATH};

/// One run of a tool, and what it proves.
struct Job {
    /// What failed, for the report (`prometheus/prod/tests/a.test.yml`,
    /// `alertmanager/tests/routes.tsv:12`).
    what: String,
    program: PathBuf,
    args: Vec<String>,
}

/// The outcome of one kind of test.
#[derive(Default, serde::Serialize)]
struct Tally {
    passed: usize,
    failed: usize,
    failures: Vec<String>,
}

pub fn run(cli: &Cli) -> anyhow::Result<u8> {
    let compilation = crate::compile::check(&cli.root)
        .with_context(|| format!("compiling `{}`", cli.root.display()))?;
    super::report(cli, &compilation);
    let Some(model) = &compilation.model else {
        errln!("nothing tested: fix the errors above");
        return Ok(exit::INVALID);
    };
    let out_dir = cli.out_dir();
    if !out_dir.join(crate::output::INDEX_FILE).is_file() {
        bail!(
            "`{}` holds no generated tree: run `obsgen build` first",
            out_dir.display()
        );
    }
    let scratch = Scratch::new()?;
    write_tested_files(model, &out_dir, scratch.path())?;
    let result = run_in(cli, scratch.path());
    drop(scratch);
    result
}

/// A temporary folder, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> anyhow::Result<Self> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let path = std::env::temp_dir().join(format!("obsgen-test-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).with_context(|| format!("creating `{}`", path.display()))?;
        Ok(Scratch(path))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes what the tests read into `dir`: the output tree's Prometheus and
/// Alertmanager files, and the promtool tests when the tree does not hold
/// them.
fn write_tested_files(
    model: &crate::model::Model,
    out_dir: &Path,
    dir: &Path,
) -> anyhow::Result<()> {
    let mut files = Vec::new();
    for top in ["prometheus", "alertmanager"] {
        for file in files_ending(&out_dir.join(top), "") {
            let contents =
                std::fs::read(&file).with_context(|| format!("reading `{}`", file.display()))?;
            files.push((relative(out_dir, &file), contents));
        }
    }
    if !model.platform.prometheus.commit_tests {
        for (relative, contents) in crate::backend::prometheus::render_tests(model)?.iter() {
            files.push((relative.to_string(), contents.to_vec()));
        }
    }
    for (relative, contents) in &files {
        let path = dir.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating `{}`", parent.display()))?;
        }
        std::fs::write(&path, contents).with_context(|| format!("writing `{}`", path.display()))?;
    }
    Ok(())
}

/// Runs the tests found in `out_dir`.
fn run_in(cli: &Cli, out_dir: &Path) -> anyhow::Result<u8> {
    let out_dir = out_dir.to_path_buf();
    let test_files = files_ending(&out_dir, ".test.yml");
    let config = out_dir.join(CONFIG_PATH);
    let cases = out_dir.join(CASES_PATH);
    if test_files.is_empty() && !cases.is_file() {
        bail!(
            "`{}` holds no generated tests: run `obsgen build` first",
            out_dir.display()
        );
    }

    let mut promtool = Tally::default();
    if !test_files.is_empty() {
        let tool = find_tool(
            "promtool",
            "Prometheus (its release archive or the `prometheus` package ships promtool)",
        )?;
        let jobs: Vec<Job> = test_files
            .iter()
            .map(|file| Job {
                what: relative(&out_dir, file),
                program: tool.clone(),
                args: vec!["test".into(), "rules".into(), file.display().to_string()],
            })
            .collect();
        promtool = tally(&jobs, &run_all(&jobs));
    }

    let mut routes = Tally::default();
    if cases.is_file() {
        let tool = find_tool(
            "amtool",
            "Alertmanager (its release archive or the `prometheus-alertmanager` package ships amtool)",
        )?;
        let check = Job {
            what: relative(&out_dir, &config),
            program: tool.clone(),
            args: vec!["check-config".into(), config.display().to_string()],
        };
        let checked = tally(
            std::slice::from_ref(&check),
            &run_all(std::slice::from_ref(&check)),
        );
        routes.failed += checked.failed;
        routes.failures.extend(checked.failures);
        let text = std::fs::read_to_string(&cases)
            .with_context(|| format!("reading `{}`", cases.display()))?;
        let jobs: Vec<Job> = routing_cases(&text)
            .into_iter()
            .map(|(line, receiver, labels)| {
                let mut args = vec![
                    "config".to_string(),
                    "routes".to_string(),
                    "test".to_string(),
                    format!("--config.file={}", config.display()),
                    format!("--verify.receivers={receiver}"),
                ];
                args.extend(labels.iter().cloned());
                Job {
                    what: format!(
                        "{}:{line}: {{{}}} must reach {receiver}",
                        relative(&out_dir, &cases),
                        labels.join(", ")
                    ),
                    program: tool.clone(),
                    args,
                }
            })
            .collect();
        let cased = tally(&jobs, &run_all(&jobs));
        routes.passed += cased.passed;
        routes.failed += cased.failed;
        routes.failures.extend(cased.failures);
    }

    let failed = promtool.failed + routes.failed;
    match cli.format {
        Format::Json => outln!(
            "{}",
            serde_json::json!({ "promtool": promtool, "routes": routes, "passed": failed == 0 })
        )?,
        Format::Text | Format::Markdown => {
            for failure in promtool.failures.iter().chain(&routes.failures) {
                outln!("FAIL {failure}")?;
            }
            outln!(
                "obsgen test: {} promtool test files ({} passed, {} failed), {} routing cases ({} passed, {} failed)",
                promtool.passed + promtool.failed,
                promtool.passed,
                promtool.failed,
                routes.passed + routes.failed,
                routes.passed,
                routes.failed
            )?;
        }
    }
    Ok(if failed == 0 { exit::OK } else { exit::INVALID })
}

/// `(line number, expected receiver, label matchers)` of every case of a
/// `routes.tsv`: `#` comments, otherwise tab-separated fields.
fn routing_cases(text: &str) -> Vec<(usize, String, Vec<String>)> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty() && !line.starts_with('#'))
        .filter_map(|(index, line)| {
            let mut fields = line.split('\t').map(str::to_string);
            let receiver = fields.next()?;
            Some((index + 1, receiver, fields.collect()))
        })
        .collect()
}

/// A tool on `PATH`, or an error saying what to install.
fn find_tool(name: &str, install: &str) -> anyhow::Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .with_context(|| {
            format!("`{name}` is not on PATH; `obsgen test` needs it: install {install}")
        })
}

/// Runs every job, on as many threads as the machine has cores.
fn run_all(jobs: &[Job]) -> Vec<std::io::Result<Output>> {
    let workers = std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1)
        .min(jobs.len().max(1));
    let next = AtomicUsize::new(0);
    let mut results: Vec<Option<std::io::Result<Output>>> = jobs.iter().map(|_| None).collect();
    let done = std::sync::Mutex::new(&mut results);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    let Some(job) = jobs.get(index) else {
                        break;
                    };
                    let output = Command::new(&job.program).args(&job.args).output();
                    if let Ok(mut done) = done.lock()
                        && let Some(slot) = done.get_mut(index)
                    {
                        *slot = Some(output);
                    }
                }
            });
        }
    });
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(std::io::Error::other("not run"))))
        .collect()
}

fn tally(jobs: &[Job], outputs: &[std::io::Result<Output>]) -> Tally {
    let mut tally = Tally::default();
    for (job, output) in jobs.iter().zip(outputs) {
        match output {
            Ok(output) if output.status.success() => tally.passed += 1,
            Ok(output) => {
                tally.failed += 1;
                let text = format!(
                    "{}{}",
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                );
                let detail: Vec<&str> = text
                    .lines()
                    .map(str::trim)
                    .filter(|l| {
                        !l.is_empty()
                            && !l.starts_with("Unit Testing")
                            && !l.to_lowercase().starts_with("warning")
                    })
                    .take(12)
                    .collect();
                tally
                    .failures
                    .push(format!("{}\n  {}", job.what, detail.join("\n  ")));
            }
            Err(error) => {
                tally.failed += 1;
                tally.failures.push(format!(
                    "{}: could not run `{}`: {error}",
                    job.what,
                    job.program.display()
                ));
            }
        }
    }
    tally
}

/// Every file below `dir` whose name ends in `suffix`, sorted.
fn files_ending(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&current) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.to_string_lossy().ends_with(suffix) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routing_cases_skip_comments_and_keep_line_numbers() {
        let text = "# header\n#\n\n# group\nslack-a\tenv=\"prod\"\tteam=\"a\"\n";
        assert_eq!(
            routing_cases(text),
            [(
                5,
                "slack-a".to_string(),
                vec!["env=\"prod\"".to_string(), "team=\"a\"".to_string()]
            )]
        );
    }
}
