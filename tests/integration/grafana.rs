//! Grafana dashboards against Grafana's own published JSON Schemas.
//!
//! The schemas (Grafana foundation SDK, draft-07) are reference data kept
//! beside the project in `../shared/grafana-schema/`; CI has them. Without
//! the folder, the typed model and the unit tests of `src/backend/grafana`
//! still prove the structure, and this test says it checked nothing.

use std::path::PathBuf;

use serde_json::Value;

use crate::common;

fn schema_dir() -> Option<PathBuf> {
    let dir = common::repo().join("../shared/grafana-schema");
    dir.join("dashboard.jsonschema.json")
        .is_file()
        .then_some(dir)
}

/// A validator for `definition` of the schema file `name`.
fn validator(dir: &std::path::Path, name: &str, definition: Option<&str>) -> jsonschema::Validator {
    let text = std::fs::read_to_string(dir.join(format!("{name}.jsonschema.json")))
        .unwrap_or_else(|e| panic!("reading the {name} schema: {e}"));
    let mut schema: Value = serde_json::from_str(&text).expect("a JSON schema");
    if let Some(definition) = definition {
        schema["$ref"] = Value::from(format!("#/definitions/{definition}"));
    }
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("compiling {name}: {e}"))
}

fn errors(validator: &jsonschema::Validator, value: &Value) -> Vec<String> {
    validator
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// Every panel of a dashboard, inside collapsed rows too.
fn panels(dashboard: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    for item in dashboard["panels"].as_array().into_iter().flatten() {
        if item["type"] == "row" {
            out.extend(item["panels"].as_array().into_iter().flatten());
        } else {
            out.push(item);
        }
    }
    out
}

#[test]
fn dashboards_validate_against_grafanas_schema() {
    let Some(dir) = schema_dir() else {
        eprintln!("../shared/grafana-schema is absent: Grafana's schema was not checked");
        return;
    };
    let dashboard_schema = validator(&dir, "dashboard", None);
    let query_schema = validator(&dir, "prometheus", None);
    let kinds = ["timeseries", "stat", "table", "text", "dashboardlist"];
    let options: Vec<(&str, jsonschema::Validator)> = kinds
        .iter()
        .map(|kind| (*kind, validator(&dir, kind, Some("Options"))))
        .collect();
    let timeseries_custom = validator(&dir, "timeseries", Some("FieldConfig"));
    let table_custom = validator(&dir, "table", Some("FieldConfig"));
    let mut checked_panels = 0;
    for example in ["acme", "acme-operator"] {
        let output = common::compile_example(example);
        let files: Vec<(&str, &[u8])> = output
            .iter()
            .filter(|(path, _)| path.starts_with("grafana/dashboards/"))
            .collect();
        assert!(files.len() >= 3, "{example}: {} dashboards", files.len());
        for (path, bytes) in files {
            let dashboard: Value = serde_json::from_slice(bytes).expect("JSON");
            let problems = errors(&dashboard_schema, &dashboard);
            assert!(problems.is_empty(), "{path}: {problems:#?}");
            for panel in panels(&dashboard) {
                let kind = panel["type"].as_str().unwrap_or_default();
                // Grafana's id for the dashboard list panel is `dashlist`.
                let schema_kind = if kind == "dashlist" {
                    "dashboardlist"
                } else {
                    kind
                };
                let (_, schema) = options
                    .iter()
                    .find(|(k, _)| *k == schema_kind)
                    .unwrap_or_else(|| panic!("{path}: no schema for panel type {kind}"));
                let problems = errors(schema, &panel["options"]);
                assert!(
                    problems.is_empty(),
                    "{path} {}: options {problems:#?}",
                    panel["title"]
                );
                let custom = &panel["fieldConfig"]["defaults"]["custom"];
                let custom_schema = match kind {
                    "timeseries" => Some(&timeseries_custom),
                    "table" => Some(&table_custom),
                    _ => None,
                };
                if let Some(schema) = custom_schema {
                    let problems = errors(schema, custom);
                    assert!(
                        problems.is_empty(),
                        "{path} {}: custom {problems:#?}",
                        panel["title"]
                    );
                }
                for target in panel["targets"].as_array().into_iter().flatten() {
                    let problems = errors(&query_schema, target);
                    assert!(
                        problems.is_empty(),
                        "{path} {}: query {problems:#?}",
                        panel["title"]
                    );
                }
                checked_panels += 1;
            }
        }
    }
    assert!(checked_panels > 100, "{checked_panels} panels checked");
}

#[test]
fn the_schema_check_is_not_vacuous() {
    let Some(dir) = schema_dir() else {
        eprintln!("../shared/grafana-schema is absent: Grafana's schema was not checked");
        return;
    };
    let dashboard_schema = validator(&dir, "dashboard", None);
    let output = common::compile_example("acme");
    let bytes = output
        .get("grafana/dashboards/payments/checkout.json")
        .expect("checkout's dashboard");
    let mut dashboard: Value = serde_json::from_slice(bytes).expect("JSON");
    assert!(errors(&dashboard_schema, &dashboard).is_empty());
    dashboard["panels"][1]["gridPos"]["w"] = Value::from(30);
    dashboard["panels"][1]["misspelt"] = Value::from(true);
    let problems = errors(&dashboard_schema, &dashboard);
    assert!(
        !problems.is_empty(),
        "a 30-column panel with an unknown field passed"
    );
}

#[test]
fn provisioning_points_at_the_generated_dashboards() {
    let output = common::compile_example("acme");
    let provider = String::from_utf8(
        output
            .get("grafana/provisioning/dashboards/obsgen.yaml")
            .expect("the dashboard provider")
            .to_vec(),
    )
    .expect("UTF-8");
    assert!(provider.contains("path: $GF_PATHS_PROVISIONING/../dashboards"));
    assert!(provider.contains("foldersFromFilesStructure: true"));
    assert!(provider.contains("allowUiUpdates: false"));
    let datasource = String::from_utf8(
        output
            .get("grafana/provisioning/datasources/prometheus.yaml")
            .expect("the datasource")
            .to_vec(),
    )
    .expect("UTF-8");
    assert!(datasource.contains("uid: prometheus"), "{datasource}");
    assert!(
        output
            .get("grafana/dashboards/Services/home.json")
            .is_some()
    );
    let ini = String::from_utf8(
        output
            .get("grafana/grafana.ini")
            .expect("grafana.ini")
            .to_vec(),
    )
    .expect("UTF-8");
    assert!(ini.contains(
        "default_home_dashboard_path = ${GF_PATHS_PROVISIONING}/../dashboards/Services/home.json"
    ));
}
