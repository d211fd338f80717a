//! The commonest manifests, read line by line without a YAML parser.
//!
//! Why: reading manifests was a tenth of a fresh build's instructions, and
//! almost all of it went to the YAML parser's scanner (about 300
//! instructions per byte of a one-kilobyte manifest: `docs/performance.md`).
//! A manifest as people and `obsgen init` write it is a few levels of
//! block mappings and sequences with one-line scalars and one-line flow
//! collections; that shape can be read in one pass over its lines.
//!
//! [`read`] answers only for documents inside that shape and returns `None`
//! at the first doubt: a tab, a carriage return, an unusual character,
//! `---` anywhere but the first line, a block scalar, a scalar over several
//! lines, an anchor, a tag, an alias, a complex key, a repeated key, an
//! escape other than `\\ \" \n \t`, anything that would be a syntax error.
//! Then the caller reads the document with the event reader
//! ([`super::yaml_subset`]) and, failing that, with serde-saphyr, which
//! also words every error. Scalars are resolved by the event reader's
//! rules ([`super::yaml_subset::plain`]). So this reader changes how fast
//! a manifest is read, never what it reads as: tests compare it with
//! serde-saphyr on every YAML file of the repository, on scalar spellings,
//! on structural edge cases and on thousands of mutations of manifests.

use serde_json::{Map, Value};

use super::yaml_subset::{MAX_DEPTH, MAX_NODES, plain};

/// YAML's limit on the length of an implicit key.
const MAX_KEY_BYTES: usize = 1024;

/// The JSON value of `text` when it is one document in the line subset.
pub fn read(text: &str) -> Option<Value> {
    if !plain_characters(text) {
        return None;
    }
    let mut lines = Vec::with_capacity(text.len() / 24 + 1);
    for line in text.split('\n') {
        let content = line.trim_start_matches(' ');
        let content = content.trim_end_matches(' ');
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let indent = line.len() - line.trim_start_matches(' ').len();
        if indent == 0
            && (marker(content, "---") || marker(content, "...") || content.starts_with('%'))
        {
            // One `---` may open the document; anything else is for the
            // parser (directives, a second document, an end marker).
            if lines.is_empty() && marker(content, "---") && after_marker_is_empty(content) {
                continue;
            }
            return None;
        }
        lines.push(Line {
            indent,
            text: content,
        });
    }
    let first = lines.first()?;
    if first.indent != 0 {
        return None;
    }
    let mut reader = Reader {
        lines,
        at: 0,
        nodes: 0,
    };
    let value = reader.block(0, 0)?;
    (reader.at == reader.lines.len()).then_some(value)
}

/// Printable characters only, no tab, no carriage return, no byte order
/// mark and nothing YAML 1.1 reads as a line break: the rest is for the
/// parser.
fn plain_characters(text: &str) -> bool {
    if text.is_ascii() {
        return text
            .bytes()
            .all(|b| b == b'\n' || (b' '..=b'~').contains(&b));
    }
    text.chars().all(|c| match c {
        '\n' => true,
        ' '..='~' => true,
        '\u{0}'..='\u{9f}' => false,
        '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}' => false,
        _ => true,
    })
}

/// `text` starts with `marker` followed by a space or nothing.
fn marker(text: &str, marker: &str) -> bool {
    text.strip_prefix(marker)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(' '))
}

/// Nothing but a comment after `---`.
fn after_marker_is_empty(text: &str) -> bool {
    let rest = text.get(3..).unwrap_or_default().trim_start_matches(' ');
    rest.is_empty() || rest.starts_with('#')
}

/// A line with content: its indentation and its text, without the
/// indentation and trailing spaces.
struct Line<'a> {
    indent: usize,
    text: &'a str,
}

struct Reader<'a> {
    lines: Vec<Line<'a>>,
    /// The next line to read.
    at: usize,
    nodes: usize,
}

/// `- ` or a lone `-`: a block sequence entry.
fn is_entry(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

/// A comment or nothing: the rest of a line that holds no value.
fn is_empty_or_comment(text: &str) -> bool {
    text.is_empty() || text.starts_with('#')
}

impl<'a> Reader<'a> {
    fn count(&mut self, depth: usize) -> Option<()> {
        self.nodes += 1;
        (self.nodes <= MAX_NODES && depth <= MAX_DEPTH).then_some(())
    }

    /// The block collection whose first line is the next one, indented by
    /// `indent`.
    fn block(&mut self, indent: usize, depth: usize) -> Option<Value> {
        let line = self.lines.get(self.at)?;
        if is_entry(line.text) {
            self.sequence(indent, depth)
        } else {
            self.mapping(indent, depth)
        }
    }

    /// The value of a key or an entry with nothing after it on its line:
    /// a more indented block, a sequence at the key's own indentation
    /// (`sequence_here`), or null.
    fn nested(&mut self, indent: usize, depth: usize, sequence_here: bool) -> Option<Value> {
        let next = self.lines.get(self.at);
        match next {
            Some(line) if line.indent > indent => self.block(line.indent, depth + 1),
            Some(line) if sequence_here && line.indent == indent && is_entry(line.text) => {
                self.sequence(indent, depth + 1)
            }
            _ => {
                self.count(depth + 1)?;
                Some(Value::Null)
            }
        }
    }

    fn mapping(&mut self, indent: usize, depth: usize) -> Option<Value> {
        self.count(depth)?;
        let mut object = Map::new();
        while let Some(line) = self.lines.get(self.at) {
            if line.indent < indent {
                break;
            }
            if line.indent > indent || is_entry(line.text) {
                return None;
            }
            let (key, rest) = block_key(line.text)?;
            self.at += 1;
            self.count(depth + 1)?;
            let value = if is_empty_or_comment(rest) {
                self.nested(indent, depth, true)?
            } else {
                // A more indented line after it (a scalar going on,
                // or an error) stops the loop below.
                self.inline(rest, depth + 1)?
            };
            // serde-saphyr refuses a repeated key, with its position.
            if object.insert(key, value).is_some() {
                return None;
            }
        }
        Some(Value::Object(object))
    }

    fn sequence(&mut self, indent: usize, depth: usize) -> Option<Value> {
        self.count(depth)?;
        let mut items = Vec::new();
        while let Some(line) = self.lines.get(self.at) {
            // A key at this indentation ends a sequence that is a key's
            // value (`key:` above, `- ` below it); anywhere else the
            // caller finds it out of place.
            if line.indent < indent || (line.indent == indent && !is_entry(line.text)) {
                break;
            }
            if line.indent > indent {
                return None;
            }
            let rest = line.text.get(1..)?.trim_start_matches(' ');
            let column = indent + (line.text.len() - rest.len());
            let item = if is_empty_or_comment(rest) {
                self.at += 1;
                self.nested(indent, depth, false)?
            } else if is_entry(rest) {
                return None;
            } else if block_key(rest).is_some() {
                // `- key: value`: a mapping whose keys stand in `column`.
                let slot = self.lines.get_mut(self.at)?;
                *slot = Line {
                    indent: column,
                    text: rest,
                };
                self.mapping(column, depth + 1)?
            } else {
                self.at += 1;
                // A more indented line after it (a scalar going on,
                // or an error) stops the loop below.
                self.inline(rest, depth + 1)?
            };
            items.push(item);
        }
        Some(Value::Array(items))
    }

    /// A value that starts and ends on this line, in block context.
    fn inline(&mut self, text: &str, depth: usize) -> Option<Value> {
        let first = *text.as_bytes().first()?;
        let (value, after) = match first {
            b'"' | b'\'' => {
                self.count(depth)?;
                let (text, after) = quoted(text)?;
                (Value::String(text), after)
            }
            b'[' | b'{' => self.flow(text, depth)?,
            _ => {
                self.count(depth)?;
                let end = comment_start(text).unwrap_or(text.len());
                let scalar = text.get(..end)?.trim_end_matches(' ');
                if !starts_plain(scalar) || scalar.contains(": ") || scalar.ends_with(':') {
                    return None;
                }
                return plain(scalar);
            }
        };
        trailing_comment_only(after)?;
        Some(value)
    }

    /// A flow sequence or mapping that closes on this line; returns it and
    /// the text after it.
    fn flow<'t>(&mut self, text: &'t str, depth: usize) -> Option<(Value, &'t str)> {
        self.count(depth)?;
        let (open, mut rest) = split_first(text)?;
        rest = rest.trim_start_matches(' ');
        if open == b'[' {
            let mut items = Vec::new();
            if let Some(after) = rest.strip_prefix(']') {
                return Some((Value::Array(items), after));
            }
            loop {
                let (item, after) = self.flow_value(rest, depth + 1)?;
                items.push(item);
                let (separator, after) = split_first(after.trim_start_matches(' '))?;
                match separator {
                    b',' => rest = after.trim_start_matches(' '),
                    b']' => return Some((Value::Array(items), after)),
                    _ => return None,
                }
            }
        }
        let mut object = Map::new();
        if let Some(after) = rest.strip_prefix('}') {
            return Some((Value::Object(object), after));
        }
        loop {
            let (key, after) = flow_key(rest)?;
            self.count(depth + 1)?;
            let (value, after) = self.flow_value(after, depth + 1)?;
            if object.insert(key, value).is_some() {
                return None;
            }
            let (separator, after) = split_first(after.trim_start_matches(' '))?;
            match separator {
                b',' => rest = after.trim_start_matches(' '),
                b'}' => return Some((Value::Object(object), after)),
                _ => return None,
            }
        }
    }

    /// A value inside a flow collection, and the text after it.
    fn flow_value<'t>(&mut self, text: &'t str, depth: usize) -> Option<(Value, &'t str)> {
        let first = *text.as_bytes().first()?;
        match first {
            b'"' | b'\'' => {
                self.count(depth)?;
                let (text, after) = quoted(text)?;
                Some((Value::String(text), after))
            }
            b'[' | b'{' => self.flow(text, depth),
            _ => {
                self.count(depth)?;
                let end = flow_plain_end(text)?;
                let (scalar, after) = text.split_at_checked(end)?;
                let scalar = scalar.trim_end_matches(' ');
                if !starts_plain(scalar) {
                    return None;
                }
                Some((plain(scalar)?, after))
            }
        }
    }
}

fn split_first(text: &str) -> Option<(u8, &str)> {
    let first = *text.as_bytes().first()?;
    Some((first, text.get(1..)?))
}

/// A plain scalar may start here: not empty, and not with a character
/// that YAML reads as an indicator.
fn starts_plain(text: &str) -> bool {
    match text.as_bytes() {
        [] => false,
        [b'-' | b'?' | b':', next, ..] => *next != b' ',
        [first, ..] => !b"-?:,[]{}#&*!|>'\"%@`".contains(first),
    }
}

/// Where a comment starts in block-context text: a `#` after a space.
fn comment_start(text: &str) -> Option<usize> {
    text.as_bytes().windows(2).position(|pair| pair == b" #")
}

/// Only spaces and a comment after a quoted scalar or a flow collection.
fn trailing_comment_only(after: &str) -> Option<()> {
    if after.is_empty() {
        return Some(());
    }
    let rest = after.trim_start_matches(' ');
    (after.starts_with(' ') && is_empty_or_comment(rest)).then_some(())
}

/// The key of a block mapping entry (`key: value`, `key:`), and the rest of
/// the line after the colon and its spaces; `None` when the line is not
/// one this reader takes for a key.
fn block_key(text: &str) -> Option<(String, &str)> {
    let first = *text.as_bytes().first()?;
    if first == b'"' || first == b'\'' {
        let (key, after) = quoted(text)?;
        let rest = after.strip_prefix(':')?;
        if !(rest.is_empty() || rest.starts_with(' ')) {
            return None;
        }
        return Some((key, rest.trim_start_matches(' ')));
    }
    let bytes = text.as_bytes();
    let mut colon = None;
    for (index, &byte) in bytes.iter().enumerate() {
        let next = bytes.get(index + 1).copied();
        if byte == b'#' && index > 0 && bytes.get(index - 1) == Some(&b' ') {
            return None;
        }
        if byte == b':' && matches!(next, None | Some(b' ')) {
            colon = Some(index);
            break;
        }
    }
    let colon = colon?;
    let key = text.get(..colon)?.trim_end_matches(' ');
    if key.len() > MAX_KEY_BYTES || !starts_plain(key) {
        return None;
    }
    let Value::String(key) = plain(key)? else {
        return None;
    };
    let rest = text.get(colon + 1..)?.trim_start_matches(' ');
    Some((key, rest))
}

/// A key inside a flow mapping (`key: ` with a space after the colon), and
/// the text of its value.
fn flow_key(text: &str) -> Option<(String, &str)> {
    let first = *text.as_bytes().first()?;
    if first == b'"' || first == b'\'' {
        let (key, after) = quoted(text)?;
        return Some((key, colon_then_space(after)?));
    }
    let end = flow_plain_end(text)?;
    let (key, after) = text.split_at_checked(end)?;
    let key = key.trim_end_matches(' ');
    if key.len() > MAX_KEY_BYTES || !starts_plain(key) {
        return None;
    }
    let Value::String(key) = plain(key)? else {
        return None;
    };
    Some((key, colon_then_space(after)?))
}

/// `: ` and then something: the text after the colon and its spaces.
fn colon_then_space(after: &str) -> Option<&str> {
    let rest = after.strip_prefix(": ")?.trim_start_matches(' ');
    (!rest.is_empty()).then_some(rest)
}

/// Where a plain scalar inside a flow collection ends: before `,`, a
/// bracket or brace, or `: `. A comment, or a colon before anything else,
/// is for the parser.
fn flow_plain_end(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    for (index, &byte) in bytes.iter().enumerate() {
        match byte {
            b',' | b']' | b'}' => return Some(index),
            b'[' | b'{' => return None,
            b'#' if index > 0 && bytes.get(index - 1) == Some(&b' ') => return None,
            b':' => {
                return match bytes.get(index + 1) {
                    Some(b' ') => Some(index),
                    _ => None,
                };
            }
            _ => {}
        }
    }
    None
}

/// A single- or double-quoted scalar that closes on this line: its text
/// and the text after the closing quote.
fn quoted(text: &str) -> Option<(String, &str)> {
    let (quote, body) = split_first(text)?;
    let bytes = body.as_bytes();
    let mut value = String::new();
    let mut start = 0;
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        if byte == quote {
            value.push_str(body.get(start..index)?);
            if quote == b'\'' && bytes.get(index + 1) == Some(&b'\'') {
                // `''` is one quote inside single quotes.
                value.push('\'');
                index += 2;
                start = index;
                continue;
            }
            return Some((value, body.get(index + 1..)?));
        }
        if quote == b'"' && byte == b'\\' {
            value.push_str(body.get(start..index)?);
            let escaped = match bytes.get(index + 1)? {
                b'\\' => '\\',
                b'"' => '"',
                b'n' => '\n',
                b't' => '\t',
                _ => return None,
            };
            value.push(escaped);
            index += 2;
            start = index;
            continue;
        }
        index += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::yaml::repository_yaml;
    use super::super::yaml_subset::scalar_spellings;
    use super::*;

    /// What serde-saphyr reads, written out so that key order counts too.
    fn by_serde_saphyr(text: &str) -> Option<String> {
        super::super::yaml::parse_with_serde_saphyr(text)
            .ok()
            .map(|value| value.to_string())
    }

    /// Wherever the line reader answers, serde-saphyr reads the same value.
    fn agrees(text: &str) -> bool {
        match read(text) {
            Some(value) => {
                assert_eq!(Some(value.to_string()), by_serde_saphyr(text), "{text:?}");
                true
            }
            None => false,
        }
    }

    #[test]
    fn every_repository_file_reads_as_serde_saphyr_reads_it() {
        let (mut read_here, mut compared) = (0, 0);
        for (_, text) in repository_yaml(&["examples", "tests", "templates", "golden"]) {
            compared += 1;
            if agrees(&text) {
                read_here += 1;
            }
        }
        assert!(compared > 300, "{compared} files compared");
        assert!(read_here * 2 > compared, "{read_here} of {compared}");
    }

    /// Every example manifest is read here: the common case is the fast one.
    #[test]
    fn example_manifests_are_read_line_by_line() {
        let mut manifests = 0;
        for (path, text) in repository_yaml(&["examples"]) {
            let manifest = path.extension().is_some_and(|ext| ext == "yaml");
            if manifest && by_serde_saphyr(&text).is_some() && !text.contains('&') {
                assert!(agrees(&text), "{}", path.display());
                manifests += 1;
            }
        }
        assert!(manifests > 5, "{manifests}");
    }

    #[test]
    fn scalar_spellings_read_as_serde_saphyr_reads_them() {
        let mut answered = 0;
        for s in scalar_spellings() {
            for text in [
                format!("k: {s}\n"),
                format!("- {s}\n"),
                format!("{s}: 1\n"),
                format!("k: [{s}, x]\n"),
                format!("{{k: {s}}}\n"),
                format!("a:\n  b: {s}\n  c: '{s}'\n  d: \"{s}\"\n"),
                format!("- a: {s} # note\n  b: [{{c: {s}}}]\n"),
            ] {
                if agrees(&text) {
                    answered += 1;
                }
            }
        }
        assert!(answered > 600, "{answered}");
    }

    /// Shapes at the edges of the line subset: each is read as serde-saphyr
    /// reads it, or left to it; the first ones must be read here.
    #[test]
    fn structural_edge_cases_read_as_serde_saphyr_reads_them() {
        let inside = [
            "a: 1\n",
            "---\na: 1\n",
            "--- # doc\na: 1\n",
            "# c\n\na: 1 # c\n  # indented comment\nb: x#y\n",
            "a:\n- 1\n- 2\nb: 3\n",
            "a:\n  - 1\n  -   2\nb:\n",
            "- a: 1\n  b: 2\n- c\n-\n",
            "-   a: 1\n    b:\n    - x\n    c: {d: [1, 2], e: 'f'}\n",
            "- a:\n  - x\n  b: 1\n",
            "k: []\nl: {}\nm: [ ]\no: { }\n",
            "k: [a, [b, c], {d: e}]\n",
            "k: {a: [1, 2], b: {c: d}}\n",
            "\"quoted key\": 1\n'single key': 2\n",
            "a: 'it''s'\nb: \"say \\\"hi\\\"\\n\\ttab \\\\\"\nc: ''\nd: \"\"\n",
            "a : 1\nb:  2  \n",
            "url: http://x:80/y?q=1#frag\ntime: 08:00\n",
            "a:\n\n  b: 1\n\n  c: 2\n",
            "deep:\n  deeper:\n    deepest:\n      - [1]\n",
            "a: -1\nc: x - y\n",
        ];
        for text in inside {
            assert!(agrees(text), "not read line by line: {text:?}");
        }
        let edges = [
            "",
            "# only a comment\n",
            "a\n",
            "- a\nb: 1\n",
            "a: 1\n b: 2\n",
            "a:\n  b: 1\n c: 2\n",
            "a: x\n  y\n",
            "a:\n  x y\n",
            "a: |\n  x\n",
            "a: >-\n  x\n",
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "a: 1\na: 2\n",
            "{a: 1, a: 2}\n",
            "a: 1\n---\nb: 2\n",
            "%YAML 1.2\n---\na: 1\n",
            "a: 1\n...\n",
            "a: [1\n",
            "a: [1,\n  2]\n",
            "a: [1, ]\n",
            "a: [, 1]\n",
            "a: {b}\n",
            "a: {b: }\n",
            "a: {b:c}\n",
            "a: {\"b\":1}\n",
            "a: [b: c]\n",
            "a: [b # c\n]\n",
            "? a\n: 1\n",
            "a: b: c\n",
            "a: b:\n",
            "a:b\n",
            "a: \"x\"y\n",
            "a: \"x\"#y\n",
            "a: 'x\n  y'\n",
            "a: \"\\x41\"\n",
            "a: \"\\u0041\"\n",
            "a: \"x\\\n  y\"\n",
            "a: - b\n",
            "- - a\n",
            "-a: 1\n",
            "a:\t1\n",
            "a: 1\r\n",
            "\u{feff}a: 1\n",
            "a: x\u{2028}y\n",
            "a: x\u{85}y\n",
            "  a: 1\n",
            "a:\n    b: 1\n  c: 2\n",
            "- a: 1\n b: 2\n",
            "- a: 1\n   b: 2\n",
            "a: @x\n",
            "a: `x\n",
            "a: ,x\n",
            "a: }x\n",
            "a: ]x\n",
            "a: %x\n",
            "a: ? x\n",
            "a: :x\n",
            "a: -\n",
            "[a, b]\n",
            "{a: b}\nc: d\n",
            "a: [x]y\n",
            "a: [x] # c\n",
            "a: {b: [c, {d: e}]} # c\n",
            "a: 'x' # c\n",
            "a: \"x\" #c\n",
            "a:  # c\n  b: 1\n",
            "- # c\n  a: 1\n",
            "-\n  - x\n",
            "key with spaces: 1\n",
            "k: é ü 中文\n",
            "b: -x\n",
            "\"a\":\n  b: 1\n",
            "a/b: 1\n1: x\ntrue: y\n",
            "a[0]: x\n",
            "a: x[0]\n",
            "a: {x[0]: y}\n",
        ];
        for text in edges {
            agrees(text);
        }
        let long_key = format!("{}: 1\n", "k".repeat(MAX_KEY_BYTES + 1));
        assert_eq!(read(&long_key), None);
        let deep = format!("{}1{}", "[".repeat(40), "]".repeat(40));
        assert_eq!(read(&format!("a: {deep}\n")), None);
        let nested: String = (0..40)
            .map(|level| format!("{}k:\n", "  ".repeat(level)))
            .collect();
        assert_eq!(read(&nested), None);
        assert!(by_serde_saphyr(&nested).is_some());
    }

    /// Thousands of small damages to real manifests (a character taken
    /// out, one of YAML's indicators put in): the line reader either reads
    /// what serde-saphyr reads or leaves the document to it; it never
    /// reads a broken document, and never panics.
    #[test]
    fn damaged_manifests_are_read_as_serde_saphyr_reads_them_or_left_to_it() {
        let mut manifests: Vec<String> = repository_yaml(&["examples"])
            .into_iter()
            .filter(|(path, _)| path.to_string_lossy().contains("services"))
            .map(|(_, text)| text)
            .filter(|text| read(text).is_some())
            .collect();
        manifests.sort();
        manifests.truncate(3);
        assert!(!manifests.is_empty());
        let insertions = [
            " ", "\n", "#", ":", ": ", "-", "- ", "\"", "'", "[", "]", "{", "}", ",", "&", "*",
            "!", "|", "\\", "?", "  ", "\n  ", "---\n",
        ];
        let (mut mutated, mut read_here) = (0, 0);
        for text in &manifests {
            let boundaries: Vec<usize> = (0..=text.len())
                .filter(|&at| text.is_char_boundary(at))
                .collect();
            for (step, &at) in boundaries.iter().enumerate() {
                let mut damaged = Vec::new();
                if let Some(&next) = boundaries.get(step + 1) {
                    damaged.push(format!("{}{}", &text[..at], &text[next..]));
                }
                // A few insertions per position, varying along the text.
                for pick in [step, step * 7 + 3, step * 13 + 5] {
                    let insertion = insertions[pick % insertions.len()];
                    damaged.push(format!("{}{insertion}{}", &text[..at], &text[at..]));
                }
                for damaged in damaged {
                    mutated += 1;
                    if agrees(&damaged) {
                        read_here += 1;
                    }
                }
            }
        }
        assert!(mutated > 2_000, "{mutated}");
        assert!(read_here * 4 > mutated, "{read_here} of {mutated}");
    }
}
