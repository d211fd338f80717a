//! The command line as users drive it: scaffold, build, check, change,
//! prune, fail, and the exit codes (0 ok, 1 invalid or stale, 2 usage or
//! I/O error).

use std::path::Path;

use crate::common::{TempDir, obsgen, snapshot};

/// `obsgen init demo` in a fresh directory; returns (temp dir, demo path).
fn scaffold() -> (TempDir, std::path::PathBuf) {
    let dir = TempDir::new("cli");
    obsgen(dir.path(), &["init", "demo"]).success();
    let demo = dir.join("demo");
    assert!(demo.join("obsgen.yaml").is_file());
    assert!(demo.join("services/hello.yaml").is_file());
    (dir, demo)
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).expect("reading a manifest");
    assert!(text.contains(from), "`{from}` not in {}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).expect("writing a manifest");
}

fn assert_no_panic(run: &crate::common::Run) {
    assert!(
        !run.stderr.contains("panicked"),
        "obsgen panicked:\n{}",
        run.stderr
    );
}

#[test]
fn init_build_check_label_rename_and_a_users_file() {
    let (_dir, demo) = scaffold();
    obsgen(&demo, &["build"]).success();
    let check = obsgen(&demo, &["check"]);
    check.success();
    assert_eq!(check.stdout, "", "check is quiet when up to date");

    // A label on the service makes the committed output stale.
    let manifest = demo.join("services/hello.yaml");
    edit(
        &manifest,
        "  description:",
        "  labels: {cost_centre: cc-4711}\n  description:",
    );
    let stale = obsgen(&demo, &["check"]);
    stale.code(1);
    assert!(
        stale.stdout.contains("--- a/generated/") && stale.stdout.contains("+++ b/generated/"),
        "a unified diff:\n{}",
        stale.stdout
    );
    assert!(
        stale
            .stdout
            .lines()
            .any(|l| l.starts_with('+') && l.contains("cost_centre") && l.contains("cc-4711")),
        "the diff shows the label:\n{}",
        stale.stdout
    );
    assert!(stale.stderr.contains("obsgen build"), "{}", stale.stderr);

    obsgen(&demo, &["build"]).success();
    obsgen(&demo, &["check"]).success();

    // A file of the user's in generated/ survives every build.
    std::fs::write(demo.join("generated/NOTES.md"), "mine\n").expect("writing a user file");

    // Renaming the service prunes the files generated for the old name.
    let before = snapshot(&demo.join("generated"));
    std::fs::remove_file(&manifest).expect("removing hello.yaml");
    let renamed = std::fs::read_to_string(demo.join("obsgen.yaml")).expect("platform");
    assert!(renamed.contains("platform"));
    std::fs::write(
        demo.join("services/greeter.yaml"),
        "apiVersion: obsgen.dev/v1\nkind: Service\nmetadata:\n  name: greeter\n  team: platform\nspec:\n  framework: http\n",
    )
    .expect("writing greeter.yaml");
    let build = obsgen(&demo, &["build"]);
    build.success();
    let after = snapshot(&demo.join("generated"));
    for (path, contents) in &after {
        if path == "NOTES.md" {
            continue;
        }
        assert!(!path.contains("hello"), "{path} survived the rename");
        assert!(
            !String::from_utf8_lossy(contents).contains("hello"),
            "{path} still mentions the old name"
        );
    }
    for path in before.keys().filter(|p| p.contains("hello")) {
        assert!(
            build.stdout.contains(&format!("removed generated/{path}")),
            "{path} pruned and reported:\n{}",
            build.stdout
        );
    }
    assert_eq!(
        after.get("NOTES.md").map(Vec::as_slice),
        Some(&b"mine\n"[..])
    );
    obsgen(&demo, &["check"]).success();
}

#[test]
fn a_rename_prunes_per_service_files_but_never_a_users_file() {
    let (_dir, demo) = scaffold();
    // File-based discovery writes one file per service and environment,
    // so there is something named after the service to prune.
    edit(
        &demo.join("obsgen.yaml"),
        "discovery: static",
        "discovery: file_sd",
    );
    obsgen(&demo, &["build"]).success();
    let old: Vec<String> = snapshot(&demo.join("generated"))
        .into_keys()
        .filter(|p| p.contains("hello"))
        .collect();
    assert!(!old.is_empty(), "per-service files exist before the rename");
    std::fs::write(demo.join("generated/prometheus/my-notes.txt"), "keep").expect("user file");
    std::fs::write(demo.join("generated/hello-by-hand.txt"), "keep").expect("user file");

    edit(
        &demo.join("services/hello.yaml"),
        "name: hello",
        "name: greeter",
    );
    let build = obsgen(&demo, &["build"]);
    build.success();
    for path in &old {
        assert!(!demo.join("generated").join(path).exists(), "{path} left");
        assert!(build.stdout.contains(&format!("removed generated/{path}")));
        let renamed = path.replace("hello", "greeter");
        assert!(demo.join("generated").join(&renamed).exists(), "{renamed}");
    }
    assert!(demo.join("generated/prometheus/my-notes.txt").exists());
    assert!(demo.join("generated/hello-by-hand.txt").exists());
    obsgen(&demo, &["check"]).success();
}

#[test]
fn three_mistakes_in_two_files_are_reported_at_once_and_build_keeps_the_tree() {
    let (_dir, demo) = scaffold();
    obsgen(&demo, &["build"]).success();
    let before = snapshot(&demo.join("generated"));

    let hello = demo.join("services/hello.yaml");
    edit(&hello, "team: platform", "team: platfrom");
    edit(&hello, "objective: 99.9", "objective: 120");
    std::fs::write(
        demo.join("services/second.yaml"),
        "apiVersion: obsgen.dev/v1\nkind: Service\nmetadata:\n  name: second\n  team: platform\nspec:\n  langauge: go\n",
    )
    .expect("writing second.yaml");

    let validate = obsgen(&demo, &["validate"]);
    validate.code(1);
    let located: Vec<&str> = validate
        .stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(located.len(), 3, "{}", validate.stderr);
    let team_line = line_of(&hello, "team: platfrom");
    let objective_line = line_of(&hello, "objective: 120");
    assert!(located[0].starts_with(&format!(
        "error: services/hello.yaml:{team_line}:9: metadata.team: unknown team"
    )));
    assert!(located[1].starts_with(&format!(
        "error: services/hello.yaml:{objective_line}:18: spec.slos[0].objective:"
    )));
    assert!(
        located[2].starts_with("error: services/second.yaml:7:3: spec.langauge: unknown field")
    );
    assert!(
        validate.stderr.ends_with("3 errors\n"),
        "{}",
        validate.stderr
    );

    let build = obsgen(&demo, &["build"]);
    build.code(1);
    assert_no_panic(&build);
    assert!(build.stderr.contains("nothing written"), "{}", build.stderr);
    assert_eq!(
        snapshot(&demo.join("generated")),
        before,
        "a refused build leaves the previous tree byte for byte"
    );
    obsgen(&demo, &["check"]).code(1);
}

fn line_of(path: &Path, needle: &str) -> usize {
    std::fs::read_to_string(path)
        .expect("reading")
        .lines()
        .position(|l| l.contains(needle))
        .expect("the line exists")
        + 1
}

#[test]
fn random_bytes_as_a_manifest_exit_1_without_panic() {
    let (_dir, demo) = scaffold();
    let mut state: u32 = 0x9e37_79b9;
    let bytes: Vec<u8> = (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect();
    for name in ["noise.yaml", "noise.jsonnet"] {
        std::fs::write(demo.join("services").join(name), &bytes).expect("writing noise");
        for command in ["validate", "build", "check", "diff"] {
            let run = obsgen(&demo, &[command]);
            assert_no_panic(&run);
            run.code(1);
            assert!(run.stderr.contains(&format!("services/{name}")));
        }
        std::fs::remove_file(demo.join("services").join(name)).expect("removing noise");
    }
    std::fs::write(demo.join("obsgen.yaml"), &bytes).expect("writing a noisy platform");
    let run = obsgen(&demo, &["validate"]);
    assert_no_panic(&run);
    run.code(1);
}

#[test]
fn diff_prints_a_unified_diff_and_exit_code_reports_it() {
    let (_dir, demo) = scaffold();
    let fresh = obsgen(&demo, &["diff"]);
    fresh.success();
    assert!(fresh.stdout.contains("--- /dev/null\n+++ b/generated/"));
    obsgen(&demo, &["diff", "--exit-code"]).code(1);
    obsgen(&demo, &["build"]).success();
    let clean = obsgen(&demo, &["diff", "--exit-code"]);
    clean.success();
    assert_eq!(clean.stdout, "");

    edit(
        &demo.join("services/hello.yaml"),
        "port: 8080",
        "port: 8081",
    );
    let changed = obsgen(&demo, &["diff", "--exit-code"]);
    changed.code(1);
    assert!(changed.stdout.contains("\n@@ "), "{}", changed.stdout);
    assert!(
        changed
            .stdout
            .lines()
            .any(|l| l.starts_with('-') && l.contains("8080"))
    );
    assert!(
        changed
            .stdout
            .lines()
            .any(|l| l.starts_with('+') && l.contains("8081"))
    );
    let json = obsgen(&demo, &["--format", "json", "diff"]);
    json.success();
    let files: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert!(
        files
            .as_array()
            .is_some_and(|f| !f.is_empty() && f.iter().all(|c| c["change"] == "modified")),
        "{files:#}"
    );
}

#[test]
fn usage_and_io_errors_exit_2() {
    let dir = TempDir::new("cli-usage");
    let missing = obsgen(dir.path(), &["validate"]);
    missing.code(2);
    assert!(missing.stderr.contains("obsgen.yaml"), "{}", missing.stderr);
    assert!(missing.stderr.contains("obsgen init"), "{}", missing.stderr);
    obsgen(dir.path(), &["build"]).code(2);
    obsgen(dir.path(), &["--root", "does/not/exist", "check"]).code(2);
    let unknown = obsgen(dir.path(), &["frobnicate"]);
    unknown.code(2);
    assert!(unknown.stderr.contains("frobnicate"), "{}", unknown.stderr);
    obsgen(dir.path(), &["--format", "yaml", "validate"]).code(2);
    obsgen(dir.path(), &[]).code(2);
}

#[test]
fn schema_prints_json_schemas() {
    let dir = TempDir::new("cli-schema");
    for (args, title) in [
        (&["schema"][..], "obsgen Service manifest"),
        (&["schema", "service"][..], "obsgen Service manifest"),
        (&["schema", "platform"][..], "obsgen Platform configuration"),
    ] {
        let run = obsgen(dir.path(), args);
        run.success();
        let schema: serde_json::Value = serde_json::from_str(&run.stdout).expect("valid JSON");
        assert_eq!(schema["title"], title);
        assert!(schema["properties"]["spec"].is_object());
    }
    obsgen(dir.path(), &["schema", "dashboard"]).code(2);
}

#[test]
fn out_elsewhere_and_build_as_json() {
    let (dir, demo) = scaffold();
    let elsewhere = dir.join("elsewhere");
    let out = elsewhere.to_string_lossy().into_owned();
    let build = obsgen(&demo, &["--out", &out, "--format", "json", "build"]);
    build.success();
    let summary: serde_json::Value = serde_json::from_str(&build.stdout).expect("JSON summary");
    let written = summary["written"].as_array().expect("written");
    assert!(!written.is_empty());
    assert_eq!(summary["removed"], serde_json::json!([]));
    assert_eq!(summary["unchanged"], 0);
    for path in written {
        let path = path.as_str().expect("a path");
        assert!(elsewhere.join(path).is_file(), "{path} not written");
    }
    assert!(
        !demo.join("generated").exists(),
        "nothing in the default place"
    );
    obsgen(&demo, &["--out", &out, "check"]).success();
    obsgen(&demo, &["check"]).code(1);

    let again = obsgen(&demo, &["--out", &out, "--format", "json", "build"]);
    let summary: serde_json::Value = serde_json::from_str(&again.stdout).expect("JSON summary");
    assert_eq!(summary["written"], serde_json::json!([]));
    assert_eq!(summary["unchanged"].as_u64(), Some(written.len() as u64));

    // Relative to the root, from anywhere.
    obsgen(dir.path(), &["--root", "demo", "--out", "out2", "build"]).success();
    assert!(demo.join("out2/.obsgen-index").is_file());
}

#[test]
fn validate_reports_a_valid_repository() {
    let (_dir, demo) = scaffold();
    let run = obsgen(&demo, &["validate"]);
    run.success();
    assert_eq!(run.stdout, "1 services valid\n");
    assert_eq!(run.stderr, "");
}

/// `obsgen diff | head -1`: the reader goes away; that is a normal end
/// (exit 0 for diff, 1 for a stale check), not a panic (exit 101).
#[test]
fn a_closed_stdout_pipe_is_a_normal_end() {
    let (_dir, demo) = scaffold();
    let run = |args: &[&str]| {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_obsgen"))
            .args(args)
            .current_dir(&demo)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("running obsgen");
        // Close the reading end before obsgen writes a byte.
        drop(child.stdout.take());
        let output = child.wait_with_output().expect("waiting for obsgen");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        (output.status.code(), stderr)
    };
    assert_eq!(run(&["diff"]).0, Some(0));
    assert_eq!(run(&["diff", "--exit-code"]).0, Some(1));
    assert_eq!(run(&["check"]).0, Some(1));
    assert_eq!(run(&["schema"]).0, Some(0));
    assert_eq!(run(&["validate"]).0, Some(0));
    assert_eq!(run(&["--format", "json", "diff"]).0, Some(0));
}

/// A new repository's Prometheus sends its alerts to the Alertmanager
/// obsgen configures; without one, validation says alerts go nowhere.
#[test]
fn prometheus_is_connected_to_alertmanager_from_the_first_run() {
    let (_dir, demo) = scaffold();
    let valid = obsgen(&demo, &["validate"]);
    valid.success();
    assert!(!valid.stderr.contains("warning"), "{}", valid.stderr);
    obsgen(&demo, &["build"]).success();
    let config =
        std::fs::read_to_string(demo.join("generated/prometheus/production/prometheus.yml"))
            .expect("prometheus.yml");
    let value: serde_json::Value = serde_saphyr::from_str(&config).expect("YAML");
    assert_eq!(
        value["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"][0],
        "alertmanager.monitoring.svc:9093",
        "{config}"
    );

    edit(
        &demo.join("obsgen.yaml"),
        "    url: http://alertmanager.monitoring.svc:9093\n",
        "    url: https://am.example.com:9443/alertmanager/\n",
    );
    obsgen(&demo, &["build"]).success();
    let config =
        std::fs::read_to_string(demo.join("generated/prometheus/production/prometheus.yml"))
            .expect("prometheus.yml");
    let value: serde_json::Value = serde_saphyr::from_str(&config).expect("YAML");
    let am = &value["alerting"]["alertmanagers"][0];
    assert_eq!(am["scheme"], "https", "{config}");
    assert_eq!(am["path_prefix"], "/alertmanager", "{config}");
    assert_eq!(am["static_configs"][0]["targets"][0], "am.example.com:9443");

    edit(
        &demo.join("obsgen.yaml"),
        "  alertmanager:\n    url: https://am.example.com:9443/alertmanager/\n",
        "",
    );
    let warned = obsgen(&demo, &["validate"]);
    warned.success();
    assert!(
        warned.stderr.contains("warning") && warned.stderr.contains("notifies nobody"),
        "{}",
        warned.stderr
    );
}

/// `obsgen test` runs the generated promtool tests and routing cases with
/// the tools on PATH, fails when a generated rule no longer meets its
/// tests, and says which tool is missing.
#[test]
fn obsgen_test_runs_the_generated_tests_with_the_real_tools() {
    let (_dir, demo) = scaffold();
    // The tools the tests need, on PATH.
    let promtool = crate::common::tool("promtool");
    let amtool = crate::common::tool("amtool");
    let bin = TempDir::new("cli-tools");
    for tool in [&promtool, &amtool] {
        let name = tool
            .file_name()
            .expect("a name")
            .to_string_lossy()
            .replace("prometheus-", "");
        std::os::unix::fs::symlink(tool, bin.join(&name)).expect("linking a tool");
    }
    let run = |path: &Path| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_obsgen"))
            .arg("test")
            .current_dir(&demo)
            .env("PATH", path)
            .env("NO_COLOR", "1")
            .output()
            .expect("running obsgen test");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (code, _, stderr) = run(bin.path());
    assert_eq!(code, Some(2), "before a build: {stderr}");
    assert!(stderr.contains("obsgen build"), "{stderr}");

    obsgen(&demo, &["build"]).success();
    let routes = std::fs::read_to_string(demo.join("generated/alertmanager/tests/routes.tsv"))
        .expect("routes.tsv");
    assert!(routes.contains("`obsgen test` runs them all"), "{routes}");
    assert!(!routes.contains("scripts/test-routes.sh"));

    let (code, stdout, stderr) = run(bin.path());
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let summary = stdout.lines().last().unwrap_or_default();
    assert!(
        summary.starts_with("obsgen test: 2 promtool test files (2 passed, 0 failed), ")
            && summary.ends_with(" passed, 0 failed)"),
        "{stdout}"
    );

    // A rule that no longer meets its tests.
    let rules = demo.join("generated/prometheus/rules/hello.yml");
    let text = std::fs::read_to_string(&rules).expect("rules");
    std::fs::write(&rules, text.replace(") == 0\n", ") < 2\n")).expect("writing");
    let (code, stdout, _) = run(bin.path());
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("FAIL prometheus/tests/hello.test.yml"),
        "{stdout}"
    );
    assert!(
        stdout.contains("(0 passed, 2 failed)") || stdout.contains("(1 passed, 1 failed)"),
        "{stdout}"
    );

    let empty = TempDir::new("cli-no-tools");
    let (code, _, stderr) = run(empty.path());
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("`promtool` is not on PATH"), "{stderr}");
}

/// An up-to-date `check` (a pre-commit hook) sums its warnings up in one
/// line; `--verbose` shows them.
#[test]
fn an_up_to_date_check_sums_warnings_up_in_one_line() {
    let (_dir, demo) = scaffold();
    edit(
        &demo.join("obsgen.yaml"),
        "  alertmanager:\n    url: http://alertmanager.monitoring.svc:9093\n",
        "",
    );
    obsgen(&demo, &["build"]).success();
    let quiet = obsgen(&demo, &["check"]);
    quiet.success();
    assert_eq!(
        quiet.stderr,
        "1 warning; `obsgen validate` (or `obsgen check --verbose`) shows them\n"
    );
    assert_eq!(quiet.stdout, "");
    let verbose = obsgen(&demo, &["check", "--verbose"]);
    verbose.success();
    assert!(
        verbose.stderr.contains("notifies nobody"),
        "{}",
        verbose.stderr
    );
}

#[test]
fn a_panic_is_one_error_line_and_exit_2() {
    let dir = TempDir::new("panic");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_obsgen"))
        .arg("validate")
        .current_dir(dir.path())
        .env("OBSGEN_TEST_PANIC", "1")
        .output()
        .expect("running obsgen");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(
            "error: obsgen hit an internal error (panic requested by OBSGEN_TEST_PANIC"
        ) && stderr.contains("please report it"),
        "{stderr}"
    );
}
