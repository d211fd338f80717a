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
}
