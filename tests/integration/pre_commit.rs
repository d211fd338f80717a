//! The pre-commit hooks of `.pre-commit-hooks.yaml`, run by the real
//! pre-commit framework (`pre-commit try-repo`) against a repository that
//! `obsgen init` scaffolded: clean passes, stale fails with the diff, and a
//! change to an unrelated file does not run them at all.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{TempDir, obsgen, repo, tool};

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args([
            "-c",
            "user.name=obsgen-test",
            "-c",
            "user.email=test@obsgen.invalid",
        ])
        .args(args)
        .current_dir(dir)
        .status()
        .expect("running git");
    assert!(status.success(), "git {args:?} failed in {}", dir.display());
}

struct TryRepo {
    code: i32,
    output: String,
}

/// `pre-commit try-repo HOOKS [args]` in `dir`, with the obsgen under test
/// first on PATH (the hooks are `language: system`).
fn try_repo(pre_commit: &Path, dir: &Path, hooks: &Path, home: &Path, args: &[&str]) -> TryRepo {
    let bin_dir = PathBuf::from(env!("CARGO_BIN_EXE_obsgen"))
        .parent()
        .expect("the binary's folder")
        .to_path_buf();
    let path = std::env::join_paths(std::iter::once(bin_dir).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .expect("a PATH");
    let output = Command::new(pre_commit)
        .arg("try-repo")
        .arg(hooks)
        .args(args)
        .current_dir(dir)
        .env("PATH", path)
        .env("PRE_COMMIT_HOME", home)
        .env("NO_COLOR", "1")
        .output()
        .expect("running pre-commit");
    TryRepo {
        code: output.status.code().unwrap_or(-1),
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    }
}

#[test]
fn pre_commit_hooks_pass_on_a_clean_tree_and_fail_with_the_diff_on_a_stale_one() {
    let pre_commit = tool("pre-commit");
    let dir = TempDir::new("pre-commit");
    // The hook repository: this repository's hooks file alone, committed
    // (try-repo reads committed files), so the test does not clone obsgen.
    let hooks = dir.join("hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    std::fs::copy(
        repo().join(".pre-commit-hooks.yaml"),
        hooks.join(".pre-commit-hooks.yaml"),
    )
    .expect("the repository has .pre-commit-hooks.yaml");
    git(&hooks, &["init", "-q"]);
    git(&hooks, &["add", "."]);
    git(&hooks, &["commit", "-q", "-m", "hooks"]);

    let user = dir.join("user");
    obsgen(dir.path(), &["init", "user"]).success();
    obsgen(&user, &["build"]).success();
    git(&user, &["init", "-q"]);
    std::fs::write(user.join("README.md"), "notes\n").unwrap();
    git(&user, &["add", "-A"]);
    git(&user, &["commit", "-q", "-m", "scaffold"]);
    let home = dir.join("pre-commit-home");

    let clean = try_repo(&pre_commit, &user, &hooks, &home, &["--all-files"]);
    assert_eq!(clean.code, 0, "a clean tree passes:\n{}", clean.output);
    assert!(
        clean.output.contains("obsgen check") && clean.output.contains("obsgen validate"),
        "both hooks ran:\n{}",
        clean.output
    );

    let manifest = user.join("services/hello.yaml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replacen("port: 8080", "port: 8081", 1)).unwrap();
    git(&user, &["add", "-A"]);
    let stale = try_repo(&pre_commit, &user, &hooks, &home, &["--all-files"]);
    assert_eq!(stale.code, 1, "a stale tree fails:\n{}", stale.output);
    assert!(
        stale.output.contains("+++ b/generated/prometheus/")
            && stale
                .output
                .lines()
                .any(|l| l.starts_with('+') && l.contains(":8081")),
        "the failure shows the diff:\n{}",
        stale.output
    );
    assert!(stale.output.contains("is stale"), "{}", stale.output);

    // Only files obsgen reads or writes trigger the hooks.
    let unrelated = try_repo(&pre_commit, &user, &hooks, &home, &["--files", "README.md"]);
    assert_eq!(unrelated.code, 0, "{}", unrelated.output);
    assert!(
        unrelated.output.contains("(no files to check)Skipped"),
        "an unrelated file skips the hooks:\n{}",
        unrelated.output
    );
}
