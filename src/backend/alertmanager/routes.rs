//! The routing tree, the teams' working hours and the inhibitions.
//!
//! ```text
//! route: receiver default, group_by [alertname, service, env]
//! ├─ team="payments"                       → payments/notify (team timings)
//! │  └─ severity="page", env=~"production",
//! │     service=~"checkout|payments-api"  → payments/pagerduty
//! ├─ team="fulfilment"                     → fulfilment/notify
//! │  ├─ (pager matchers)                  → fulfilment/pagerduty
//! │  └─ (everything else)                 → fulfilment/notify, only in working hours
//! └─ (pager matchers, any opted-in service) → default-pagerduty, if the fallback has one
//! ```
//!
//! Only the pager route of a team reaches PagerDuty, and it requires all
//! three: the alert is a page, its `env` is a production environment and
//! its `service` opted in to paging. The rules backend only ever emits
//! pages in that case; the tree enforces it a second time, so a rule that
//! got it wrong still cannot wake anyone. The service matcher is one
//! regular expression per team, so the tree stays a handful of routes per
//! team however many services there are.

use std::collections::BTreeMap;

use super::config::{InhibitRule, Route, TimeInterval, TimeRange, Times};
use super::matchers::{self, ALERTNAME, ENV, SERVICE, TEAM};
use super::receivers::{self, FALLBACK, FALLBACK_PAGERDUTY};
use crate::model::alerts::{
    ERROR_BUDGET_BURN, SERVICE_UNAVAILABLE, SEVERITY, SEVERITY_PAGE, SEVERITY_TICKET, SLO, SLO_TIER,
};
use crate::model::{Model, Service, Team};

/// The labels alerts are grouped by: one notification per alert, service
/// and environment.
pub const GROUP_BY: [&str; 3] = [ALERTNAME, SERVICE, ENV];

/// Whether a service pages in at least one of its environments.
pub fn pages_somewhere(service: &Service) -> bool {
    service.environments.iter().any(|env| service.pages_in(env))
}

/// The names of the platform's production environments, in its order.
pub fn production_envs(model: &Model) -> Vec<&str> {
    model
        .platform
        .environments
        .iter()
        .filter(|env| env.production)
        .map(|env| env.name.as_str())
        .collect()
}

/// The services that page somewhere, by team (sorted by name, as the model is).
pub fn paging_services_by_team(model: &Model) -> BTreeMap<&str, Vec<&str>> {
    let mut by_team: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for service in model.services.iter().filter(|s| pages_somewhere(s)) {
        by_team
            .entry(service.team.as_str())
            .or_default()
            .push(service.name.as_str());
    }
    by_team
}

/// The matchers of a route that may reach PagerDuty; `None` when no alert
/// of these services may page (no production environment, no service).
fn pager_matchers(production: &[&str], services: &[&str]) -> Option<Vec<String>> {
    Some(vec![
        matchers::equal(SEVERITY, SEVERITY_PAGE),
        matchers::one_of(ENV, production)?,
        matchers::one_of(SERVICE, services)?,
    ])
}

/// The time interval of a team's working hours.
pub fn working_hours_name(team: &str) -> String {
    format!("{team}/working-hours")
}

/// The whole tree.
pub fn route_tree(model: &Model) -> Route {
    let alerting = &model.platform.alerting;
    let production = production_envs(model);
    let paging = paging_services_by_team(model);

    let mut routes: Vec<Route> = model
        .platform
        .teams
        .iter()
        .map(|team| {
            let services = paging
                .get(team.name.as_str())
                .map_or(&[][..], Vec::as_slice);
            team_route(team, &production, services)
        })
        .collect();

    if model.platform.alerting.fallback.pagerduty.is_some() {
        let every_paging_service: Vec<&str> = paging.values().flatten().copied().collect();
        if let Some(matchers) = pager_matchers(&production, &every_paging_service) {
            routes.push(Route::leaf(FALLBACK_PAGERDUTY, matchers));
        }
    }

    Route {
        receiver: FALLBACK.to_string(),
        matchers: Vec::new(),
        group_by: GROUP_BY.iter().map(|label| label.to_string()).collect(),
        group_wait: Some(alerting.group_wait),
        group_interval: Some(alerting.group_interval),
        repeat_interval: Some(alerting.repeat_interval),
        active_time_intervals: Vec::new(),
        routes,
    }
}

fn team_route(team: &Team, production: &[&str], paging_services: &[&str]) -> Route {
    let tickets = receivers::team_ticket_receiver(team);
    let mut routes = Vec::new();
    // Without PagerDuty, pages go where tickets go: a pager route is then
    // only needed to keep them out of the working-hours route below.
    let pager_route_needed = team.receivers.pagerduty.is_some() || team.working_hours.is_some();
    if let Some(matchers) =
        pager_matchers(production, paging_services).filter(|_| pager_route_needed)
    {
        // Pages are never muted: they go out at any hour.
        routes.push(Route::leaf(receivers::team_page_receiver(team), matchers));
    }
    if team.working_hours.is_some() {
        // Everything that is not a page: only within working hours (not
        // inherited from the team route, so that pages above stay on).
        let mut in_hours = Route::leaf(tickets.clone(), Vec::new());
        in_hours.active_time_intervals = vec![working_hours_name(&team.name)];
        routes.push(in_hours);
    }
    Route {
        receiver: tickets,
        matchers: vec![matchers::equal(TEAM, &team.name)],
        group_by: Vec::new(),
        group_wait: Some(team.group_wait),
        group_interval: Some(team.group_interval),
        repeat_interval: Some(team.repeat_interval),
        active_time_intervals: Vec::new(),
        routes,
    }
}

/// One time interval per team that declares working hours.
pub fn time_intervals(model: &Model) -> Vec<TimeInterval> {
    model
        .platform
        .teams
        .iter()
        .filter_map(|team| {
            let hours = team.working_hours.as_ref()?;
            Some(TimeInterval {
                name: working_hours_name(&team.name),
                time_intervals: vec![TimeRange {
                    weekdays: hours
                        .weekdays
                        .split(',')
                        .map(str::trim)
                        .filter(|day| !day.is_empty())
                        .map(str::to_string)
                        .collect(),
                    times: vec![Times {
                        start_time: hours.start.clone(),
                        end_time: hours.end.clone(),
                    }],
                    location: hours.location.clone(),
                }],
            })
        })
        .collect()
}

/// The inhibitions:
///
/// 1. a service that is fully unavailable silences its other alerts in the
///    same environment (they are symptoms of the same outage);
/// 2. a page-tier burn of an SLO silences the ticket-tier burn of the same
///    SLO, service and environment (the slow burn says nothing new).
pub fn inhibit_rules() -> Vec<InhibitRule> {
    vec![
        InhibitRule {
            source_matchers: vec![matchers::equal(ALERTNAME, SERVICE_UNAVAILABLE)],
            target_matchers: vec![matchers::not_equal(ALERTNAME, SERVICE_UNAVAILABLE)],
            equal: vec![SERVICE.to_string(), ENV.to_string()],
        },
        InhibitRule {
            // `slo_tier` takes the severity values `page` and `ticket`.
            source_matchers: vec![
                matchers::equal(ALERTNAME, ERROR_BUDGET_BURN),
                matchers::equal(SLO_TIER, SEVERITY_PAGE),
            ],
            target_matchers: vec![
                matchers::equal(ALERTNAME, ERROR_BUDGET_BURN),
                matchers::equal(SLO_TIER, SEVERITY_TICKET),
            ],
            equal: vec![SERVICE.to_string(), ENV.to_string(), SLO.to_string()],
        },
    ]
}
