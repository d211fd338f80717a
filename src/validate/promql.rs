//! Custom PromQL in SLO indicators, checked at compile time.
//!
//! Users write `sum(rate(orders_failed_total[{{window}}]))`: the window is
//! a placeholder obsgen fills in for each burn-rate window. We substitute a
//! real range and parse with promql-parser, so a typo is reported against
//! the manifest line instead of surfacing in Prometheus at evaluation time.

use promql_parser::parser::{self, value::ValueType};

/// The placeholder for the range in custom SLI queries.
pub const WINDOW_PLACEHOLDER: &str = "{{window}}";

/// Why a custom query was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub message: String,
    pub expected: String,
    pub hint: String,
}

/// Substitutes a window into a template.
pub fn render(template: &str, window: &str) -> String {
    template.replace(WINDOW_PLACEHOLDER, window)
}

/// Checks an SLI query template: it must use the window placeholder, parse
/// as PromQL, and yield an instant vector or a scalar.
pub fn check_template(template: &str) -> Result<(), Problem> {
    if !template.contains(WINDOW_PLACEHOLDER) {
        return Err(Problem {
            message: "the query does not use `{{window}}`".to_string(),
            expected: "a range such as `[{{window}}]` in the query".to_string(),
            hint: "obsgen evaluates the query over each burn-rate window (5m to 3d); write `rate(x_total[{{window}}])`".to_string(),
        });
    }
    let query = render(template, "5m");
    match parser::parse(&query) {
        Ok(expr) => match expr.value_type() {
            ValueType::Vector | ValueType::Scalar => Ok(()),
            other => Err(Problem {
                message: format!("the query yields a {other}, not a number per series"),
                expected: "an instant vector, e.g. `sum(rate(requests_total[{{window}}]))`"
                    .to_string(),
                hint: "wrap a range selector in `rate(...)` or `increase(...)`".to_string(),
            }),
        },
        Err(error) => Err(Problem {
            message: format!("the query is not valid PromQL: {}", error.trim()),
            expected: "a PromQL expression".to_string(),
            hint:
                "try the query in Prometheus' expression browser with `{{window}}` replaced by `5m`"
                    .to_string(),
        }),
    }
}

/// Whether the expression is usable as-is (for tests and tooling).
pub fn parses(query: &str) -> bool {
    parser::parse(query).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_good_templates() {
        assert!(
            check_template("sum(rate(orders_failed_total{job=\"checkout\"}[{{window}}]))").is_ok()
        );
    }

    #[test]
    fn rejects_broken_ones() {
        assert!(check_template("sum(rate(orders_total[5m]))").is_err());
        let problem = check_template("sum(rate(orders_total[{{window}}])").unwrap_err();
        assert!(
            problem.message.contains("not valid PromQL"),
            "{}",
            problem.message
        );
        assert!(check_template("orders_total[{{window}}]").is_err());
    }
}
