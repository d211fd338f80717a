//! Terminal manners: colour only when wanted (`--color`, `NO_COLOR`, a
//! terminal), silence on pipes, `--quiet`, `--version`, and completions and
//! a manual page generated from the command-line definition.

use std::process::Command;

use crate::common::{TempDir, obsgen};

fn scaffold() -> (TempDir, std::path::PathBuf) {
    let dir = TempDir::new("terminal");
    obsgen(dir.path(), &["init", "demo"]).success();
    let demo = dir.join("demo");
    (dir, demo)
}

#[test]
fn colour_only_when_asked_for_or_on_a_terminal() {
    let (_dir, demo) = scaffold();
    // `obsgen` runs with NO_COLOR=1 on a pipe: plain.
    let plain = obsgen(&demo, &["diff"]);
    plain.success();
    assert!(!plain.stdout.contains('\x1b'), "no escape codes on a pipe");
    // `--color always` wins over NO_COLOR and the pipe.
    let always = obsgen(&demo, &["--color", "always", "diff"]);
    always.success();
    assert!(always.stdout.contains("\x1b[32m+"), "{}", always.stdout);
    // `--color never` on what might be a terminal.
    let output = Command::new(env!("CARGO_BIN_EXE_obsgen"))
        .args(["--color", "never", "diff"])
        .current_dir(&demo)
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&output.stdout).contains('\x1b'));
}

#[test]
fn quiet_builds_say_nothing_and_pipes_get_no_progress() {
    let (_dir, demo) = scaffold();
    let quiet = obsgen(&demo, &["--quiet", "build"]);
    quiet.success();
    assert_eq!(quiet.stdout, "", "--quiet prints no list of files");
    assert_eq!(quiet.stderr, "", "and no progress");
    assert!(
        demo.join("generated/alertmanager/alertmanager.yml")
            .is_file()
    );

    std::fs::remove_dir_all(demo.join("generated")).unwrap();
    let loud = obsgen(&demo, &["build"]);
    loud.success();
    assert!(
        loud.stdout.contains("wrote   generated/"),
        "{}",
        loud.stdout
    );
    assert!(
        !loud.stderr.contains('\r') && !loud.stderr.contains("compiling"),
        "no progress on a pipe: {:?}",
        loud.stderr
    );
    let quiet_init = obsgen(&demo, &["init", "-q", "again"]);
    quiet_init.success();
    assert_eq!(quiet_init.stdout, "");
    assert!(demo.join("again/obsgen.yaml").is_file());

    obsgen(&demo, &["--quiet", "--verbose", "check"]).code(2);
}

#[test]
fn version_completions_and_manual_come_from_the_definition() {
    let dir = TempDir::new("terminal-version");
    let version = obsgen(dir.path(), &["--version"]);
    version.success();
    assert_eq!(
        version.stdout,
        format!("obsgen {}\n", env!("CARGO_PKG_VERSION"))
    );
    for shell in ["bash", "zsh", "fish"] {
        let script = obsgen(dir.path(), &["completions", shell]);
        script.success();
        for word in ["explain", "summary", "color", "loadtest"] {
            assert!(
                script.stdout.contains(word),
                "{shell} completions lack {word}"
            );
        }
    }
    obsgen(dir.path(), &["completions", "tcsh"]).code(2);
    let man = obsgen(dir.path(), &["man"]);
    man.success();
    assert!(man.stdout.contains(".TH obsgen 1"), "{}", man.stdout);
    for word in ["explain", "completions", "\\-\\-color"] {
        assert!(man.stdout.contains(word), "the manual lacks {word}");
    }
}
