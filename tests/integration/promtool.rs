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

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{TempDir, build_example, build_example_with_tests, tool, walk};

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
    // A copy of the whole tree: the configurations name rule files.
    let scratch = TempDir::new("promtool-k8s");
    crate::common::copy_tree(out.path(), scratch.path());
    for config in configs {
        let text = std::fs::read_to_string(&config).expect("reading the config");
        if !text.contains("kubernetes_sd_configs:") {
            promtool_check(&["check", "config"], &config);
            continue;
        }
        let relative = config.strip_prefix(out.path()).expect("inside");
        let copy = scratch.join(&relative.to_string_lossy());
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

// ---------------------------------------------------------------------------
// Rules and their generated unit tests
// ---------------------------------------------------------------------------

/// Runs promtool with `args` and the files, in up to two processes at once
/// (CI machines are small); returns each failure's output.
fn promtool_many(args: &[&str], files: &[PathBuf]) -> Vec<String> {
    let half = files.len().div_ceil(2).max(1);
    let runs: Vec<_> = files
        .chunks(half)
        .map(|chunk| {
            let mut command = Command::new(tool("promtool"));
            command.args(args).args(chunk);
            std::thread::spawn(move || command.output().expect("running promtool"))
        })
        .collect();
    runs.into_iter()
        .map(|run| run.join().expect("a promtool thread"))
        .filter(|result| !result.status.success())
        .map(|result| {
            format!(
                "{}{}",
                String::from_utf8_lossy(&result.stdout),
                String::from_utf8_lossy(&result.stderr)
            )
        })
        .collect()
}

fn files_ending(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    walk(dir)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect()
}

fn yaml_value(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).expect("reading a generated file");
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The plain rule files of an output tree (operator mode's test copies too).
fn rule_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = files_ending(dir, ".rules.yml");
    files.extend(
        walk(dir)
            .into_iter()
            .filter(|p| p.parent().is_some_and(|d| d.ends_with("rules"))),
    );
    files.sort();
    files
}

#[test]
fn promtool_checks_every_generated_rule_file() {
    for example in ["acme", "acme-operator"] {
        let out = build_example_with_tests(example);
        let files = rule_files(out.path());
        assert!(files.len() >= 3, "{example}: rule files expected");
        let failures = promtool_many(&["check", "rules"], &files);
        assert!(failures.is_empty(), "{example}:\n{}", failures.join("\n"));
        for file in &files {
            for group in yaml_value(file)["groups"].as_array().expect("groups") {
                let rules = group["rules"].as_array().expect("rules").len();
                assert!(rules <= 20, "{}: group with {rules} rules", file.display());
            }
        }
    }
}

#[test]
fn promtool_passes_every_generated_unit_test() {
    for example in ["acme", "acme-operator"] {
        let out = build_example_with_tests(example);
        let tests = files_ending(out.path(), ".test.yml");
        let mut tested = std::collections::BTreeSet::new();
        // Every alert of the rule files a test reads has a case where it
        // fires and one where it stays silent.
        for test in &tests {
            let value = yaml_value(test);
            let mut alerts = std::collections::BTreeSet::new();
            for rule_file in value["rule_files"].as_array().expect("rule files") {
                let rule_file = test
                    .parent()
                    .expect("a folder")
                    .join(rule_file.as_str().expect("a rule file"));
                tested.insert(
                    rule_file
                        .canonicalize()
                        .unwrap_or_else(|e| panic!("{}: {e}", rule_file.display())),
                );
                for group in yaml_value(&rule_file)["groups"].as_array().expect("groups") {
                    for rule in group["rules"].as_array().expect("rules") {
                        if let Some(name) = rule["alert"].as_str() {
                            alerts.insert(name.to_string());
                        }
                    }
                }
            }
            assert!(alerts.contains("ServiceUnavailable"), "{}", test.display());
            for alert in alerts {
                let checks: Vec<&serde_json::Value> = value["tests"]
                    .as_array()
                    .expect("tests")
                    .iter()
                    .flat_map(|t| t["alert_rule_test"].as_array().into_iter().flatten())
                    .filter(|c| c["alertname"] == alert.as_str())
                    .collect();
                let fires = checks
                    .iter()
                    .any(|c| !c["exp_alerts"].as_array().expect("list").is_empty());
                let silent = checks
                    .iter()
                    .any(|c| c["exp_alerts"].as_array().expect("list").is_empty());
                assert!(fires && silent, "{}: {alert}", test.display());
            }
        }
        // Every shared rule file is tested (per-environment ones with the
        // environment the tests run in).
        for shared in files_ending(&out.join("prometheus/rules"), ".yml") {
            let shared = shared.canonicalize().expect("a rule file");
            assert!(tested.contains(&shared), "{}", shared.display());
        }
        assert!(!tests.is_empty(), "{example}: tests expected");
        let failures = promtool_many(&["test", "rules"], &tests);
        assert!(failures.is_empty(), "{example}:\n{}", failures.join("\n"));
    }
}

/// A small repository with every kind of alert: availability, latency and
/// custom-ratio SLOs and a reverse proxy.
fn mutation_repo(extra_labels: &str) -> TempDir {
    let dir = TempDir::new("promtool-mutation");
    dir.write(
        "obsgen.yaml",
        "apiVersion: obsgen.dev/v1\nkind: Platform\nmetadata: {name: m}\nspec:\n  environments:\n    - {name: production, production: true}\n  prometheus: {commit_tests: true}\n  grafana: {url: 'https://grafana.example'}\n  teams:\n    shop: {slack: {channel: '#shop', api_url_file: /secrets/slack}}\n",
    );
    dir.write(
        "services/cart.yaml",
        &format!(
            "apiVersion: obsgen.dev/v1\nkind: Service\nmetadata:\n  name: cart\n  team: shop\n{extra_labels}spec:\n  framework: express\n  ingress: {{kind: haproxy}}\n  slos:\n    - {{name: availability, objective: 99.9, indicator: {{type: availability}}}}\n    - {{name: latency, objective: 99, window: 28d, indicator: {{type: latency, threshold: 300ms}}}}\n    - name: carts\n      objective: 99.5\n      indicator:\n        type: ratio\n        errors: sum(rate(cart_failed_total{{job=\"cart\"}}[{{{{window}}}}]))\n        total: sum(rate(cart_total{{job=\"cart\"}}[{{{{window}}}}]))\n  alerts: {{page: true, proxy_error_ratio: 3%, unavailable_for: 3m}}\n"
        ),
    );
    let out = dir.join("out");
    crate::common::obsgen(dir.path(), &["build", "--out", &out.to_string_lossy()]).success();
    dir
}

/// A text replaced in a rule file: (from, to, how many times `from` occurs).
type Edit = (String, String, usize);

/// Each mutation of a generated rule file that changes what an alert means
/// (a threshold, a window, the `and` of the two windows, a `for:` hold, the
/// error budget, the proxy's traffic guard or environment) must make some
/// generated test fail.
#[test]
fn generated_tests_fail_when_a_rule_is_mutated() {
    let repo = mutation_repo("");
    let out = repo.join("out/prometheus");
    let rules = std::fs::read_to_string(out.join("rules/cart.yml")).expect("the rule file");
    let test_files = ["tests/cart.test.yml", "tests/cart.holds.test.yml"];
    let originals: Vec<PathBuf> = test_files.iter().map(|f| out.join(f)).collect();
    assert!(
        promtool_many(&["test", "rules"], &originals).is_empty(),
        "the unmutated tests must pass"
    );
    let availability = |window: &str| {
        format!(
            "slo:sli_error:ratio_rate{window}{{sloth_id=\"cart-availability\",sloth_service=\"cart\",sloth_slo=\"availability\"}}"
        )
    };
    let short = format!(
        "      and\n      max without (sloth_window) ({}",
        availability("5m")
    );
    let long = format!("max without (sloth_window) ({}", availability("1h"));
    let short_5m = format!("max without (sloth_window) ({}", availability("5m"));
    // (alert kind, [(text in the rule file, its mutation, occurrences)])
    let mutations: Vec<(&str, Vec<Edit>)> = vec![
        (
            "ServiceUnavailable threshold",
            vec![(") == 0\n".into(), ") < 2\n".into(), 1)],
        ),
        (
            "ServiceUnavailable for: 3m -> 10m",
            vec![("for: 3m\n".into(), "for: 10m\n".into(), 1)],
        ),
        (
            "ServiceUnavailable for: 3m -> 2m",
            vec![("for: 3m\n".into(), "for: 2m\n".into(), 1)],
        ),
        (
            "ReverseProxyErrorRatioHigh threshold up",
            vec![("> 0.03\n".into(), "> 0.5\n".into(), 1)],
        ),
        (
            "ReverseProxyErrorRatioHigh threshold down",
            vec![("> 0.03\n".into(), "> 0.02\n".into(), 1)],
        ),
        (
            "ReverseProxyErrorRatioHigh without its traffic guard",
            vec![("[5m])) >= 1\n".into(), "[5m])) >= 0\n".into(), 1)],
        ),
        (
            "ErrorBudgetBurn page/fast: and -> or",
            vec![(short.clone(), short.replace("      and\n", "      or\n"), 1)],
        ),
        (
            "ErrorBudgetBurn page/fast: short window 5m -> 30m",
            vec![(
                short_5m.clone(),
                short_5m.replace("ratio_rate5m", "ratio_rate30m"),
                1,
            )],
        ),
        (
            "ErrorBudgetBurn page/fast: long window 1h -> 3d",
            vec![(
                long.clone(),
                long.replace("ratio_rate1h", "ratio_rate3d"),
                1,
            )],
        ),
        (
            "ErrorBudgetBurn page/fast: for: 2m -> 1m",
            vec![("for: 2m\n".into(), "for: 1m\n".into(), 4)],
        ),
        (
            "ErrorBudgetBurn page/slow: for: 15m -> 10m",
            vec![("for: 15m\n".into(), "for: 10m\n".into(), 3)],
        ),
        (
            "ErrorBudgetBurn ticket: for: 1h -> 30m",
            vec![("for: 1h\n".into(), "for: 30m\n".into(), 6)],
        ),
        (
            "ErrorBudgetBurn availability: error budget 0.001 -> 0.002",
            vec![("(14.4 * 0.001)".into(), "(14.4 * 0.002)".into(), 2)],
        ),
        (
            "ErrorBudgetBurn availability page/fast factor",
            vec![("(14.4 * 0.001)".into(), "(50 * 0.001)".into(), 2)],
        ),
        (
            "ErrorBudgetBurn availability page/slow factor",
            vec![("(6 * 0.001)".into(), "(5 * 0.001)".into(), 2)],
        ),
        (
            "ErrorBudgetBurn availability ticket/fast factor",
            vec![("(3 * 0.001)".into(), "(4 * 0.001)".into(), 2)],
        ),
        (
            "ErrorBudgetBurn availability ticket/slow factor",
            vec![("(1 * 0.001)".into(), "(0.5 * 0.001)".into(), 2)],
        ),
        (
            "ErrorBudgetBurn latency page/fast factor",
            vec![("(13.44 * 0.01)".into(), "(20 * 0.01)".into(), 2)],
        ),
        (
            "ErrorBudgetBurn carts page/fast factor",
            vec![("(14.4 * 0.005)".into(), "(10 * 0.005)".into(), 2)],
        ),
        (
            "SLOIndicatorMissing for: 30m -> 20m",
            vec![("for: 30m\n".into(), "for: 20m\n".into(), 3)],
        ),
        (
            "slo: SLI recordings keep the NaN of idle windows",
            vec![("\n      >= 0\n".into(), "\n".into(), 21)],
        ),
    ];
    let scratch = TempDir::new("promtool-mutants");
    let mut tests = Vec::new();
    for (index, (kind, edits)) in mutations.iter().enumerate() {
        let mut mutated = rules.clone();
        for (from, to, occurrences) in edits {
            assert_eq!(
                mutated.matches(from.as_str()).count(),
                *occurrences,
                "{kind}: `{from}` in the rule file"
            );
            mutated = mutated.replace(from.as_str(), to);
        }
        let dir = format!("m{index}");
        scratch.write(&format!("{dir}/rules/cart.yml"), &mutated);
        // A changed hold is the holds file's business, everything else the
        // main file's: running only that one halves the test's time.
        let file = if kind.contains("for:") {
            test_files[1]
        } else {
            test_files[0]
        };
        scratch.write(
            &format!("{dir}/{file}"),
            &std::fs::read_to_string(out.join(file)).expect("tests"),
        );
        let files = vec![scratch.join(&format!("{dir}/{file}"))];
        tests.push((kind.to_string(), files));
    }
    for chunk in tests.chunks(2) {
        let runs: Vec<_> = chunk
            .iter()
            .map(|(kind, files)| {
                let mut command = Command::new(tool("promtool"));
                command.args(["test", "rules"]).args(files);
                let kind = kind.clone();
                std::thread::spawn(move || (kind, command.output().expect("running promtool")))
            })
            .collect();
        for run in runs {
            let (kind, result) = run.join().expect("a promtool thread");
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&result.stdout),
                String::from_utf8_lossy(&result.stderr)
            );
            assert!(
                !result.status.success(),
                "{kind}: a mutated rule still passes its tests"
            );
            assert!(
                text.contains("FAILED:"),
                "{kind}: failed for another reason than a failing case:\n{text}"
            );
            let alert = kind.split(' ').next().expect("a name");
            if alert != "slo:" {
                assert!(
                    text.contains(alert),
                    "{kind}: no case of {alert} failed:\n{text}"
                );
            }
        }
    }
}

#[test]
fn hostile_label_values_survive_promtool() {
    let repo = mutation_repo(
        "  labels:\n    owner: \"x\\\"} or vector(1) {{ .Value }} {{\"\n    note: \"a'b\\\\c #d\"\n",
    );
    let out = repo.join("out/prometheus");
    let rules = out.join("rules/cart.yml");
    assert!(promtool_many(&["check", "rules"], std::slice::from_ref(&rules)).is_empty());
    // The tests expect the raw values on the alerts: passing proves the
    // template escaping gives them back exactly.
    let failures = promtool_many(&["test", "rules"], &[out.join("tests/cart.test.yml")]);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let value = yaml_value(&out.join("tests/cart.test.yml"));
    assert!(
        value
            .to_string()
            .contains("x\\\"} or vector(1) {{ .Value }} {{")
    );
}

#[test]
fn operator_output_matches_its_promtool_copies() {
    let out = build_example_with_tests("acme-operator");
    // The operator objects: every YAML file under `prometheus/` (Grafana's
    // provisioning files are YAML too, and not the operator's).
    let objects: Vec<_> = files_ending(out.path(), ".yaml")
        .into_iter()
        .filter(|p| p.starts_with(out.path().join("prometheus")))
        .collect();
    assert!(!objects.is_empty());
    assert!(
        !walk(out.path())
            .iter()
            .any(|p| p.ends_with("prometheus.yml")),
        "operator mode writes no prometheus.yml"
    );
    let mut rule_objects = 0;
    for object in &objects {
        let value = yaml_value(object);
        let kind = value["kind"].as_str().expect("a kind");
        let api = value["apiVersion"].as_str().expect("an apiVersion");
        assert!(api.starts_with("monitoring.coreos.com/"), "{api}");
        assert!(value["metadata"]["namespace"].is_string());
        match kind {
            "PrometheusRule" => {
                rule_objects += 1;
                let service = object.file_stem().expect("a name").to_string_lossy();
                let env_dir = object.ancestors().nth(3).expect("the environment");
                let copy = yaml_value(&env_dir.join(format!("tests/{service}.rules.yml")));
                assert_eq!(
                    value["spec"]["groups"],
                    copy["groups"],
                    "{}",
                    object.display()
                );
            }
            "PodMonitor" => {
                let endpoint = &value["spec"]["podMetricsEndpoints"][0];
                assert!(endpoint["path"].is_string());
                assert!(value["spec"]["selector"]["matchLabels"].is_object());
                let relabelings = endpoint["relabelings"].to_string();
                assert!(
                    relabelings.contains("\"targetLabel\":\"job\""),
                    "{relabelings}"
                );
            }
            "ScrapeConfig" => {
                assert_eq!(api, "monitoring.coreos.com/v1alpha1");
                assert!(value["spec"]["jobName"].is_string());
            }
            other => panic!("unexpected kind {other}"),
        }
    }
    assert_eq!(
        rule_objects, 3,
        "one PrometheusRule per service and environment"
    );
}

#[test]
fn shards_split_targets_with_hashmod() {
    let repo = TempDir::new("promtool-shards");
    crate::common::copy_tree(&crate::common::repo().join("examples/acme"), repo.path());
    let platform = std::fs::read_to_string(repo.join("obsgen.yaml")).expect("obsgen.yaml");
    let sharded = platform.replace(
        "    scrape_interval: 30s\n",
        "    scrape_interval: 30s\n    shards: 3\n",
    );
    assert_ne!(platform, sharded);
    std::fs::write(repo.join("obsgen.yaml"), sharded).expect("writing obsgen.yaml");
    let out = repo.join("out");
    crate::common::obsgen(repo.path(), &["build", "--out", &out.to_string_lossy()]).success();
    let configs: Vec<_> = walk(&out)
        .into_iter()
        .filter(|p| p.ends_with("prometheus.yml"))
        .collect();
    assert_eq!(
        configs.len(),
        9,
        "three shards for each of three environments"
    );
    let scratch = TempDir::new("promtool-shards-check");
    for (index, config) in configs.iter().enumerate() {
        let text = std::fs::read_to_string(config).expect("a config");
        let shard = config.parent().expect("a shard folder");
        let number = shard
            .file_name()
            .expect("a name")
            .to_string_lossy()
            .trim_start_matches("shard-")
            .to_string();
        assert!(text.contains("action: hashmod") && text.contains("modulus: 3"));
        assert!(
            text.contains(&format!("regex: \"{number}\""))
                || text.contains(&format!("regex: '{number}'")),
            "{text}"
        );
        assert!(!text.contains("rule_files"), "shards evaluate no rules");
        // Checked like the unsharded configurations, with file_sd files
        // one folder up.
        let env = shard.parent().expect("an environment");
        let copy_env = scratch.join(&format!("e{index}"));
        crate::common::copy_tree(env, &copy_env);
        let copy = copy_env.join(format!("shard-{number}/prometheus.yml"));
        std::fs::write(&copy, without_kubernetes_sd(&text)).expect("writing the copy");
        promtool_check(&["check", "config"], &copy);
    }
}
