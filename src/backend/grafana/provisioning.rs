//! Grafana provisioning: what makes a Grafana started on the output tree
//! show every dashboard, with its datasource and home page, without a click.
//!
//! - `grafana/provisioning/dashboards/obsgen.yaml`: one file provider over
//!   `grafana/dashboards/`, folders from the file tree (one per team), not
//!   editable from the UI (the manifests are the source of truth);
//! - `grafana/provisioning/datasources/prometheus.yaml`: the Prometheus
//!   datasource every dashboard's `datasource` variable selects by default
//!   (with a tracing UI, its exemplars' `trace_id` labels link to the trace);
//! - `grafana/grafana.ini`: the landing dashboard as the home dashboard.
//!
//! Paths are relative to `GF_PATHS_PROVISIONING`, which Grafana expands in
//! provisioning files, so the tree works wherever it is checked out.

use serde::Serialize;

use crate::model::Model;
use crate::output::{OutputError, OutputSet, header, yaml};

pub const DASHBOARD_PROVIDER: &str = "grafana/provisioning/dashboards/obsgen.yaml";
pub const DATASOURCE: &str = "grafana/provisioning/datasources/prometheus.yaml";
pub const GRAFANA_INI: &str = "grafana/grafana.ini";
/// Where the provider finds dashboards, from the provisioning directory.
const DASHBOARDS_FROM_PROVISIONING: &str = "$GF_PATHS_PROVISIONING/../dashboards";

#[derive(Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ProviderFile {
    api_version: u8,
    providers: Vec<Provider>,
}

#[derive(Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Provider {
    name: String,
    org_id: u32,
    #[serde(rename = "type")]
    kind: &'static str,
    disable_deletion: bool,
    allow_ui_updates: bool,
    update_interval_seconds: u32,
    options: ProviderOptions,
}

#[derive(Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ProviderOptions {
    path: String,
    folders_from_files_structure: bool,
}

#[derive(Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct DatasourceFile {
    api_version: u8,
    datasources: Vec<Datasource>,
}

#[derive(Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Datasource {
    name: String,
    uid: String,
    #[serde(rename = "type")]
    kind: &'static str,
    access: &'static str,
    url: String,
    is_default: bool,
    editable: bool,
    json_data: DatasourceJsonData,
}

#[derive(Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct DatasourceJsonData {
    /// The scrape interval: `$__rate_interval` is at least four of it.
    time_interval: String,
    http_method: &'static str,
    /// Where an exemplar's trace id leads (Explore shows exemplars when
    /// Prometheus stores them): the tracing UI's page of the trace.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    exemplar_trace_id_destinations: Vec<ExemplarDestination>,
}

#[derive(Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ExemplarDestination {
    /// The exemplar label holding the trace id.
    name: &'static str,
    url: String,
}

/// The exemplar label that holds a trace id: the name OpenMetrics client
/// libraries (client_golang's examples, Micrometer, OpenTelemetry's
/// Prometheus exporter) use.
pub const EXEMPLAR_TRACE_LABEL: &str = "trace_id";

/// The tracing UI's page of the trace an exemplar names, in Grafana's data
/// link syntax (`${__value.raw}` is the label's value).
fn exemplar_destinations(model: &Model) -> Vec<ExemplarDestination> {
    model
        .platform
        .tracing
        .as_ref()
        .and_then(|tracing| tracing.trace_url.as_deref())
        .map(|template| ExemplarDestination {
            name: EXEMPLAR_TRACE_LABEL,
            url: template.replace("{trace_id}", "${__value.raw}"),
        })
        .into_iter()
        .collect()
}

pub fn render(model: &Model, output: &mut OutputSet) -> Result<(), OutputError> {
    let header = header::hash_comment(&[model.platform.source.as_str()]);
    let providers = ProviderFile {
        api_version: 1,
        providers: vec![Provider {
            name: "obsgen".into(),
            org_id: 1,
            kind: "file",
            disable_deletion: true,
            allow_ui_updates: false,
            update_interval_seconds: 30,
            options: ProviderOptions {
                path: DASHBOARDS_FROM_PROVISIONING.into(),
                folders_from_files_structure: true,
            },
        }],
    };
    output.add(DASHBOARD_PROVIDER, yaml::document(&header, &providers)?)?;
    let grafana = &model.platform.grafana;
    let datasources = DatasourceFile {
        api_version: 1,
        datasources: vec![Datasource {
            name: "Prometheus".into(),
            uid: grafana.datasource_uid.clone(),
            kind: "prometheus",
            access: "proxy",
            url: grafana.prometheus_url.clone(),
            is_default: true,
            editable: false,
            json_data: DatasourceJsonData {
                time_interval: model.platform.prometheus.scrape_interval.to_string(),
                http_method: "POST",
                exemplar_trace_id_destinations: exemplar_destinations(model),
            },
        }],
    };
    output.add(DATASOURCE, yaml::document(&header, &datasources)?)?;
    output.add(
        GRAFANA_INI,
        format!(
            "{header}# Merge into grafana.ini, or set GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH.\n[dashboards]\ndefault_home_dashboard_path = ${{GF_PATHS_PROVISIONING}}/../{}\n",
            super::home_file(model).trim_start_matches("grafana/")
        ),
    )?;
    Ok(())
}
