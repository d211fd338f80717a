//! What a generated file means, read back from its content: the scrape
//! jobs, recordings, SLOs, alerts, dashboard panels, routes, receivers, log
//! pipelines and load scenarios it holds, each attributed to a service.
//!
//! The review tools read the rendered files rather than the model so that
//! they describe exactly what is committed (and what was committed before,
//! for the change summary), whatever produced it. Each [`Fact`] has an
//! identity (service, kind, environment, name) that survives a file being
//! moved or split, and display attributes that the summary compares.

use std::collections::BTreeMap;

use serde_json::Value;

use super::file_kind::{FileKind, kind_of, parent_folder, stem};

/// What a fact is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FactKind {
    ScrapeJob,
    ScrapeTargets,
    Recording,
    Slo,
    Alert,
    Panel,
    Route,
    Receiver,
    LogPipeline,
    LoadScenario,
    LoadThreshold,
}

impl FactKind {
    /// The word users read (`alert`, `SLO`, …).
    pub fn label(self) -> &'static str {
        match self {
            FactKind::ScrapeJob => "scrape job",
            FactKind::ScrapeTargets => "scrape targets",
            FactKind::Recording => "recording",
            FactKind::Slo => "SLO",
            FactKind::Alert => "alert",
            FactKind::Panel => "panel",
            FactKind::Route => "route",
            FactKind::Receiver => "receiver",
            FactKind::LogPipeline => "log pipeline",
            FactKind::LoadScenario => "load scenario",
            FactKind::LoadThreshold => "load threshold",
        }
    }

    /// The key used in JSON (`scrape_job`, `slo`, …).
    pub fn key(self) -> &'static str {
        match self {
            FactKind::ScrapeJob => "scrape_job",
            FactKind::ScrapeTargets => "scrape_targets",
            FactKind::Recording => "recording",
            FactKind::Slo => "slo",
            FactKind::Alert => "alert",
            FactKind::Panel => "panel",
            FactKind::Route => "route",
            FactKind::Receiver => "receiver",
            FactKind::LogPipeline => "log_pipeline",
            FactKind::LoadScenario => "load_scenario",
            FactKind::LoadThreshold => "load_threshold",
        }
    }
}

/// One thing a generated file says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    /// The service it concerns; `None` for the platform as a whole.
    pub service: Option<String>,
    pub kind: FactKind,
    pub env: Option<String>,
    /// Unique within (service, kind, env).
    pub name: String,
    /// Display attributes, in display order. A name starting with `_` holds
    /// a digest: compared, never shown.
    pub attributes: Vec<(String, String)>,
    /// The file it was read from.
    pub file: String,
    /// An alert's labels, for routing it through Alertmanager's tree in
    /// `explain`; empty for other kinds, and never compared.
    pub labels: BTreeMap<String, String>,
}

/// The identity of a fact: two facts with the same key are the same thing.
pub type FactKey = (Option<String>, FactKind, Option<String>, String);

impl Fact {
    pub fn key(&self) -> FactKey {
        (
            self.service.clone(),
            self.kind,
            self.env.clone(),
            self.name.clone(),
        )
    }

    /// An attribute's value.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// The facts of one file; `None` when the file's kind is not interpreted
/// or its content cannot be read as that kind (a hand-edited file, say).
pub fn facts_of(path: &str, contents: &[u8]) -> Option<Vec<Fact>> {
    let kind = kind_of(path)?;
    let text = std::str::from_utf8(contents).ok()?;
    let mut facts = match kind {
        FileKind::PrometheusRules => rule_facts(path, text)?,
        FileKind::PrometheusConfig => scrape_facts(path, text)?,
        FileKind::OperatorScrape => operator_scrape_facts(path, text)?,
        FileKind::FileSdTargets => file_sd_facts(path, text)?,
        FileKind::GrafanaDashboard => dashboard_facts(path, text)?,
        FileKind::AlertmanagerConfig => alertmanager_facts(path, text)?,
        FileKind::LogstashPipeline => logstash_facts(path, text),
        FileKind::K6Script => k6_facts(path, text)?,
    };
    make_names_unique(&mut facts);
    Some(facts)
}

/// Two facts of one file with one identity (two panels with one title, say)
/// get `#2`, `#3` … in file order, so that neither hides the other.
fn make_names_unique(facts: &mut [Fact]) {
    let mut seen: BTreeMap<FactKey, usize> = BTreeMap::new();
    for fact in facts.iter_mut() {
        let count = seen.entry(fact.key()).or_insert(0);
        *count += 1;
        if *count > 1 {
            fact.name = format!("{} #{count}", fact.name);
        }
    }
}

fn yaml(text: &str) -> Option<Value> {
    serde_saphyr::from_str::<Value>(text).ok()
}

fn string_at<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

/// A scalar as text: strings as they are, numbers and booleans printed.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

fn string_map(value: Option<&Value>) -> BTreeMap<String, String> {
    value
        .and_then(Value::as_object)
        .map(|map| {
            map.iter()
                .filter_map(|(key, value)| Some((key.clone(), scalar_text(value)?)))
                .collect()
        })
        .unwrap_or_default()
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(scalar_text).collect())
        .unwrap_or_default()
}

/// A short stable digest (FNV-1a, 64 bits) for "this changed" attributes.
pub(crate) fn digest(text: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

fn fact(
    service: Option<&str>,
    kind: FactKind,
    env: Option<&str>,
    name: impl Into<String>,
    attributes: Vec<(&str, String)>,
    file: &str,
) -> Fact {
    Fact {
        service: service.map(str::to_string),
        kind,
        env: env.map(str::to_string),
        name: name.into(),
        attributes: attributes
            .into_iter()
            .filter(|(_, value)| !value.is_empty())
            .map(|(key, value)| (key.to_string(), value))
            .collect(),
        file: file.to_string(),
        labels: BTreeMap::new(),
    }
}

// ---------------------------------------------------------------------------
// Prometheus rules

/// Labels that tell apart alerts of one name in one service and environment.
const ALERT_DISCRIMINATORS: &[&str] = &["slo", "slo_burn", "slo_tier"];
/// The same for recordings (SLO recordings repeat per SLO and window).
const RECORDING_DISCRIMINATORS: &[&str] = &["sloth_slo", "sloth_window"];

fn with_discriminators(name: &str, labels: &BTreeMap<String, String>, keys: &[&str]) -> String {
    let parts: Vec<String> = keys
        .iter()
        .filter_map(|key| Some(format!("{key}=\"{}\"", labels.get(*key)?)))
        .collect();
    if parts.is_empty() {
        name.to_string()
    } else {
        format!("{name}{{{}}}", parts.join(","))
    }
}

fn rule_facts(path: &str, text: &str) -> Option<Vec<Fact>> {
    let doc = yaml(text)?;
    let groups = doc
        .get("groups")
        .or_else(|| doc.get("spec").and_then(|spec| spec.get("groups")))?
        .as_array()?;
    let fallback_service = stem(path);
    let rules: Vec<&Value> = groups
        .iter()
        .filter_map(|group| group.get("rules").and_then(Value::as_array))
        .flatten()
        .collect();
    // An SLO's period comes from its `slo:time_period:days` recording.
    let mut periods: BTreeMap<(Option<String>, String), String> = BTreeMap::new();
    for rule in &rules {
        if string_at(rule, "record") == Some("slo:time_period:days") {
            let labels = string_map(rule.get("labels"));
            if let (Some(slo), Some(expr)) = (labels.get("sloth_slo"), string_at(rule, "expr")) {
                let days: String = expr.chars().filter(char::is_ascii_digit).collect();
                if !days.is_empty() {
                    periods.insert(
                        (labels.get("env").cloned(), slo.clone()),
                        format!("{days}d"),
                    );
                }
            }
        }
    }
    let mut facts = Vec::new();
    for rule in rules {
        let labels = string_map(rule.get("labels"));
        let service = labels
            .get("service")
            .or_else(|| labels.get("sloth_service"))
            .map_or(fallback_service, String::as_str);
        let env = labels.get("env").map(String::as_str);
        let expr = string_at(rule, "expr").unwrap_or_default();
        if let Some(alert) = string_at(rule, "alert") {
            let name = with_discriminators(alert, &labels, ALERT_DISCRIMINATORS);
            let mut alert_fact = fact(
                Some(service),
                FactKind::Alert,
                env,
                name,
                vec![
                    ("threshold", thresholds(expr).join(", ")),
                    ("windows", windows(expr).join(", ")),
                    (
                        "for",
                        string_at(rule, "for").unwrap_or_default().to_string(),
                    ),
                    (
                        "severity",
                        labels.get("severity").cloned().unwrap_or_default(),
                    ),
                    ("_expression", digest(expr)),
                ],
                path,
            );
            alert_fact.labels = labels.clone();
            alert_fact
                .labels
                .insert("alertname".to_string(), alert.to_string());
            facts.push(alert_fact);
        } else if let Some(record) = string_at(rule, "record") {
            if record == "sloth_slo_info" {
                if let Some(slo) = labels.get("sloth_slo") {
                    let objective = labels
                        .get("sloth_objective")
                        .map(|objective| format!("{objective}%"))
                        .unwrap_or_default();
                    let window = periods
                        .get(&(labels.get("env").cloned(), slo.clone()))
                        .cloned()
                        .unwrap_or_default();
                    facts.push(fact(
                        Some(service),
                        FactKind::Slo,
                        env,
                        slo.clone(),
                        vec![("objective", objective), ("window", window)],
                        path,
                    ));
                }
                continue;
            }
            let name = with_discriminators(record, &labels, RECORDING_DISCRIMINATORS);
            facts.push(fact(
                Some(service),
                FactKind::Recording,
                env,
                name,
                vec![("_expression", digest(expr))],
                path,
            ));
        }
    }
    Some(facts)
}

/// The comparisons of a PromQL expression with a constant (`> 0.02`,
/// `== 0`, `> (14.4 * 0.001)`), outside label matchers and strings, in
/// order of appearance, without repeats.
pub(crate) fn thresholds(expr: &str) -> Vec<String> {
    let chars: Vec<char> = expr.chars().collect();
    let mut found: Vec<String> = Vec::new();
    let mut braces = 0usize;
    let mut quote: Option<char> = None;
    let mut at = 0;
    while let Some(&c) = chars.get(at) {
        if let Some(open) = quote {
            if c == '\\' {
                at += 2;
                continue;
            }
            if c == open {
                quote = None;
            }
            at += 1;
            continue;
        }
        match c {
            '"' | '\'' | '`' => quote = Some(c),
            '{' => braces += 1,
            '}' => braces = braces.saturating_sub(1),
            '>' | '<' | '=' | '!' if braces == 0 => {
                let next = chars.get(at + 1).copied();
                let op = match (c, next) {
                    ('>', Some('=')) => ">=",
                    ('<', Some('=')) => "<=",
                    ('=', Some('=')) => "==",
                    ('!', Some('=')) => "!=",
                    ('>', _) => ">",
                    ('<', _) => "<",
                    _ => {
                        at += 1;
                        continue;
                    }
                };
                at += op.len();
                if let Some((operand, end)) = constant_operand(&chars, at) {
                    let text = format!("{op} {operand}");
                    if !found.contains(&text) {
                        found.push(text);
                    }
                    at = end;
                }
                continue;
            }
            _ => {}
        }
        at += 1;
    }
    found
}

/// A number or a parenthesised arithmetic of numbers starting at `at`
/// (after spaces and an optional `bool`); its text and where it ends.
fn constant_operand(chars: &[char], mut at: usize) -> Option<(String, usize)> {
    let skip_spaces = |mut at: usize| {
        while chars.get(at).is_some_and(|c| c.is_whitespace()) {
            at += 1;
        }
        at
    };
    at = skip_spaces(at);
    let rest: String = chars.iter().skip(at).take(5).collect();
    if rest.starts_with("bool ") {
        at = skip_spaces(at + 4);
    }
    let first = *chars.get(at)?;
    if first == '(' {
        let mut depth = 0usize;
        let mut end = at;
        while let Some(&c) = chars.get(end) {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        end += 1;
                        break;
                    }
                }
                _ => {}
            }
            end += 1;
        }
        let text: String = chars.get(at..end)?.iter().collect();
        let arithmetic = text
            .chars()
            .all(|c| c.is_ascii_digit() || " .()+-*/eE".contains(c));
        return arithmetic.then_some((text, end));
    }
    if first.is_ascii_digit() || first == '.' || first == '-' {
        let mut end = at + 1;
        while chars
            .get(end)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '+' || *c == '-')
        {
            end += 1;
        }
        let text: String = chars.get(at..end)?.iter().collect();
        return text.parse::<f64>().is_ok().then_some((text, end));
    }
    None
}

/// The time windows an expression looks at: range selectors (`[5m]`) and
/// the windows named by recordings (`…_rate1h`), in order, without repeats.
pub(crate) fn windows(expr: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut push = |window: &str| {
        if is_duration(window) && !found.iter().any(|w| w == window) {
            found.push(window.to_string());
        }
    };
    let mut rest = expr;
    while let Some(open) = rest.find('[') {
        let after = rest.get(open + 1..).unwrap_or_default();
        let Some(close) = after.find(']') else { break };
        let inside = after.get(..close).unwrap_or_default();
        push(inside.split(':').next().unwrap_or_default());
        rest = after.get(close + 1..).unwrap_or_default();
    }
    for word in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':')) {
        if let Some((_, window)) = word.rsplit_once("_rate") {
            push(window);
        }
    }
    found
}

fn is_duration(text: &str) -> bool {
    let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = text.get(digits.len()..).unwrap_or_default();
    !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit())
        && matches!(unit, "ms" | "s" | "m" | "h" | "d" | "w" | "y")
}

// ---------------------------------------------------------------------------
// Scrape configuration

fn scrape_facts(path: &str, text: &str) -> Option<Vec<Fact>> {
    let doc = yaml(text)?;
    let jobs = doc.get("scrape_configs")?.as_array()?;
    let folder_env = parent_folder(path);
    let mut facts = Vec::new();
    for job in jobs {
        let Some(name) = string_at(job, "job_name") else {
            continue;
        };
        let mut labels: BTreeMap<String, String> = BTreeMap::new();
        let mut targets: Vec<String> = Vec::new();
        let mut discovery: Vec<&str> = Vec::new();
        if let Some(statics) = job.get("static_configs").and_then(Value::as_array) {
            discovery.push("static");
            for group in statics {
                targets.extend(strings(group.get("targets")));
                labels.extend(string_map(group.get("labels")));
            }
        }
        let mut namespaces: Vec<String> = Vec::new();
        if let Some(kubernetes) = job.get("kubernetes_sd_configs").and_then(Value::as_array) {
            discovery.push("kubernetes");
            for config in kubernetes {
                namespaces.extend(strings(
                    config.get("namespaces").and_then(|n| n.get("names")),
                ));
            }
        }
        if let Some(file_sd) = job.get("file_sd_configs").and_then(Value::as_array) {
            discovery.push("file_sd");
            for config in file_sd {
                targets.extend(strings(config.get("files")));
            }
        }
        let port = read_relabels(
            job.get("relabel_configs"),
            RelabelKeys::PROMETHEUS,
            &mut labels,
        );
        let service = labels.get("service").map_or(name, String::as_str);
        let env = labels.get("env").map(String::as_str).or(folder_env);
        let extra: Vec<String> = labels
            .iter()
            .filter(|(key, _)| !matches!(key.as_str(), "env" | "service"))
            .map(|(key, value)| format!("{key}={value}"))
            .collect();
        facts.push(fact(
            Some(service),
            FactKind::ScrapeJob,
            env,
            name,
            vec![
                ("discovery", discovery.join(", ")),
                ("targets", targets.join(", ")),
                ("namespaces", namespaces.join(", ")),
                ("port", port),
                (
                    "path",
                    string_at(job, "metrics_path")
                        .unwrap_or_default()
                        .to_string(),
                ),
                (
                    "scheme",
                    string_at(job, "scheme").unwrap_or_default().to_string(),
                ),
                (
                    "interval",
                    string_at(job, "scrape_interval")
                        .unwrap_or_default()
                        .to_string(),
                ),
                ("labels", extra.join(", ")),
                ("_configuration", digest(&job.to_string())),
            ],
            path,
        ));
    }
    Some(facts)
}

/// A Prometheus Operator `PodMonitor` or `ScrapeConfig`: one scrape job,
/// its service and environment in obsgen's `obsgen.dev/*` labels.
fn operator_scrape_facts(path: &str, text: &str) -> Option<Vec<Fact>> {
    let doc = yaml(text)?;
    let kind = string_at(&doc, "kind")?;
    let meta_labels = string_map(doc.get("metadata").and_then(|m| m.get("labels")));
    let spec = doc.get("spec")?;
    let name = string_at(spec, "jobName")
        .or_else(|| doc.get("metadata").and_then(|m| string_at(m, "name")))
        .unwrap_or(stem(path));
    let service = meta_labels
        .get("obsgen.dev/service")
        .map_or(name, String::as_str);
    let env = meta_labels.get("obsgen.dev/env").map(String::as_str);
    let endpoint = spec
        .get("podMetricsEndpoints")
        .and_then(Value::as_array)
        .and_then(|endpoints| endpoints.first());
    let setting = |key: &str| {
        endpoint
            .and_then(|e| e.get(key))
            .or_else(|| spec.get(key))
            .and_then(scalar_text)
            .unwrap_or_default()
    };
    let mut labels: BTreeMap<String, String> = BTreeMap::new();
    let mut targets: Vec<String> = Vec::new();
    for group in spec
        .get("staticConfigs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        targets.extend(strings(group.get("targets")));
        labels.extend(string_map(group.get("labels")));
    }
    let port = read_relabels(
        endpoint.and_then(|e| e.get("relabelings")),
        RelabelKeys::OPERATOR,
        &mut labels,
    );
    let discovery = if kind == "PodMonitor" {
        "kubernetes (PodMonitor)"
    } else {
        "static (ScrapeConfig)"
    };
    let extra: Vec<String> = labels
        .iter()
        .filter(|(key, _)| !matches!(key.as_str(), "env" | "service" | "job"))
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    Some(vec![fact(
        Some(service),
        FactKind::ScrapeJob,
        env,
        name,
        vec![
            ("discovery", discovery.to_string()),
            ("targets", targets.join(", ")),
            (
                "namespaces",
                strings(
                    spec.get("namespaceSelector")
                        .and_then(|n| n.get("matchNames")),
                )
                .join(", "),
            ),
            ("port", port),
            ("path", {
                let path = setting("path");
                if path.is_empty() {
                    setting("metricsPath")
                } else {
                    path
                }
            }),
            ("scheme", setting("scheme").to_lowercase()),
            ("interval", {
                let interval = setting("interval");
                if interval.is_empty() {
                    setting("scrapeInterval")
                } else {
                    interval
                }
            }),
            ("labels", extra.join(", ")),
            ("_configuration", digest(&spec.to_string())),
        ],
        path,
    )])
}

fn file_sd_facts(path: &str, text: &str) -> Option<Vec<Fact>> {
    let groups: Value = serde_json::from_str(text).ok()?;
    let mut facts = Vec::new();
    for group in groups.as_array()? {
        let labels = string_map(group.get("labels"));
        let service = labels.get("service").map_or(stem(path), String::as_str);
        facts.push(fact(
            Some(service),
            FactKind::ScrapeTargets,
            labels.get("env").map(String::as_str),
            service,
            vec![("targets", strings(group.get("targets")).join(", "))],
            path,
        ));
    }
    Some(facts)
}

// ---------------------------------------------------------------------------
// Grafana

/// The landing dashboard belongs to the platform; every other dashboard is
/// a service's, named by its file (`grafana/dashboards/<team>/<service>.json`).
fn dashboard_facts(path: &str, text: &str) -> Option<Vec<Fact>> {
    let doc: Value = serde_json::from_str(text).ok()?;
    let uid = string_at(&doc, "uid").unwrap_or_default();
    let service = uid.starts_with("svc-").then(|| stem(path));
    let dashboard = string_at(&doc, "title").unwrap_or(uid).to_string();
    let mut facts = Vec::new();
    let mut row: Option<String> = None;
    for panel in doc.get("panels").and_then(Value::as_array)? {
        if string_at(panel, "type") == Some("row") {
            row = string_at(panel, "title").map(str::to_string);
            for nested in panel
                .get("panels")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                facts.push(panel_fact(
                    service,
                    &dashboard,
                    row.as_deref(),
                    nested,
                    path,
                ));
            }
            continue;
        }
        facts.push(panel_fact(service, &dashboard, row.as_deref(), panel, path));
    }
    Some(facts)
}

fn panel_fact(
    service: Option<&str>,
    dashboard: &str,
    row: Option<&str>,
    panel: &Value,
    path: &str,
) -> Fact {
    let title = string_at(panel, "title").unwrap_or("(untitled)");
    let name = match (service, row) {
        (Some(_), Some(row)) => format!("{row} › {title}"),
        (Some(_), None) => title.to_string(),
        (None, Some(row)) => format!("{dashboard}: {row} › {title}"),
        (None, None) => format!("{dashboard}: {title}"),
    };
    let queries: Vec<String> = panel
        .get("targets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|target| string_at(target, "expr").map(str::to_string))
        .collect();
    fact(
        service,
        FactKind::Panel,
        None,
        name,
        vec![
            (
                "type",
                string_at(panel, "type").unwrap_or_default().to_string(),
            ),
            ("_queries", digest(&queries.join("\n"))),
            ("_settings", digest(&panel.to_string())),
        ],
        path,
    )
}

// ---------------------------------------------------------------------------
// Alertmanager

fn alertmanager_facts(path: &str, text: &str) -> Option<Vec<Fact>> {
    let doc = yaml(text)?;
    let mut facts = Vec::new();
    for receiver in doc
        .get("receivers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(name) = string_at(receiver, "name") else {
            continue;
        };
        facts.push(fact(
            None,
            FactKind::Receiver,
            None,
            name,
            vec![
                ("integrations", integrations(receiver).join(", ")),
                ("_configuration", digest(&receiver.to_string())),
            ],
            path,
        ));
    }
    if let Some(root) = doc.get("route") {
        for child in root
            .get("routes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            route_facts(child, &[], path, &mut facts);
        }
    }
    Some(facts)
}

/// What a receiver notifies: `slack #channel`, `pagerduty`, `email to …`, `webhook`.
pub(crate) fn integrations(receiver: &Value) -> Vec<String> {
    let mut found = Vec::new();
    let configs = |key: &str| -> Vec<&Value> {
        receiver
            .get(key)
            .and_then(Value::as_array)
            .map(|items| items.iter().collect())
            .unwrap_or_default()
    };
    for config in configs("slack_configs") {
        found.push(match string_at(config, "channel") {
            Some(channel) => format!("slack {channel}"),
            None => "slack".to_string(),
        });
    }
    for _ in configs("pagerduty_configs") {
        found.push("pagerduty".to_string());
    }
    for config in configs("email_configs") {
        found.push(match string_at(config, "to") {
            Some(to) => format!("email to {to}"),
            None => "email".to_string(),
        });
    }
    for config in configs("webhook_configs") {
        found.push(match string_at(config, "url") {
            Some(url) => format!("webhook {url}"),
            None => "webhook".to_string(),
        });
    }
    for key in [
        "opsgenie_configs",
        "msteams_configs",
        "telegram_configs",
        "sns_configs",
    ] {
        for _ in configs(key) {
            found.push(key.trim_end_matches("_configs").to_string());
        }
    }
    found
}

/// A route and its children, each with the matchers it inherits. A route
/// that names services (`service=~"a|b"`) is a fact of each of them; any
/// other route is the platform's.
fn route_facts(route: &Value, inherited: &[String], path: &str, facts: &mut Vec<Fact>) {
    let mut matchers: Vec<String> = inherited.to_vec();
    matchers.extend(strings(route.get("matchers")));
    let receiver = string_at(route, "receiver").unwrap_or("(inherited receiver)");
    let (services, others): (Vec<&String>, Vec<&String>) = matchers
        .iter()
        .partition(|matcher| matcher.starts_with("service=") || matcher.starts_with("service=~"));
    let named: Vec<String> = services
        .iter()
        .flat_map(|matcher| matcher_values(matcher))
        .collect();
    let condition = if others.is_empty() {
        "every alert".to_string()
    } else {
        others
            .iter()
            .map(|m| m.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let name = format!("{receiver} when {condition}");
    let timing = |key: &str| route.get(key).and_then(scalar_text).unwrap_or_default();
    let attributes = vec![
        ("group_wait", timing("group_wait")),
        ("group_interval", timing("group_interval")),
        ("repeat_interval", timing("repeat_interval")),
        ("continue", timing("continue")),
        (
            "active_time_intervals",
            strings(route.get("active_time_intervals")).join(", "),
        ),
        (
            "mute_time_intervals",
            strings(route.get("mute_time_intervals")).join(", "),
        ),
    ];
    if named.is_empty() {
        facts.push(fact(None, FactKind::Route, None, name, attributes, path));
    } else {
        for service in &named {
            facts.push(fact(
                Some(service),
                FactKind::Route,
                None,
                name.clone(),
                attributes.clone(),
                path,
            ));
        }
    }
    for child in route
        .get("routes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        route_facts(child, &matchers, path, facts);
    }
}

/// The names a `label="a"` or `label=~"a|b"` matcher lists, when they are
/// plain names (no other regular-expression syntax).
fn matcher_values(matcher: &str) -> Vec<String> {
    let Some((_, value)) = matcher.split_once('=') else {
        return Vec::new();
    };
    let value = value.strip_prefix('~').unwrap_or(value);
    let value = value.trim().trim_matches('"');
    value
        .split('|')
        .filter(|name| {
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        .map(str::to_string)
        .collect()
}

// ---------------------------------------------------------------------------
// Logstash

/// One pipeline per service (`svc-<service>.conf`, whose header names the
/// service and its log format); obsgen's own pipelines are the platform's.
fn logstash_facts(path: &str, text: &str) -> Vec<Fact> {
    let name = stem(path);
    let header = text
        .lines()
        .take(5)
        .find_map(|line| line.strip_prefix("# Service "));
    let service = header
        .and_then(|rest| rest.split_whitespace().next())
        .or_else(|| name.strip_prefix("svc-"));
    let format = header
        .and_then(|rest| rest.split_once(": "))
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .unwrap_or_default()
        .to_string();
    let definition: String = text
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    vec![fact(
        service,
        FactKind::LogPipeline,
        None,
        name,
        vec![("format", format), ("_definition", digest(&definition))],
        path,
    )]
}

// ---------------------------------------------------------------------------
// k6

/// The JSON literal assigned by `const NAME = …;` in a generated script.
fn js_constant(text: &str, name: &str) -> Option<Value> {
    let prefix = format!("const {name} = ");
    let mut lines = text.lines();
    let first = lines.find_map(|line| line.strip_prefix(prefix.as_str()))?;
    let mut literal = first.to_string();
    if !literal.trim_end().ends_with(';') {
        for line in lines {
            literal.push('\n');
            literal.push_str(line);
            if line.starts_with("};") {
                break;
            }
        }
    }
    let literal = literal.trim_end().strip_suffix(';')?;
    serde_json::from_str(literal).ok()
}

fn k6_facts(path: &str, text: &str) -> Option<Vec<Fact>> {
    let service = js_constant(text, "SERVICE")
        .and_then(|value| value.as_str().map(str::to_string))
        .unwrap_or_else(|| stem(path).to_string());
    let mut facts = Vec::new();
    if let Some(executors) = js_constant(text, "EXECUTORS") {
        for (name, executor) in executors.as_object()? {
            let rate = match (
                executor.get("rate").and_then(scalar_text),
                string_at(executor, "timeUnit"),
            ) {
                (Some(rate), Some(unit)) => format!("{rate}/{unit}"),
                (Some(rate), None) => rate,
                _ => String::new(),
            };
            facts.push(fact(
                Some(&service),
                FactKind::LoadScenario,
                None,
                name.clone(),
                vec![
                    (
                        "executor",
                        string_at(executor, "executor")
                            .unwrap_or_default()
                            .to_string(),
                    ),
                    ("rate", rate),
                    (
                        "duration",
                        string_at(executor, "duration")
                            .unwrap_or_default()
                            .to_string(),
                    ),
                    ("_settings", digest(&executor.to_string())),
                ],
                path,
            ));
        }
    }
    if let Some(environments) = js_constant(text, "ENVIRONMENTS") {
        for (env, settings) in environments.as_object()? {
            let Some(thresholds) = settings.get("thresholds").and_then(Value::as_object) else {
                continue;
            };
            for (metric, rules) in thresholds {
                let texts: Vec<String> = rules
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|rule| match rule {
                        Value::String(text) => Some(text.clone()),
                        Value::Object(_) => {
                            let threshold = string_at(rule, "threshold")?;
                            let aborts =
                                rule.get("abortOnFail").and_then(Value::as_bool) == Some(true);
                            Some(if aborts {
                                format!("{threshold} (aborts the run)")
                            } else {
                                threshold.to_string()
                            })
                        }
                        _ => None,
                    })
                    .collect();
                facts.push(fact(
                    Some(&service),
                    FactKind::LoadThreshold,
                    Some(env),
                    metric.clone(),
                    vec![("threshold", texts.join(", "))],
                    path,
                ));
            }
        }
    }
    Some(facts)
}

/// How a relabelling rule names its fields: `prometheus.yml` in
/// snake_case, Prometheus Operator objects in camelCase.
struct RelabelKeys {
    sources: &'static str,
    target: &'static str,
}

impl RelabelKeys {
    const PROMETHEUS: Self = Self {
        sources: "source_labels",
        target: "target_label",
    };
    const OPERATOR: Self = Self {
        sources: "sourceLabels",
        target: "targetLabel",
    };
}

/// From a job's relabelling rules: the constant labels it sets (added to
/// `labels`), and the container port it keeps (empty when none).
fn read_relabels(
    relabels: Option<&Value>,
    keys: RelabelKeys,
    labels: &mut BTreeMap<String, String>,
) -> String {
    let mut port = String::new();
    for relabel in relabels.and_then(Value::as_array).into_iter().flatten() {
        let sources = strings(relabel.get(keys.sources));
        if let (Some(target), Some(replacement)) = (
            string_at(relabel, keys.target),
            relabel.get("replacement").and_then(scalar_text),
        ) && sources.is_empty()
        {
            labels.insert(target.to_string(), replacement);
        }
        if sources
            .iter()
            .any(|source| source.ends_with("container_port_number"))
        {
            port = relabel
                .get("regex")
                .and_then(scalar_text)
                .unwrap_or_default();
        }
    }
    port
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_are_the_comparisons_with_constants() {
        assert_eq!(
            thresholds(
                "max without (w) (x{a=\"b\",c!=\"d\"} > (14.4 * 0.001))\nand\nmax(y{e=~\"f\"} > (14.4 * 0.001))"
            ),
            ["> (14.4 * 0.001)"]
        );
        assert_eq!(
            thresholds("max by (job) (up{job=\"a\"}) == 0\nor\nabsent(up)"),
            ["== 0"]
        );
        assert_eq!(
            thresholds("(a / b > 0.02) and sum(c) >= 1"),
            ["> 0.02", ">= 1"]
        );
        assert!(thresholds("a > b").is_empty());
        assert!(thresholds("x{l=\"> 5\"}").is_empty());
        // Any input, however broken, gives an answer without panicking.
        for broken in ["", ">", "> (", "\"", "{{{", "> (1 * ", "== -", "!"] {
            let _ = thresholds(broken);
        }
    }

    #[test]
    fn windows_from_range_selectors_and_recording_names() {
        assert_eq!(
            windows("slo:sli_error:ratio_rate1h{a=\"b\"} > 1 and rate(x[5m]) and y[30m:1m]"),
            ["5m", "30m", "1h"]
        );
        assert!(windows("[ratio_rate]").is_empty());
    }

    #[test]
    fn rule_groups_give_alerts_slos_and_recordings() {
        let text = r#"
groups:
- name: a-slo-availability-meta
  rules:
  - record: slo:time_period:days
    expr: vector(28)
    labels: {env: production, sloth_service: a, sloth_slo: availability}
  - record: sloth_slo_info
    expr: vector(1)
    labels: {env: production, sloth_service: a, sloth_slo: availability, sloth_objective: "99.9"}
- name: a-alerts
  rules:
  - alert: ErrorBudgetBurn
    expr: x > (14.4 * 0.001)
    for: 2m
    labels: {env: production, service: a, severity: page, slo: availability, slo_burn: fast, slo_tier: page}
"#;
        let facts = facts_of("prometheus/rules/a.yml", text.as_bytes()).unwrap();
        let slo = facts.iter().find(|f| f.kind == FactKind::Slo).unwrap();
        assert_eq!(slo.name, "availability");
        assert_eq!(slo.attribute("objective"), Some("99.9%"));
        assert_eq!(slo.attribute("window"), Some("28d"));
        let alert = facts.iter().find(|f| f.kind == FactKind::Alert).unwrap();
        assert_eq!(
            alert.name,
            "ErrorBudgetBurn{slo=\"availability\",slo_burn=\"fast\",slo_tier=\"page\"}"
        );
        assert_eq!(alert.service.as_deref(), Some("a"));
        assert_eq!(alert.env.as_deref(), Some("production"));
        assert_eq!(alert.attribute("threshold"), Some("> (14.4 * 0.001)"));
        assert_eq!(alert.attribute("for"), Some("2m"));
        assert_eq!(alert.attribute("severity"), Some("page"));
        assert_eq!(
            facts
                .iter()
                .filter(|f| f.kind == FactKind::Recording)
                .count(),
            1
        );
    }

    #[test]
    fn unreadable_content_is_none_not_a_panic() {
        for path in [
            "prometheus/rules/a.yml",
            "prometheus/x/prometheus.yml",
            "grafana/dashboards/t/a.json",
            "alertmanager/alertmanager.yml",
            "k6/a.js",
            "prometheus/x/file_sd/a.json",
        ] {
            for junk in [&b"\xff\xfe"[..], b"[1, 2", b"groups: 3", b"{}", b""] {
                let _ = facts_of(path, junk);
            }
        }
        assert!(facts_of("README.md", b"hello").is_none());
    }

    #[test]
    fn routes_naming_services_belong_to_them() {
        let text = r##"
route:
  receiver: default
  routes:
  - receiver: payments/notify
    matchers: ['team="payments"']
    routes:
    - receiver: payments/pagerduty
      matchers: ['severity="page"', 'env=~"production"', 'service=~"checkout|payments-api"']
receivers:
- name: payments/pagerduty
  pagerduty_configs: [{routing_key_file: /x}]
- name: payments/notify
  slack_configs: [{channel: "#payments"}]
"##;
        let facts = facts_of("alertmanager/alertmanager.yml", text.as_bytes()).unwrap();
        let for_checkout: Vec<&Fact> = facts
            .iter()
            .filter(|f| f.service.as_deref() == Some("checkout"))
            .collect();
        assert_eq!(for_checkout.len(), 1);
        assert_eq!(
            for_checkout.first().unwrap().name,
            "payments/pagerduty when team=\"payments\", severity=\"page\", env=~\"production\""
        );
        assert!(facts.iter().any(|f| f.kind == FactKind::Receiver
            && f.attribute("integrations") == Some("slack #payments")));
        assert!(facts.iter().any(|f| f.kind == FactKind::Route
            && f.service.is_none()
            && f.name == "payments/notify when team=\"payments\""));
    }
}

#[cfg(test)]
mod operator_tests {
    use super::*;

    #[test]
    fn operator_scrape_objects_are_scrape_jobs() {
        let text = "# generated by obsgen — do not edit\napiVersion: monitoring.coreos.com/v1\nkind: PodMonitor\nmetadata:\n  name: orders\n  labels:\n    obsgen.dev/env: production\n    obsgen.dev/service: orders\nspec:\n  namespaceSelector:\n    matchNames:\n    - prod\n  podMetricsEndpoints:\n  - path: /metrics\n    scheme: http\n    interval: 30s\n    relabelings:\n    - sourceLabels:\n      - __meta_kubernetes_pod_container_port_number\n      regex: \"9090\"\n      action: keep\n    - targetLabel: team\n      replacement: payments\n      action: replace\n";
        let facts = facts_of(
            "prometheus/production/operator/podmonitors/orders.yaml",
            text.as_bytes(),
        )
        .unwrap();
        let job = facts.first().unwrap();
        assert_eq!(job.kind, FactKind::ScrapeJob);
        assert_eq!(job.service.as_deref(), Some("orders"));
        assert_eq!(job.env.as_deref(), Some("production"));
        assert_eq!(job.attribute("port"), Some("9090"));
        assert_eq!(job.attribute("namespaces"), Some("prod"));
        assert_eq!(job.attribute("labels"), Some("team=payments"));
    }
}
