//! The everyday subset of YAML, read straight from parser events.
//!
//! Why: serde-saphyr's deserializer costs about twice what its parser
//! does (a manifest of a kilobyte takes about 80 µs through it, 35 µs
//! through the parser alone: `docs/performance.md`), and a repository of
//! 10,000 services reads 10,000 manifests on every build. Almost every
//! manifest is plain block YAML: mappings, sequences and scalars, with no
//! anchors, aliases, tags, merge keys or second documents.
//!
//! [`read`] builds the JSON value from the events of the same parser
//! (granit-parser, with the options serde-saphyr gives it) when the
//! document stays inside that subset and every plain scalar is one whose
//! meaning cannot be in doubt. Anything else (an anchor, a tag, a
//! duplicate key, `0x1F`, `1e3`, `+5`, any syntax error) returns `None`,
//! and the caller reads the document with serde-saphyr, which also words
//! every error. So the subset changes how fast a manifest is read, never
//! what it reads as: a test compares both readers on every YAML file of the
//! repository and on generated scalar spellings.
//!
//! Plain scalars follow serde-saphyr's typeless rules (its defaults: YAML
//! 1.1 booleans, no legacy octal):
//! - `~`, `null`, `Null`, `NULL` and the empty scalar are null;
//! - `true`/`yes`/`y`/`on` and `false`/`no`/`n`/`off`, any case, are booleans;
//! - `-?(0|[1-9][0-9]*)` is an integer and `-?(0|[1-9][0-9]*)\.[0-9]+` a
//!   decimal;
//! - a scalar that starts with a letter or `/` is a string, and so is one
//!   that starts with a digit and holds a character no number can
//!   (`30d`, `5m`, `08:00`), unless it starts `0x`, `0o` or `0b`.

use std::borrow::Cow;

use serde_json::{Map, Number, Value};
use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle};

/// Deeper documents go to serde-saphyr, whose budget (64 levels) words the
/// error; a manifest is a handful of levels deep.
pub(super) const MAX_DEPTH: usize = 32;
/// Likewise for size: serde-saphyr's budget is 250,000 nodes.
pub(super) const MAX_NODES: usize = 20_000;

/// The JSON value of `text` when it is one document inside the subset.
pub fn read(text: &str) -> Option<Value> {
    let mut reader = Reader {
        events: Parser::new_from_str(text),
        nodes: 0,
    };
    let Event::StreamStart = reader.next()? else {
        return None;
    };
    // A `%YAML` directive may change the rules: serde-saphyr decides.
    let Event::DocumentStart(_, None) = reader.next()? else {
        return None;
    };
    let first = reader.next()?;
    let value = reader.node(first, 0)?;
    let Event::DocumentEnd = reader.next()? else {
        return None;
    };
    let Event::StreamEnd = reader.next()? else {
        return None;
    };
    Some(value)
}

struct Reader<'a> {
    events: Parser<'a, serde_saphyr::granit_parser::StrInput<'a>>,
    nodes: usize,
}

impl<'a> Reader<'a> {
    /// The next event; `None` at the end or on a syntax error.
    fn next(&mut self) -> Option<Event<'a>> {
        match self.events.next()? {
            Ok((event, _span)) => Some(event),
            Err(_) => None,
        }
    }

    /// The value that starts with `event`. Anchors (a non-zero id), tags
    /// and aliases leave the subset.
    fn node(&mut self, event: Event<'a>, depth: usize) -> Option<Value> {
        self.nodes += 1;
        if self.nodes > MAX_NODES || depth > MAX_DEPTH {
            return None;
        }
        match event {
            Event::Scalar(text, style, 0, None) => scalar(text, style),
            Event::SequenceStart(_, 0, None) => {
                let mut items = Vec::new();
                loop {
                    match self.next()? {
                        Event::SequenceEnd => return Some(Value::Array(items)),
                        event => items.push(self.node(event, depth + 1)?),
                    }
                }
            }
            Event::MappingStart(_, 0, None) => {
                let mut object = Map::new();
                loop {
                    let key = match self.next()? {
                        Event::MappingEnd => return Some(Value::Object(object)),
                        Event::Scalar(text, style, 0, None) => key(text, style)?,
                        _ => return None,
                    };
                    self.nodes += 1;
                    let event = self.next()?;
                    let value = self.node(event, depth + 1)?;
                    // serde-saphyr refuses a repeated key, with its position.
                    if object.insert(key, value).is_some() {
                        return None;
                    }
                }
            }
            _ => None,
        }
    }
}

/// A mapping key: quoted or block text as it is, a plain one only when it
/// is certainly a string.
fn key(text: Cow<'_, str>, style: ScalarStyle) -> Option<String> {
    if style != ScalarStyle::Plain {
        return Some(text.into_owned());
    }
    match plain(&text)? {
        Value::String(_) => Some(text.into_owned()),
        _ => None,
    }
}

fn scalar(text: Cow<'_, str>, style: ScalarStyle) -> Option<Value> {
    if style != ScalarStyle::Plain {
        return Some(Value::String(text.into_owned()));
    }
    plain(&text)
}

/// A plain scalar's value, or `None` when serde-saphyr should decide.
pub(super) fn plain(text: &str) -> Option<Value> {
    let bytes = text.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return Some(Value::Null);
    };
    // serde-saphyr trims these before it resolves; a plain scalar never
    // has them at its ends, but nothing here has to rely on that.
    let space = |b: u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    if space(first) || space(last) {
        return None;
    }
    if matches!(text, "~" | "null" | "Null" | "NULL") {
        return Some(Value::Null);
    }
    if let Some(value) = yaml11_bool(text) {
        return Some(Value::Bool(value));
    }
    match first {
        b'a'..=b'z' | b'A'..=b'Z' | b'/' => Some(Value::String(text.to_string())),
        b'0'..=b'9' | b'-' => number_or_text(text),
        _ => None,
    }
}

/// serde-saphyr's `parse_yaml11_bool`.
fn yaml11_bool(text: &str) -> Option<bool> {
    let is = |word: &str| text.eq_ignore_ascii_case(word);
    if is("true") || is("yes") || is("y") || is("on") {
        Some(true)
    } else if is("false") || is("no") || is("n") || is("off") {
        Some(false)
    } else {
        None
    }
}

/// A scalar that starts with a digit or `-`: an integer, a decimal, a
/// string no number grammar accepts, or `None`.
fn number_or_text(text: &str) -> Option<Value> {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    // No redundant leading zero: `007` is a float to serde-saphyr.
    let canonical = |s: &str| digits(s) && (s == "0" || !s.starts_with('0'));
    if canonical(unsigned) {
        // Out of range: serde-saphyr tries a float next.
        return if unsigned.len() == text.len() {
            text.parse::<u64>().ok().map(|n| Value::Number(n.into()))
        } else {
            text.parse::<i64>().ok().map(|n| Value::Number(n.into()))
        };
    }
    if let Some((whole, fraction)) = unsigned.split_once('.')
        && canonical(whole)
        && digits(fraction)
    {
        let value = text.parse::<f64>().ok()?;
        return Number::from_f64(value).map(Value::Number);
    }
    let bytes = text.as_bytes();
    let starts_with_digit = bytes.first().is_some_and(u8::is_ascii_digit);
    let radix_prefix = bytes.first() == Some(&b'0')
        && bytes
            .get(1)
            .is_some_and(|b| matches!(b, b'x' | b'X' | b'o' | b'O' | b'b' | b'B'));
    // Every spelling of a number that starts with a digit (integers with
    // `_`, floats, exponents) is made of these alone.
    let number_byte =
        |b: u8| b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'e' | b'E' | b'+' | b'-');
    if starts_with_digit && !radix_prefix && !bytes.iter().all(|&b| number_byte(b)) {
        return Some(Value::String(text.to_string()));
    }
    None
}

/// Scalar spellings at every edge of the plain-scalar rules, for the
/// tests of both readers.
#[cfg(test)]
pub(super) fn scalar_spellings() -> Vec<String> {
    let mut spellings: Vec<String> = [
        "",
        "~",
        "null",
        "Null",
        "NULL",
        "nULL",
        "true",
        "True",
        "TRUE",
        "tRUE",
        "false",
        "yes",
        "Yes",
        "YES",
        "y",
        "Y",
        "no",
        "No",
        "n",
        "N",
        "on",
        "ON",
        "off",
        "Off",
        "0",
        "-0",
        "00",
        "007",
        "-007",
        "1",
        "-1",
        "42",
        "+42",
        "8080",
        "0.5",
        "-0.5",
        "00.5",
        "1.",
        ".5",
        "1.0",
        "99.95",
        "1e3",
        "1E3",
        "1e-3",
        "1.5e3",
        "1_000",
        "1__0",
        "_1",
        "0x1F",
        "0X1f",
        "0o17",
        "0O17",
        "0b101",
        "0B1",
        "0xZZ",
        "30d",
        "5m",
        "1h30m",
        "08:00",
        "2024-01-01",
        "1.2.3",
        "1-2",
        "1+2",
        "1e",
        "1e+",
        "inf",
        "Inf",
        "infinity",
        "nan",
        "NaN",
        ".inf",
        "-.inf",
        ".nan",
        ".NaN",
        "a",
        "abc",
        "cc-11",
        "/metrics",
        "/actuator/prometheus",
        "http://x:80/y",
        "a b",
        "a: b",
        "a #b",
        "#",
        "-",
        "--",
        "- a",
        "-a",
        "-1a",
        "1a",
        "18446744073709551615",
        "18446744073709551616",
        "-9223372036854775808",
        "-9223372036854775809",
        "99999999999999999999.5",
        "1e999",
        "-1e999",
        "0.1e1",
        "9.",
        "@x",
        "`x",
        "%x",
        "!x",
        "&x",
        "*x",
        "|",
        ">",
        "'x'",
        "\"x\"",
        "x'",
        "é",
        "1é",
        "ü1",
        "1\u{2028}",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // Digit strings with every number-shaped character in between.
    for a in ["1", "0", "12"] {
        for b in ["", ".", "_", "e", "E", "+", "-", "x", "d", ":", "1"] {
            for c in ["", "1", "0", "e1", "-1", "s"] {
                spellings.push(format!("{a}{b}{c}"));
                spellings.push(format!("-{a}{b}{c}"));
            }
        }
    }
    spellings
}

#[cfg(test)]
mod tests {
    use super::super::yaml::repository_yaml;
    use super::*;

    /// What serde-saphyr reads, for comparison.
    fn by_serde_saphyr(text: &str) -> Option<Value> {
        super::super::yaml::parse_with_serde_saphyr(text).ok()
    }

    /// Wherever the subset reads a document, serde-saphyr reads the same
    /// value from it: every YAML file of the repository (examples, golden
    /// trees, bad cases, hostile inputs, the fuzz corpus).
    #[test]
    fn the_subset_reads_every_repository_file_as_serde_saphyr_does() {
        let (mut read_here, mut compared) = (0, 0);
        for (path, text) in repository_yaml(&["examples", "tests", "templates", "golden"]) {
            compared += 1;
            if let Some(value) = read(&text) {
                read_here += 1;
                assert_eq!(Some(value), by_serde_saphyr(&text), "{}", path.display());
            }
        }
        assert!(compared > 300, "{compared} files compared");
        // The subset is worth having only if it covers most files.
        assert!(read_here * 10 > compared * 7, "{read_here} of {compared}");
    }

    /// Every example manifest is inside the subset: the common case is fast.
    #[test]
    fn example_manifests_are_inside_the_subset() {
        let mut manifests = 0;
        for (path, text) in repository_yaml(&["examples"]) {
            let manifest = path.extension().is_some_and(|ext| ext == "yaml");
            if manifest && by_serde_saphyr(&text).is_some() && !text.contains('&') {
                assert!(read(&text).is_some(), "{}", path.display());
                manifests += 1;
            }
        }
        assert!(manifests > 5, "{manifests}");
    }

    /// Scalar spellings at every edge of the rules, in values, keys and
    /// flow collections: where the subset answers, it answers as
    /// serde-saphyr does.
    #[test]
    fn scalar_spellings_read_as_serde_saphyr_reads_them() {
        let spellings = scalar_spellings();
        let mut answered = 0;
        for s in &spellings {
            for text in [
                format!("k: {s}\n"),
                format!("- {s}\n"),
                format!("{s}: 1\n"),
                format!("k: [{s}, x]\n"),
                format!("{{k: {s}}}\n"),
                format!("a:\n  b: {s}\n  c: '{s}'\n"),
            ] {
                if let Some(value) = read(&text) {
                    answered += 1;
                    assert_eq!(Some(value), by_serde_saphyr(&text), "{text:?}");
                }
            }
        }
        assert!(answered > 500, "{answered}");
    }

    #[test]
    fn anchors_tags_merges_repeats_and_errors_go_to_serde_saphyr() {
        for text in [
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "a: !custom x\n",
            "base: &b {x: 1}\nc:\n  <<: *b\n",
            "a: 1\na: 2\n",
            "a: 1\n---\nb: 2\n",
            "%YAML 1.2\n---\na: 1\n",
            "a: [1\n",
            "? [a]\n: 1\n",
            "a: 0x1F\n",
            "",
            "# only a comment\n",
        ] {
            assert_eq!(read(text), None, "{text:?}");
        }
        let deep = format!("{}1{}", "[".repeat(40), "]".repeat(40));
        assert_eq!(read(&deep), None);
        assert!(by_serde_saphyr(&deep).is_some());
    }

    #[test]
    fn a_manifest_reads_as_json() {
        let text = "apiVersion: obsgen.dev/v1\nkind: Service\nmetadata:\n  name: api\n  labels: {tier: batch, cost_center: cc-11}\nspec:\n  metrics: {port: 8316, path: /metrics}\n  slos:\n    - name: availability\n      objective: 99.5\n      window: 30d\n      page: no\n      note:\n";
        assert_eq!(
            read(text),
            Some(serde_json::json!({
                "apiVersion": "obsgen.dev/v1",
                "kind": "Service",
                "metadata": {"name": "api", "labels": {"tier": "batch", "cost_center": "cc-11"}},
                "spec": {
                    "metrics": {"port": 8316, "path": "/metrics"},
                    "slos": [{"name": "availability", "objective": 99.5, "window": "30d", "page": false, "note": null}]
                }
            }))
        );
    }
}
