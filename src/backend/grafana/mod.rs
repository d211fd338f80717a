//! Grafana: a dashboard per service with an environment switch, a landing
//! dashboard, and the provisioning that loads them.
//!
//! Layout of the generated tree:
//!
//! ```text
//! grafana/dashboards/<team>/<service>.json           one per service (uid svc-<service>)
//! grafana/dashboards/home.json                       the landing page (uid obsgen-home)
//! grafana/provisioning/dashboards/obsgen.yaml        file provider, a folder per team
//! grafana/provisioning/datasources/prometheus.yaml   the Prometheus datasource
//! grafana/grafana.ini                                the landing page as home dashboard
//! ```
//!
//! Dashboards are typed values ([`dashboard_json`]) built natively, one per
//! service on every core, and serialized once: no Jsonnet on the default
//! path (see `docs/decisions.md`). The dashboard uid and URL come from the
//! model ([`crate::model::naming::dashboard_uid`]), the same function the
//! alerts' `dashboard_url` annotations use.

pub mod dashboard_json;
pub mod dashboard_writer;
pub mod landing;
pub mod layout;
pub mod lint;
pub mod panels;
pub mod provisioning;
pub mod queries;
pub mod runtime;
pub mod service_dashboard;

use std::collections::{BTreeMap, BTreeSet};

use crate::backend::{Backend, Prepared, RenderContext};
use crate::model::{ExtraPanel, Model, Service};
use crate::output::{OutputError, OutputSet};
use crate::validate::dashboard_library::SERVICE_PLACEHOLDER;
use dashboard_json::Dashboard;

/// The landing dashboard's file name, in the platform's folder.
pub const HOME_FILE: &str = "home.json";

/// `grafana/dashboards/<folder>/home.json`: the file provider makes the
/// platform's folder of it.
pub fn home_file(model: &Model) -> String {
    format!(
        "grafana/dashboards/{}/{HOME_FILE}",
        model.platform.grafana.folder
    )
}

pub struct GrafanaBackend;

impl Backend for GrafanaBackend {
    fn name(&self) -> &'static str {
        "grafana"
    }

    fn prepare<'a>(&'a self, context: &'a RenderContext<'a>) -> Result<Prepared<'a>, OutputError> {
        let model = context.model;
        let mut shared = OutputSet::new();
        provisioning::render(model, &mut shared)?;
        shared.add(home_file(model), to_json(&landing::dashboard(model))?)?;
        let called_by = callers(model);
        Ok(Prepared {
            shared,
            shared_parts: Vec::new(),
            per_service: Some(Box::new(move |service, output| {
                let callers = called_by
                    .get(service.name.as_str())
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                let dashboard = service_dashboard(model, service, callers);
                output.add(dashboard_file(service), to_json(&dashboard)?)
            })),
        })
    }
}

/// The first row id of the platform library's rows; each takes 100 ids.
const LIBRARY_ROWS: u32 = 9000;

/// A service's dashboard, extension panels included: the platform
/// library's rows for the service, then the manifest's extra panels.
pub fn service_dashboard(model: &Model, service: &Service, callers: &[&Service]) -> Dashboard {
    let mut dashboard = service_dashboard::dashboard(model, service, callers);
    let mut titles: BTreeSet<String> = lint::all_panels(&dashboard)
        .map(|p| p.title.to_string())
        .collect();
    let mut row_id = LIBRARY_ROWS;
    for row in &model.platform.grafana.library_rows {
        if !row.applies_to(service) {
            continue;
        }
        let panels = extension_panels(&row.panels, Some(&service.name), &mut titles);
        service_dashboard::add_row(&mut dashboard, layout::RowId(row_id), &row.title, panels);
        row_id += 100;
    }
    let extra = extension_panels(&service.dashboards.extra_panels, None, &mut titles);
    service_dashboard::add_row(
        &mut dashboard,
        service_dashboard::EXTRA,
        "Extra panels",
        extra,
    );
    dashboard
}

/// Panels from one-query specs. Validation keeps their queries lint-clean
/// and their titles unique within a row; a title already on the dashboard
/// gets ` (extra)` appended. With `service`, `{{service}}` is replaced.
fn extension_panels(
    specs: &[ExtraPanel],
    service: Option<&str>,
    titles: &mut BTreeSet<String>,
) -> Vec<dashboard_json::Panel> {
    let fill = |text: &str| match service {
        Some(name) => text.replace(SERVICE_PLACEHOLDER, name),
        None => text.to_string(),
    };
    specs
        .iter()
        .map(|spec| {
            let mut title = fill(&spec.title);
            while titles.contains(&title) {
                title.push_str(" (extra)");
            }
            titles.insert(title.clone());
            let queries = vec![panels::Query::new(fill(&spec.expr), spec.legend.clone())];
            let mut panel =
                panels::timeseries(title, fill(&spec.description), spec.unit.clone(), queries);
            panel.grid_pos.w = 12;
            panel.grid_pos.h = 8;
            panel
        })
        .collect()
}

/// `grafana/dashboards/<team>/<service>.json`.
pub fn dashboard_file(service: &Service) -> String {
    format!("grafana/dashboards/{}/{}.json", service.team, service.name)
}

/// For each service, the services that declare it as a dependency, sorted.
pub fn callers(model: &Model) -> BTreeMap<&str, Vec<&Service>> {
    let mut callers: BTreeMap<&str, Vec<&Service>> = BTreeMap::new();
    for service in &model.services {
        for dependency in service.dependencies.iter().filter(|d| d.internal) {
            callers
                .entry(dependency.name.as_str())
                .or_default()
                .push(service);
        }
    }
    for list in callers.values_mut() {
        list.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        list.dedup_by(|a, b| a.name == b.name);
    }
    callers
}

/// Two-space indented JSON with a final newline, keys in declaration order.
pub fn to_json(dashboard: &Dashboard) -> Result<Vec<u8>, OutputError> {
    dashboard_writer::dashboard_json(dashboard, 64 * 1024)
}

#[cfg(test)]
mod tests {
    use super::dashboard_json::{PanelKind, PanelOrRow};
    use super::*;
    use crate::backend::prometheus::rules;

    /// An example platform's model (also for the dashboard writer's tests).
    pub(super) fn example(name: &str) -> Model {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples")
            .join(name);
        crate::compile::check(&root)
            .expect("loading the example")
            .model
            .expect("the example is valid")
    }

    fn dashboards(model: &Model) -> Vec<(String, Dashboard)> {
        let callers = callers(model);
        model
            .services
            .iter()
            .map(|service| {
                let called = callers
                    .get(service.name.as_str())
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                (
                    service.name.clone(),
                    service_dashboard(model, service, called),
                )
            })
            .collect()
    }

    fn row_titles(dashboard: &Dashboard) -> Vec<String> {
        dashboard
            .panels
            .iter()
            .filter_map(|item| match item {
                PanelOrRow::Row(row) => Some(row.title.to_string()),
                PanelOrRow::Panel(_) => None,
            })
            .collect()
    }

    fn panel_titles(dashboard: &Dashboard) -> BTreeSet<String> {
        lint::all_panels(dashboard)
            .map(|p| p.title.to_string())
            .collect()
    }

    #[test]
    fn every_dashboard_passes_the_lint_and_has_no_overlap() {
        for example_name in ["acme", "acme-operator"] {
            let model = example(example_name);
            for (name, dashboard) in dashboards(&model) {
                assert_eq!(lint::lint_dashboard(&dashboard), Vec::new(), "{name}");
                layout::tests::assert_no_overlap(&dashboard.panels);
            }
            let home = landing::dashboard(&model);
            layout::tests::assert_no_overlap(&home.panels);
        }
    }

    #[test]
    fn dashboards_round_trip_through_the_typed_model() {
        let model = example("acme");
        for (name, dashboard) in dashboards(&model)
            .into_iter()
            .chain([("home".to_string(), landing::dashboard(&model))])
        {
            let text = to_json(&dashboard).expect("serializing");
            let back: Dashboard = serde_json::from_slice(&text).expect(&name);
            assert_eq!(back, dashboard, "{name}");
            assert!(
                text.starts_with(b"{\n  \"uid\""),
                "{name}: two-space indentation"
            );
        }
    }

    #[test]
    fn rows_follow_what_the_service_has() {
        let model = example("acme");
        let all = dashboards(&model);
        let get = |name: &str| &all.iter().find(|(n, _)| n == name).expect(name).1;
        let checkout = get("checkout");
        assert_eq!(
            row_titles(checkout),
            [
                "Overview",
                "Requests",
                "Client requests",
                "Runtime (go)",
                "Framework (grpc)",
                "Container",
                "Logs",
                // The example platform has a tracing UI (docs/tracing.md).
                "Traces",
                // The example platform's library (examples/acme/grafana-library).
                "Go scheduler",
                "Scrape health",
            ]
        );
        let titles = panel_titles(checkout);
        for expected in [
            "SLO availability: SLI over 30d",
            "SLO latency: error budget left",
            "Request rate",
            "Error ratio",
            "Latency",
            "Targets up",
            "Requests by route",
            "Calls to inventory",
            "Errors calling postgres",
            "Goroutines",
            "GC pause",
            "gRPC codes by method",
            "ingress-nginx 5xx ratio",
            "CPU throttling",
            "Logs in Kibana",
            "Traces",
        ] {
            assert!(
                titles.contains(expected),
                "checkout lacks {expected}: {titles:?}"
            );
        }
        // legacy-gateway turned tracing off: no Traces row.
        assert!(!row_titles(get("legacy-gateway")).contains(&"Traces".to_string()));
        // Calls are counted by the client instrumentation of their protocol:
        // checkout (gRPC) calls the Django inventory and postgres over HTTP.
        let expr_of = |title: &str| {
            lint::all_panels(checkout)
                .find(|p| p.title == title)
                .and_then(|p| p.targets.first())
                .map(|t| t.expr.clone())
                .unwrap_or_default()
        };
        assert!(
            expr_of("Calls to inventory").contains("http_client_request_duration_seconds_count")
        );
        assert!(expr_of("Calls to postgres").contains("server_address=~"));
        // The proxy panel keeps to the environment as the alert does:
        // ingress-nginx by the environment's namespace (a hidden variable).
        let proxy = expr_of("ingress-nginx 5xx ratio");
        assert!(proxy.contains("namespace=\"$namespace\""), "{proxy}");
        assert!(
            proxy.contains("exported_namespace=\"$namespace\""),
            "{proxy}"
        );
        assert!(
            checkout
                .templating
                .list
                .iter()
                .any(|v| v.name == "namespace")
        );
        // gRPC latency is read from unary calls only, as the recordings do.
        assert!(expr_of("p99 latency by route").contains("grpc_type=\"unary\""));
        // Library rows follow the service's language: storefront is Node.
        assert!(!row_titles(get("storefront")).contains(&"Go scheduler".to_string()));
        assert!(titles.contains("OS threads"));
        // Every language and framework of the example gets its own rows.
        for service in &model.services {
            let dashboard = get(&service.name);
            let rows = row_titles(dashboard);
            assert!(
                rows.contains(&format!("Runtime ({})", service.language_name())),
                "{rows:?}"
            );
            assert!(
                rows.contains(&format!("Framework ({})", service.framework_name())),
                "{rows:?}"
            );
            let framework_row = dashboard
                .panels
                .iter()
                .position(
                    |item| matches!(item, PanelOrRow::Row(r) if r.title.starts_with("Framework")),
                )
                .expect("a framework row");
            let PanelOrRow::Row(row) = &dashboard.panels[framework_row] else {
                panic!("a row")
            };
            assert!(row.panels.len() >= 2, "{}: {:?}", service.name, row.title);
            assert!(
                dashboard
                    .tags
                    .contains(&service_dashboard::team_tag(&service.team).into())
            );
            let titles = panel_titles(dashboard);
            let runtime = runtime::panels(service.language, service.framework);
            for panel in runtime {
                assert!(
                    titles.contains(panel.title),
                    "{}: {}",
                    service.name,
                    panel.title
                );
            }
        }
    }

    #[test]
    fn every_alert_links_to_a_generated_dashboard() {
        let model = example("acme");
        let uids: BTreeSet<String> = dashboards(&model)
            .into_iter()
            .map(|(_, d)| d.uid.to_string())
            .collect();
        let base = format!("{}/d/", model.platform.grafana.url);
        let mut checked = 0;
        for service in &model.services {
            let shared = rules::service_rules(&model, service, rules::RuleScope::Shared);
            for env in &service.environments {
                let own = rules::environment_rules(&model, service, env);
                let alerts = shared
                    .alerts
                    .iter()
                    .chain(own.iter().flat_map(|r| &r.alerts));
                for alert in alerts {
                    let url = alert.dashboard_url.expand(0.0, &BTreeMap::new(), &env.name);
                    let rest = url.strip_prefix(&base).expect("a Grafana URL");
                    let uid = rest.split('/').next().unwrap_or_default();
                    assert!(uids.contains(uid), "{}: {uid}", alert.name);
                    assert!(rest.ends_with(&format!("?var-env={}", env.name)));
                    checked += 1;
                }
            }
        }
        assert!(checked > 50);
    }

    #[test]
    fn links_resolve_to_dashboards_with_the_same_environment() {
        let model = example("acme");
        let all = dashboards(&model);
        let uids: BTreeSet<String> = all.iter().map(|(_, d)| d.uid.to_string()).collect();
        let mut dependency_links = 0;
        for (name, dashboard) in &all {
            let panel_links = lint::all_panels(dashboard).flat_map(|p| p.links.iter());
            for link in dashboard.links.iter().chain(panel_links) {
                let Some(url) = &link.url else { continue };
                if let Some(rest) = url.strip_prefix("/d/") {
                    let uid = rest.split(['/', '?']).next().unwrap_or_default();
                    assert!(
                        uids.contains(uid) || uid == service_dashboard::HOME_UID,
                        "{name}: {url}"
                    );
                    if uid != service_dashboard::HOME_UID {
                        assert!(url.ends_with("?var-env=${env}"), "{name}: {url}");
                        dependency_links += 1;
                    }
                }
            }
        }
        assert!(dependency_links > 3);
        // checkout calls inventory: inventory's dashboard says who calls it.
        let inventory = &all
            .iter()
            .find(|(n, _)| n == "inventory")
            .expect("inventory")
            .1;
        let called_by = lint::all_panels(inventory)
            .find(|p| p.title == "Called by")
            .expect("a Called by panel");
        let super::dashboard_json::PanelOptions::Text(text) = &called_by.options else {
            panic!("a text panel")
        };
        assert!(
            text.content
                .contains("[checkout](/d/svc-checkout/checkout?var-env=${env})")
        );
    }

    #[test]
    fn the_landing_page_lists_every_team_and_links_by_uid() {
        let model = example("acme");
        let home = landing::dashboard(&model);
        assert_eq!(home.uid, service_dashboard::HOME_UID);
        let rows = row_titles(&home);
        for team in &model.platform.teams {
            assert!(
                rows.iter()
                    .any(|r| r.starts_with(&format!("Team {} ", team.name)))
            );
        }
        let table = lint::all_panels(&home)
            .find(|p| p.kind == PanelKind::Table)
            .expect("the services table");
        let link = table
            .field_config
            .defaults
            .links
            .first()
            .expect("a row link");
        assert_eq!(
            link.url.as_deref(),
            Some(
                "/d/${__data.fields.dashboard}/${__data.fields.service}?var-env=${__data.fields.environment}"
            )
        );
        for target in &table.targets {
            let expr = lint::substitute_variables(&target.expr);
            promql_parser::parser::parse(&expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
        }
    }

    #[test]
    fn changing_an_objective_changes_only_its_lines() {
        let model = example("acme");
        let service = model.service("checkout").expect("checkout").clone();
        let before = to_json(&service_dashboard(&model, &service, &[])).expect("json");
        let mut changed = service.clone();
        changed.slos[0].objective = 99.5;
        let after = to_json(&service_dashboard(&model, &changed, &[])).expect("json");
        let before = String::from_utf8(before).expect("utf-8");
        let after = String::from_utf8(after).expect("utf-8");
        let diff = similar::TextDiff::from_lines(&before, &after);
        let changed_lines: Vec<String> = diff
            .iter_all_changes()
            .filter(|c| c.tag() != similar::ChangeTag::Equal)
            .map(|c| c.to_string())
            .collect();
        // The SLI panel's description and threshold, the budget panel's
        // description, and the error-ratio threshold line: old and new.
        assert!(!changed_lines.is_empty());
        assert!(changed_lines.len() <= 8, "{changed_lines:#?}");
        assert!(changed_lines.iter().any(|l| l.contains("0.995")));
    }

    #[test]
    fn dashboard_uids_are_the_models() {
        let model = example("acme");
        for (name, dashboard) in dashboards(&model) {
            assert_eq!(dashboard.uid, crate::model::naming::dashboard_uid(&name));
            assert!(dashboard.uid.len() <= 40);
        }
    }
}
