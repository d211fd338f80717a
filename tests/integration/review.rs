//! The review tools as users drive them: `obsgen diff --summary` names what
//! a manifest change means (an SLO objective's thresholds, paging's alerts
//! and route), in text, JSON and Markdown; `obsgen explain` lists every
//! alert and panel that the rendered output gives a service.
//!
//! What users read is kept as golden files in `tests/review/`; re-bless
//! with `make bless` (`OBSGEN_BLESS=1 cargo test --test integration review`).

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::common::{TempDir, compile_example, copy_tree, obsgen, repo};
use crate::golden::bless_requested;

/// The example repository, built, in a temporary directory.
fn built_acme() -> TempDir {
    let dir = TempDir::new("review");
    copy_tree(&repo().join("examples/acme"), dir.path());
    obsgen(dir.path(), &["build"]).success();
    dir
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).expect("reading a manifest");
    assert!(text.contains(from), "`{from}` not in {}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).expect("writing a manifest");
}

/// Compares `actual` with `tests/review/<name>`, or writes it when blessing.
fn golden(name: &str, actual: &str) {
    let path = repo().join("tests/review").join(name);
    if bless_requested() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} is missing; create it with `make bless`", path.display()));
    if expected != actual {
        let diff = similar::TextDiff::from_lines(&expected, actual)
            .unified_diff()
            .header("expected", "actual")
            .to_string();
        panic!(
            "{} differs (re-bless with `make bless` if intended):\n{diff}",
            path.display()
        );
    }
}

/// The changes of one service in a JSON summary.
fn service_changes<'a>(summary: &'a Value, service: &str) -> &'a Vec<Value> {
    summary["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service"] == service)
        .unwrap_or_else(|| panic!("no changes for {service}: {summary:#}"))["changes"]
        .as_array()
        .unwrap()
}

fn field<'a>(change: &'a Value, name: &str) -> &'a Value {
    change["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == name)
        .unwrap_or_else(|| panic!("no field {name} in {change:#}"))
}

#[test]
fn an_slo_objective_change_names_the_changed_thresholds() {
    let dir = built_acme();
    edit(
        &dir.join("services/payments/checkout.yaml"),
        "objective: 99.9",
        "objective: 99.5",
    );
    let text = obsgen(dir.path(), &["diff", "--summary"]);
    text.success();
    assert!(
        text.stdout
            .contains("~ changed SLO availability: objective 99.9% → 99.5%\n"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains(
            "~ changed alert ErrorBudgetBurn{slo=\"availability\",slo_burn=\"fast\",slo_tier=\"page\"}: threshold > (14.4 * 0.001) → > (14.4 * 0.005)\n"
        ),
        "{}",
        text.stdout
    );
    golden("slo-objective.txt", &text.stdout);

    let json = obsgen(dir.path(), &["--format", "json", "diff", "--summary"]);
    json.success();
    let summary: Value = serde_json::from_str(&json.stdout).expect("JSON");
    let changes = service_changes(&summary, "checkout");
    let slo = changes
        .iter()
        .find(|c| c["kind"] == "slo" && c["name"] == "availability")
        .expect("the SLO change");
    assert_eq!(slo["change"], "changed");
    assert_eq!(field(slo, "objective")["old"], "99.9%");
    assert_eq!(field(slo, "objective")["new"], "99.5%");
    let burn = changes
        .iter()
        .find(|c| {
            c["kind"] == "alert"
                && c["name"]
                    == "ErrorBudgetBurn{slo=\"availability\",slo_burn=\"fast\",slo_tier=\"page\"}"
        })
        .expect("the fast-burn alert");
    assert_eq!(field(burn, "threshold")["old"], "> (14.4 * 0.001)");
    assert_eq!(field(burn, "threshold")["new"], "> (14.4 * 0.005)");
    // The shared rule file serves every environment: none is named.
    assert_eq!(burn["environments"], serde_json::json!([]));
    // Only checkout changed.
    assert_eq!(
        summary["services"].as_array().unwrap().len(),
        1,
        "{summary:#}"
    );

    let markdown = obsgen(dir.path(), &["--format", "markdown", "diff", "--summary"]);
    markdown.success();
    golden("slo-objective.md", &markdown.stdout);
}

#[test]
fn opting_in_to_paging_names_the_paging_alerts_and_the_added_route() {
    let dir = built_acme();
    let manifest = dir.join("services/fulfilment/inventory.yaml");
    let mut text = std::fs::read_to_string(&manifest).unwrap();
    assert!(!text.contains("alerts:"), "inventory does not page yet");
    text.push_str("  alerts:\n    page: true\n");
    std::fs::write(&manifest, text).unwrap();

    let summary = obsgen(dir.path(), &["diff", "--summary", "--exit-code"]);
    summary.code(1);
    assert!(
        summary
            .stdout
            .contains("~ changed alert ServiceUnavailable: severity ticket → page\n"),
        "{}",
        summary.stdout
    );
    assert!(
        summary.stdout.contains(
            "+ added route fulfilment/pagerduty when team=\"fulfilment\", severity=\"page\", env=~\"production\"\n"
        ),
        "{}",
        summary.stdout
    );
    golden("paging.txt", &summary.stdout);

    let json = obsgen(dir.path(), &["--format", "json", "diff", "--summary"]);
    json.success();
    let value: Value = serde_json::from_str(&json.stdout).expect("JSON");
    let changes = service_changes(&value, "inventory");
    assert!(
        changes.iter().any(|c| c["kind"] == "route"
            && c["change"] == "added"
            && c["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("fulfilment/pagerduty when "))),
        "{value:#}"
    );
    let unavailable = changes
        .iter()
        .find(|c| c["kind"] == "alert" && c["name"] == "ServiceUnavailable")
        .expect("ServiceUnavailable changes");
    // One rule file for every environment: the change names none.
    assert_eq!(unavailable["environments"], serde_json::json!([]));
    assert_eq!(field(unavailable, "severity")["old"], "ticket");
    assert_eq!(field(unavailable, "severity")["new"], "page");
}

#[test]
fn an_up_to_date_tree_has_an_empty_summary() {
    let dir = built_acme();
    let text = obsgen(dir.path(), &["diff", "--summary"]);
    text.success();
    assert_eq!(text.stdout, "no changes\n");
    let json = obsgen(dir.path(), &["--format", "json", "diff", "--summary"]);
    assert_eq!(
        serde_json::from_str::<Value>(&json.stdout).unwrap(),
        serde_json::json!({"services": [], "other_files": []})
    );
}

/// Titles of every panel (not rows) in a dashboard, nested ones included.
fn panel_titles(dashboard: &Value, into: &mut Vec<String>) {
    for panel in dashboard["panels"].as_array().into_iter().flatten() {
        if panel["type"] == "row" {
            panel_titles(panel, into);
        } else {
            into.push(panel["title"].as_str().unwrap().to_string());
        }
    }
}

#[test]
fn explain_lists_every_alert_and_panel_of_the_rendered_output() {
    let output = compile_example("acme");
    // What the rendered output gives checkout: alerts per (name, env) and
    // panel titles, read here with plain YAML/JSON parsing.
    let mut alerts: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut panels: Vec<String> = Vec::new();
    // A shared rule file's alerts (no `env` label) run in every environment
    // whose Prometheus scrapes checkout.
    let environments: Vec<String> = output
        .iter()
        .filter(|(path, contents)| {
            path.ends_with("/prometheus.yml")
                && std::str::from_utf8(contents)
                    .unwrap()
                    .contains("job_name: checkout\n")
        })
        .map(|(path, _)| path.split('/').nth(1).unwrap().to_string())
        .collect();
    assert!(!environments.is_empty());
    for (path, contents) in output.iter() {
        let text = std::str::from_utf8(contents).unwrap();
        if path.starts_with("prometheus/") && path.contains("/rules/") {
            let rules: Value = serde_saphyr::from_str(text).unwrap();
            for group in rules["groups"].as_array().unwrap() {
                for rule in group["rules"].as_array().unwrap() {
                    if rule["labels"]["service"] == "checkout"
                        && let Some(alert) = rule["alert"].as_str()
                    {
                        let envs = match rule["labels"]["env"].as_str() {
                            Some(env) => vec![env.to_string()],
                            None => environments.clone(),
                        };
                        for env in envs {
                            *alerts.entry((alert.to_string(), env)).or_default() += 1;
                        }
                    }
                }
            }
        }
        if path.starts_with("grafana/dashboards/") && path.ends_with("/checkout.json") {
            panel_titles(&serde_json::from_str(text).unwrap(), &mut panels);
        }
    }
    assert!(
        alerts.len() >= 8 && panels.len() >= 20,
        "{alerts:?} {panels:?}"
    );

    let root = repo().join("examples/acme");
    let run = obsgen(&root, &["--format", "json", "explain", "checkout"]);
    run.success();
    let explained: Value = serde_json::from_str(&run.stdout).expect("JSON");
    let mut listed: BTreeMap<(String, String), usize> = BTreeMap::new();
    for alert in explained["alerts"].as_array().unwrap() {
        let name = alert["name"].as_str().unwrap();
        let alertname = name.split('{').next().unwrap().to_string();
        assert!(
            alert["threshold"].is_string() && alert["severity"].is_string(),
            "an alert with its threshold and severity: {alert}"
        );
        for env in alert["environments"].as_array().unwrap() {
            *listed
                .entry((alertname.clone(), env.as_str().unwrap().to_string()))
                .or_default() += 1;
        }
    }
    assert_eq!(listed, alerts, "every alert, once per environment");
    let mut explained_panels: Vec<String> = explained["panels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let name = p["name"].as_str().unwrap();
            name.rsplit(" › ").next().unwrap().to_string()
        })
        .collect();
    explained_panels.sort();
    panels.sort();
    assert_eq!(explained_panels, panels, "every panel");
    let routes = explained["routes"].as_array().unwrap();
    assert!(
        routes.iter().any(|r| r["environment"] == "production"
            && r["receiver"] == "payments/pagerduty"
            && r["alerts"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a == "ServiceUnavailable (page)")),
        "checkout pages in production: {routes:#?}"
    );

    let text = obsgen(&root, &["explain", "checkout"]);
    text.success();
    golden("explain-checkout.txt", &text.stdout);

    let unknown = obsgen(&root, &["explain", "no-such-service"]);
    unknown.code(2);
    assert!(
        unknown.stderr.contains("checkout"),
        "names the services: {}",
        unknown.stderr
    );
}

/// The review tools read committed files, which anyone may have edited or
/// broken: every generated file of the examples, cut short anywhere or
/// with bytes flipped, is read without a panic, and a summary of such a
/// change still comes out.
#[test]
fn damaged_generated_files_never_panic_the_review_tools() {
    use obsgen::review::facts::facts_of;
    use obsgen::review::summary::{ChangedFile, render_json, summarize};
    let mut read = 0;
    for example in ["acme", "acme-operator"] {
        let output = compile_example(example);
        for (path, contents) in output.iter() {
            let len = contents.len();
            for cut in [0, 1, len / 7, len / 3, len / 2, len.saturating_sub(2)] {
                let short = &contents[..cut.min(len)];
                let _ = facts_of(path, short);
                let mut flipped = contents.to_vec();
                for at in [cut, cut / 2, len.saturating_sub(cut + 1)] {
                    if let Some(byte) = flipped.get_mut(at) {
                        *byte = byte.wrapping_add(0x5b);
                    }
                }
                let _ = facts_of(path, &flipped);
                let summary = summarize(&[ChangedFile {
                    path,
                    old: Some(short),
                    new: Some(&flipped),
                }]);
                assert!(render_json(&summary).is_object());
            }
            read += usize::from(facts_of(path, contents).is_some());
        }
    }
    assert!(read > 50, "the intact files are read: {read}");
}
