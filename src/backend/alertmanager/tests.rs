//! Unit tests of the Alertmanager backend on a platform richer than the
//! example: two production environments, a team with PagerDuty and working
//! hours, one without PagerDuty, one with only PagerDuty, one with only a
//! webhook, and a fallback with PagerDuty. amtool runs the same policy in
//! the integration tests; these pin down the shape.

use serde_json::Value;

use super::config::Route;
use super::receivers::{FALLBACK, FALLBACK_PAGERDUTY};
use super::*;
use crate::model::alerts::{SEVERITY, SEVERITY_PAGE, SEVERITY_TICKET, SLO, SLO_BURN};
use crate::model::build::Sourced;
use crate::model::{Model, build};
use crate::spec::{PlatformManifest, ServiceManifest};

const PLATFORM: &str = r##"
apiVersion: obsgen.dev/v1
kind: Platform
metadata: {name: rich}
spec:
  environments:
    - {name: dev}
    - {name: staging}
    - {name: prod-eu, production: true}
    - {name: prod-us, production: true}
  alerting:
    repeat_interval: 3h
    slack_api_url_file: /run/secrets/slack-url-SECRET
    smtp:
      smarthost: smtp.example:587
      from: am@example.com
      auth_username: am
      auth_password_file: /run/secrets/smtp-password-SECRET
    fallback:
      pagerduty: {routing_key_file: /run/secrets/fallback-pd-SECRET}
      email: {to: ops@example.com}
  teams:
    alpha:
      pagerduty: {routing_key_file: /run/secrets/alpha-pd-SECRET}
      slack: {channel: "#alpha"}
      group_wait: 10s
      working_hours: {weekdays: "monday:thursday, friday", start: "09:00", end: "17:30", location: Europe/Paris}
    beta:
      slack: {channel: "#beta", api_url_file: /run/secrets/beta-slack-SECRET}
    gamma:
      pagerduty: {routing_key_file: /run/secrets/gamma-pd-SECRET}
    delta:
      webhook: {url: "https://hooks.example/delta", credentials_file: /run/secrets/delta-webhook-SECRET}
"##;

fn service(name: &str, team: &str, extra: &str) -> Sourced<ServiceManifest> {
    let text = format!(
        "apiVersion: obsgen.dev/v1\nkind: Service\nmetadata: {{name: {name}, team: {team}}}\nspec: {{{extra}}}\n"
    );
    Sourced {
        source: format!("services/{name}.yaml"),
        spec: serde_saphyr::from_str(&text).expect("a service manifest"),
    }
}

fn model() -> Model {
    let platform: PlatformManifest = serde_saphyr::from_str(PLATFORM).expect("the platform");
    let platform = Sourced {
        source: "obsgen.yaml".to_string(),
        spec: platform,
    };
    build(
        &platform,
        vec![
            service("a-pager", "alpha", "alerts: {page: true}"),
            service("a-quiet", "alpha", ""),
            service(
                "a-staging-only",
                "alpha",
                "environments: [staging], alerts: {page: true}",
            ),
            service("b-pager", "beta", "alerts: {page: true}"),
            service("g-pager", "gamma", "alerts: {page: true}"),
            service("g-quiet", "gamma", "alerts: {page: false}"),
        ],
    )
}

fn all_routes(route: &Route) -> Vec<&Route> {
    let mut out = vec![route];
    for child in &route.routes {
        out.extend(all_routes(child));
    }
    out
}

fn team_route<'a>(config: &'a Config, team: &str) -> &'a Route {
    let matcher = matchers::equal(matchers::TEAM, team);
    config
        .route
        .routes
        .iter()
        .find(|route| route.matchers == [matcher.clone()])
        .unwrap_or_else(|| panic!("no route for team {team}"))
}

#[test]
fn only_pages_of_opted_in_services_in_production_reach_pagerduty() {
    let config = config(&model());
    let pagerduty: Vec<&str> = config
        .receivers
        .iter()
        .filter(|r| !r.pagerduty_configs.is_empty())
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(
        pagerduty,
        [FALLBACK_PAGERDUTY, "alpha/pagerduty", "gamma/pagerduty"]
    );

    let routes = all_routes(&config.route);
    let paging: Vec<&&Route> = routes
        .iter()
        .filter(|route| pagerduty.contains(&route.receiver.as_str()))
        .collect();
    assert_eq!(paging.len(), 3, "one pager route per PagerDuty receiver");
    for route in paging {
        assert_eq!(route.matchers.len(), 3, "{route:?}");
        assert_eq!(route.matchers[0], r#"severity="page""#);
        assert_eq!(route.matchers[1], r#"env=~"prod-eu|prod-us""#);
        let services = &route.matchers[2];
        assert!(services.starts_with("service=~"), "{services}");
        for quiet in ["a-quiet", "a-staging-only", "g-quiet"] {
            assert!(!services.contains(quiet), "{quiet} did not opt in");
        }
        assert!(route.routes.is_empty() && route.active_time_intervals.is_empty());
    }
    assert_eq!(
        team_route(&config, "alpha").routes[0].matchers[2],
        r#"service=~"a-pager""#
    );
    assert_eq!(
        config.route.routes.last().map(|r| r.matchers[2].as_str()),
        Some(r#"service=~"a-pager|b-pager|g-pager""#),
        "the fallback pages for every opted-in service, and last"
    );
}

#[test]
fn tickets_go_to_notify_receivers_or_the_fallback() {
    let config = config(&model());
    assert_eq!(config.route.receiver, FALLBACK);
    assert_eq!(config.route.group_by, ["alertname", "service", "env"]);
    // beta: no PagerDuty, so its pages go where its tickets go.
    let beta = team_route(&config, "beta");
    assert_eq!(beta.receiver, "beta/notify");
    assert!(beta.routes.is_empty());
    // gamma has no Slack / e-mail / webhook: its tickets reach the
    // fallback, never its PagerDuty. delta's webhook is its notify receiver.
    assert_eq!(team_route(&config, "gamma").receiver, FALLBACK);
    assert_eq!(team_route(&config, "delta").receiver, "delta/notify");
    // Team timings override the platform's.
    let alpha = team_route(&config, "alpha");
    assert_eq!(
        alpha.group_wait.map(|d| d.to_string()).as_deref(),
        Some("10s")
    );
    assert_eq!(
        alpha.repeat_interval.map(|d| d.to_string()).as_deref(),
        Some("3h")
    );
}

#[test]
fn working_hours_mute_tickets_not_pages() {
    let model = model();
    let config = config(&model);
    let alpha = team_route(&config, "alpha");
    assert_eq!(alpha.routes.len(), 2);
    assert_eq!(alpha.routes[0].receiver, "alpha/pagerduty");
    assert!(alpha.routes[0].active_time_intervals.is_empty());
    let tickets = &alpha.routes[1];
    assert_eq!(tickets.receiver, "alpha/notify");
    assert!(tickets.matchers.is_empty(), "every other alert of the team");
    assert_eq!(tickets.active_time_intervals, ["alpha/working-hours"]);

    assert_eq!(config.time_intervals.len(), 1);
    let interval = &config.time_intervals[0];
    assert_eq!(interval.name, "alpha/working-hours");
    let range = &interval.time_intervals[0];
    assert_eq!(range.weekdays, ["monday:thursday", "friday"]);
    assert_eq!(
        (
            range.times[0].start_time.as_str(),
            range.times[0].end_time.as_str()
        ),
        ("09:00", "17:30")
    );
    assert_eq!(range.location, "Europe/Paris");
}

#[test]
fn the_policy_gives_the_expected_receivers() {
    let model = model();
    let env = |name: &str| {
        model
            .platform
            .environment(name)
            .expect("an environment")
            .clone()
    };
    let team = |name: &str| model.team(name);
    let expect = |team_name: Option<&str>, env_name: &str, severity: &str, service: &str| {
        cases::expected_receiver(
            &model,
            team_name.and_then(team),
            &env(env_name),
            severity,
            service,
        )
    };
    assert_eq!(
        expect(Some("alpha"), "prod-us", SEVERITY_PAGE, "a-pager"),
        "alpha/pagerduty"
    );
    assert_eq!(
        expect(Some("alpha"), "staging", SEVERITY_PAGE, "a-pager"),
        "alpha/notify"
    );
    assert_eq!(
        expect(Some("alpha"), "prod-eu", SEVERITY_PAGE, "a-quiet"),
        "alpha/notify"
    );
    assert_eq!(
        expect(Some("alpha"), "prod-eu", SEVERITY_TICKET, "a-pager"),
        "alpha/notify"
    );
    assert_eq!(
        expect(Some("beta"), "prod-eu", SEVERITY_PAGE, "b-pager"),
        "beta/notify"
    );
    assert_eq!(
        expect(Some("gamma"), "prod-eu", SEVERITY_PAGE, "g-pager"),
        "gamma/pagerduty"
    );
    assert_eq!(
        expect(Some("gamma"), "prod-eu", SEVERITY_TICKET, "g-pager"),
        FALLBACK
    );
    assert_eq!(
        expect(None, "prod-eu", SEVERITY_PAGE, "b-pager"),
        FALLBACK_PAGERDUTY
    );
    assert_eq!(expect(None, "dev", SEVERITY_PAGE, "b-pager"), FALLBACK);

    let groups = cases::cases(&model);
    assert_eq!(groups.len(), 5, "four teams and the unknown one");
    let total: usize = groups.iter().map(|g| g.cases.len()).sum();
    // envs × severities × (a paging and a quiet service) for alpha, beta,
    // gamma and the unknown team; delta has no service, so only a quiet
    // placeholder; and one alert without a team.
    assert_eq!(total, 4 * (4 * 2 * 2) + 4 * 2 + 1);
}

#[test]
fn inhibitions_follow_the_alert_contract() {
    let rules = routes::inhibit_rules();
    assert_eq!(rules.len(), 2);
    assert_eq!(
        rules[0].source_matchers,
        [r#"alertname="ServiceUnavailable""#]
    );
    assert_eq!(
        rules[0].target_matchers,
        [r#"alertname!="ServiceUnavailable""#]
    );
    assert_eq!(rules[0].equal, ["service", "env"]);
    assert_eq!(
        rules[1].source_matchers,
        [r#"alertname="ErrorBudgetBurn""#, r#"slo_tier="page""#]
    );
    assert_eq!(
        rules[1].target_matchers,
        [r#"alertname="ErrorBudgetBurn""#, r#"slo_tier="ticket""#]
    );
    assert_eq!(rules[1].equal, ["service", "env", "slo"]);
}

/// Keys Alertmanager would read a secret from inline.
const INLINE_SECRET_KEYS: [&str; 11] = [
    "routing_key",
    "service_key",
    "api_url",
    "slack_api_url",
    "auth_password",
    "auth_secret",
    "smtp_auth_password",
    "smtp_auth_secret",
    "password",
    "bearer_token",
    "credentials",
];

fn walk_strings<'a>(value: &'a Value, key: &str, out: &mut Vec<(String, &'a str)>) {
    match value {
        Value::String(text) => out.push((key.to_string(), text)),
        Value::Array(items) => items.iter().for_each(|item| walk_strings(item, key, out)),
        Value::Object(map) => {
            for (k, v) in map {
                assert!(
                    !INLINE_SECRET_KEYS.contains(&k.as_str()),
                    "`{k}` would hold a secret inline"
                );
                // A webhook's URL is inline by design; validation refuses
                // one with credentials or a query string in it.
                if k == "url" {
                    let url = v.as_str().unwrap_or_default();
                    assert!(
                        !url.contains('@') && !url.contains('?'),
                        "`{url}` may carry a secret"
                    );
                }
                walk_strings(v, k, out);
            }
        }
        _ => {}
    }
}

#[test]
fn secrets_appear_only_as_file_references() {
    let model = model();
    let output = AlertmanagerBackend
        .render(&crate::backend::RenderContext { model: &model })
        .expect("rendering");
    let text = std::str::from_utf8(output.get(CONFIG_PATH).expect("the config")).expect("UTF-8");
    let value: Value = serde_saphyr::from_str(text).expect("YAML");
    let mut strings = Vec::new();
    walk_strings(&value, "", &mut strings);
    let secret_paths: Vec<&(String, &str)> = strings
        .iter()
        .filter(|(_, s)| s.contains("SECRET"))
        .collect();
    for (key, path) in &secret_paths {
        assert!(
            key.ends_with("_file"),
            "{path} is under `{key}`, not a `*_file` key"
        );
        assert!(path.starts_with("/run/secrets/"), "{path}");
    }
    let keys: Vec<&str> = secret_paths.iter().map(|(k, _)| k.as_str()).collect();
    for key in [
        "routing_key_file",
        "api_url_file",
        "slack_api_url_file",
        "smtp_auth_password_file",
        "credentials_file",
    ] {
        assert!(keys.contains(&key), "no `{key}` in the output");
    }
    // The webhook's URL is inline (it carries no secret); its token is a file.
    assert!(text.contains("url: https://hooks.example/delta"));
    for (path, contents) in output.iter() {
        let contents = String::from_utf8_lossy(contents);
        if path != CONFIG_PATH {
            assert!(!contents.contains("SECRET"), "{path} names a secret file");
        }
    }
}

#[test]
fn templates_define_what_receivers_use_and_read_the_contract_labels() {
    for name in receivers::TEMPLATE_NAMES {
        assert!(
            TEMPLATES.contains(&format!("{{{{ define \"{name}\" ")),
            "templates/alertmanager/obsgen.tmpl does not define {name}"
        );
    }
    for label in [
        matchers::ALERTNAME,
        matchers::SERVICE,
        matchers::ENV,
        matchers::TEAM,
        SEVERITY,
        SLO,
        SLO_BURN,
    ] {
        assert!(
            TEMPLATES.contains(&format!(".Labels.{label} ")),
            "the templates do not show the `{label}` label"
        );
    }
    for annotation in [
        "summary",
        "description",
        "dashboard_url",
        "traces_url",
        "runbook_url",
    ] {
        assert!(TEMPLATES.contains(&format!(".Annotations.{annotation} ")));
    }
}

#[test]
fn without_production_or_opted_in_services_nothing_pages() {
    let text = PLATFORM.replace(", production: true", "");
    let platform: PlatformManifest = serde_saphyr::from_str(&text).expect("the platform");
    let platform = Sourced {
        source: "obsgen.yaml".to_string(),
        spec: platform,
    };
    for services in [
        vec![service("a-pager", "alpha", "alerts: {page: true}")],
        vec![],
    ] {
        let model = build(&platform, services);
        let config = config(&model);
        for route in all_routes(&config.route) {
            assert!(
                !route.receiver.ends_with("pagerduty"),
                "{} is reachable without a production environment",
                route.receiver
            );
        }
    }
}

#[test]
fn output_is_deterministic() {
    let render = || {
        AlertmanagerBackend
            .render(&crate::backend::RenderContext { model: &model() })
            .expect("rendering")
    };
    assert_eq!(render(), render());
}
