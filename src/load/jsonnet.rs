//! Jsonnet manifests: evaluated by rsjsonnet (pure Rust), with the
//! repository's `library/` on the import path so manifests can share
//! helpers.
//!
//! Evaluation errors become diagnostics that point into the Jsonnet file
//! (or the imported file) where they happened. The evaluated JSON has no
//! positions of its own, so later diagnostics about a Jsonnet manifest
//! name the field path and the file but point at its first line.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rsjsonnet_lang::arena::Arena;
use rsjsonnet_lang::interner::InternedStr;
use rsjsonnet_lang::program::{
    Callbacks, EvalError, EvalErrorKind, EvalStackTraceItem, ImportError, LoadError, NativeError,
    Program, Thunk, Value,
};
use rsjsonnet_lang::span::{SourceId, SpanContext, SpanId};
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

use super::Position;
use crate::limits::{
    JSONNET_MAX_IMPORT_BYTES, JSONNET_MAX_MEMORY_BYTES, JSONNET_MAX_STACK, JSONNET_TIMEOUT,
    MAX_INPUT_BYTES,
};

/// An evaluation failure, located in a file (which may be an import).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonnetError {
    pub file: PathBuf,
    pub position: Position,
    pub message: String,
}

/// Evaluates the Jsonnet file at `path` to JSON.
///
/// Imports resolve against the importing file's folder, then
/// `search_paths`, then the `embedded` files (name, text), so a
/// repository's own `library/` overrides the library shipped in the
/// binary. A file found on disk is read only if, symlinks resolved, it is a
/// regular file inside `root` or one of `search_paths`: an absolute path,
/// a `..` escape or a link out of the repository is an error naming the
/// import.
///
/// Evaluation runs on a worker thread under the limits of
/// [`crate::limits`]: past [`JSONNET_TIMEOUT`] the manifest fails with an
/// error (the thread cannot be stopped, so it is left to end with the
/// process); past [`JSONNET_MAX_MEMORY_BYTES`] of growth obsgen exits at
/// once with an error line, before the allocator would abort it.
pub fn evaluate(
    path: &Path,
    root: &Path,
    search_paths: &[PathBuf],
    embedded: &'static [(&'static str, &'static str)],
) -> Result<serde_json::Value, JsonnetError> {
    evaluate_within(path, root, search_paths, embedded, JSONNET_TIMEOUT)
}

/// [`evaluate`] with another time limit (tests use a short one).
fn evaluate_within(
    path: &Path,
    root: &Path,
    search_paths: &[PathBuf],
    embedded: &'static [(&'static str, &'static str)],
    timeout: Duration,
) -> Result<serde_json::Value, JsonnetError> {
    let (sender, receiver) = std::sync::mpsc::channel();
    let job = {
        let path = path.to_path_buf();
        let mut allowed: Vec<PathBuf> = std::iter::once(root)
            .chain(search_paths.iter().map(PathBuf::as_path))
            .filter_map(|dir| dir.canonicalize().ok())
            .collect();
        allowed.dedup();
        let search_paths = search_paths.to_vec();
        move || {
            let result = evaluate_here(&path, &allowed, &search_paths, embedded);
            let _ = sender.send(result);
        }
    };
    let spawned = std::thread::Builder::new()
        .name("jsonnet".into())
        .stack_size(JSONNET_THREAD_STACK)
        .spawn(job);
    let Ok(evaluator) = spawned else {
        return Err(JsonnetError {
            file: path.to_path_buf(),
            position: Position { line: 1, column: 1 },
            message: "could not start a thread to evaluate the manifest".into(),
        });
    };
    // The evaluator is joined once it has answered, and never detached:
    // glibc's `pthread_detach` of a thread that is exiting at that moment
    // can read the thread's stack after another thread has unmapped it
    // (these 64 MiB stacks are larger than glibc's stack cache, so they
    // are unmapped as soon as they are freed), which crashed a benchmark
    // build with SIGSEGV. Dropping a `JoinHandle` detaches; joining does
    // not race.
    let started = Instant::now();
    let baseline = resident_bytes();
    loop {
        match receiver.recv_timeout(WATCH_INTERVAL) {
            Ok(result) => {
                let _ = evaluator.join();
                return result;
            }
            Err(RecvTimeoutError::Disconnected) => {
                let _ = evaluator.join();
                return Err(JsonnetError {
                    file: path.to_path_buf(),
                    position: Position { line: 1, column: 1 },
                    message: "the Jsonnet evaluator stopped unexpectedly".into(),
                });
            }
            Err(RecvTimeoutError::Timeout) => {}
        }
        if started.elapsed() > timeout {
            // It cannot be interrupted, and is not waited for: it runs on
            // until it ends or the process does, its handle forgotten
            // (not dropped, which would detach it).
            std::mem::forget(evaluator);
            return Err(JsonnetError {
                file: path.to_path_buf(),
                position: Position { line: 1, column: 1 },
                message: format!(
                    "the manifest took longer than {} ms to evaluate; obsgen stopped waiting (see docs/limits.md)",
                    timeout.as_millis()
                ),
            });
        }
        if let (Some(before), Some(now)) = (baseline, resident_bytes())
            && now.saturating_sub(before) > JSONNET_MAX_MEMORY_BYTES
        {
            // The evaluator cannot be interrupted and the next allocation
            // failure would abort the process: stop now, with words.
            eprintln!(
                "error: {}: evaluating this Jsonnet manifest used more than {} MiB of memory; obsgen stopped (see docs/limits.md)",
                crate::diagnostics::escape_controls(
                    &path
                        .strip_prefix(root)
                        .unwrap_or(path)
                        .display()
                        .to_string()
                ),
                JSONNET_MAX_MEMORY_BYTES / (1024 * 1024)
            );
            std::process::exit(i32::from(crate::cli::exit::INVALID));
        }
    }
}

/// How often the waiting thread checks the clock and the memory.
const WATCH_INTERVAL: Duration = Duration::from_millis(5);

/// The evaluator thread's stack: rsjsonnet keeps Jsonnet's own stack on
/// the heap, but manifesting and parsing recurse natively.
const JSONNET_THREAD_STACK: usize = 64 * 1024 * 1024;

/// The process's resident memory, from `/proc/self/statm` (Linux); `None`
/// elsewhere, where only the time limit applies.
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn evaluate_here(
    path: &Path,
    allowed: &[PathBuf],
    search_paths: &[PathBuf],
    embedded: &[(&str, &str)],
) -> Result<serde_json::Value, JsonnetError> {
    let arena = Arena::new();
    let mut program = Program::new(&arena);
    program.set_max_stack(JSONNET_MAX_STACK);
    let mut loader = Loader {
        sources: HashMap::new(),
        cache: HashMap::new(),
        allowed,
        search_paths,
        embedded,
        last_error: None,
    };
    let thunk = loader.load(&mut program, path).map_err(|error| {
        loader.last_error.take().unwrap_or(JsonnetError {
            file: path.to_path_buf(),
            position: Position { line: 1, column: 1 },
            message: error,
        })
    })?;
    let value = program
        .eval_value(&thunk, &mut loader)
        .map_err(|error| loader.eval_error(&program, path, &error))?;
    let json = program
        .manifest_json(&value, false)
        .map_err(|error| loader.eval_error(&program, path, &error))?;
    serde_json::from_str(&json).map_err(|error| JsonnetError {
        file: path.to_path_buf(),
        position: Position { line: 1, column: 1 },
        message: format!("the manifest did not evaluate to JSON: {error}"),
    })
}

struct Loader<'p, 's> {
    sources: HashMap<SourceId, (PathBuf, Vec<u8>)>,
    cache: HashMap<PathBuf, Thunk<'p>>,
    /// Canonical folders imports may read from (the repository, the library).
    allowed: &'s [PathBuf],
    search_paths: &'s [PathBuf],
    embedded: &'s [(&'s str, &'s str)],
    /// Load errors inside imports are reported here, since the import
    /// callback can only return a unit error.
    last_error: Option<JsonnetError>,
}

impl<'p> Loader<'p, '_> {
    fn load(&mut self, program: &mut Program<'p>, path: &Path) -> Result<Thunk<'p>, String> {
        let key = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        if let Some(thunk) = self.cache.get(&key) {
            return Ok(thunk.clone());
        }
        let data = crate::limits::read_file(path, MAX_INPUT_BYTES)
            .map_err(|error| format!("reading `{}`: {error}", path.display()))?;
        self.load_data(program, path, key, data)
    }

    fn load_data(
        &mut self,
        program: &mut Program<'p>,
        path: &Path,
        key: PathBuf,
        data: Vec<u8>,
    ) -> Result<Thunk<'p>, String> {
        let (span_ctx, source_id) = program.span_manager_mut().insert_source_context(data.len());
        self.sources
            .insert(source_id, (path.to_path_buf(), data.clone()));
        let this_file = path.display().to_string();
        match program.load_source(span_ctx, &data, true, &this_file) {
            Ok(thunk) => {
                self.cache.insert(key, thunk.clone());
                Ok(thunk)
            }
            Err(error) => {
                let (span, message) = describe_load_error(&error);
                self.last_error = Some(self.locate(program, span, message, path));
                Err("the Jsonnet file does not parse".into())
            }
        }
    }

    /// The file an import names: the first candidate that exists, in the
    /// importing file's folder, then the search paths. `Ok(None)` when none
    /// exists (the embedded library may still have it); `Err` with the
    /// reason when the import may not be read.
    fn resolve(
        &self,
        program: &Program<'p>,
        from: SpanId,
        path: &str,
    ) -> Result<Option<PathBuf>, String> {
        let requested = Path::new(path);
        if requested.is_absolute() {
            return Err(format!(
                "cannot import `{path}`: absolute paths are not allowed; imports are relative to the manifest or to `library/`"
            ));
        }
        let (context, _, _) = program.span_manager().get_span(from);
        let SpanContext::Source(source) = *program.span_manager().get_context(context);
        let importer_dir = self
            .sources
            .get(&source)
            .and_then(|(file, _)| file.parent().map(Path::to_path_buf));
        let candidate = importer_dir
            .into_iter()
            .chain(self.search_paths.iter().cloned())
            .map(|dir| dir.join(requested))
            .find(|candidate| candidate.symlink_metadata().is_ok());
        let Some(candidate) = candidate else {
            return Ok(None);
        };
        // Symlinks resolved, the file must still be inside the repository
        // (or the configured library): `..`, links out and `/proc` are not.
        let real = candidate
            .canonicalize()
            .map_err(|error| format!("cannot import `{path}`: {error}"))?;
        if !self.allowed.iter().any(|dir| real.starts_with(dir)) {
            return Err(format!(
                "cannot import `{path}`: it resolves outside the repository; obsgen reads only files inside it"
            ));
        }
        Ok(Some(real))
    }

    /// Records why an import failed, located at the import, for
    /// [`Self::eval_error`] (the callback can only return a unit error).
    fn import_failed(
        &mut self,
        program: &Program<'p>,
        from: SpanId,
        message: String,
    ) -> ImportError {
        let fallback = PathBuf::new();
        self.last_error = Some(self.locate(program, Some(from), message, &fallback));
        ImportError
    }

    /// Reads an `importstr`/`importbin` file: inside the repository, a
    /// regular file, capped in size (a FIFO or `/dev/zero` must not hang).
    fn read_import(
        &mut self,
        program: &Program<'p>,
        from: SpanId,
        path: &str,
    ) -> Result<Vec<u8>, ImportError> {
        match self.resolve(program, from, path) {
            Ok(Some(found)) => {
                crate::limits::read_file(&found, JSONNET_MAX_IMPORT_BYTES).map_err(|error| {
                    self.import_failed(program, from, format!("cannot import `{path}`: {error}"))
                })
            }
            Ok(None) => Err(self.import_failed(
                program,
                from,
                format!("cannot import `{path}`: not found next to the file or in `library/`"),
            )),
            Err(message) => Err(self.import_failed(program, from, message)),
        }
    }

    fn locate(
        &self,
        program: &Program<'p>,
        span: Option<SpanId>,
        message: String,
        fallback: &Path,
    ) -> JsonnetError {
        if let Some(span) = span {
            let (context, start, _) = program.span_manager().get_span(span);
            let SpanContext::Source(source) = *program.span_manager().get_context(context);
            if let Some((file, data)) = self.sources.get(&source) {
                return JsonnetError {
                    file: file.clone(),
                    position: position_at(data, start),
                    message,
                };
            }
        }
        JsonnetError {
            file: fallback.to_path_buf(),
            position: Position { line: 1, column: 1 },
            message,
        }
    }

    fn eval_error(
        &mut self,
        program: &Program<'p>,
        path: &Path,
        error: &EvalError,
    ) -> JsonnetError {
        if let Some(inner) = self.last_error.take() {
            return inner;
        }
        let (span, message) = describe_eval_error(&error.kind);
        // Prefer the error's own span; else the innermost place in the trace.
        let span = span.or_else(|| {
            error.stack_trace.iter().find_map(|item| match item {
                EvalStackTraceItem::Expr { span } => Some(*span),
                EvalStackTraceItem::Variable { span, .. } => Some(*span),
                EvalStackTraceItem::Call { span, .. } => *span,
                _ => None,
            })
        });
        self.locate(program, span, message, path)
    }
}

impl<'p> Callbacks<'p> for Loader<'p, '_> {
    fn import(
        &mut self,
        program: &mut Program<'p>,
        from: SpanId,
        path: &str,
    ) -> Result<Thunk<'p>, ImportError> {
        match self.resolve(program, from, path) {
            Ok(Some(found)) => {
                return self.load(program, &found).map_err(|error| {
                    if self.last_error.is_some() {
                        ImportError
                    } else {
                        self.import_failed(
                            program,
                            from,
                            format!("cannot import `{path}`: {error}"),
                        )
                    }
                });
            }
            Ok(None) => {}
            Err(message) => return Err(self.import_failed(program, from, message)),
        }
        let Some((name, text)) = self
            .embedded
            .iter()
            .find(|(name, _)| *name == path)
            .copied()
        else {
            return Err(self.import_failed(
                program,
                from,
                format!("cannot import `{path}`: not found next to the file or in `library/`"),
            ));
        };
        let key = PathBuf::from(format!("<obsgen>/{name}"));
        if let Some(thunk) = self.cache.get(&key) {
            return Ok(thunk.clone());
        }
        self.load_data(program, &key.clone(), key, text.as_bytes().to_vec())
            .map_err(|_| ImportError)
    }

    fn import_str(
        &mut self,
        program: &mut Program<'p>,
        from: SpanId,
        path: &str,
    ) -> Result<String, ImportError> {
        let bytes = self.read_import(program, from, path)?;
        String::from_utf8(bytes).map_err(|_| {
            self.import_failed(
                program,
                from,
                format!("cannot import `{path}`: it is not UTF-8 text"),
            )
        })
    }

    fn import_bin(
        &mut self,
        program: &mut Program<'p>,
        from: SpanId,
        path: &str,
    ) -> Result<Vec<u8>, ImportError> {
        self.read_import(program, from, path)
    }

    fn trace(&mut self, _: &mut Program<'p>, _: &str, _: &[EvalStackTraceItem]) {}

    fn native_call(
        &mut self,
        _: &mut Program<'p>,
        _: InternedStr<'p>,
        _: &[Value<'p>],
    ) -> Result<Value<'p>, NativeError> {
        Err(NativeError)
    }
}

fn describe_load_error(error: &LoadError) -> (Option<SpanId>, String) {
    use rsjsonnet_lang::parser::ParseError;
    use rsjsonnet_lang::program::AnalyzeError;
    // rsjsonnet's error types carry spans in every variant but offer no
    // `Display`: parse errors are worded here (they are the common case);
    // for the rest, their `Debug` names the problem well enough once the
    // span is shown separately.
    let (span, text) = match error {
        LoadError::Parse(ParseError::Expected {
            span,
            expected,
            instead,
        }) => {
            let expected: Vec<String> = expected.iter().map(expected_token).collect();
            let expected = match expected.split_last() {
                Some((last, [])) => last.clone(),
                Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
                None => "something else".to_string(),
            };
            (
                Some(*span),
                format!("expected {expected}, found {}", actual_token(instead)),
            )
        }
        LoadError::Lex(error) => (lex_span(error), tidy_debug(&format!("{error:?}"))),
        LoadError::Analyze(error) => {
            let span = match error {
                AnalyzeError::UnknownVariable { span, .. }
                | AnalyzeError::TextBlockAsImportPath { span }
                | AnalyzeError::ComputedImportPath { span } => Some(*span),
                AnalyzeError::SelfOutsideObject { self_span: span }
                | AnalyzeError::SuperOutsideObject { super_span: span }
                | AnalyzeError::DollarOutsideObject { dollar_span: span }
                | AnalyzeError::PositionalArgAfterNamed { arg_span: span }
                | AnalyzeError::RepeatedLocalName {
                    repeated_span: span,
                    ..
                }
                | AnalyzeError::RepeatedFieldName {
                    repeated_span: span,
                    ..
                }
                | AnalyzeError::RepeatedParamName {
                    repeated_span: span,
                    ..
                } => Some(*span),
            };
            (span, tidy_debug(&format!("{error:?}")))
        }
    };
    (span, format!("Jsonnet syntax error: {text}"))
}

fn lex_span(error: &rsjsonnet_lang::lexer::LexError) -> Option<SpanId> {
    use rsjsonnet_lang::lexer::LexError;
    match error {
        LexError::InvalidChar { span, .. }
        | LexError::InvalidUtf8 { span, .. }
        | LexError::UnfinishedMultilineComment { span }
        | LexError::LeadingZeroInNumber { span }
        | LexError::MissingFracDigits { span }
        | LexError::MissingExpDigits { span }
        | LexError::MissingDigitAfterUnderscore { span }
        | LexError::ExpOverflow { span }
        | LexError::InvalidEscapeInString { span, .. }
        | LexError::IncompleteUnicodeEscape { span }
        | LexError::InvalidUtf16EscapeSequence { span, .. }
        | LexError::UnfinishedString { span }
        | LexError::MissingLineBreakAfterTextBlockStart { span }
        | LexError::MissingWhitespaceTextBlockStart { span }
        | LexError::InvalidTextBlockTermination { span } => Some(*span),
    }
}

fn expected_token(token: &rsjsonnet_lang::parser::ExpectedToken) -> String {
    use rsjsonnet_lang::parser::ExpectedToken;
    match token {
        ExpectedToken::EndOfFile => "the end of the file".into(),
        ExpectedToken::Simple(kind) => format!("`{}`", simple_token(*kind)),
        ExpectedToken::Ident => "a name".into(),
        ExpectedToken::Number => "a number".into(),
        ExpectedToken::String => "a string".into(),
        ExpectedToken::TextBlock => "a text block".into(),
        ExpectedToken::Expr => "an expression".into(),
        ExpectedToken::BinaryOp => "an operator".into(),
    }
}

fn actual_token(token: &rsjsonnet_lang::parser::ActualToken) -> String {
    use rsjsonnet_lang::parser::ActualToken;
    match token {
        ActualToken::EndOfFile => "the end of the file".into(),
        ActualToken::Simple(kind) => format!("`{}`", simple_token(*kind)),
        ActualToken::OtherOp(op) => format!("`{op}`"),
        ActualToken::Ident(name) => format!("`{name}`"),
        ActualToken::Number => "a number".into(),
        ActualToken::String => "a string".into(),
        ActualToken::TextBlock => "a text block".into(),
    }
}

/// Jsonnet's keywords and punctuation as written.
fn simple_token(kind: rsjsonnet_lang::token::STokenKind) -> &'static str {
    use rsjsonnet_lang::token::STokenKind as T;
    match kind {
        T::Assert => "assert",
        T::Else => "else",
        T::Error => "error",
        T::False => "false",
        T::For => "for",
        T::Function => "function",
        T::If => "if",
        T::Import => "import",
        T::Importstr => "importstr",
        T::Importbin => "importbin",
        T::In => "in",
        T::Local => "local",
        T::Null => "null",
        T::Tailstrict => "tailstrict",
        T::Then => "then",
        T::Self_ => "self",
        T::Super => "super",
        T::True => "true",
        T::Exclam => "!",
        T::ExclamEq => "!=",
        T::Dollar => "$",
        T::Percent => "%",
        T::Amp => "&",
        T::AmpAmp => "&&",
        T::LeftParen => "(",
        T::RightParen => ")",
        T::Asterisk => "*",
        T::Plus => "+",
        T::PlusColon => "+:",
        T::PlusColonColon => "+::",
        T::PlusColonColonColon => "+:::",
        T::Comma => ",",
        T::Minus => "-",
        T::Dot => ".",
        T::Slash => "/",
        T::Colon => ":",
        T::ColonColon => "::",
        T::ColonColonColon => ":::",
        T::Semicolon => ";",
        T::Lt => "<",
        T::LtLt => "<<",
        T::LtEq => "<=",
        T::Eq => "=",
        T::EqEq => "==",
        T::Gt => ">",
        T::GtEq => ">=",
        T::GtGt => ">>",
        T::LeftBracket => "[",
        T::RightBracket => "]",
        T::Hat => "^",
        T::LeftBrace => "{",
        T::Pipe => "|",
        T::PipePipe => "||",
        T::RightBrace => "}",
        T::Tilde => "~",
    }
}

fn describe_eval_error(kind: &EvalErrorKind) -> (Option<SpanId>, String) {
    match kind {
        EvalErrorKind::ExplicitError { span, message } => (Some(*span), message.clone()),
        EvalErrorKind::AssertFailed { span, message } => (
            Some(*span),
            message.clone().map_or_else(
                || "assertion failed".to_string(),
                |m| format!("assertion failed: {m}"),
            ),
        ),
        EvalErrorKind::ImportFailed { span, path } => (
            Some(*span),
            format!("cannot import `{path}`: not found next to the file or in `library/`"),
        ),
        EvalErrorKind::StackOverflow | EvalErrorKind::InfiniteRecursion => {
            (None, "the manifest recurses too deeply".to_string())
        }
        other => (None, tidy_debug(&format!("{other:?}"))),
    }
}

/// Turns `UnknownObjectField { span: SpanId(..), field_name: "x" }` into
/// `unknown object field (field_name: "x")`: readable, without internal ids.
fn tidy_debug(text: &str) -> String {
    let (name, rest) = text.split_once([' ', '(']).unwrap_or((text, ""));
    let mut words = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            words.push(' ');
        }
        words.extend(c.to_lowercase());
    }
    let details: Vec<&str> = rest
        .trim_matches(|c| c == '{' || c == '}' || c == '(' || c == ')' || c == ' ')
        .split(", ")
        .filter(|part| !part.is_empty() && !part.contains("SpanId") && !part.starts_with("span"))
        .collect();
    if details.is_empty() {
        words
    } else {
        format!("{words} ({})", details.join(", "))
    }
}

/// The 1-based line and column (in characters) of a byte offset.
pub fn position_at(data: &[u8], offset: usize) -> Position {
    let offset = offset.min(data.len());
    let before = data.get(..offset).unwrap_or(data);
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(before.get(line_start..).unwrap_or_default())
        .chars()
        .count()
        + 1;
    Position { line, column }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_in(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// A file in a fresh test folder; the folder goes when the first value
    /// is dropped.
    fn file(name: &str, text: &str) -> (crate::output::TestDir, PathBuf) {
        let dir = crate::output::test_dir();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn evaluates_with_library_imports() {
        let library = crate::output::test_dir();
        std::fs::write(
            library.join("lib.libsonnet"),
            "{ svc(name):: { name: name, n: 1 + 1 } }",
        )
        .unwrap();
        let (_dir, path) = file(
            "a.jsonnet",
            "local lib = import 'lib.libsonnet'; lib.svc('x')",
        );
        let root = path.parent().unwrap().to_path_buf();
        let value = evaluate(&path, &root, &[library.to_path_buf()], &[]).unwrap();
        assert_eq!(value, serde_json::json!({"name": "x", "n": 2}));
    }

    #[test]
    fn errors_point_at_the_place() {
        let (_dir, path) = file("b.jsonnet", "{\n  a: error 'boom',\n}");
        let error = evaluate(&path, path.parent().unwrap(), &[], &[]).unwrap_err();
        assert_eq!(error.message, "boom");
        assert_eq!(error.position.line, 2);

        let (_dir, path) = file("c.jsonnet", "{ a: }");
        let error = evaluate(&path, path.parent().unwrap(), &[], &[]).unwrap_err();
        assert!(
            error.message.starts_with("Jsonnet syntax error"),
            "{}",
            error.message
        );

        let (_dir, path) = file("d.jsonnet", "local f(x) = f(x + 1); f(0)");
        assert!(evaluate(&path, path.parent().unwrap(), &[], &[]).is_err());

        let (_dir, path) = file("e.jsonnet", "import 'missing.libsonnet'");
        let error = evaluate(&path, path.parent().unwrap(), &[], &[]).unwrap_err();
        assert!(
            error.message.contains("missing.libsonnet"),
            "{}",
            error.message
        );
    }

    #[test]
    fn embedded_library_is_the_last_resort() {
        let (_dir, path) = file("f.jsonnet", "(import 'e.libsonnet').x");
        assert_eq!(
            evaluate(
                &path,
                path.parent().unwrap(),
                &[],
                &[("e.libsonnet", "{x: 7}")]
            )
            .unwrap(),
            serde_json::json!(7)
        );
    }

    /// A repository with a manifest importing `import`, and a secret file
    /// beside the repository; the result of evaluating the manifest.
    fn import_from_repository(kind: &str, import: &str) -> Result<serde_json::Value, JsonnetError> {
        let outside = crate::output::test_dir();
        std::fs::write(outside.join("secret.txt"), "secret").unwrap();
        let root = outside.join("repo");
        std::fs::create_dir_all(root.join("services")).unwrap();
        std::fs::create_dir_all(root.join("library")).unwrap();
        std::fs::write(root.join("library/ok.txt"), "fine").unwrap();
        std::os::unix::fs::symlink(outside.join("secret.txt"), root.join("services/link.txt"))
            .unwrap();
        let path = root.join("services/a.jsonnet");
        std::fs::write(&path, format!("{{ x: {kind} '{import}' }}")).unwrap();
        evaluate(&path, &root, &[root.join("library")], &[])
    }

    #[test]
    fn imports_stay_inside_the_repository() {
        assert_eq!(
            import_from_repository("importstr", "ok.txt").unwrap(),
            serde_json::json!({"x": "fine"})
        );
        assert_eq!(
            import_from_repository("importstr", "../library/ok.txt").unwrap(),
            serde_json::json!({"x": "fine"})
        );
        for (kind, import, reason) in [
            ("importstr", "../../secret.txt", "outside the repository"),
            ("importstr", "link.txt", "outside the repository"),
            ("importbin", "link.txt", "outside the repository"),
            ("import", "link.txt", "outside the repository"),
            (
                "importstr",
                "/proc/self/environ",
                "absolute paths are not allowed",
            ),
            ("importstr", "/etc/passwd", "absolute paths are not allowed"),
            (
                "importstr",
                "../../../../../../../../proc/self/environ",
                "outside the repository",
            ),
        ] {
            let error = import_from_repository(kind, import).unwrap_err();
            assert!(
                error.message.contains(&format!("`{import}`")) && error.message.contains(reason),
                "{kind} {import}: {}",
                error.message
            );
            assert_eq!(error.position.line, 1, "{kind} {import}");
            assert!(
                error.file.ends_with("services/a.jsonnet"),
                "{:?}",
                error.file
            );
        }
    }

    #[test]
    fn importstr_of_a_fifo_or_device_does_not_hang() {
        let dir = crate::output::test_dir();
        let status = std::process::Command::new("mkfifo")
            .arg(dir.join("pipe"))
            .status()
            .unwrap();
        assert!(status.success());
        std::os::unix::fs::symlink("/dev/zero", dir.join("zero")).unwrap();
        for (name, expected) in [("pipe", "a FIFO"), ("zero", "outside the repository")] {
            let path = file_in(&dir, "g.jsonnet", &format!("importstr '{name}'"));
            let error = evaluate(&path, &dir, &[], &[]).unwrap_err();
            assert!(
                error.message.contains(expected),
                "{name}: {}",
                error.message
            );
        }
    }

    #[test]
    fn slow_evaluation_is_stopped_by_the_time_limit() {
        // Quadratic work that would take minutes.
        let (_dir, path) = file(
            "slow.jsonnet",
            "std.foldl(function(acc, i) acc + std.foldl(function(a, b) a + b, std.range(0, 100000), 0), std.range(0, 100000), 0)",
        );
        let started = Instant::now();
        let error = evaluate_within(
            &path,
            path.parent().unwrap(),
            &[],
            &[],
            Duration::from_millis(300),
        )
        .unwrap_err();
        assert!(
            error.message.contains("took longer than 300 ms"),
            "{}",
            error.message
        );
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    /// Many evaluations at once on every core, each ending as its caller
    /// takes the answer: the evaluator threads are joined, never detached
    /// while they exit (a detach racing a thread's exit crashed a build
    /// with SIGSEGV inside glibc; see `evaluate_within`).
    #[test]
    fn evaluations_on_every_core_end_cleanly() {
        let (_dir, path) = file("tiny.jsonnet", "{ n: 1 + 1 }");
        let root = path.parent().unwrap().to_path_buf();
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for _ in 0..100 {
                        let value = evaluate(&path, &root, &[], &[]).unwrap();
                        assert_eq!(value, serde_json::json!({"n": 2}));
                    }
                });
            }
        });
    }
}
