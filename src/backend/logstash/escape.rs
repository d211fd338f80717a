//! Logstash strings: the one place that knows how a value is quoted in a
//! pipeline configuration.
//!
//! Logstash's grammar has two string forms, `"..."` and `'...'`, and no
//! escape that works whatever `config.support_escapes` says: a backslash
//! before the closing quote escapes it. So a value is written between `"`
//! when it holds no `"`, else between `'` when it holds no `'`; a value with
//! both quote kinds, a trailing backslash, `${` (Logstash replaces
//! `${NAME}` with an environment or keystore value) or a control character
//! other than tab cannot be written safely and is refused. Validation
//! ([`crate::validate::semantic`]) reports the same refusals at the
//! manifest's line, so a valid model always renders.

/// Why `value` cannot be a Logstash string, or `None` when it can.
pub fn refusal(value: &str) -> Option<&'static str> {
    let shape = Shape::of(value);
    if shape.double_quote && shape.single_quote {
        Some("it holds both kinds of quote (`\"` and `'`), which no Logstash string can hold")
    } else if value.ends_with('\\') {
        Some("it ends with a backslash, which would escape the closing quote")
    } else if shape.reference {
        Some("it holds `${`, which Logstash replaces with an environment or keystore value")
    } else if shape.control {
        Some("it holds a line break or another control character")
    } else {
        None
    }
}

/// What decides how a value is quoted, found in one pass over its bytes:
/// every user string of a pipeline is quoted (and validated) this way.
struct Shape {
    double_quote: bool,
    single_quote: bool,
    /// `${` somewhere.
    reference: bool,
    /// A control character other than a tab.
    control: bool,
}

impl Shape {
    fn of(value: &str) -> Self {
        let mut shape = Shape {
            double_quote: false,
            single_quote: false,
            reference: false,
            control: false,
        };
        let mut previous = 0u8;
        for &b in value.as_bytes() {
            shape.double_quote |= b == b'"';
            shape.single_quote |= b == b'\'';
            shape.reference |= previous == b'$' && b == b'{';
            shape.control |= (b < b' ' && b != b'\t') || b == 0x7f;
            previous = b;
        }
        // Every ASCII control is one byte; the C1 controls are looked for
        // only in text that is not ASCII.
        if !shape.control && !value.is_ascii() {
            shape.control = value.chars().any(|c| c.is_control() && c != '\t');
        }
        shape
    }
}

/// Why `value` cannot be a field *value* that Logstash formats (`add_field`,
/// `replace`): on top of [`refusal`], `%{` would be replaced by another
/// field of the event.
pub fn sprintf_refusal(value: &str) -> Option<&'static str> {
    refusal(value).or_else(|| {
        value
            .contains("%{")
            .then_some("it holds `%{`, which Logstash replaces with a field of the event")
    })
}

/// A value Logstash cannot hold.
#[derive(Debug, thiserror::Error)]
#[error("`{value}` cannot be written as a Logstash string: {reason}")]
pub struct Unquotable {
    pub value: String,
    pub reason: &'static str,
}

/// `value` as a Logstash string literal, quotes included.
pub fn quote(value: &str) -> Result<String, Unquotable> {
    if let Some(reason) = refusal(value) {
        return Err(Unquotable {
            value: value.to_string(),
            reason,
        });
    }
    let mark = if value.as_bytes().contains(&b'"') {
        '\''
    } else {
        '"'
    };
    let mut quoted = String::with_capacity(value.len() + 2);
    quoted.push(mark);
    quoted.push_str(value);
    quoted.push(mark);
    Ok(quoted)
}

/// A reference to an environment variable, `"${NAME}"`: the only way a
/// credential reaches a pipeline. `None` unless `name` is an identifier.
pub fn env_reference(name: &str) -> Option<String> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    (first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then(|| format!("\"${{{name}}}\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_control_character_but_a_tab_is_refused() {
        for c in (0..=0x10ffff).filter_map(char::from_u32) {
            let value = format!("a{c}b");
            let refused =
                refusal(&value) == Some("it holds a line break or another control character");
            assert_eq!(refused, c.is_control() && c != '\t', "{:?}", c);
        }
    }

    #[test]
    fn quotes_with_the_kind_the_value_lacks() {
        assert_eq!(quote("plain").unwrap(), "\"plain\"");
        assert_eq!(quote("say \"hi\"").unwrap(), "'say \"hi\"'");
        assert_eq!(quote("it's").unwrap(), "\"it's\"");
        assert_eq!(quote("{ => } # x").unwrap(), "\"{ => } # x\"");
        assert_eq!(quote("a\\d+").unwrap(), "\"a\\d+\"");
    }

    #[test]
    fn refuses_what_cannot_be_quoted() {
        for bad in ["both \" and '", "ends\\", "${HOME}", "line\nbreak", "nul\0"] {
            assert!(quote(bad).is_err(), "{bad:?}");
        }
        assert!(quote("tab\tok").is_ok());
        assert!(quote("$ {x} and {$} and $").is_ok());
        // With several faults, the first in this order is the reason.
        assert_eq!(
            refusal("\"'${\n\\"),
            Some("it holds both kinds of quote (`\"` and `'`), which no Logstash string can hold")
        );
        assert_eq!(
            refusal("'${\n\\"),
            Some("it ends with a backslash, which would escape the closing quote")
        );
        assert_eq!(
            refusal("'${\n"),
            Some("it holds `${`, which Logstash replaces with an environment or keystore value")
        );
        assert!(sprintf_refusal("%{[secret]}").is_some());
        assert!(sprintf_refusal("100%").is_none());
    }

    #[test]
    fn environment_references_only_for_identifiers() {
        assert_eq!(
            env_reference("ES_PASSWORD").as_deref(),
            Some("\"${ES_PASSWORD}\"")
        );
        assert_eq!(env_reference("A}B"), None);
        assert_eq!(env_reference(""), None);
    }
}
