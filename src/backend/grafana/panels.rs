//! Panel constructors: the few kinds of panel obsgen draws, with Grafana's
//! defaults written out once.
//!
//! Every panel queries through the dashboard's `datasource` variable, has a
//! title, a description and a unit; the layout ([`super::layout`]) gives it
//! its id and position.

use super::dashboard_json::Text;
use super::dashboard_json::{
    CustomFieldConfig, DashlistOptions, DatasourceRef, Empty, FieldColor, FieldConfig,
    FieldConfigSource, GridPos, Legend, Link, Panel, PanelKind, PanelOptions, QueryFormat,
    ReduceOptions, StatOptions, TableFieldConfig, TableFooter, TableOptions, TableSortBy, Target,
    TextOptions, Threshold, Thresholds, ThresholdsStyle, TimeseriesFieldConfig, TimeseriesOptions,
    Tooltip, Transformation,
};

/// A PromQL query and the legend of its series.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub expr: Text,
    pub legend: Text,
}

impl Query {
    pub fn new(expr: impl Into<Text>, legend: impl Into<Text>) -> Self {
        Self {
            expr: expr.into(),
            legend: legend.into(),
        }
    }
}

/// Grafana's units obsgen uses (ids of Grafana's unit registry).
pub mod unit {
    pub const REQUESTS_PER_SECOND: &str = "reqps";
    pub const OPERATIONS_PER_SECOND: &str = "ops";
    pub const RATIO: &str = "percentunit";
    pub const SECONDS: &str = "s";
    pub const BYTES: &str = "bytes";
    pub const BYTES_PER_SECOND: &str = "Bps";
    pub const CORES: &str = "short";
    pub const COUNT: &str = "short";
    pub const NONE: &str = "none";
}

fn targets(queries: Vec<Query>, table: bool) -> Vec<Target> {
    queries
        .into_iter()
        .enumerate()
        .map(|(index, query)| Target {
            expr: query.expr,
            legend_format: query.legend,
            ref_id: ref_id(index),
            format: table.then_some(QueryFormat::Table),
            instant: table.then_some(true),
            range: table.then_some(false),
        })
        .collect()
}

/// `A`, `B`, ... `Z`, `AA`, ...
fn ref_id(index: usize) -> Text {
    const LETTERS: [&str; 26] = [
        "A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O", "P", "Q", "R",
        "S", "T", "U", "V", "W", "X", "Y", "Z",
    ];
    let letter = |i: usize| char::from(b'A' + (i % 26) as u8);
    match LETTERS.get(index) {
        Some(letter) => Text::Borrowed(letter),
        None => format!("{}{}", letter(index / 26 - 1), letter(index)).into(),
    }
}

fn thresholds(steps: &[(f64, &'static str)]) -> Thresholds {
    let mut list = vec![Threshold {
        color: "green".into(),
        value: None,
    }];
    list.extend(steps.iter().map(|(value, color)| Threshold {
        color: (*color).into(),
        value: Some(*value),
    }));
    Thresholds {
        mode: "absolute".into(),
        steps: list,
    }
}

fn field_config(unit: impl Into<Text>, custom: CustomFieldConfig) -> FieldConfig {
    FieldConfig {
        unit: unit.into(),
        decimals: None,
        min: None,
        max: None,
        no_value: None,
        color: None,
        thresholds: None,
        links: Vec::new(),
        custom,
    }
}

fn panel(
    kind: PanelKind,
    title: impl Into<Text>,
    description: impl Into<Text>,
    targets: Vec<Target>,
    defaults: FieldConfig,
    options: PanelOptions,
) -> Panel {
    Panel {
        kind,
        id: 0,
        title: title.into(),
        description: description.into(),
        datasource: (!targets.is_empty()).then(DatasourceRef::templated),
        grid_pos: GridPos {
            h: 1,
            w: 1,
            x: 0,
            y: 0,
        },
        targets,
        links: Vec::new(),
        transformations: Vec::new(),
        field_config: FieldConfigSource {
            defaults,
            overrides: Vec::new(),
        },
        options,
    }
}

/// A graph over time.
pub fn timeseries(
    title: impl Into<Text>,
    description: impl Into<Text>,
    unit: impl Into<Text>,
    queries: Vec<Query>,
) -> Panel {
    let custom = CustomFieldConfig::Timeseries(TimeseriesFieldConfig {
        fill_opacity: 10,
        show_points: "never".into(),
        thresholds_style: None,
    });
    panel(
        PanelKind::Timeseries,
        title,
        description,
        targets(queries, false),
        field_config(unit, custom),
        PanelOptions::Timeseries(TimeseriesOptions {
            legend: Legend {
                display_mode: "list".into(),
                placement: "bottom".into(),
                show_legend: true,
                calcs: Vec::new(),
            },
            tooltip: Tooltip {
                mode: "multi".into(),
                sort: "desc".into(),
            },
        }),
    )
}

/// A graph with a dashed line at `threshold` (an alert's or an objective's).
pub fn timeseries_with_threshold(
    title: impl Into<Text>,
    description: impl Into<Text>,
    unit: &'static str,
    queries: Vec<Query>,
    threshold: f64,
) -> Panel {
    let mut panel = timeseries(title, description, unit, queries);
    panel.field_config.defaults.thresholds = Some(thresholds(&[(threshold, "red")]));
    if let CustomFieldConfig::Timeseries(custom) = &mut panel.field_config.defaults.custom {
        custom.thresholds_style = Some(ThresholdsStyle {
            mode: "dashed".into(),
        });
    }
    panel
}

/// One big number (the last value), coloured by `steps` (`value → colour`,
/// green below the first).
fn stat(
    title: impl Into<Text>,
    description: impl Into<Text>,
    unit: &'static str,
    queries: Vec<Query>,
    steps: &[(f64, &'static str)],
) -> Panel {
    let mut defaults = field_config(unit, CustomFieldConfig::None(Empty {}));
    defaults.color = Some(FieldColor {
        mode: "thresholds".into(),
    });
    defaults.thresholds = Some(thresholds(steps));
    defaults.no_value = Some("no data".into());
    panel(
        PanelKind::Stat,
        title,
        description,
        targets(queries, false),
        defaults,
        PanelOptions::Stat(StatOptions {
            graph_mode: "area".into(),
            color_mode: "value".into(),
            justify_mode: "auto".into(),
            text_mode: "auto".into(),
            wide_layout: true,
            show_percent_change: false,
            percent_change_color_mode: "standard".into(),
            orientation: "auto".into(),
            reduce_options: ReduceOptions {
                calcs: vec!["lastNotNull".into()],
                fields: Text::default(),
                values: false,
            },
        }),
    )
}

/// A stat whose colours run the other way: red below the first step.
pub fn stat_low_is_bad(
    title: impl Into<Text>,
    description: impl Into<Text>,
    unit: &'static str,
    queries: Vec<Query>,
    steps: &[(f64, &'static str)],
) -> Panel {
    let mut panel = stat(title, description, unit, queries, steps);
    if let Some(first) = panel
        .field_config
        .defaults
        .thresholds
        .as_mut()
        .and_then(|t| t.steps.first_mut())
    {
        first.color = "red".into();
    }
    panel
}

/// Markdown.
pub fn text(
    title: impl Into<Text>,
    description: impl Into<Text>,
    markdown: impl Into<Text>,
) -> Panel {
    panel(
        PanelKind::Text,
        title,
        description,
        Vec::new(),
        field_config(unit::NONE, CustomFieldConfig::None(Empty {})),
        PanelOptions::Text(TextOptions {
            mode: "markdown".into(),
            content: markdown.into(),
        }),
    )
}

/// A table of instant queries, merged into one row per label set, with
/// filterable columns and `links` on every cell.
pub fn table(
    title: impl Into<Text>,
    description: impl Into<Text>,
    queries: Vec<Query>,
    transformations: Vec<Transformation>,
    sort_by: impl Into<Text>,
    links: Vec<Link>,
) -> Panel {
    let mut defaults = field_config(
        unit::NONE,
        CustomFieldConfig::Table(TableFieldConfig {
            align: "auto".into(),
            inspect: false,
            filterable: true,
        }),
    );
    defaults.decimals = Some(3);
    defaults.links = links;
    let mut panel = panel(
        PanelKind::Table,
        title,
        description,
        targets(queries, true),
        defaults,
        PanelOptions::Table(TableOptions {
            frame_index: 0,
            show_header: true,
            cell_height: "sm".into(),
            footer: TableFooter {
                show: false,
                reducer: vec!["count".into()],
                count_rows: true,
                enable_pagination: true,
            },
            sort_by: vec![TableSortBy {
                display_name: sort_by.into(),
                desc: false,
            }],
        }),
    );
    panel.transformations = transformations;
    panel
}

/// A list of the dashboards carrying `tag`, with a search box.
pub fn dashboard_list(
    title: impl Into<Text>,
    description: impl Into<Text>,
    tag: impl Into<Text>,
) -> Panel {
    panel(
        PanelKind::Dashlist,
        title,
        description,
        Vec::new(),
        field_config(unit::NONE, CustomFieldConfig::None(Empty {})),
        PanelOptions::Dashlist(DashlistOptions {
            keep_time: true,
            include_vars: false,
            show_starred: false,
            show_recently_viewed: false,
            show_search: true,
            show_headings: false,
            show_folder_names: false,
            max_items: 1000,
            query: Text::default(),
            tags: vec![tag.into()],
        }),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn ref_ids_count_like_spreadsheet_columns() {
        assert_eq!(super::ref_id(0), "A");
        assert_eq!(super::ref_id(25), "Z");
        assert_eq!(super::ref_id(26), "AA");
        assert_eq!(super::ref_id(27), "AB");
    }
}
