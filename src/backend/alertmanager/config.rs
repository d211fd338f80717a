//! The typed form of `alertmanager.yml`: just the parts of Alertmanager's
//! configuration obsgen writes, in the order a reader wants them (globals,
//! templates, the routing tree, inhibitions, receivers, time intervals).
//!
//! Field names are Alertmanager 0.25's. Everything secret is a `*_file`
//! field: there is deliberately no field here that could hold a key, a
//! password or a webhook URL.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::spec::Duration;

#[derive(Debug, Clone, Serialize)]
pub struct Config {
    pub global: Global,
    pub templates: Vec<String>,
    pub route: Route,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub inhibit_rules: Vec<InhibitRule>,
    pub receivers: Vec<Receiver>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub time_intervals: Vec<TimeInterval>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Global {
    pub resolve_timeout: Duration,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_smarthost: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_auth_username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_auth_password_file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_require_tls: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slack_api_url_file: Option<String>,
}

/// A node of the routing tree. Unset timing fields inherit the parent's.
#[derive(Debug, Clone, Serialize)]
pub struct Route {
    pub receiver: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub matchers: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub group_by: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_wait: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_interval: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repeat_interval: Option<Duration>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub active_time_intervals: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<Route>,
}

impl Route {
    /// A leaf route: matchers and a receiver, everything else inherited.
    pub fn leaf(receiver: impl Into<String>, matchers: Vec<String>) -> Self {
        Self {
            receiver: receiver.into(),
            matchers,
            group_by: Vec::new(),
            group_wait: None,
            group_interval: None,
            repeat_interval: None,
            active_time_intervals: Vec::new(),
            routes: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct InhibitRule {
    pub source_matchers: Vec<String>,
    pub target_matchers: Vec<String>,
    pub equal: Vec<String>,
}

/// A named receiver: zero or more integrations. A receiver without any is
/// Alertmanager's way of dropping a notification.
#[derive(Debug, Clone, Serialize)]
pub struct Receiver {
    pub name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pagerduty_configs: Vec<PagerdutyConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub slack_configs: Vec<SlackConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub email_configs: Vec<EmailConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub webhook_configs: Vec<WebhookConfig>,
}

impl Receiver {
    pub fn empty(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            pagerduty_configs: Vec::new(),
            slack_configs: Vec::new(),
            email_configs: Vec::new(),
            webhook_configs: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.pagerduty_configs.is_empty()
            && self.slack_configs.is_empty()
            && self.email_configs.is_empty()
            && self.webhook_configs.is_empty()
    }
}

/// PagerDuty Events API v2.
#[derive(Debug, Clone, Serialize)]
pub struct PagerdutyConfig {
    pub send_resolved: bool,
    /// Only when the platform names another endpoint than PagerDuty's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub routing_key_file: String,
    pub severity: String,
    pub description: String,
    pub class: String,
    pub component: String,
    pub group: String,
    pub details: BTreeMap<String, String>,
    /// Shown as links on the PagerDuty incident (Events API v2 `links`).
    pub links: Vec<PagerdutyLink>,
}

/// A link of a PagerDuty event.
#[derive(Debug, Clone, Serialize)]
pub struct PagerdutyLink {
    pub href: String,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SlackConfig {
    pub send_resolved: bool,
    /// Only when it differs from the global `slack_api_url_file`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_url_file: Option<String>,
    pub channel: String,
    pub title: String,
    pub title_link: String,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct EmailConfig {
    pub send_resolved: bool,
    pub to: String,
    pub headers: BTreeMap<String, String>,
    pub html: String,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct WebhookConfig {
    pub send_resolved: bool,
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpConfig>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HttpConfig {
    pub authorization: Authorization,
}

/// `Authorization: <type> <credentials read from the file>`.
#[derive(Debug, Clone, Serialize)]
pub struct Authorization {
    #[serde(rename = "type")]
    pub kind: String,
    pub credentials_file: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TimeInterval {
    pub name: String,
    pub time_intervals: Vec<TimeRange>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TimeRange {
    pub weekdays: Vec<String>,
    pub times: Vec<Times>,
    pub location: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Times {
    pub start_time: String,
    pub end_time: String,
}
