//! Names derived from user input that more than one backend must agree on:
//! dashboard uids, URL pieces, service URLs expanded per environment.

/// Grafana allows at most 40 characters of `[a-zA-Z0-9_-]` in a uid.
pub const MAX_DASHBOARD_UID: usize = 40;

/// The dashboard uid of a service: `svc-<name>` when it fits, otherwise a
/// truncated name plus a stable hash of the whole name, so two long names
/// with a common prefix never collide.
pub fn dashboard_uid(service: &str) -> String {
    let mut plain = String::with_capacity("svc-".len() + service.len());
    plain.push_str("svc-");
    plain.extend(service.chars().map(|c| {
        if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
            c
        } else {
            '-'
        }
    }));
    if plain.len() <= MAX_DASHBOARD_UID {
        return plain;
    }
    let clean = plain.split_off("svc-".len());
    let hash = format!("{:08x}", fnv1a32(service.as_bytes()));
    let keep = MAX_DASHBOARD_UID - "svc-".len() - 1 - hash.len();
    format!("svc-{}-{hash}", &clean[..keep])
}

/// A service or environment name as a part of a data stream name.
///
/// Elasticsearch's data stream naming scheme (`<type>-<dataset>-<namespace>`)
/// forbids `-` inside the dataset and the namespace, so `-` becomes `_`.
/// Service and environment names are lower-case letters, digits and `-`
/// (never `_`), so the mapping is one-to-one; and as no part holds a `-`,
/// the separators are unambiguous: `checkout` in `prod-eu` gives
/// `logs-checkout-prod_eu`, `checkout-prod` in `eu` gives
/// `logs-checkout_prod-eu`, and no name is another's prefix up to a `-`.
pub fn data_stream_part(name: &str) -> String {
    name.replace('-', "_")
}

/// `<prefix>-<service>-<env>`, the parts through [`data_stream_part`],
/// written into one string.
fn data_stream_name(prefix: &str, service: &str, env: &str) -> String {
    let mut name = String::with_capacity(prefix.len() + service.len() + env.len() + 2);
    name.push_str(prefix);
    for part in [service, env] {
        name.push('-');
        name.push_str(&data_stream_part(part));
    }
    name
}

/// The Elasticsearch data stream holding a service's logs in one
/// environment: `logs-<service>-<env>`, each part through
/// [`data_stream_part`].
pub fn log_data_stream(service: &str, env: &str) -> String {
    data_stream_name("logs", service, env)
}

/// The rollover alias of a service's logs in one environment when the
/// platform writes classic indices: `<prefix>-<service>-<env>`, parts as in
/// [`log_data_stream`]. Backing indices are `<alias>-000001`, ...
pub fn log_rollover_alias(prefix: &str, service: &str, env: &str) -> String {
    data_stream_name(prefix, service, env)
}

/// The id of the Kibana data view of a service's logs in one environment:
/// `logs.<service>.<env>`. Built from the plain names (no `.` can occur in
/// either, so ids never collide), so that a dashboard can form it from its
/// `${env}` variable.
pub fn log_data_view(service: &str, env: &str) -> String {
    format!("logs.{service}.{env}")
}

/// The id of the Kibana saved search of a service's logs (the dashboard's
/// Logs link opens it).
pub fn log_saved_search(service: &str) -> String {
    format!("logs.{service}")
}

/// The Kibana space of a team's logs: the team's name, which is already a
/// valid space id (lower-case letters, digits, `-` and `_`). Mapping `_`
/// to `-` would make teams `a_b` and `a-b` share a space.
pub fn kibana_space(team: &str) -> String {
    team.to_string()
}

/// FNV-1a, 32 bits: tiny, stable across platforms and releases (unlike
/// `std`'s hasher, which is explicitly not).
pub fn fnv1a32(bytes: &[u8]) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in bytes {
        hash ^= u32::from(*byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

/// Percent-encodes a URL query value (RFC 3986 unreserved characters pass).
pub fn url_query_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Expands `{service}` and `{env}` in a URL template.
pub fn expand_service_url(template: &str, service: &str, env: &str) -> String {
    template.replace("{service}", service).replace("{env}", env)
}

/// Expands `{service}` and `{env}` in the tracing UI's URL template of a
/// service's traces. Both values must already be URL-safe (escaped names,
/// or a dashboard variable such as `${env}`). Dashboards, the landing page
/// and alerts all link through here, so their links agree.
pub fn expand_traces_url(template: &str, service: &str, env: &str) -> String {
    traces_url_segments(template, service).join(env)
}

/// The tracing UI's URL template with `{service}` filled in, cut at each
/// `{env}`: joining the segments with an environment expands it.
pub fn traces_url_segments(template: &str, service: &str) -> Vec<String> {
    template
        .split("{env}")
        .map(|segment| segment.replace("{service}", service))
        .collect()
}

/// The `host:port` part of a URL, with the scheme's default port when the
/// URL names none. `None` when there is no host.
pub fn host_port(url: &str) -> Option<(String, Option<u16>)> {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (scheme, rest),
        None => ("http", url),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority.rsplit('@').next().unwrap_or_default();
    if authority.is_empty() {
        return None;
    }
    let default_port = match scheme {
        "https" | "grpcs" => Some(443),
        "http" | "grpc" => Some(80),
        _ => None,
    };
    match authority.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && !host.ends_with(':') => match port.parse::<u16>()
        {
            Ok(port) => Some((host.to_string(), Some(port))),
            Err(_) => None,
        },
        _ => Some((authority.to_string(), default_port)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dashboard_uids_fit_grafana() {
        assert_eq!(dashboard_uid("checkout"), "svc-checkout");
        let long = "a".repeat(63);
        let uid = dashboard_uid(&long);
        assert_eq!(uid.len(), MAX_DASHBOARD_UID);
        assert_ne!(uid, dashboard_uid(&format!("{}b", "a".repeat(62))));
        assert!(
            uid.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
    }

    #[test]
    fn host_port_understands_common_urls() {
        assert_eq!(
            host_port("http://checkout.production.svc:8080/x"),
            Some(("checkout.production.svc".into(), Some(8080)))
        );
        assert_eq!(
            host_port("https://api.example.com"),
            Some(("api.example.com".into(), Some(443)))
        );
        assert_eq!(host_port("http://"), None);
    }

    #[test]
    fn log_names_of_different_services_and_envs_never_collide() {
        assert_eq!(
            log_data_stream("checkout", "prod-eu"),
            "logs-checkout-prod_eu"
        );
        assert_ne!(
            log_data_stream("checkout", "prod-eu"),
            log_data_stream("checkout-prod", "eu")
        );
        assert_ne!(
            log_data_view("checkout", "prod-eu"),
            log_data_view("checkout-prod", "eu")
        );
        assert_ne!(
            log_rollover_alias("logs", "checkout", "prod-eu"),
            log_rollover_alias("logs", "checkout-prod", "eu")
        );
        assert_ne!(kibana_space("a_b"), kibana_space("a-b"));
    }

    #[test]
    fn query_values_are_escaped() {
        assert_eq!(url_query_escape("prod us&x"), "prod%20us%26x");
    }
}
