//! Dashboards written as pretty JSON field by field: the same bytes as
//! serde gives for the [`dashboard_json`](super::dashboard_json) types, at
//! a fraction of the cost.
//!
//! Why: a service dashboard is about a thousand keys, and serde writes
//! each through its string escaper; dashboards were the largest single
//! cost of a fresh build (`docs/performance.md`). Every type here is
//! destructured without `..`, so a field added to a type does not compile
//! until it is written here; the tests compare the bytes with serde's on
//! every dashboard of the example platforms and on hostile strings.

use super::dashboard_json::{
    Annotation, Annotations, CustomFieldConfig, Dashboard, DashlistOptions, DatasourceRef, Empty,
    FieldColor, FieldConfig, FieldConfigSource, GridPos, Legend, Link, LinkKind, Panel, PanelKind,
    PanelOptions, PanelOrRow, QueryFormat, ReduceOptions, Row, RowKind, StatOptions,
    TableFieldConfig, TableFooter, TableOptions, TableSortBy, Target, Templating, TextOptions,
    Threshold, Thresholds, ThresholdsStyle, TimeRange, TimeseriesFieldConfig, TimeseriesOptions,
    Tooltip, Transformation, Variable, VariableKind, VariableOption,
};
use crate::output::OutputError;
use crate::output::json::JsonWriter;

/// `dashboard` as pretty JSON with a final newline.
pub fn dashboard_json(dashboard: &Dashboard, capacity: usize) -> Result<Vec<u8>, OutputError> {
    let mut writer = JsonWriter::with_capacity(capacity);
    dashboard.write(&mut writer)?;
    Ok(writer.into_bytes())
}

/// A value that writes itself into a [`JsonWriter`].
trait WriteJson {
    fn write(&self, w: &mut JsonWriter) -> Result<(), OutputError>;
}

impl WriteJson for str {
    fn write(&self, w: &mut JsonWriter) -> Result<(), OutputError> {
        w.string(self);
        Ok(())
    }
}

impl WriteJson for bool {
    fn write(&self, w: &mut JsonWriter) -> Result<(), OutputError> {
        w.bool(*self);
        Ok(())
    }
}

impl WriteJson for u8 {
    fn write(&self, w: &mut JsonWriter) -> Result<(), OutputError> {
        w.unsigned(u64::from(*self));
        Ok(())
    }
}

impl WriteJson for u32 {
    fn write(&self, w: &mut JsonWriter) -> Result<(), OutputError> {
        w.unsigned(u64::from(*self));
        Ok(())
    }
}

impl<T: WriteJson + ?Sized> WriteJson for std::borrow::Cow<'_, T>
where
    T: ToOwned,
{
    fn write(&self, w: &mut JsonWriter) -> Result<(), OutputError> {
        self.as_ref().write(w)
    }
}

impl<T: WriteJson> WriteJson for Vec<T> {
    fn write(&self, w: &mut JsonWriter) -> Result<(), OutputError> {
        w.begin_array();
        for item in self {
            w.element();
            item.write(w)?;
        }
        w.end_array();
        Ok(())
    }
}

impl<T: WriteJson + ?Sized> WriteJson for Box<T> {
    fn write(&self, w: &mut JsonWriter) -> Result<(), OutputError> {
        self.as_ref().write(w)
    }
}

/// A field that is always written.
fn field(w: &mut JsonWriter, key: &'static str, value: &impl WriteJson) -> Result<(), OutputError> {
    w.key(key);
    value.write(w)
}

/// A field skipped when `None` (`skip_serializing_if = "Option::is_none"`).
fn optional(
    w: &mut JsonWriter,
    key: &'static str,
    value: &Option<impl WriteJson>,
) -> Result<(), OutputError> {
    match value {
        Some(value) => field(w, key, value),
        None => Ok(()),
    }
}

/// A list skipped when empty (`skip_serializing_if = "Vec::is_empty"`).
fn listed<T: WriteJson>(
    w: &mut JsonWriter,
    key: &'static str,
    value: &Vec<T>,
) -> Result<(), OutputError> {
    if value.is_empty() {
        return Ok(());
    }
    field(w, key, value)
}

/// A number with a fraction, or null, through serde (as serde writes it).
fn float(w: &mut JsonWriter, key: &'static str, value: &Option<f64>) -> Result<(), OutputError> {
    w.key(key);
    w.serde(value)
}

/// Writes an object whose fields `body` writes.
fn object(
    w: &mut JsonWriter,
    body: impl FnOnce(&mut JsonWriter) -> Result<(), OutputError>,
) -> Result<(), OutputError> {
    w.begin_object();
    body(w)?;
    w.end_object();
    Ok(())
}

/// A unit enum written as its serde name.
struct Name(&'static str);

impl WriteJson for Name {
    fn write(&self, w: &mut JsonWriter) -> Result<(), OutputError> {
        w.string(self.0);
        Ok(())
    }
}

impl WriteJson for Dashboard {
    fn write(&self, w: &mut JsonWriter) -> Result<(), OutputError> {
        let Dashboard {
            uid,
            title,
            description,
            tags,
            timezone,
            editable,
            graph_tooltip,
            time,
            refresh,
            schema_version,
            templating,
            annotations,
            links,
            panels,
        } = self;
        object(w, |w| {
            field(w, "uid", uid)?;
            field(w, "title", title)?;
            field(w, "description", description)?;
            field(w, "tags", tags)?;
            field(w, "timezone", timezone)?;
            field(w, "editable", editable)?;
            field(w, "graphTooltip", graph_tooltip)?;
            field(w, "time", time)?;
            field(w, "refresh", refresh)?;
            field(w, "schemaVersion", schema_version)?;
            field(w, "templating", templating)?;
            field(w, "annotations", annotations)?;
            field(w, "links", links)?;
            field(w, "panels", panels)
        })
    }
}

impl WriteJson for TimeRange {
    fn write(&self, w: &mut JsonWriter) -> Result<(), OutputError> {
        let TimeRange { from, to } = self;
        object(w, |w| {
            field(w, "from", from)?;
            field(w, "to", to)
        })
    }
}

impl WriteJson for Templating {
    fn write(&self, w: &mut JsonWriter) -> Result<(), OutputError> {
        let Templating { list } = self;
        object(w, |w| field(w, "list", list))
    }
}

impl WriteJson for Annotations {
    fn write(&self, w: &mut JsonWriter) -> Result<(), OutputError> {
        let Annotations { list } = self;
        object(w, |w| field(w, "list", list))
    }
}

impl WriteJson for Annotation {
    fn write(&self, w: &mut JsonWriter) -> Result<(), OutputError> {
        let Annotation {
            built_in,
            datasource,
            enable,
            hide,
            icon_color,
            name,
            kind,
        } = self;
        object(w, |w| {
            field(w, "builtIn", built_in)?;
            field(w, "datasource", datasource)?;
            field(w, "enable", enable)?;
            field(w, "hide", hide)?;
            field(w, "iconColor", icon_color)?;
            field(w, "name", name)?;
            field(w, "type", kind)
        })
    }
}

impl WriteJson for DatasourceRef {
    fn write(&self, w: &mut JsonWriter) -> Result<(), OutputError> {
        let DatasourceRef { kind, uid } = self;
        object(w, |w| {
            field(w, "type", kind)?;
            field(w, "uid", uid)
        })
    }
}

impl WriteJson for Variable {
    fn write(&self, w: &mut JsonWriter) -> Result<(), OutputError> {
        let Variable {
            kind,
            name,
            label,
            hide,
            query,
            datasource,
            current,
            options,
            multi,
            include_all,
            all_value,
            refresh,
            regex,
            sort,
        } = self;
        let kind = Name(match kind {
            VariableKind::Datasource => "datasource",
            VariableKind::Custom => "custom",
            VariableKind::Query => "query",
        });
        object(w, |w| {
            field(w, "type", &kind)?;
            field(w, "name", name)?;
            field(w, "label", label)?;
            field(w, "hide", hide)?;
            field(w, "query", query)?;
            optional(w, "datasource", datasource)?;
            optional(w, "current", current)?;
            listed(w, "options", options)?;
            field(w, "multi", multi)?;
            field(w, "includeAll", include_all)?;
            optional(w, "allValue", all_value)?;
            optional(w, "refresh", refresh)?;
            if !regex.is_empty() {
                field(w, "regex", regex)?;
            }
            optional(w, "sort", sort)
        })
    }
}

impl WriteJson for VariableOption {
    fn write(&self, w: &mut JsonWriter) -> Result<(), OutputError> {
        let VariableOption {
            selected,
            text,
            value,
        } = self;
        object(w, |w| {
            field(w, "selected", selected)?;
            field(w, "text", text)?;
            field(w, "value", value)
        })
    }
}

impl WriteJson for Link {
    fn write(&self, w: &mut JsonWriter) -> Result<(), OutputError> {
        let Link {
            title,
            kind,
            icon,
            tooltip,
            url,
            tags,
            as_dropdown,
            target_blank,
            include_vars,
            keep_time,
        } = self;
        let kind = Name(match kind {
            LinkKind::Link => "link",
            LinkKind::Dashboards => "dashboards",
        });
        object(w, |w| {
            field(w, "title", title)?;
            field(w, "type", &kind)?;
            field(w, "icon", icon)?;
            field(w, "tooltip", tooltip)?;
            optional(w, "url", url)?;
            field(w, "tags", tags)?;
            field(w, "asDropdown", as_dropdown)?;
            field(w, "targetBlank", target_blank)?;
            field(w, "includeVars", include_vars)?;
            field(w, "keepTime", keep_time)
        })
    }
}

impl WriteJson for PanelOrRow {
    fn write(&self, w: &mut JsonWriter) -> Result<(), OutputError> {
        match self {
            PanelOrRow::Row(row) => row.write(w),
            PanelOrRow::Panel(panel) => panel.write(w),
        }
    }
}

impl WriteJson for Row {
    fn write(&self, w: &mut JsonWriter) -> Result<(), OutputError> {
        let Row {
            kind,
            id,
            title,
            collapsed,
            grid_pos,
            panels,
        } = self;
        let kind = Name(match kind {
            RowKind::Row => "row",
        });
        object(w, |w| {
            field(w, "type", &kind)?;
            field(w, "id", id)?;
            field(w, "title", title)?;
            field(w, "collapsed", collapsed)?;
            grid(w, grid_pos)?;
            field(w, "panels", panels)
        })
    }
}

/// `gridPos`, written at once.
fn grid(w: &mut JsonWriter, grid_pos: &GridPos) -> Result<(), OutputError> {
    let GridPos { h, w: width, x, y } = grid_pos;
    w.key("gridPos");
    object(w, |w| {
        field(w, "h", h)?;
        field(w, "w", width)?;
        field(w, "x", x)?;
        field(w, "y", y)
    })
}

impl WriteJson for Panel {
    fn write(&self, w: &mut JsonWriter) -> Result<(), OutputError> {
        let Panel {
            kind,
            id,
            title,
            description,
            datasource,
            grid_pos,
            targets,
            links,
            transformations,
            field_config,
            options,
        } = self;
        let kind = Name(match kind {
            PanelKind::Timeseries => "timeseries",
            PanelKind::Stat => "stat",
            PanelKind::Table => "table",
            PanelKind::Text => "text",
            PanelKind::Dashlist => "dashlist",
        });
        object(w, |w| {
            field(w, "type", &kind)?;
            field(w, "id", id)?;
            field(w, "title", title)?;
            field(w, "description", description)?;
            optional(w, "datasource", datasource)?;
            grid(w, grid_pos)?;
            listed(w, "targets", targets)?;
            listed(w, "links", links)?;
            listed(w, "transformations", transformations)?;
            field(w, "fieldConfig", field_config)?;
            field(w, "options", options)
        })
    }
}

impl WriteJson for Target {
    fn write(&self, w: &mut JsonWriter) -> Result<(), OutputError> {
        let Target {
            expr,
            legend_format,
            ref_id,
            format,
            instant,
            range,
        } = self;
        let format = format.map(|format| {
            Name(match format {
                QueryFormat::TimeSeries => "time_series",
                QueryFormat::Table => "table",
            })
        });
        object(w, |w| {
            field(w, "expr", expr)?;
            field(w, "legendFormat", legend_format)?;
            field(w, "refId", ref_id)?;
            optional(w, "format", &format)?;
            optional(w, "instant", instant)?;
            optional(w, "range", range)
        })
    }
}

impl WriteJson for Transformation {
    fn write(&self, w: &mut JsonWriter) -> Result<(), OutputError> {
        let Transformation { id, options } = self;
        object(w, |w| {
            field(w, "id", id)?;
            w.key("options");
            w.serde(options)
        })
    }
}

impl WriteJson for FieldConfigSource {
    fn write(&self, w: &mut JsonWriter) -> Result<(), OutputError> {
        let FieldConfigSource {
            defaults,
            overrides,
        } = self;
        object(w, |w| {
            field(w, "defaults", defaults)?;
            w.key("overrides");
            w.serde(overrides)
        })
    }
}

impl WriteJson for FieldConfig {
    fn write(&self, w: &mut JsonWriter) -> Result<(), OutputError> {
        let FieldConfig {
            unit,
            decimals,
            min,
            max,
            no_value,
            color,
            thresholds,
            links,
            custom,
        } = self;
        object(w, |w| {
            field(w, "unit", unit)?;
            optional(w, "decimals", decimals)?;
            if min.is_some() {
                float(w, "min", min)?;
            }
            if max.is_some() {
                float(w, "max", max)?;
            }
            optional(w, "noValue", no_value)?;
            optional(w, "color", color)?;
            optional(w, "thresholds", thresholds)?;
            listed(w, "links", links)?;
            field(w, "custom", custom)
        })
    }
}

impl WriteJson for FieldColor {
    fn write(&self, w: &mut JsonWriter) -> Result<(), OutputError> {
        let FieldColor { mode } = self;
        object(w, |w| field(w, "mode", mode))
    }
}

impl WriteJson for Thresholds {
    fn write(&self, w: &mut JsonWriter) -> Result<(), OutputError> {
        let Thresholds { mode, steps } = self;
        object(w, |w| {
            field(w, "mode", mode)?;
            field(w, "steps", steps)
        })
    }
}

impl WriteJson for Threshold {
    fn write(&self, w: &mut JsonWriter) -> Result<(), OutputError> {
        let Threshold { color, value } = self;
        object(w, |w| {
            field(w, "color", color)?;
            float(w, "value", value)
        })
    }
}

impl WriteJson for CustomFieldConfig {
    fn write(&self, w: &mut JsonWriter) -> Result<(), OutputError> {
        match self {
            CustomFieldConfig::Timeseries(config) => config.write(w),
            CustomFieldConfig::Table(config) => config.write(w),
            CustomFieldConfig::None(Empty {}) => object(w, |_| Ok(())),
        }
    }
}

impl WriteJson for TimeseriesFieldConfig {
    fn write(&self, w: &mut JsonWriter) -> Result<(), OutputError> {
        let TimeseriesFieldConfig {
            fill_opacity,
            show_points,
            thresholds_style,
        } = self;
        object(w, |w| {
            field(w, "fillOpacity", fill_opacity)?;
            field(w, "showPoints", show_points)?;
            optional(w, "thresholdsStyle", thresholds_style)
        })
    }
}

impl WriteJson for ThresholdsStyle {
    fn write(&self, w: &mut JsonWriter) -> Result<(), OutputError> {
        let ThresholdsStyle { mode } = self;
        object(w, |w| field(w, "mode", mode))
    }
}

impl WriteJson for TableFieldConfig {
    fn write(&self, w: &mut JsonWriter) -> Result<(), OutputError> {
        let TableFieldConfig {
            align,
            inspect,
            filterable,
        } = self;
        object(w, |w| {
            field(w, "align", align)?;
            field(w, "inspect", inspect)?;
            field(w, "filterable", filterable)
        })
    }
}

impl WriteJson for PanelOptions {
    fn write(&self, w: &mut JsonWriter) -> Result<(), OutputError> {
        match self {
            PanelOptions::Timeseries(options) => options.write(w),
            PanelOptions::Stat(options) => options.write(w),
            PanelOptions::Table(options) => options.write(w),
            PanelOptions::Text(options) => options.write(w),
            PanelOptions::Dashlist(options) => options.write(w),
        }
    }
}

impl WriteJson for TimeseriesOptions {
    fn write(&self, w: &mut JsonWriter) -> Result<(), OutputError> {
        let TimeseriesOptions { legend, tooltip } = self;
        object(w, |w| {
            field(w, "legend", legend)?;
            field(w, "tooltip", tooltip)
        })
    }
}

impl WriteJson for Legend {
    fn write(&self, w: &mut JsonWriter) -> Result<(), OutputError> {
        let Legend {
            display_mode,
            placement,
            show_legend,
            calcs,
        } = self;
        object(w, |w| {
            field(w, "displayMode", display_mode)?;
            field(w, "placement", placement)?;
            field(w, "showLegend", show_legend)?;
            field(w, "calcs", calcs)
        })
    }
}

impl WriteJson for Tooltip {
    fn write(&self, w: &mut JsonWriter) -> Result<(), OutputError> {
        let Tooltip { mode, sort } = self;
        object(w, |w| {
            field(w, "mode", mode)?;
            field(w, "sort", sort)
        })
    }
}

impl WriteJson for StatOptions {
    fn write(&self, w: &mut JsonWriter) -> Result<(), OutputError> {
        let StatOptions {
            graph_mode,
            color_mode,
            justify_mode,
            text_mode,
            wide_layout,
            show_percent_change,
            percent_change_color_mode,
            orientation,
            reduce_options,
        } = self;
        object(w, |w| {
            field(w, "graphMode", graph_mode)?;
            field(w, "colorMode", color_mode)?;
            field(w, "justifyMode", justify_mode)?;
            field(w, "textMode", text_mode)?;
            field(w, "wideLayout", wide_layout)?;
            field(w, "showPercentChange", show_percent_change)?;
            field(w, "percentChangeColorMode", percent_change_color_mode)?;
            field(w, "orientation", orientation)?;
            field(w, "reduceOptions", reduce_options)
        })
    }
}

impl WriteJson for ReduceOptions {
    fn write(&self, w: &mut JsonWriter) -> Result<(), OutputError> {
        let ReduceOptions {
            calcs,
            fields,
            values,
        } = self;
        object(w, |w| {
            field(w, "calcs", calcs)?;
            field(w, "fields", fields)?;
            field(w, "values", values)
        })
    }
}

impl WriteJson for TableOptions {
    fn write(&self, w: &mut JsonWriter) -> Result<(), OutputError> {
        let TableOptions {
            frame_index,
            show_header,
            cell_height,
            footer,
            sort_by,
        } = self;
        object(w, |w| {
            field(w, "frameIndex", frame_index)?;
            field(w, "showHeader", show_header)?;
            field(w, "cellHeight", cell_height)?;
            field(w, "footer", footer)?;
            field(w, "sortBy", sort_by)
        })
    }
}

impl WriteJson for TableFooter {
    fn write(&self, w: &mut JsonWriter) -> Result<(), OutputError> {
        let TableFooter {
            show,
            reducer,
            count_rows,
            enable_pagination,
        } = self;
        object(w, |w| {
            field(w, "show", show)?;
            field(w, "reducer", reducer)?;
            field(w, "countRows", count_rows)?;
            field(w, "enablePagination", enable_pagination)
        })
    }
}

impl WriteJson for TableSortBy {
    fn write(&self, w: &mut JsonWriter) -> Result<(), OutputError> {
        let TableSortBy { display_name, desc } = self;
        object(w, |w| {
            field(w, "displayName", display_name)?;
            field(w, "desc", desc)
        })
    }
}

impl WriteJson for TextOptions {
    fn write(&self, w: &mut JsonWriter) -> Result<(), OutputError> {
        let TextOptions { mode, content } = self;
        object(w, |w| {
            field(w, "mode", mode)?;
            field(w, "content", content)
        })
    }
}

impl WriteJson for DashlistOptions {
    fn write(&self, w: &mut JsonWriter) -> Result<(), OutputError> {
        let DashlistOptions {
            keep_time,
            include_vars,
            show_starred,
            show_recently_viewed,
            show_search,
            show_headings,
            show_folder_names,
            max_items,
            query,
            tags,
        } = self;
        object(w, |w| {
            field(w, "keepTime", keep_time)?;
            field(w, "includeVars", include_vars)?;
            field(w, "showStarred", show_starred)?;
            field(w, "showRecentlyViewed", show_recently_viewed)?;
            field(w, "showSearch", show_search)?;
            field(w, "showHeadings", show_headings)?;
            field(w, "showFolderNames", show_folder_names)?;
            field(w, "maxItems", max_items)?;
            field(w, "query", query)?;
            field(w, "tags", tags)
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::backend::grafana::tests::example;
    use crate::backend::grafana::{callers, landing, service_dashboard};
    use crate::output::json::pretty;

    /// Every dashboard of the example platforms: the landing page and one
    /// per service.
    fn example_dashboards() -> Vec<Dashboard> {
        let mut dashboards = Vec::new();
        for name in ["acme", "acme-operator", "helloworld"] {
            let model = example(name);
            let callers = callers(&model);
            dashboards.push(landing::dashboard(&model));
            for service in &model.services {
                let called = callers
                    .get(service.name.as_str())
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                dashboards.push(service_dashboard(&model, service, called));
            }
        }
        dashboards
    }

    fn assert_same_bytes(dashboard: &Dashboard) {
        let by_serde = String::from_utf8(pretty(dashboard, 0).unwrap()).unwrap();
        let written = String::from_utf8(dashboard_json(dashboard, 0).unwrap()).unwrap();
        assert_eq!(written, by_serde, "{}", dashboard.uid);
    }

    #[test]
    fn every_example_dashboard_is_written_as_serde_writes_it() {
        let dashboards = example_dashboards();
        assert!(dashboards.len() > 10, "{}", dashboards.len());
        for dashboard in &dashboards {
            assert_same_bytes(dashboard);
        }
    }

    /// Strings that need every kind of escape, fractions at the edges of
    /// number formatting and the largest integers, put into every string
    /// and number of real dashboards (the enumerations kept).
    #[test]
    fn hostile_strings_and_numbers_are_written_as_serde_writes_them() {
        let strings = [
            "\"quoted\" and \\back\\slashed\\",
            "line\nbreak\r\ttab \u{8}\u{c}",
            "\u{0}\u{1}\u{1f}\u{7f} controls",
            "ünïcödé ✓ 🚀 \u{2028}\u{2029}",
            "</script><!-- {{ $x }} ${datasource}",
            "",
            "'single' `back`",
        ];
        let floats = [0.1, 1e21, 1e-7, -0.0, 123456789.125, 99.95, f64::MAX];
        let enumerations = ["type", "format"];
        fn replace(
            value: &mut Value,
            key: Option<&str>,
            next: &mut usize,
            strings: &[&str],
            floats: &[f64],
            keep: &[&str],
        ) {
            *next += 1;
            match value {
                Value::String(text) if !key.is_some_and(|key| keep.contains(&key)) => {
                    *text = strings[*next % strings.len()].to_string();
                }
                Value::Number(number) if number.is_f64() => {
                    *value = serde_json::json!(floats[*next % floats.len()]);
                }
                Value::Number(number) if number.is_u64() && key == Some("id") => {
                    *value = serde_json::json!(u32::MAX);
                }
                Value::Array(items) => {
                    for item in items {
                        replace(item, key, next, strings, floats, keep);
                    }
                }
                Value::Object(object) => {
                    for (key, item) in object.iter_mut() {
                        replace(item, Some(key), next, strings, floats, keep);
                    }
                }
                _ => {}
            }
        }
        let mut changed = 0;
        for (index, dashboard) in example_dashboards().into_iter().enumerate() {
            let mut value = serde_json::to_value(&dashboard).unwrap();
            let mut next = index;
            replace(
                &mut value,
                None,
                &mut next,
                &strings,
                &floats,
                &enumerations,
            );
            let hostile: Dashboard = serde_json::from_value(value).unwrap();
            assert_ne!(hostile, dashboard);
            assert_same_bytes(&hostile);
            changed += 1;
        }
        assert!(changed > 10);
    }
}
