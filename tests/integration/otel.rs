//! Traces: the collector configurations and env files of every example,
//! and the trace links of dashboards, the landing page and alerts.
//!
//! No OpenTelemetry Collector can be installed from the package registries
//! this project reaches (see `docs/decisions.md`), so `otelcol validate`
//! cannot run here. These structural checks carry the proof instead: every
//! collector configuration reads back into obsgen's typed model, whose
//! structs deny unknown fields, and serializes to the same bytes; its
//! pipeline names only components it defines; no secret is in it.

use std::collections::BTreeSet;

use obsgen::backend::otel::collector::{CollectorConfig, Policy, SubPolicy};
use serde_json::Value;

use crate::common::{TempDir, compile_example, obsgen, repo};

const HEADER_END: &str = "— do not edit\n";

/// The examples' collector configurations, with their paths.
fn collectors() -> Vec<(String, String)> {
    let mut found = Vec::new();
    for example in ["acme", "acme-operator"] {
        let output = compile_example(example);
        for (path, bytes) in output.iter() {
            if path.starts_with("otel/") && path.ends_with("/collector.yaml") {
                let text = String::from_utf8(bytes.to_vec()).expect("UTF-8");
                found.push((format!("{example}/{path}"), text));
            }
        }
    }
    found
}

#[test]
fn every_collector_configuration_round_trips_through_the_typed_model() {
    let collectors = collectors();
    // acme has three environments and tracing; acme-operator has none.
    assert_eq!(
        collectors.len(),
        3,
        "{:?}",
        collectors.iter().map(|c| &c.0).collect::<Vec<_>>()
    );
    for (path, text) in collectors {
        let config: CollectorConfig =
            serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
        let (header, _) = text.split_once(HEADER_END).expect("the generated header");
        let again = obsgen::output::yaml::document(&format!("{header}{HEADER_END}"), &config)
            .expect("serializing");
        assert_eq!(again, text, "{path} does not round-trip byte for byte");
        // The same text with a field the model does not know is refused.
        let misspelt = text.replace("spike_limit_percentage", "spike_limit_percent");
        assert!(serde_saphyr::from_str::<CollectorConfig>(&misspelt).is_err());
    }
}

#[test]
fn every_pipeline_names_defined_components_only() {
    for (path, text) in collectors() {
        let config: CollectorConfig = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(
            config.undefined_components(),
            Vec::<String>::new(),
            "{path}"
        );
        assert_eq!(config.unused_components(), Vec::<String>::new(), "{path}");
        // And checked on the raw YAML too, independently of the model.
        let value: Value = serde_saphyr::from_str(&text).unwrap();
        let pipeline = &value["service"]["pipelines"]["traces"];
        for kind in ["receivers", "processors", "exporters"] {
            let defined: BTreeSet<&str> = value[kind]
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            for id in pipeline[kind].as_array().unwrap() {
                let id = id.as_str().unwrap();
                assert!(defined.contains(id), "{path}: {kind}/{id} is not defined");
            }
        }
    }
}

#[test]
fn no_secret_reaches_a_collector_configuration() {
    for (path, text) in collectors() {
        let config: CollectorConfig = serde_saphyr::from_str(&text).unwrap();
        let exporters = serde_json::to_value(&config.exporters).unwrap();
        for (id, exporter) in exporters.as_object().unwrap() {
            let endpoint = exporter["endpoint"].as_str().unwrap();
            let authority = endpoint
                .split("://")
                .nth(1)
                .unwrap()
                .split('/')
                .next()
                .unwrap();
            assert!(
                !authority.contains('@') && !endpoint.contains('?'),
                "{path}: {id}"
            );
            for (name, value) in exporter["headers"].as_object().into_iter().flatten() {
                let value = value.as_str().unwrap();
                assert!(
                    value.contains("${env:"),
                    "{path}: header {name} holds a literal"
                );
            }
        }
    }
    // A platform that writes a literal token is refused, and the token is
    // in no diagnostic's own words.
    let dir = TempDir::new("otel-secret");
    dir.write(
        "obsgen.yaml",
        "apiVersion: obsgen.dev/v1\nkind: Platform\nmetadata: {name: p}\nspec:\n  environments: [{name: staging}]\n  teams: {payments: {}}\n  tracing:\n    backend: zipkin\n    endpoint: http://zipkin:9411/api/v2/spans\n    headers: {authorization: Bearer tok-1234567890}\n",
    );
    dir.write(
        "services/a.yaml",
        "apiVersion: obsgen.dev/v1\nkind: Service\nmetadata: {name: a, team: payments}\n",
    );
    let run = obsgen(dir.path(), &["--format", "json", "validate"]);
    run.code(1);
    assert!(
        run.stdout
            .contains("must come from the collector's environment"),
        "{}",
        run.stdout
    );
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    for diagnostic in report["diagnostics"].as_array().unwrap() {
        for field in ["message", "expected", "found", "hint"] {
            let words = diagnostic[field].as_str().unwrap_or_default();
            assert!(!words.contains("tok-1234567890"), "{field}: {words}");
        }
    }
}

#[test]
fn each_ratio_policy_is_scoped_to_its_services() {
    // Policies are OR-ed: a probabilistic or latency policy standing alone
    // would apply to every trace. Each is an `and` with the services it is for.
    for (path, text) in collectors() {
        let config: CollectorConfig = serde_saphyr::from_str(&text).unwrap();
        for policy in &config.processors.tail_sampling.policies {
            match policy {
                Policy::StatusCode { .. } => {}
                Policy::And { name, and } => {
                    let scoped = and.and_sub_policy.iter().any(|sub| {
                        matches!(sub, SubPolicy::StringAttribute { string_attribute, .. }
                            if string_attribute.key == "service.name" && !string_attribute.values.is_empty())
                    });
                    assert!(scoped, "{path}: policy {name} is not scoped to services");
                }
            }
        }
    }
}

#[test]
fn every_traced_service_gets_an_env_file_per_environment() {
    let output = compile_example("acme");
    let env_files: Vec<&str> = output
        .paths()
        .filter(|path| path.ends_with(".env"))
        .collect();
    // 8 services: checkout and recommendations run in 2 environments,
    // legacy-gateway in 1 (it has a file, saying tracing is off), the
    // other five in all 3.
    assert_eq!(env_files.len(), 2 * 2 + 1 + 5 * 3, "{env_files:?}");
    let checkout =
        String::from_utf8(output.get("otel/staging/checkout.env").unwrap().to_vec()).unwrap();
    for line in [
        "OTEL_SERVICE_NAME=checkout",
        "OTEL_RESOURCE_ATTRIBUTES=deployment.environment.name=staging,service.namespace=payments,tier=critical",
        "OTEL_EXPORTER_OTLP_ENDPOINT=http://otel-collector.staging.svc:4318",
        "OTEL_TRACES_SAMPLER=parentbased_always_on",
    ] {
        assert!(
            checkout.lines().any(|l| l == line),
            "{line} not in\n{checkout}"
        );
    }
}

#[test]
fn trace_links_resolve_to_the_ui_template() {
    let output = compile_example("acme");
    let read = |path: &str| String::from_utf8(output.get(path).unwrap().to_vec()).unwrap();
    let service_url = "https://zipkin.acme.example/zipkin/?serviceName={service}&annotationQuery=deployment.environment.name%3D{env}";
    let expand = |service: &str, env: &str| {
        service_url
            .replace("{service}", service)
            .replace("{env}", env)
    };
    assert!(
        std::fs::read_to_string(repo().join("examples/acme/obsgen.yaml"))
            .unwrap()
            .contains(service_url),
        "the test's template is the example's"
    );

    // The dashboard links to the service in the dashboard's environment.
    let dashboard: Value =
        serde_json::from_str(&read("grafana/dashboards/payments/checkout.json")).unwrap();
    let links: Vec<&str> = dashboard["links"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["title"] == "Traces")
        .map(|l| l["url"].as_str().unwrap())
        .collect();
    assert_eq!(links, [expand("checkout", "${env}")]);

    // A service that turned tracing off has no link.
    let legacy = read("grafana/dashboards/web/legacy-gateway.json");
    assert!(!legacy.contains("zipkin"), "legacy-gateway links to traces");

    // Every alert of checkout links to its traces in the alert's
    // environment: from the server's external labels in the shared rule
    // file, literally in an environment's own file.
    let alerts_of = |path: &str| -> Vec<Value> {
        let rules: Value = serde_saphyr::from_str(&read(path)).unwrap();
        rules["groups"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|group| group["rules"].as_array().unwrap().clone())
            .filter(|rule| rule.get("alert").is_some())
            .collect()
    };
    let shared = alerts_of("prometheus/rules/checkout.yml");
    let production = alerts_of("prometheus/production/rules/checkout.yml");
    assert!(!shared.is_empty() && !production.is_empty());
    for (alerts, env) in [
        (shared, "{{ $externalLabels.env }}"),
        (production, "production"),
    ] {
        for rule in alerts {
            assert_eq!(
                rule["annotations"]["traces_url"],
                Value::from(expand("checkout", env)),
                "{}",
                rule["alert"]
            );
        }
    }

    // The landing page links each row to its service and environment.
    let home = read("grafana/dashboards/Services/home.json");
    assert!(
        home.contains(
            &serde_json::to_string(&expand(
                "${__data.fields.service}",
                "${__data.fields.environment}"
            ))
            .unwrap()
        )
    );

    // The datasource links an exemplar's trace id to the trace's page.
    let datasource: Value =
        serde_saphyr::from_str(&read("grafana/provisioning/datasources/prometheus.yaml")).unwrap();
    assert_eq!(
        datasource["datasources"][0]["jsonData"]["exemplarTraceIdDestinations"],
        serde_json::json!([{"name": "trace_id", "url": "https://zipkin.acme.example/zipkin/traces/${__value.raw}"}])
    );
}
