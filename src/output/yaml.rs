//! YAML serialization of generated files: one place, one serializer.
//!
//! Generated YAML is built as typed values and serialized here; never by
//! string concatenation. The output is serde-saphyr's: it quotes every
//! string that YAML could read as something else (`"true"`, `"1.0"`,
//! `"null"`, `"#x"`), so user strings cannot change the structure of the
//! document.
//!
//! The bytes come from [`emit`], a direct emitter that writes exactly what
//! serde-saphyr writes but several times faster (it asks serde-saphyr only
//! about the rare scalars that need quoting or folding). For a value it does
//! not model, or on any error, the document is serialized by serde-saphyr
//! itself, so the result and the error messages are serde-saphyr's in every
//! case.
//!
//! One type writes its own layout: a Prometheus rule file, the largest YAML
//! per service, whose walk through serde cost as much as its scalars
//! ([`document_written`]). It writes only fixed keys, indentation and
//! dashes; every user key and scalar still goes through [`push_key`] and
//! [`push_value`], the emitter's own decisions, and its tests compare the
//! result with [`document`] of the same value.

mod emit;

pub use emit::{EmitError, push_key, push_value};
use serde::Serialize;

use super::OutputError;

/// Bytes reserved up front beyond the header: most generated YAML files are
/// a few KiB, and one reservation saves the early regrowths.
const INITIAL_CAPACITY: usize = 4096;

/// Serializes `value` as a YAML document preceded by `header` (a comment).
pub fn document<T: Serialize>(header: &str, value: &T) -> Result<String, OutputError> {
    document_sized(header, value, INITIAL_CAPACITY)
}

/// [`document`] with `capacity` bytes reserved up front: for a document
/// of many megabytes whose size can be told beforehand (an environment's
/// `prometheus.yml`), so that it is not copied as it grows, with two
/// copies alive at once. Reserved bytes never written cost address space,
/// not memory.
pub fn document_sized<T: Serialize>(
    header: &str,
    value: &T,
    capacity: usize,
) -> Result<String, OutputError> {
    let mut out = String::with_capacity(header.len() + capacity);
    out.push_str(header);
    if emit::to_string_into(&mut out, value).is_err() {
        out.truncate(header.len());
        serde_saphyr::to_fmt_writer(&mut out, value)
            .map_err(|error| OutputError::Serialize(error.to_string()))?;
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

/// A document whose type writes its own layout (`write`, with
/// [`push_key`] and [`push_value`] for every key and scalar, so each is
/// written as the emitter writes it), preceded by `header`. `value` is the
/// same document as a serializable value: should `write` give up, it is
/// serialized as [`document_sized`] serializes it.
pub fn document_written<T: Serialize>(
    header: &str,
    capacity: usize,
    write: impl FnOnce(&mut String) -> Result<(), EmitError>,
    value: &T,
) -> Result<String, OutputError> {
    let mut out = String::with_capacity(header.len() + capacity);
    out.push_str(header);
    if write(&mut out).is_err() {
        return document_sized(header, value, capacity);
    }
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
