//! A direct YAML emitter that writes the bytes serde-saphyr would write.
//!
//! Why it exists: serializing the Prometheus rule files of a large repository
//! through serde-saphyr spent most of its time deciding, character by
//! character, whether each scalar needs quotes, and allocating a `String` for
//! every mapping key. Nearly every scalar obsgen writes is an identifier, a
//! label value or a PromQL expression, for which that decision is trivial.
//!
//! How it stays byte-identical: the layout code below is serde-saphyr 2.1's
//! block-style state machine (indentation, `- ` dashes, compact sequences
//! under keys, `{}`/`[]` for empty collections, block-literal placement)
//! restricted to what its default options produce, and the scalar decisions
//! are split in two:
//!
//! - a fast path for scalars that are obviously plain (an ASCII letter first,
//!   printable ASCII, no `": "`, `" #"` or trailing `:`, not a YAML keyword,
//!   short enough never to be folded), for printable-ASCII scalars that are
//!   certainly double-quoted (decimal numbers, text with `": "`), for
//!   integers and booleans, for block literals of printable ASCII, and for
//!   long lines of obviously plain text, folded (`>-`) as serde-saphyr's
//!   `write_folded_block` folds them (alert annotations and URLs: handing
//!   them to serde-saphyr was a twentieth of a fresh build's CPU);
//! - everything else — quoting, escaping, other folding, floats, non-ASCII text —
//!   is handed to serde-saphyr itself for that one scalar, and its output is
//!   spliced in (a block scalar's body re-indented to its column). So
//!   correctness never rests on re-deriving YAML's quoting rules here.
//!
//! Anything this emitter does not model (anchors, tags, flow wrappers,
//! enum variants with data, bytes, complex keys) is an [`EmitError`]; the
//! caller then serializes the whole document with serde-saphyr instead.

use std::fmt::Write as _;

use serde::Serialize;
use serde::ser::{self, Impossible};

/// The newtype name serde-saphyr gives `LitStr`/`LitString` (block literal).
const LITERAL_STR_NAME: &str = "__yaml_lit_str";
/// Prefix of every newtype or tuple-struct name serde-saphyr gives a meaning.
const SAPHYR_WRAPPER_PREFIX: &str = "__yaml_";
/// serde-saphyr considers folding single-line strings longer than this.
const FOLD_WIDTH: usize = 80;
/// Spaces per indentation level (serde-saphyr's default).
const INDENT_STEP: usize = 2;
/// Scalars that YAML 1.1 reads as booleans, null, or special floats, in
/// the spellings a fast-path candidate (a letter first) could take.
const KEYWORDS: [&str; 11] = [
    "null", "true", "false", "yes", "no", "y", "n", "on", "off", "nan", "inf",
];

/// Why the emitter gave up; the caller falls back to serde-saphyr.
#[derive(Debug)]
pub struct EmitError(String);

impl std::fmt::Display for EmitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EmitError {}

impl ser::Error for EmitError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Self(msg.to_string())
    }
}

fn unsupported(what: &str) -> EmitError {
    EmitError(format!("the direct YAML emitter does not support {what}"))
}

type Result<T, E = EmitError> = std::result::Result<T, E>;

/// Appends `value` as a YAML document to `out`.
pub fn to_string_into<T: ?Sized + Serialize>(out: &mut String, value: &T) -> Result<()> {
    let mut emitter = Emitter::new(out);
    value.serialize(&mut emitter)
}

/// Writes `key` and its colon as serde-saphyr writes a block mapping's key
/// (indentation is the caller's): for a document whose layout its type
/// writes itself (see [`super::document_written`]).
pub fn push_key(out: &mut String, key: &str) -> Result<()> {
    if is_obviously_plain_key(key) {
        out.push_str(key);
    } else {
        Emitter::new(out).write_key_text(key)?;
    }
    out.push(':');
    Ok(())
}

/// Writes `value` (a block literal when `literal`) as serde-saphyr writes
/// the value of a block mapping entry whose key, already written with its
/// colon, starts at `key_column`: ` value` and a line break, or a block
/// scalar whose lines are indented one step past the key.
pub fn push_value(out: &mut String, key_column: usize, value: &str, literal: bool) -> Result<()> {
    let mut emitter = Emitter::new(out);
    emitter.at_line_start = false;
    emitter.pending_space_after_colon = true;
    emitter.current_map_depth = Some(key_column / INDENT_STEP);
    emitter.current_map_key_column = Some(key_column);
    emitter.emit_str(value, literal)
}

/// Whether `s` is written plain as a mapping value or sequence item: a
/// conservative subset of serde-saphyr's `is_plain_value_safe` (block
/// context, YAML 1.1 keywords) that also rules out its automatic block styles.
fn is_obviously_plain_value(s: &str) -> bool {
    s.len() <= FOLD_WIDTH && has_plain_shape(s) && !is_keyword(s)
}

/// Whether serde-saphyr folds `s` (`>-`) and the native path below writes
/// it as serde-saphyr does: one line of printable ASCII, longer than the
/// folding width, that is [`is_obviously_plain_value`] but for its length
/// (serde-saphyr folds only what is plain-safe).
fn is_obviously_folded(s: &str) -> bool {
    s.len() > FOLD_WIDTH && has_plain_shape(s)
}

/// The conditions of [`is_obviously_plain_value`] but its length and the
/// keywords: printable ASCII that starts as a plain value may
/// ([`starts_plain_value`]), does not end in a
/// space or a colon, and holds no `": "` or `" #"`.
fn has_plain_shape(s: &str) -> bool {
    let bytes = s.as_bytes();
    let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    starts_plain_value(s, *first)
        && *last != b' '
        && *last != b':'
        && is_printable_ascii(*first)
        && printable_without_value_or_comment_mark(bytes)
}

/// Whether every byte but the first is printable ASCII and no two
/// neighbours are `": "` (a mapping value follows) or `" #"` (a comment
/// starts). One pass over neighbouring bytes with no early exit, which the
/// compiler vectorizes; a pass per test, or substring searches, cost more.
fn printable_without_value_or_comment_mark(bytes: &[u8]) -> bool {
    let (Some(firsts), Some(seconds)) =
        (bytes.get(..bytes.len().saturating_sub(1)), bytes.get(1..))
    else {
        return true;
    };
    firsts.iter().zip(seconds).fold(true, |plain, (&a, &b)| {
        plain & is_printable_ascii(b) & !((a == b':') & (b == b' ')) & !((a == b' ') & (b == b'#'))
    })
}

/// The lines serde-saphyr's `write_folded_block` breaks `line` into (one
/// line of printable ASCII, no leading space): a break replaces one space of
/// the last run of spaces before the column passes [`FOLD_WIDTH`], the rest
/// of the run stays at the end of the line before it. Its quirks are kept:
/// the count restarts at zero with the character that caused the break, and
/// once the count passes the width with no run of spaces since the last
/// break, the rest of the line stays whole.
fn folded_lines(line: &str) -> Vec<&str> {
    let bytes = line.as_bytes();
    let mut lines = Vec::with_capacity(bytes.len() / FOLD_WIDTH + 1);
    let mut start = 0;
    let mut column = 0;
    // Where the last whole run of spaces ends.
    let mut last_run_end: Option<usize> = None;
    let mut in_run = false;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b' ' {
            in_run = true;
        } else if in_run {
            last_run_end = Some(i);
            in_run = false;
        }
        column += 1;
        if column > FOLD_WIDTH {
            let Some(run_end) = last_run_end.take() else {
                break;
            };
            // The run but its last space stays on the line.
            lines.push(line.get(start..run_end - 1).unwrap_or_default());
            start = run_end;
            column = 0;
        }
    }
    lines.push(line.get(start..).unwrap_or_default());
    lines
}

/// Whether serde-saphyr certainly double-quotes `s` as a value, with no
/// escape but for `\\` and `"`: printable ASCII on one line that is a
/// decimal number (`30`, `99.9`), starts with an indicator no plain scalar
/// may start with (`{{ $value }} of…`, `*a`, `'a`), or holds `": "` before
/// any trailing spaces (the last two also rule out folding: a folded
/// scalar must be plain-safe).
fn is_certainly_double_quoted(s: &str) -> bool {
    let bytes = s.as_bytes();
    let Some(&first) = bytes.first() else {
        return false;
    };
    if !all_bytes(bytes, is_printable_ascii) {
        return false;
    }
    let is_decimal = first.is_ascii_digit()
        && bytes.iter().all(|b| b.is_ascii_digit() || *b == b'.')
        && bytes.iter().filter(|b| **b == b'.').count() <= 1;
    // serde-saphyr's `is_plain_value_safe` refuses these first characters
    // whatever follows (alone, `#` is single-quoted).
    let starts_with_indicator = bytes.len() > 1
        && matches!(
            first,
            b',' | b'['
                | b']'
                | b'{'
                | b'}'
                | b'#'
                | b'&'
                | b'*'
                | b'!'
                | b'|'
                | b'>'
                | b'\''
                | b'"'
                | b'%'
                | b'@'
                | b'`'
        );
    // `": "` before any trailing spaces, looked for in the bytes (a
    // substring search and a trim by characters cost more than the scan).
    let trailing_spaces = bytes.iter().rev().take_while(|&&b| b == b' ').count();
    let holds_value_mark = bytes
        .get(..bytes.len() - trailing_spaces)
        .is_some_and(|kept| kept.windows(2).any(|pair| pair == b": "));
    is_decimal || starts_with_indicator || holds_value_mark
}

/// serde-saphyr's double-quoted style for printable ASCII.
fn push_double_quoted_ascii(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    // Runs between the characters to escape are copied whole.
    let mut rest = s;
    while let Some(at) = rest.find(['\\', '"']) {
        out.push_str(rest.get(..at).unwrap_or_default());
        out.push('\\');
        out.push_str(rest.get(at..=at).unwrap_or_default());
        rest = rest.get(at + 1..).unwrap_or_default();
    }
    out.push_str(rest);
    out.push('"');
}

/// Whether `s` is written as-is in mapping-key position: a conservative
/// subset of serde-saphyr's key rule (`is_plain_safe` and flow-context
/// `is_plain_value_safe`).
fn is_obviously_plain_key(s: &str) -> bool {
    let bytes = s.as_bytes();
    let Some(first) = bytes.first() else {
        return false;
    };
    bytes.len() <= FOLD_WIDTH
        && starts_unambiguously(s, *first)
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/'))
        && !is_keyword(s)
}

/// A letter cannot start a number, a date, a document marker or an
/// indicator. An underscore can start a number once underscores are dropped
/// (`_1`, `_0x1F`); a letter that cannot occur in a number (no hexadecimal
/// digit, exponent or radix mark: `g` to `z` but `o` and `x`) rules that out.
fn starts_unambiguously(s: &str, first: u8) -> bool {
    first.is_ascii_alphabetic()
        || (first == b'_'
            && s.bytes().any(|b| {
                matches!(b.to_ascii_lowercase(), b'g'..=b'z')
                    && !matches!(b.to_ascii_lowercase(), b'o' | b'x')
            }))
}

/// [`starts_unambiguously`], and in value position also a path (`/metrics`,
/// `../rules/a.yml`) or a duration (`5m`, `1h30m`, `500ms`): digits and the
/// unit letters `s m h d w y`, which no number, date or radix spelling
/// holds. Together they are most of the values the emitter would otherwise
/// hand to serde-saphyr (350,000 of them at 10,000 services).
fn starts_plain_value(s: &str, first: u8) -> bool {
    starts_unambiguously(s, first)
        || first == b'/'
        || s.starts_with("./")
        || s.starts_with("../")
        || is_duration(s)
}

/// `([0-9]+[smhdwy]+)+`.
fn is_duration(s: &str) -> bool {
    let unit = |b: &u8| matches!(b, b's' | b'm' | b'h' | b'd' | b'w' | b'y');
    let bytes = s.as_bytes();
    bytes.first().is_some_and(u8::is_ascii_digit)
        && bytes.last().is_some_and(unit)
        && bytes.iter().all(|b| b.is_ascii_digit() || unit(b))
}

fn is_keyword(s: &str) -> bool {
    s.len() <= 5 && KEYWORDS.iter().any(|k| s.eq_ignore_ascii_case(k))
}

/// Whether serde-saphyr writes `s` as a block literal exactly as the native
/// path below does: printable ASCII, tabs and line feeds only.
fn is_ascii_block_content(s: &str) -> bool {
    all_bytes(s.as_bytes(), |b| {
        is_printable_ascii(b) | (b == b'\n') | (b == b'\t')
    })
}

/// A space to a tilde: printable ASCII.
fn is_printable_ascii(b: u8) -> bool {
    b.wrapping_sub(b' ') <= b'~' - b' '
}

/// Whether `test` holds for every byte. Every scalar of every generated
/// file passes through these tests (a gigabyte at 10,000 services), so they
/// look at 32 bytes at a time without stopping early, which the compiler
/// turns into vector instructions; a plain `all` stops at every byte.
fn all_bytes(bytes: &[u8], test: impl Fn(u8) -> bool + Copy) -> bool {
    let (chunks, rest) = bytes.as_chunks::<32>();
    chunks
        .iter()
        .all(|chunk| chunk.iter().fold(true, |all, &b| all & test(b)))
        && rest.iter().all(|&b| test(b))
}

/// Spaces before the first non-empty line (serde-saphyr's test for an
/// indentation indicator).
fn first_line_leading_spaces(s: &str) -> usize {
    let bytes = s.as_bytes();
    let empty_lines = bytes.iter().take_while(|&&b| b == b'\n').count();
    bytes
        .get(empty_lines..)
        .map_or(0, |rest| rest.iter().take_while(|&&b| b == b' ').count())
}

fn push_spaces(out: &mut String, count: usize) {
    const SPACES: &str = "                                                                ";
    let mut left = count;
    while left > 0 {
        let now = left.min(SPACES.len());
        out.push_str(SPACES.get(..now).unwrap_or_default());
        left -= now;
    }
}

/// Layout state, named and updated as in serde-saphyr's `YamlSerializer`
/// (without anchors, tags, flow style and comments). The serializer depth
/// of serde-saphyr only moves for complex keys, which are unsupported, so it
/// is always zero here.
pub struct Emitter<'o> {
    out: &'o mut String,
    at_line_start: bool,
    pending_inline_map: bool,
    pending_space_after_colon: bool,
    inline_map_after_dash: bool,
    last_value_was_block: bool,
    after_dash_depth: Option<usize>,
    current_map_depth: Option<usize>,
    current_map_key_column: Option<usize>,
}

impl<'o> Emitter<'o> {
    fn new(out: &'o mut String) -> Self {
        Self {
            out,
            at_line_start: true,
            pending_inline_map: false,
            pending_space_after_colon: false,
            inline_map_after_dash: false,
            last_value_was_block: false,
            after_dash_depth: None,
            current_map_depth: None,
            current_map_key_column: None,
        }
    }

    fn write_space_if_pending(&mut self) {
        if self.pending_space_after_colon {
            self.out.push(' ');
            self.pending_space_after_colon = false;
        }
        self.last_value_was_block = false;
    }

    fn write_indent(&mut self, depth: usize) {
        if self.at_line_start {
            push_spaces(self.out, depth.saturating_mul(INDENT_STEP));
            self.at_line_start = false;
        }
    }

    fn newline(&mut self) {
        self.out.push('\n');
        self.at_line_start = true;
    }

    /// A scalar that fits on the current line (plain, quoted, number).
    fn inline_scalar(&mut self, text: &str) {
        self.write_space_if_pending();
        self.write_indent(0);
        self.out.push_str(text);
        self.newline();
    }

    fn display_scalar(&mut self, value: impl std::fmt::Display) -> Result<()> {
        self.write_space_if_pending();
        self.write_indent(0);
        write!(self.out, "{value}").map_err(ser::Error::custom)?;
        self.newline();
        Ok(())
    }

    /// Writes a block scalar whose header is `header` and whose body lines
    /// come from `body`, placed where serde-saphyr places them.
    fn block_scalar<'b>(
        &mut self,
        header: impl FnOnce(&mut String),
        body: impl Iterator<Item = BodyLine<'b>>,
    ) {
        let was_map_value = self.pending_space_after_colon;
        self.write_space_if_pending();
        let base = if was_map_value {
            self.current_map_depth.unwrap_or(0)
        } else {
            self.after_dash_depth.unwrap_or(0)
        };
        self.write_indent(base);
        let parent_column = match (was_map_value, self.current_map_key_column) {
            (true, Some(column)) => column,
            _ => base.saturating_mul(INDENT_STEP),
        };
        let body_column = parent_column.saturating_add(INDENT_STEP);
        header(self.out);
        self.newline();
        for line in body {
            match line {
                BodyLine::Empty => {}
                BodyLine::Text { extra_indent, text } => {
                    push_spaces(self.out, body_column.saturating_sub(extra_indent));
                    self.out.push_str(text);
                }
            }
            self.newline();
        }
    }

    /// A block literal written natively (printable ASCII content).
    fn native_literal(&mut self, v: &str) {
        let content = v.trim_end_matches('\n');
        let trailing_newlines = v.len() - content.len();
        let header = |out: &mut String| {
            out.push('|');
            if first_line_leading_spaces(content) > 0 {
                out.push('2');
            }
            match trailing_newlines {
                0 => out.push('-'),
                1 if !content.is_empty() => {}
                _ => out.push('+'),
            }
        };
        if content.is_empty() {
            self.block_scalar(
                header,
                std::iter::repeat_n(BodyLine::Empty, trailing_newlines),
            );
        } else {
            let lines = content.split('\n').map(|text| {
                if text.is_empty() {
                    BodyLine::Empty
                } else {
                    BodyLine::Text {
                        extra_indent: 0,
                        text,
                    }
                }
            });
            let kept = std::iter::repeat_n(BodyLine::Empty, trailing_newlines.saturating_sub(1));
            self.block_scalar(header, lines.chain(kept));
        }
    }

    /// A single-line scalar folded natively ([`is_obviously_folded`]).
    fn native_folded(&mut self, v: &str) {
        let lines = folded_lines(v);
        self.block_scalar(
            |out| out.push_str(">-"),
            lines.into_iter().map(|text| BodyLine::Text {
                extra_indent: 0,
                text,
            }),
        );
    }

    /// Writes what serde-saphyr wrote for this scalar alone (`rendered`, a
    /// whole document): one line goes where the scalar goes; a block scalar's
    /// header goes there and its body (at column 2 in `rendered`) moves to
    /// the scalar's body column.
    fn splice(&mut self, rendered: &str) -> Result<()> {
        let rendered = rendered
            .strip_suffix('\n')
            .ok_or_else(|| unsupported("a scalar rendered without a final newline"))?;
        let mut lines = rendered.split('\n');
        let first = lines.next().unwrap_or_default();
        if !(first.starts_with('|') || first.starts_with('>')) {
            if lines.next().is_some() {
                return Err(unsupported(
                    "a multi-line scalar that is not a block scalar",
                ));
            }
            self.inline_scalar(first);
            return Ok(());
        }
        let body: Vec<BodyLine<'_>> = lines
            .map(|line| {
                if line.is_empty() {
                    Ok(BodyLine::Empty)
                } else if line.starts_with("  ") {
                    Ok(BodyLine::Text {
                        extra_indent: INDENT_STEP,
                        text: line,
                    })
                } else {
                    Err(unsupported("a block scalar body outside its indentation"))
                }
            })
            .collect::<Result<_>>()?;
        self.block_scalar(|out| out.push_str(first), body.into_iter());
        Ok(())
    }

    fn emit_str(&mut self, v: &str, literal_requested: bool) -> Result<()> {
        // Most scalars are plain; a plain one holds no line break (only
        // printable characters), so it is told apart before looking for one.
        if !literal_requested && is_obviously_plain_value(v) {
            self.inline_scalar(v);
            return Ok(());
        }
        if literal_requested || v.contains('\n') {
            if is_ascii_block_content(v) {
                self.native_literal(v);
                return Ok(());
            }
        } else if is_obviously_folded(v) {
            self.native_folded(v);
            return Ok(());
        } else if is_certainly_double_quoted(v) {
            self.write_space_if_pending();
            self.write_indent(0);
            push_double_quoted_ascii(self.out, v);
            self.newline();
            return Ok(());
        }
        let rendered = if literal_requested {
            serde_saphyr::to_string(&serde_saphyr::LitStr(v))
        } else {
            serde_saphyr::to_string(&v)
        }
        .map_err(ser::Error::custom)?;
        self.splice(&rendered)
    }

    /// Writes a mapping key's text (serde-saphyr's `scalar_key_to_string`).
    fn write_key_text<K: ?Sized + Serialize>(&mut self, key: &K) -> Result<()> {
        if key.serialize(KeyProbe { out: self.out }).is_ok() {
            return Ok(());
        }
        let rendered = serde_saphyr::to_string(&SingleEntry(key)).map_err(ser::Error::custom)?;
        let text = rendered
            .strip_suffix(": 0\n")
            .filter(|text| !text.contains('\n') && !text.starts_with("? "))
            .ok_or_else(|| unsupported("a key serde-saphyr writes as an explicit key"))?;
        self.out.push_str(text);
        Ok(())
    }
}

#[derive(Clone, Copy)]
enum BodyLine<'b> {
    Empty,
    /// `text` already carries `extra_indent` spaces of indentation.
    Text {
        extra_indent: usize,
        text: &'b str,
    },
}

/// `{key: 0}`, to have serde-saphyr render one key.
struct SingleEntry<'k, K: ?Sized>(&'k K);

impl<K: ?Sized + Serialize> Serialize for SingleEntry<'_, K> {
    fn serialize<S: ser::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use ser::SerializeMap as _;
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(self.0, &0u8)?;
        map.end()
    }
}

impl<'a, 'o> ser::Serializer for &'a mut Emitter<'o> {
    type Ok = ();
    type Error = EmitError;
    type SerializeSeq = SeqEmitter<'a, 'o>;
    type SerializeTuple = SeqEmitter<'a, 'o>;
    type SerializeTupleStruct = SeqEmitter<'a, 'o>;
    type SerializeTupleVariant = Impossible<(), EmitError>;
    type SerializeMap = MapEmitter<'a, 'o>;
    type SerializeStruct = MapEmitter<'a, 'o>;
    type SerializeStructVariant = Impossible<(), EmitError>;

    fn serialize_bool(self, v: bool) -> Result<()> {
        self.inline_scalar(if v { "true" } else { "false" });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<()> {
        self.display_scalar(v)
    }
    fn serialize_i16(self, v: i16) -> Result<()> {
        self.display_scalar(v)
    }
    fn serialize_i32(self, v: i32) -> Result<()> {
        self.display_scalar(v)
    }
    fn serialize_i64(self, v: i64) -> Result<()> {
        self.display_scalar(v)
    }
    fn serialize_i128(self, v: i128) -> Result<()> {
        self.display_scalar(v)
    }
    fn serialize_u8(self, v: u8) -> Result<()> {
        self.display_scalar(v)
    }
    fn serialize_u16(self, v: u16) -> Result<()> {
        self.display_scalar(v)
    }
    fn serialize_u32(self, v: u32) -> Result<()> {
        self.display_scalar(v)
    }
    fn serialize_u64(self, v: u64) -> Result<()> {
        self.display_scalar(v)
    }
    fn serialize_u128(self, v: u128) -> Result<()> {
        self.display_scalar(v)
    }
    fn serialize_f32(self, v: f32) -> Result<()> {
        let rendered = serde_saphyr::to_string(&v).map_err(ser::Error::custom)?;
        self.splice(&rendered)
    }
    fn serialize_f64(self, v: f64) -> Result<()> {
        let rendered = serde_saphyr::to_string(&v).map_err(ser::Error::custom)?;
        self.splice(&rendered)
    }
    fn serialize_char(self, v: char) -> Result<()> {
        self.write_space_if_pending();
        let mut buf = [0u8; 4];
        self.serialize_str(v.encode_utf8(&mut buf))
    }
    fn serialize_str(self, v: &str) -> Result<()> {
        self.emit_str(v, false)
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<()> {
        Err(unsupported("bytes"))
    }
    fn serialize_none(self) -> Result<()> {
        self.inline_scalar("null");
        Ok(())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<()> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<()> {
        self.inline_scalar("null");
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<()> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _variant_index: u32,
        variant: &'static str,
    ) -> Result<()> {
        self.write_space_if_pending();
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<()> {
        if name == LITERAL_STR_NAME {
            let mut text = String::new();
            value.serialize(StrCapture { out: &mut text })?;
            return self.emit_str(&text, true);
        }
        if name.starts_with(SAPHYR_WRAPPER_PREFIX) {
            return Err(unsupported("serde-saphyr wrappers other than LitStr"));
        }
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _variant_index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<()> {
        Err(unsupported("enum variants with data"))
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<SeqEmitter<'a, 'o>> {
        let was_inline_value = !self.at_line_start;
        if self.pending_space_after_colon && self.last_value_was_block {
            self.pending_space_after_colon = false;
            if !self.at_line_start {
                self.newline();
            }
            self.last_value_was_block = false;
        }
        let after_dash = !self.at_line_start
            && self.after_dash_depth.is_some()
            && !self.pending_space_after_colon;
        let depth = if after_dash {
            self.after_dash_depth.unwrap_or(0).saturating_add(1)
        } else if was_inline_value {
            // Compact: the dashes go at the key's own column (one level in
            // when there is no enclosing map).
            self.current_map_depth.unwrap_or(1)
        } else {
            0
        };
        Ok(SeqEmitter {
            emitter: self,
            depth,
            first: true,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqEmitter<'a, 'o>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, name: &'static str, len: usize) -> Result<SeqEmitter<'a, 'o>> {
        if name.starts_with(SAPHYR_WRAPPER_PREFIX) {
            return Err(unsupported("serde-saphyr anchors, tags and comments"));
        }
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _variant_index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(unsupported("enum variants with data"))
    }
    fn serialize_map(self, len: Option<usize>) -> Result<MapEmitter<'a, 'o>> {
        let inline_first = self.pending_inline_map;
        let was_inline_value = self.pending_space_after_colon;
        let mut forced_newline = false;
        if was_inline_value && self.last_value_was_block {
            self.pending_space_after_colon = false;
            if !self.at_line_start {
                self.newline();
            }
            forced_newline = true;
            self.last_value_was_block = false;
        }
        if inline_first {
            self.pending_inline_map = false;
            self.inline_map_after_dash = true;
        } else if was_inline_value && matches!(len, Some(n) if n > 0) {
            // A non-empty map value starts on the next line; an empty or
            // unsized one may still be `key: {}`.
            self.pending_space_after_colon = false;
            if !self.at_line_start {
                self.newline();
            }
        }
        let depth = if inline_first {
            self.after_dash_depth.unwrap_or(0).saturating_add(1)
        } else if was_inline_value {
            self.current_map_depth.unwrap_or(0).saturating_add(1)
        } else {
            0
        };
        let inline_value_start =
            was_inline_value && len.is_none() && !inline_first && !forced_newline;
        Ok(MapEmitter {
            emitter: self,
            depth,
            align_after_dash: inline_first,
            inline_value_start,
            entries_written: 0,
        })
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<MapEmitter<'a, 'o>> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _variant_index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(unsupported("enum variants with data"))
    }
}

/// A block sequence (serde-saphyr's `SeqSer`).
pub struct SeqEmitter<'a, 'o> {
    emitter: &'a mut Emitter<'o>,
    depth: usize,
    first: bool,
}

impl ser::SerializeSeq for SeqEmitter<'_, '_> {
    type Ok = ();
    type Error = EmitError;

    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        let e = &mut *self.emitter;
        if self.first && e.pending_space_after_colon {
            e.pending_space_after_colon = false;
            if !e.at_line_start {
                e.newline();
            }
            e.pending_inline_map = false;
        }
        if !self.first {
            e.inline_map_after_dash = false;
        }
        if !(self.first && (!e.at_line_start || e.pending_inline_map)) {
            e.write_indent(self.depth);
        }
        e.out.push_str("- ");
        e.at_line_start = false;
        if self.first {
            e.inline_map_after_dash = false;
        }
        e.after_dash_depth = Some(self.depth);
        e.pending_inline_map = true;
        e.last_value_was_block = false;
        value.serialize(&mut *e)?;
        self.first = false;
        Ok(())
    }

    fn end(self) -> Result<()> {
        let e = self.emitter;
        if self.first {
            if e.pending_space_after_colon {
                e.out.push(' ');
                e.pending_space_after_colon = false;
            } else {
                e.write_indent(self.depth);
            }
            e.out.push_str("[]");
            e.newline();
        } else {
            e.last_value_was_block = true;
            e.pending_inline_map = false;
            e.after_dash_depth = None;
            e.inline_map_after_dash = false;
        }
        Ok(())
    }
}

impl ser::SerializeTuple for SeqEmitter<'_, '_> {
    type Ok = ();
    type Error = EmitError;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<()> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleStruct for SeqEmitter<'_, '_> {
    type Ok = ();
    type Error = EmitError;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<()> {
        ser::SerializeSeq::end(self)
    }
}

/// A block mapping (serde-saphyr's `MapSer`, block layout, simple keys).
pub struct MapEmitter<'a, 'o> {
    emitter: &'a mut Emitter<'o>,
    depth: usize,
    /// The map started right after `- `: its keys align past the dash.
    align_after_dash: bool,
    /// An unsized map value whose line break waits for its first key.
    inline_value_start: bool,
    entries_written: usize,
}

impl MapEmitter<'_, '_> {
    fn write_key_indent(&mut self) {
        let e = &mut *self.emitter;
        if self.align_after_dash && e.at_line_start {
            push_spaces(
                e.out,
                self.depth.saturating_sub(1).saturating_mul(INDENT_STEP) + 2,
            );
            e.at_line_start = false;
        } else {
            e.write_indent(self.depth);
        }
    }

    fn begin_key(&mut self) {
        let e = &mut *self.emitter;
        if std::mem::take(&mut self.inline_value_start) {
            e.pending_space_after_colon = false;
            if !e.at_line_start {
                e.newline();
            }
        } else if !e.at_line_start {
            e.write_space_if_pending();
        }
        e.after_dash_depth = None;
        e.pending_inline_map = false;
        e.last_value_was_block = false;
        self.write_key_indent();
    }

    fn end_key(&mut self) {
        let e = &mut *self.emitter;
        e.out.push(':');
        e.pending_space_after_colon = true;
        e.at_line_start = false;
    }
}

impl ser::SerializeMap for MapEmitter<'_, '_> {
    type Ok = ();
    type Error = EmitError;

    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<()> {
        self.begin_key();
        self.emitter.write_key_text(key)?;
        self.end_key();
        Ok(())
    }

    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        let e = &mut *self.emitter;
        let saved_pending_inline_map = e.pending_inline_map;
        let previous_map_depth = e.current_map_depth.replace(self.depth);
        let key_column = self
            .align_after_dash
            .then(|| self.depth.saturating_sub(1).saturating_mul(INDENT_STEP) + 2);
        let previous_key_column = std::mem::replace(&mut e.current_map_key_column, key_column);
        let result = value.serialize(&mut *e);
        e.current_map_depth = previous_map_depth;
        e.current_map_key_column = previous_key_column;
        e.pending_inline_map = saved_pending_inline_map;
        result?;
        self.entries_written = self.entries_written.saturating_add(1);
        Ok(())
    }

    fn end(mut self) -> Result<()> {
        if self.entries_written == 0 {
            if self.emitter.pending_space_after_colon {
                self.emitter.out.push(' ');
                self.emitter.pending_space_after_colon = false;
            }
            if self.emitter.at_line_start {
                self.write_key_indent();
            }
            self.emitter.out.push_str("{}");
            self.emitter.newline();
        } else {
            self.emitter.last_value_was_block = true;
        }
        Ok(())
    }
}

impl ser::SerializeStruct for MapEmitter<'_, '_> {
    type Ok = ();
    type Error = EmitError;

    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        self.begin_key();
        if is_obviously_plain_key(key) {
            self.emitter.out.push_str(key);
        } else {
            self.emitter.write_key_text(key)?;
        }
        self.end_key();
        ser::SerializeMap::serialize_value(self, value)
    }

    fn end(self) -> Result<()> {
        ser::SerializeMap::end(self)
    }
}

/// Writes a key that is an obviously plain string; fails for anything else
/// (the caller then asks serde-saphyr).
struct KeyProbe<'o> {
    out: &'o mut String,
}

/// Captures the string inside a `LitStr`.
struct StrCapture<'o> {
    out: &'o mut String,
}

macro_rules! only_strings {
    (@reject $($method:ident: $ty:ty),*) => {
        $(fn $method(self, _v: $ty) -> Result<()> {
            Err(unsupported("a non-string here"))
        })*
    };
    ($name:ident, $accept:expr) => {
        impl ser::Serializer for $name<'_> {
            type Ok = ();
            type Error = EmitError;
            type SerializeSeq = Impossible<(), EmitError>;
            type SerializeTuple = Impossible<(), EmitError>;
            type SerializeTupleStruct = Impossible<(), EmitError>;
            type SerializeTupleVariant = Impossible<(), EmitError>;
            type SerializeMap = Impossible<(), EmitError>;
            type SerializeStruct = Impossible<(), EmitError>;
            type SerializeStructVariant = Impossible<(), EmitError>;

            fn serialize_str(self, v: &str) -> Result<()> {
                let accept: fn(&str) -> bool = $accept;
                if accept(v) {
                    self.out.push_str(v);
                    Ok(())
                } else {
                    Err(unsupported("this string here"))
                }
            }
            fn serialize_bool(self, _v: bool) -> Result<()> {
                Err(unsupported("a non-string here"))
            }
            only_strings!(@reject serialize_i8: i8, serialize_i16: i16, serialize_i32: i32,
                serialize_i64: i64, serialize_u8: u8, serialize_u16: u16, serialize_u32: u32,
                serialize_u64: u64, serialize_f32: f32, serialize_f64: f64);
            fn serialize_char(self, _v: char) -> Result<()> {
                Err(unsupported("a non-string here"))
            }
            fn serialize_bytes(self, _v: &[u8]) -> Result<()> {
                Err(unsupported("a non-string here"))
            }
            fn serialize_none(self) -> Result<()> {
                Err(unsupported("a non-string here"))
            }
            fn serialize_some<T: ?Sized + Serialize>(self, _v: &T) -> Result<()> {
                Err(unsupported("a non-string here"))
            }
            fn serialize_unit(self) -> Result<()> {
                Err(unsupported("a non-string here"))
            }
            fn serialize_unit_struct(self, _name: &'static str) -> Result<()> {
                Err(unsupported("a non-string here"))
            }
            fn serialize_unit_variant(
                self,
                _name: &'static str,
                _index: u32,
                _variant: &'static str,
            ) -> Result<()> {
                Err(unsupported("a non-string here"))
            }
            fn serialize_newtype_struct<T: ?Sized + Serialize>(
                self,
                _name: &'static str,
                _v: &T,
            ) -> Result<()> {
                Err(unsupported("a non-string here"))
            }
            fn serialize_newtype_variant<T: ?Sized + Serialize>(
                self,
                _name: &'static str,
                _index: u32,
                _variant: &'static str,
                _v: &T,
            ) -> Result<()> {
                Err(unsupported("a non-string here"))
            }
            fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq> {
                Err(unsupported("a non-string here"))
            }
            fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple> {
                Err(unsupported("a non-string here"))
            }
            fn serialize_tuple_struct(
                self,
                _name: &'static str,
                _len: usize,
            ) -> Result<Self::SerializeTupleStruct> {
                Err(unsupported("a non-string here"))
            }
            fn serialize_tuple_variant(
                self,
                _name: &'static str,
                _index: u32,
                _variant: &'static str,
                _len: usize,
            ) -> Result<Self::SerializeTupleVariant> {
                Err(unsupported("a non-string here"))
            }
            fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap> {
                Err(unsupported("a non-string here"))
            }
            fn serialize_struct(
                self,
                _name: &'static str,
                _len: usize,
            ) -> Result<Self::SerializeStruct> {
                Err(unsupported("a non-string here"))
            }
            fn serialize_struct_variant(
                self,
                _name: &'static str,
                _index: u32,
                _variant: &'static str,
                _len: usize,
            ) -> Result<Self::SerializeStructVariant> {
                Err(unsupported("a non-string here"))
            }
        }
    };
}

only_strings!(KeyProbe, is_obviously_plain_key);
only_strings!(StrCapture, |_| true);

#[cfg(test)]
mod tests;
