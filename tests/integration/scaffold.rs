//! What `obsgen init` scaffolds for automation, run for real: the make
//! targets (with `make`) and the CI recipes' check steps (their shell, as
//! GitHub Actions and GitLab would run it) on a clean and a stale tree.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::{TempDir, obsgen};

struct Shell {
    code: i32,
    stdout: String,
    stderr: String,
}

/// PATH with the obsgen under test first.
fn path_with_obsgen() -> std::ffi::OsString {
    let bin_dir = PathBuf::from(env!("CARGO_BIN_EXE_obsgen"))
        .parent()
        .unwrap()
        .to_path_buf();
    std::env::join_paths(std::iter::once(bin_dir).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap()
}

fn run(dir: &Path, program: &str, args: &[&str], env: &[(&str, &Path)]) -> Shell {
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(dir)
        .env("PATH", path_with_obsgen())
        .env("NO_COLOR", "1");
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("running {program}: {e}"));
    Shell {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn scaffold() -> (TempDir, PathBuf) {
    let dir = TempDir::new("scaffold");
    obsgen(dir.path(), &["init", "repo"]).success();
    let repo = dir.join("repo");
    assert!(repo.join("obsgen.mk").is_file());
    (dir, repo)
}

fn make_stale(repo: &Path) {
    let manifest = repo.join("services/hello.yaml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    assert!(text.contains("threshold: 250ms"));
    std::fs::write(
        &manifest,
        text.replacen("objective: 99.9", "objective: 99.5", 1),
    )
    .unwrap();
}

#[test]
fn the_make_targets_build_check_diff_and_explain_themselves() {
    let (_dir, repo) = scaffold();
    let help = run(&repo, "make", &["-f", "obsgen.mk", "help"], &[]);
    assert_eq!(help.code, 0, "{}", help.stderr);
    for target in [
        "observability ",
        "observability-check ",
        "observability-diff ",
        "observability-test ",
        "loadtest ",
        "help ",
    ] {
        assert!(
            help.stdout
                .lines()
                .any(|l| l.trim_start().starts_with(target)),
            "`make help` lists {target}:\n{}",
            help.stdout
        );
    }
    let build = run(&repo, "make", &["-f", "obsgen.mk", "observability"], &[]);
    assert_eq!(build.code, 0, "{}{}", build.stdout, build.stderr);
    let check = run(
        &repo,
        "make",
        &["-f", "obsgen.mk", "observability-check"],
        &[],
    );
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);

    make_stale(&repo);
    let stale = run(
        &repo,
        "make",
        &["-f", "obsgen.mk", "observability-check"],
        &[],
    );
    assert_ne!(stale.code, 0, "a stale tree fails the check");
    assert!(
        stale.stdout.contains("+++ b/generated/"),
        "{}",
        stale.stdout
    );
    let diff = run(
        &repo,
        "make",
        &["-f", "obsgen.mk", "observability-diff"],
        &[],
    );
    assert_eq!(diff.code, 0, "{}", diff.stderr);
    assert!(
        diff.stdout
            .contains("~ changed SLO availability: objective 99.9% → 99.5%"),
        "the summary, then the diff:\n{}",
        diff.stdout
    );
    assert!(diff.stdout.contains("+++ b/generated/"), "{}", diff.stdout);

    let usage = run(
        &repo,
        "make",
        &["-f", "obsgen.mk", "loadtest", "SERVICE=hello"],
        &[],
    );
    assert_ne!(usage.code, 0);
    assert!(
        usage
            .stderr
            .contains("usage: make loadtest SERVICE=<service> ENV=<environment>"),
        "{}",
        usage.stderr
    );
}

fn yaml(path: &Path) -> Value {
    serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap())
        .unwrap_or_else(|e| panic!("{} is not YAML: {e}", path.display()))
}

/// Runs a CI script with bash (`-e`, as both CI systems do) in the repository.
fn ci_shell(repo: &Path, script: &str, env: &[(&str, &Path)]) -> Shell {
    run(repo, "bash", &["-e", "-c", script], env)
}

#[test]
fn the_github_workflow_fails_a_stale_tree_with_the_diff_and_the_summary() {
    let (dir, repo) = scaffold();
    let workflow = yaml(&repo.join(".github/workflows/observability.yml"));
    let steps = workflow["jobs"]["obsgen-check"]["steps"]
        .as_array()
        .unwrap();
    assert!(
        steps.iter().any(|s| s["name"] == "Install obsgen"
            && s["run"]
                .as_str()
                .unwrap()
                .contains("cargo install --locked --git")),
        "it installs obsgen"
    );
    let check = steps
        .iter()
        .find(|s| s["name"] == "obsgen check")
        .and_then(|s| s["run"].as_str())
        .expect("an `obsgen check` step")
        .to_string();
    let step_summary = dir.join("step-summary.md");
    std::fs::write(&step_summary, "").unwrap();
    let env = [("GITHUB_STEP_SUMMARY", step_summary.as_path())];

    obsgen(&repo, &["build"]).success();
    let clean = ci_shell(&repo, &check, &env);
    assert_eq!(clean.code, 0, "{}{}", clean.stdout, clean.stderr);

    make_stale(&repo);
    let stale = ci_shell(&repo, &check, &env);
    assert_eq!(stale.code, 1, "{}{}", stale.stdout, stale.stderr);
    assert!(
        stale.stdout.contains("+++ b/generated/"),
        "the diff:\n{}",
        stale.stdout
    );
    assert!(
        stale.stdout.contains("~ changed SLO availability"),
        "the summary:\n{}",
        stale.stdout
    );
    let markdown = std::fs::read_to_string(&step_summary).unwrap();
    assert!(
        markdown.contains("## obsgen: what this change does")
            && markdown.contains("objective `99.9%` → `99.5%`"),
        "the job summary:\n{markdown}"
    );
}

#[test]
fn the_gitlab_job_fails_a_stale_tree_with_the_diff_and_the_summary() {
    let (_dir, repo) = scaffold();
    let root = yaml(&repo.join(".gitlab-ci.yml"));
    let included = root["include"][0]["local"].as_str().expect("an include");
    let job = yaml(&repo.join(included));
    let job = &job["obsgen-check"];
    assert!(
        job["before_script"]
            .as_array()
            .unwrap()
            .iter()
            .any(|line| line.as_str().unwrap().contains("cargo install --locked")),
        "it installs obsgen"
    );
    let script: Vec<String> = job["script"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line.as_str().unwrap().to_string())
        .collect();
    let script = script.join("\n");

    obsgen(&repo, &["build"]).success();
    let clean = ci_shell(&repo, &script, &[]);
    assert_eq!(clean.code, 0, "{}{}", clean.stdout, clean.stderr);

    make_stale(&repo);
    let stale = ci_shell(&repo, &script, &[]);
    assert_eq!(stale.code, 1, "{}{}", stale.stdout, stale.stderr);
    assert!(
        stale.stdout.contains("+++ b/generated/"),
        "{}",
        stale.stdout
    );
    assert!(
        stale.stdout.contains("~ changed SLO availability"),
        "{}",
        stale.stdout
    );
    let artifact = std::fs::read_to_string(repo.join("obsgen-summary.md")).unwrap();
    assert!(
        artifact.contains("objective `99.9%` → `99.5%`"),
        "{artifact}"
    );
    assert_eq!(
        job["artifacts"]["paths"][0], "obsgen-summary.md",
        "the Markdown summary is kept for the merge request"
    );
}
