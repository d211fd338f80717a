//! User-facing diagnostics: where (file, line, column, field path), what
//! was expected, what was found, and how to fix it.
//!
//! Every stage that judges user input (loading, schema, semantic checks)
//! produces [`Diagnostic`]s instead of failing on the first problem, so one
//! run reports every error in every file. They render as text with a source
//! excerpt (coloured on a terminal) or as JSON (`--format json`).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One problem in one place of one manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The manifest, relative to the root.
    pub file: String,
    /// 1-based; 0 when the problem is not tied to a place in the file.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    /// The field path, e.g. `spec.slos[1].objective`; empty for the whole document.
    pub path: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn error(file: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            file: file.into(),
            line: 0,
            column: 0,
            path: String::new(),
            message: message.into(),
            expected: None,
            found: None,
            hint: None,
        }
    }
    pub fn warning(file: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(file, message)
        }
    }
    pub fn at(mut self, line: usize, column: usize) -> Self {
        self.line = line;
        self.column = column;
        self
    }
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }
    pub fn expected(mut self, expected: impl Into<String>) -> Self {
        self.expected = Some(expected.into());
        self
    }
    pub fn found(mut self, found: impl Into<String>) -> Self {
        self.found = Some(found.into());
        self
    }
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `file:line:col`, or just the file when there is no position.
    pub fn location(&self) -> String {
        if self.line == 0 {
            self.file.clone()
        } else {
            format!("{}:{}:{}", self.file, self.line, self.column)
        }
    }
}

/// Sorts diagnostics by file, position and message, so output never
/// depends on the order checks ran in.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        (&a.file, a.line, a.column, &a.path, &a.message)
            .cmp(&(&b.file, b.line, b.column, &b.path, &b.message))
    });
}

/// Source texts by file, for excerpts. Shared (`Arc`) with the loaded
/// documents, which re-read a text for positions only when a diagnostic
/// needs one.
pub type Sources = BTreeMap<String, std::sync::Arc<str>>;

/// Renders diagnostics as text, `rustc`-style, with a source excerpt.
pub fn render_text(diagnostics: &[Diagnostic], sources: &Sources, colour: bool) -> String {
    let paint = |code: &str, text: &str| {
        if colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    };
    let mut out = String::new();
    for diagnostic in diagnostics
        .iter()
        .take(crate::limits::MAX_PRINTED_DIAGNOSTICS)
    {
        let label = match diagnostic.severity {
            Severity::Error => paint("1;31", "error"),
            Severity::Warning => paint("1;33", "warning"),
        };
        let path = if diagnostic.path.is_empty() {
            String::new()
        } else {
            format!("{}: ", diagnostic.path)
        };
        let _ = writeln!(
            out,
            "{label}: {}: {path}{}",
            escape_controls(&diagnostic.location()),
            escape_controls(&diagnostic.message)
        );
        let excerpt = sources
            .get(&diagnostic.file)
            .and_then(|text| text.lines().nth(diagnostic.line.checked_sub(1)?));
        let gutter = diagnostic.line.to_string().len();
        if let Some(line) = excerpt {
            let (line, caret_at) = excerpt_window(line, diagnostic.column);
            let _ = writeln!(out, "{:gutter$} |", "");
            let _ = writeln!(
                out,
                "{} | {line}",
                paint("1;34", &diagnostic.line.to_string())
            );
            let _ = writeln!(
                out,
                "{:gutter$} | {}{}",
                "",
                " ".repeat(caret_at),
                paint("1;31", "^")
            );
        }
        for (name, value) in [
            ("expected", &diagnostic.expected),
            ("found", &diagnostic.found),
            ("hint", &diagnostic.hint),
        ] {
            if let Some(value) = value {
                let _ = writeln!(out, "{:gutter$} = {name}: {}", "", escape_controls(value));
            }
        }
    }
    let hidden = diagnostics
        .len()
        .saturating_sub(crate::limits::MAX_PRINTED_DIAGNOSTICS);
    if hidden > 0 {
        let _ = writeln!(
            out,
            "... and {hidden} more (only the first {} are shown; `--format json` lists them all)",
            crate::limits::MAX_PRINTED_DIAGNOSTICS
        );
    }
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    if errors > 0 || warnings > 0 {
        let _ = writeln!(out, "{}", summary(errors, warnings));
    }
    out
}

/// A file name, message or value with its control characters written as
/// escapes (`\n`, `\u{1b}`): one diagnostic stays one line, and a file
/// name cannot send escape sequences to the reader's terminal.
pub fn escape_controls(text: &str) -> String {
    // U+2028/U+2029 end lines in JavaScript and some editors.
    let breaks = |c: char| c.is_control() || c == '\u{2028}' || c == '\u{2029}';
    if !text.chars().any(breaks) {
        return text.to_string();
    }
    text.chars()
        .map(|c| {
            if breaks(c) {
                c.escape_default().collect()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// How many characters of a source line an excerpt shows at most: a long
/// line (minified JSON, a huge string) is cut around the column.
pub const EXCERPT_WIDTH: usize = 100;

/// The printable part of `line` around the 1-based `column`, at most
/// [`EXCERPT_WIDTH`] characters plus `…` marks where it was cut, and the
/// caret's offset in it.
fn excerpt_window(line: &str, column: usize) -> (String, usize) {
    let chars: Vec<char> = printable(line).chars().collect();
    let column = column.saturating_sub(1).min(chars.len());
    if chars.len() <= EXCERPT_WIDTH {
        return (chars.into_iter().collect(), column);
    }
    let start = column
        .saturating_sub(EXCERPT_WIDTH / 2)
        .min(chars.len() - EXCERPT_WIDTH);
    let end = start + EXCERPT_WIDTH;
    let mut shown = String::new();
    let mut caret_at = column - start;
    if start > 0 {
        shown.push('…');
        caret_at += 1;
    }
    shown.extend(chars.get(start..end).unwrap_or_default());
    if end < chars.len() {
        shown.push('…');
    }
    (shown, caret_at)
}

/// A source line as it may be shown on a terminal: tabs become spaces and
/// other control characters `?`, so a manifest cannot send escape
/// sequences to the reader's terminal (or shift the caret).
fn printable(line: &str) -> String {
    line.chars()
        .map(|c| match c {
            '\t' => ' ',
            c if c.is_control() => '?',
            c => c,
        })
        .collect()
}

fn summary(errors: usize, warnings: usize) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    match (errors, warnings) {
        (0, w) => plural(w, "warning"),
        (e, 0) => plural(e, "error"),
        (e, w) => format!("{}, {}", plural(e, "error"), plural(w, "warning")),
    }
}

/// What `obsgen validate --format json` prints on stdout, valid or not:
/// one document, like linters' JSON reports. Its JSON Schema is committed
/// as `schema/validate-report.schema.json`.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ValidationReport {
    /// True when there is no error (warnings allowed).
    pub valid: bool,
    pub errors: usize,
    pub warnings: usize,
    /// Service manifests validated; 0 when the repository is invalid.
    pub services: usize,
    /// Every diagnostic, sorted by file, line and column; empty when clean.
    pub diagnostics: Vec<Diagnostic>,
}

impl ValidationReport {
    pub fn new(diagnostics: &[Diagnostic], services: usize) -> Self {
        let errors = diagnostics.iter().filter(|d| d.is_error()).count();
        Self {
            valid: errors == 0,
            errors,
            warnings: diagnostics.len() - errors,
            services,
            diagnostics: diagnostics.to_vec(),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".to_string()) + "\n"
    }

    /// The JSON Schema of the report.
    pub fn schema_text() -> String {
        let mut value = schemars::schema_for!(ValidationReport).to_value();
        if let Some(object) = value.as_object_mut() {
            object.insert(
                "$id".to_string(),
                serde_json::Value::String(
                    "https://obsgen.dev/schema/v1/validate-report.schema.json".to_string(),
                ),
            );
        }
        serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
    }
}

/// One line for warnings nobody asked to see in full (`obsgen check` when
/// the output is up to date).
pub fn warnings_summary(diagnostics: &[Diagnostic]) -> Option<String> {
    let warnings = diagnostics.iter().filter(|d| !d.is_error()).count();
    (warnings > 0).then(|| {
        format!(
            "{}; `obsgen validate` (or `obsgen check --verbose`) shows them",
            summary(0, warnings)
        )
    })
}

/// Renders diagnostics as a JSON array.
pub fn render_json(diagnostics: &[Diagnostic]) -> String {
    serde_json::to_string_pretty(diagnostics).unwrap_or_else(|_| "[]".to_string()) + "\n"
}

/// The closest candidate to `word` by edit distance, for "did you mean" hints.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|candidate| (edit_distance(word, candidate), candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min()
        .map(|(_, candidate)| candidate)
}

fn edit_distance(a: &str, b: &str) -> usize {
    // Levenshtein, one row at a time: `row[j]` is the distance between the
    // prefix of `a` read so far and the first `j` characters of `b`.
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut next = Vec::with_capacity(row.len());
        next.push(i + 1);
        for ((cb, diagonal), above) in b.iter().zip(&row).zip(row.iter().skip(1)) {
            let left = next.last().copied().unwrap_or(i + 1);
            next.push(
                (diagonal + usize::from(ca != *cb))
                    .min(above + 1)
                    .min(left + 1),
            );
        }
        row = next;
    }
    row.last().copied().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_rendering_points_at_the_column() {
        let mut sources = Sources::new();
        sources.insert("s.yaml".into(), "a: 1\nobjective: 120\n".into());
        let diagnostic = Diagnostic::error("s.yaml", "out of range")
            .at(2, 12)
            .path("spec.slos[0].objective")
            .expected("a percentage between 0 and 100")
            .found("120")
            .hint("write 99.9 for three nines");
        let text = render_text(&[diagnostic], &sources, false);
        assert_eq!(
            text,
            "error: s.yaml:2:12: spec.slos[0].objective: out of range\n  |\n2 | objective: 120\n  |            ^\n  = expected: a percentage between 0 and 100\n  = found: 120\n  = hint: write 99.9 for three nines\n1 error\n"
        );
    }

    #[test]
    fn excerpts_cannot_drive_the_terminal() {
        let mut sources = Sources::new();
        sources.insert("s.yaml".into(), "a: \"\x1b[2J\"\tb\n".into());
        let diagnostic = Diagnostic::error("s.yaml", "bad").at(1, 4);
        let text = render_text(&[diagnostic], &sources, false);
        assert!(!text.contains('\x1b'), "{text:?}");
        assert!(text.contains("1 | a: \"?[2J\" b\n"), "{text:?}");
    }

    #[test]
    fn control_characters_in_names_and_messages_are_escaped() {
        let diagnostic = Diagnostic::error("services/a\nerror: fake.yaml", "bad \x1b[2J")
            .found("x\ry")
            .at(1, 1);
        let text = render_text(&[diagnostic], &Sources::new(), false);
        assert_eq!(
            text,
            "error: services/a\\nerror: fake.yaml:1:1: bad \\u{1b}[2J\n  = found: x\\ry\n1 error\n"
        );
    }

    #[test]
    fn the_number_of_printed_diagnostics_is_capped() {
        let limit = crate::limits::MAX_PRINTED_DIAGNOSTICS;
        let many: Vec<Diagnostic> = (0..limit + 7)
            .map(|i| Diagnostic::error(format!("s{i}.yaml"), "bad"))
            .collect();
        let text = render_text(&many, &Sources::new(), false);
        assert_eq!(text.matches(": bad").count(), limit);
        assert!(text.contains("\n... and 7 more ("), "{text}");
        assert!(
            text.ends_with(&format!("\n{} errors\n", limit + 7)),
            "{text}"
        );
    }

    #[test]
    fn long_lines_are_cut_around_the_column() {
        // A minified manifest: one line of 200,000 characters, the mistake
        // far past column 65,535 (where a format width used to panic).
        let line: String = (0..200_000)
            .map(|i| if i == 150_000 { 'X' } else { 'a' })
            .collect();
        let mut sources = Sources::new();
        sources.insert("s.json".into(), format!("{line}\n").into());
        let diagnostic = Diagnostic::error("s.json", "bad").at(1, 150_001);
        let text = render_text(&[diagnostic], &sources, false);
        assert!(text.len() < 1_000, "the whole line was echoed");
        let lines: Vec<&str> = text.lines().collect();
        let excerpt = lines[2].strip_prefix("1 | ").unwrap();
        let caret = lines[3].strip_prefix("  | ").unwrap();
        assert!(
            excerpt.starts_with('…') && excerpt.ends_with('…'),
            "{excerpt}"
        );
        let caret_at = caret.chars().count() - 1;
        assert_eq!(excerpt.chars().nth(caret_at), Some('X'), "{text}");

        // Near the start and past the end of a long line.
        for (column, expected) in [(1, 'a'), (200_001, '…')] {
            let diagnostic = Diagnostic::error("s.json", "bad").at(1, column);
            let text = render_text(&[diagnostic], &sources, false);
            let lines: Vec<&str> = text.lines().collect();
            let excerpt = lines[2].strip_prefix("1 | ").unwrap();
            let caret_at = lines[3].strip_prefix("  | ").unwrap().chars().count() - 1;
            assert!(excerpt.chars().count() <= EXCERPT_WIDTH + 2, "{excerpt}");
            assert_eq!(
                excerpt.chars().nth(caret_at).unwrap_or('…'),
                expected,
                "{text}"
            );
        }
    }

    #[test]
    fn closest_suggests_near_misses_only() {
        assert_eq!(
            closest("paymnets", ["payments", "search"]),
            Some("payments")
        );
        assert_eq!(closest("zzz", ["payments", "search"]), None);
    }
}
