//! YAML → JSON value, with the source position of every node.
//!
//! serde-saphyr parses (panic-free, with budgets against alias bombs) into
//! a tree of [`Spanned`] nodes; we flatten it into a `serde_json::Value`
//! (what the JSON Schema validator and the spec types read) and a
//! [`Positions`] index from JSON pointer to line and column, which every
//! later diagnostic uses to point at the right place.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use serde_saphyr::Spanned;

#[cfg(doc)]
use super::Positions;
use super::{Position, PositionIndex};

/// A YAML node as serde-saphyr hands it over, with spans.
enum Node {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<Node>>),
    Map(Vec<(Spanned<String>, Spanned<Node>)>),
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        Node::deserialize(deserializer)
    }
    fn visit_bool<E>(self, value: bool) -> Result<Node, E> {
        Ok(Node::Bool(value))
    }
    fn visit_i64<E>(self, value: i64) -> Result<Node, E> {
        Ok(Node::Int(value))
    }
    fn visit_u64<E>(self, value: u64) -> Result<Node, E> {
        Ok(Node::Uint(value))
    }
    fn visit_f64<E>(self, value: f64) -> Result<Node, E> {
        Ok(Node::Float(value))
    }
    fn visit_str<E>(self, value: &str) -> Result<Node, E> {
        Ok(Node::Str(value.to_string()))
    }
    fn visit_string<E>(self, value: String) -> Result<Node, E> {
        Ok(Node::Str(value))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Node::Map(entries))
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

/// A YAML syntax error, with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub message: String,
    pub position: Position,
}

/// Parses one YAML document.
///
/// Without spans: positions are only needed for diagnostics, and
/// [`position_index`] parses the text again for them. The same parser
/// reads the same events either way (a test compares both on every
/// manifest, bad case, hostile input and fuzz corpus entry of this
/// repository); without spans it is a third faster.
///
/// Most manifests are read line by line ([`super::yaml_lines`]); most of
/// the rest straight from the parser's events ([`super::yaml_subset`]);
/// the remainder, and every error, by serde-saphyr.
pub fn parse(text: &str) -> Result<Value, SyntaxError> {
    let read = super::yaml_lines::read(text).or_else(|| super::yaml_subset::read(text));
    match read {
        Some(value) => Ok(value),
        None => parse_with_serde_saphyr(text),
    }
}

/// [`parse`] by serde-saphyr alone, for any document.
pub(super) fn parse_with_serde_saphyr(text: &str) -> Result<Value, SyntaxError> {
    let PlainValue(value) = serde_saphyr::from_str(text).map_err(syntax_error)?;
    Ok(value)
}

/// A YAML value read straight into JSON, with [`flatten`]'s rules.
struct PlainValue(Value);

struct PlainVisitor;

impl<'de> Visitor<'de> for PlainVisitor {
    type Value = PlainValue;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<PlainValue, E> {
        Ok(PlainValue(Value::Null))
    }
    fn visit_none<E>(self) -> Result<PlainValue, E> {
        Ok(PlainValue(Value::Null))
    }
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<PlainValue, D::Error> {
        PlainValue::deserialize(deserializer)
    }
    fn visit_bool<E>(self, value: bool) -> Result<PlainValue, E> {
        Ok(PlainValue(Value::Bool(value)))
    }
    fn visit_i64<E>(self, value: i64) -> Result<PlainValue, E> {
        Ok(PlainValue(Value::Number(value.into())))
    }
    fn visit_u64<E>(self, value: u64) -> Result<PlainValue, E> {
        Ok(PlainValue(Value::Number(value.into())))
    }
    fn visit_f64<E>(self, value: f64) -> Result<PlainValue, E> {
        Ok(PlainValue(float(value)))
    }
    fn visit_str<E>(self, value: &str) -> Result<PlainValue, E> {
        Ok(PlainValue(Value::String(value.to_string())))
    }
    fn visit_string<E>(self, value: String) -> Result<PlainValue, E> {
        Ok(PlainValue(Value::String(value)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PlainValue, A::Error> {
        let mut items = Vec::new();
        while let Some(PlainValue(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(PlainValue(Value::Array(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PlainValue, A::Error> {
        let mut object = Map::new();
        while let Some((key, PlainValue(value))) = map.next_entry::<String, PlainValue>()? {
            object.insert(key, value);
        }
        Ok(PlainValue(Value::Object(object)))
    }
}

impl<'de> Deserialize<'de> for PlainValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(PlainVisitor)
    }
}

/// JSON has no NaN or infinity: the YAML spelling is kept as a string,
/// which the schema then rejects with a clear "expected a number".
fn float(value: f64) -> Value {
    Number::from_f64(value)
        .map(Value::Number)
        .unwrap_or_else(|| Value::String(format!("{value}")))
}

/// The position of every node of the YAML document `text` (see
/// [`Positions`]: built only when a diagnostic needs one).
pub fn position_index(text: &str) -> Result<PositionIndex, SyntaxError> {
    let root = parse_spanned(text)?;
    let mut index = Some(PositionIndex::default());
    flatten(root, &mut String::new(), &mut index);
    Ok(index.unwrap_or_default())
}

fn parse_spanned(text: &str) -> Result<Spanned<Node>, SyntaxError> {
    serde_saphyr::from_str(text).map_err(syntax_error)
}

fn syntax_error(error: serde_saphyr::Error) -> SyntaxError {
    let position = error
        .location()
        .map(|location| Position {
            line: location.line() as usize,
            column: location.column() as usize,
        })
        .unwrap_or(Position { line: 1, column: 1 });
    let message = error.to_string();
    // The first line carries the message; the rest is serde-saphyr's own excerpt.
    let message = tidy_message(message.lines().next().unwrap_or("invalid YAML"));
    SyntaxError { message, position }
}

/// serde-saphyr's first line, without what the diagnostic already says
/// (`error:`, `line 8 column 3:`) or advice about its own API.
fn tidy_message(line: &str) -> String {
    let mut text = line.trim().trim_start_matches("error:").trim_start();
    if let Some(rest) = text.strip_prefix("line ")
        && let Some((place, after)) = rest.split_once(": ")
        && place
            .split(" column ")
            .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    {
        text = after;
    }
    let text = text.split(", set ").next().unwrap_or(text);
    // Advice to Rust programmers about their types is no help to a user.
    let text = text.split("; use Option<").next().unwrap_or(text);
    if let Some(breach) = text.strip_prefix("budget breached: ") {
        return budget_message(breach);
    }
    if text.is_empty() {
        "invalid YAML".to_string()
    } else {
        text.to_string()
    }
}

/// serde-saphyr's budget breach, `Nodes { nodes: 250001 }`, in words.
fn budget_message(breach: &str) -> String {
    let kind = breach.split([' ', '{']).next().unwrap_or_default();
    let count: String = breach.chars().filter(char::is_ascii_digit).collect();
    let what = match kind {
        "Depth" => "levels of nesting",
        "Aliases" => "alias uses (`*name`)",
        "Anchors" => "anchors (`&name`)",
        "Documents" => "documents",
        "Nodes" | "Events" => "values",
        _ => "parts",
    };
    if count.is_empty() {
        format!("the document is larger than obsgen accepts for a manifest ({what})")
    } else {
        format!(
            "the document has more than {} {what}, more than obsgen accepts for a manifest",
            count
                .parse::<u64>()
                .map_or(count.clone(), |n| n.saturating_sub(1).to_string())
        )
    }
}

fn position_of<T>(spanned: &Spanned<T>) -> Position {
    Position {
        line: spanned.referenced.line() as usize,
        column: spanned.referenced.column() as usize,
    }
}

/// Converts the spanned tree into a JSON value, recording positions (when
/// asked) under JSON pointers (`/spec/slos/0/objective`).
fn flatten(
    node: Spanned<Node>,
    pointer: &mut String,
    positions: &mut Option<PositionIndex>,
) -> Value {
    if let Some(index) = positions {
        index.values.insert(pointer.clone(), position_of(&node));
    }
    match node.value {
        Node::Null => Value::Null,
        Node::Bool(value) => Value::Bool(value),
        Node::Int(value) => Value::Number(value.into()),
        Node::Uint(value) => Value::Number(value.into()),
        Node::Float(value) => float(value),
        Node::Str(value) => Value::String(value),
        Node::Seq(items) => {
            let mut array = Vec::with_capacity(items.len());
            for (index, item) in items.into_iter().enumerate() {
                let length = pointer.len();
                if positions.is_some() {
                    pointer.push('/');
                    pointer.push_str(&index.to_string());
                }
                array.push(flatten(item, pointer, positions));
                pointer.truncate(length);
            }
            Value::Array(array)
        }
        Node::Map(entries) => {
            let mut object = Map::with_capacity(entries.len());
            for (key, item) in entries {
                let length = pointer.len();
                if let Some(index) = positions {
                    pointer.push('/');
                    pointer.push_str(&escape_pointer(&key.value));
                    index.keys.insert(pointer.clone(), position_of(&key));
                }
                let value = flatten(item, pointer, positions);
                pointer.truncate(length);
                object.insert(key.value, value);
            }
            Value::Object(object)
        }
    }
}

/// Escapes a key for a JSON pointer (RFC 6901).
pub fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Every YAML file of the repository (examples, golden trees, bad cases,
/// hostile inputs, the fuzz corpus) under `folders`, with its text.
#[cfg(test)]
pub(super) fn repository_yaml(folders: &[&str]) -> Vec<(std::path::PathBuf, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut stack: Vec<std::path::PathBuf> = folders.iter().map(|dir| root.join(dir)).collect();
    let mut files = Vec::new();
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let is_yaml = path
            .extension()
            .is_some_and(|ext| ext == "yaml" || ext == "yml");
        if is_yaml && let Ok(text) = std::fs::read_to_string(&path) {
            files.push((path, text));
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every YAML file of the repository reads the same with and without
    /// spans: the same value, or the same error at the same place.
    #[test]
    fn reading_without_spans_equals_reading_with_them() {
        let mut compared = 0;
        for (path, text) in repository_yaml(&["examples", "tests", "templates", "golden"]) {
            let spanned =
                parse_spanned(&text).map(|root| flatten(root, &mut String::new(), &mut None));
            assert_eq!(parse(&text), spanned, "{}", path.display());
            compared += 1;
        }
        assert!(compared > 300, "{compared} files compared");
    }

    #[test]
    fn values_and_positions() {
        let text = "a: 1\nb:\n  - x\n  - {c: 3.5, d: null}\ne: '08'\n";
        let (value, positions) = (parse(text).unwrap(), position_index(text).unwrap());
        assert_eq!(
            value,
            serde_json::json!({"a": 1, "b": ["x", {"c": 3.5, "d": null}], "e": "08"})
        );
        assert_eq!(positions.values["/b/1/c"], Position { line: 4, column: 9 });
        assert_eq!(positions.keys["/b/1/c"], Position { line: 4, column: 6 });
        assert_eq!(positions.values["/e"], Position { line: 5, column: 4 });
    }

    #[test]
    fn syntax_errors_have_positions() {
        let error = parse("a: [1\nb: }").unwrap_err();
        assert_eq!(error.position.line, 2);
        assert!(!error.message.is_empty());
        let error = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(error.position.line, 3);
        assert!(
            error.message.starts_with("duplicate mapping key"),
            "{}",
            error.message
        );
        assert!(!error.message.contains("Options"), "{}", error.message);

        // Budgets, worded for users rather than as Rust values.
        let many = format!("a: [{}]", vec!["1"; 260_000].join(","));
        let error = parse(&many).unwrap_err();
        assert_eq!(
            error.message,
            "the document has more than 250000 values, more than obsgen accepts for a manifest"
        );
        assert_eq!(
            tidy_message("cannot deserialize null into string; use Option<String>"),
            "cannot deserialize null into string"
        );
    }

    #[test]
    fn garbage_does_not_panic() {
        for text in [
            "\u{0}\u{1}",
            "[[[[[[[[[[",
            "&a [*a]",
            "? - : -",
            "a: !!binary ~",
            "{a: 1, a: 2}",
        ] {
            let _ = parse(text);
        }
        let deep = "[".repeat(100_000);
        let _ = parse(&deep);
    }
}
