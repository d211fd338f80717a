//! The output tree: generated files held in memory, then written, diffed or
//! checked against what is on disk.
//!
//! Backends add files to an [`OutputSet`]; nothing else in obsgen writes
//! output. The same set feeds `build` ([`write`]), `diff` and `check`
//! ([`diff`]) and the golden tests, so what reviewers read is exactly what
//! is written.

pub mod diff;
pub mod header;
pub mod index;
pub mod json;
pub mod lock;
pub mod ownership;
pub mod reuse;
pub mod write;
pub mod yaml;

use std::collections::BTreeMap;

pub use diff::{Change, ChangeKind, changes, render_unified};
pub use lock::{LOCK_TIMEOUT, OutputLock, lock, timeout_from_env};
pub use write::{
    INDEX_FILE, Mode, Recovery, TreeUpdate, WriteSummary, read_index, recover,
    remove_legacy_temporaries, write, write_locked,
};

/// Why a file could not be added or the tree could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("refusing output path `{path}`: {reason}")]
    UnsafePath { path: String, reason: &'static str },
    #[error("two generators produce `{path}`")]
    Duplicate { path: String },
    #[error("serializing a generated file: {0}")]
    Serialize(String),
    #[error("{action} `{path}`: {}", describe_io(error))]
    Io {
        action: &'static str,
        path: String,
        /// Not a `#[source]`: its message is already in this one, and a
        /// cause chain would print it twice.
        error: std::io::Error,
    },
    #[error(
        "refusing to overwrite {} that obsgen did not generate: {}; move {} out of the way and run obsgen again",
        plural(files.len(), "a file", "files"),
        files.join(", "),
        plural(files.len(), "it", "them")
    )]
    NotOurs { files: Vec<String> },
    #[error(
        "another obsgen run is still using `{path}` after {seconds} s; try again when it has finished (`OBSGEN_LOCK_TIMEOUT` sets how many seconds to wait)"
    )]
    Locked { path: String, seconds: f64 },
    #[error(
        "`{path}` (the record of an interrupted build) is damaged; delete it and the `.obsgen-staging-*` folders next to it, then build again"
    )]
    DamagedJournal { path: String },
    #[error(
        "the generated output would be more than {limit} bytes ({}: `{path}` alone is {size} bytes); long label values or descriptions are repeated in every rule, shorten them (see docs/limits.md)",
        "the limit of the repository's size"
    )]
    TooLarge {
        limit: usize,
        path: String,
        size: usize,
    },
}

fn plural(count: usize, one: &'static str, many: &'static str) -> &'static str {
    if count == 1 { one } else { many }
}

/// An I/O error in plain words: the operating system's message without
/// Rust's `(os error N)` suffix.
pub fn describe_io(error: &std::io::Error) -> String {
    use std::io::ErrorKind;
    match error.kind() {
        ErrorKind::NotFound => "no such file or directory".to_string(),
        ErrorKind::PermissionDenied => "permission denied".to_string(),
        ErrorKind::AlreadyExists => "it already exists".to_string(),
        ErrorKind::NotADirectory => "a part of the path is a file, not a directory".to_string(),
        ErrorKind::IsADirectory => "it is a directory".to_string(),
        ErrorKind::StorageFull => "no space left on the device".to_string(),
        ErrorKind::ReadOnlyFilesystem => "the file system is read-only".to_string(),
        ErrorKind::CrossesDevices => {
            "it is on another file system than the output directory".to_string()
        }
        _ => {
            let text = error.to_string();
            match text.find(" (os error") {
                Some(at) => text.get(..at).unwrap_or(&text).to_string(),
                None => text,
            }
        }
    }
}

/// Generated files by relative path (`/`-separated), sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutputSet {
    files: BTreeMap<String, Vec<u8>>,
}

impl OutputSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file. The path must stay inside the output directory: relative,
    /// `/`-separated, no `.`/`..`/empty components, no characters that are
    /// unsafe in file names on common file systems.
    pub fn add(
        &mut self,
        path: impl Into<String>,
        contents: impl Into<Vec<u8>>,
    ) -> Result<(), OutputError> {
        let path = path.into();
        check_path(&path)?;
        if self.files.contains_key(&path) {
            return Err(OutputError::Duplicate { path });
        }
        self.files.insert(path, contents.into());
        Ok(())
    }

    /// Adds every file of another set.
    pub fn extend(&mut self, other: OutputSet) -> Result<(), OutputError> {
        for (path, contents) in other.files {
            self.add(path, contents)?;
        }
        Ok(())
    }

    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(Vec::as_slice)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.files
            .iter()
            .map(|(path, contents)| (path.as_str(), contents.as_slice()))
    }

    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// Refuses any path that could escape the output directory or clash with
/// obsgen's own bookkeeping.
pub fn check_path(path: &str) -> Result<(), OutputError> {
    let unsafe_path = |reason| {
        Err(OutputError::UnsafePath {
            path: path.to_string(),
            reason,
        })
    };
    if path.is_empty() {
        return unsafe_path("it is empty");
    }
    // One pass over the bytes (every generated file's path comes here);
    // the characters are decoded only for a path that is not ASCII.
    let (mut separator, mut control, mut ascii) = (false, false, true);
    for &byte in path.as_bytes() {
        separator |= byte == b'\\' || byte == b':';
        control |= byte < b' ' || byte == 0x7f;
        ascii &= byte.is_ascii();
    }
    if path.starts_with('/') || separator {
        return unsafe_path("it must be relative, with `/` separators");
    }
    if control || (!ascii && path.chars().any(|c| c.is_control())) {
        return unsafe_path("it contains a control character");
    }
    for component in path.split('/') {
        if component.is_empty() || component == "." || component == ".." {
            return unsafe_path("it has an empty, `.` or `..` component");
        }
    }
    if path == INDEX_FILE || path.starts_with(".obsgen") {
        return unsafe_path("names starting with `.obsgen` are obsgen's own");
    }
    Ok(())
}

/// A fresh, empty directory for a unit test, removed again when the test
/// drops it (also when the test fails), so test runs leave nothing behind.
#[cfg(test)]
pub(crate) struct TestDir(std::path::PathBuf);

#[cfg(test)]
impl std::ops::Deref for TestDir {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

#[cfg(test)]
impl AsRef<std::path::Path> for TestDir {
    fn as_ref(&self) -> &std::path::Path {
        &self.0
    }
}

#[cfg(test)]
impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh, empty directory for a unit test; see [`TestDir`].
#[cfg(test)]
pub(crate) fn test_dir() -> TestDir {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "obsgen-unit-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("creating a test directory");
    TestDir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_cannot_escape() {
        let mut set = OutputSet::new();
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a//b",
            "a\\b",
            "C:x",
            "./a",
            ".obsgen-index",
            "a\nb",
            "a\u{7f}b",
            "a\u{85}b",
            "é/\u{9f}",
        ] {
            assert!(set.add(bad, "x").is_err(), "{bad:?} should be refused");
        }
        // Each refusal says why, in the order the checks are made.
        let reason = |path: &str| match check_path(path) {
            Err(OutputError::UnsafePath { reason, .. }) => reason,
            other => panic!("{path:?}: {other:?}"),
        };
        assert!(reason("/a\u{1}").contains("relative"));
        assert!(reason("a:\u{1}").contains("relative"));
        assert!(reason("a\u{1}/../b").contains("control"));
        assert!(reason("é\u{80}").contains("control"));
        assert!(reason("a/../b").contains("component"));
        for good in ["grafana/dashboards/web/é-ü.json", "a/b.c/d-e_f.yml"] {
            assert!(check_path(good).is_ok(), "{good:?}");
        }
        set.add("prometheus/production/prometheus.yml", "x")
            .unwrap();
        assert!(matches!(
            set.add("prometheus/production/prometheus.yml", "y"),
            Err(OutputError::Duplicate { .. })
        ));
    }

    #[test]
    fn iteration_is_sorted() {
        let mut set = OutputSet::new();
        set.add("b", "").unwrap();
        set.add("a/z", "").unwrap();
        set.add("a/b", "").unwrap();
        assert_eq!(set.paths().collect::<Vec<_>>(), ["a/b", "a/z", "b"]);
    }
}
