//! Which generated files say something a reviewer reads as meaning, and in
//! which format: the one place that maps output paths to file kinds.
//!
//! Patterns match any folder depth where the layout may vary (rule files
//! per environment or shared by all, operator resources), so the change
//! summary and `explain` keep working when the output layout moves files.

use std::sync::LazyLock;

use globset::{GlobBuilder, GlobMatcher};

/// The formats whose content the review tools read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FileKind {
    /// Prometheus rule groups (`groups:`), plain or as a `PrometheusRule`.
    PrometheusRules,
    /// A Prometheus configuration with `scrape_configs`.
    PrometheusConfig,
    /// A Prometheus Operator `PodMonitor` or `ScrapeConfig` object.
    OperatorScrape,
    /// Targets for `file_sd_configs`.
    FileSdTargets,
    /// A Grafana dashboard.
    GrafanaDashboard,
    /// The Alertmanager configuration: routes and receivers.
    AlertmanagerConfig,
    /// A Logstash pipeline.
    LogstashPipeline,
    /// A k6 load-test script.
    K6Script,
}

/// Path patterns (relative to the output directory) → kind, or `None` for
/// files that are read as plain text only; the first match wins.
const PATTERNS: &[(&str, Option<FileKind>)] = &[
    // promtool tests restate the rules; the rules themselves are read.
    ("prometheus/**/tests/**", None),
    (
        "prometheus/**/rules/*.{yml,yaml}",
        Some(FileKind::PrometheusRules),
    ),
    (
        "prometheus/**/prometheusrules/*.{yml,yaml}",
        Some(FileKind::PrometheusRules),
    ),
    (
        "prometheus/**/prometheus.yml",
        Some(FileKind::PrometheusConfig),
    ),
    (
        "prometheus/**/podmonitors/*.{yml,yaml}",
        Some(FileKind::OperatorScrape),
    ),
    (
        "prometheus/**/scrapeconfigs/*.{yml,yaml}",
        Some(FileKind::OperatorScrape),
    ),
    (
        "prometheus/**/file_sd/*.json",
        Some(FileKind::FileSdTargets),
    ),
    (
        "grafana/dashboards/**/*.json",
        Some(FileKind::GrafanaDashboard),
    ),
    (
        "alertmanager/alertmanager.yml",
        Some(FileKind::AlertmanagerConfig),
    ),
    (
        "logstash/pipelines/*.conf",
        Some(FileKind::LogstashPipeline),
    ),
    ("k6/*.js", Some(FileKind::K6Script)),
];

static MATCHERS: LazyLock<Vec<(GlobMatcher, Option<FileKind>)>> = LazyLock::new(|| {
    PATTERNS
        .iter()
        .filter_map(|(pattern, kind)| {
            let glob = GlobBuilder::new(pattern)
                .literal_separator(true)
                .build()
                .ok()?;
            Some((glob.compile_matcher(), *kind))
        })
        .collect()
});

/// The kind of a generated file, by its path relative to the output
/// directory; `None` for files the review tools do not interpret.
pub fn kind_of(path: &str) -> Option<FileKind> {
    MATCHERS
        .iter()
        .find(|(matcher, _)| matcher.is_match(path))
        .and_then(|(_, kind)| *kind)
}

/// The file name without folders and extension: `k6/checkout.js` → `checkout`.
pub fn stem(path: &str) -> &str {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.split_once('.').map_or(name, |(stem, _)| stem)
}

/// The name of the folder holding the file: `prometheus/staging/prometheus.yml` → `staging`.
pub fn parent_folder(path: &str) -> Option<&str> {
    let mut parts = path.rsplit('/');
    parts.next()?;
    parts.next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles() {
        assert_eq!(MATCHERS.len(), PATTERNS.len());
    }

    #[test]
    fn kinds_by_path_in_either_rule_layout() {
        for (path, kind) in [
            (
                "prometheus/production/rules/checkout.yml",
                Some(FileKind::PrometheusRules),
            ),
            (
                "prometheus/rules/checkout.yml",
                Some(FileKind::PrometheusRules),
            ),
            (
                "prometheus/production/operator/prometheusrules/checkout.yaml",
                Some(FileKind::PrometheusRules),
            ),
            ("prometheus/production/tests/checkout.test.yml", None),
            ("prometheus/tests/rules/checkout.yml", None),
            (
                "prometheus/staging/prometheus.yml",
                Some(FileKind::PrometheusConfig),
            ),
            (
                "prometheus/staging/file_sd/inventory.json",
                Some(FileKind::FileSdTargets),
            ),
            (
                "prometheus/production/operator/podmonitors/orders.yaml",
                Some(FileKind::OperatorScrape),
            ),
            (
                "prometheus/production/operator/scrapeconfigs/ledger.yaml",
                Some(FileKind::OperatorScrape),
            ),
            (
                "grafana/dashboards/payments/checkout.json",
                Some(FileKind::GrafanaDashboard),
            ),
            ("grafana/provisioning/dashboards/obsgen.yaml", None),
            (
                "alertmanager/alertmanager.yml",
                Some(FileKind::AlertmanagerConfig),
            ),
            ("alertmanager/tests/routes.tsv", None),
            (
                "logstash/pipelines/svc-checkout.conf",
                Some(FileKind::LogstashPipeline),
            ),
            ("k6/checkout.js", Some(FileKind::K6Script)),
            (".obsgen-index", None),
        ] {
            assert_eq!(kind_of(path), kind, "{path}");
        }
        assert_eq!(stem("k6/checkout.js"), "checkout");
        assert_eq!(stem("a/logs.checkout.production.json"), "logs");
        assert_eq!(
            parent_folder("prometheus/staging/prometheus.yml"),
            Some("staging")
        );
        assert_eq!(parent_folder("top.yml"), None);
    }
}
