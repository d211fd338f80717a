//! A killed build or two builds at once never leave a mixed tree.
//!
//! The guarantee under test (`docs/reliability.md`, "The output tree"):
//! after `obsgen build` is killed at any point, the user-visible tree holds
//! only whole files of the old or the new tree and no temporary file; when
//! no journal (`.obsgen-journal`) is left it *is* the old tree or the new
//! one; and once the next obsgen run has recovered it (here `obsgen check`,
//! or the library's `recover`), it is exactly the old or the new tree —
//! the new one whenever the killed build had committed — and `check` exits
//! 0 exactly when it is the new one.
//!
//! Three ways in: real `SIGKILL`s at many points of a build of a synthetic
//! repository of sixty services, over five hundred files (some timed from
//! the start, some placed by progress through staging or through the
//! switch), a deterministic abort at every single write step of a smaller
//! build, and concurrent builds into one directory. The first two run from
//! a previous tree (files staged one by one) and from none at all or with
//! a top-level folder missing (folders staged whole and switched in with
//! one rename each: `src/output/write.rs`).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{TempDir, obsgen, snapshot};

type Tree = BTreeMap<String, Vec<u8>>;

/// Kills per run of the SIGKILL test. Each costs a debug-build compile of
/// the sixty services (about a second on an idle core); the kills placed by
/// progress through staging and through the switch land in the write phase
/// however short it is, so a larger repository would only cost time.
const ROUNDS: usize = 12;
/// On a slow or busy machine, the test stops after this long, once it has
/// killed at least [`MIN_ROUNDS`] builds (two from each starting point).
const BUDGET: Duration = Duration::from_secs(30);
const MIN_ROUNDS: usize = 6;
const JOURNAL: &str = ".obsgen-journal";
const STAGING: &str = ".obsgen-staging-";

const PLATFORM: &str = "apiVersion: obsgen.dev/v1
kind: Platform
metadata:
  name: crash
spec:
  environments:
    - name: dev
    - name: staging
    - name: production
      production: true
  service_url: \"http://{service}.{env}.svc:8080\"
  prometheus:
    discovery: file_sd
    scrape_interval: 30s
  grafana:
    url: https://grafana.example.com
    datasource_uid: prometheus
    folder: Services
  alerting:
    slack_api_url_file: /etc/alertmanager/secrets/slack-webhook
  teams:
    platform:
      slack:
        channel: \"#platform-alerts\"
";

fn service(name: &str, revision: &str) -> String {
    format!(
        "apiVersion: obsgen.dev/v1
kind: Service
metadata:
  name: {name}
  team: platform
  labels: {{revision: {revision}}}
spec:
  framework: http
  slos:
    - name: availability
      objective: 99.9
      indicator: {{type: availability}}
    - name: latency
      objective: 99
      indicator: {{type: latency, threshold: 250ms}}
"
    )
}

/// Writes a repository of services `range` at `revision` into `root`
/// (replacing its services), so that from one revision to the next every
/// file changes, the first services disappear and new ones appear.
fn write_repo(root: &Path, range: std::ops::Range<usize>, revision: &str) {
    let services = root.join("services");
    let _ = std::fs::remove_dir_all(&services);
    std::fs::create_dir_all(&services).expect("services/");
    std::fs::write(root.join("obsgen.yaml"), PLATFORM).expect("obsgen.yaml");
    for index in range {
        let name = format!("svc{index:03}");
        std::fs::write(
            services.join(format!("{name}.yaml")),
            service(&name, revision),
        )
        .expect("a manifest");
    }
}

/// What the output directory holds before the build under test.
#[derive(Clone, Copy)]
enum Start {
    /// The tree of the previous revision of the repository.
    Previous,
    /// Nothing: a first build.
    Empty,
    /// The new tree without this top-level folder (deleted by hand).
    Without(&'static str),
}

/// The old and the new output tree of a repository, and the repository at
/// the new revision, with its output directory holding the old tree.
struct Scenario {
    _dir: TempDir,
    root: PathBuf,
    out: PathBuf,
    old: Tree,
    new: Tree,
    /// The build stages whole folders (the journal has `tree` entries).
    stages_folders: bool,
}

impl Scenario {
    fn new(label: &str, services: usize) -> Self {
        Self::starting(label, services, Start::Previous)
    }

    fn starting(label: &str, services: usize, start: Start) -> Self {
        let dir = TempDir::new(label);
        let root = dir.join("repo");
        let out = root.join("generated");
        let dropped = services / 10;
        write_repo(&root, dropped + 1..services + dropped + 1, "b");
        obsgen(&root, &["build"]).success();
        let new = snapshot(&out);
        std::fs::remove_dir_all(&out).expect("removing the new tree");
        let old = match start {
            Start::Previous => {
                write_repo(&root, 0..services, "a");
                obsgen(&root, &["build"]).success();
                let old = snapshot(&out);
                write_repo(&root, dropped + 1..services + dropped + 1, "b");
                assert!(
                    old.keys().any(|p| !new.contains_key(p))
                        && new.keys().any(|p| !old.contains_key(p)),
                    "the switch adds and removes files"
                );
                old
            }
            Start::Empty => Tree::new(),
            Start::Without(top) => {
                let old: Tree = new
                    .iter()
                    .filter(|(path, _)| !path.starts_with(&format!("{top}/")))
                    .map(|(path, contents)| (path.clone(), contents.clone()))
                    .collect();
                assert!(old.len() < new.len(), "the new tree has `{top}/`");
                old
            }
        };
        Scenario {
            _dir: dir,
            root,
            out,
            old,
            new,
            stages_folders: !matches!(start, Start::Previous),
        }
    }

    /// Puts the old tree back in place, byte for byte.
    fn restore_old(&self) {
        let _ = std::fs::remove_dir_all(&self.out);
        for (path, contents) in &self.old {
            let target = self.out.join(path);
            std::fs::create_dir_all(target.parent().expect("a parent")).expect("a folder");
            std::fs::write(target, contents).expect("restoring a file");
        }
    }

    fn build(&self, env: &[(&str, String)]) -> Child {
        let mut command = Command::new(env!("CARGO_BIN_EXE_obsgen"));
        command
            .arg("build")
            .current_dir(&self.root)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (key, value) in env {
            command.env(key, value);
        }
        command.spawn().expect("starting obsgen build")
    }

    /// What the killed build left, checked against the promise; returns
    /// whether it had committed (a journal is left).
    fn inspect_after_kill(&self, what: &str) -> bool {
        let all = snapshot(&self.out);
        let committed = all.contains_key(JOURNAL);
        let visible: Tree = all
            .into_iter()
            .filter(|(path, _)| path != JOURNAL && !path.starts_with(STAGING))
            .collect();
        for (path, contents) in &visible {
            assert!(
                !path.contains(".obsgen-tmp") && !path.contains(STAGING),
                "{what}: temporary file `{path}` visible"
            );
            assert!(
                self.old.get(path) == Some(contents) || self.new.get(path) == Some(contents),
                "{what}: `{path}` is neither the old file nor the new one"
            );
        }
        if !committed {
            assert!(
                visible == self.old || visible == self.new,
                "{what}: without a journal the tree is the old one or the new one ({} files differ from the old, {} from the new)",
                differing(&visible, &self.old),
                differing(&visible, &self.new)
            );
        }
        committed
    }

    /// After recovery: exactly the old tree or the new one, nothing else.
    fn assert_whole(&self, what: &str, committed: bool) -> bool {
        let tree = snapshot(&self.out);
        let is_new = tree == self.new;
        assert!(
            is_new || tree == self.old,
            "{what}: after recovery the tree is neither the old nor the new one ({} files differ from the old, {} from the new)",
            differing(&tree, &self.old),
            differing(&tree, &self.new)
        );
        assert!(
            is_new || !committed,
            "{what}: a committed switch must end in the new tree"
        );
        is_new
    }
}

fn differing(a: &Tree, b: &Tree) -> usize {
    a.iter().filter(|(p, c)| b.get(*p) != Some(c)).count()
        + b.keys().filter(|p| !a.contains_key(*p)).count()
}

fn has_staging(out: &Path) -> bool {
    std::fs::read_dir(out).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with(STAGING))
    })
}

/// Waits until `ready` holds or the child exits; `false` when it exited.
fn wait_for(child: &mut Child, ready: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if ready() {
            return true;
        }
        if child.try_wait().expect("polling obsgen").is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    panic!("obsgen neither got there nor exited in 30 s");
}

fn recover_in_process(out: &Path) {
    let lock = obsgen::output::lock(out, Duration::from_secs(5), &mut || {}).expect("locking");
    obsgen::output::recover(&lock).expect("recovering");
}

/// How many files are in the staging folder, in whole folders staged too
/// (0 when there is none).
fn staged_files(out: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(out) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(STAGING))
        .map(|e| crate::common::walk(&e.path()).len())
        .sum()
}

#[test]
fn sigkill_at_many_points_leaves_the_old_or_the_new_tree() {
    kill_at_many_points(&Scenario::new("crash-kill", 60));
}

#[test]
fn sigkill_at_many_points_of_a_first_build_leaves_nothing_or_the_new_tree() {
    kill_at_many_points(&Scenario::starting("crash-kill-fresh", 60, Start::Empty));
}

fn kill_at_many_points(scenario: &Scenario) {
    let started = Instant::now();
    // The files the switch stages: every new or changed file, the index
    // included.
    let to_stage = scenario
        .new
        .iter()
        .filter(|(path, contents)| scenario.old.get(*path) != Some(*contents))
        .count();
    scenario.restore_old();
    let timer = Instant::now();
    assert!(scenario.build(&[]).wait().expect("a build").success());
    let total = timer.elapsed();
    assert!(scenario.assert_whole("an uninterrupted build", false));

    // How the kills landed: before writing, while staging, after the
    // commit, or too late (the build had finished).
    let mut landed = BTreeMap::<&str, usize>::new();
    let mut rounds = 0;
    while rounds < ROUNDS && !(rounds >= MIN_ROUNDS && started.elapsed() > BUDGET) {
        let round = rounds;
        rounds += 1;
        scenario.restore_old();
        let mut child = scenario.build(&[]);
        // A spread of points (golden-ratio sequence) in three ways: a delay
        // over the time a whole build takes (blind), and progress through
        // staging and through the switch (so that kills land in the short
        // write phase on any machine, however busy).
        let fraction = (round as f64 * 0.618_034 + 0.1).fract();
        let journal = scenario.out.join(JOURNAL);
        let what = match round % 3 {
            0 => {
                let delay = total.mul_f64(fraction * 1.2);
                std::thread::sleep(delay);
                format!("round {round}: killed {delay:?} into the build")
            }
            1 => {
                let target = ((to_stage as f64 * fraction) as usize).max(1);
                wait_for(&mut child, || {
                    staged_files(&scenario.out) >= target || journal.exists()
                });
                format!("round {round}: killed after staging {target} of {to_stage} files")
            }
            _ => {
                let left = (to_stage as f64 * (1.0 - fraction)) as usize;
                wait_for(&mut child, || {
                    journal.exists() && staged_files(&scenario.out) <= left
                });
                format!(
                    "round {round}: killed after the commit, with {left} of {to_stage} files to switch"
                )
            }
        };
        let _ = child.kill();
        let status = child.wait().expect("reaping obsgen");
        let committed = scenario.inspect_after_kill(&what);
        let kind = if status.success() {
            "finished"
        } else if committed {
            "after commit"
        } else if has_staging(&scenario.out) {
            "while staging"
        } else {
            "before writing"
        };
        *landed.entry(kind).or_default() += 1;
        // Recovery by `obsgen check` in the first round of each kind (it
        // compiles, which takes a second), by the library in the others.
        if round < 3 {
            let check = obsgen(&scenario.root, &["check"]);
            assert!(
                !check.stderr.contains("panicked") && check.code != 2,
                "{what}: check failed:\n{}",
                check.stderr
            );
            let is_new = scenario.assert_whole(&what, committed);
            assert_eq!(
                check.code == 0,
                is_new,
                "{what}: check exits 0 exactly on the new tree\n{}",
                check.stderr
            );
        } else {
            recover_in_process(&scenario.out);
            scenario.assert_whole(&what, committed);
        }
    }
    eprintln!(
        "{rounds} kills in {:.1} s: {landed:?}",
        started.elapsed().as_secs_f64()
    );
    // A switch of whole folders is a few renames: kills seldom land in it
    // (the step test aborts there deterministically).
    let kinds: &[&str] = if scenario.stages_folders {
        &["while staging"]
    } else {
        &["while staging", "after commit"]
    };
    for kind in kinds {
        assert!(
            landed.get(*kind).copied().unwrap_or(0) > 0,
            "no kill landed {kind}: {landed:?}"
        );
    }
}

#[test]
fn an_abort_at_every_write_step_leaves_the_old_or_the_new_tree() {
    abort_at_every_write_step(&Scenario::new("crash-steps", 1));
}

#[test]
fn an_abort_at_every_write_step_of_a_first_build_leaves_nothing_or_the_new_tree() {
    abort_at_every_write_step(&Scenario::starting("crash-steps-fresh", 1, Start::Empty));
}

#[test]
fn an_abort_at_every_write_step_restoring_a_deleted_folder_leaves_the_old_or_the_new_tree() {
    abort_at_every_write_step(&Scenario::starting(
        "crash-steps-folder",
        2,
        Start::Without("grafana"),
    ));
}

fn abort_at_every_write_step(scenario: &Scenario) {
    let mut committed_seen = 0;
    for step in 0.. {
        assert!(step < 500, "the build never finished");
        scenario.restore_old();
        let status = scenario
            .build(&[("OBSGEN_TEST_ABORT_AFTER_STEPS", step.to_string())])
            .wait()
            .expect("running obsgen build");
        let what = format!("aborted at step {step}");
        if status.success() {
            assert!(step > 5, "a switch of this size takes more steps");
            assert!(scenario.assert_whole("a build that was not aborted", false));
            break;
        }
        let committed = scenario.inspect_after_kill(&what);
        committed_seen += usize::from(committed);
        if committed && committed_seen == 1 {
            let journal = std::fs::read_to_string(scenario.out.join(JOURNAL)).expect("journal");
            assert_eq!(
                journal.contains("\ntree\t"),
                scenario.stages_folders,
                "{what}: whole folders are staged exactly when missing:\n{journal}"
            );
        }
        // `obsgen check` recovers at every fourth step (it compiles), the
        // library at the others.
        if step % 4 != 0 {
            recover_in_process(&scenario.out);
            scenario.assert_whole(&what, committed);
            continue;
        }
        let check = obsgen(&scenario.root, &["check"]);
        let is_new = scenario.assert_whole(&what, committed);
        assert_eq!(
            check.code == 0,
            is_new,
            "{what}: check exits 0 exactly on the new tree\n{}",
            check.stderr
        );
        if committed {
            assert!(
                check
                    .stderr
                    .contains("finished the switch of an interrupted build"),
                "{what}: check says it finished the switch\n{}",
                check.stderr
            );
        }
    }
    // After the commit: a rename per staged file, or per whole folder, and
    // the journal's removal.
    let least = if scenario.stages_folders { 2 } else { 6 };
    assert!(
        committed_seen >= least,
        "aborts after the commit point were tested ({committed_seen})"
    );
}

#[test]
fn concurrent_builds_into_one_directory_end_in_one_whole_tree() {
    let scenario = Scenario::new("crash-concurrent", 20);
    // A second repository at the old revision, building into the same
    // directory as the first (which is at the new revision).
    let other = TempDir::new("crash-concurrent-other");
    write_repo(other.path(), 0..20, "a");
    let out = scenario.out.to_string_lossy().into_owned();
    for round in 0..2 {
        scenario.restore_old();
        let spawn = |root: &Path| {
            Command::new(env!("CARGO_BIN_EXE_obsgen"))
                .args(["--out", &out, "build"])
                .current_dir(root)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("starting obsgen build")
        };
        // Started together, they compile at the same time: all but the
        // first to lock the directory must wait.
        let children = [
            spawn(&scenario.root),
            spawn(other.path()),
            spawn(&scenario.root),
        ];
        let mut waited = 0;
        for child in children {
            let output = child.wait_with_output().expect("waiting for obsgen");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(
                output.status.success(),
                "round {round}: a concurrent build failed:\n{stderr}"
            );
            waited += usize::from(stderr.contains("waiting for another obsgen run"));
        }
        // The runs overlapped, and took turns.
        assert!(waited >= 1, "round {round}: no build waited for another");
        let tree = snapshot(&scenario.out);
        assert!(
            tree == scenario.old || tree == scenario.new,
            "round {round}: concurrent builds left a mixed tree ({} files differ from the old, {} from the new)",
            differing(&tree, &scenario.old),
            differing(&tree, &scenario.new)
        );
    }
}

#[test]
fn a_build_waits_for_the_lock_with_a_message_or_fails_clearly_after_the_timeout() {
    let scenario = Scenario::new("crash-lock", 2);
    let lock = obsgen::output::lock(&scenario.out, Duration::ZERO, &mut || {}).expect("locking");

    let start = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_obsgen"))
        .arg("build")
        .current_dir(&scenario.root)
        .env("OBSGEN_LOCK_TIMEOUT", "0.5")
        .output()
        .expect("running obsgen");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("waiting for another obsgen run"),
        "{stderr}"
    );
    assert!(
        stderr.contains("another obsgen run is still using"),
        "{stderr}"
    );
    assert!(start.elapsed() >= Duration::from_millis(500));
    assert_eq!(snapshot(&scenario.out), scenario.old, "nothing written");

    // Released while the build waits: it goes ahead.
    let mut child = Command::new(env!("CARGO_BIN_EXE_obsgen"))
        .arg("build")
        .current_dir(&scenario.root)
        .env("OBSGEN_LOCK_TIMEOUT", "60")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting obsgen");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut first = String::new();
    stderr.read_line(&mut first).expect("reading stderr");
    assert!(first.contains("waiting for another obsgen run"), "{first}");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        snapshot(&scenario.out),
        scenario.old,
        "no write under another's lock"
    );
    drop(lock);
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).expect("reading stderr");
    let status = child.wait().expect("waiting for obsgen");
    assert!(status.success(), "{rest}");
    assert_eq!(snapshot(&scenario.out), scenario.new);
}
