//! Routing test cases: for every team × environment × severity, with a
//! service that opted in to paging and one that did not, the receiver the
//! alert must reach; plus the same for an unknown team and for an alert
//! without a team. Written to `alertmanager/tests/routes.tsv` and run
//! through `amtool config routes test --verify.receivers=...` by
//! `obsgen test` and the integration tests.
//!
//! The expected receiver comes from the routing *policy* (see
//! [`expected_receiver`]), written here independently of the tree in
//! [`super::routes`]: amtool then proves that the tree implements the
//! policy. Cases are bounded by teams and environments, not services.
//!
//! File format: `#` comment lines; otherwise tab-separated fields, the
//! expected receiver first, then one `label="value"` matcher per label.

use std::collections::BTreeMap;

use super::matchers::{self, ALERTNAME, ENV, SERVICE, TEAM};
use super::receivers::{self, FALLBACK, FALLBACK_PAGERDUTY};
use super::routes::pages_somewhere;
use crate::model::alerts::{SERVICE_UNAVAILABLE, SEVERITY, SEVERITY_PAGE, SEVERITY_TICKET};
use crate::model::{Environment, Model, Team};

/// One alert and where it must go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub receiver: String,
    /// Sorted by name.
    pub labels: BTreeMap<String, String>,
}

/// Cases under a heading (`team payments`).
#[derive(Debug, Clone)]
pub struct CaseGroup {
    pub title: String,
    pub cases: Vec<Case>,
}

/// A service name for "a service that did not opt in", when a team has no
/// such service of its own.
const PLACEHOLDER_SERVICE: &str = "not-opted-in";
/// The team label of "a team the platform does not know".
const UNKNOWN_TEAM: &str = "unknown-team";

/// The routing policy. An alert reaches PagerDuty only when it is a page,
/// its environment is a production one and its service pages somewhere;
/// then it goes to its team's PagerDuty, else (no PagerDuty) to the team's
/// other receivers. Everything else goes to the team's Slack / e-mail.
/// A team without such receivers, or no known team, means the fallback.
pub fn expected_receiver(
    model: &Model,
    team: Option<&Team>,
    env: &Environment,
    severity: &str,
    service: &str,
) -> String {
    let pages = severity == SEVERITY_PAGE
        && env.production
        && model.service(service).is_some_and(|service| {
            pages_somewhere(service) && team.is_none_or(|team| team.name == service.team)
        });
    match team {
        Some(team) => {
            let notify = receivers::has_notify(&team.receivers);
            if pages && team.receivers.pagerduty.is_some() {
                receivers::team_pagerduty(&team.name)
            } else if notify {
                receivers::team_notify(&team.name)
            } else {
                FALLBACK.to_string()
            }
        }
        None if pages && model.platform.alerting.fallback.pagerduty.is_some() => {
            FALLBACK_PAGERDUTY.to_string()
        }
        None => FALLBACK.to_string(),
    }
}

/// Every case, grouped by team (sorted), then the unknown team.
pub fn cases(model: &Model) -> Vec<CaseGroup> {
    let mut groups = Vec::new();
    for team in &model.platform.teams {
        let services = representative_services(model, Some(&team.name));
        groups.push(CaseGroup {
            title: format!("team {}", team.name),
            cases: matrix(model, Some(team), &services),
        });
    }

    let unknown = unused_name(UNKNOWN_TEAM, |name| model.team(name).is_some());
    let services = representative_services(model, None);
    let mut cases = matrix(model, None, &services);
    for case in &mut cases {
        case.labels.insert(TEAM.to_string(), unknown.clone());
    }
    if let (Some(env), Some(service)) = (model.platform.environments.first(), services.first()) {
        // No team label at all.
        cases.push(Case {
            receiver: FALLBACK.to_string(),
            labels: labels(&[
                (ALERTNAME, SERVICE_UNAVAILABLE),
                (ENV, &env.name),
                (SERVICE, service),
                (SEVERITY, SEVERITY_TICKET),
            ]),
        });
    }
    groups.push(CaseGroup {
        title: format!("a team the platform does not know (`{unknown}`), and no team"),
        cases,
    });
    groups
}

/// One service that pages somewhere (if any) and one that does not (a
/// real one if any, else a placeholder), of `team` or of any team.
fn representative_services(model: &Model, team: Option<&str>) -> Vec<String> {
    let of_team = |name: &str| team.is_none_or(|team| team == name);
    let mut services = Vec::new();
    if let Some(service) = model
        .services
        .iter()
        .find(|s| of_team(&s.team) && pages_somewhere(s))
    {
        services.push(service.name.clone());
    }
    match model
        .services
        .iter()
        .find(|s| of_team(&s.team) && !s.alerts.page)
    {
        Some(service) => services.push(service.name.clone()),
        None => services.push(unused_name(PLACEHOLDER_SERVICE, |name| {
            model.service(name).is_some()
        })),
    }
    services
}

/// Environments × severities × services, for one team (`None`: the team
/// label is filled in by the caller).
fn matrix(model: &Model, team: Option<&Team>, services: &[String]) -> Vec<Case> {
    let mut cases = Vec::new();
    for env in &model.platform.environments {
        for severity in [SEVERITY_PAGE, SEVERITY_TICKET] {
            for service in services {
                let mut pairs = vec![
                    (ALERTNAME, SERVICE_UNAVAILABLE),
                    (ENV, env.name.as_str()),
                    (SERVICE, service.as_str()),
                    (SEVERITY, severity),
                ];
                if let Some(team) = team {
                    pairs.push((TEAM, team.name.as_str()));
                }
                cases.push(Case {
                    receiver: expected_receiver(model, team, env, severity, service),
                    labels: labels(&pairs),
                });
            }
        }
    }
    cases
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}

/// `base`, or `base-2`, `base-3`, ... whichever is not `taken`.
fn unused_name(base: &str, taken: impl Fn(&str) -> bool) -> String {
    let mut name = base.to_string();
    let mut n = 2;
    while taken(&name) {
        name = format!("{base}-{n}");
        n += 1;
    }
    name
}

/// The cases as the TSV file, after `header` (comment lines). A case with a
/// tab, carriage return or line feed in a value could not be written on
/// one line; names are validated so that it cannot occur, and such a case
/// would be left out rather than break the file.
pub fn render_tsv(header: &str, groups: &[CaseGroup]) -> String {
    let mut out = String::from(header);
    out.push_str(
        "#\n\
         # Routing cases for `amtool config routes test`: on each line, the\n\
         # receiver an alert must reach, then the alert's labels, tab-separated.\n\
         # `obsgen test` runs them all (and the promtool tests).\n",
    );
    for group in groups {
        out.push_str("\n# ");
        out.push_str(&one_line(&group.title));
        out.push('\n');
        for case in &group.cases {
            let fields = std::iter::once(case.receiver.clone()).chain(
                case.labels
                    .iter()
                    .map(|(name, value)| matchers::equal(name, value)),
            );
            let fields: Vec<String> = fields.collect();
            if fields.iter().any(|f| f.contains(['\t', '\r', '\n'])) {
                continue;
            }
            out.push_str(&fields.join("\t"));
            out.push('\n');
        }
    }
    out
}

fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Parses a TSV file written by [`render_tsv`] back into (receiver, label
/// matchers) pairs, for the tests that run them.
pub fn parse_tsv(text: &str) -> Vec<(String, Vec<String>)> {
    text.lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .map(|line| {
            let mut fields = line.split('\t').map(str::to_string);
            let receiver = fields.next().unwrap_or_default();
            (receiver, fields.collect())
        })
        .collect()
}
