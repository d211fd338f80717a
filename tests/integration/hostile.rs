//! The hostile-input corpus: every `tests/hostile/<case>/` is a small
//! repository written as an attacker or an unlucky user would.
//!
//! - A case with `expected.txt` must make `obsgen validate` exit 1 with
//!   exactly those diagnostics (re-blessed by `make bless`, like
//!   `tests/bad/`), without hanging or panicking.
//! - A case with `accepted.txt` must build, every generated YAML file must
//!   be one document under a one-line header, the real tools must accept
//!   the output (`promtool check config`, `check rules`, `test rules`,
//!   `amtool check-config`), and every JSON string listed in
//!   `accepted.txt` must come back unchanged inside a value of the
//!   generated files: escaped on the way in, never breaking out.
//!
//! A case without its own `obsgen.yaml` gets `tests/hostile/_platform.yaml`.
//! Inputs git cannot hold (FIFOs, devices, links out, control characters
//! in names) and very large ones are made by the tests below the corpus.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::{TempDir, copy_tree, obsgen, repo, tool, walk};
use crate::golden::bless_requested;

const EXPECTED: &str = "expected.txt";
const ACCEPTED: &str = "accepted.txt";
const SHARED_PLATFORM: &str = "_platform.yaml";

fn hostile_dir() -> PathBuf {
    repo().join("tests").join("hostile")
}

fn materialize(case: &Path) -> TempDir {
    let name = case.file_name().expect("a name").to_string_lossy();
    let dir = TempDir::new(&format!("hostile-{name}"));
    copy_tree(case, dir.path());
    let _ = std::fs::remove_file(dir.join(EXPECTED));
    let _ = std::fs::remove_file(dir.join(ACCEPTED));
    if !case.join("obsgen.yaml").exists() {
        std::fs::copy(hostile_dir().join(SHARED_PLATFORM), dir.join("obsgen.yaml"))
            .expect("copying the shared platform");
    }
    dir
}

/// `obsgen` with a deadline: a hang is a failure, not a stuck test.
fn obsgen_within(dir: &Path, args: &[&str], limit: Duration) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_obsgen"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("running obsgen");
    let started = Instant::now();
    while child.try_wait().expect("waiting for obsgen").is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "obsgen {} hung for more than {limit:?} in {}",
                args.join(" "),
                dir.display()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("obsgen's output");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

const DEADLINE: Duration = Duration::from_secs(60);

#[test]
fn every_hostile_case_is_refused_clearly_or_escaped_safely() {
    let mut failures = Vec::new();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(hostile_dir())
        .expect("tests/hostile/")
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.is_dir())
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 10,
        "tests/hostile/ holds {} cases",
        cases.len()
    );
    let mut accepted_cases = 0;
    for case in &cases {
        let name = case
            .file_name()
            .expect("a name")
            .to_string_lossy()
            .into_owned();
        let repository = materialize(case);
        let expected_path = case.join(EXPECTED);
        let accepted_path = case.join(ACCEPTED);
        match (
            expected_path.exists() || !accepted_path.exists(),
            accepted_path.exists(),
        ) {
            (true, true) => failures.push(format!("{name}: both {EXPECTED} and {ACCEPTED}")),
            (true, false) => {
                let (code, stdout, stderr) =
                    obsgen_within(repository.path(), &["validate"], DEADLINE);
                if stderr.contains("panicked") || stderr.contains("internal error") || code != 1 {
                    failures.push(format!(
                        "{name}: exit {code}\nstdout:\n{stdout}\nstderr:\n{stderr}"
                    ));
                    continue;
                }
                if bless_requested() {
                    std::fs::write(&expected_path, &stderr).expect("writing expected.txt");
                    continue;
                }
                let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
                if expected != stderr {
                    failures.push(
                        similar::TextDiff::from_lines(&expected, &stderr)
                            .unified_diff()
                            .header(
                                &format!("tests/hostile/{name}/{EXPECTED}"),
                                "obsgen validate",
                            )
                            .to_string(),
                    );
                }
            }
            (false, _) => {
                accepted_cases += 1;
                if let Err(failure) = check_accepted(repository.path(), &accepted_path) {
                    failures.push(format!("{name}: {failure}"));
                }
            }
        }
    }
    assert!(accepted_cases >= 1, "no accepted case in the corpus");
    assert!(
        failures.is_empty(),
        "hostile cases failed (re-bless expected diagnostics with `make bless` if intended):\n{}",
        failures.join("\n")
    );
}

/// A collector configuration reads back into obsgen's typed model (so it
/// holds no field the collector does not know) under a one-line header,
/// with a wired pipeline; an env file holds only comments and `NAME=value`
/// lines whose values every env-file reader takes literally. The resource
/// attributes' values, percent-decoded, join the strings that must come
/// back.
fn check_otel_file(relative: &str, text: &str, strings: &mut Vec<String>) -> Result<(), String> {
    use obsgen::backend::otel::collector::CollectorConfig;
    if relative.ends_with("/collector.yaml") {
        let mut lines = text.lines();
        if !lines
            .next()
            .unwrap_or_default()
            .starts_with("# generated by obsgen")
            || text
                .lines()
                .skip(1)
                .any(|l| l.starts_with('#') || l == "---")
        {
            return Err(format!(
                "{relative}: not one document under a one-line header"
            ));
        }
        let config: CollectorConfig = serde_saphyr::from_str(text)
            .map_err(|e| format!("{relative} is not a collector configuration: {e}"))?;
        let undefined = config.undefined_components();
        if !undefined.is_empty() {
            return Err(format!("{relative}: the pipeline names {undefined:?}"));
        }
        let value = serde_json::to_value(&config).map_err(|e| e.to_string())?;
        collect_strings(&value, strings);
        return Ok(());
    }
    for line in text.lines().filter(|line| !line.starts_with('#')) {
        let (name, value) = line
            .split_once('=')
            .ok_or_else(|| format!("{relative}: not a NAME=value line: {line:?}"))?;
        let literal = |c: char| c.is_ascii_graphic() && !"\"'#$\\`".contains(c);
        if !name.chars().all(|c| c.is_ascii_uppercase() || c == '_') || !value.chars().all(literal)
        {
            return Err(format!(
                "{relative}: a line an env-file reader may not take literally: {line:?}"
            ));
        }
        if name == "OTEL_RESOURCE_ATTRIBUTES" {
            for pair in value.split(',') {
                let (key, value) = pair
                    .split_once('=')
                    .ok_or_else(|| format!("{relative}: not key=value: {pair:?}"))?;
                strings.push(percent_decode(key)?);
                strings.push(percent_decode(value)?);
            }
        }
    }
    Ok(())
}

fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = text
                .get(index + 1..index + 3)
                .ok_or_else(|| format!("a cut escape in {text:?}"))?;
            out.push(u8::from_str_radix(hex, 16).map_err(|e| format!("{text:?}: {e}"))?);
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(out).map_err(|e| e.to_string())
}

/// Builds an accepted case and proves its output with the real tools.
fn check_accepted(root: &Path, accepted: &Path) -> Result<(), String> {
    let (code, stdout, stderr) = obsgen_within(root, &["build"], DEADLINE);
    if code != 0 {
        return Err(format!("build exit {code}\n{stdout}{stderr}"));
    }
    let out = root.join("generated");
    let mut strings = Vec::new();
    for file in walk(&out) {
        let relative = file
            .strip_prefix(&out)
            .expect("inside")
            .display()
            .to_string();
        let text = std::fs::read_to_string(&file).map_err(|e| format!("{relative}: {e}"))?;
        if relative.starts_with("grafana/dashboards/") && relative.ends_with(".json") {
            // Dashboards: Grafana's JSON model (typed, no unknown field),
            // lint-clean, and the strings come back unchanged.
            let dashboard: obsgen::backend::grafana::dashboard_json::Dashboard =
                serde_json::from_str(&text)
                    .map_err(|e| format!("{relative} is not a dashboard: {e}"))?;
            let problems = obsgen::backend::grafana::lint::lint_dashboard(&dashboard);
            if !problems.is_empty() && !relative.contains("/home.json") {
                return Err(format!("{relative}: {problems:?}"));
            }
            let value: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| e.to_string())?;
            collect_strings(&value, &mut strings);
            continue;
        }
        if relative.starts_with("otel/") {
            check_otel_file(&relative, &text, &mut strings)?;
            continue;
        }
        if !relative.ends_with(".yml") {
            continue;
        }
        let mut lines = text.lines();
        let header = lines.next().unwrap_or_default();
        if !header.starts_with("# generated by obsgen")
            || lines.next().is_some_and(|l| l.starts_with('#'))
        {
            return Err(format!(
                "{relative}: the header is not one comment line:\n{text}"
            ));
        }
        if text
            .lines()
            .any(|line| line == "---" || line.starts_with("--- "))
        {
            return Err(format!("{relative}: a second YAML document"));
        }
        let value: serde_json::Value =
            serde_saphyr::from_str(&text).map_err(|e| format!("{relative} does not parse: {e}"))?;
        collect_strings(&value, &mut strings);
    }
    let wanted = std::fs::read_to_string(accepted).map_err(|e| e.to_string())?;
    for line in wanted
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let value: String =
            serde_json::from_str(line).map_err(|e| format!("{ACCEPTED}: {line}: {e}"))?;
        if !strings.iter().any(|s| s.contains(&value)) {
            return Err(format!(
                "{value:?} does not come back from any generated value"
            ));
        }
    }
    let run = |args: &[&str], files: &[PathBuf], program: &str| -> Result<(), String> {
        if files.is_empty() {
            return Err(format!("no files for {program} {}", args.join(" ")));
        }
        let output = Command::new(tool(program))
            .args(args)
            .args(files)
            .output()
            .map_err(|e| e.to_string())?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{program} {} failed:\n{}{}",
                args.join(" "),
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    };
    let files = walk(&out);
    let ending = |suffix: &str| -> Vec<PathBuf> {
        files
            .iter()
            .filter(|p| p.to_string_lossy().ends_with(suffix))
            .cloned()
            .collect()
    };
    let rules: Vec<PathBuf> = files
        .iter()
        .filter(|p| p.parent().is_some_and(|d| d.ends_with("rules")))
        .cloned()
        .collect();
    run(&["check", "config"], &ending("/prometheus.yml"), "promtool")?;
    run(&["check", "rules"], &rules, "promtool")?;
    // The promtool tests and routing cases, generated and run by obsgen.
    let (code, stdout, stderr) = obsgen_within(root, &["test"], DEADLINE);
    if code != 0 {
        return Err(format!("obsgen test exit {code}\n{stdout}{stderr}"));
    }
    run(
        &["check-config"],
        &ending("alertmanager/alertmanager.yml"),
        "amtool",
    )?;
    // The Logstash pipelines parse with an independent Logstash grammar,
    // and the k6 scripts pass `k6 inspect` (their thresholds included).
    let checker = repo().join("tests/logstash/check.py");
    for pipeline in ending(".conf") {
        let output = Command::new("python3")
            .arg(&checker)
            .arg("parse")
            .arg(&pipeline)
            .output()
            .map_err(|e| format!("running python3: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "{}: the Logstash grammar refuses it:\n{}",
                pipeline.display(),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
    }
    for script in ending(".js") {
        let output = Command::new(tool("k6"))
            .args(["inspect", "--execution-requirements", "-e", "ENV=staging"])
            .arg(&script)
            .env("K6_NO_USAGE_REPORT", "true")
            .output()
            .map_err(|e| format!("running k6: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "{}: k6 inspect failed:\n{}",
                script.display(),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
    }
    Ok(())
}

fn collect_strings(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(text) => out.push(text.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        serde_json::Value::Object(members) => {
            for (key, item) in members {
                out.push(key.clone());
                collect_strings(item, out);
            }
        }
        _ => {}
    }
}

/// A repository with the shared platform and one valid manifest.
fn small_repository(label: &str) -> TempDir {
    let dir = TempDir::new(label);
    std::fs::copy(hostile_dir().join(SHARED_PLATFORM), dir.join("obsgen.yaml"))
        .expect("copying the platform");
    dir.write(
        "services/checkout.yaml",
        "apiVersion: obsgen.dev/v1\nkind: Service\nmetadata:\n  name: checkout\n  team: payments\n",
    );
    dir
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("running mkfifo");
    assert!(status.success(), "mkfifo {}", path.display());
}

#[test]
fn fifos_devices_and_links_in_services_are_warned_about_not_read() {
    let dir = small_repository("hostile-special");
    let outside = TempDir::new("hostile-outside");
    outside.write(
        "secret.yaml",
        "apiVersion: obsgen.dev/v1\nkind: Service\nmetadata:\n  name: secret\n  team: payments\n",
    );
    mkfifo(&dir.join("services/pipe.yaml"));
    std::os::unix::fs::symlink("/dev/zero", dir.join("services/zero.yaml")).expect("a link");
    std::os::unix::fs::symlink(
        outside.join("secret.yaml"),
        dir.join("services/secret.yaml"),
    )
    .expect("a link");
    let (code, _, stderr) = obsgen_within(dir.path(), &["validate"], DEADLINE);
    assert_eq!(code, 0, "{stderr}");
    for (file, kind) in [
        ("pipe.yaml", "a FIFO"),
        ("secret.yaml", "a symbolic link"),
        ("zero.yaml", "a symbolic link"),
    ] {
        assert!(
            stderr.contains(&format!(
                "warning: services/{file}: skipped: {kind} is not read as a manifest"
            )),
            "{file}: {stderr}"
        );
    }
    assert!(stderr.contains("3 warnings"), "{stderr}");
}

#[test]
fn a_fifo_or_device_as_the_platform_file_is_an_error_not_a_hang() {
    let dir = small_repository("hostile-platform-fifo");
    std::fs::remove_file(dir.join("obsgen.yaml")).expect("removing the platform");
    mkfifo(&dir.join("obsgen.yaml"));
    let (code, _, stderr) = obsgen_within(dir.path(), &["validate"], DEADLINE);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("error: obsgen.yaml: not read: it is not a regular file (a FIFO)"),
        "{stderr}"
    );
}

#[test]
fn a_huge_manifest_is_refused_without_reading_it_all() {
    let dir = small_repository("hostile-huge");
    let huge = format!(
        "# {}\n",
        "x".repeat(obsgen::limits::MAX_INPUT_BYTES as usize)
    );
    dir.write("services/huge.yaml", &huge);
    let run = obsgen(dir.path(), &["validate"]);
    run.code(1);
    assert!(
        run.stderr.contains(&format!(
            "error: services/huge.yaml: not read: it is larger than the limit of {} bytes",
            obsgen::limits::MAX_INPUT_BYTES
        )),
        "{}",
        run.stderr
    );
}

#[test]
fn a_control_character_in_a_file_name_is_refused_and_shown_escaped() {
    let dir = small_repository("hostile-name");
    dir.write(
        "services/x\n---\nevil: true\n.yaml",
        "apiVersion: obsgen.dev/v1\nkind: Service\nmetadata:\n  name: x\n  team: payments\n",
    );
    let run = obsgen(dir.path(), &["validate"]);
    run.code(1);
    assert!(
        run.stderr.starts_with(
            "error: services/x\\n---\\nevil: true\\n.yaml: the file name contains a control character\n"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn a_string_repeated_into_every_rule_cannot_blow_up_the_output() {
    let dir = small_repository("hostile-output-size");
    let mut manifest = String::from(
        "apiVersion: obsgen.dev/v1\nkind: Service\nmetadata:\n  name: checkout\n  team: payments\n  labels:\n",
    );
    for i in 0..200 {
        manifest.push_str(&format!("    l{i}: {}\n", "v".repeat(8000)));
    }
    manifest.push_str("spec:\n  slos:\n    - {name: availability, objective: 99.9, indicator: {type: availability}}\n    - {name: latency, objective: 99, indicator: {type: latency, threshold: 250ms}}\n");
    dir.write("services/checkout.yaml", &manifest);
    let (code, _, stderr) = obsgen_within(dir.path(), &["build"], DEADLINE);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "more than the limit of {} bytes per service (1 services)",
            obsgen::limits::MAX_OUTPUT_BYTES_PER_SERVICE
        )),
        "{stderr}"
    );
    assert!(!dir.join("generated").exists(), "nothing may be written");
}

#[test]
fn string_doubling_in_jsonnet_ends_in_an_error_not_an_abort() {
    // A terabyte string: the memory watch stops it (or, on a machine so
    // loaded that a gigabyte takes longer than the time limit, the clock
    // does). Either way one clear error and exit 1, never an abort.
    let dir = small_repository("hostile-doubling");
    dir.write(
        "services/a.jsonnet",
        "local double(s, n) = if n == 0 then s else double(s + s, n - 1);\n{ apiVersion: 'obsgen.dev/v1', kind: 'Service', metadata: { name: 'a', team: 'payments', description: double('x', 40) }, spec: {} }\n",
    );
    let (code, _, stderr) = obsgen_within(dir.path(), &["validate"], DEADLINE);
    assert_eq!(code, 1, "{stderr}");
    let memory = format!(
        "error: services/a.jsonnet: evaluating this Jsonnet manifest used more than {} MiB of memory; obsgen stopped (see docs/limits.md)\n",
        obsgen::limits::JSONNET_MAX_MEMORY_BYTES / (1024 * 1024)
    );
    let time = format!(
        "error: services/a.jsonnet:1:1: the manifest took longer than {} ms to evaluate",
        obsgen::limits::JSONNET_TIMEOUT.as_millis()
    );
    assert!(stderr == memory || stderr.starts_with(&time), "{stderr}");
}
