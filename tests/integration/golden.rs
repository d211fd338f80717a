//! Golden trees: every `examples/<case>/` compiles to exactly
//! `golden/<case>/`: no missing file, no orphan file, no changed byte.
//!
//! Re-bless after an intended change with `make bless`
//! (`OBSGEN_BLESS=1 cargo test --test integration golden`). CI never blesses.

use std::collections::BTreeSet;
use std::path::Path;

use crate::common::{compile_example, repo, walk};

pub fn bless_requested() -> bool {
    let wanted = std::env::var_os("OBSGEN_BLESS").is_some_and(|v| v == "1");
    assert!(
        !(wanted && std::env::var_os("CI").is_some()),
        "goldens are never re-blessed in CI"
    );
    wanted
}

fn examples() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(repo().join("examples"))
        .expect("examples/")
        .flatten()
        .filter(|e| e.path().join("obsgen.yaml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn every_example_matches_its_golden_tree() {
    let names = examples();
    assert!(
        names.contains(&"acme".to_string()),
        "examples/acme must exist"
    );
    let mut failures = Vec::new();
    for name in names {
        let output = compile_example(&name);
        let golden = repo().join("golden").join(&name);
        if bless_requested() {
            let _ = std::fs::remove_dir_all(&golden);
            for (path, contents) in output.iter() {
                let target = golden.join(path);
                std::fs::create_dir_all(target.parent().expect("a parent"))
                    .expect("creating golden folders");
                std::fs::write(target, contents).expect("writing a golden file");
            }
            continue;
        }
        failures.extend(compare(&name, &golden, &output));
    }
    assert!(
        failures.is_empty(),
        "golden trees differ (re-bless with `make bless` if intended):\n{}",
        failures.join("\n")
    );
}

fn compare(name: &str, golden: &Path, output: &obsgen::output::OutputSet) -> Vec<String> {
    let mut failures = Vec::new();
    let on_disk: BTreeSet<String> = walk(golden)
        .iter()
        .map(|p| {
            p.strip_prefix(golden)
                .expect("inside")
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect();
    let generated: BTreeSet<String> = output.paths().map(str::to_string).collect();
    for missing in generated.difference(&on_disk) {
        failures.push(format!(
            "golden/{name}/{missing}: generated but not in the golden tree"
        ));
    }
    for orphan in on_disk.difference(&generated) {
        failures.push(format!(
            "golden/{name}/{orphan}: in the golden tree but no longer generated"
        ));
    }
    for path in generated.intersection(&on_disk) {
        let expected = std::fs::read(golden.join(path)).expect("reading a golden file");
        let actual = output.get(path).expect("generated");
        if expected != actual {
            let diff = similar::TextDiff::from_lines(
                &*String::from_utf8_lossy(&expected),
                &*String::from_utf8_lossy(actual),
            )
            .unified_diff()
            .header(&format!("golden/{name}/{path}"), "generated")
            .to_string();
            failures.push(diff);
        }
    }
    failures
}
