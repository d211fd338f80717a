//! The docs' recipes are real: every YAML file shown in `docs/cookbook.md`
//! and `docs/getting-started.md` builds, on top of the repository
//! `obsgen init` scaffolds, and what the text says obsgen prints for them
//! it prints.

use std::collections::BTreeMap;

use crate::common::{TempDir, obsgen, repo};

/// The files of each `## ` section: `# path` on a YAML block's first line.
fn recipes(doc: &str) -> Vec<(String, BTreeMap<String, String>)> {
    let text = std::fs::read_to_string(repo().join("docs").join(doc)).unwrap();
    let mut recipes: Vec<(String, BTreeMap<String, String>)> = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some(title) = line.strip_prefix("## ") {
            recipes.push((title.to_string(), BTreeMap::new()));
        } else if line == "```yaml" {
            let block: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
            let Some(path) = block.first().and_then(|l| l.strip_prefix("# ")) else {
                continue;
            };
            if path.ends_with(".yaml") && !path.contains(' ') {
                let (_, files) = recipes.last_mut().expect("a section before a file");
                files.insert(path.to_string(), format!("{}\n", block.join("\n")));
            }
        }
    }
    recipes.retain(|(_, files)| !files.is_empty());
    recipes
}

#[test]
fn every_cookbook_recipe_builds() {
    let recipes = recipes("cookbook.md");
    assert_eq!(recipes.len(), 4, "four recipes: {recipes:?}");
    for (title, files) in recipes {
        let dir = TempDir::new("cookbook");
        obsgen(dir.path(), &["init", "repo"]).success();
        let root = dir.join("repo");
        for (path, text) in &files {
            std::fs::write(root.join(path), text).unwrap();
        }
        let build = obsgen(&root, &["build"]);
        assert_eq!(
            build.code, 0,
            "recipe `{title}` does not build:\n{}{}",
            build.stdout, build.stderr
        );
        let service = files
            .keys()
            .find_map(|p| p.strip_prefix("services/")?.strip_suffix(".yaml"))
            .expect("a service per recipe");
        let explain = obsgen(&root, &["explain", service]);
        explain.success();
        match title.as_str() {
            "A latency SLO" => {
                assert!(
                    explain
                        .stdout
                        .contains("latency [production, staging]: objective 99%; window 28d"),
                    "{}",
                    explain.stdout
                );
                assert!(explain.stdout.contains("p(99)<250"), "{}", explain.stdout);
            }
            "A gRPC service" => {
                assert!(
                    explain.stdout.contains("Framework (grpc) ›"),
                    "{}",
                    explain.stdout
                );
                assert!(
                    explain.stdout.contains("quote: executor"),
                    "{}",
                    explain.stdout
                );
            }
            "A custom log format" => {
                assert!(
                    explain.stdout.contains("svc-carts: format grok"),
                    "{}",
                    explain.stdout
                );
            }
            "A team whose alerts go to Slack only" => {
                assert!(
                    explain.stdout.contains("production → search/notify:\n")
                        && explain.stdout.contains("ServiceUnavailable (page)"),
                    "pages reach Slack:\n{}",
                    explain.stdout
                );
                assert!(!explain.stdout.contains("pagerduty"), "{}", explain.stdout);
            }
            other => panic!("a recipe without checks: {other}"),
        }
    }
}
