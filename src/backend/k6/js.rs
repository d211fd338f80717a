//! The one place that knows how a value reaches a k6 script: as a
//! JavaScript literal, JSON-encoded.
//!
//! Every string a user wrote (paths, headers, bodies, names, URLs) reaches
//! the generated JavaScript only through [`literal`]; the templates call it
//! as the `js` filter, and the template environment's formatter refuses to
//! print any value that did not come out of that filter, so a template
//! cannot concatenate a raw string into code by mistake.
//!
//! JSON is a subset of JavaScript expressions (printed with two-space
//! indentation, so a manifest change is a small line diff). On top of
//! JSON's escaping, a `<` before `/` or `!` becomes `\u003c` (a
//! `</script>` or `<!--` stays inert even if the script is ever embedded in
//! HTML), and U+2028 and U+2029 become `\u2028`/`\u2029` (line terminators
//! in JavaScript before ES2019, so no parser sees a line break inside a
//! string).

use minijinja::value::Value as TemplateValue;
use minijinja::{Error, ErrorKind, State};

/// A JSON value as a JavaScript literal.
pub fn literal(value: &serde_json::Value) -> String {
    // Serializing a `Value` cannot fail; the compact form is a fallback.
    let json = crate::output::json::pretty_string(value).unwrap_or_else(|_| value.to_string());
    javascript_safe(json)
}

/// Pretty JSON made safe as JavaScript: `<` before `/` or `!`, U+2028 and
/// U+2029 escaped (JSON escapes nothing else that matters here). Most
/// scripts hold none of them, which one scan finds out.
fn javascript_safe(json: String) -> String {
    // U+2028 and U+2029 are E2 80 A8 and E2 80 A9 in UTF-8.
    if !json.bytes().any(|b| b == b'<' || b == 0xE2) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    let mut chars = json.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '<' if matches!(chars.peek(), Some('/' | '!')) => out.push_str("\\u003c"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// The `js` template filter: [`literal`] of any template value, marked
/// safe so that the formatter lets it through. The template value is
/// written as JSON directly, without a `serde_json::Value` in between.
pub fn filter(value: TemplateValue) -> Result<TemplateValue, Error> {
    let json = crate::output::json::pretty_string(&value).map_err(|error| {
        Error::new(
            ErrorKind::BadSerialization,
            format!("a value cannot be written as JSON: {error}"),
        )
    })?;
    Ok(TemplateValue::from_safe_string(javascript_safe(json)))
}

/// The template formatter: prints only what the `js` filter produced.
pub fn formatter(
    out: &mut minijinja::Output<'_>,
    _state: &State<'_, '_>,
    value: &TemplateValue,
) -> Result<(), Error> {
    if !value.is_safe() {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "a value reaches a k6 script without the `js` filter",
        ));
    }
    write!(out, "{value}").map_err(|_| Error::new(ErrorKind::WriteFailure, "writing a k6 script"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_stay_inside_their_literal() {
        let hostile = "\"'`${x}</script><!--\u{2028}\u{2029}\n\\&";
        let text = literal(&json!(hostile));
        assert_eq!(
            text,
            r#""\"'`${x}\u003c/script>\u003c!--\u2028\u2029\n\\&""#
        );
        // Still the same string once parsed back.
        let back: String = serde_json::from_str(&text).unwrap();
        assert_eq!(back, hostile);
        for forbidden in ["\n", "\r", "\u{2028}", "\u{2029}", "</", "<!"] {
            assert!(!text.contains(forbidden), "{forbidden:?} in {text}");
        }
    }

    #[test]
    fn the_filter_writes_what_literal_writes() {
        let value = json!({
            "zeta": {"b": [1, 2.5, -3, null, true], "a": {}},
            "alpha": "</script><!--\u{2028}\u{2029}",
            "empty": [],
            "big": u64::MAX,
        });
        let through_template = filter(TemplateValue::from_serialize(&value)).unwrap();
        assert!(through_template.is_safe());
        assert_eq!(through_template.to_string(), literal(&value));
    }

    #[test]
    fn the_formatter_refuses_unfiltered_values() {
        let mut env = minijinja::Environment::new();
        env.add_filter("js", filter);
        env.set_formatter(formatter);
        let raw = env.render_str("let a = {{ x }};", minijinja::context! { x => "1; evil()" });
        assert!(raw.is_err(), "{raw:?}");
        let ok = env
            .render_str(
                "let a = {{ x|js }};",
                minijinja::context! { x => "1; evil()" },
            )
            .unwrap();
        assert_eq!(ok, r#"let a = "1; evil()";"#);
    }
}
