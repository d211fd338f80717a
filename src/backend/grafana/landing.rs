//! The landing dashboard, Grafana's home: every service × environment in
//! one searchable table, and a row per team listing its dashboards.
//!
//! The table is driven by data, not by the file: its rows come from the
//! `obsgen_service_info` recording (one series per service and environment,
//! written by the rules backend) merged with the request recordings and
//! `up`, so the dashboard's size does not grow with the number of services
//! and Grafana renders 10,000 services as one paginated table.

use serde_json::{Map, Value, json};

use super::dashboard_json::{
    Dashboard, Link, SCHEMA_VERSION, Templating, TimeRange, Transformation,
};
use super::layout::{Layout, RowId};
use super::panels::{self, Query};
use super::service_dashboard::{
    HOME_UID, builtin_annotations, datasource_variable, markdown_text, team_tag,
};
use crate::model::Model;

/// The info recording behind the table.
pub use crate::backend::prometheus::rules::SERVICE_INFO;

/// Columns of the table, in order.
const COLUMNS: &[(&str, &str)] = &[
    ("team", "team"),
    ("service", "service"),
    ("env", "environment"),
    ("language", "language"),
    ("framework", "framework"),
    ("tier", "tier"),
    ("Value #B", "requests/s"),
    ("Value #C", "error ratio"),
    ("Value #D", "targets up"),
    ("dashboard", "dashboard"),
];

pub fn dashboard(model: &Model) -> Dashboard {
    let mut layout = Layout::new();
    layout.row(RowId(1000), "Services", false);
    layout.panel(services_table(model), 24, 20);
    let team_base = 10_000;
    // Services per team in one pass, not one scan of every service per team.
    let mut owned_by: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for service in &model.services {
        *owned_by.entry(service.team.as_str()).or_default() += 1;
    }
    for (index, team) in model.platform.teams.iter().enumerate() {
        let owned = owned_by
            .get(team.name.as_str())
            .copied()
            .unwrap_or_default();
        layout.row(
            RowId(team_base + 10 * index as u32),
            format!("Team {} ({owned} services)", team.name),
            true,
        );
        layout.panel(
            panels::dashboard_list(
                format!("Dashboards of {}", team.name),
                format!(
                    "The dashboards of team {}'s services (tag `{}`).",
                    markdown_text(&team.name),
                    team_tag(&team.name)
                ),
                team_tag(&team.name),
            ),
            24,
            8,
        );
    }
    Dashboard {
        uid: HOME_UID.into(),
        title: format!("{} services", model.platform.name).into(),
        description: "Every service and environment the platform compiles, with its current traffic and health.".into(),
        tags: vec!["obsgen".into()],
        timezone: "browser".into(),
        editable: false,
        graph_tooltip: 0,
        time: TimeRange {
            from: "now-1h".into(),
            to: "now".into(),
        },
        refresh: "1m".into(),
        schema_version: SCHEMA_VERSION,
        templating: Templating {
            list: vec![datasource_variable(model)],
        },
        annotations: builtin_annotations(),
        links: vec![Link::tagged("Service dashboards", vec!["obsgen".into()])],
        panels: layout.finish(),
    }
}

/// A row's traces in the tracing UI: the platform's template with the
/// row's service and environment (service and environment names are
/// URL-safe as they are). Rows of services that turned tracing off lead to
/// an empty search.
fn traces_link(model: &Model) -> Option<Link> {
    let template = model.platform.tracing.as_ref()?.service_url.as_deref()?;
    let url = crate::model::naming::expand_traces_url(
        template,
        "${__data.fields.service}",
        "${__data.fields.environment}",
    );
    Some(Link {
        keep_time: false,
        ..Link::external(
            "Traces of ${__data.fields.service} in ${__data.fields.environment}",
            "The service's traces in the tracing UI, on this environment",
            url,
        )
    })
}

/// The label set of a table row, on every query, so that Grafana's `merge`
/// joins the queries row by row.
const KEY: &str = "service, env";

fn services_table(model: &Model) -> super::dashboard_json::Panel {
    let by_service = |inner: &str, aggregate: &str| {
        format!(
            "{aggregate} by ({KEY}) (label_replace({inner}, \"service\", \"$1\", \"job\", \"(.*)\"))"
        )
    };
    let queries = vec![
        Query::new(
            format!("max by ({KEY}, team, language, framework, tier, dashboard) ({SERVICE_INFO})"),
            "",
        ),
        Query::new(by_service("job_env:requests:rate5m", "sum"), ""),
        Query::new(by_service("job_env:request_errors:ratio_rate5m", "max"), ""),
        Query::new(format!("sum by ({KEY}) (up{{service!=\"\"}})"), ""),
    ];
    let mut rename = Map::new();
    let mut index = Map::new();
    for (position, (field, title)) in COLUMNS.iter().enumerate() {
        if field != title {
            rename.insert((*field).into(), Value::from(*title));
        }
        index.insert((*field).into(), Value::from(position));
    }
    let object = |value: Value| match value {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    let transformations = vec![
        Transformation {
            id: "merge".into(),
            options: Map::new(),
        },
        Transformation {
            id: "organize".into(),
            options: object(json!({
                "excludeByName": {"Time": true, "Value #A": true},
                "indexByName": index,
                "renameByName": rename,
            })),
        },
        Transformation {
            id: "sortBy".into(),
            options: object(json!({
                "fields": {},
                "sort": [{"field": "team", "desc": false}, {"field": "service", "desc": false}],
            })),
        },
    ];
    let link = Link {
        target_blank: false,
        ..Link::url(
            "Open ${__data.fields.service} in ${__data.fields.environment}",
            "The service's dashboard, on this environment",
            "/d/${__data.fields.dashboard}/${__data.fields.service}?var-env=${__data.fields.environment}",
        )
    };
    let mut links = vec![link];
    let traces = traces_link(model);
    let description = format!(
        "Every service in every environment: owner, runtime, current request rate, error ratio and targets up. Filter any column from its header; click a row to open the service's dashboard on that environment{}.",
        if traces.is_some() {
            ", or its traces"
        } else {
            ""
        }
    );
    links.extend(traces);
    panels::table(
        "Services",
        description,
        queries,
        transformations,
        "team",
        links,
    )
}
