//! The change summary for reviewers (`obsgen diff --summary`): per service,
//! what a change means (alerts added, removed or changed with their old and
//! new thresholds, SLO objectives, panels, routes and receivers, scrape
//! targets, log pipelines, load scenarios) rather than which lines moved.
//!
//! It reads the old and new content of the changed files only, by kind
//! ([`super::facts`]), and compares facts by identity, not by file: a file
//! that moves (rules per environment becoming one shared file, say) changes
//! nothing in the summary unless its meaning changes. Files it does not
//! interpret are listed by path, so nothing changes unseen.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use super::facts::{Fact, FactKey, FactKind, facts_of};

/// A changed generated file: its path relative to the output directory,
/// what is on disk (`None` when added) and what obsgen would write (`None`
/// when removed).
#[derive(Debug, Clone, Copy)]
pub struct ChangedFile<'a> {
    pub path: &'a str,
    pub old: Option<&'a [u8]>,
    pub new: Option<&'a [u8]>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

impl ChangeKind {
    pub fn key(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Changed => "changed",
        }
    }
}

/// One attribute's old and new value; `None` for an absent value. Digest
/// attributes (whose values mean nothing to a reader) carry no values.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FieldChange {
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// One fact added, removed or changed, in one or more environments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactChange {
    pub kind: FactKind,
    pub change: ChangeKind,
    pub name: String,
    /// Sorted; empty when the fact is not per environment.
    pub environments: Vec<String>,
    /// For a changed fact: what changed.
    pub fields: Vec<FieldChange>,
    /// For an added or removed fact: what it is (shown attributes only).
    pub attributes: Vec<(String, String)>,
}

/// The changes of one service, or of the platform (`service: None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceChanges {
    pub service: Option<String>,
    pub changes: Vec<FactChange>,
}

/// The whole summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Services by name, then the platform's changes last.
    pub services: Vec<ServiceChanges>,
    /// Changed files the summary does not interpret (tests, provisioning,
    /// Kibana objects …) or could not read; see the diff for them.
    pub other_files: Vec<String>,
}

impl Summary {
    pub fn is_empty(&self) -> bool {
        self.services.is_empty() && self.other_files.is_empty()
    }
}

/// Kinds the summary leaves out: recordings follow from SLOs and request
/// metrics, which the summary shows in their own words.
fn summarized(kind: FactKind) -> bool {
    kind != FactKind::Recording
}

/// Summarizes the changed files.
pub fn summarize(files: &[ChangedFile<'_>]) -> Summary {
    let mut old: BTreeMap<FactKey, Fact> = BTreeMap::new();
    let mut new: BTreeMap<FactKey, Fact> = BTreeMap::new();
    let mut other_files = Vec::new();
    for file in files {
        let read = |contents: Option<&[u8]>| -> Option<Vec<Fact>> {
            match contents {
                None => Some(Vec::new()),
                Some(bytes) => facts_of(file.path, bytes),
            }
        };
        match (read(file.old), read(file.new)) {
            (Some(before), Some(after)) => {
                insert_all(&mut old, before);
                insert_all(&mut new, after);
            }
            _ => other_files.push(file.path.to_string()),
        }
    }
    let mut per_service: BTreeMap<Option<String>, Vec<FactChange>> = BTreeMap::new();
    let keys: BTreeSet<&FactKey> = old.keys().chain(new.keys()).collect();
    for key in keys {
        if !summarized(key.1) {
            continue;
        }
        let change = match (old.get(key), new.get(key)) {
            (None, Some(fact)) => one_sided(fact, ChangeKind::Added),
            (Some(fact), None) => one_sided(fact, ChangeKind::Removed),
            (Some(before), Some(after)) => {
                let fields = field_changes(before, after);
                if fields.is_empty() {
                    continue;
                }
                FactChange {
                    kind: key.1,
                    change: ChangeKind::Changed,
                    name: key.3.clone(),
                    environments: key.2.iter().cloned().collect(),
                    fields,
                    attributes: Vec::new(),
                }
            }
            (None, None) => continue,
        };
        per_service.entry(key.0.clone()).or_default().push(change);
    }
    let mut services: Vec<ServiceChanges> = per_service
        .into_iter()
        .map(|(service, changes)| ServiceChanges {
            service,
            changes: merge_environments(changes),
        })
        .collect();
    // The platform (`None`) sorts first in a BTreeMap; readers look for
    // their service first.
    services.sort_by(|a, b| match (&a.service, &b.service) {
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (Some(_), None) => std::cmp::Ordering::Less,
        (a, b) => a.cmp(b),
    });
    other_files.sort();
    Summary {
        services,
        other_files,
    }
}

fn insert_all(into: &mut BTreeMap<FactKey, Fact>, facts: Vec<Fact>) {
    for fact in facts {
        // A second fact with one identity from another file (a file moving
        // while both copies are read) is the same thing: the first stays.
        into.entry(fact.key()).or_insert(fact);
    }
}

fn shown(attributes: &[(String, String)]) -> Vec<(String, String)> {
    attributes
        .iter()
        .filter(|(key, _)| !key.starts_with('_'))
        .cloned()
        .collect()
}

fn one_sided(fact: &Fact, change: ChangeKind) -> FactChange {
    FactChange {
        kind: fact.kind,
        change,
        name: fact.name.clone(),
        environments: fact.env.iter().cloned().collect(),
        fields: Vec::new(),
        attributes: shown(&fact.attributes),
    }
}

/// What differs between two versions of a fact: shown attributes with
/// their values, then digests by name, only when no shown attribute
/// changed (a changed threshold explains the changed expression).
fn field_changes(before: &Fact, after: &Fact) -> Vec<FieldChange> {
    let mut names: Vec<&str> = Vec::new();
    for (name, _) in before.attributes.iter().chain(&after.attributes) {
        if !names.contains(&name.as_str()) {
            names.push(name);
        }
    }
    let mut shown_fields = Vec::new();
    let mut digests = Vec::new();
    for name in names {
        let (old, new) = (before.attribute(name), after.attribute(name));
        if old == new {
            continue;
        }
        match name.strip_prefix('_') {
            Some(digest) => digests.push(FieldChange {
                field: digest.to_string(),
                old: None,
                new: None,
            }),
            None => shown_fields.push(FieldChange {
                field: name.to_string(),
                old: old.map(str::to_string),
                new: new.map(str::to_string),
            }),
        }
    }
    if shown_fields.is_empty() {
        // One digest says enough: "its definition changed".
        digests.truncate(1);
        digests
    } else {
        shown_fields
    }
}

/// Changes identical but for the environment become one, listing them.
fn merge_environments(changes: Vec<FactChange>) -> Vec<FactChange> {
    let mut merged: Vec<FactChange> = Vec::new();
    for change in changes {
        let same = merged.iter_mut().find(|existing| {
            existing.kind == change.kind
                && existing.change == change.change
                && existing.name == change.name
                && existing.fields == change.fields
                && existing.attributes == change.attributes
        });
        match same {
            Some(existing) => {
                existing.environments.extend(change.environments);
                existing.environments.sort();
                existing.environments.dedup();
            }
            None => merged.push(change),
        }
    }
    merged.sort_by(|a, b| {
        (a.kind, a.change, &a.name, &a.environments).cmp(&(
            b.kind,
            b.change,
            &b.name,
            &b.environments,
        ))
    });
    merged
}

fn service_title(service: &Option<String>) -> String {
    match service {
        Some(name) => name.clone(),
        None => "platform (shared by every service)".to_string(),
    }
}

fn environments_text(environments: &[String]) -> String {
    if environments.is_empty() {
        String::new()
    } else {
        format!(" in {}", environments.join(", "))
    }
}

fn field_text(field: &FieldChange) -> String {
    match (&field.old, &field.new) {
        (None, None) => format!("{} changed", field.field),
        (Some(old), Some(new)) => format!("{} {old} → {new}", field.field),
        (None, Some(new)) => format!("{} (none) → {new}", field.field),
        (Some(old), None) => format!("{} {old} → (none)", field.field),
    }
}

fn attributes_text(attributes: &[(String, String)]) -> String {
    attributes
        .iter()
        .map(|(key, value)| format!("{key} {value}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// One change as a sentence, without the service.
pub fn change_text(change: &FactChange) -> String {
    let subject = format!(
        "{} {} {}{}",
        change.change.key(),
        change.kind.label(),
        change.name,
        environments_text(&change.environments)
    );
    let details = match change.change {
        ChangeKind::Changed => change
            .fields
            .iter()
            .map(field_text)
            .collect::<Vec<_>>()
            .join("; "),
        ChangeKind::Added | ChangeKind::Removed => attributes_text(&change.attributes),
    };
    if details.is_empty() {
        subject
    } else {
        format!("{subject}: {details}")
    }
}

fn other_files_text(files: &[String]) -> String {
    match files.len() {
        0 => String::new(),
        1 => "1 other generated file changed (see the diff)".to_string(),
        n => format!("{n} other generated files changed (see the diff)"),
    }
}

/// Plain text for a terminal or a CI log.
pub fn render_text(summary: &Summary) -> String {
    if summary.is_empty() {
        return "no changes\n".to_string();
    }
    let mut text = String::new();
    for service in &summary.services {
        text.push_str(&service_title(&service.service));
        text.push('\n');
        for change in &service.changes {
            let mark = match change.change {
                ChangeKind::Added => '+',
                ChangeKind::Removed => '-',
                ChangeKind::Changed => '~',
            };
            text.push_str(&format!("  {mark} {}\n", change_text(change)));
        }
    }
    if !summary.other_files.is_empty() {
        text.push_str(&other_files_text(&summary.other_files));
        text.push_str(":\n");
        for file in &summary.other_files {
            text.push_str(&format!("  {file}\n"));
        }
    }
    text
}

/// Markdown for a pull-request comment.
pub fn render_markdown(summary: &Summary) -> String {
    let mut text = String::from("## obsgen: what this change does\n\n");
    if summary.is_empty() {
        text.push_str("No change to the generated configuration.\n");
        return text;
    }
    for service in &summary.services {
        let title = match &service.service {
            Some(name) => format!("`{}`", markdown_code(name)),
            None => service_title(&None),
        };
        text.push_str(&format!("### {title}\n\n"));
        for change in &service.changes {
            text.push_str(&format!(
                "- **{}** {} `{}`{}",
                change.change.key(),
                change.kind.label(),
                markdown_code(&change.name),
                environments_text(&change.environments)
            ));
            let details = match change.change {
                ChangeKind::Changed => change
                    .fields
                    .iter()
                    .map(|field| match (&field.old, &field.new) {
                        (None, None) => format!("{} changed", field.field),
                        (old, new) => format!(
                            "{} `{}` → `{}`",
                            field.field,
                            markdown_code(old.as_deref().unwrap_or("(none)")),
                            markdown_code(new.as_deref().unwrap_or("(none)"))
                        ),
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
                ChangeKind::Added | ChangeKind::Removed => change
                    .attributes
                    .iter()
                    .map(|(key, value)| format!("{key} `{}`", markdown_code(value)))
                    .collect::<Vec<_>>()
                    .join("; "),
            };
            if !details.is_empty() {
                text.push_str(": ");
                text.push_str(&details);
            }
            text.push('\n');
        }
        text.push('\n');
    }
    if !summary.other_files.is_empty() {
        text.push_str(&format!(
            "<details><summary>{}</summary>\n\n",
            other_files_text(&summary.other_files)
        ));
        for file in &summary.other_files {
            text.push_str(&format!("- `{}`\n", markdown_code(file)));
        }
        text.push_str("\n</details>\n");
    }
    text
}

/// Text safe inside a Markdown code span: backticks and line breaks
/// cannot end it early.
fn markdown_code(text: &str) -> String {
    text.replace('`', "'").replace(['\n', '\r'], " ")
}

/// JSON for bots: `{"services": [{"service", "changes": […]}], "other_files"}`.
pub fn render_json(summary: &Summary) -> Value {
    let services: Vec<Value> = summary
        .services
        .iter()
        .map(|service| {
            let changes: Vec<Value> = service.changes.iter().map(change_json).collect();
            json!({ "service": service.service, "changes": changes })
        })
        .collect();
    json!({ "services": services, "other_files": summary.other_files })
}

fn change_json(change: &FactChange) -> Value {
    let mut object = Map::new();
    object.insert("kind".into(), json!(change.kind.key()));
    object.insert("change".into(), json!(change.change.key()));
    object.insert("name".into(), json!(change.name));
    object.insert("environments".into(), json!(change.environments));
    match change.change {
        ChangeKind::Changed => {
            let fields: Vec<Value> = change
                .fields
                .iter()
                .map(|field| json!({ "field": field.field, "old": field.old, "new": field.new }))
                .collect();
            object.insert("fields".into(), Value::Array(fields));
        }
        ChangeKind::Added | ChangeKind::Removed => {
            let attributes: Map<String, Value> = change
                .attributes
                .iter()
                .map(|(key, value)| (key.clone(), json!(value)))
                .collect();
            object.insert("attributes".into(), Value::Object(attributes));
        }
    }
    Value::Object(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(env: &str, objective: &str, factor: &str, severity: &str) -> String {
        format!(
            r#"groups:
- name: a-meta
  rules:
  - record: sloth_slo_info
    expr: vector(1)
    labels: {{env: {env}, sloth_service: a, sloth_slo: availability, sloth_objective: "{objective}"}}
- name: a-alerts
  rules:
  - alert: ErrorBudgetBurn
    expr: x > (14.4 * {factor})
    for: 2m
    labels: {{env: {env}, service: a, severity: {severity}, slo: availability, slo_burn: fast, slo_tier: page}}
"#
        )
    }

    #[test]
    fn an_objective_change_names_old_and_new_threshold_once_for_all_environments() {
        let staging = (
            rules("staging", "99.9", "0.001", "ticket"),
            rules("staging", "99.5", "0.005", "ticket"),
        );
        let production = (
            rules("production", "99.9", "0.001", "page"),
            rules("production", "99.5", "0.005", "page"),
        );
        let summary = summarize(&[
            ChangedFile {
                path: "prometheus/staging/rules/a.yml",
                old: Some(staging.0.as_bytes()),
                new: Some(staging.1.as_bytes()),
            },
            ChangedFile {
                path: "prometheus/production/rules/a.yml",
                old: Some(production.0.as_bytes()),
                new: Some(production.1.as_bytes()),
            },
            ChangedFile {
                path: "prometheus/production/tests/a.test.yml",
                old: Some(b"x"),
                new: Some(b"y"),
            },
        ]);
        let text = render_text(&summary);
        assert!(
            text.contains(
                "~ changed alert ErrorBudgetBurn{slo=\"availability\",slo_burn=\"fast\",slo_tier=\"page\"} in production, staging: threshold > (14.4 * 0.001) → > (14.4 * 0.005)\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "~ changed SLO availability in production, staging: objective 99.9% → 99.5%\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("prometheus/production/tests/a.test.yml"),
            "{text}"
        );
        let markdown = render_markdown(&summary);
        assert!(markdown.contains("### `a`"), "{markdown}");
        assert!(
            markdown.contains("objective `99.9%` → `99.5%`"),
            "{markdown}"
        );
    }

    #[test]
    fn a_file_that_moves_without_changing_meaning_changes_nothing() {
        let text = rules("production", "99.9", "0.001", "page");
        let summary = summarize(&[
            ChangedFile {
                path: "prometheus/production/rules/a.yml",
                old: Some(text.as_bytes()),
                new: None,
            },
            ChangedFile {
                path: "prometheus/rules/a.yml",
                old: None,
                new: Some(text.as_bytes()),
            },
        ]);
        assert!(summary.is_empty(), "{}", render_text(&summary));
    }

    #[test]
    fn an_unreadable_file_is_listed_not_lost() {
        let summary = summarize(&[ChangedFile {
            path: "grafana/dashboards/t/a.json",
            old: Some(b"{ hand edited"),
            new: Some(b"{\"uid\": \"svc-a\", \"panels\": []}"),
        }]);
        assert_eq!(summary.other_files, ["grafana/dashboards/t/a.json"]);
    }
}
