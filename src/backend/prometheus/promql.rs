//! The one place that knows how user strings enter PromQL, Prometheus
//! relabelling regexes and alert templates.

/// Quotes a label value for a PromQL matcher: `"..."` with `\`, `"` and
/// line breaks escaped as in a Go string literal (what PromQL parses).
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    push_quoted(&mut out, value);
    out
}

/// [`quote`] onto the end of `out`. Names and most values are printable
/// ASCII with no quote or backslash: they are copied whole.
pub fn push_quoted(out: &mut String, value: &str) {
    out.push('"');
    if value
        .bytes()
        .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\')
    {
        out.push_str(value);
        out.push('"');
        return;
    }
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
}

/// A label matcher list `{job="a",env="b"}`.
pub fn selector(matchers: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(2 + matchers.len() * 24);
    out.push('{');
    for (index, (name, value)) in matchers.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        out.push_str(name);
        out.push('=');
        push_quoted(&mut out, value);
    }
    out.push('}');
    out
}

/// Escapes a literal for a RE2 regex (relabel `regex:` fields are anchored
/// RE2), so a name can never match more than itself.
pub use crate::backend::re2_literal as regex_literal;

/// Makes a string literal text of a Prometheus alert template (Go
/// `text/template`): alert labels and annotations are expanded as templates,
/// so a user's `{{` would otherwise start an action. Only `{{` needs care:
/// it becomes an action printing `{{`.
pub fn template_literal(value: &str) -> String {
    let mut literal = String::with_capacity(value.len());
    push_template_literal(&mut literal, value);
    literal
}

/// Appends [`template_literal`] of `value` to `out`.
pub fn push_template_literal(out: &mut String, value: &str) {
    if has_action_start(value) {
        out.push_str(&value.replace("{{", "{{ \"{{\" }}"));
    } else {
        out.push_str(value);
    }
}

/// Whether `value` holds `{{`. Most texts hold no `{` at all, which a
/// `memchr` finds out before any substring search.
fn has_action_start(value: &str) -> bool {
    value
        .find('{')
        .and_then(|at| value.get(at..))
        .is_some_and(|rest| rest.contains("{{"))
}

/// [`template_literal`] of an owned string, returned as it is when it
/// holds no `{{` (most label values and links).
pub fn template_literal_owned(value: String) -> String {
    if has_action_start(&value) {
        template_literal(&value)
    } else {
        value
    }
}

/// Whether `expr` yields a value even when none of the series it reads
/// exist (a scalar, `vector(...)`, `absent(...)`, `time()`, or such an
/// operand of `or`): an "indicator missing" condition on it can never
/// hold. Unparsable expressions count as not always yielding.
pub fn always_yields(expr: &str) -> bool {
    may_yield_alone(expr) && promql_parser::parser::parse(expr).is_ok_and(|parsed| yields(&parsed))
}

/// The functions that yield a value with no series to read.
const YIELDING_FUNCTIONS: [&str; 6] = [
    "vector",
    "time",
    "absent",
    "absent_over_time",
    "pi",
    "scalar",
];

/// Whether `expr` could [`always_yield`](always_yields), told from its
/// text alone; `false` only when it certainly cannot. An expression yields
/// alone only through a number or string literal or a call of
/// [`YIELDING_FUNCTIONS`], all of which show outside `{...}` and `[...]`:
/// a number as a token that starts with a digit or a dot (or reads `Inf` or
/// `NaN`), a string as a quote, a call as its name. Anything unusual
/// outside them (another character, text that is not ASCII) counts as
/// "could". Parsing the query was the largest single cost of building a
/// rule file (1.2 % of a fresh build's CPU), and almost no `total` query
/// holds any of these.
fn may_yield_alone(expr: &str) -> bool {
    let bytes = expr.as_bytes();
    let mut at = 0;
    let mut braces = 0usize;
    while let Some(&b) = bytes.get(at) {
        match b {
            b'"' | b'\'' | b'`' if braces > 0 => match string_end(bytes, at) {
                Some(end) => at = end,
                None => return true,
            },
            b'"' | b'\'' | b'`' => return true,
            // A comment, to the end of its line (inside braces too, where a
            // quote in it must not start a string).
            b'#' => match bytes
                .get(at..)
                .and_then(|rest| rest.iter().position(|&c| c == b'\n'))
            {
                Some(length) => at += length,
                None => return false,
            },
            b'{' => braces += 1,
            b'}' => match braces.checked_sub(1) {
                Some(depth) => braces = depth,
                None => return true,
            },
            _ if braces > 0 => {}
            // A range, or a subquery's range and step: durations only.
            b'[' => match bytes
                .get(at..)
                .and_then(|rest| rest.iter().position(|&c| c == b']'))
            {
                Some(length)
                    if bytes
                        .get(at + 1..at + length)
                        .is_some_and(|range| range.iter().all(|&c| is_duration_byte(c))) =>
                {
                    at += length;
                }
                _ => return true,
            },
            b'0'..=b'9' | b'.' => return true,
            b'a'..=b'z' | b'A'..=b'Z' | b'_' | b':' => {
                let length = bytes
                    .get(at..)
                    .and_then(|rest| {
                        rest.iter()
                            .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_' || *c == b':'))
                    })
                    .unwrap_or(bytes.len() - at);
                let word = expr.get(at..at + length).unwrap_or_default();
                if YIELDING_FUNCTIONS.contains(&word)
                    || word.eq_ignore_ascii_case("inf")
                    || word.eq_ignore_ascii_case("nan")
                {
                    return true;
                }
                at += length;
                continue;
            }
            b' ' | b'\t' | b'\n' | b'\r' | b'(' | b')' | b',' | b'+' | b'-' | b'*' | b'/'
            | b'%' | b'^' | b'=' | b'!' | b'<' | b'>' | b'@' => {}
            _ => return true,
        }
        at += 1;
    }
    false
}

/// What a range or a subquery's range and step are written with.
fn is_duration_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b':' | b'+' | b'-' | b' ')
}

/// Where the string literal that starts at `start` ends (its closing
/// quote), or `None` if it does not: `\` escapes the next character in
/// `"` and `'` strings, not in raw `` ` `` ones.
fn string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let quote = *bytes.get(start)?;
    let mut at = start + 1;
    while let Some(&b) = bytes.get(at) {
        if b == quote {
            return Some(at);
        }
        if b == b'\\' && quote != b'`' {
            at += 1;
        }
        at += 1;
    }
    None
}

fn yields(expr: &promql_parser::parser::Expr) -> bool {
    use promql_parser::parser::{Expr, token};
    match expr {
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) => true,
        Expr::VectorSelector(_) | Expr::MatrixSelector(_) | Expr::Extension(_) => false,
        Expr::Paren(paren) => yields(&paren.expr),
        Expr::Unary(unary) => yields(&unary.expr),
        Expr::Subquery(subquery) => yields(&subquery.expr),
        Expr::Aggregate(aggregate) => yields(&aggregate.expr),
        Expr::Call(call) => match call.func.name {
            "vector" | "time" | "absent" | "absent_over_time" | "pi" | "scalar" => true,
            _ => call.args.args.iter().any(|arg| yields(arg)),
        },
        Expr::Binary(binary) => {
            let (lhs, rhs) = (yields(&binary.lhs), yields(&binary.rhs));
            match binary.op.id() {
                token::T_LOR => lhs || rhs,
                token::T_LAND | token::T_LUNLESS => lhs,
                _ => lhs && rhs,
            }
        }
    }
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
    fn what_always_yields_a_value() {
        for expr in [
            "sum(rate(x_total[5m])) or vector(1)",
            "1",
            "absent(up)",
            "(sum(x) or vector(0)) * 2",
        ] {
            assert!(always_yields(expr), "{expr}");
        }
        for expr in [
            "sum(rate(x_total[5m]))",
            "sum(rate(x_total[5m])) / 60",
            "sum(x) and vector(1)",
            "rate(x[5m]) > 0",
            "not promql (",
        ] {
            assert!(!always_yields(expr), "{expr}");
        }
    }

    #[test]
    fn the_text_alone_rules_out_only_what_cannot_yield() {
        let parsed_yields =
            |expr: &str| promql_parser::parser::parse(expr).is_ok_and(|parsed| yields(&parsed));
        let could = [
            "sum(rate(x_total[5m])) or vector(1)",
            "1",
            "absent(up)",
            "(sum(x) or vector(0)) * 2",
            "x or Inf",
            "x or nan",
            "x or .5",
            "x or 0x1f",
            "x or 1e3",
            "x or \"a\"",
            "x or `raw`",
            "time()",
            "x or pi()",
            "scalar(x) + scalar(y)",
            "absent_over_time(x[5m])",
            "sum by (time) (x)",
            "x offset 5m",
            "x @ 100",
            "label_replace(x, \"a\", \"b\", \"c\", \"d\")",
            "x or vector(1) # a comment",
            "{\"metric.name\"} or vector(1)",
            "x{a=\"}\"} or vector(1)",
            "x{a='\\''} or vector(1)",
            "é or vector(1)",
            "x{a=\"b\" # it's\n} or vector(1)",
            "x{ # '\n} or vector(1) # '",
        ];
        for expr in could {
            assert!(may_yield_alone(expr), "{expr}");
        }
        let cannot = [
            "sum(rate(x_total[5m]))",
            "sum(rate(orders_total{job=\"checkout\",path=~\"/a|/b\",n=\"vector(1) or 2\"}[5m]))",
            "sum by (job, env) (rate(http_5xx_total{job='a'}[1h]))",
            "sum(rate(x[5m])) # or vector(1)",
            "sum(x) and on (job) y",
            "rate(x{a=`time()`}[30m]) > bool y",
            "max_over_time(x[1h:5m])",
            "x[5m:1m]",
        ];
        for expr in cannot {
            assert!(!may_yield_alone(expr), "{expr}");
        }
        // Never "cannot" where the parsed expression yields.
        for expr in could.iter().chain(&cannot) {
            if parsed_yields(expr) {
                assert!(may_yield_alone(expr), "{expr}");
            }
            assert_eq!(always_yields(expr), parsed_yields(expr), "{expr}");
        }
    }

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
        assert_eq!(template_literal("{ {x} }{"), "{ {x} }{");
        assert_eq!(template_literal("a{b{{c"), "a{b{{ \"{{\" }}c");
        assert_eq!(
            template_literal_owned("a {{ .x }} b".into()),
            "a {{ \"{{\" }} .x }} b"
        );
        assert_eq!(template_literal_owned("plain".into()), "plain");
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
