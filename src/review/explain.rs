//! The service inspector (`obsgen explain SERVICE`): everything one service
//! gets from the platform (files, scrape jobs, recordings, SLOs, alerts
//! with thresholds, dashboard panels, where each alert is routed in each
//! environment, log pipeline, load scenarios), so that its owners can see
//! what will happen without reading the generated tree.
//!
//! It reads the rendered output back with [`super::facts`], the same reader
//! as the change summary, so it shows what `build` writes; alerts are
//! routed through the generated Alertmanager tree as Alertmanager would.

use std::collections::BTreeMap;

use regex::Regex;
use serde_json::{Map, Value, json};

use super::facts::{Fact, FactKind, facts_of};
use super::file_kind::{FileKind, kind_of};
use crate::output::OutputSet;

/// What the model says about the service (its manifest's own words).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceInfo {
    pub name: String,
    pub team: String,
    pub description: Option<String>,
    /// The manifest, relative to the repository root.
    pub manifest: String,
}

/// One entry of a section: a fact, merged across the environments where it
/// is the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub environments: Vec<String>,
    pub attributes: Vec<(String, String)>,
}

/// Where an alert goes in one environment.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Routing {
    pub environment: Option<String>,
    pub receiver: String,
    /// `alertname (severity)`, sorted.
    pub alerts: Vec<String>,
}

/// Everything one service gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    pub service: ServiceInfo,
    pub files: Vec<String>,
    /// Sections in pipeline order.
    pub sections: Vec<(FactKind, Vec<Entry>)>,
    pub routes: Vec<Routing>,
}

/// The sections `explain` shows, in order. Routes are worked out per alert
/// (see [`Routing`]) rather than listed from the tree.
const SECTIONS: &[FactKind] = &[
    FactKind::ScrapeJob,
    FactKind::ScrapeTargets,
    FactKind::Slo,
    FactKind::Recording,
    FactKind::Alert,
    FactKind::Panel,
    FactKind::LogPipeline,
    FactKind::LoadScenario,
    FactKind::LoadThreshold,
];

/// Explains one service from the rendered output.
pub fn explain(output: &OutputSet, service: ServiceInfo) -> Explanation {
    let mut facts: Vec<Fact> = Vec::new();
    let mut files: Vec<String> = Vec::new();
    let mut alertmanager: Option<(String, Value)> = None;
    for (path, contents) in output.iter() {
        let mut concerns = mentions(path, &service.name);
        if let Some(found) = facts_of(path, contents) {
            for fact in found {
                if fact.service.as_deref() == Some(service.name.as_str()) {
                    concerns = true;
                    facts.push(fact);
                }
            }
        }
        if kind_of(path) == Some(FileKind::AlertmanagerConfig)
            && let Ok(text) = std::str::from_utf8(contents)
            && let Ok(value) = serde_saphyr::from_str::<Value>(text)
        {
            alertmanager = Some((path.to_string(), value));
        }
        if concerns {
            files.push(path.to_string());
        }
    }
    let facts = in_every_environment(facts);
    let routes = match &alertmanager {
        Some((path, tree)) => {
            let routes = route_alerts(tree, &facts);
            if !routes.is_empty() && !files.contains(path) {
                files.push(path.clone());
                files.sort();
            }
            routes
        }
        None => Vec::new(),
    };
    let sections = SECTIONS
        .iter()
        .map(|kind| {
            let of_kind: Vec<&Fact> = facts.iter().filter(|fact| fact.kind == *kind).collect();
            (*kind, merge(&of_kind))
        })
        .filter(|(_, entries)| !entries.is_empty())
        .collect();
    Explanation {
        service,
        files,
        sections,
        routes,
    }
}

/// A shared rule file's alerts, recordings and SLOs name no environment:
/// they are evaluated in every environment the service is scraped in, with
/// that `env`. Each becomes one fact per environment, so that its sections
/// and its routes (which match `env`) are per environment like the others.
fn in_every_environment(facts: Vec<Fact>) -> Vec<Fact> {
    let mut environments: Vec<String> = facts
        .iter()
        .filter(|fact| fact.kind == FactKind::ScrapeJob)
        .filter_map(|fact| fact.env.clone())
        .collect();
    environments.sort();
    environments.dedup();
    if environments.is_empty() {
        return facts;
    }
    let mut expanded = Vec::with_capacity(facts.len());
    for fact in facts {
        let from_rules = matches!(
            fact.kind,
            FactKind::Alert | FactKind::Recording | FactKind::Slo
        );
        if !from_rules || fact.env.is_some() {
            expanded.push(fact);
            continue;
        }
        for env in &environments {
            let mut copy = fact.clone();
            copy.env = Some(env.clone());
            copy.labels.insert("env".to_string(), env.clone());
            expanded.push(copy);
        }
    }
    expanded
}

/// Whether a file's name names the service: `checkout.test.yml`,
/// `logs.checkout.production.json`, `obsgen-logs-checkout.json`.
fn mentions(path: &str, service: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let dashed = format!("-{service}");
    name.split('.')
        .any(|part| part == service || part.ends_with(&dashed))
}

/// Facts with one name and the same attributes become one entry listing
/// their environments; entries keep the order of first appearance.
fn merge(facts: &[&Fact]) -> Vec<Entry> {
    let mut entries: Vec<Entry> = Vec::new();
    for fact in facts {
        let attributes: Vec<(String, String)> = fact
            .attributes
            .iter()
            .filter(|(key, _)| !key.starts_with('_'))
            .cloned()
            .collect();
        let existing = entries
            .iter_mut()
            .find(|entry| entry.name == fact.name && entry.attributes == attributes);
        match existing {
            Some(entry) => {
                if let Some(env) = &fact.env
                    && !entry.environments.contains(env)
                {
                    entry.environments.push(env.clone());
                }
            }
            None => entries.push(Entry {
                name: fact.name.clone(),
                environments: fact.env.iter().cloned().collect(),
                attributes,
            }),
        }
    }
    entries
}

// ---------------------------------------------------------------------------
// Routing alerts through the Alertmanager tree

/// Each alert of the service, routed; grouped by environment and receiver.
fn route_alerts(tree: &Value, facts: &[Fact]) -> Vec<Routing> {
    let Some(root) = tree.get("route") else {
        return Vec::new();
    };
    let mut grouped: BTreeMap<(Option<String>, String), Vec<String>> = BTreeMap::new();
    for fact in facts.iter().filter(|fact| fact.kind == FactKind::Alert) {
        let mut receivers = Vec::new();
        route(root, &fact.labels, "", &mut receivers);
        let alert = match fact.labels.get("severity") {
            Some(severity) => format!("{} ({severity})", fact.name),
            None => fact.name.clone(),
        };
        for receiver in receivers {
            let alerts = grouped.entry((fact.env.clone(), receiver)).or_default();
            if !alerts.contains(&alert) {
                alerts.push(alert.clone());
            }
        }
    }
    grouped
        .into_iter()
        .map(|((environment, receiver), mut alerts)| {
            alerts.sort();
            Routing {
                environment,
                receiver,
                alerts,
            }
        })
        .collect()
}

/// Alertmanager's walk: the first matching child (and following ones while
/// `continue` is set) takes the alert; a node no child takes is where it
/// ends. A receiver active only at some times says so.
fn route(
    node: &Value,
    labels: &BTreeMap<String, String>,
    inherited: &str,
    found: &mut Vec<String>,
) {
    let receiver = node
        .get("receiver")
        .and_then(Value::as_str)
        .unwrap_or(inherited);
    let mut taken = false;
    for child in node
        .get("routes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let matchers: Vec<&str> = child
            .get("matchers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if matchers.iter().all(|matcher| matches(matcher, labels)) {
            route(child, labels, receiver, found);
            taken = true;
            if child.get("continue").and_then(Value::as_bool) != Some(true) {
                break;
            }
        }
    }
    if !taken {
        let active: Vec<&str> = node
            .get("active_time_intervals")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let shown = if active.is_empty() {
            receiver.to_string()
        } else {
            format!("{receiver} (during {})", active.join(", "))
        };
        if !found.contains(&shown) {
            found.push(shown);
        }
    }
}

/// One Alertmanager matcher (`label="v"`, `!=`, `=~`, `!~`) against labels;
/// a matcher obsgen cannot read does not match.
fn matches(matcher: &str, labels: &BTreeMap<String, String>) -> bool {
    let Some(at) = matcher.find(['=', '!']) else {
        return false;
    };
    let label = matcher.get(..at).unwrap_or_default().trim();
    let rest = matcher.get(at..).unwrap_or_default();
    let (op, value) = ["=~", "!~", "!=", "="]
        .iter()
        .find_map(|op| rest.strip_prefix(op).map(|value| (*op, value)))
        .unwrap_or(("=", rest));
    let value = value.trim();
    let value = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value)
        .replace("\\\"", "\"")
        .replace("\\\\", "\\");
    let actual = labels.get(label).map_or("", String::as_str);
    let regex = || Regex::new(&format!("^(?:{value})$")).ok();
    match op {
        "=" => actual == value,
        "!=" => actual != value,
        "=~" => regex().is_some_and(|re| re.is_match(actual)),
        "!~" => regex().is_some_and(|re| !re.is_match(actual)),
        _ => false,
    }
}

// ---------------------------------------------------------------------------
// Rendering

fn section_title(kind: FactKind) -> &'static str {
    match kind {
        FactKind::ScrapeJob => "scrape jobs",
        FactKind::ScrapeTargets => "scrape targets (file_sd)",
        FactKind::Slo => "SLOs",
        FactKind::Recording => "recordings",
        FactKind::Alert => "alerts",
        FactKind::Panel => "dashboard panels",
        FactKind::Route => "routes",
        FactKind::Receiver => "receivers",
        FactKind::LogPipeline => "log pipeline",
        FactKind::LoadScenario => "load scenarios",
        FactKind::LoadThreshold => "load-test thresholds",
    }
}

fn section_key(kind: FactKind) -> &'static str {
    match kind {
        FactKind::ScrapeJob => "scrape_jobs",
        FactKind::ScrapeTargets => "scrape_targets",
        FactKind::Slo => "slos",
        FactKind::Recording => "recordings",
        FactKind::Alert => "alerts",
        FactKind::Panel => "panels",
        FactKind::Route => "routes",
        FactKind::Receiver => "receivers",
        FactKind::LogPipeline => "log_pipelines",
        FactKind::LoadScenario => "load_scenarios",
        FactKind::LoadThreshold => "load_thresholds",
    }
}

/// Plain text.
pub fn render_text(explanation: &Explanation) -> String {
    let service = &explanation.service;
    let mut text = format!("{} (team {})", service.name, service.team);
    if let Some(description) = &service.description {
        text.push_str(&format!(": {}", description.trim()));
    }
    text.push_str(&format!("\nmanifest: {}\n", service.manifest));
    text.push_str(&format!("\nfiles ({}):\n", explanation.files.len()));
    for file in &explanation.files {
        text.push_str(&format!("  {file}\n"));
    }
    for (kind, entries) in &explanation.sections {
        text.push_str(&format!(
            "\n{} ({}):\n",
            section_title(*kind),
            entries.len()
        ));
        for entry in entries {
            text.push_str(&format!("  {}", entry.name));
            if !entry.environments.is_empty() {
                text.push_str(&format!(" [{}]", entry.environments.join(", ")));
            }
            let details: Vec<String> = entry
                .attributes
                .iter()
                .map(|(key, value)| format!("{key} {value}"))
                .collect();
            if !details.is_empty() {
                text.push_str(&format!(": {}", details.join("; ")));
            }
            text.push('\n');
        }
    }
    if !explanation.routes.is_empty() {
        text.push_str("\nalert routes:\n");
        for routing in &explanation.routes {
            let env = routing
                .environment
                .as_deref()
                .unwrap_or("every environment");
            text.push_str(&format!("  {env} → {}:\n", routing.receiver));
            for alert in &routing.alerts {
                text.push_str(&format!("    {alert}\n"));
            }
        }
    }
    text
}

fn entry_json(entry: &Entry) -> Value {
    let mut object = Map::new();
    object.insert("name".into(), json!(entry.name));
    object.insert("environments".into(), json!(entry.environments));
    for (key, value) in &entry.attributes {
        object.insert(key.clone(), json!(value));
    }
    Value::Object(object)
}

/// JSON: one object with a key per section (absent sections are empty lists).
pub fn render_json(explanation: &Explanation) -> Value {
    let service = &explanation.service;
    let mut object = Map::new();
    object.insert("service".into(), json!(service.name));
    object.insert("team".into(), json!(service.team));
    object.insert("description".into(), json!(service.description));
    object.insert("manifest".into(), json!(service.manifest));
    object.insert("files".into(), json!(explanation.files));
    for kind in SECTIONS {
        let entries: Vec<Value> = explanation
            .sections
            .iter()
            .filter(|(of, _)| of == kind)
            .flat_map(|(_, entries)| entries.iter().map(entry_json))
            .collect();
        object.insert(section_key(*kind).into(), Value::Array(entries));
    }
    let routes: Vec<Value> = explanation
        .routes
        .iter()
        .map(|routing| {
            json!({
                "environment": routing.environment,
                "receiver": routing.receiver,
                "alerts": routing.alerts,
            })
        })
        .collect();
    object.insert("routes".into(), Value::Array(routes));
    Value::Object(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn matchers_follow_alertmanager() {
        let alert = labels(&[
            ("team", "payments"),
            ("env", "production"),
            ("service", "checkout"),
        ]);
        assert!(matches("team=\"payments\"", &alert));
        assert!(!matches("team=\"pay\"", &alert));
        assert!(matches("env=~\"production|staging\"", &alert));
        assert!(!matches("env=~\"prod\"", &alert), "anchored");
        assert!(matches("severity!=\"page\"", &alert));
        assert!(matches("service!~\"a|b\"", &alert));
        assert!(
            !matches("service=~\"(\"", &alert),
            "a broken regex matches nothing"
        );
        assert!(!matches("nonsense", &alert));
    }

    #[test]
    fn alerts_take_the_first_matching_route_and_time_intervals_show() {
        let tree: Value = serde_saphyr::from_str(
            r#"
route:
  receiver: default
  routes:
  - receiver: payments/notify
    matchers: ['team="payments"']
    routes:
    - receiver: payments/pagerduty
      matchers: ['severity="page"', 'env=~"production"']
  - receiver: fulfilment/notify
    matchers: ['team="fulfilment"']
    routes:
    - receiver: fulfilment/notify
      active_time_intervals: [fulfilment/working-hours]
"#,
        )
        .unwrap();
        let root = tree.get("route").unwrap();
        let mut found = Vec::new();
        route(
            root,
            &labels(&[
                ("team", "payments"),
                ("severity", "page"),
                ("env", "production"),
            ]),
            "",
            &mut found,
        );
        assert_eq!(found, ["payments/pagerduty"]);
        found.clear();
        route(
            root,
            &labels(&[
                ("team", "payments"),
                ("severity", "page"),
                ("env", "staging"),
            ]),
            "",
            &mut found,
        );
        assert_eq!(found, ["payments/notify"]);
        found.clear();
        route(root, &labels(&[("team", "fulfilment")]), "", &mut found);
        assert_eq!(
            found,
            ["fulfilment/notify (during fulfilment/working-hours)"]
        );
        found.clear();
        route(root, &labels(&[("team", "other")]), "", &mut found);
        assert_eq!(found, ["default"]);
    }

    #[test]
    fn file_names_that_name_the_service() {
        assert!(mentions(
            "prometheus/production/tests/checkout.holds.test.yml",
            "checkout"
        ));
        assert!(mentions(
            "kibana/data_views/p/logs.checkout.production.json",
            "checkout"
        ));
        assert!(mentions(
            "elasticsearch/index_templates/obsgen-logs-checkout.json",
            "checkout"
        ));
        assert!(!mentions("k6/checkouts.js", "checkout"));
    }
}
