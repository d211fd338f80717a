//! Values checked by the rules of the tool that consumes them, so that a
//! manifest Alertmanager, Prometheus or Kubernetes would refuse (or
//! misread) fails `obsgen validate` instead of the platform's deploy:
//! time zones, intervals Alertmanager forbids to be zero, non-empty secret
//! file paths, Go-template braces in templated Alertmanager fields,
//! Kubernetes names, scrape intervals and targets, and the length of every
//! string.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::diagnostics::Diagnostic;
use crate::limits::MAX_STRING_BYTES;
use crate::load::{Document, field_path, yaml::escape_pointer};
use crate::spec::{Duration, PlatformManifest, ServiceManifest};

/// The shortest and longest scrape interval a service may ask for.
pub const MIN_SCRAPE_INTERVAL: Duration = Duration::from_secs(1);
pub const MAX_SCRAPE_INTERVAL: Duration = Duration::from_hours(1);

/// Where the IANA time zone database is looked for, in order (`ZONEINFO`
/// first, as Go, and so Alertmanager, does).
const ZONEINFO_DIRS: &[&str] = &["/usr/share/zoneinfo", "/usr/lib/zoneinfo"];

fn error(document: &Document, pointer: &str, message: impl Into<String>) -> Diagnostic {
    let position = document.positions.value(pointer);
    Diagnostic::error(&document.source, message)
        .at(position.line, position.column)
        .path(field_path(pointer))
}

/// Every string (and key) of a document is at most [`MAX_STRING_BYTES`].
pub fn check_string_lengths(document: &Document, diagnostics: &mut Vec<Diagnostic>) {
    /// A step of the way from the document's root to a node.
    enum Step<'a> {
        Key(&'a str),
        Index(usize),
    }
    /// The JSON pointer of the steps: built only for a diagnostic, as a
    /// manifest has hundreds of nodes and almost never a diagnostic.
    fn pointer(steps: &[Step<'_>]) -> String {
        let mut pointer = String::new();
        for step in steps {
            match step {
                Step::Key(key) => {
                    pointer.push('/');
                    pointer.push_str(&escape_pointer(key));
                }
                Step::Index(index) => {
                    let _ = write!(pointer, "/{index}");
                }
            }
        }
        pointer
    }
    fn walk<'a>(
        document: &Document,
        steps: &mut Vec<Step<'a>>,
        value: &'a Value,
        out: &mut Vec<Diagnostic>,
    ) {
        match value {
            Value::String(text) if text.len() > MAX_STRING_BYTES => out.push(
                error(document, &pointer(steps), "the value is too long")
                    .expected(format!("at most {MAX_STRING_BYTES} bytes"))
                    .found(format!("{} bytes", text.len()))
                    .hint("see docs/limits.md; a manifest field never needs this much"),
            ),
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    steps.push(Step::Index(index));
                    walk(document, steps, item, out);
                    steps.pop();
                }
            }
            Value::Object(members) => {
                for (key, item) in members {
                    if key.len() > MAX_STRING_BYTES {
                        out.push(
                            error(document, &pointer(steps), "a key is too long")
                                .expected(format!("at most {MAX_STRING_BYTES} bytes"))
                                .found(format!("{} bytes", key.len())),
                        );
                        continue;
                    }
                    steps.push(Step::Key(key));
                    walk(document, steps, item, out);
                    steps.pop();
                }
            }
            _ => {}
        }
    }
    walk(document, &mut Vec::new(), &document.value, diagnostics);
}

/// The platform's values, by Alertmanager's and Kubernetes' rules.
pub fn check_platform(
    document: &Document,
    platform: &PlatformManifest,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let spec = &platform.spec;
    let mut out = Vec::new();
    for (index, env) in spec.environments.iter().enumerate() {
        if let Some(namespace) = &env.namespace
            && !is_dns_label(namespace)
        {
            out.push(
                error(document, &format!("/spec/environments/{index}/namespace"), "not a valid Kubernetes namespace")
                    .expected("at most 63 lower-case letters, digits and `-`, starting and ending with a letter or digit")
                    .found(namespace.clone()),
            );
        }
    }
    if let Some(pod_label) = spec.prometheus.as_ref().and_then(|p| p.pod_label.as_ref())
        && !is_label_key(pod_label)
    {
        out.push(
            error(document, "/spec/prometheus/pod_label", "not a valid Kubernetes label key")
                .expected("an optional DNS prefix and `/`, then at most 63 letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit (e.g. `app.kubernetes.io/name`)")
                .found(pod_label.clone()),
        );
    }
    if let Some(alerting) = &spec.alerting {
        let base = "/spec/alerting";
        for (field, value) in [
            ("group_interval", alerting.group_interval),
            ("repeat_interval", alerting.repeat_interval),
        ] {
            check_not_zero(document, &format!("{base}/{field}"), value, &mut out);
        }
        check_file(
            document,
            &format!("{base}/slack_api_url_file"),
            alerting.slack_api_url_file.as_deref(),
            &mut out,
        );
        if let Some(smtp) = &alerting.smtp {
            let pointer = format!("{base}/smtp");
            if (smtp.from.trim().is_empty() || !smtp.from.contains('@'))
                && !smtp.from.contains("{{")
            {
                out.push(
                    error(
                        document,
                        &format!("{pointer}/from"),
                        "not an e-mail address",
                    )
                    .expected("the sender's address, e.g. `alerts@example.com`")
                    .found(format!("{:?}", smtp.from)),
                );
            }
            check_template_free(document, &format!("{pointer}/from"), &smtp.from, &mut out);
            let host_port = smtp.smarthost.rsplit_once(':').filter(|(host, port)| {
                is_host(host) && port.parse::<u16>().is_ok_and(|port| port > 0)
            });
            if host_port.is_none() {
                out.push(
                    error(
                        document,
                        &format!("{pointer}/smarthost"),
                        "not a `host:port` address",
                    )
                    .expected(
                        "`host:port`, e.g. `smtp.example.com:587` (Alertmanager requires the port)",
                    )
                    .found(smtp.smarthost.clone()),
                );
            }
            if let Some(username) = &smtp.auth_username {
                check_template_free(
                    document,
                    &format!("{pointer}/auth_username"),
                    username,
                    &mut out,
                );
            }
            check_file(
                document,
                &format!("{pointer}/auth_password_file"),
                smtp.auth_password_file.as_deref(),
                &mut out,
            );
        }
        if let Some(fallback) = &alerting.fallback {
            check_receivers(
                document,
                &format!("{base}/fallback"),
                (
                    &fallback.pagerduty,
                    &fallback.slack,
                    &fallback.email,
                    &fallback.webhook,
                ),
                &mut out,
            );
        }
    }
    for (name, team) in &spec.teams {
        let pointer = format!("/spec/teams/{}", escape_pointer(name));
        for (field, value) in [
            ("group_interval", team.group_interval),
            ("repeat_interval", team.repeat_interval),
        ] {
            check_not_zero(document, &format!("{pointer}/{field}"), value, &mut out);
        }
        check_receivers(
            document,
            &pointer,
            (&team.pagerduty, &team.slack, &team.email, &team.webhook),
            &mut out,
        );
        if let Some(location) = team
            .working_hours
            .as_ref()
            .and_then(|h| h.location.as_ref())
        {
            let pointer = format!("{pointer}/working_hours/location");
            if let Err(problem) = check_time_zone(location) {
                out.push(
                    problem
                        .diagnostic(error(document, &pointer, "not a known time zone"), location),
                );
            }
        }
    }
    diagnostics.extend(out);
}

type Receivers<'a> = (
    &'a Option<crate::spec::PagerdutySpec>,
    &'a Option<crate::spec::SlackSpec>,
    &'a Option<crate::spec::EmailSpec>,
    &'a Option<crate::spec::WebhookSpec>,
);

fn check_receivers(
    document: &Document,
    pointer: &str,
    (pagerduty, slack, email, webhook): Receivers<'_>,
    out: &mut Vec<Diagnostic>,
) {
    if let Some(pagerduty) = pagerduty {
        check_file(
            document,
            &format!("{pointer}/pagerduty/routing_key_file"),
            Some(&pagerduty.routing_key_file),
            out,
        );
        if let Some(url) = &pagerduty.url {
            check_template_free(document, &format!("{pointer}/pagerduty/url"), url, out);
        }
    }
    if let Some(slack) = slack {
        let field = format!("{pointer}/slack/channel");
        if slack.channel.trim().is_empty() {
            out.push(
                error(document, &field, "the Slack channel is empty")
                    .expected("a channel such as `#payments-alerts`"),
            );
        }
        check_template_free(document, &field, &slack.channel, out);
        check_file(
            document,
            &format!("{pointer}/slack/api_url_file"),
            slack.api_url_file.as_deref(),
            out,
        );
    }
    if let Some(email) = email {
        let field = format!("{pointer}/email/to");
        if email.to.trim().is_empty() || !email.to.contains('@') {
            out.push(
                error(document, &field, "not an e-mail address")
                    .expected("an address such as `payments@example.com`")
                    .found(format!("{:?}", email.to)),
            );
        }
        check_template_free(document, &field, &email.to, out);
    }
    if let Some(webhook) = webhook {
        check_template_free(
            document,
            &format!("{pointer}/webhook/url"),
            &webhook.url,
            out,
        );
        check_file(
            document,
            &format!("{pointer}/webhook/credentials_file"),
            webhook.credentials_file.as_deref(),
            out,
        );
    }
}

/// Alertmanager refuses a zero `group_interval` or `repeat_interval`.
fn check_not_zero(
    document: &Document,
    pointer: &str,
    value: Option<Duration>,
    out: &mut Vec<Diagnostic>,
) {
    if value.is_some_and(|d| d.as_millis() == 0) {
        out.push(
            error(document, pointer, "the interval is zero")
                .expected("a duration above zero, e.g. `5m`")
                .found("0")
                .hint("Alertmanager refuses a zero group or repeat interval"),
        );
    }
}

/// A file Alertmanager reads a secret from: a non-empty, printable path.
fn check_file(document: &Document, pointer: &str, path: Option<&str>, out: &mut Vec<Diagnostic>) {
    let Some(path) = path else { return };
    if path.trim().is_empty() {
        out.push(error(document, pointer, "the file path is empty").expected(
            "the path of the file that holds the secret, e.g. `/etc/alertmanager/secrets/payments`",
        ));
    } else if path.chars().any(char::is_control) {
        out.push(
            error(
                document,
                pointer,
                "the file path contains a control character",
            )
            .expected("a path of printable characters")
            .found(format!("{path:?}")),
        );
    }
}

/// Alertmanager expands receiver fields such as `channel`, `to` and `from`
/// as Go templates: `{{` in a value would run as template code (reading
/// other alerts' data, or breaking the config). Such values are refused
/// rather than escaped, as no channel, address or URL needs them.
fn check_template_free(document: &Document, pointer: &str, value: &str, out: &mut Vec<Diagnostic>) {
    if value.contains("{{") || value.contains("}}") {
        out.push(
            error(document, pointer, "the value contains `{{` or `}}`")
                .expected("plain text without Go template delimiters")
                .found(value.to_string())
                .hint("Alertmanager expands this field as a Go template; obsgen writes the notification templates itself"),
        );
    } else if value.chars().any(char::is_control) {
        out.push(
            error(document, pointer, "the value contains a control character")
                .expected("plain text on one line")
                .found(format!("{value:?}")),
        );
    }
}

/// Why a time zone is refused.
#[derive(Debug, PartialEq, Eq)]
pub enum TimeZoneProblem {
    /// Not a zone name at all (`../x`, spaces, `Local`).
    Malformed,
    /// Well-formed but not in the database.
    Unknown { database: PathBuf },
    /// No time zone database on this machine to check against.
    NoDatabase,
}

impl TimeZoneProblem {
    fn diagnostic(&self, diagnostic: Diagnostic, location: &str) -> Diagnostic {
        let diagnostic = diagnostic
            .expected("an IANA time zone such as `Europe/Paris`, `America/New_York` or `UTC`")
            .found(location.to_string());
        match self {
            TimeZoneProblem::Malformed => diagnostic,
            TimeZoneProblem::Unknown { .. } => diagnostic.hint(
                "not in this machine's time zone database; Alertmanager would refuse it. Names are case-sensitive",
            ),
            TimeZoneProblem::NoDatabase => diagnostic.hint(
                "this machine has no time zone database to check against (install `tzdata`, or set `ZONEINFO`); Alertmanager needs it too",
            ),
        }
    }
}

/// Checks a time zone as Alertmanager's `time.LoadLocation` would: `UTC`
/// always; otherwise a file of the IANA database (the system's, as
/// Debian's Alertmanager uses). `Local` is refused: it would depend on the
/// machine Alertmanager runs on.
pub fn check_time_zone(name: &str) -> Result<(), TimeZoneProblem> {
    if name == "UTC" {
        return Ok(());
    }
    let well_formed = !name.is_empty()
        && name.len() <= 64
        && name != "Local"
        && !name.starts_with('/')
        && name.split('/').all(|part| {
            !part.is_empty()
                && part != "."
                && part != ".."
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_+-".contains(c))
        });
    if !well_formed {
        return Err(TimeZoneProblem::Malformed);
    }
    let dirs: Vec<PathBuf> = std::env::var_os("ZONEINFO")
        .map(PathBuf::from)
        .into_iter()
        .chain(ZONEINFO_DIRS.iter().map(PathBuf::from))
        .filter(|dir| dir.join("UTC").is_file() || dir.join("Etc/UTC").is_file())
        .collect();
    let Some(database) = dirs.first() else {
        return Err(TimeZoneProblem::NoDatabase);
    };
    if dirs.iter().any(|dir| is_tzif(&dir.join(name))) {
        Ok(())
    } else {
        Err(TimeZoneProblem::Unknown {
            database: database.clone(),
        })
    }
}

/// A compiled zone file starts with the magic `TZif`.
fn is_tzif(path: &Path) -> bool {
    use std::io::Read as _;
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return false;
    }
    let mut magic = [0u8; 4];
    file.take(4).read_exact(&mut magic).is_ok() && &magic == b"TZif"
}

/// A service's values, by Prometheus' rules.
pub fn check_service(
    document: &Document,
    service: &ServiceManifest,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let spec = &service.spec;
    if let Some(interval) = spec.metrics.as_ref().and_then(|m| m.scrape_interval)
        && !(MIN_SCRAPE_INTERVAL..=MAX_SCRAPE_INTERVAL).contains(&interval)
    {
        diagnostics.push(
            error(document, "/spec/metrics/scrape_interval", "the scrape interval is out of range")
                .expected(format!("between `{MIN_SCRAPE_INTERVAL}` and `{MAX_SCRAPE_INTERVAL}`"))
                .found(interval.to_string())
                .hint("Prometheus scrapes every 15s to 1m usually; a series scraped less often than every 5m goes stale between scrapes"),
        );
    }
    for (env, targets) in &spec.targets {
        for (index, target) in targets.iter().enumerate() {
            let pointer = format!("/spec/targets/{}/{index}", escape_pointer(env));
            // Only what the basic `host:port` check lets through.
            let Some((host, port)) = target.rsplit_once(':') else {
                continue;
            };
            if host.is_empty() || host.contains(['/', ' ']) || port.parse::<u16>().is_err() {
                continue;
            }
            if host.contains('@') {
                diagnostics.push(
                    error(document, &pointer, "the scrape target carries credentials")
                        .expected("`host:port` without `user:password@`")
                        .found(target.clone())
                        .hint("credentials never belong in a manifest; configure scrape authentication on the Prometheus side"),
                );
            } else if !is_host(host) {
                diagnostics.push(
                    error(document, &pointer, "not a scrape target")
                        .expected("`host:port` with a host name or IP address, e.g. `checkout-1.prod.internal:8080`")
                        .found(target.clone()),
                );
            }
        }
    }
}

/// A DNS name, an IPv4 address, or an IPv6 address in brackets.
fn is_host(host: &str) -> bool {
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return inner.parse::<std::net::Ipv6Addr>().is_ok();
    }
    host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// Kubernetes' DNS-1123 label: namespaces.
fn is_dns_label(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 63
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !text.starts_with('-')
        && !text.ends_with('-')
}

/// Kubernetes' label key: `[prefix/]name`, the prefix a DNS-1123 subdomain.
fn is_label_key(text: &str) -> bool {
    let (prefix, name) = match text.rsplit_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, text),
    };
    let name_ok = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    let prefix_ok = prefix.is_none_or(|p| p.len() <= 253 && p.split('.').all(is_dns_label));
    name_ok && prefix_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_zones_are_checked_against_the_database() {
        assert_eq!(check_time_zone("UTC"), Ok(()));
        assert_eq!(check_time_zone("Europe/Paris"), Ok(()));
        assert_eq!(check_time_zone("America/Argentina/Buenos_Aires"), Ok(()));
        for malformed in [
            "",
            "Local",
            "../../etc/passwd",
            "/etc/localtime",
            "Europe/ Paris",
        ] {
            assert_eq!(
                check_time_zone(malformed),
                Err(TimeZoneProblem::Malformed),
                "{malformed:?}"
            );
        }
        for unknown in ["Mars/Olympus_Mons", "europe/paris", "Europe"] {
            assert!(
                matches!(
                    check_time_zone(unknown),
                    Err(TimeZoneProblem::Unknown { .. })
                ),
                "{unknown:?}"
            );
        }
    }

    #[test]
    fn kubernetes_names() {
        assert!(is_dns_label("payments-prod"));
        for bad in ["", "Prod", "-a", "a-", "a.b", "a{{x}}", &"a".repeat(64)] {
            assert!(!is_dns_label(bad), "{bad:?}");
        }
        assert!(is_label_key("app"));
        assert!(is_label_key("app.kubernetes.io/name"));
        for bad in [
            "",
            "/app",
            "a b",
            "app\"}",
            "app.kubernetes.io/",
            "x/y/z",
            "a{{x}}",
        ] {
            assert!(!is_label_key(bad), "{bad:?}");
        }
    }

    #[test]
    fn hosts() {
        assert!(is_host("checkout-1.prod.internal"));
        assert!(is_host("10.0.0.1"));
        assert!(is_host("[::1]"));
        for bad in ["host{{x}}", "a..b", "user@host", "[zz]", "h\"x"] {
            assert!(!is_host(bad), "{bad:?}");
        }
    }
}
