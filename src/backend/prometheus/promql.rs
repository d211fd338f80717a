//! The one place that knows how user strings enter PromQL, Prometheus
//! relabelling regexes and alert templates.

/// Quotes a label value for a PromQL matcher: `"..."` with `\`, `"` and
/// line breaks escaped as in a Go string literal (what PromQL parses).
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A label matcher list `{job="a",env="b"}`.
pub fn selector(matchers: &[(&str, &str)]) -> String {
    let parts: Vec<String> = matchers
        .iter()
        .map(|(name, value)| format!("{name}={}", quote(value)))
        .collect();
    format!("{{{}}}", parts.join(","))
}

/// Escapes a literal for a RE2 regex (relabel `regex:` fields are anchored
/// RE2), so a name can never match more than itself.
pub use crate::backend::re2_literal as regex_literal;

/// Makes a string literal text of a Prometheus alert template (Go
/// `text/template`): alert labels and annotations are expanded as templates,
/// so a user's `{{` would otherwise start an action. Only `{{` needs care:
/// it becomes an action printing `{{`.
pub fn template_literal(value: &str) -> String {
    value.replace("{{", "{{ \"{{\" }}")
}

/// A Kubernetes label name as Prometheus exposes it in `__meta_` labels.
pub fn sanitize_label_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_cannot_break_out() {
        let quoted = quote("a\"}) or vector(1) #\n\\");
        assert_eq!(quoted, "\"a\\\"}) or vector(1) #\\n\\\\\"");
        let expr = format!("up{}", selector(&[("tier", "a\"}) or vector(1) #")]));
        let parsed = promql_parser::parser::parse(&expr).unwrap();
        assert!(
            matches!(parsed, promql_parser::parser::Expr::VectorSelector(_)),
            "{expr}"
        );
    }

    #[test]
    fn template_literals_cannot_start_actions() {
        assert_eq!(template_literal("a {{ .x }} b"), "a {{ \"{{\" }} .x }} b");
        assert_eq!(template_literal("plain"), "plain");
    }

    #[test]
    fn regex_literals_match_only_themselves() {
        assert_eq!(regex_literal("a.b|c"), "a\\.b\\|c");
        assert_eq!(
            sanitize_label_name("app.kubernetes.io/name"),
            "app_kubernetes_io_name"
        );
    }
}
