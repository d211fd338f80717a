//! Dashboard lint, built in: the rules of Grafana's dashboard-linter that
//! matter for generated dashboards, applied to obsgen's own panels and to
//! extension panels alike.
//!
//! - the datasource is the dashboard's `datasource` variable in every
//!   panel (queries inherit their panel's);
//! - every query parses as PromQL once Grafana's variables are substituted;
//! - every query is scoped to the service: some selector matches `job` (or
//!   `sloth_service`, the SLO recordings' service label) together with
//!   `env="$env"`;
//! - `rate`, `irate` and `increase` range over `$__rate_interval`, and only
//!   over counters; counters appear only inside them;
//! - every panel has a title, a description and a unit; titles are unique.
//!
//! The service dashboards' own panels are checked by unit tests; extension
//! panels are checked at build time and reported as diagnostics.

use std::collections::BTreeSet;

use promql_parser::label::MatchOp;
use promql_parser::parser::{self, Expr};

use super::dashboard_json::{Dashboard, Panel, PanelKind, PanelOrRow};

/// The range `$__rate_interval` is replaced with before parsing: unusual
/// enough that no hand-written range equals it.
const RATE_INTERVAL_STAND_IN: &str = "4m33s";

/// Replaces Grafana's variables with values PromQL accepts, so that a
/// query can be parsed (and run against Prometheus in tests).
pub fn substitute_variables(expr: &str) -> String {
    expr.replace("$__rate_interval", RATE_INTERVAL_STAND_IN)
        .replace("$__interval", "1m")
        .replace("$__range", "1h")
        .replace("${env}", "production")
        .replace("$env", "production")
        .replace("$instance", ".*")
        .replace("$namespace", "production")
}

/// Whether `name` is a reverse proxy's request counter (some do not follow
/// the `_total` convention), from the one table of proxy metrics.
fn is_proxy_counter(name: &str) -> bool {
    use crate::spec::IngressKind;
    [
        IngressKind::Nginx,
        IngressKind::Envoy,
        IngressKind::Traefik,
        IngressKind::Haproxy,
    ]
    .into_iter()
    .any(|kind| {
        let ingress = crate::model::Ingress {
            kind,
            name: String::new(),
        };
        crate::backend::prometheus::rules::proxy_metrics(&ingress).0 == name
    })
}

/// Gauges whose names end in `_total` all the same (prom-client's).
const GAUGES_NAMED_TOTAL: &[&str] = &[
    "nodejs_active_handles_total",
    "nodejs_active_requests_total",
];

fn is_counter(name: &str) -> bool {
    if GAUGES_NAMED_TOTAL.contains(&name) {
        return false;
    }
    is_proxy_counter(name)
        || ["_total", "_count", "_sum", "_bucket"]
            .iter()
            .any(|suffix| name.ends_with(suffix))
}

/// One violation, naming the panel.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Violation {
    pub panel: String,
    pub message: String,
}

/// Checks every panel of a dashboard.
pub fn lint_dashboard(dashboard: &Dashboard) -> Vec<Violation> {
    let mut violations = Vec::new();
    let mut titles = BTreeSet::new();
    for panel in all_panels(dashboard) {
        if !titles.insert(&*panel.title) {
            violations.push(Violation {
                panel: panel.title.to_string(),
                message: "another panel has the same title".into(),
            });
        }
        violations.extend(lint_panel(panel));
    }
    violations
}

/// Every panel of a dashboard, those inside collapsed rows included.
pub fn all_panels(dashboard: &Dashboard) -> impl Iterator<Item = &Panel> {
    dashboard.panels.iter().flat_map(|item| match item {
        PanelOrRow::Row(row) => row.panels.iter().collect::<Vec<_>>(),
        PanelOrRow::Panel(panel) => vec![panel.as_ref()],
    })
}

/// Checks one panel.
pub fn lint_panel(panel: &Panel) -> Vec<Violation> {
    let mut problems = Vec::new();
    if panel.title.trim().is_empty() {
        problems.push("the panel has no title".to_string());
    }
    if panel.description.trim().is_empty() {
        problems.push("the panel has no description".to_string());
    }
    let queries_data = !matches!(panel.kind, PanelKind::Text | PanelKind::Dashlist);
    if queries_data {
        if panel.field_config.defaults.unit.trim().is_empty() {
            problems.push("the panel has no unit".to_string());
        }
        if panel.targets.is_empty() {
            problems.push("the panel has no query".to_string());
        }
        match &panel.datasource {
            Some(ds) if ds.uid == "${datasource}" => {}
            _ => problems.push("the panel's datasource is not `${datasource}`".to_string()),
        }
    }
    for target in &panel.targets {
        for problem in lint_query(&target.expr, None) {
            problems.push(format!("query {}: {problem}", target.ref_id));
        }
    }
    problems
        .into_iter()
        .map(|message| Violation {
            panel: panel.title.to_string(),
            message,
        })
        .collect()
}

/// Checks one query of a service dashboard; with `service`, the scoping
/// selector must name that service.
pub fn lint_query(expr: &str, service: Option<&str>) -> Vec<String> {
    let parsed = match parser::parse(&substitute_variables(expr)) {
        Ok(parsed) => parsed,
        Err(error) => return vec![format!("is not valid PromQL: {}", error.trim())],
    };
    let mut walk = Walk {
        service,
        ..Walk::default()
    };
    walk.expr(&parsed, false);
    let mut problems = walk.problems;
    if !walk.scoped {
        let job = service.unwrap_or("<service>");
        problems.push(format!(
            "is not scoped to the service: no selector has both `job=\"{job}\"` and `env=\"$env\"`"
        ));
    }
    problems.sort();
    problems.dedup();
    problems
}

#[derive(Default)]
struct Walk<'a> {
    service: Option<&'a str>,
    scoped: bool,
    problems: Vec<String>,
}

impl Walk<'_> {
    fn expr(&mut self, expr: &Expr, in_rate: bool) {
        match expr {
            Expr::Aggregate(aggregate) => {
                self.expr(&aggregate.expr, false);
                if let Some(param) = &aggregate.param {
                    self.expr(param, false);
                }
            }
            Expr::Unary(unary) => self.expr(&unary.expr, false),
            Expr::Binary(binary) => {
                self.expr(&binary.lhs, false);
                self.expr(&binary.rhs, false);
            }
            Expr::Paren(paren) => self.expr(&paren.expr, in_rate),
            Expr::Subquery(subquery) => self.expr(&subquery.expr, false),
            Expr::VectorSelector(selector) => self.selector(selector, false),
            Expr::MatrixSelector(matrix) => {
                self.selector(&matrix.vs, in_rate);
                if in_rate {
                    let range = promql_parser::util::display_duration(&matrix.range);
                    if range != RATE_INTERVAL_STAND_IN {
                        self.problems.push(format!(
                            "ranges a rate over `[{range}]` instead of `$__rate_interval`"
                        ));
                    }
                }
            }
            Expr::Call(call) => {
                let rate = matches!(call.func.name, "rate" | "irate" | "increase");
                for arg in &call.args.args {
                    if rate && let Expr::MatrixSelector(matrix) = arg.as_ref() {
                        let name = matrix.vs.name.clone().unwrap_or_default();
                        if !is_counter(&name) {
                            self.problems.push(format!(
                                "takes `{}` of `{name}`, which is not a counter",
                                call.func.name
                            ));
                        }
                    }
                    self.expr(arg, rate);
                }
            }
            Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
        }
    }

    fn selector(&mut self, selector: &promql_parser::parser::VectorSelector, in_rate: bool) {
        let name = selector.name.clone().unwrap_or_default();
        let service = self.service;
        let has = |label: &str| {
            selector.matchers.matchers.iter().any(|m| {
                m.name == label
                    && matches!(m.op, MatchOp::Equal)
                    && service.is_none_or(|name| m.value == name)
            })
        };
        let env =
            selector.matchers.matchers.iter().any(|m| {
                m.name == "env" && matches!(m.op, MatchOp::Equal) && m.value == "production"
            });
        if (has("job") || has("sloth_service")) && env {
            self.scoped = true;
        }
        let recording = name.contains(':');
        if !in_rate && !recording && is_counter(&name) {
            self.problems.push(format!(
                "uses the counter `{name}` outside `rate`/`increase` (its raw value only grows)"
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_queries_pass() {
        for expr in [
            "sum by (route) (rate(x_total{job=\"a\",env=\"$env\"}[$__rate_interval]))",
            "job_env:requests:rate5m{job=\"a\",env=\"$env\"}",
            "1 - slo:sli_error:ratio_rate30d{sloth_service=\"a\",sloth_slo=\"b\",env=\"$env\"}",
            "histogram_quantile(0.99, sum by (le) (rate(h_bucket{job=\"a\",env=\"$env\",instance=~\"$instance\"}[$__rate_interval])))",
        ] {
            assert_eq!(lint_query(expr, Some("a")), Vec::<String>::new(), "{expr}");
        }
    }

    #[test]
    fn each_rule_catches_its_mistake() {
        let cases = [
            (
                "rate(x_total{job=\"a\",env=\"$env\"}[5m])",
                "$__rate_interval",
            ),
            ("x_total{job=\"a\",env=\"$env\"}", "outside `rate`"),
            (
                "rate(go_goroutines{job=\"a\",env=\"$env\"}[$__rate_interval])",
                "not a counter",
            ),
            (
                "sum(rate(x_total{env=\"$env\"}[$__rate_interval]))",
                "scoped",
            ),
            ("sum(rate(x_total{job=\"a\"}[$__rate_interval]))", "scoped"),
            (
                "sum(rate(x_total{job=\"b\",env=\"$env\"}[$__rate_interval]))",
                "scoped",
            ),
            (
                "sum(rate(x_total{job=\"a\",env=\"$env\"}[$__rate_interval])",
                "not valid PromQL",
            ),
        ];
        for (expr, expected) in cases {
            let problems = lint_query(expr, Some("a"));
            assert!(
                problems.iter().any(|p| p.contains(expected)),
                "{expr}: {problems:?}"
            );
        }
    }
}
