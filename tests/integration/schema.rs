//! The JSON Schemas committed in `schema/` are exactly what the spec types
//! generate, so editors and other tools never see a stale contract.
//! Re-bless with `OBSGEN_BLESS=1 cargo test --test integration schema`.

use obsgen::validate::{Kind, schema::schema_text};

use crate::common::repo;
use crate::golden::bless_requested;

/// The shape of `obsgen validate --format json`.
const REPORT_SCHEMA: &str = "validate-report.schema.json";

#[test]
fn committed_schemas_are_up_to_date() {
    let mut stale = Vec::new();
    for kind in [Kind::Service, Kind::Platform] {
        let path = repo().join("schema").join(kind.file_name());
        let generated = schema_text(kind);
        if bless_requested() {
            std::fs::create_dir_all(path.parent().expect("schema/")).expect("creating schema/");
            std::fs::write(&path, &generated).expect("writing a schema");
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(committed) if committed == generated => {}
            Ok(_) => stale.push(format!("schema/{} is stale", kind.file_name())),
            Err(error) => stale.push(format!("schema/{}: {error}", kind.file_name())),
        }
    }
    let report = repo().join("schema").join(REPORT_SCHEMA);
    let generated = obsgen::diagnostics::ValidationReport::schema_text();
    if bless_requested() {
        std::fs::write(&report, &generated).expect("writing the report schema");
    } else if std::fs::read_to_string(&report).ok().as_deref() != Some(generated.as_str()) {
        stale.push(format!("schema/{REPORT_SCHEMA} is stale or missing"));
    }
    assert!(
        stale.is_empty(),
        "{}; regenerate with `OBSGEN_BLESS=1 cargo test --test integration schema` (or `make bless`)",
        stale.join("; ")
    );
}

#[test]
fn committed_schemas_accept_the_shipped_manifests_and_reject_a_typo() {
    let compile = |kind: Kind| {
        let text = std::fs::read_to_string(repo().join("schema").join(kind.file_name()))
            .expect("a committed schema");
        let value: serde_json::Value = serde_json::from_str(&text).expect("the schema is JSON");
        jsonschema::validator_for(&value).expect("the schema compiles")
    };
    let service = compile(Kind::Service);
    let platform = compile(Kind::Platform);
    let yaml = |path: &std::path::Path| {
        let text = std::fs::read_to_string(path).expect("reading a manifest");
        obsgen::load::yaml::parse(&text).expect("YAML")
    };
    let mut checked = 0;
    for root in [repo().join("examples/acme"), repo().join("templates/init")] {
        for path in crate::common::walk(&root) {
            let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
                continue;
            };
            let validator = if name == "obsgen.yaml" {
                &platform
            } else if path.to_string_lossy().contains("services/") || name == "hello.yaml" {
                &service
            } else {
                continue;
            };
            if !name.ends_with(".yaml") {
                continue;
            }
            let value = yaml(&path);
            let errors: Vec<String> = validator
                .iter_errors(&value)
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{}: {errors:?}", path.display());
            checked += 1;
        }
    }
    assert!(checked >= 5, "only {checked} manifests checked");
    let typo = serde_json::json!({
        "apiVersion": "obsgen.dev/v1", "kind": "Service",
        "metadata": {"name": "a", "team": "t"}, "spec": {"framwork": "grpc"}
    });
    assert!(!service.is_valid(&typo));
}

/// Debian's promtool cannot check Kubernetes discovery: the README says
/// which promtool a user needs for a full check.
#[test]
fn the_readme_says_which_promtool_checks_kubernetes_discovery() {
    let readme = std::fs::read_to_string(crate::common::repo().join("README.md")).expect("README");
    assert!(readme.contains("Which promtool checks Kubernetes discovery"));
    assert!(readme.contains("kubernetes_sd_configs"));
    assert!(readme.contains("https://prometheus.io/download/"));
}

/// `obsgen validate --format json` prints one document on stdout, valid or
/// not, and it matches the committed schema of its shape.
#[test]
fn validate_as_json_prints_a_report_on_stdout_that_matches_its_schema() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(crate::common::repo().join("schema").join(REPORT_SCHEMA))
            .expect("the report schema"),
    )
    .expect("JSON");
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    let dir = crate::common::TempDir::new("validate-json");
    crate::common::obsgen(dir.path(), &["init", "demo"]).success();
    let demo = dir.join("demo");
    let run = crate::common::obsgen(&demo, &["--format", "json", "validate"]);
    run.success();
    assert_eq!(run.stderr, "");
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("one JSON document");
    assert!(validator.is_valid(&report), "{report:#}");
    assert_eq!(report["valid"], true);
    assert_eq!(report["services"], 1);
    assert_eq!(report["diagnostics"], serde_json::json!([]));

    std::fs::write(demo.join("services/hello.yaml"), "kind: Service\n").expect("writing");
    let run = crate::common::obsgen(&demo, &["--format", "json", "validate"]);
    run.code(1);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("one JSON document");
    assert!(validator.is_valid(&report), "{report:#}");
    assert_eq!(report["valid"], false);
    assert!(
        report["errors"].as_u64().is_some_and(|n| n > 0),
        "{report:#}"
    );
}

/// docs/cli.md documents the streams and the report's fields.
#[test]
fn the_cli_docs_describe_streams_and_the_report() {
    let docs =
        std::fs::read_to_string(crate::common::repo().join("docs/cli.md")).expect("docs/cli.md");
    for needle in [
        "stdout",
        "stderr",
        REPORT_SCHEMA,
        "\"diagnostics\"",
        "--verbose",
    ] {
        assert!(docs.contains(needle), "docs/cli.md lacks {needle}");
    }
}

/// `docs/manifest-fields.md` is exactly the reference generated from the
/// schemas' descriptions. Re-bless with `make bless`.
#[test]
fn the_manifest_field_reference_is_generated_and_current() {
    let path = repo().join("docs/manifest-fields.md");
    let generated = obsgen::validate::manifest_reference::document();
    if bless_requested() {
        std::fs::write(&path, &generated).expect("writing docs/manifest-fields.md");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/manifest-fields.md is stale; regenerate with `make bless`"
    );
    for field in ["`spec.slos[].objective`", "`spec.teams.<name>.slack`"] {
        assert!(generated.contains(field), "the reference lacks {field}");
    }
}
