//! Semantic checks: what a schema cannot say. Names that must exist
//! (teams, environments, dependencies), names that must be unique, label
//! names Prometheus accepts, numbers in range, PromQL that parses, burn-rate
//! thresholds that can fire. Every check reports and moves on.

use std::collections::{HashMap, HashSet};

use crate::diagnostics::{Diagnostic, closest};
use crate::load::{Document, field_path, yaml::escape_pointer};
use crate::model::slo::{MAX_SLO_WINDOW, MIN_SLO_WINDOW, burn_windows};
use crate::spec::{
    Discovery, Duration, Framework, IndicatorSpec, Language, LogFormat, PlatformManifest, Protocol,
    ServiceManifest, ServiceSpec, TracingBackend, TracingSpec,
};

use super::promql;

/// Labels obsgen sets itself; a manifest may not redefine them.
pub const RESERVED_LABELS: &[&str] = &[
    "job",
    "env",
    "team",
    "service",
    "instance",
    "namespace",
    "pod",
    "alertname",
    "le",
    "quantile",
    crate::model::alerts::SEVERITY,
    crate::model::alerts::SLO,
    crate::model::alerts::SLO_TIER,
    crate::model::alerts::SLO_BURN,
    "sloth_id",
    "sloth_service",
    "sloth_slo",
    "sloth_window",
];

/// A place to report problems about one document.
struct Reporter<'a> {
    document: &'a Document,
    diagnostics: &'a mut Vec<Diagnostic>,
}

impl Reporter<'_> {
    fn error(&mut self, pointer: &str, message: impl Into<String>) -> &mut Diagnostic {
        let position = self.document.positions.value(pointer);
        self.push(
            Diagnostic::error(&self.document.source, message)
                .at(position.line, position.column)
                .path(field_path(pointer)),
        )
    }
    fn key_error(&mut self, pointer: &str, message: impl Into<String>) -> &mut Diagnostic {
        let position = self.document.positions.key(pointer);
        self.push(
            Diagnostic::error(&self.document.source, message)
                .at(position.line, position.column)
                .path(field_path(pointer)),
        )
    }
    fn warning(&mut self, pointer: &str, message: impl Into<String>) -> &mut Diagnostic {
        let position = self.document.positions.value(pointer);
        self.push(
            Diagnostic::warning(&self.document.source, message)
                .at(position.line, position.column)
                .path(field_path(pointer)),
        )
    }
    fn push(&mut self, diagnostic: Diagnostic) -> &mut Diagnostic {
        // `Vec::push_mut` would say this directly (Rust 1.95, above our MSRV).
        let index = self.diagnostics.len();
        self.diagnostics.push(diagnostic);
        match self.diagnostics.get_mut(index) {
            Some(pushed) => pushed,
            None => unreachable!("the diagnostic was just pushed"),
        }
    }
}

/// Chainable setters on a borrowed diagnostic.
trait Annotate {
    fn expected(&mut self, text: impl Into<String>) -> &mut Self;
    fn found(&mut self, text: impl Into<String>) -> &mut Self;
    fn hint(&mut self, text: impl Into<String>) -> &mut Self;
}

impl Annotate for Diagnostic {
    fn expected(&mut self, text: impl Into<String>) -> &mut Self {
        self.expected = Some(text.into());
        self
    }
    fn found(&mut self, text: impl Into<String>) -> &mut Self {
        self.found = Some(text.into());
        self
    }
    fn hint(&mut self, text: impl Into<String>) -> &mut Self {
        self.hint = Some(text.into());
        self
    }
}

/// Checks the platform document on its own.
pub fn check_platform(
    document: &Document,
    platform: &PlatformManifest,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let mut report = Reporter {
        document,
        diagnostics,
    };
    let spec = &platform.spec;
    let mut seen = HashSet::new();
    for (index, env) in spec.environments.iter().enumerate() {
        if !seen.insert(env.name.as_str()) {
            report
                .error(
                    &format!("/spec/environments/{index}/name"),
                    format!("environment `{}` is declared twice", env.name),
                )
                .hint("environment names must be unique");
        }
        if let Some(url) = &env.service_url {
            check_service_url(
                &mut report,
                &format!("/spec/environments/{index}/service_url"),
                url,
            );
        }
    }
    if let Some(url) = &spec.service_url {
        check_service_url(&mut report, "/spec/service_url", url);
    }
    check_grafana_folder(&mut report, platform);
    check_alertmanager_target(&mut report, spec);
    if let Some(tracing) = &spec.tracing {
        check_tracing(&mut report, tracing, spec.environments.len());
    }
    if let Some(prometheus) = &spec.prometheus {
        let interval = prometheus
            .scrape_interval
            .unwrap_or(Duration::from_secs(30));
        if interval < Duration::from_secs(1) {
            report
                .error(
                    "/spec/prometheus/scrape_interval",
                    "the scrape interval is too short",
                )
                .expected("at least `1s`")
                .found(interval.to_string());
        }
        if let Some(timeout) = prometheus.scrape_timeout
            && timeout > interval
        {
            report
                .error(
                    "/spec/prometheus/scrape_timeout",
                    "the scrape timeout is longer than the scrape interval",
                )
                .expected(format!("at most `{interval}`"))
                .found(timeout.to_string())
                .hint("Prometheus rejects a scrape_timeout above the scrape_interval");
        }
        for name in prometheus.external_labels.keys() {
            let pointer = format!("/spec/prometheus/external_labels/{}", escape_pointer(name));
            check_label_name(&mut report, &pointer, name);
            if name == "env" {
                report
                    .error(
                        &pointer,
                        "`env` is set by obsgen: each environment's Prometheus gets its own",
                    )
                    .hint("remove it; rule files shared by every environment read `env` from it");
            }
        }
        for (index, target) in prometheus.alertmanagers.iter().enumerate() {
            if crate::model::naming::host_port(target)
                .is_none_or(|(host, port)| host.is_empty() || port.is_none())
                || target.contains("://")
            {
                report
                    .error(
                        &format!("/spec/prometheus/alertmanagers/{index}"),
                        "not a `host:port` address",
                    )
                    .expected("`host:port`, e.g. `alertmanager:9093`")
                    .found(target.clone());
            }
        }
    }
    for (name, team) in &spec.teams {
        let pointer = format!("/spec/teams/{}", escape_pointer(name));
        if !is_name(name) {
            report
                .key_error(&pointer, format!("team name `{name}` is not valid"))
                .expected("lower-case letters, digits, `-` and `_`, starting with a letter");
        }
        if let Some(hours) = &team.working_hours
            && hours.start >= hours.end
        {
            report
                .error(
                    &format!("{pointer}/working_hours/end"),
                    "working hours end before they start",
                )
                .expected(format!("a time after `{}`", hours.start))
                .found(hours.end.clone());
        }
        check_receivers(
            &mut report,
            &pointer,
            spec,
            (&team.pagerduty, &team.slack, &team.email, &team.webhook),
        );
        if let Some(hours) = &team.working_hours {
            check_weekdays(
                &mut report,
                &format!("{pointer}/working_hours/weekdays"),
                hours.weekdays.as_deref(),
            );
        }
    }
    if let Some(fallback) = spec.alerting.as_ref().and_then(|a| a.fallback.as_ref()) {
        check_receivers(
            &mut report,
            "/spec/alerting/fallback",
            spec,
            (
                &fallback.pagerduty,
                &fallback.slack,
                &fallback.email,
                &fallback.webhook,
            ),
        );
    }
}

/// Receivers need their secrets as files and their transport configured:
/// Slack a webhook URL file, e-mail an SMTP relay, a webhook a URL that
/// carries no credentials (Alertmanager writes it into its config inline).
/// The platform's Grafana folder holds the landing page beside one folder
/// per team: it must not be a team's.
fn check_grafana_folder(report: &mut Reporter<'_>, platform: &PlatformManifest) {
    let Some(folder) = platform
        .spec
        .grafana
        .as_ref()
        .and_then(|g| g.folder.as_ref())
    else {
        return;
    };
    if platform
        .spec
        .teams
        .keys()
        .any(|team| team.eq_ignore_ascii_case(folder))
    {
        report
            .error(
                "/spec/grafana/folder",
                format!("the folder `{folder}` is also a team's folder"),
            )
            .hint("each team's dashboards get a folder named after the team: pick another name");
    }
}

fn check_receivers(
    report: &mut Reporter<'_>,
    pointer: &str,
    spec: &crate::spec::PlatformSpec,
    (pagerduty, slack, email, webhook): (
        &Option<crate::spec::PagerdutySpec>,
        &Option<crate::spec::SlackSpec>,
        &Option<crate::spec::EmailSpec>,
        &Option<crate::spec::WebhookSpec>,
    ),
) {
    let alerting = spec.alerting.as_ref();
    if let Some(slack) = slack
        && slack.api_url_file.is_none()
        && alerting
            .and_then(|a| a.slack_api_url_file.as_ref())
            .is_none()
    {
        report
            .error(&format!("{pointer}/slack"), "Slack needs a webhook URL file")
            .expected("`api_url_file` here, or `spec.alerting.slack_api_url_file` for every team")
            .hint("point at a file that holds the webhook URL; the URL itself must never be in a manifest");
    }
    if email.is_some() && alerting.and_then(|a| a.smtp.as_ref()).is_none() {
        report
            .error(&format!("{pointer}/email"), "e-mail needs an SMTP relay")
            .expected("`spec.alerting.smtp` with `smarthost` and `from`");
    }
    if let Some(webhook) = webhook
        && may_carry_secret(&webhook.url)
    {
        report
            .error(&format!("{pointer}/webhook/url"), "the webhook URL may carry a secret")
            .expected("a URL without `user:password@` and without a query string")
            .found(webhook.url.clone())
            .hint("obsgen writes webhook URLs into alertmanager.yml as they are; put the token in a file and name it in `credentials_file` (sent as a bearer token)");
    }
    if let Some(url) = pagerduty.as_ref().and_then(|p| p.url.as_ref())
        && may_carry_secret(url)
    {
        report
            .error(&format!("{pointer}/pagerduty/url"), "the PagerDuty URL may carry a secret")
            .expected("a URL without `user:password@` and without a query string")
            .found(url.clone())
            .hint("obsgen writes the URL into alertmanager.yml as it is; the routing key belongs in `routing_key_file`");
    }
}

/// Whether a URL written inline into `alertmanager.yml` could hold a
/// credential: a `user:password@` or a query string (`?token=`).
fn may_carry_secret(url: &str) -> bool {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = after_scheme.split('/').next().unwrap_or_default();
    authority.contains('@') || url.contains('?')
}

/// Alertmanager's weekday ranges: `monday:friday`, `saturday`, or a
/// comma-separated list of those.
fn check_weekdays(report: &mut Reporter<'_>, pointer: &str, weekdays: Option<&str>) {
    const DAYS: [&str; 7] = [
        "sunday",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
    ];
    let Some(text) = weekdays else { return };
    let valid = text.split(',').map(str::trim).all(|part| {
        let mut days = part.split(':');
        let first = days.next().unwrap_or_default();
        let second = days.next();
        let index = |day: &str| DAYS.iter().position(|d| *d == day);
        days.next().is_none()
            && match (index(first), second.map(index)) {
                (Some(_), None) => true,
                (Some(from), Some(Some(to))) => from <= to,
                _ => false,
            }
    });
    if !valid {
        report
            .error(pointer, "not a list of weekdays")
            .expected("days or ranges, lower-case, such as `monday:friday` or `monday:thursday, saturday`")
            .found(text.to_string());
    }
}

fn check_service_url(report: &mut Reporter<'_>, pointer: &str, url: &str) {
    if !url.contains("{service}") {
        report
            .error(pointer, "the service URL template lacks `{service}`")
            .expected("a URL with `{service}` (and usually `{env}`), e.g. `http://{service}.{env}.svc:8080`")
            .found(url.to_string());
    } else if crate::model::naming::host_port(&url.replace("{service}", "s").replace("{env}", "e"))
        .is_none()
    {
        report
            .error(pointer, "not a URL")
            .expected("e.g. `http://{service}.{env}.svc:8080`")
            .found(url.to_string());
    }
}

fn is_name(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

fn check_label_name(report: &mut Reporter<'_>, pointer: &str, name: &str) {
    let valid = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        let suggestion: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        report
            .key_error(
                pointer,
                format!("`{name}` is not a valid Prometheus label name"),
            )
            .expected("letters, digits and `_`, not starting with a digit")
            .hint(format!(
                "use `{}`",
                suggestion.trim_start_matches(|c: char| c.is_ascii_digit())
            ));
    } else if name.starts_with("__") {
        report.key_error(
            pointer,
            format!("`{name}`: label names starting with `__` are reserved for Prometheus"),
        );
    } else if RESERVED_LABELS.contains(&name) {
        report
            .key_error(pointer, format!("`{name}` is a label obsgen sets itself"))
            .hint("choose another name; obsgen already adds job, env, team and service to every series");
    }
}

/// Checks every service against the platform and the other services: the
/// names across the repository first, then each service on every core.
/// `invalid` names the services whose manifests failed the schema: they
/// exist, their own errors are reported, and depending on them is no error.
pub fn check_services(
    platform: Option<&PlatformManifest>,
    services: &[(&Document, &ServiceManifest)],
    invalid: &[&str],
    diagnostics: &mut Vec<Diagnostic>,
) {
    let mut first_of: HashMap<&str, &str> = HashMap::new();
    let mut uid_of: HashMap<String, &str> = HashMap::new();
    let mut frameworks: HashMap<&str, Option<Framework>> =
        invalid.iter().map(|name| (*name, None)).collect();
    frameworks.extend(
        services
            .iter()
            .map(|(_, s)| (s.metadata.name.as_str(), s.spec.framework)),
    );
    for (document, service) in services {
        let mut report = Reporter {
            document,
            diagnostics: &mut *diagnostics,
        };
        let name = service.metadata.name.as_str();
        if let Some(first) = first_of.get(name) {
            report
                .error(
                    "/metadata/name",
                    format!("service `{name}` is already declared in `{first}`"),
                )
                .hint("service names must be unique across the repository; rename one of them");
        } else {
            first_of.insert(name, &document.source);
            let uid = crate::model::naming::dashboard_uid(name);
            if let Some(other) = uid_of.get(&uid) {
                report
                    .error(
                        "/metadata/name",
                        format!(
                            "the dashboard uid `{uid}` of `{name}` is also the uid of `{other}`"
                        ),
                    )
                    .hint("Grafana uids are at most 40 characters: shorten one of the names");
            } else {
                uid_of.insert(uid, name);
            }
        }
    }
    // The rest looks at one service at a time: on every core, its
    // diagnostics in the services' order.
    let found = crate::parallel::in_parts(services.to_vec(), 256, |part| {
        let mut found = Vec::new();
        for (document, service) in part {
            let mut report = Reporter {
                document,
                diagnostics: &mut found,
            };
            check_service(&mut report, platform, service, &frameworks);
            check_dashboards(&mut report, service);
            check_logs(&mut report, platform, service);
            check_service_tracing(&mut report, platform, service);
        }
        found
    });
    diagnostics.extend(found.into_iter().flatten());
}

fn check_service(
    report: &mut Reporter<'_>,
    platform: Option<&PlatformManifest>,
    service: &ServiceManifest,
    services: &HashMap<&str, Option<Framework>>,
) {
    let spec = &service.spec;
    let name = service.metadata.name.as_str();
    for label in service.metadata.labels.keys() {
        check_label_name(
            report,
            &format!("/metadata/labels/{}", escape_pointer(label)),
            label,
        );
    }

    let env_names: Vec<&str> = platform
        .map(|p| {
            p.spec
                .environments
                .iter()
                .map(|e| e.name.as_str())
                .collect()
        })
        .unwrap_or_default();
    if let Some(platform) = platform {
        if !platform.spec.teams.contains_key(&service.metadata.team) {
            let team = &service.metadata.team;
            let known: Vec<&str> = platform.spec.teams.keys().map(String::as_str).collect();
            let diagnostic = report
                .error("/metadata/team", format!("unknown team `{team}`"))
                .expected(format!("one of the platform's teams: {}", known.join(", ")));
            if let Some(suggestion) = closest(team, known.iter().copied()) {
                diagnostic.hint(format!("did you mean `{suggestion}`?"));
            } else {
                diagnostic.hint("add the team to `spec.teams` in obsgen.yaml");
            }
        }
        let check_env = |report: &mut Reporter<'_>, pointer: &str, env: &str, key: bool| {
            if !env_names.contains(&env) {
                let diagnostic = if key {
                    report.key_error(pointer, format!("unknown environment `{env}`"))
                } else {
                    report.error(pointer, format!("unknown environment `{env}`"))
                };
                diagnostic.expected(format!(
                    "one of the platform's environments: {}",
                    env_names.join(", ")
                ));
                if let Some(suggestion) = closest(env, env_names.iter().copied()) {
                    diagnostic.hint(format!("did you mean `{suggestion}`?"));
                }
            }
        };
        let mut seen = HashSet::new();
        for (index, env) in spec.environments.iter().flatten().enumerate() {
            let pointer = format!("/spec/environments/{index}");
            check_env(report, &pointer, env, false);
            if !seen.insert(env.as_str()) {
                report.error(&pointer, format!("environment `{env}` is listed twice"));
            }
        }
        let service_envs: Vec<&str> = match &spec.environments {
            Some(envs) => envs.iter().map(String::as_str).collect(),
            None => env_names.clone(),
        };
        let loadtest_envs = spec
            .loadtest
            .as_ref()
            .and_then(|loadtest| loadtest.environments.as_ref());
        for (index, env) in loadtest_envs.into_iter().flatten().enumerate() {
            let pointer = format!("/spec/loadtest/environments/{index}");
            if env_names.contains(&env.as_str()) && !service_envs.contains(&env.as_str()) {
                report
                    .error(
                        &pointer,
                        format!("a load test in `{env}`, where the service does not run"),
                    )
                    .hint(format!(
                        "add `{env}` to `spec.environments`, or remove it here"
                    ));
            } else {
                check_env(report, &pointer, env, false);
            }
        }
        for (env, targets) in &spec.targets {
            let pointer = format!("/spec/targets/{}", escape_pointer(env));
            if env_names.contains(&env.as_str()) && !service_envs.contains(&env.as_str()) {
                report
                    .key_error(
                        &pointer,
                        format!("targets for `{env}`, where the service does not run"),
                    )
                    .hint(format!(
                        "add `{env}` to `spec.environments`, or remove these targets"
                    ));
            } else {
                check_env(report, &pointer, env, true);
            }
            for (index, target) in targets.iter().enumerate() {
                let valid = target.rsplit_once(':').is_some_and(|(host, port)| {
                    !host.is_empty()
                        && !host.contains(['/', ' '])
                        && port.parse::<u16>().is_ok_and(|p| p > 0)
                });
                if !valid {
                    report
                        .error(&format!("{pointer}/{index}"), "not a scrape target")
                        .expected("`host:port`, e.g. `checkout-1.prod.internal:8080`")
                        .found(target.clone());
                }
            }
        }
        let discovery = spec
            .metrics
            .as_ref()
            .and_then(|m| m.discovery)
            .or_else(|| platform.spec.prometheus.as_ref().and_then(|p| p.discovery))
            .unwrap_or(Discovery::Static);
        if discovery == Discovery::Kubernetes && !spec.targets.is_empty() {
            report
                .warning(
                    "/spec/targets",
                    "targets are ignored with Kubernetes discovery",
                )
                .hint("remove them, or set `spec.metrics.discovery: static`");
        }
    }

    let mut dependency_names = HashSet::new();
    for (index, dependency) in spec.dependencies.iter().enumerate() {
        let pointer = format!("/spec/dependencies/{index}");
        match (&dependency.service, &dependency.name) {
            (Some(_), Some(_)) => {
                report
                    .error(&pointer, "a dependency is either `service:` or `name:`, not both")
                    .hint("`service:` for a service of this repository, `name:` for an external system");
            }
            (None, None) => {
                report
                    .error(&pointer, "a dependency needs `service:` or `name:`")
                    .expected("`service: <another manifest>` or `name: <external system>`");
            }
            (Some(other), None) => {
                if other == name {
                    report.error(
                        &format!("{pointer}/service"),
                        "a service cannot depend on itself",
                    );
                } else if !services.contains_key(other.as_str()) {
                    let diagnostic = report.error(
                        &format!("{pointer}/service"),
                        format!("unknown service `{other}`"),
                    );
                    diagnostic.expected("the name of another service manifest");
                    if let Some(suggestion) = closest(other, services.keys().copied()) {
                        diagnostic.hint(format!(
                            "did you mean `{suggestion}`? For an external system use `name:`"
                        ));
                    } else {
                        diagnostic.hint(
                            "for an external system (a database, an API) use `name:` instead",
                        );
                    }
                }
            }
            (None, Some(external)) => {
                if external.trim().is_empty() {
                    report.error(&format!("{pointer}/name"), "the dependency's name is empty");
                }
            }
        }
        let key = dependency
            .service
            .as_ref()
            .or(dependency.name.as_ref())
            .cloned()
            .unwrap_or_default();
        if !key.is_empty() && !dependency_names.insert(key.clone()) {
            report.error(&pointer, format!("dependency `{key}` is listed twice"));
        }
    }

    let mut slo_names = HashSet::new();
    for (index, slo) in spec.slos.iter().enumerate() {
        let pointer = format!("/spec/slos/{index}");
        if !slo_names.insert(slo.name.as_str()) {
            report
                .error(
                    &format!("{pointer}/name"),
                    format!("SLO `{}` is declared twice", slo.name),
                )
                .hint("SLO names must be unique within a service");
        }
        let objective = slo.objective.percent();
        if !(objective > 0.0 && objective < 100.0) {
            report
                .error(
                    &format!("{pointer}/objective"),
                    "the objective must be above 0 % and below 100 %",
                )
                .expected("a percentage strictly between 0 and 100, such as `99.9`")
                .found(crate::spec::units::format_number(objective).to_string())
                .hint(if objective > 100.0 {
                    "no share of requests can exceed 100 %; write the objective in percent: `99.9` means 99.9 %"
                } else if objective == 100.0 {
                    "100 % leaves no error budget: every single failed request would breach it"
                } else {
                    "write the objective in percent: `99.9` means 99.9 %"
                });
            continue;
        }
        let window = slo.window.unwrap_or(Duration::from_days(30));
        if window < MIN_SLO_WINDOW || window > MAX_SLO_WINDOW {
            report
                .error(
                    &format!("{pointer}/window"),
                    "the SLO window is out of range",
                )
                .expected(format!("between `{MIN_SLO_WINDOW}` and `{MAX_SLO_WINDOW}`"))
                .found(window.to_string())
                .hint("`30d` or `28d` are the usual windows");
            continue;
        }
        let budget = 1.0 - objective / 100.0;
        for burn in burn_windows(window) {
            if burn.factor * budget >= 1.0 {
                report
                    .error(
                        &format!("{pointer}/objective"),
                        format!(
                            "the {} {} burn-rate alert can never fire: it needs an error ratio of {} %, above 100 %",
                            burn.tier.as_str(),
                            burn.speed.as_str(),
                            crate::spec::units::format_number(
                                (burn.factor * budget * 1000.0).round() / 10.0
                            )
                        ),
                    )
                    .expected(format!("an objective above {:.2} % for a {window} window", (1.0 - 1.0 / burn.factor) * 100.0))
                    .found(crate::spec::units::format_number(objective))
                    .hint("a lower objective leaves a budget larger than the burn-rate alerts can detect");
                break;
            }
        }
        match &slo.indicator {
            IndicatorSpec::Availability {} => {}
            IndicatorSpec::Latency { threshold, buckets } => {
                if threshold.as_millis() == 0 || *threshold > Duration::from_mins(10) {
                    report
                        .error(
                            &format!("{pointer}/indicator/threshold"),
                            "the latency threshold is out of range",
                        )
                        .expected("between `1ms` and `10m`")
                        .found(threshold.to_string());
                } else {
                    check_latency_bucket(report, &pointer, spec, *threshold, buckets);
                }
            }
            IndicatorSpec::Ratio { errors, total } => {
                for (field, query) in [("errors", errors), ("total", total)] {
                    let field_pointer = format!("{pointer}/indicator/{field}");
                    if let Err(problem) = promql::check_template(query) {
                        report
                            .error(&field_pointer, problem.message)
                            .expected(problem.expected)
                            .found(query.clone())
                            .hint(problem.hint);
                    }
                }
            }
        }
    }

    if let Some(alerts) = &spec.alerts {
        if let Some(ratio) = alerts.proxy_error_ratio {
            if !(ratio.percent() > 0.0 && ratio.percent() < 100.0) {
                report
                    .error(
                        "/spec/alerts/proxy_error_ratio",
                        "the proxy error ratio must be above 0 % and below 100 %",
                    )
                    .expected("a percentage such as `3%`")
                    .found(ratio.to_string());
            }
            if spec.ingress.is_none() {
                report
                    .warning(
                        "/spec/alerts/proxy_error_ratio",
                        "no ingress is declared, so there is no reverse-proxy alert to tune",
                    )
                    .hint("declare `spec.ingress` with the proxy in front of the service");
            }
        }
        if let Some(hold) = alerts.unavailable_for
            && (hold < Duration::from_mins(1) || hold > Duration::from_hours(1))
        {
            report
                .error("/spec/alerts/unavailable_for", "out of range")
                .expected("between `1m` and `1h`")
                .found(hold.to_string());
        }
    }

    if let Some(logs) = &spec.logs {
        let format = logs.format.unwrap_or(LogFormat::Json);
        match (format, &logs.pattern) {
            (LogFormat::Grok, None) => {
                report.error("/spec/logs/format", "`format: grok` needs a `pattern`").expected("e.g. `pattern: \"%{TIMESTAMP_ISO8601:ts} %{LOGLEVEL:level} %{GREEDYDATA:message}\"`");
            }
            (LogFormat::Grok, Some(pattern)) if !pattern.contains("%{") => {
                report
                    .error(
                        "/spec/logs/pattern",
                        "the grok pattern has no `%{...}` field",
                    )
                    .expected("a grok pattern such as `%{LOGLEVEL:level} %{GREEDYDATA:message}`")
                    .found(pattern.clone());
            }
            (LogFormat::Grok, Some(_)) => {}
            (_, Some(_)) => {
                report
                    .error(
                        "/spec/logs/pattern",
                        "`pattern` only applies to `format: grok`",
                    )
                    .hint("set `format: grok`, or remove the pattern");
            }
            (_, None) => {}
        }
        if let Some(retention) = logs.retention
            && (retention < Duration::from_days(1) || retention > Duration::from_days(3650))
        {
            report
                .error("/spec/logs/retention", "the log retention is out of range")
                .expected("between `1d` and `3650d`")
                .found(retention.to_string());
        }
    }

    if let Some(loadtest) = &spec.loadtest {
        let protocol = loadtest
            .protocol
            .unwrap_or(if spec.framework == Some(Framework::Grpc) {
                Protocol::Grpc
            } else {
                Protocol::Http
            });
        if let Some(url) = &loadtest.base_url {
            let concrete = url.replace("{service}", "s").replace("{env}", "e");
            if !(concrete.starts_with("http://") || concrete.starts_with("https://"))
                || crate::model::naming::host_port(&concrete).is_none()
            {
                report
                    .error("/spec/loadtest/base_url", "not a URL")
                    .expected("e.g. `https://checkout.{env}.acme.example`")
                    .found(url.clone());
            }
        }
        if let Some(path) = &loadtest.health_path
            && (!path.starts_with('/') || path.contains(char::is_whitespace))
        {
            report
                .error("/spec/loadtest/health_path", "not a request path")
                .expected("an absolute path such as `/healthz`")
                .found(path.clone());
        }
        let mut scenario_names = HashSet::new();
        for (index, scenario) in loadtest.scenarios.iter().enumerate() {
            let pointer = format!("/spec/loadtest/scenarios/{index}");
            if !scenario_names.insert(scenario.name.as_str()) {
                report.error(
                    &format!("{pointer}/name"),
                    format!("scenario `{}` is declared twice", scenario.name),
                );
            }
            if scenario.duration < Duration::from_secs(1)
                || scenario.duration > Duration::from_hours(24)
            {
                report
                    .error(
                        &format!("{pointer}/duration"),
                        "the scenario duration is out of range",
                    )
                    .expected("between `1s` and `24h`")
                    .found(scenario.duration.to_string());
            }
            if scenario.rate.count == 0 {
                report
                    .error(
                        &format!("{pointer}/rate"),
                        "a rate of zero sends no request",
                    )
                    .expected("e.g. `20/s`");
            }
            if scenario.requests.is_empty() {
                report.error(
                    &format!("{pointer}/requests"),
                    "a scenario needs at least one request",
                );
            }
            for (stage_index, stage) in scenario.stages.iter().enumerate() {
                let stage_pointer = format!("{pointer}/stages/{stage_index}");
                if stage.duration < Duration::from_secs(1)
                    || stage.duration > Duration::from_hours(24)
                {
                    report
                        .error(
                            &format!("{stage_pointer}/duration"),
                            "the stage duration is out of range",
                        )
                        .expected("between `1s` and `24h`")
                        .found(stage.duration.to_string());
                }
            }
            for (request_index, request) in scenario.requests.iter().enumerate() {
                check_request(
                    report,
                    &format!("{pointer}/requests/{request_index}"),
                    protocol,
                    request,
                );
                let request_pointer = format!("{pointer}/requests/{request_index}/path");
                let valid = match protocol {
                    Protocol::Http => {
                        request.path.starts_with('/') && !request.path.contains(char::is_whitespace)
                    }
                    Protocol::Grpc => request.path.split_once('/').is_some_and(|(svc, method)| {
                        svc.contains('.') && !method.is_empty() && !method.contains(['/', ' '])
                    }),
                };
                if !valid {
                    let expected = match protocol {
                        Protocol::Http => "an absolute path such as `/items`",
                        Protocol::Grpc => "a full gRPC method such as `shop.v1.Cart/GetCart`",
                    };
                    report
                        .error(&request_pointer, "not a request path")
                        .expected(expected)
                        .found(request.path.clone());
                }
            }
        }
    }
}

/// Prometheus sends alerts only to the Alertmanagers its `alerting:` block
/// names: without `alertmanager.url` (or `prometheus.alertmanagers`) every
/// alert obsgen generates fires into the void.
fn check_alertmanager_target(report: &mut Reporter<'_>, spec: &crate::spec::PlatformSpec) {
    let prometheus = spec.prometheus.clone().unwrap_or_default();
    if prometheus.output == Some(crate::spec::PrometheusOutput::Operator)
        || !prometheus.alertmanagers.is_empty()
    {
        return;
    }
    match &spec.alertmanager {
        Some(am) if crate::model::AlertmanagerUrl::parse(&am.url).is_none() => {
            report
                .error("/spec/alertmanager/url", "not an Alertmanager URL")
                .expected("`http://` or `https://`, a host and port, and an optional path, e.g. `http://alertmanager.monitoring.svc:9093`")
                .found(am.url.clone());
        }
        Some(_) => {}
        None => {
            report
                .warning(
                    "/spec",
                    "no Alertmanager: the generated prometheus.yml has no `alerting:` block, so every alert fires and notifies nobody",
                )
                .expected("`alertmanager: {url: http://alertmanager.monitoring.svc:9093}` (the Alertmanager obsgen configures), or `prometheus.alertmanagers`")
                .hint("add `alertmanager.url` to obsgen.yaml; `obsgen init` writes one");
        }
    }
}

/// Headers and bodies of load-test requests: what k6 could not send is
/// refused here rather than failing every request of a run.
fn check_request(
    report: &mut Reporter<'_>,
    pointer: &str,
    protocol: Protocol,
    request: &crate::spec::RequestSpec,
) {
    for (name, value) in &request.headers {
        let header_pointer = format!("{pointer}/headers/{}", escape_pointer(name));
        let token = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !token {
            report
                .key_error(&header_pointer, "not an HTTP header name")
                .expected("letters, digits and `-`, such as `X-Request-Id`")
                .found(name.clone());
        }
        if value.chars().any(|c| c.is_control() && c != '\t') {
            report
                .error(
                    &header_pointer,
                    "a header value cannot hold a line break or a control character",
                )
                .found(format!("{value:?}"));
        }
    }
    if protocol == Protocol::Grpc
        && let Some(body) = &request.body
        && !serde_json::from_str::<serde_json::Value>(body).is_ok_and(|value| value.is_object())
    {
        report
            .error(
                &format!("{pointer}/body"),
                "a gRPC request body must be a JSON object",
            )
            .expected("e.g. `{\"cart_id\": \"load-test\"}`")
            .found(body.clone());
    }
}

/// The latency SLI counts requests in the histogram bucket whose `le` is
/// the threshold: without a boundary there the SLI is empty and its alerts
/// can never fire. Declared buckets (per SLO, then `metrics.buckets`) must
/// contain the threshold; otherwise the client library's defaults should,
/// and a service that pages must not rely on a boundary nobody declared.
fn check_latency_bucket(
    report: &mut Reporter<'_>,
    pointer: &str,
    spec: &ServiceSpec,
    threshold: Duration,
    slo_buckets: &[f64],
) {
    let seconds = threshold.as_secs_f64();
    let format = |bounds: &[f64]| -> String {
        bounds
            .iter()
            .map(|b| crate::spec::units::format_number(*b))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let found = format!(
        "{threshold} ({} s)",
        crate::spec::units::format_number(seconds)
    );
    let declared = if slo_buckets.is_empty() {
        spec.metrics
            .as_ref()
            .map(|m| m.buckets.as_slice())
            .unwrap_or_default()
    } else {
        slo_buckets
    };
    if !declared.is_empty() {
        if declared.iter().any(|b| (b - seconds).abs() < 1e-9) {
            return;
        }
        report
            .error(
                &format!("{pointer}/indicator/threshold"),
                format!("`{threshold}` is not one of the service's declared bucket boundaries"),
            )
            .expected(format!("one of the declared boundaries (seconds): {}", format(declared)))
            .found(found)
            .hint("the SLI counts requests in the bucket whose `le` is the threshold: add the boundary to the histogram and to `buckets`, or pick a threshold among them");
        return;
    }
    let metrics = crate::model::metrics::for_service(
        spec.framework.unwrap_or(Framework::Http),
        spec.language.unwrap_or(Language::Other),
    )
    .server;
    if metrics.is_default_bucket(seconds) {
        return;
    }
    let pages = spec.alerts.as_ref().and_then(|a| a.page).unwrap_or(false);
    let message = format!(
        "`{threshold}` is not a default bucket boundary of `{}` ({})",
        metrics.duration, metrics.buckets.library
    );
    let location = format!("{pointer}/indicator/threshold");
    let diagnostic = if pages {
        report.error(
            &location,
            format!("{message}: the SLO's alerts could never page"),
        )
    } else {
        report.warning(&location, message)
    };
    diagnostic
        .expected(if metrics.buckets.bounds.is_empty() {
            "a bucket boundary configured in the service and declared in `metrics.buckets` (this library has no round default buckets)".to_string()
        } else {
            format!(
                "one of the default boundaries (seconds): {}; or boundaries declared in `metrics.buckets`",
                format(metrics.buckets.bounds)
            )
        })
        .found(found)
        .hint(format!(
            "the SLI counts requests in the bucket `le=\"{}\"`: {}, then declare the boundaries, e.g. `metrics: {{buckets: [0.1, {}, 1]}}`",
            crate::spec::units::format_number(seconds),
            metrics.bucket_hint,
            crate::spec::units::format_number(seconds),
        ));
}

/// Extension panels of the service's dashboard: each query passes the same
/// lint as obsgen's own panels, scoped to this service; titles are unique.
fn check_dashboards(report: &mut Reporter<'_>, service: &ServiceManifest) {
    let Some(dashboards) = &service.spec.dashboards else {
        return;
    };
    let mut titles = HashSet::new();
    for (index, panel) in dashboards.extra_panels.iter().enumerate() {
        let pointer = format!("/spec/dashboards/extra_panels/{index}");
        if !titles.insert(panel.title.as_str()) {
            report
                .error(
                    &format!("{pointer}/title"),
                    format!("another extra panel is titled `{}`", panel.title),
                )
                .hint("give every panel its own title");
        }
        let problems =
            crate::backend::grafana::lint::lint_query(&panel.expr, Some(&service.metadata.name));
        if let Some(first) = problems.first() {
            report
                .error(&format!("{pointer}/expr"), format!("this panel query {first}"))
                .expected(format!(
                    "a PromQL query such as `sum(rate(orders_total{{job=\"{}\",env=\"$env\"}}[$__rate_interval]))`",
                    service.metadata.name
                ))
                .found(panel.expr.clone())
                .hint(match problems.get(1..).filter(|rest| !rest.is_empty()) {
                    Some(rest) => format!("also: {}", rest.join("; ")),
                    None => {
                    "dashboards show one environment at a time: filter by `job` and `env=\"$env\"`, and rate over `$__rate_interval`".to_string()
                    }
                });
        }
    }
}

// ---------------------------------------------------------------------------
// Logs: values that must survive being quoted in a Logstash pipeline
// ---------------------------------------------------------------------------

/// Reports a value the Logstash backend could not quote
/// ([`crate::backend::logstash::escape`]).
fn check_logstash_string(report: &mut Reporter<'_>, pointer: &str, value: &str, sprintf: bool) {
    use crate::backend::logstash::escape;
    let refusal = if sprintf {
        escape::sprintf_refusal(value)
    } else {
        escape::refusal(value)
    };
    if let Some(reason) = refusal {
        report
            .error(pointer, format!("this value cannot go into a Logstash pipeline: {reason}"))
            .found(format!("{value:?}"))
            .hint("use only one kind of quote, no line breaks, no `${` (nor `%{` in labels), and no backslash at the end");
    }
}

/// Labels, the timestamp and the grok pattern of a service's logs.
fn check_logs(
    report: &mut Reporter<'_>,
    platform: Option<&PlatformManifest>,
    service: &ServiceManifest,
) {
    for (key, value) in &service.metadata.labels {
        let pointer = format!("/metadata/labels/{}", escape_pointer(key));
        check_logstash_string(report, &pointer, value, true);
    }
    let Some(logs) = &service.spec.logs else {
        return;
    };
    if let Some(timestamp) = &logs.timestamp {
        if let Some(field) = &timestamp.field {
            check_logstash_string(report, "/spec/logs/timestamp/field", field, false);
        }
        if let Some(format) = &timestamp.format {
            check_logstash_string(report, "/spec/logs/timestamp/format", format, false);
        }
    }
    let Some(pattern) = &logs.pattern else {
        return;
    };
    check_logstash_string(report, "/spec/logs/pattern", pattern, false);
    if logs.format != Some(LogFormat::Grok) || !pattern.contains("%{") {
        return;
    }
    let declared: Vec<&str> = platform
        .and_then(|p| p.spec.logging.as_ref())
        .map(|logging| logging.grok_patterns.keys().map(String::as_str).collect())
        .unwrap_or_default();
    for problem in crate::backend::logstash::grok::check(pattern, &declared) {
        let diagnostic = report
            .error("/spec/logs/pattern", format!("{problem}"))
            .found(pattern.clone());
        match problem {
            crate::backend::logstash::grok::Problem::UnknownPattern(_) => {
                diagnostic.hint("use a pattern Logstash ships, or declare it in the platform's `logging.grok_patterns`");
            }
            crate::backend::logstash::grok::Problem::UnnamedGroup => {
                diagnostic
                    .hint("name the group `(?<field>...)`, or make it non-capturing `(?:...)`");
            }
            _ => {
                diagnostic.expected(
                    "e.g. `%{TIMESTAMP_ISO8601:timestamp} %{LOGLEVEL:level} %{GREEDYDATA:message}`",
                );
            }
        }
    }
}

/// The input's fields fit its type: a port to listen on, or Kafka brokers
/// (with SASL credentials exactly when the protocol is SASL).
fn check_log_input(report: &mut Reporter<'_>, input: &crate::spec::LogInputSpec) {
    use crate::spec::{KafkaSecurityProtocol, LogInputKind};
    const BASE: &str = "/spec/logging/input";
    let kafka = input.kind == LogInputKind::Kafka;
    let kafka_only: [(&str, bool); 7] = [
        ("bootstrap_servers", !input.bootstrap_servers.is_empty()),
        ("topics", !input.topics.is_empty()),
        ("group_id", input.group_id.is_some()),
        ("security_protocol", input.security_protocol.is_some()),
        ("sasl_mechanism", input.sasl_mechanism.is_some()),
        ("user", input.user.is_some()),
        ("password_env", input.password_env.is_some()),
    ];
    if !kafka {
        for (field, set) in kafka_only {
            if set {
                report
                    .key_error(
                        &format!("{BASE}/{field}"),
                        format!("`{field}` is a setting of the `kafka` input"),
                    )
                    .hint("remove it, or set `type: kafka`");
            }
        }
        return;
    }
    if input.port.is_some() {
        report
            .key_error(
                &format!("{BASE}/port"),
                "a `kafka` input listens on no port",
            )
            .hint("Logstash consumes from the brokers in `bootstrap_servers`");
    }
    if input.bootstrap_servers.is_empty() {
        report
            .error(BASE, "a `kafka` input needs its brokers")
            .expected("`bootstrap_servers: [\"kafka-1:9092\", ...]`");
    }
    for (index, server) in input.bootstrap_servers.iter().enumerate() {
        let valid = crate::model::naming::host_port(server)
            .is_some_and(|(host, port)| !host.is_empty() && port.is_some())
            && !server.contains("://")
            && !server.contains(',')
            && server.chars().all(|c| c.is_ascii_graphic());
        if !valid {
            report
                .error(
                    &format!("{BASE}/bootstrap_servers/{index}"),
                    "not a `host:port` broker address",
                )
                .expected("`host:port`, e.g. `kafka-1:9092`")
                .found(server.clone());
        }
    }
    for (index, topic) in input.topics.iter().enumerate() {
        let valid = !topic.is_empty()
            && topic.len() <= 249
            && topic
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
        if !valid {
            report
                .error(&format!("{BASE}/topics/{index}"), "not a Kafka topic name")
                .expected("1 to 249 letters, digits, `.`, `_` or `-`")
                .found(topic.clone());
        }
    }
    let sasl = matches!(
        input.security_protocol,
        Some(KafkaSecurityProtocol::SaslPlaintext | KafkaSecurityProtocol::SaslSsl)
    );
    let credentials = [
        ("sasl_mechanism", input.sasl_mechanism.is_some()),
        ("user", input.user.is_some()),
        ("password_env", input.password_env.is_some()),
    ];
    for (field, set) in credentials {
        if sasl && !set {
            report
                .error(BASE, format!("a SASL `security_protocol` needs `{field}`"))
                .hint("SASL logs in with a mechanism, a user and a password read from the environment");
        } else if !sasl && set {
            report
                .key_error(
                    &format!("{BASE}/{field}"),
                    format!("`{field}` is only used with a SASL `security_protocol`"),
                )
                .hint("set `security_protocol: SASL_SSL` (or `SASL_PLAINTEXT`), or remove it");
        }
    }
}

/// The platform's Logstash settings and template overrides: strings that
/// reach pipelines, and templates that must compile.
pub fn check_templates(
    document: &Document,
    spec: &PlatformManifest,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let mut report = Reporter {
        document,
        diagnostics,
    };
    if let Some(logging) = &spec.spec.logging {
        if let Some(es) = &logging.elasticsearch {
            for (index, host) in es.hosts.iter().enumerate() {
                check_logstash_string(
                    &mut report,
                    &format!("/spec/logging/elasticsearch/hosts/{index}"),
                    host,
                    false,
                );
            }
            if let Some(user) = &es.user {
                check_logstash_string(&mut report, "/spec/logging/elasticsearch/user", user, false);
            }
        }
        if let Some(input) = &logging.input {
            check_log_input(&mut report, input);
        }
        for (name, pattern) in &logging.grok_patterns {
            let pointer = format!("/spec/logging/grok_patterns/{}", escape_pointer(name));
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            {
                report
                    .key_error(&pointer, format!("grok pattern name `{name}` is not valid"))
                    .expected("upper-case letters, digits and `_`, e.g. `ACME_TRACE_ID`");
            }
            check_logstash_string(&mut report, &pointer, pattern, false);
        }
    }
    for name in spec.spec.template_overrides.keys() {
        if !crate::backend::logstash::templates::is_known(name) {
            report
                .error("/spec/templates", format!("the template `{name}` replaces none of obsgen's"))
                .expected("one of `distributor.conf.j2`, `service.conf.j2`, `unrouted.conf.j2`, `output.conf.j2` under `logstash/`");
        }
    }
    if let Err(error) =
        crate::backend::logstash::templates::environment(&spec.spec.template_overrides)
    {
        report
            .error(
                "/spec/templates",
                format!("a Logstash template does not compile: {error}"),
            )
            .hint("compare it with obsgen's own `templates/logstash/` files");
    }
}

/// The platform's tracing: the exporter's settings make sense together,
/// no secret is written into the collector's configuration, and the URL
/// templates have the placeholders the links fill in.
fn check_tracing(report: &mut Reporter<'_>, tracing: &TracingSpec, environments: usize) {
    if tracing.backend == TracingBackend::Zipkin && tracing.protocol.is_some() {
        report
            .error("/spec/tracing/protocol", "`protocol` is for OTLP backends")
            .hint("Zipkin has one protocol; remove `protocol`, or use `backend: otlp`");
    }
    let authority = tracing
        .endpoint
        .split_once("://")
        .map_or(tracing.endpoint.as_str(), |(_, rest)| rest)
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default();
    if authority.contains('@') || tracing.endpoint.contains('?') {
        report
            .error("/spec/tracing/endpoint", "the endpoint may carry a secret")
            .expected("a URL without `user:password@` and without a query string")
            .found(tracing.endpoint.clone())
            .hint("obsgen writes the endpoint into every collector configuration as it is; send credentials in `headers`, from the collector's environment: `authorization: \"Bearer ${env:TRACING_TOKEN}\"`");
    }
    for (name, value) in &tracing.headers {
        let pointer = format!("/spec/tracing/headers/{}", escape_pointer(name));
        if name.is_empty() || !name.chars().all(is_header_name_char) {
            report
                .key_error(&pointer, format!("`{name}` is not an HTTP header name"))
                .expected("letters, digits and `-` (an HTTP token)");
        }
        if !is_env_reference_text(value) {
            report
                .error(&pointer, "a header value must come from the collector's environment")
                .expected("text with at least one `${env:NAME}` reference and no other `$`, e.g. `Bearer ${env:TRACING_TOKEN}`")
                .found(redacted(value))
                .hint("the collector expands `${env:NAME}` when it starts, so the secret stays out of the repository and the generated files");
        }
    }
    if let Some(url) = &tracing.collector_url {
        let pointer = "/spec/tracing/collector_url";
        check_placeholders(report, pointer, url, &["env"]);
        if environments > 1 && !url.contains("{env}") {
            report
                .error(pointer, "the collector URL lacks `{env}`")
                .expected("each environment's own collector, e.g. `http://otel-collector.{env}.svc:4318`")
                .found(url.clone())
                .hint("every environment has its own collector, which stamps its spans with the environment's name");
        }
    }
    if let Some(ui) = &tracing.ui {
        if let Some(url) = &ui.trace_url {
            let pointer = "/spec/tracing/ui/trace_url";
            check_placeholders(report, pointer, url, &["trace_id"]);
            if !url.contains("{trace_id}") {
                report
                    .error(pointer, "the trace URL template lacks `{trace_id}`")
                    .expected("e.g. `http://zipkin:9411/zipkin/traces/{trace_id}`")
                    .found(url.clone());
            }
        }
        if let Some(url) = &ui.service_url {
            let pointer = "/spec/tracing/ui/service_url";
            check_placeholders(report, pointer, url, &["service", "env"]);
            if !url.contains("{service}") || !url.contains("{env}") {
                report
                    .error(pointer, "the service URL template lacks `{service}` or `{env}`")
                    .expected("a search for one service in one environment, e.g. `http://zipkin:9411/zipkin/?serviceName={service}&annotationQuery=deployment.environment.name%3D{env}`")
                    .found(url.clone());
            }
        }
    }
}

/// Reports `{name}` placeholders other than `allowed` (a typo such as
/// `{enviroment}` would otherwise reach the links as it is).
fn check_placeholders(report: &mut Reporter<'_>, pointer: &str, url: &str, allowed: &[&str]) {
    let mut rest = url;
    while let Some(start) = rest.find('{') {
        let after = rest.get(start + 1..).unwrap_or_default();
        let Some(end) = after.find('}') else { break };
        let name = after.get(..end).unwrap_or_default();
        if !allowed.contains(&name) {
            let list: Vec<String> = allowed.iter().map(|a| format!("`{{{a}}}`")).collect();
            report
                .error(pointer, format!("unknown placeholder `{{{name}}}`"))
                .expected(format!("only {}", list.join(" and ")))
                .found(url.to_string());
            return;
        }
        rest = after.get(end + 1..).unwrap_or_default();
    }
}

/// An HTTP token character (RFC 9110), the characters of a header name.
fn is_header_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// Whether `value` takes its secret from the environment: at least one
/// `${env:NAME}` reference, and no `$` outside references.
fn is_env_reference_text(value: &str) -> bool {
    let mut references = 0;
    let mut rest = value;
    while let Some(start) = rest.find('$') {
        let after = rest.get(start..).unwrap_or_default();
        let Some(body) = after.strip_prefix("${env:") else {
            return false;
        };
        let Some(end) = body.find('}') else {
            return false;
        };
        let name = body.get(..end).unwrap_or_default();
        let valid = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return false;
        }
        references += 1;
        rest = body.get(end + 1..).unwrap_or_default();
    }
    references > 0 && !value.chars().any(char::is_control)
}

/// A header value as diagnostics show it: never the secret it may hold.
fn redacted(value: &str) -> String {
    format!(
        "a literal value ({} characters, not shown)",
        value.chars().count()
    )
}

/// A service's tracing: promised attributes are attribute names, and
/// settings that cannot take effect are pointed out.
fn check_service_tracing(
    report: &mut Reporter<'_>,
    platform: Option<&PlatformManifest>,
    service: &ServiceManifest,
) {
    let Some(tracing) = &service.spec.tracing else {
        return;
    };
    if platform.is_some_and(|p| p.spec.tracing.is_none()) {
        report
            .warning(
                "/spec/tracing",
                "the platform has no tracing backend, so these settings have no effect",
            )
            .hint("the platform team configures `spec.tracing` in obsgen.yaml");
    }
    if tracing.enabled == Some(false) && tracing.sample_ratio.is_some() {
        report.warning(
            "/spec/tracing/sample_ratio",
            "tracing is off for this service, so the ratio has no effect",
        );
    }
    let mut seen = HashSet::new();
    for (index, attribute) in tracing.attributes.iter().enumerate() {
        let pointer = format!("/spec/tracing/attributes/{index}");
        if !is_attribute_name(attribute) {
            report
                .error(&pointer, format!("`{attribute}` is not an attribute name"))
                .expected("lower-case words of letters, digits and `_`, separated by `.`, e.g. `order.id`");
        } else if !seen.insert(attribute.as_str()) {
            report.error(&pointer, format!("attribute `{attribute}` is listed twice"));
        }
    }
}

/// An OpenTelemetry attribute name as the semantic conventions write
/// them: `order.id`, `http.request.method`.
fn is_attribute_name(name: &str) -> bool {
    name.len() <= 128
        && name.split('.').all(|part| {
            part.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_take_secrets_only_from_env_references() {
        for good in [
            "${env:TOKEN}",
            "Bearer ${env:TRACING_TOKEN}",
            "${env:USER}:${env:_PASS1}",
        ] {
            assert!(is_env_reference_text(good), "{good}");
        }
        for bad in [
            "Bearer abc123",
            "",
            "${TOKEN}",
            "${env:1TOKEN}",
            "${env:TOKEN-X}",
            "${env:TOKEN",
            "$${env:TOKEN}",
            "${env:TOKEN}$",
            "${env:TOKEN}\n",
        ] {
            assert!(!is_env_reference_text(bad), "{bad:?}");
        }
        assert!(!redacted("s3cr3t").contains("s3cr3t"));
    }

    #[test]
    fn attribute_names_follow_the_semantic_conventions() {
        for good in ["order.id", "http.request.method", "tier", "a_b.c2"] {
            assert!(is_attribute_name(good), "{good}");
        }
        for bad in ["Order.id", "order..id", ".id", "id.", "order-id", "2x", ""] {
            assert!(!is_attribute_name(bad), "{bad:?}");
        }
    }
}
