//! Alertmanager matchers (`team="payments"`, `service=~"a|b"`): the one
//! place that knows how a value is quoted in a matcher and escaped in a
//! regular expression, so that no user string can change what a route or
//! an inhibition matches.
//!
//! The same syntax is what `amtool config routes test` takes as labels, so
//! the routing test cases are written with it too.

/// Routing labels every generated alert carries (besides those named in
/// [`crate::model::alerts`]); the Prometheus backend sets them on every
/// series, so they are on every alert.
pub const ALERTNAME: &str = "alertname";
pub const TEAM: &str = "team";
pub const SERVICE: &str = "service";
pub const ENV: &str = "env";

/// `name="value"`.
pub fn equal(name: &str, value: &str) -> String {
    format!("{name}={}", quote(value))
}

/// `name!="value"`.
pub fn not_equal(name: &str, value: &str) -> String {
    format!("{name}!={}", quote(value))
}

/// `name=~"a|b"`: matches exactly one of `values` (Alertmanager anchors
/// regular expressions at both ends). `None` for no values: an empty
/// alternation would match the empty string, i.e. alerts *without* the
/// label, the opposite of what a caller means.
pub fn one_of<S: AsRef<str>>(name: &str, values: &[S]) -> Option<String> {
    if values.is_empty() {
        return None;
    }
    let alternation = values
        .iter()
        .map(|value| crate::backend::re2_literal(value.as_ref()))
        .collect::<Vec<_>>()
        .join("|");
    Some(format!("{name}=~{}", quote(&alternation)))
}

/// A double-quoted matcher value: `\`, `"` and line feeds escaped the way
/// Alertmanager's matcher parser unescapes them.
fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_and_escaped() {
        assert_eq!(equal(TEAM, "payments"), r#"team="payments""#);
        assert_eq!(not_equal(ALERTNAME, "X"), r#"alertname!="X""#);
        assert_eq!(
            equal(TEAM, "a\"b\\c\nd"),
            r#"team="a\"b\\c\nd""#,
            "a quote cannot end the value early"
        );
    }

    #[test]
    fn alternations_match_literals_only() {
        assert_eq!(
            one_of(SERVICE, &["checkout", "payments-api"]).as_deref(),
            Some(r#"service=~"checkout|payments-api""#)
        );
        // `.` and `|` in a value stay literal: `a.b` must not match `axb`,
        // and `x|.*` must not match everything. The regex's backslashes are
        // then doubled by the quoting.
        assert_eq!(
            one_of(SERVICE, &["a.b", "x|.*"]).as_deref(),
            Some(r#"service=~"a\\.b|x\\|\\.\\*""#)
        );
        assert_eq!(one_of::<&str>(SERVICE, &[]), None);
    }
}
