//! Grok patterns checked at compile time, so that a typo is reported at the
//! manifest's line instead of Logstash refusing to start the pipeline.
//!
//! A manifest's `logs.pattern` must use only named captures (`%{NAME:field}`
//! or `(?<field>...)`; a plain `(...)` group would be captured nowhere),
//! balance its groups and brackets, capture at least one field, and name only
//! patterns that Logstash ships ([`BUILTIN`]) or that the platform declares
//! in `logging.grok_patterns`.

/// The grok patterns of Logstash's `logstash-patterns-core` (`grok-patterns`,
/// `httpd`, `linux-syslog`) that every Logstash has loaded.
pub const BUILTIN: &[&str] = &[
    "USERNAME",
    "USER",
    "EMAILLOCALPART",
    "EMAILADDRESS",
    "INT",
    "BASE10NUM",
    "NUMBER",
    "BASE16NUM",
    "BASE16FLOAT",
    "POSINT",
    "NONNEGINT",
    "WORD",
    "NOTSPACE",
    "SPACE",
    "DATA",
    "GREEDYDATA",
    "QUOTEDSTRING",
    "QS",
    "UUID",
    "URN",
    "MAC",
    "CISCOMAC",
    "WINDOWSMAC",
    "COMMONMAC",
    "IPV6",
    "IPV4",
    "IP",
    "HOSTNAME",
    "IPORHOST",
    "HOSTPORT",
    "PATH",
    "UNIXPATH",
    "TTY",
    "WINPATH",
    "URIPROTO",
    "URIHOST",
    "URIPATH",
    "URIQUERY",
    "URIPARAM",
    "URIPATHPARAM",
    "URI",
    "MONTH",
    "MONTHNUM",
    "MONTHNUM2",
    "MONTHDAY",
    "DAY",
    "YEAR",
    "HOUR",
    "MINUTE",
    "SECOND",
    "TIME",
    "DATE_US",
    "DATE_EU",
    "ISO8601_TIMEZONE",
    "ISO8601_SECOND",
    "TIMESTAMP_ISO8601",
    "DATE",
    "DATESTAMP",
    "TZ",
    "DATESTAMP_RFC822",
    "DATESTAMP_RFC2822",
    "DATESTAMP_OTHER",
    "DATESTAMP_EVENTLOG",
    "SYSLOGTIMESTAMP",
    "PROG",
    "SYSLOGPROG",
    "SYSLOGHOST",
    "SYSLOGFACILITY",
    "HTTPDATE",
    "LOGLEVEL",
    "SYSLOGBASE",
    "SYSLOGLINE",
    "SYSLOG5424PRI",
    "SYSLOG5424SD",
    "SYSLOG5424BASE",
    "SYSLOG5424LINE",
    "HTTPDUSER",
    "HTTPDERROR_DATE",
    "HTTPD_COMMONLOG",
    "HTTPD_COMBINEDLOG",
    "HTTPD20_ERRORLOG",
    "HTTPD24_ERRORLOG",
    "HTTPD_ERRORLOG",
    "COMMONAPACHELOG",
    "COMBINEDAPACHELOG",
];

/// What is wrong with a grok pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// `%{NAME}` names a pattern nobody defines.
    UnknownPattern(String),
    /// `%{...}` is not `NAME`, `NAME:field` or `NAME:field:type`.
    BadReference(String),
    /// A `(` that captures without a name.
    UnnamedGroup,
    /// More `(` than `)`, or the reverse; or an unclosed `[`.
    Unbalanced,
    /// Nothing is captured into a field.
    NoField,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::UnknownPattern(name) => write!(f, "unknown grok pattern `{name}`"),
            Problem::BadReference(text) => write!(
                f,
                "`%{{{text}}}` is not a grok reference (`%{{NAME}}`, `%{{NAME:field}}` or `%{{NAME:field:int}}`)"
            ),
            Problem::UnnamedGroup => write!(f, "the pattern has a group `(...)` without a name"),
            Problem::Unbalanced => {
                write!(f, "the pattern's parentheses or brackets do not balance")
            }
            Problem::NoField => write!(f, "the pattern captures no field"),
        }
    }
}

/// Every problem of `pattern`; `declared` are the platform's own pattern
/// names.
pub fn check(pattern: &str, declared: &[&str]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut fields = 0;
    let chars: Vec<char> = pattern.chars().collect();
    let mut depth: i64 = 0;
    let mut in_class = false;
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        match c {
            '\\' => i += 1,
            '[' if !in_class => in_class = true,
            ']' if in_class => in_class = false,
            _ if in_class => {}
            '%' if chars.get(i + 1) == Some(&'{') => {
                let rest: String = chars.get(i + 2..).unwrap_or_default().iter().collect();
                match rest.find('}') {
                    Some(end) => {
                        let reference = &rest[..end];
                        let parts: Vec<&str> = reference.split(':').collect();
                        let name_ok = |s: &str| {
                            !s.is_empty()
                                && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                        };
                        let field_ok = |s: &str| {
                            !s.is_empty()
                                && s.chars()
                                    .all(|c| c.is_ascii_alphanumeric() || "_@.[]-".contains(c))
                        };
                        let shape_ok = match parts.as_slice() {
                            [name] => name_ok(name),
                            [name, field] => name_ok(name) && field_ok(field),
                            [name, field, kind] => {
                                name_ok(name) && field_ok(field) && matches!(*kind, "int" | "float")
                            }
                            _ => false,
                        };
                        if !shape_ok {
                            problems.push(Problem::BadReference(reference.to_string()));
                        } else {
                            if parts.len() > 1 {
                                fields += 1;
                            }
                            let name = parts.first().copied().unwrap_or_default();
                            if !BUILTIN.contains(&name) && !declared.contains(&name) {
                                problems.push(Problem::UnknownPattern(name.to_string()));
                            }
                        }
                        i += 2 + rest[..end].chars().count();
                    }
                    None => {
                        problems.push(Problem::BadReference(rest));
                        break;
                    }
                }
            }
            '(' => {
                depth += 1;
                if chars.get(i + 1) == Some(&'?') {
                    let next = chars.get(i + 2).copied();
                    let after = chars.get(i + 3).copied();
                    let named = (next == Some('<') && !matches!(after, Some('=') | Some('!')))
                        || (next == Some('P') && after == Some('<'));
                    if named {
                        fields += 1;
                    }
                } else {
                    problems.push(Problem::UnnamedGroup);
                }
            }
            ')' => {
                depth -= 1;
                if depth < 0 {
                    problems.push(Problem::Unbalanced);
                    depth = 0;
                }
            }
            _ => {}
        }
        i += 1;
    }
    if depth != 0 || in_class {
        problems.push(Problem::Unbalanced);
    }
    if fields == 0 && problems.is_empty() {
        problems.push(Problem::NoField);
    }
    problems.dedup();
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_named_captures_of_known_patterns() {
        assert!(
            check(
                "%{TIMESTAMP_ISO8601:timestamp} %{LOGLEVEL:level} %{GREEDYDATA:message}",
                &[]
            )
            .is_empty()
        );
        assert!(
            check(
                r"(?<trace>[0-9a-f]{32}) \[%{ACME_ID:id}\] (?:x|y)",
                &["ACME_ID"]
            )
            .is_empty()
        );
        assert!(check(r"%{INT:[http][status]:int} \(literal\)", &[]).is_empty());
    }

    #[test]
    fn reports_each_mistake() {
        assert_eq!(
            check("%{NOPE:x}", &[]),
            vec![Problem::UnknownPattern("NOPE".into())]
        );
        assert_eq!(check("(a|b) %{WORD:w}", &[]), vec![Problem::UnnamedGroup]);
        assert_eq!(check("(?<a>x %{WORD:w}", &[]), vec![Problem::Unbalanced]);
        assert_eq!(check("%{WORD:w} [abc", &[]), vec![Problem::Unbalanced]);
        assert_eq!(check("%{WORD}", &[]), vec![Problem::NoField]);
        assert_eq!(
            check("%{WORD:w x}", &[]),
            vec![Problem::BadReference("WORD:w x".into())]
        );
        assert!(matches!(
            check("%{WORD:w", &[])[0],
            Problem::BadReference(_)
        ));
    }
}
