//! Generated Prometheus files, proven by the real `promtool`.
//!
//! Debian's Prometheus (the one CI installs) is built without Kubernetes
//! service discovery: its promtool rejects every `kubernetes_sd_configs`
//! block as an unknown field. So each configuration is checked twice:
//! as generated when it has no Kubernetes jobs, and otherwise with each
//! `kubernetes_sd_configs` block swapped for an empty `static_configs`
//! one, which keeps everything else (globals, rule files, alerting, and
//! the relabelling rules, whose regexes and actions promtool compiles)
//! under promtool's eye. The Kubernetes block itself is checked against
//! Prometheus' documented fields by a unit test of the scrape module.

use std::path::Path;
use std::process::Command;

use crate::common::{TempDir, build_example, tool, walk};

fn promtool_check(args: &[&str], file: &Path) {
    let result = Command::new(tool("promtool"))
        .args(args)
        .arg(file)
        .output()
        .expect("running promtool");
    assert!(
        result.status.success(),
        "promtool {} {} failed:\n{}{}",
        args.join(" "),
        file.display(),
        String::from_utf8_lossy(&result.stdout),
        String::from_utf8_lossy(&result.stderr)
    );
}

/// The configuration with Kubernetes discovery replaced as described above.
fn without_kubernetes_sd(text: &str) -> String {
    let mut out = String::new();
    let mut skipping_indent: Option<usize> = None;
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        if let Some(skip) = skipping_indent {
            // The block's items sit deeper than its key (or at the same
            // depth behind `- `, as serde-saphyr writes sequences).
            if indent > skip || (indent == skip && line.trim_start().starts_with("- ")) {
                continue;
            }
            skipping_indent = None;
        }
        if line.trim_start() == "kubernetes_sd_configs:" {
            out.push_str(&line.replace("kubernetes_sd_configs:", "static_configs: []"));
            out.push('\n');
            skipping_indent = Some(indent);
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[test]
fn promtool_accepts_every_generated_prometheus_config() {
    let out = build_example("acme");
    let configs: Vec<_> = walk(out.path())
        .into_iter()
        .filter(|p| p.ends_with("prometheus.yml"))
        .collect();
    assert_eq!(
        configs.len(),
        3,
        "one prometheus.yml per environment of examples/acme"
    );
    let scratch = TempDir::new("promtool-k8s");
    for config in configs {
        let text = std::fs::read_to_string(&config).expect("reading the config");
        if !text.contains("kubernetes_sd_configs:") {
            promtool_check(&["check", "config"], &config);
            continue;
        }
        let relative = config.strip_prefix(out.path()).expect("inside");
        let copy = scratch.join(&relative.to_string_lossy());
        crate::common::copy_tree(
            config.parent().expect("a folder"),
            copy.parent().expect("a folder"),
        );
        let swapped = without_kubernetes_sd(&text);
        assert!(!swapped.contains("kubernetes_sd_configs") && swapped.contains("relabel_configs"));
        std::fs::write(&copy, swapped).expect("writing the copy");
        promtool_check(&["check", "config"], &copy);
    }
}

#[test]
fn promtool_rejects_a_broken_config() {
    // The check above is only worth something if promtool does fail on a
    // bad file; prove it with a relabel regex that does not compile.
    let dir = TempDir::new("promtool-bad");
    dir.write(
        "prometheus.yml",
        "scrape_configs:\n- job_name: x\n  static_configs: []\n  relabel_configs:\n  - source_labels: [a]\n    regex: '(('\n    action: keep\n",
    );
    let result = Command::new(tool("promtool"))
        .args(["check", "config"])
        .arg(dir.join("prometheus.yml"))
        .output()
        .expect("running promtool");
    assert!(
        !result.status.success(),
        "promtool accepted an invalid regex"
    );
}
