//! Loading: from files on disk to JSON values with source positions.
//!
//! `obsgen.yaml` is read first (it may move the service manifests); then
//! every file under the services glob, in sorted order so that results never
//! depend on the file system. YAML goes through [`yaml`], Jsonnet through
//! [`jsonnet`]. Problems with a file become diagnostics and loading goes on,
//! so one run reports every broken file.

pub mod jsonnet;
pub mod yaml;
mod yaml_lines;
mod yaml_subset;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use globset::{Glob, GlobMatcher};
use serde_json::Value;

use crate::diagnostics::{Diagnostic, Sources};
use crate::limits::{MAX_INPUT_BYTES, ReadError};
use crate::model::build::DEFAULT_SERVICES_GLOB;

/// The platform configuration's file name, at the root.
pub const PLATFORM_FILE: &str = "obsgen.yaml";
/// The Jsonnet library folder, at the root; on every manifest's import path.
pub const LIBRARY_DIR: &str = "library";

/// The Jsonnet library shipped in the binary (`library/` of this
/// repository); a repository's own `library/` files take precedence.
pub const EMBEDDED_LIBRARY: &[(&str, &str)] = &[(
    "obsgen.libsonnet",
    include_str!("../../library/obsgen.libsonnet"),
)];

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// Where each node of a document is: by JSON pointer, the value's position
/// and (for object members) the key's.
///
/// Built only when a diagnostic first asks for a position, by parsing the
/// YAML text once more: most manifests have none, and holding an index of
/// every node of every manifest cost a third of the memory of validating
/// 10,000 services. Documents without a text (Jsonnet, evaluated) point at
/// their first line.
#[derive(Debug, Clone, Default)]
pub struct Positions {
    text: Option<Arc<str>>,
    index: Arc<OnceLock<PositionIndex>>,
}

/// Every node's position, by JSON pointer.
#[derive(Debug, Clone, Default)]
pub struct PositionIndex {
    pub values: HashMap<String, Position>,
    pub keys: HashMap<String, Position>,
}

impl Positions {
    /// The positions of the nodes of the YAML document `text`.
    pub fn of_yaml(text: Arc<str>) -> Self {
        Self {
            text: Some(text),
            index: Arc::default(),
        }
    }

    fn index(&self) -> &PositionIndex {
        self.index.get_or_init(|| {
            self.text
                .as_deref()
                .and_then(|text| yaml::position_index(text).ok())
                .unwrap_or_default()
        })
    }

    /// The position of the value at `pointer`, or of its nearest ancestor
    /// that has one (a missing field is reported at its parent object).
    pub fn value(&self, pointer: &str) -> Position {
        self.lookup(&self.index().values, pointer)
    }

    /// The position of the key at `pointer` (falling back to the value).
    pub fn key(&self, pointer: &str) -> Position {
        self.index()
            .keys
            .get(pointer)
            .copied()
            .unwrap_or_else(|| self.value(pointer))
    }

    fn lookup(&self, map: &HashMap<String, Position>, pointer: &str) -> Position {
        let mut current = pointer;
        loop {
            if let Some(position) = map.get(current) {
                return *position;
            }
            match current.rfind('/') {
                Some(index) => current = &current[..index],
                None => return Position { line: 1, column: 1 },
            }
        }
    }
}

/// One loaded document.
#[derive(Debug, Clone)]
pub struct Document {
    /// Relative to the root, `/`-separated.
    pub source: String,
    pub value: Value,
    pub positions: Positions,
}

/// Everything loaded from a repository.
#[derive(Debug, Default)]
pub struct Loaded {
    pub platform: Option<Document>,
    /// The platform's dashboard library (`<grafana.library>/dashboards.jsonnet`),
    /// evaluated, when the platform names one.
    pub dashboard_library: Option<Document>,
    /// The platform's template overrides (`<templates>/logstash/*.j2`), by
    /// path under the templates folder (`logstash/service.conf.j2`).
    pub templates: std::collections::BTreeMap<String, String>,
    pub services: Vec<Document>,
    pub diagnostics: Vec<Diagnostic>,
    pub sources: Sources,
}

/// Problems that stop loading altogether: they are about the invocation,
/// not about a manifest (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(
        "no `{PLATFORM_FILE}` in `{root}`; run `obsgen init` there, or pass `--root` pointing at the repository"
    )]
    NoPlatform { root: String },
    #[error("reading `{path}`: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Loads `obsgen.yaml` and every service manifest below `root`.
pub fn load(root: &Path) -> Result<Loaded, LoadError> {
    let (mut loaded, manifests) = load_platform(root)?;
    load_services(root, &manifests, &mut loaded)?;
    Ok(loaded)
}

/// A service manifest to load: its path relative to the root (`/`
/// separators) and on disk.
pub type ManifestPath = (String, PathBuf);

/// Loads `obsgen.yaml` (with its dashboard library and templates) and
/// finds the service manifests, in sorted order, without reading them:
/// [`load_services`] loads them, all at once or a batch at a time (so that
/// a caller can validate each batch and drop its documents before the
/// next: see [`crate::compile::check`]).
pub fn load_platform(root: &Path) -> Result<(Loaded, Vec<ManifestPath>), LoadError> {
    let mut loaded = Loaded::default();
    let platform_path = root.join(PLATFORM_FILE);
    let platform_text = match crate::limits::read_file(&platform_path, MAX_INPUT_BYTES) {
        Ok(bytes) => bytes,
        Err(ReadError::Io(error)) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(LoadError::NoPlatform {
                root: root.display().to_string(),
            });
        }
        Err(ReadError::Io(source)) => {
            return Err(LoadError::Io {
                path: platform_path.display().to_string(),
                source,
            });
        }
        Err(error) => {
            loaded.diagnostics.push(unreadable(PLATFORM_FILE, &error));
            return Ok((loaded, Vec::new()));
        }
    };
    loaded.platform = load_bytes(
        PLATFORM_FILE,
        &platform_path,
        platform_text,
        root,
        &mut loaded,
    );

    load_dashboard_library(root, &mut loaded);
    load_templates(root, &mut loaded);

    let pattern = loaded
        .platform
        .as_ref()
        .and_then(|doc| doc.value.pointer("/spec/services"))
        .and_then(Value::as_str)
        .unwrap_or(DEFAULT_SERVICES_GLOB)
        .to_string();
    let matcher = match Glob::new(&pattern) {
        Ok(glob) => glob.compile_matcher(),
        Err(error) => {
            let position = loaded
                .platform
                .as_ref()
                .map(|doc| doc.positions.value("/spec/services"));
            let mut diagnostic = Diagnostic::error(
                PLATFORM_FILE,
                format!("`{pattern}` is not a valid glob: {error}"),
            )
            .path("spec.services")
            .hint("use a glob such as `services/**/*.{yaml,yml,jsonnet}`");
            if let Some(position) = position {
                diagnostic = diagnostic.at(position.line, position.column);
            }
            loaded.diagnostics.push(diagnostic);
            return Ok((loaded, Vec::new()));
        }
    };
    let manifests = find_manifests(root, &pattern, &matcher, &mut loaded.diagnostics)?;
    Ok((loaded, manifests))
}

/// Loads `manifests` (on every core) into `loaded.services`, in order.
pub fn load_services(
    root: &Path,
    manifests: &[ManifestPath],
    loaded: &mut Loaded,
) -> Result<(), LoadError> {
    // Merged in sorted order, so the result is the same as loading one file
    // after the other: the same documents, diagnostics and first I/O error.
    for result in load_manifests(root, manifests) {
        let (document, file) = result?;
        loaded.diagnostics.extend(file.diagnostics);
        loaded.sources.extend(file.sources);
        loaded.services.extend(document);
    }
    Ok(())
}

/// The folder the platform names at `pointer` (without a trailing `/`),
/// where it is written, and whether it is a relative path that stays in
/// the repository (no `..`, not absolute). `None` when it names none.
fn platform_folder(loaded: &Loaded, pointer: &str) -> Option<(String, Position, bool)> {
    let platform = loaded.platform.as_ref()?;
    let folder = platform.value.pointer(pointer)?.as_str()?;
    let position = platform.positions.value(pointer);
    let folder = folder.trim_end_matches('/');
    let inside = !folder.is_empty()
        && !folder.starts_with('/')
        && folder
            .split('/')
            .all(|part| !part.is_empty() && part != "..");
    Some((folder.to_string(), position, inside))
}

/// The file a dashboard library folder must hold.
pub const DASHBOARD_LIBRARY_FILE: &str = "dashboards.jsonnet";

/// Evaluates `<grafana.library>/dashboards.jsonnet` once, when the platform
/// names a library folder; a folder that leaves the repository or holds no
/// such file is a diagnostic at `spec.grafana.library`.
fn load_dashboard_library(root: &Path, loaded: &mut Loaded) {
    let Some((folder, position, inside)) = platform_folder(loaded, "/spec/grafana/library") else {
        return;
    };
    let relative = format!("{folder}/{DASHBOARD_LIBRARY_FILE}");
    let path = root.join(&relative);
    // After symbolic links are resolved, the file must still be inside.
    let inside = inside
        && match (path.canonicalize(), root.canonicalize()) {
            (Ok(file), Ok(root)) => file.starts_with(root),
            // A missing file is reported below.
            _ => true,
        };
    let problem = if !inside {
        Some((
            "the library folder must be a folder of the repository",
            "a relative path such as `grafana-library`",
        ))
    } else if !path.is_file() {
        Some((
            "the library folder has no `dashboards.jsonnet`",
            "a folder holding `dashboards.jsonnet`",
        ))
    } else {
        None
    };
    if let Some((message, expected)) = problem {
        loaded.diagnostics.push(
            Diagnostic::error(PLATFORM_FILE, message)
                .at(position.line, position.column)
                .path("spec.grafana.library")
                .expected(expected)
                .hint(
                    "copy obsgen's `library/dashboards.jsonnet` into the folder and add your rows",
                ),
        );
        return;
    }
    match crate::limits::read_file(&path, MAX_INPUT_BYTES) {
        Ok(bytes) => {
            let document = load_bytes(&relative, &path, bytes, root, loaded);
            loaded.dashboard_library = document;
        }
        Err(error) => loaded.diagnostics.push(Diagnostic::error(
            relative,
            format!("the dashboard library cannot be read: {error}"),
        )),
    }
}

/// Loads a repository given as texts instead of files: `obsgen.yaml`'s
/// bytes and each YAML manifest's (relative name, bytes), in the given
/// order. For fuzzing and tests: no file is read, so Jsonnet manifests
/// (which may import files) are refused here.
pub fn load_texts(platform: &[u8], services: &[(String, Vec<u8>)]) -> Loaded {
    let mut loaded = Loaded::default();
    let nowhere = Path::new("");
    loaded.platform = load_bytes(
        PLATFORM_FILE,
        nowhere,
        platform.to_vec(),
        nowhere,
        &mut loaded,
    );
    for (relative, bytes) in services {
        if relative.ends_with(".jsonnet") {
            loaded.diagnostics.push(Diagnostic::error(
                relative,
                "Jsonnet manifests are evaluated from files only",
            ));
            continue;
        }
        let document = load_bytes(relative, nowhere, bytes.clone(), nowhere, &mut loaded);
        loaded.services.extend(document);
    }
    loaded
}

/// Reads the platform's text template overrides: the `*.j2` regular files
/// of `<spec.templates>/logstash/` (symbolic links are not followed, so
/// nothing outside the repository is read). A folder outside the
/// repository is a diagnostic at `spec.templates`; a missing one is empty.
fn load_templates(root: &Path, loaded: &mut Loaded) {
    let Some((folder, position, inside)) = platform_folder(loaded, "/spec/templates") else {
        return;
    };
    if !inside {
        loaded.diagnostics.push(
            Diagnostic::error(
                PLATFORM_FILE,
                "the templates folder must be a folder of the repository",
            )
            .at(position.line, position.column)
            .path("spec.templates")
            .expected("a relative path such as `templates`"),
        );
        return;
    }
    let Ok(entries) = std::fs::read_dir(root.join(&folder).join("logstash")) else {
        return;
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_file()))
        .filter_map(|entry| entry.file_name().to_str().map(str::to_string))
        .filter(|name| name.ends_with(".j2"))
        .collect();
    names.sort();
    for name in names {
        let relative = format!("{folder}/logstash/{name}");
        // Regular files within the input cap only, like manifests.
        let read = crate::limits::read_file(&root.join(&relative), MAX_INPUT_BYTES)
            .map_err(|error| error.to_string())
            .and_then(|bytes| {
                String::from_utf8(bytes).map_err(|_| "it is not UTF-8 text".to_string())
            });
        match read {
            Ok(text) => {
                loaded.templates.insert(format!("logstash/{name}"), text);
            }
            Err(error) => loaded.diagnostics.push(Diagnostic::error(
                relative,
                format!("the template cannot be read: {error}"),
            )),
        }
    }
}

/// Below this many manifests per thread, threads cost more than they save.
const MIN_MANIFESTS_PER_THREAD: usize = 32;

/// What loading one manifest gave: its document, and its diagnostics and
/// source texts (in a `Loaded` of its own, merged by the caller).
type LoadedFile = Result<(Option<Document>, Loaded), LoadError>;

/// Reads and parses every manifest, on as many threads as there are cores.
///
/// Parsing is most of obsgen's time on large repositories and each file is
/// independent, so the files are shared out one at a time (Jsonnet files
/// take longer than YAML ones); the results come back in `manifests` order.
fn load_manifests(root: &Path, manifests: &[(String, PathBuf)]) -> Vec<LoadedFile> {
    let load_one = |(relative, path): &(String, PathBuf)| -> LoadedFile {
        let mut file = Loaded::default();
        let bytes = match crate::limits::read_file(path, MAX_INPUT_BYTES) {
            Ok(bytes) => bytes,
            Err(ReadError::Io(source)) => {
                return Err(LoadError::Io {
                    path: relative.clone(),
                    source,
                });
            }
            Err(error) => {
                file.diagnostics.push(unreadable(relative, &error));
                return Ok((None, file));
            }
        };
        let document = load_bytes(relative, path, bytes, root, &mut file);
        Ok((document, file))
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(manifests.len() / MIN_MANIFESTS_PER_THREAD)
        .max(1);
    if threads == 1 {
        return manifests.iter().map(load_one).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(manifest) = manifests.get(index) else {
                return done;
            };
            done.push((index, load_one(manifest)));
        }
    };
    let mut results = std::thread::scope(|scope| {
        // A thread that cannot be started leaves its share to the others.
        let helpers: Vec<_> = (1..threads)
            .filter_map(|_| std::thread::Builder::new().spawn_scoped(scope, work).ok())
            .collect();
        let mut results = work();
        for helper in helpers {
            match helper.join() {
                Ok(done) => results.extend(done),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        results
    });
    results.sort_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, result)| result).collect()
}

/// Files matching the glob, relative to the root, sorted. Only the glob's
/// literal leading directories are walked (not the whole repository).
///
/// Symbolic links, FIFOs, devices and sockets that match are not read (a
/// link may point outside the repository, a FIFO would block) but warned
/// about, so a manifest is never skipped silently; names with control
/// characters are refused.
fn find_manifests(
    root: &Path,
    pattern: &str,
    matcher: &GlobMatcher,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Vec<(String, PathBuf)>, LoadError> {
    let literal: Vec<&str> = pattern
        .split('/')
        .take_while(|part| !part.contains(['*', '?', '[', '{']))
        .collect();
    // The last literal component may be a file name; walk its parent then.
    let base = root.join(literal.join("/"));
    let base = if base.is_dir() {
        base
    } else {
        base.parent()
            .map(Path::to_path_buf)
            .unwrap_or(root.to_path_buf())
    };
    if !base.exists() {
        return Ok(Vec::new());
    }
    let mut found = Vec::new();
    for entry in walkdir::WalkDir::new(&base)
        .follow_links(false)
        .sort_by_file_name()
    {
        let entry = entry.map_err(|error| LoadError::Io {
            path: error
                .path()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            source: error.into(),
        })?;
        if entry.file_type().is_dir() {
            continue;
        }
        let Ok(relative) = entry.path().strip_prefix(root) else {
            continue;
        };
        let relative = relative.to_string_lossy().replace('\\', "/");
        if relative == PLATFORM_FILE || !matcher.is_match(&relative) {
            continue;
        }
        if !entry.file_type().is_file() {
            let kind = crate::limits::file_kind(entry.file_type());
            diagnostics.push(
                Diagnostic::warning(&relative, format!("skipped: {kind} is not read as a manifest"))
                    .hint("manifests must be regular files inside the repository; replace the link or special file with the manifest itself"),
            );
            continue;
        }
        if relative
            .chars()
            .any(|c| c.is_control() || c == '\u{2028}' || c == '\u{2029}')
        {
            diagnostics.push(
                Diagnostic::error(&relative, "the file name contains a control character")
                    .expected("a file name of printable characters")
                    .hint(
                        "rename the file; its name is written into the header of generated files",
                    ),
            );
            continue;
        }
        found.push((relative, entry.path().to_path_buf()));
    }
    found.sort();
    Ok(found)
}

/// The diagnostic for a manifest that is not read at all.
fn unreadable(relative: &str, error: &ReadError) -> Diagnostic {
    let hint = match error {
        ReadError::TooLarge { .. } => format!(
            "manifests are small text files; obsgen reads at most {MAX_INPUT_BYTES} bytes of one (see docs/limits.md)"
        ),
        _ => "replace it with a regular file holding the manifest".to_string(),
    };
    Diagnostic::error(relative, format!("not read: {error}")).hint(hint)
}

fn load_bytes(
    relative: &str,
    path: &Path,
    bytes: Vec<u8>,
    root: &Path,
    loaded: &mut Loaded,
) -> Option<Document> {
    // Both YAML and Jsonnet are UTF-8 text; say so plainly rather than
    // leaving it to each parser's own words.
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => {
            let offset = error.utf8_error().valid_up_to();
            let position = jsonnet::position_at(error.as_bytes(), offset);
            let byte = error.as_bytes().get(offset).copied().unwrap_or_default();
            loaded.diagnostics.push(
                Diagnostic::error(relative, "the file is not UTF-8 text")
                    .at(position.line, position.column)
                    .expected("UTF-8 text")
                    .found(format!("the byte 0x{byte:02X}"))
                    .hint("manifests are YAML (or Jsonnet) text files, encoded as UTF-8; convert this one (e.g. `iconv -f latin1 -t utf-8`)"),
            );
            return None;
        }
    };
    if relative.ends_with(".jsonnet") {
        loaded.sources.insert(relative.to_string(), text.into());
        return match jsonnet::evaluate(path, root, &[root.join(LIBRARY_DIR)], EMBEDDED_LIBRARY) {
            Ok(value) => Some(Document {
                source: relative.to_string(),
                value,
                positions: Positions::default(),
            }),
            Err(error) => {
                let file = error
                    .file
                    .strip_prefix(root)
                    .map(|p| p.to_string_lossy().replace('\\', "/"))
                    .unwrap_or_else(|_| error.file.display().to_string());
                if file != relative
                    && let Ok(text) = std::fs::read_to_string(&error.file)
                {
                    loaded.sources.insert(file.clone(), text.into());
                }
                loaded.diagnostics.push(
                    Diagnostic::error(file, error.message)
                        .at(error.position.line, error.position.column)
                        .hint("run the file through `jsonnet` to see the whole evaluation"),
                );
                None
            }
        };
    }
    let text: Arc<str> = text.into();
    let result = yaml::parse(&text);
    loaded
        .sources
        .insert(relative.to_string(), Arc::clone(&text));
    match result {
        Ok(value) => Some(Document {
            source: relative.to_string(),
            value,
            positions: Positions::of_yaml(text),
        }),
        Err(error) => {
            loaded.diagnostics.push(
                Diagnostic::error(relative, format!("invalid YAML: {}", error.message))
                    .at(error.position.line, error.position.column)
                    .hint(if error.message.starts_with("duplicate mapping key") {
                        "a key may appear only once in a mapping; remove or merge the repeated one"
                    } else if error.message.starts_with("the document ") {
                        "a manifest describes one service in a few dozen lines; see docs/limits.md"
                    } else {
                        "the mistake may be a line or two earlier: look for an unclosed `[`, `{` or quote, or a wrong indentation"
                    }),
            );
            None
        }
    }
}

/// `spec.slos[1].objective` from `/spec/slos/1/objective`.
pub fn field_path(pointer: &str) -> String {
    let mut out = String::new();
    for part in pointer.split('/').skip(1) {
        let part = part.replace("~1", "/").replace("~0", "~");
        if !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{part}]"));
        } else if part
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            && !part.is_empty()
        {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&part);
        } else {
            out.push_str(&format!("[{}]", serde_json::Value::String(part)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_paths_read_like_code() {
        assert_eq!(
            field_path("/spec/slos/1/objective"),
            "spec.slos[1].objective"
        );
        assert_eq!(
            field_path("/metadata/labels/a~1b"),
            "metadata.labels[\"a/b\"]"
        );
        assert_eq!(field_path(""), "");
    }

    #[test]
    fn many_manifests_load_in_sorted_order() {
        // Enough files for several loading threads; results must not depend on them.
        let root = crate::output::test_dir();
        std::fs::write(root.join(PLATFORM_FILE), "kind: Platform\n").unwrap();
        std::fs::create_dir_all(root.join("services")).unwrap();
        let count = MIN_MANIFESTS_PER_THREAD * 4 + 3;
        let (mut good, mut broken) = (Vec::new(), Vec::new());
        // Written in reverse, so that creation order is not sorted order.
        for index in (0..count).rev() {
            let name = format!("services/s{index:03}.yaml");
            let text = if index % 7 == 0 {
                broken.push(name.clone());
                "a: [1\n".to_string()
            } else {
                good.push(name.clone());
                format!("metadata: {{name: s{index:03}}}\n")
            };
            std::fs::write(root.join(&name), text).unwrap();
        }
        good.sort();
        broken.sort();
        let loaded = load(&root).unwrap();
        let documents: Vec<&str> = loaded.services.iter().map(|d| d.source.as_str()).collect();
        assert_eq!(documents, good);
        assert_eq!(loaded.services[0].value["metadata"]["name"], "s001");
        let failed: Vec<&str> = loaded.diagnostics.iter().map(|d| d.file.as_str()).collect();
        assert_eq!(failed, broken);
        assert_eq!(loaded.sources.len(), count + 1);
    }

    #[test]
    fn positions_fall_back_to_the_parent() {
        let positions = Positions::of_yaml("spec:\n  slos:\n    - name: a\n".into());
        assert_eq!(
            positions.value("/spec/slos/0/objective"),
            positions.value("/spec/slos/0")
        );
    }
}
