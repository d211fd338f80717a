//! Failing fixtures: every `tests/bad/<case>/` is a tiny repository whose
//! `obsgen validate` must exit 1 with exactly the diagnostics in
//! `tests/bad/<case>/expected.txt` (text format, no colour).
//!
//! A case without its own `obsgen.yaml` gets `tests/bad/_platform.yaml`.
//! Re-bless after an intended change with `make bless`
//! (`OBSGEN_BLESS=1 cargo test --test integration bad`). CI never blesses.
//! A case without `expected.txt`, or a stray file in `tests/bad/`, fails.

use std::path::{Path, PathBuf};

use crate::common::{TempDir, copy_tree, obsgen, repo, walk};
use crate::golden::bless_requested;

const EXPECTED: &str = "expected.txt";
const SHARED_PLATFORM: &str = "_platform.yaml";

fn bad_dir() -> PathBuf {
    repo().join("tests").join("bad")
}

/// The case folders, sorted; stray files are reported as failures.
fn cases(failures: &mut Vec<String>) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(bad_dir()).expect("tests/bad/").flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            found.push(path);
        } else if name != SHARED_PLATFORM {
            failures.push(format!(
                "tests/bad/{name}: a stray file; cases are folders with an `{EXPECTED}`"
            ));
        }
    }
    found.sort();
    found
}

/// Copies a case into a fresh repository, with the shared platform if it
/// brings none of its own.
fn materialize(case: &Path) -> TempDir {
    let name = case.file_name().expect("a name").to_string_lossy();
    let dir = TempDir::new(&format!("bad-{name}"));
    copy_tree(case, dir.path());
    let _ = std::fs::remove_file(dir.join(EXPECTED));
    if !case.join("obsgen.yaml").exists() {
        std::fs::copy(bad_dir().join(SHARED_PLATFORM), dir.join("obsgen.yaml"))
            .expect("copying the shared platform");
    }
    dir
}

#[test]
fn every_bad_case_reports_its_expected_diagnostics() {
    let mut failures = Vec::new();
    let cases = cases(&mut failures);
    assert!(
        cases.len() >= 30,
        "tests/bad/ should hold at least 30 cases, found {}",
        cases.len()
    );
    let bless = bless_requested();
    for case in &cases {
        let name = case.file_name().expect("a name").to_string_lossy();
        let manifests = walk(case)
            .iter()
            .filter(|p| p.file_name().is_some_and(|n| n != EXPECTED))
            .count();
        if manifests == 0 {
            failures.push(format!(
                "tests/bad/{name}: an orphan `{EXPECTED}` without manifests"
            ));
            continue;
        }
        let repository = materialize(case);
        let run = obsgen(repository.path(), &["validate"]);
        if run.stderr.contains("panicked") {
            failures.push(format!(
                "tests/bad/{name}: obsgen panicked:\n{}",
                run.stderr
            ));
            continue;
        }
        if run.code != 1 {
            failures.push(format!(
                "tests/bad/{name}: exit {} instead of 1\nstdout:\n{}\nstderr:\n{}",
                run.code, run.stdout, run.stderr
            ));
            continue;
        }
        let expected_path = case.join(EXPECTED);
        if bless {
            std::fs::write(&expected_path, &run.stderr).expect("writing expected.txt");
            continue;
        }
        let Ok(expected) = std::fs::read_to_string(&expected_path) else {
            failures.push(format!(
                "tests/bad/{name}: no `{EXPECTED}`; write one with `make bless` and review it"
            ));
            continue;
        };
        if expected != run.stderr {
            let diff = similar::TextDiff::from_lines(&expected, &run.stderr)
                .unified_diff()
                .header(&format!("tests/bad/{name}/{EXPECTED}"), "obsgen validate")
                .to_string();
            failures.push(diff);
        }
    }
    assert!(
        failures.is_empty(),
        "bad cases differ (re-bless with `make bless` if intended):\n{}",
        failures.join("\n")
    );
}

#[test]
fn diagnostics_as_json_carry_every_field() {
    // Two mistakes in two files, one of them in the platform.
    let repository = materialize(&bad_dir().join("unknown-team"));
    repository.write(
        "services/search.yaml",
        "apiVersion: obsgen.dev/v1\nkind: Service\nmetadata:\n  name: search\n  team: search\nspec:\n  slos:\n    - name: availability\n      objective: 120\n      indicator: {type: availability}\n",
    );
    let run = obsgen(repository.path(), &["--format", "json", "validate"]);
    run.code(1);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    // The result goes to stdout, as linters do; nothing on stderr.
    assert_eq!(run.stderr, "");
    let report: serde_json::Value =
        serde_json::from_str(&run.stdout).expect("stdout is one JSON document");
    assert_eq!(report["valid"], false);
    assert_eq!(report["errors"], 2);
    assert_eq!(report["warnings"], 0);
    let diagnostics = report["diagnostics"].as_array().expect("a JSON array");
    assert_eq!(diagnostics.len(), 2, "{report:#}");
    for diagnostic in diagnostics {
        for field in ["severity", "file", "path", "message"] {
            assert!(
                diagnostic[field].is_string(),
                "`{field}` missing in {diagnostic:#}"
            );
        }
        for field in ["line", "column"] {
            assert!(
                diagnostic[field].as_u64().is_some_and(|n| n > 0),
                "`{field}` missing in {diagnostic:#}"
            );
        }
    }
    assert_eq!(diagnostics[0]["file"], "services/checkout.yaml");
    assert_eq!(diagnostics[0]["path"], "metadata.team");
    assert_eq!(diagnostics[0]["line"], 5);
    assert_eq!(diagnostics[0]["hint"], "did you mean `payments`?");
    assert_eq!(diagnostics[1]["file"], "services/search.yaml");
    assert_eq!(diagnostics[1]["path"], "spec.slos[0].objective");
    assert_eq!(diagnostics[1]["line"], 9);
    assert_eq!(diagnostics[1]["found"], "120");
}
