//! The JSON Schemas committed in `schema/` are exactly what the spec types
//! generate, so editors and other tools never see a stale contract.
//! Re-bless with `OBSGEN_BLESS=1 cargo test --test integration schema`.

use obsgen::validate::{Kind, schema::schema_text};

use crate::common::repo;
use crate::golden::bless_requested;

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
        obsgen::load::yaml::parse(&text).expect("YAML").0
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
