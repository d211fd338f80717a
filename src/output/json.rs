//! Pretty JSON as Grafana and Kibana write it (two-space indent), byte for
//! byte what `serde_json::to_vec_pretty` gives, with the indentation
//! written from one buffer of spaces instead of two bytes per level: the
//! dashboards are ~45 KB of mostly indentation, and this is where their
//! serialization spent its time.

use serde::Serialize;
use serde_json::ser::Formatter;

use super::OutputError;

const INDENT: usize = 2;
const SPACES: &[u8; 128] = &[b' '; 128];

/// serde_json's `PrettyFormatter` with a cheaper indent.
#[derive(Default)]
struct Pretty {
    depth: usize,
    has_value: bool,
}

fn indent<W: ?Sized + std::io::Write>(writer: &mut W, depth: usize) -> std::io::Result<()> {
    let mut left = depth * INDENT;
    while left > 0 {
        let now = left.min(SPACES.len());
        writer.write_all(SPACES.get(..now).unwrap_or_default())?;
        left -= now;
    }
    Ok(())
}

impl Pretty {
    fn open<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        bracket: &[u8],
    ) -> std::io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        writer.write_all(bracket)
    }

    fn close<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        bracket: &[u8],
    ) -> std::io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            writer.write_all(b"\n")?;
            indent(writer, self.depth)?;
        }
        writer.write_all(bracket)
    }

    /// A new line at the current depth, after a comma unless `first`.
    fn next<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        writer.write_all(if first { b"\n" } else { b",\n" })?;
        indent(writer, self.depth)
    }
}

impl Formatter for Pretty {
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.open(writer, b"[")
    }

    fn end_array<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.close(writer, b"]")
    }

    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.next(writer, first)
    }

    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.open(writer, b"{")
    }

    fn end_object<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.close(writer, b"}")
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.next(writer, first)
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
    ) -> std::io::Result<()> {
        writer.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// `value` as pretty JSON with a final newline, into a buffer of
/// `capacity` bytes to start with.
pub fn pretty(value: &impl Serialize, capacity: usize) -> Result<Vec<u8>, OutputError> {
    let mut bytes = pretty_bytes(value, capacity)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// `value` as pretty JSON text without a final newline (what
/// `serde_json::to_string_pretty` gives), for JSON inside another file.
pub fn pretty_string(value: &impl Serialize) -> Result<String, OutputError> {
    String::from_utf8(pretty_bytes(value, 256)?)
        .map_err(|error| OutputError::Serialize(error.to_string()))
}

fn pretty_bytes(value: &impl Serialize, capacity: usize) -> Result<Vec<u8>, OutputError> {
    let mut bytes = Vec::with_capacity(capacity);
    let mut serializer = serde_json::Serializer::with_formatter(&mut bytes, Pretty::default());
    value
        .serialize(&mut serializer)
        .map_err(|error| OutputError::Serialize(error.to_string()))?;
    Ok(bytes)
}

/// Pretty JSON written value by value, byte for byte what [`pretty`] gives
/// for the same value, without serde's plumbing: each key is a constant
/// written as it is (never escaped, so keys must be plain identifiers),
/// each string escaped as serde_json escapes it.
///
/// Why: serde writes every key of every struct through its string
/// escaper, one small write at a time; the dashboards are a thousand keys
/// each, and their serialization was a fifth of a fresh build's
/// instructions (`docs/performance.md`). Types written with it destructure
/// themselves field by field, so a new field cannot be forgotten, and
/// their tests compare the bytes with serde's.
pub struct JsonWriter {
    out: Vec<u8>,
    depth: usize,
    /// Nothing written yet in the innermost open object or array.
    first: bool,
}

impl JsonWriter {
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            out: Vec::with_capacity(capacity),
            depth: 0,
            first: true,
        }
    }

    /// The text with a final newline, as [`pretty`] ends it.
    pub fn into_bytes(mut self) -> Vec<u8> {
        self.out.push(b'\n');
        self.out
    }

    /// A new line at the current depth, after a comma unless first.
    fn line(&mut self) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.new_line();
    }

    /// A line break and the indentation of the current depth.
    fn new_line(&mut self) {
        let width = self.depth * INDENT;
        match NEW_LINE.get(..1 + width) {
            Some(text) => self.out.extend_from_slice(text),
            None => {
                self.out.push(b'\n');
                let _ = indent(&mut self.out, self.depth);
            }
        }
    }

    fn open(&mut self, bracket: u8) {
        self.out.push(bracket);
        self.depth += 1;
        self.first = true;
    }

    fn close(&mut self, bracket: u8) {
        self.depth = self.depth.saturating_sub(1);
        if !self.first {
            self.new_line();
        }
        self.out.push(bracket);
        self.first = false;
    }

    pub fn begin_object(&mut self) {
        self.open(b'{');
    }

    pub fn end_object(&mut self) {
        self.close(b'}');
    }

    pub fn begin_array(&mut self) {
        self.open(b'[');
    }

    pub fn end_array(&mut self) {
        self.close(b']');
    }

    /// The next key of the open object; a value must follow.
    pub fn key(&mut self, key: &'static str) {
        self.line();
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\": ");
    }

    /// The next element of the open array; a value must follow.
    pub fn element(&mut self) {
        self.line();
    }

    /// A string, escaped as serde_json escapes it: `"`, `\\` and control
    /// characters, nothing else. Eight bytes are tested at once: most
    /// strings have nothing to escape.
    pub fn string(&mut self, value: &str) {
        let out = &mut self.out;
        out.reserve(value.len() + 2);
        out.push(b'"');
        let bytes = value.as_bytes();
        let mut start = 0;
        let mut at = 0;
        while let Some(word) = bytes.get(at..at + 8) {
            let word = u64::from_le_bytes(word.try_into().unwrap_or_default());
            if needs_escape(word) {
                for (index, byte) in (at..).zip(word.to_le_bytes()) {
                    if !is_plain(byte) {
                        start = escape(out, bytes, start, index, byte);
                    }
                }
            }
            at += 8;
        }
        for (index, &byte) in bytes.iter().enumerate().skip(at) {
            if !is_plain(byte) {
                start = escape(out, bytes, start, index, byte);
            }
        }
        out.extend_from_slice(bytes.get(start..).unwrap_or_default());
        out.push(b'"');
    }

    pub fn bool(&mut self, value: bool) {
        self.out
            .extend_from_slice(if value { b"true" } else { b"false" });
    }

    pub fn unsigned(&mut self, value: u64) {
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        let mut rest = value;
        loop {
            at -= 1;
            if let Some(slot) = digits.get_mut(at) {
                *slot = b'0' + (rest % 10) as u8;
            }
            rest /= 10;
            if rest == 0 || at == 0 {
                break;
            }
        }
        self.out
            .extend_from_slice(digits.get(at..).unwrap_or_default());
    }

    /// Any other value (numbers with a fraction, free-form JSON), through
    /// serde at the current depth.
    pub fn serde(&mut self, value: &impl Serialize) -> Result<(), OutputError> {
        let formatter = Pretty {
            depth: self.depth,
            has_value: false,
        };
        let mut serializer = serde_json::Serializer::with_formatter(&mut self.out, formatter);
        value
            .serialize(&mut serializer)
            .map_err(|error| OutputError::Serialize(error.to_string()))
    }
}

const HEX_DIGITS: [u8; 16] = *b"0123456789abcdef";

/// A line break and 128 spaces: a new line at depth 64 at most in one copy.
const NEW_LINE: &[u8; 129] = b"\n                                                                                                                                ";

/// Whether any of the eight bytes of `word` is `"`, `\\` or below a space
/// (the classic "has a byte less than / equal to" bit tricks; exact as to
/// whether any byte matches).
fn needs_escape(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let below_space = word.wrapping_sub(ONES * 0x20) & !word & HIGH;
    let quote = has_zero(word ^ (ONES * u64::from(b'"')));
    let backslash = has_zero(word ^ (ONES * u64::from(b'\\')));
    below_space | quote | backslash != 0
}

/// A byte written as it is inside a JSON string.
fn is_plain(byte: u8) -> bool {
    byte >= 0x20 && byte != b'"' && byte != b'\\'
}

/// Escapes `byte`, found at `index`: writes the text from `start` up to it
/// and its escape, and returns where the unwritten text starts.
fn escape(out: &mut Vec<u8>, bytes: &[u8], start: usize, index: usize, byte: u8) -> usize {
    let escape: &[u8] = match byte {
        b'"' => b"\\\"",
        b'\\' => b"\\\\",
        b'\n' => b"\\n",
        b'\r' => b"\\r",
        b'\t' => b"\\t",
        0x08 => b"\\b",
        0x0c => b"\\f",
        0x00..=0x1f => b"\\u00",
        _ => return start,
    };
    out.extend_from_slice(bytes.get(start..index).unwrap_or_default());
    out.extend_from_slice(escape);
    if escape == b"\\u00" {
        let hex = |nibble: u8| HEX_DIGITS.get(usize::from(nibble)).copied();
        out.extend(hex(byte >> 4));
        out.extend(hex(byte & 0xf));
    }
    index + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_bytes_as_serde_jsons_pretty_printer() {
        let deep = (0..70).fold(
            serde_json::json!("leaf"),
            |inner, i| serde_json::json!({ format!("k{i}"): [inner, {}, [], 1.5, null] }),
        );
        for value in [
            serde_json::json!({}),
            serde_json::json!([]),
            serde_json::json!({"a": [1, {"b": "c\n\"d\""}], "e": {}, "f": [], "g": true}),
            deep,
        ] {
            let mut expected = serde_json::to_vec_pretty(&value).unwrap();
            expected.push(b'\n');
            assert_eq!(
                String::from_utf8(pretty(&value, 0).unwrap()).unwrap(),
                String::from_utf8(expected).unwrap()
            );
            assert_eq!(
                pretty_string(&value).unwrap(),
                serde_json::to_string_pretty(&value).unwrap()
            );
        }
    }

    /// Writes any JSON value with [`JsonWriter`] (keys leaked: they must
    /// be `'static`, as the writer's callers' constants are).
    fn write_value(writer: &mut JsonWriter, value: &serde_json::Value) {
        match value {
            serde_json::Value::String(text) => writer.string(text),
            serde_json::Value::Bool(flag) => writer.bool(*flag),
            serde_json::Value::Number(number) if number.is_u64() => {
                writer.unsigned(number.as_u64().unwrap())
            }
            serde_json::Value::Array(items) => {
                writer.begin_array();
                for item in items {
                    writer.element();
                    write_value(writer, item);
                }
                writer.end_array();
            }
            serde_json::Value::Object(object) => {
                writer.begin_object();
                for (key, item) in object {
                    writer.key(Box::leak(key.clone().into_boxed_str()));
                    write_value(writer, item);
                }
                writer.end_object();
            }
            other => writer.serde(other).unwrap(),
        }
    }

    /// The writer gives serde's bytes: nesting past the one-copy
    /// indentation (64 levels), empty containers, every escape at every
    /// offset of the eight-byte blocks, numbers at their edges.
    #[test]
    fn the_writer_gives_the_same_bytes_as_serde() {
        let deep = (0..70).fold(serde_json::json!("leaf"), |inner, i| {
            serde_json::json!({ format!("k{i}"): [inner, {}, [], 1.5, null, u64::MAX, 0] })
        });
        let mut strings = Vec::new();
        for escape in [
            "\"", "\\", "\n", "\r", "\t", "\u{8}", "\u{c}", "\u{0}", "\u{1f}", "\u{7f}", "é", "/",
        ] {
            for offset in 0..17 {
                strings.push(serde_json::json!(format!(
                    "{}{escape}{}",
                    "a".repeat(offset),
                    "b".repeat(17 - offset)
                )));
            }
        }
        for value in [
            serde_json::json!({}),
            serde_json::json!([]),
            serde_json::json!({"a": [1, {"b": "c\n\"d\""}], "e": {}, "f": [], "g": true, "h": -1, "i": 0.1}),
            serde_json::Value::Array(strings),
            deep,
        ] {
            let mut writer = JsonWriter::with_capacity(0);
            write_value(&mut writer, &value);
            assert_eq!(
                String::from_utf8(writer.into_bytes()).unwrap(),
                String::from_utf8(pretty(&value, 0).unwrap()).unwrap()
            );
        }
    }
}
