//! PromQL of dashboard panels: selectors scoped to one service and the
//! dashboard's variables.
//!
//! User strings (service and dependency names) enter PromQL only through
//! the Prometheus backend's quoting ([`promql::quote`]); variables
//! (`$env`, `$instance`, `$__rate_interval`) are Grafana's and are
//! substituted by Grafana before the query reaches Prometheus.

use crate::backend::prometheus::promql::{self, regex_literal};
use crate::model::Service;

/// The variable every query is filtered by.
pub const ENV: &str = "$env";
/// The Kubernetes namespace of `$env` (a hidden variable, for proxies
/// that label requests by namespace).
pub const NAMESPACE: &str = "$namespace";
/// The range of every `rate`: at least four scrape intervals, whatever the zoom.
pub const RATE_INTERVAL: &str = "$__rate_interval";

/// A label matcher list, built up from the service's own scope.
#[derive(Debug, Clone)]
pub struct Selector {
    matchers: Vec<String>,
}

impl Selector {
    /// `{job="<service>",env="$env"}`: the series the service's job scrapes.
    pub fn job(service: &str) -> Self {
        Self {
            matchers: vec![
                format!("job={}", promql::quote(service)),
                format!("env=\"{ENV}\""),
            ],
        }
    }

    /// The same, restricted to the instances picked in `$instance`.
    pub fn instances(service: &Service) -> Self {
        Self::job(&service.name).matcher("instance=~\"$instance\"")
    }

    /// `{sloth_service="<service>",sloth_slo="<slo>",env="$env"}`: the SLO
    /// recordings, which carry the service under Sloth's label, not `job`.
    pub fn slo(service: &Service, slo: &str) -> Self {
        Self {
            matchers: vec![
                format!("sloth_service={}", promql::quote(&service.name)),
                format!("sloth_slo={}", promql::quote(slo)),
                format!("env=\"{ENV}\""),
            ],
        }
    }

    /// Adds a raw matcher (already escaped).
    pub fn matcher(mut self, matcher: impl Into<String>) -> Self {
        self.matchers.push(matcher.into());
        self
    }

    /// Adds `label=~"regex"` for a fixed (trusted) regex.
    pub fn regex(self, label: &str, regex: &str) -> Self {
        self.matcher(format!("{label}=~{}", promql::quote(regex)))
    }

    /// Adds a matcher for the calls to `dependency` in client metrics: the
    /// peer label names it as a host (`inventory.production.svc`) or inside
    /// a qualified name (`acme.inventory.v1.Inventory`), in any case.
    pub fn peer(self, label: &str, dependency: &str) -> Self {
        let regex = format!("(?i)(.*[.])?{}([.:].*)?", regex_literal(dependency));
        self.matcher(format!("{label}=~{}", promql::quote(&regex)))
    }

    /// `metric{...}`.
    pub fn on(&self, metric: &str) -> String {
        let length: usize = self.matchers.iter().map(|m| m.len() + 1).sum();
        let mut series = String::with_capacity(metric.len() + length + 2);
        series.push_str(metric);
        series.push('{');
        for (index, matcher) in self.matchers.iter().enumerate() {
            if index > 0 {
                series.push(',');
            }
            series.push_str(matcher);
        }
        series.push('}');
        series
    }
}

/// `sum by (labels) (rate(series[$__rate_interval]))`, or `sum(...)`.
pub fn sum_rate(by: &[&str], series: &str) -> String {
    let mut query = String::with_capacity(series.len() + 64);
    push_sum_rate(&mut query, by, None, series);
    query
}

/// [`sum_rate`] onto the end of `out`, by `by` and then `last`.
fn push_sum_rate(out: &mut String, by: &[&str], last: Option<&str>, series: &str) {
    let mut labels = by.iter().copied().chain(last);
    match labels.next() {
        None => out.push_str("sum"),
        Some(first) => {
            out.push_str("sum by (");
            out.push_str(first);
            for label in labels {
                out.push_str(", ");
                out.push_str(label);
            }
            out.push(')');
        }
    }
    for part in [" (rate(", series, "[", RATE_INTERVAL, "]))"] {
        out.push_str(part);
    }
}

/// `sum by (a, b)` or plain `sum`.
pub fn sum_by(by: &[&str]) -> String {
    if by.is_empty() {
        "sum".to_string()
    } else {
        format!("sum by ({})", by.join(", "))
    }
}

/// A quantile of a histogram's buckets, by `by` (plus `le`).
pub fn quantile(q: f64, by: &[&str], buckets: &str) -> String {
    use std::fmt::Write as _;
    let mut query = String::with_capacity(buckets.len() + 96);
    // Writing a number into a `String` cannot fail.
    let _ = write!(query, "histogram_quantile({q}, ");
    push_sum_rate(&mut query, by, Some("le"), buckets);
    query.push(')');
    query
}

/// A legend naming each series by its labels: `{{a}} {{b}}`.
pub fn legend(labels: &[&str]) -> String {
    labels
        .iter()
        .map(|label| format!("{{{{{label}}}}}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_and_quantiles() {
        assert_eq!(
            sum_rate(&["route"], "x_total{job=\"a\"}"),
            "sum by (route) (rate(x_total{job=\"a\"}[$__rate_interval]))"
        );
        assert_eq!(
            quantile(0.99, &[], "h_bucket{}"),
            "histogram_quantile(0.99, sum by (le) (rate(h_bucket{}[$__rate_interval])))"
        );
        assert_eq!(legend(&["a", "b"]), "{{a}} {{b}}");
        assert_eq!(sum_rate(&[], "x{}"), "sum (rate(x{}[$__rate_interval]))");
        assert_eq!(
            quantile(0.5, &["a", "b"], "h{}"),
            "histogram_quantile(0.5, sum by (a, b, le) (rate(h{}[$__rate_interval])))"
        );
        assert_eq!(sum_by(&["a", "b"]), "sum by (a, b)");
    }
}
