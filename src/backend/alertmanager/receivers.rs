//! Receivers: what each team (and the platform's fallback) is notified
//! through, and their names.
//!
//! A team gets at most two receivers, named after the team so that no two
//! teams can clash: `<team>/pagerduty` (its PagerDuty service, for pages
//! only) and `<team>/notify` (its Slack channel and e-mail address, for
//! everything else). Alerts of no known team go to [`FALLBACK`] and, for
//! pages, [`FALLBACK_PAGERDUTY`]; team names cannot contain the `/` that
//! every team receiver has, so neither can clash with a team's.
//!
//! Secrets are only ever file references: the PagerDuty routing key, the
//! Slack webhook URL, the SMTP password (in the globals) and a webhook's
//! bearer token are `*_file` fields, read by Alertmanager at run time. A
//! webhook's URL is written inline (Alertmanager 0.25 has no `url_file`),
//! which is why validation refuses URLs that carry credentials.

use std::collections::BTreeMap;

use super::config::{
    Authorization, EmailConfig, HttpConfig, PagerdutyConfig, PagerdutyLink, Receiver, SlackConfig,
    WebhookConfig,
};
use super::matchers::{ALERTNAME, ENV, SERVICE, TEAM};
use crate::model::alerts::{SEVERITY, SEVERITY_PAGE, SEVERITY_TICKET};
use crate::model::{Alerting, Model, Receivers, Team};

/// The receiver of alerts that match no team; when the platform declares no
/// fallback receivers it has no integration and drops them.
pub const FALLBACK: &str = "default";
/// The fallback's PagerDuty, for pages of alerts that match no team.
pub const FALLBACK_PAGERDUTY: &str = "default-pagerduty";

/// Named templates of `templates/obsgen.tmpl` that receivers use.
pub const TEMPLATE_NAMES: [&str; 8] = [
    "obsgen.slack.title",
    "obsgen.slack.title_link",
    "obsgen.slack.text",
    "obsgen.email.subject",
    "obsgen.email.html",
    "obsgen.email.text",
    "obsgen.pagerduty.description",
    "obsgen.pagerduty.summary",
];

pub fn team_pagerduty(team: &str) -> String {
    format!("{team}/pagerduty")
}

pub fn team_notify(team: &str) -> String {
    format!("{team}/notify")
}

/// Whether a set of receivers has anything besides PagerDuty.
pub fn has_notify(receivers: &Receivers) -> bool {
    receivers.slack.is_some() || receivers.email.is_some() || receivers.webhook.is_some()
}

/// Where a team's pages go: its PagerDuty, else its other receivers, else
/// the fallback.
pub fn team_page_receiver(team: &Team) -> String {
    if team.receivers.pagerduty.is_some() {
        team_pagerduty(&team.name)
    } else {
        team_ticket_receiver(team)
    }
}

/// Where a team's other alerts go: its Slack / e-mail, else the fallback.
/// Never its PagerDuty: tickets do not page.
pub fn team_ticket_receiver(team: &Team) -> String {
    if has_notify(&team.receivers) {
        team_notify(&team.name)
    } else {
        FALLBACK.to_string()
    }
}

/// Every receiver: the fallback's first, then each team's, teams sorted.
pub fn receivers(model: &Model) -> Vec<Receiver> {
    let alerting = &model.platform.alerting;
    let mut out = Vec::new();
    out.push(notify_receiver(FALLBACK, &alerting.fallback, alerting));
    if let Some(receiver) = pagerduty_receiver(FALLBACK_PAGERDUTY, &alerting.fallback) {
        out.push(receiver);
    }
    for team in &model.platform.teams {
        if let Some(receiver) = pagerduty_receiver(&team_pagerduty(&team.name), &team.receivers) {
            out.push(receiver);
        }
        if has_notify(&team.receivers) {
            out.push(notify_receiver(
                &team_notify(&team.name),
                &team.receivers,
                alerting,
            ));
        }
    }
    out
}

fn pagerduty_receiver(name: &str, receivers: &Receivers) -> Option<Receiver> {
    let pagerduty = receivers.pagerduty.as_ref()?;
    let mut details = BTreeMap::new();
    for label in [SERVICE, ENV, TEAM] {
        details.insert(label.to_string(), common_label(label));
    }
    details.insert(
        "summary".to_string(),
        template_call("obsgen.pagerduty.summary"),
    );
    details.insert(
        "dashboard".to_string(),
        "{{ .CommonAnnotations.dashboard_url }}".to_string(),
    );
    details.insert(
        "runbook".to_string(),
        "{{ .CommonAnnotations.runbook_url }}".to_string(),
    );
    let mut receiver = Receiver::empty(name);
    receiver.pagerduty_configs.push(PagerdutyConfig {
        send_resolved: true,
        url: pagerduty.url.clone(),
        routing_key_file: pagerduty.routing_key_file.clone(),
        severity: pagerduty_severity(),
        description: template_call("obsgen.pagerduty.description"),
        class: common_label(ALERTNAME),
        component: common_label(SERVICE),
        group: common_label(ENV),
        details,
        // Every obsgen alert has a dashboard; a runbook only when the
        // manifest names one, and an empty link would be refused.
        links: vec![PagerdutyLink {
            href: "{{ .CommonAnnotations.dashboard_url }}".to_string(),
            text: "Dashboard".to_string(),
        }],
    });
    Some(receiver)
}

fn notify_receiver(name: &str, receivers: &Receivers, alerting: &Alerting) -> Receiver {
    let mut receiver = Receiver::empty(name);
    if let Some(slack) = &receivers.slack {
        receiver.slack_configs.push(SlackConfig {
            send_resolved: true,
            // The global one applies unless the team has its own.
            api_url_file: slack
                .api_url_file
                .clone()
                .filter(|file| Some(file) != alerting.slack_api_url_file.as_ref()),
            channel: slack.channel.clone(),
            title: template_call("obsgen.slack.title"),
            title_link: template_call("obsgen.slack.title_link"),
            text: template_call("obsgen.slack.text"),
        });
    }
    if let Some(email) = &receivers.email {
        receiver.email_configs.push(EmailConfig {
            send_resolved: true,
            to: email.to.clone(),
            headers: BTreeMap::from([(
                "Subject".to_string(),
                template_call("obsgen.email.subject"),
            )]),
            html: template_call("obsgen.email.html"),
            text: template_call("obsgen.email.text"),
        });
    }
    if let Some(webhook) = &receivers.webhook {
        receiver.webhook_configs.push(WebhookConfig {
            send_resolved: true,
            url: webhook.url.clone(),
            http_config: webhook.credentials_file.as_ref().map(|file| HttpConfig {
                authorization: Authorization {
                    kind: "Bearer".to_string(),
                    credentials_file: file.clone(),
                },
            }),
        });
    }
    receiver
}

/// `{{ template "name" . }}`.
fn template_call(name: &str) -> String {
    format!("{{{{ template \"{name}\" . }}}}")
}

/// `{{ .CommonLabels.name }}`; `name` is one of the contract's label names.
fn common_label(name: &str) -> String {
    format!("{{{{ .CommonLabels.{name} }}}}")
}

/// The Events API v2 severity from the alert's: pages are `critical`,
/// tickets `warning`, anything else `error`.
fn pagerduty_severity() -> String {
    format!(
        "{{{{ if eq .CommonLabels.{SEVERITY} \"{SEVERITY_PAGE}\" }}}}critical\
         {{{{ else if eq .CommonLabels.{SEVERITY} \"{SEVERITY_TICKET}\" }}}}warning\
         {{{{ else }}}}error{{{{ end }}}}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_maps_pages_to_critical() {
        assert_eq!(
            pagerduty_severity(),
            r#"{{ if eq .CommonLabels.severity "page" }}critical{{ else if eq .CommonLabels.severity "ticket" }}warning{{ else }}error{{ end }}"#
        );
    }
}
