//! YAML serialization of generated files: one place, one serializer.
//!
//! Generated YAML is built as typed values and serialized here; never by
//! string concatenation. serde-saphyr quotes every string that YAML could
//! read as something else (`"true"`, `"1.0"`, `"null"`, `"#x"`), so user
//! strings cannot change the structure of the document.

use serde::Serialize;

use super::OutputError;

/// Serializes `value` as a YAML document preceded by `header` (a comment).
pub fn document<T: Serialize>(header: &str, value: &T) -> Result<String, OutputError> {
    let body = serde_saphyr::to_string(value)
        .map_err(|error| OutputError::Serialize(error.to_string()))?;
    let mut out = String::with_capacity(header.len() + body.len() + 1);
    out.push_str(header);
    out.push_str(&body);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn ambiguous_strings_are_quoted() {
        let text = super::document(
            "# h\n",
            &json!({"a": "true", "b": "1.0", "c": "null", "d": "#x", "e": "x: y", "f": "ok", "g": "- z"}),
        )
        .unwrap();
        let back: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(back["a"], "true");
        assert_eq!(back["b"], "1.0");
        assert_eq!(back["c"], "null");
        assert_eq!(back["d"], "#x");
        assert_eq!(back["e"], "x: y");
        assert_eq!(back["g"], "- z");
        assert!(text.starts_with("# h\n"));
    }
}
