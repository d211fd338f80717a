//! The part of Grafana's dashboard JSON model that obsgen emits, as typed
//! values.
//!
//! Written from Grafana's published draft-07 schemas (the foundation SDK's
//! `dashboard`, `timeseries`, `stat`, `table`, `text`, `dashboardlist` and
//! `prometheus` schemas, `schemaVersion` 42). Every struct denies unknown
//! fields and lists its fields in the order they are written, so a
//! dashboard is built once as values, serialized once, and a misspelt
//! field cannot be generated. Optional fields are skipped when empty, so a
//! change in a service touches only the lines it must.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// A string of the model: most are constants (units, colours, modes,
/// kinds), borrowed for free; the rest (titles, queries) are owned. Saves
/// a dozen allocations per panel (see `docs/performance.md`).
pub type Text = Cow<'static, str>;

/// The dashboard JSON version obsgen writes.
pub const SCHEMA_VERSION: u32 = 42;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Dashboard {
    pub uid: Text,
    pub title: Text,
    pub description: Text,
    pub tags: Vec<Text>,
    pub timezone: Text,
    pub editable: bool,
    /// 1: a shared crosshair across panels.
    pub graph_tooltip: u8,
    pub time: TimeRange,
    pub refresh: Text,
    pub schema_version: u32,
    pub templating: Templating,
    pub annotations: Annotations,
    pub links: Vec<Link>,
    pub panels: Vec<PanelOrRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeRange {
    pub from: Text,
    pub to: Text,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Templating {
    pub list: Vec<Variable>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Annotations {
    pub list: Vec<Annotation>,
}

/// Grafana's built-in "Annotations & Alerts" entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Annotation {
    pub built_in: u8,
    pub datasource: DatasourceRef,
    pub enable: bool,
    pub hide: bool,
    pub icon_color: Text,
    pub name: Text,
    #[serde(rename = "type")]
    pub kind: Text,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasourceRef {
    #[serde(rename = "type")]
    pub kind: Text,
    pub uid: Text,
}

impl DatasourceRef {
    /// The dashboard's `datasource` variable: every panel queries through it.
    pub fn templated() -> Self {
        Self {
            kind: "prometheus".into(),
            uid: "${datasource}".into(),
        }
    }
    pub fn grafana() -> Self {
        Self {
            kind: "grafana".into(),
            uid: "-- Grafana --".into(),
        }
    }
}

/// A dashboard variable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Variable {
    #[serde(rename = "type")]
    pub kind: VariableKind,
    pub name: Text,
    pub label: Text,
    /// 0: label and value shown; 2: hidden.
    pub hide: u8,
    pub query: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datasource: Option<DatasourceRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<VariableOption>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<VariableOption>,
    pub multi: bool,
    pub include_all: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all_value: Option<Text>,
    /// 1: on dashboard load, 2: on time range change (query variables).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh: Option<u8>,
    /// Datasource variables: a regex over datasource names.
    #[serde(default, skip_serializing_if = "str::is_empty")]
    pub regex: Text,
    /// 1: alphabetical.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VariableKind {
    Datasource,
    Custom,
    Query,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariableOption {
    pub selected: bool,
    pub text: Text,
    pub value: Text,
}

/// A dashboard link (top of the dashboard), and the same shape for panel
/// links and table data links, as Grafana's schema describes them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Link {
    pub title: Text,
    #[serde(rename = "type")]
    pub kind: LinkKind,
    pub icon: Text,
    pub tooltip: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<Text>,
    pub tags: Vec<Text>,
    pub as_dropdown: bool,
    pub target_blank: bool,
    pub include_vars: bool,
    pub keep_time: bool,
}

impl Link {
    /// A link to a URL (another dashboard, Kibana), keeping the time range.
    pub fn url(title: impl Into<Text>, tooltip: impl Into<Text>, url: impl Into<Text>) -> Self {
        Self {
            title: title.into(),
            kind: LinkKind::Link,
            icon: "dashboard".into(),
            tooltip: tooltip.into(),
            url: Some(url.into()),
            tags: Vec::new(),
            as_dropdown: false,
            target_blank: false,
            include_vars: false,
            keep_time: true,
        }
    }
    /// An external link, opened in a new tab.
    pub fn external(
        title: impl Into<Text>,
        tooltip: impl Into<Text>,
        url: impl Into<Text>,
    ) -> Self {
        Self {
            icon: "external link".into(),
            target_blank: true,
            ..Self::url(title, tooltip, url)
        }
    }
    /// Every dashboard carrying one of `tags`, as a drop-down.
    pub fn tagged(title: impl Into<Text>, tags: Vec<Text>) -> Self {
        Self {
            title: title.into(),
            kind: LinkKind::Dashboards,
            icon: "external link".into(),
            tooltip: Text::default(),
            url: None,
            tags,
            as_dropdown: true,
            target_blank: false,
            include_vars: false,
            keep_time: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkKind {
    Link,
    Dashboards,
}

/// A top-level entry of `panels`: a row header or a panel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PanelOrRow {
    Row(Row),
    Panel(Box<Panel>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Row {
    /// Always `row`.
    #[serde(rename = "type")]
    pub kind: RowKind,
    pub id: u32,
    pub title: Text,
    pub collapsed: bool,
    pub grid_pos: GridPos,
    /// The row's panels when collapsed; empty when expanded (they follow it).
    pub panels: Vec<Panel>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RowKind {
    Row,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridPos {
    pub h: u32,
    pub w: u32,
    pub x: u32,
    pub y: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Panel {
    #[serde(rename = "type")]
    pub kind: PanelKind,
    pub id: u32,
    pub title: Text,
    pub description: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datasource: Option<DatasourceRef>,
    pub grid_pos: GridPos,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<Target>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transformations: Vec<Transformation>,
    pub field_config: FieldConfigSource,
    pub options: PanelOptions,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PanelKind {
    Timeseries,
    Stat,
    Table,
    Text,
    Dashlist,
}

/// A Prometheus query of a panel (it queries the panel's datasource).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Target {
    pub expr: Text,
    pub legend_format: Text,
    pub ref_id: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<QueryFormat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instant: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryFormat {
    TimeSeries,
    Table,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transformation {
    pub id: Text,
    pub options: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldConfigSource {
    pub defaults: FieldConfig,
    pub overrides: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FieldConfig {
    pub unit: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decimals: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_value: Option<Text>,
    /// Grafana's default (the classic palette) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<FieldColor>,
    /// Only where a threshold is drawn or colours a value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thresholds: Option<Thresholds>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    pub custom: CustomFieldConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FieldColor {
    pub mode: Text,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    pub mode: Text,
    pub steps: Vec<Threshold>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    pub color: Text,
    pub value: Option<f64>,
}

/// `fieldConfig.defaults.custom`, by panel type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CustomFieldConfig {
    Timeseries(TimeseriesFieldConfig),
    Table(TableFieldConfig),
    None(Empty),
}

/// `{}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TimeseriesFieldConfig {
    pub fill_opacity: u8,
    pub show_points: Text,
    /// Present when a threshold is drawn (`dashed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thresholds_style: Option<ThresholdsStyle>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdsStyle {
    pub mode: Text,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TableFieldConfig {
    pub align: Text,
    pub inspect: bool,
    pub filterable: bool,
}

/// `options`, by panel type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PanelOptions {
    Timeseries(TimeseriesOptions),
    Stat(StatOptions),
    Table(TableOptions),
    Text(TextOptions),
    Dashlist(DashlistOptions),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeseriesOptions {
    pub legend: Legend,
    pub tooltip: Tooltip,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Legend {
    pub display_mode: Text,
    pub placement: Text,
    pub show_legend: bool,
    pub calcs: Vec<Text>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tooltip {
    pub mode: Text,
    pub sort: Text,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StatOptions {
    pub graph_mode: Text,
    pub color_mode: Text,
    pub justify_mode: Text,
    pub text_mode: Text,
    pub wide_layout: bool,
    pub show_percent_change: bool,
    pub percent_change_color_mode: Text,
    pub orientation: Text,
    pub reduce_options: ReduceOptions,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReduceOptions {
    pub calcs: Vec<Text>,
    pub fields: Text,
    pub values: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TableOptions {
    pub frame_index: u32,
    pub show_header: bool,
    pub cell_height: Text,
    pub footer: TableFooter,
    pub sort_by: Vec<TableSortBy>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TableFooter {
    pub show: bool,
    pub reducer: Vec<Text>,
    pub count_rows: bool,
    pub enable_pagination: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TableSortBy {
    pub display_name: Text,
    pub desc: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextOptions {
    pub mode: Text,
    pub content: Text,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DashlistOptions {
    pub keep_time: bool,
    pub include_vars: bool,
    pub show_starred: bool,
    pub show_recently_viewed: bool,
    pub show_search: bool,
    pub show_headings: bool,
    pub show_folder_names: bool,
    pub max_items: u32,
    pub query: Text,
    pub tags: Vec<Text>,
}
