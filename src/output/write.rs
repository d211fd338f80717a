//! Writing the output tree: only changed files, switched in as a whole,
//! pruning only what obsgen itself generated.
//!
//! A build runs under the output directory's lock ([`super::lock`]) and
//! goes through three steps. The first two run as the files are rendered,
//! service by service on every core ([`TreeUpdate`] is the sink of
//! [`crate::backend::render_into`]), so the tree is never held whole in
//! memory:
//!
//! 1. **Compare.** Each new file is compared with the disk as it comes. A
//!    file at a generated path that obsgen cannot recognise as its own (no
//!    generated header, no matching hash in the index, a symlink, a
//!    directory) stops the build before anything visible changes. Files the
//!    previous index lists that are no longer generated are deleted only
//!    when still recognised as obsgen's.
//! 2. **Stage.** Every new or changed file, and the new index, is written to
//!    a fresh hidden folder at the root of the output directory,
//!    `.obsgen-staging-<pid>-<time>/`, under numbered names with no
//!    extension: no user glob such as `prometheus/*/rules/*.yml` can match
//!    them. A top-level folder that did not exist when the run started (a
//!    fresh output directory, a backend turned on, a folder deleted by
//!    hand) is staged whole instead, in the tree's own layout under the
//!    staging folder's `tree/`, so that it is switched in with one `rename`
//!    rather than one per file. Then the journal, `.obsgen-journal`,
//!    listing every rename and delete, is moved into place with one
//!    `rename`: that is the commit point. A failure or a kill before it
//!    leaves the visible tree exactly as it was.
//! 3. **Switch.** The journal is carried out (whole new folders renamed
//!    into place, staged files renamed over their targets, deletions),
//!    then removed with the staging folder. Every step is idempotent, so
//!    when a run is killed here the next obsgen run ([`recover`], called
//!    by `build`, `check` and `diff` before anything else) finishes the
//!    same switch: the tree ends as the new one. Until then readers may
//!    see a mix of whole old and whole new files, never a partial file or
//!    a temporary one.
//!
//! Unchanged files are not rewritten (their mtime stays, so build systems
//! and `make` see no change). Files are not `fsync`ed (see
//! `docs/decisions.md`).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::diff::{Change, ChangeKind};
use super::index::{FinishedIndex, NewIndex, PreviousIndex};
use super::lock::{OutputLock, lock, timeout_from_env};
use super::ownership::{
    FIRST_LINE_MAX, StreamHasher, content_hash, current_hash_value, has_header, hash_matches,
    hash64, recognised,
};
use super::reuse::{FileStat, RecordedFile};
use super::{OutputError, OutputSet, check_path};
use crate::backend::FileSink;

/// The index of generated files, at the root of the output directory.
pub const INDEX_FILE: &str = ".obsgen-index";
/// The journal of a switch in progress, at the root of the output directory.
pub const JOURNAL_FILE: &str = ".obsgen-journal";
/// The prefix of staging folders, at the root of the output directory.
pub const STAGING_PREFIX: &str = ".obsgen-staging-";
/// Temporary siblings written by obsgen before it staged its writes;
/// removed by the next build ([`remove_legacy_temporaries`]).
const LEGACY_TEMP_PREFIX: &str = ".obsgen-tmp-";
/// The folder of a staging folder that holds fresh top-level folders in
/// the tree's layout (the other staged files have numbers for names).
const STAGED_TREE: &str = "tree";
const JOURNAL_HEADER: &str = "# obsgen journal v1: a switch to a new output tree, committed but maybe unfinished; the next obsgen run completes it.\n";
/// Aborts the process after this many write steps: lets the crash test
/// stop a build deterministically at every point of a switch.
const ABORT_AFTER_ENV: &str = "OBSGEN_TEST_ABORT_AFTER_STEPS";

/// What a write changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WriteSummary {
    pub written: Vec<String>,
    pub unchanged: usize,
    pub removed: Vec<String>,
    /// Files the previous index listed, no longer generated, left in place
    /// because their contents are not recognisably obsgen's (edited, or
    /// never written by obsgen).
    pub kept: Vec<String>,
}

/// What [`recover`] found and did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// A committed switch was finished: this many files renamed or deleted.
    pub finished: Option<usize>,
    /// Staging folders of a build killed before its commit point, removed.
    pub discarded: usize,
}

impl Recovery {
    pub fn is_clean(&self) -> bool {
        self == &Recovery::default()
    }
}

impl std::fmt::Display for Recovery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if let Some(files) = self.finished {
            parts.push(format!(
                "finished the switch of an interrupted build ({files} files)"
            ));
        }
        if self.discarded > 0 {
            parts.push(
                "removed the staged files of a build interrupted before it changed anything"
                    .to_string(),
            );
        }
        f.write_str(&parts.join("; "))
    }
}

/// The error of `action` on `path`; the path is only spelt out when the
/// error happens (this runs for every file a build touches).
fn io<'p>(action: &'static str, path: &'p Path) -> impl FnOnce(std::io::Error) -> OutputError + 'p {
    move |error| OutputError::Io {
        action,
        path: path.display().to_string(),
        error,
    }
}

/// Reads the index of a previous build; empty when there is none.
pub fn read_index(out_dir: &Path) -> Result<Vec<String>, OutputError> {
    Ok(read_previous_index(out_dir)?
        .entries()
        .map(|(path, _)| path.to_string())
        .collect())
}

/// The previous index: every generated path, and the hash recorded for it
/// (only for files without a header).
fn read_previous_index(out_dir: &Path) -> Result<PreviousIndex, OutputError> {
    let path = out_dir.join(INDEX_FILE);
    Ok(match read_regular(&path)? {
        Some(bytes) => PreviousIndex::parse(match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(error) => String::from_utf8_lossy(error.as_bytes()).into_owned(),
        }),
        None => PreviousIndex::default(),
    })
}

/// A rendered file against the disk, compared piece by piece: a file of
/// 90 MB (an environment's `prometheus.yml` at 100,000 services) that did
/// not change is never held in memory twice.
enum Compared {
    Missing,
    Same,
    /// Different, and obsgen's by its header: all a build needs to know.
    OursByHeader,
    /// Different; its bytes (to recognise it by hash, or to show a diff).
    Differs(Vec<u8>),
    /// A symlink, a directory or a special file: never obsgen's.
    Other(&'static str),
}

/// Bytes compared per read.
const COMPARE_PIECE: usize = 256 * 1024;

/// Compares `contents` with the file at `path`. When they differ, the file
/// is read whole, unless `header_suffices` and its first line is obsgen's
/// header.
fn compare_with_disk(
    path: &Path,
    contents: &[u8],
    header_suffices: bool,
) -> Result<Compared, OutputError> {
    use std::io::{Read, Seek};
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Compared::Missing);
        }
        Err(error) => return Err(io("reading", path)(error)),
    };
    if meta.file_type().is_symlink() {
        return Ok(Compared::Other("a symbolic link"));
    } else if meta.is_dir() {
        return Ok(Compared::Other("a directory"));
    } else if !meta.is_file() {
        return Ok(Compared::Other("not a regular file"));
    }
    let mut file = fs::File::open(path).map_err(io("reading", path))?;
    let size = usize::try_from(meta.len()).unwrap_or(usize::MAX);
    if size == contents.len() {
        let mut buffer = vec![0; size.min(COMPARE_PIECE)];
        let mut same = true;
        for expected in contents.chunks(COMPARE_PIECE) {
            let piece = buffer.get_mut(..expected.len()).unwrap_or_default();
            if file.read_exact(piece).is_err() || piece != expected {
                same = false;
                break;
            }
        }
        // Grown since its size was read: not the same either.
        if same && file.read(&mut [0]).map_err(io("reading", path))? == 0 {
            return Ok(Compared::Same);
        }
        file.rewind().map_err(io("reading", path))?;
    }
    if header_suffices {
        let mut head = Vec::with_capacity(FIRST_LINE_MAX.min(size));
        (&mut file)
            .take(FIRST_LINE_MAX as u64)
            .read_to_end(&mut head)
            .map_err(io("reading", path))?;
        if has_header(&head) {
            return Ok(Compared::OursByHeader);
        }
        file.rewind().map_err(io("reading", path))?;
    }
    let mut bytes = Vec::with_capacity(size.saturating_add(1));
    file.read_to_end(&mut bytes).map_err(io("reading", path))?;
    Ok(Compared::Differs(bytes))
}

/// The hash ([`hash64`]) of the `len` bytes of the file at `path`
/// and whether they start with the generated header, read in pieces (an
/// environment's `prometheus.yml` is 90 MB at 100,000 services); `None`
/// when the file is not `len` bytes long.
fn hash_file(path: &Path, len: usize) -> Result<Option<(u64, bool)>, OutputError> {
    use std::io::Read;
    let mut file = fs::File::open(path).map_err(io("reading", path))?;
    let mut hasher = StreamHasher::new();
    let mut buffer = vec![0; len.min(COMPARE_PIECE)];
    let mut header = None;
    let mut left = len;
    while left > 0 {
        let piece = buffer
            .get_mut(..left.min(COMPARE_PIECE))
            .unwrap_or_default();
        if file.read_exact(piece).is_err() {
            return Ok(None);
        }
        header.get_or_insert_with(|| has_header(piece));
        hasher.update(piece);
        left -= piece.len();
    }
    if file.read(&mut [0]).map_err(io("reading", path))? != 0 {
        return Ok(None);
    }
    Ok(Some((hasher.finish(), header.unwrap_or(false))))
}

/// The bytes of a regular file, read without following a symbolic link;
/// `None` when it is missing or not a regular file (a symlink, a directory
/// or a special file is never obsgen's).
fn read_regular(path: &Path) -> Result<Option<Vec<u8>>, OutputError> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(io("reading", path)(error)),
    };
    if !meta.is_file() {
        return Ok(None);
    }
    // Sized from the metadata already read (`fs::read` would ask again).
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0).saturating_add(1));
    fs::File::open(path)
        .and_then(|mut file| std::io::Read::read_to_end(&mut file, &mut bytes))
        .map_err(io("reading", path))?;
    Ok(Some(bytes))
}

/// What a run does with each rendered file: a build compares and stages
/// it, `check` and `diff` only compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Write,
    Compare,
}

/// The comparison of a rendered tree with the disk, fed a batch of files
/// at a time (a [`FileSink`]) from any number of threads, so that the
/// whole tree is never held in memory: each file is compared as it comes
/// and, when a build writes it, staged at once (step 2 of the module
/// documentation). Only the index (a path and maybe a hash per file) and,
/// when comparing, the files that differ are kept. [`TreeUpdate::commit`]
/// or [`TreeUpdate::changes`] finish the run; dropped before that, the
/// update removes what it staged and the visible tree stays as it was.
pub struct TreeUpdate<'a> {
    out_dir: &'a Path,
    mode: Mode,
    previous: PreviousIndex,
    staging_name: String,
    staging: PathBuf,
    staging_created: Mutex<bool>,
    next_number: AtomicUsize,
    steps: Mutex<Steps>,
    state: Mutex<UpdateState>,
    /// Folders already found free of symbolic links.
    safe_folders: Mutex<BTreeSet<String>>,
    /// Top-level folders looked at for a build, and whether each was
    /// missing when first looked at: those are staged whole (module
    /// documentation, step 2).
    fresh_tops: Mutex<BTreeMap<String, bool>>,
    /// Folders already created in the staged tree.
    tree_folders: Mutex<BTreeSet<String>>,
    /// When this run started, in nanoseconds since the epoch.
    started_ns: i128,
    /// Refuse a tree larger than this many bytes (`None`: no limit).
    byte_limit: Option<usize>,
    finished: bool,
}

#[derive(Default)]
struct UpdateState {
    /// Every generated path → the hash recorded for it (files without a header).
    index: NewIndex,
    /// `Write`: the staged files, by number.
    puts: Vec<(usize, String)>,
    /// `Write`: the files staged in the tree's layout, under fresh folders.
    tree_files: Vec<String>,
    /// `Compare`: the files that would be added or changed.
    changes: Vec<Change>,
    unchanged: usize,
    refused: Vec<String>,
    bytes: usize,
}

impl<'a> TreeUpdate<'a> {
    /// Starts comparing with `out_dir` (locked by the caller, and
    /// recovered).
    pub fn new(
        out_dir: &'a Path,
        mode: Mode,
        byte_limit: Option<usize>,
    ) -> Result<Self, OutputError> {
        let staging_name = format!(
            "{STAGING_PREFIX}{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        );
        let previous = read_previous_index(out_dir)?;
        let state = UpdateState {
            index: NewIndex::with_capacity(previous.files()),
            ..UpdateState::default()
        };
        Ok(TreeUpdate {
            out_dir,
            mode,
            previous,
            staging: out_dir.join(&staging_name),
            staging_name,
            staging_created: Mutex::new(false),
            next_number: AtomicUsize::new(0),
            steps: Mutex::new(Steps::from_env()),
            state: Mutex::new(state),
            safe_folders: Mutex::new(BTreeSet::new()),
            fresh_tops: Mutex::new(BTreeMap::new()),
            tree_folders: Mutex::new(BTreeSet::new()),
            started_ns: now_ns(),
            byte_limit,
            finished: false,
        })
    }

    fn state(&self) -> Result<std::sync::MutexGuard<'_, UpdateState>, OutputError> {
        self.state.lock().map_err(|_| poisoned())
    }

    fn step(&self) -> Result<(), OutputError> {
        self.steps.lock().map_err(|_| poisoned())?.step();
        Ok(())
    }

    /// [`refuse_symlinked_parents`], once per folder: a tree of a million
    /// files has a few dozen folders.
    fn refuse_symlinked_parents(&self, relative: &str) -> Result<(), OutputError> {
        let Some((folder, _)) = relative.rsplit_once('/') else {
            return Ok(());
        };
        if self
            .safe_folders
            .lock()
            .map_err(|_| poisoned())?
            .contains(folder)
        {
            return Ok(());
        }
        refuse_symlinked_parents(self.out_dir, relative)?;
        self.safe_folders
            .lock()
            .map_err(|_| poisoned())?
            .insert(folder.to_string());
        Ok(())
    }

    /// Creates the staging folder, once.
    fn create_staging(&self) -> Result<(), OutputError> {
        let mut created = self.staging_created.lock().map_err(|_| poisoned())?;
        if !*created {
            fs::create_dir(&self.staging).map_err(io("creating", &self.staging))?;
            *created = true;
        }
        Ok(())
    }

    /// Writes a file into the staging folder; returns its number there.
    fn stage(&self, contents: &[u8]) -> Result<usize, OutputError> {
        self.create_staging()?;
        let number = self.next_number.fetch_add(1, Ordering::SeqCst);
        self.step()?;
        write_new(&self.staging.join(number.to_string()), contents)?;
        Ok(number)
    }

    /// Whether a build stages `relative` in its top-level folder, whole:
    /// the folder was missing when the build first looked (once per
    /// folder; the lock keeps other obsgen runs out meanwhile).
    fn under_fresh_top(&self, relative: &str) -> Result<bool, OutputError> {
        if self.mode != Mode::Write {
            return Ok(false);
        }
        let Some((top, _)) = relative.split_once('/') else {
            return Ok(false);
        };
        let mut tops = self.fresh_tops.lock().map_err(|_| poisoned())?;
        if let Some(&fresh) = tops.get(top) {
            return Ok(fresh);
        }
        let path = self.out_dir.join(top);
        let fresh = match fs::symlink_metadata(&path) {
            Ok(_) => false,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => true,
            Err(error) => return Err(io("reading", &path)(error)),
        };
        tops.insert(top.to_string(), fresh);
        Ok(fresh)
    }

    /// Writes a file under a fresh top-level folder into the staged tree,
    /// at its own relative path.
    fn stage_in_tree(&self, relative: &str, contents: &[u8]) -> Result<(), OutputError> {
        self.create_staging()?;
        let tree = self.staging.join(STAGED_TREE);
        if let Some((folder, _)) = relative.rsplit_once('/') {
            let mut made = self.tree_folders.lock().map_err(|_| poisoned())?;
            if !made.contains(folder) {
                let path = tree.join(folder);
                fs::create_dir_all(&path).map_err(io("creating", &path))?;
                made.insert(folder.to_string());
            }
        }
        self.step()?;
        write_new(&tree.join(relative), contents)?;
        self.state()?.tree_files.push(relative.to_string());
        Ok(())
    }

    /// Compares (and, for a build, stages) one file; `hashed` is the hash
    /// of its bytes when the caller has it already.
    fn file(
        &self,
        relative: &str,
        contents: &[u8],
        hashed: Option<u64>,
    ) -> Result<(), OutputError> {
        let hash_of = || hashed.unwrap_or_else(|| hash64(contents));
        {
            let mut state = self.state()?;
            // The hash comes once the file is compared: an unchanged file
            // keeps the one its index entry records.
            state.bytes += contents.len();
            if let Some(limit) = self.byte_limit
                && state.bytes > limit
            {
                return Err(OutputError::TooLarge {
                    limit,
                    path: relative.to_string(),
                    size: contents.len(),
                });
            }
        }
        if self.under_fresh_top(relative)? {
            // Nothing can be on disk under a folder that is not there.
            let hash = (!has_header(contents)).then(hash_of);
            self.state()?.index.add(relative, hash);
            return self.stage_in_tree(relative, contents);
        }
        self.refuse_symlinked_parents(relative)?;
        let target = self.out_dir.join(relative);
        let recorded = self.previous.get(relative).flatten();
        let compared = compare_with_disk(&target, contents, self.mode == Mode::Write)?;
        // Files without a header are indexed with their hash: an unchanged
        // one keeps the hash its index entry records.
        let hash = (!has_header(contents)).then(|| match recorded.and_then(current_hash_value) {
            Some(hash) if matches!(compared, Compared::Same) => hash,
            _ => hash_of(),
        });
        self.state()?.index.add(relative, hash);
        // For a diff: the bytes on disk, if any (a build needs none).
        let old = match compared {
            Compared::Missing => None,
            Compared::Same => {
                self.state()?.unchanged += 1;
                return Ok(());
            }
            Compared::OursByHeader => Some(Vec::new()),
            Compared::Differs(existing) => {
                if !recognised(&existing, recorded) {
                    self.state()?.refused.push(format!(
                        "`{}` (no generated header, nor the bytes obsgen last wrote there)",
                        target.display()
                    ));
                    return Ok(());
                }
                Some(existing)
            }
            Compared::Other(what) => {
                self.state()?
                    .refused
                    .push(format!("`{}` ({what})", target.display()));
                return Ok(());
            }
        };
        match self.mode {
            Mode::Write => {
                let number = self.stage(contents)?;
                self.state()?.puts.push((number, relative.to_string()));
                Ok(())
            }
            Mode::Compare => {
                self.state()?.changes.push(Change {
                    path: relative.to_string(),
                    kind: if old.is_some() {
                        ChangeKind::Modified
                    } else {
                        ChangeKind::Added
                    },
                    old: old.unwrap_or_default(),
                    new: contents.to_vec(),
                });
                Ok(())
            }
        }
    }

    /// The files the previous index lists that are no longer generated:
    /// those still recognised as obsgen's (with their bytes), and the others.
    fn stale(&self, index: &FinishedIndex) -> Result<Stale, OutputError> {
        let mut deletes = Vec::new();
        let mut kept = Vec::new();
        // Both are sorted by path: one walk, not a search per path.
        let mut listed = index.paths().peekable();
        for (old, hash) in self.previous.entries() {
            while listed.next_if(|path| *path < old).is_some() {}
            if listed.peek() == Some(&old) || self.refuse_symlinked_parents(old).is_err() {
                continue;
            }
            if let Some(existing) = read_regular(&self.out_dir.join(old))? {
                if recognised(&existing, hash) {
                    deletes.push((old.to_string(), existing));
                } else {
                    kept.push(old.to_string());
                }
            }
        }
        Ok((deletes, kept))
    }

    /// Ends the comparison: the refused files stop everything; then the
    /// stale files and the new index.
    fn conclude(&mut self) -> Result<Concluded, OutputError> {
        self.finished = true;
        let mut state = std::mem::take(&mut *self.state()?);
        if !state.refused.is_empty() {
            self.discard();
            state.refused.sort();
            return Err(OutputError::NotOurs {
                files: state.refused,
            });
        }
        let finished = match std::mem::take(&mut state.index).finish() {
            Ok(finished) => finished,
            Err(path) => {
                self.discard();
                return Err(OutputError::Duplicate { path });
            }
        };
        let (deletes, kept) = self.stale(&finished)?;
        let index = finished.text();
        drop(finished);
        let old_index = std::mem::take(&mut self.previous)
            .into_text()
            .map(String::into_bytes);
        Ok(Concluded {
            state,
            deletes,
            kept,
            index,
            old_index,
        })
    }

    /// Every file a build would add, change or remove, sorted by path; the
    /// index counts as a file.
    pub fn changes(mut self) -> Result<Vec<Change>, OutputError> {
        let concluded = self.conclude()?;
        let mut changes = concluded.state.changes;
        for (path, old) in concluded.deletes {
            changes.push(Change {
                path,
                kind: ChangeKind::Removed,
                old,
                new: Vec::new(),
            });
        }
        if concluded.old_index.as_deref() != Some(concluded.index.as_bytes()) {
            changes.push(Change {
                path: INDEX_FILE.to_string(),
                kind: if concluded.old_index.is_some() {
                    ChangeKind::Modified
                } else {
                    ChangeKind::Added
                },
                old: concluded.old_index.unwrap_or_default(),
                new: concluded.index.into_bytes(),
            });
        }
        changes.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(changes)
    }

    /// Switches the staged files in (steps 2 and 3 of the module
    /// documentation).
    pub fn commit(mut self) -> Result<WriteSummary, OutputError> {
        let concluded = self.conclude()?;
        let mut summary = WriteSummary {
            unchanged: concluded.state.unchanged,
            kept: concluded.kept,
            ..WriteSummary::default()
        };
        let index_changed = concluded.old_index.as_deref() != Some(concluded.index.as_bytes());
        let mut puts = concluded.state.puts;
        let tree_files = concluded.state.tree_files;
        if puts.is_empty()
            && tree_files.is_empty()
            && concluded.deletes.is_empty()
            && !index_changed
        {
            self.discard();
            return Ok(summary);
        }
        let staged = (|| {
            if index_changed {
                puts.push((
                    self.stage(concluded.index.as_bytes())?,
                    INDEX_FILE.to_string(),
                ));
            }
            puts.sort_by(|a, b| a.1.cmp(&b.1));
            let mut journal = format!("{JOURNAL_HEADER}staging\t{}\n", self.staging_name);
            let tops: BTreeSet<&str> = tree_files
                .iter()
                .filter_map(|relative| relative.split_once('/').map(|(top, _)| top))
                .collect();
            for top in tops {
                journal.push_str(&format!("tree\t{top}\n"));
            }
            for (number, relative) in &puts {
                journal.push_str(&format!("put\t{number}\t{relative}\n"));
            }
            for (relative, contents) in &concluded.deletes {
                journal.push_str(&format!("del\t{}\t{relative}\n", content_hash(contents)));
            }
            journal.push_str("end\n");
            self.create_staging()?;
            let staged_journal = self.staging.join("journal");
            write_new(&staged_journal, journal.as_bytes())?;
            self.step()?;
            let journal_path = self.out_dir.join(JOURNAL_FILE);
            fs::rename(&staged_journal, &journal_path).map_err(io("committing", &journal_path))
        })();
        if let Err(error) = staged {
            self.discard();
            return Err(error);
        }
        // Committed: from here on the journal owns the staging folder.
        self.staging_created = Mutex::new(false);
        let mut steps = std::mem::replace(
            &mut *self.steps.lock().map_err(|_| poisoned())?,
            Steps::from_env(),
        );
        let mut done = finish_journal(self.out_dir, &mut steps)?;
        // The files of the folders switched in whole (those moved one by
        // one are listed already).
        done.written
            .extend(tree_files.into_iter().filter(|relative| {
                relative
                    .split_once('/')
                    .is_some_and(|(top, _)| done.whole.iter().any(|moved| moved == top))
            }));
        done.written.sort_unstable();
        summary.written = done.written;
        summary.removed = done.removed;
        Ok(summary)
    }

    /// Removes the staging folder, if this update created it.
    fn discard(&self) {
        if let Ok(created) = self.staging_created.lock()
            && *created
        {
            let _ = remove_staging(&self.staging);
        }
    }
}

impl FileSink for TreeUpdate<'_> {
    fn accept(&self, files: &OutputSet) -> Result<(), OutputError> {
        for (relative, contents) in files.iter() {
            self.file(relative, contents, None)?;
        }
        Ok(())
    }

    fn accept_hashed(&self, files: &OutputSet, hashes: &[u64]) -> Result<(), OutputError> {
        let mut hashes = hashes.iter().copied();
        for (relative, contents) in files.iter() {
            self.file(relative, contents, hashes.next())?;
        }
        Ok(())
    }

    /// Every file must be a regular file at a safe path whose bytes hash
    /// to what was rendered for it (read again unless its metadata is the
    /// one recorded when it was last read); then they count as unchanged,
    /// exactly as if rendered and found equal.
    fn reuse(&self, files: &mut [RecordedFile<'_>]) -> Result<bool, OutputError> {
        let mut found = Vec::with_capacity(files.len());
        for file in files.iter_mut() {
            let relative = file.path;
            if check_path(relative).is_err() || self.refuse_symlinked_parents(relative).is_err() {
                return Ok(false);
            }
            let target = self.out_dir.join(relative);
            let meta = match fs::symlink_metadata(&target) {
                Ok(meta) => meta,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(false),
                Err(error) => return Err(io("reading", &target)(error)),
            };
            if !meta.is_file() {
                return Ok(false);
            }
            if file.stat.is_none() || file.stat != FileStat::of(&meta) {
                let size = usize::try_from(meta.len()).unwrap_or(usize::MAX);
                if hash_file(&target, size)? != Some((file.hash, file.header)) {
                    return Ok(false);
                }
                file.stat = FileStat::trusted(&meta, self.started_ns);
            }
            let size = usize::try_from(meta.len()).unwrap_or(usize::MAX);
            found.push((relative, size, (!file.header).then_some(file.hash)));
        }
        let mut state = self.state()?;
        for (relative, size, indexed) in found {
            state.index.add(relative, indexed);
            state.bytes += size;
            if let Some(limit) = self.byte_limit
                && state.bytes > limit
            {
                return Err(OutputError::TooLarge {
                    limit,
                    path: relative.to_string(),
                    size,
                });
            }
            state.unchanged += 1;
        }
        Ok(true)
    }
}

impl Drop for TreeUpdate<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.discard();
        }
    }
}

/// Files no longer generated: those obsgen may delete (with their bytes),
/// and those it keeps.
type Stale = (Vec<(String, Vec<u8>)>, Vec<String>);

/// What the comparison found, once every file has come.
struct Concluded {
    state: UpdateState,
    deletes: Vec<(String, Vec<u8>)>,
    kept: Vec<String>,
    index: String,
    old_index: Option<Vec<u8>>,
}

fn poisoned() -> OutputError {
    OutputError::Serialize("a thread writing the output tree panicked".to_string())
}

/// Writes `set` into `out_dir`: creates it, takes its lock (waiting up to
/// the lock timeout), finishes any interrupted build, then writes as
/// [`write_locked`] does.
pub fn write(out_dir: &Path, set: &OutputSet) -> Result<WriteSummary, OutputError> {
    fs::create_dir_all(out_dir).map_err(io("creating", out_dir))?;
    let lock = lock(out_dir, timeout_from_env(), &mut || {})?;
    recover(&lock)?;
    remove_legacy_temporaries(&lock, None)?;
    write_locked(&lock, set)
}

/// Writes `set` into the locked output directory (see the module
/// documentation for how). Call [`recover`] first.
pub fn write_locked(lock: &OutputLock, set: &OutputSet) -> Result<WriteSummary, OutputError> {
    let update = TreeUpdate::new(lock.path(), Mode::Write, None)?;
    update.accept(set)?;
    update.commit()
}

/// Counts write steps; aborts the process at the step `OBSGEN_TEST_ABORT_AFTER_STEPS`
/// names (for the crash test only).
struct Steps {
    taken: usize,
    abort_at: Option<usize>,
}

impl Steps {
    fn from_env() -> Self {
        Steps {
            taken: 0,
            abort_at: std::env::var(ABORT_AFTER_ENV)
                .ok()
                .and_then(|text| text.parse().ok()),
        }
    }

    fn step(&mut self) {
        if self.abort_at == Some(self.taken) {
            // As abrupt as `kill -9`: no destructor, no cleanup.
            std::process::abort();
        }
        self.taken += 1;
    }
}

/// What carrying out a journal did.
#[derive(Default)]
struct Finished {
    written: Vec<String>,
    removed: Vec<String>,
    /// Fresh top-level folders renamed into place whole (their files are
    /// not in `written`).
    whole: Vec<String>,
}

/// One line of a journal.
enum Entry {
    /// A fresh top-level folder staged whole, in the tree's layout.
    Tree {
        top: String,
    },
    Put {
        number: usize,
        path: String,
    },
    Delete {
        hash: String,
        path: String,
    },
}

struct Journal {
    staging: String,
    entries: Vec<Entry>,
}

fn parse_journal(text: &str) -> Option<Journal> {
    let mut staging = None;
    let mut entries = Vec::new();
    let mut ended = false;
    for line in text.lines() {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if ended {
            return None;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        match fields.as_slice() {
            ["staging", name]
                if name.starts_with(STAGING_PREFIX) && !name.contains(['/', '\\']) =>
            {
                staging = Some(name.to_string());
            }
            ["tree", top] if !top.contains('/') && check_path(top).is_ok() => {
                entries.push(Entry::Tree {
                    top: top.to_string(),
                });
            }
            ["put", number, path] if *path == INDEX_FILE || check_path(path).is_ok() => {
                entries.push(Entry::Put {
                    number: number.parse().ok()?,
                    path: path.to_string(),
                });
            }
            ["del", hash, path] if check_path(path).is_ok() => entries.push(Entry::Delete {
                hash: hash.to_string(),
                path: path.to_string(),
            }),
            ["end"] => ended = true,
            _ => return None,
        }
    }
    Some(Journal {
        staging: staging?,
        entries,
    })
    .filter(|_| ended)
}

/// Carries out the committed journal in `out_dir`, then removes it and its
/// staging folder. Idempotent: a staged file already renamed is skipped, a
/// deleted file is gone, so running it again after a kill finishes the job.
fn finish_journal(out_dir: &Path, steps: &mut Steps) -> Result<Finished, OutputError> {
    let journal_path = out_dir.join(JOURNAL_FILE);
    let damaged = || OutputError::DamagedJournal {
        path: journal_path.display().to_string(),
    };
    let text = read_regular(&journal_path)?.ok_or_else(damaged)?;
    let journal = parse_journal(&String::from_utf8_lossy(&text)).ok_or_else(damaged)?;
    let staging = out_dir.join(&journal.staging);
    let staging_is_dir = fs::symlink_metadata(&staging).is_ok_and(|meta| meta.is_dir());
    let mut done = Finished::default();
    // Folders checked for symbolic links and created, each once.
    let mut ready = BTreeSet::new();
    for entry in &journal.entries {
        match entry {
            Entry::Tree { top } => {
                let staged = staging.join(STAGED_TREE).join(top);
                if !staging_is_dir || !fs::symlink_metadata(&staged).is_ok_and(|m| m.is_dir()) {
                    // Switched in by a run killed before it removed the journal.
                    continue;
                }
                steps.step();
                // Fails when something appeared at that path since the
                // build found it missing (or a killed run moved part of
                // the folder already): then file by file.
                if fs::rename(&staged, out_dir.join(top)).is_ok() {
                    done.whole.push(top.clone());
                } else {
                    move_one_by_one(out_dir, &staged, top, steps, &mut ready, &mut done)?;
                }
            }
            Entry::Put { number, path } => {
                if !staging_is_dir {
                    continue;
                }
                let staged = staging.join(number.to_string());
                if !fs::symlink_metadata(&staged).is_ok_and(|meta| meta.is_file()) {
                    continue;
                }
                let target = out_dir.join(path);
                make_ready(out_dir, path, &mut ready)?;
                steps.step();
                fs::rename(&staged, &target).map_err(io("replacing", &target))?;
                if path != INDEX_FILE {
                    done.written.push(path.clone());
                }
            }
            Entry::Delete { hash, path } => {
                if refuse_symlinked_parents(out_dir, path).is_err() {
                    continue;
                }
                let target = out_dir.join(path);
                // Only the very bytes the plan recognised as obsgen's.
                let Some(existing) = read_regular(&target)? else {
                    // Deleted by a run killed before it removed the folders
                    // the deletion emptied.
                    remove_empty_parents(out_dir, &target);
                    continue;
                };
                if !hash_matches(hash, &existing) {
                    continue;
                }
                steps.step();
                fs::remove_file(&target).map_err(io("removing", &target))?;
                done.removed.push(path.clone());
                remove_empty_parents(out_dir, &target);
            }
        }
    }
    steps.step();
    fs::remove_file(&journal_path).map_err(io("removing", &journal_path))?;
    remove_staging(&staging)?;
    Ok(done)
}

/// Checks the folders on the way to `relative` for symbolic links and
/// creates them, once per folder.
fn make_ready(
    out_dir: &Path,
    relative: &str,
    ready: &mut BTreeSet<String>,
) -> Result<(), OutputError> {
    let Some((folder, _)) = relative.rsplit_once('/') else {
        return Ok(());
    };
    if ready.contains(folder) {
        return Ok(());
    }
    refuse_symlinked_parents(out_dir, relative)?;
    let path = out_dir.join(folder);
    fs::create_dir_all(&path).map_err(io("creating", &path))?;
    ready.insert(folder.to_string());
    Ok(())
}

/// Moves the files of a staged fresh folder into place one by one, never
/// over anything already at their path (it stays, and `check` will report
/// it): for a folder that appeared during the build, or that a killed run
/// had started moving.
fn move_one_by_one(
    out_dir: &Path,
    staged_top: &Path,
    top: &str,
    steps: &mut Steps,
    ready: &mut BTreeSet<String>,
    done: &mut Finished,
) -> Result<(), OutputError> {
    let mut files = files_below(staged_top, top)?;
    files.sort();
    for (staged, relative) in files {
        make_ready(out_dir, &relative, ready)?;
        let target = out_dir.join(&relative);
        if fs::symlink_metadata(&target).is_ok() {
            continue;
        }
        steps.step();
        fs::rename(&staged, &target).map_err(io("replacing", &target))?;
        done.written.push(relative);
    }
    Ok(())
}

/// Every file below `dir`, with its path as `relative` followed by its
/// path below `dir`.
fn files_below(dir: &Path, relative: &str) -> Result<Vec<(PathBuf, String)>, OutputError> {
    let mut files = Vec::new();
    let mut folders = vec![(dir.to_path_buf(), relative.to_string())];
    while let Some((folder, relative)) = folders.pop() {
        for entry in fs::read_dir(&folder).map_err(io("listing", &folder))? {
            let entry = entry.map_err(io("listing", &folder))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = format!("{relative}/{name}");
            if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
                folders.push((entry.path(), path));
            } else {
                files.push((entry.path(), path));
            }
        }
    }
    Ok(files)
}

fn remove_staging(path: &Path) -> Result<(), OutputError> {
    match fs::symlink_metadata(path) {
        // `remove_dir_all` does not follow symbolic links inside.
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(path).map_err(io("removing", path)),
        Ok(_) => fs::remove_file(path).map_err(io("removing", path)),
        Err(_) => Ok(()),
    }
}

/// Finishes or discards the remains of an interrupted build in the locked
/// output directory: a committed journal is carried out (the tree becomes
/// the one that build was writing), and staging folders without one are
/// removed (the tree stays the previous one).
pub fn recover(lock: &OutputLock) -> Result<Recovery, OutputError> {
    let out_dir = lock.path();
    let mut recovery = Recovery::default();
    match fs::symlink_metadata(out_dir.join(JOURNAL_FILE)) {
        Ok(_) => {
            let done = finish_journal(out_dir, &mut Steps::from_env())?;
            let mut whole = 0;
            for top in &done.whole {
                whole += files_below(&out_dir.join(top), top)?.len();
            }
            recovery.finished = Some(done.written.len() + done.removed.len() + whole);
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(io("reading", &out_dir.join(JOURNAL_FILE))(error)),
    }
    let entries = fs::read_dir(out_dir).map_err(io("listing", out_dir))?;
    for entry in entries {
        let entry = entry.map_err(io("listing", out_dir))?;
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with(STAGING_PREFIX)
        {
            remove_staging(&entry.path())?;
            recovery.discarded += 1;
        }
    }
    Ok(recovery)
}

/// Removes the temporary files (`.obsgen-tmp-*`) that obsgen wrote beside
/// its targets before it staged its writes, and that a killed run of it
/// left behind, from every folder the index names. Only a build calls it:
/// a stray temporary changes nothing `check` or `diff` compare. Returns how
/// many it removed.
///
/// Listing every generated folder reads a million entries at 100,000
/// services (0.5-0.6 s). So, given `seen`, the sweep records there each
/// folder's metadata as the render cache records files' (and only when its
/// change time was already two seconds old, see [`super::reuse`]): a
/// folder whose metadata is still the recorded one has had no entry added
/// or removed since it was listed, and is not listed again. Adding a file
/// to a folder changes its change time, which no user can set back.
pub fn remove_legacy_temporaries(
    lock: &OutputLock,
    seen: Option<&Path>,
) -> Result<usize, OutputError> {
    let out_dir = lock.path();
    let started_ns = now_ns();
    let mut removed = 0;
    let recorded = seen.map(read_swept).unwrap_or_default();
    let mut record = String::from(SWEPT_HEADER);
    for folder in generated_folders(out_dir)? {
        let path = out_dir.join(&folder);
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        let stat = FileStat::of(&meta);
        if stat.is_some() && recorded.get(folder.as_str()) == stat.as_ref() {
            write_swept_line(&mut record, &folder, stat);
            continue;
        }
        let Ok(entries) = fs::read_dir(&path) else {
            continue;
        };
        let mut removed_here = 0;
        for entry in entries.flatten() {
            if entry
                .file_name()
                .as_encoded_bytes()
                .starts_with(LEGACY_TEMP_PREFIX.as_bytes())
                && entry.file_type().is_ok_and(|t| t.is_file())
            {
                fs::remove_file(entry.path()).map_err(io("removing", &entry.path()))?;
                removed_here += 1;
            }
        }
        removed += removed_here;
        // A folder this sweep changed is listed again next time.
        if removed_here == 0 {
            write_swept_line(&mut record, &folder, FileStat::trusted(&meta, started_ns));
        }
    }
    if let Some(seen) = seen
        && fs::read(seen).ok().as_deref() != Some(record.as_bytes())
    {
        // Without the record the next build only lists every folder.
        let _ = super::reuse::write_cache_file(seen, &record);
    }
    Ok(removed)
}

/// The first line of the record of swept folders.
const SWEPT_HEADER: &str = "# obsgen: output folders listed for temporaries of older versions, with their metadata then. Safe to delete.\n";

fn write_swept_line(record: &mut String, folder: &str, stat: Option<FileStat>) {
    if let Some(stat) = stat {
        stat.write_to(record);
        record.push('\t');
        record.push_str(folder);
        record.push('\n');
    }
}

/// The folders and their metadata a sweep recorded; empty when there is
/// no record or it is not one.
fn read_swept(path: &Path) -> BTreeMap<String, FileStat> {
    let Ok(text) = fs::read_to_string(path) else {
        return BTreeMap::new();
    };
    let Some(lines) = text.strip_prefix(SWEPT_HEADER) else {
        return BTreeMap::new();
    };
    lines
        .lines()
        .filter_map(|line| {
            let (stat, folder) = line.split_once('\t')?;
            Some((folder.to_string(), FileStat::parse(stat)??))
        })
        .collect()
}

/// The folders of the files the index lists (`""` for the output folder
/// itself), each once, when they are safe to look into. Only the folders
/// are needed: the index (a million lines at 100,000 services, sorted, so
/// a folder's files come together) is not parsed into entries.
fn generated_folders(out_dir: &Path) -> Result<BTreeSet<String>, OutputError> {
    let index = read_regular(&out_dir.join(INDEX_FILE))?.unwrap_or_default();
    let mut listed: BTreeSet<&[u8]> = BTreeSet::new();
    let mut last: &[u8] = b"";
    for line in index.split(|&byte| byte == b'\n') {
        let path = line.split(|&byte| byte == b'\t').next().unwrap_or_default();
        let Some(slash) = path.iter().rposition(|&byte| byte == b'/') else {
            continue;
        };
        let folder = path.get(..slash).unwrap_or_default();
        if folder != last && !folder.starts_with(b"#") {
            listed.insert(folder);
            last = folder;
        }
    }
    let mut folders = BTreeSet::new();
    folders.insert(String::new());
    for folder in listed {
        let Ok(folder) = std::str::from_utf8(folder) else {
            continue;
        };
        if check_path(folder).is_ok()
            && refuse_symlinked_parents(out_dir, &format!("{folder}/-")).is_ok()
        {
            folders.insert(folder.to_string());
        }
    }
    Ok(folders)
}

/// Now, in nanoseconds since the Unix epoch (0 when the clock is before it).
fn now_ns() -> i128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i128::try_from(d.as_nanos()).unwrap_or(i128::MAX))
}

/// Creates and writes a new file (failing if the name exists). Not
/// `fsync`ed: the promise is that an interrupted or failed obsgen never
/// leaves a half-written file (the rename gives that), not durability across
/// power loss for output that any build can regenerate; a sync per file cost
/// more than the whole compile of a large repository (see docs/decisions.md).
fn write_new(path: &Path, contents: &[u8]) -> Result<(), OutputError> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(io("writing", path))?;
    file.write_all(contents).map_err(io("writing", path))?;
    Ok(())
}

/// A symlinked directory inside the output tree could redirect a write (or
/// a delete) outside it; obsgen refuses to follow one.
fn refuse_symlinked_parents(out_dir: &Path, relative: &str) -> Result<(), OutputError> {
    let mut current = out_dir.to_path_buf();
    let mut components = relative.split('/').peekable();
    while let Some(component) = components.next() {
        if components.peek().is_none() {
            break;
        }
        current.push(component);
        let is_symlink =
            fs::symlink_metadata(&current).is_ok_and(|meta| meta.file_type().is_symlink());
        if is_symlink {
            return Err(OutputError::UnsafePath {
                path: relative.to_string(),
                reason: "a directory on the way is a symbolic link",
            });
        }
    }
    Ok(())
}

/// Removes directories left empty by pruning, up to (not including) the
/// output directory. A directory holding anything else stays.
fn remove_empty_parents(out_dir: &Path, file: &Path) {
    let mut dir = file.parent();
    while let Some(current) = dir {
        if current == out_dir || !current.starts_with(out_dir) {
            break;
        }
        if fs::remove_dir(current).is_err() {
            break;
        }
        dir = current.parent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(files: &[(&str, &str)]) -> OutputSet {
        let mut set = OutputSet::new();
        for (path, contents) in files {
            set.add(*path, contents.as_bytes()).unwrap();
        }
        set
    }

    const H: &str = "# generated by obsgen — do not edit\n";

    fn ours(body: &str) -> String {
        format!("{H}{body}")
    }

    #[test]
    fn writes_only_changes_and_prunes_only_generated_files() {
        let dir = crate::output::test_dir();
        let out = dir.join("generated");
        let (one, two, three) = (ours("1"), ours("2"), ours("3"));
        let first = write(&out, &set(&[("a/one.yml", &one), ("a/two.yml", &two)])).unwrap();
        assert_eq!(first.written, ["a/one.yml", "a/two.yml"]);
        fs::write(out.join("a/mine.txt"), "user file").unwrap();

        let second = write(&out, &set(&[("a/one.yml", &one), ("b/three.yml", &three)])).unwrap();
        assert_eq!(second.written, ["b/three.yml"]);
        assert_eq!(second.unchanged, 1);
        assert_eq!(second.removed, ["a/two.yml"]);
        assert!(!out.join("a/two.yml").exists());
        assert_eq!(
            fs::read_to_string(out.join("a/mine.txt")).unwrap(),
            "user file"
        );
        assert_eq!(read_index(&out).unwrap(), ["a/one.yml", "b/three.yml"]);

        let third = write(&out, &set(&[("a/one.yml", &one)])).unwrap();
        assert_eq!(third.removed, ["b/three.yml"]);
        assert!(
            !out.join("b").exists(),
            "an emptied generated directory is removed"
        );
        let names: Vec<_> = fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names.iter().all(|n| n == "a" || n == INDEX_FILE),
            "nothing but the tree and its index is left: {names:?}"
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_tampered_index_cannot_delete_outside_or_a_users_file() {
        let dir = crate::output::test_dir();
        let out = dir.join("generated");
        fs::create_dir_all(&out).unwrap();
        fs::write(dir.join("precious"), ours("keep")).unwrap();
        fs::write(out.join("notes.txt"), "mine").unwrap();
        fs::write(
            out.join(INDEX_FILE),
            format!(
                "../precious\n{}\nnotes.txt\nnotes.txt\tfnv1a64:0000000000000000\n",
                dir.join("precious").display()
            ),
        )
        .unwrap();
        let summary = write(&out, &OutputSet::new()).unwrap();
        assert!(dir.join("precious").exists());
        assert!(out.join("notes.txt").exists());
        assert_eq!(summary.kept, ["notes.txt"]);
        assert!(summary.removed.is_empty());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_users_file_at_a_generated_path_is_never_overwritten() {
        let dir = crate::output::test_dir();
        fs::create_dir_all(dir.join("a")).unwrap();
        fs::write(dir.join("a/x.yml"), "mine: true\n").unwrap();
        let error = write(
            &dir,
            &set(&[("a/x.yml", &ours("x")), ("b.yml", &ours("b"))]),
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("a/x.yml"), "{error}");
        assert!(error.contains("did not generate"), "{error}");
        assert_eq!(
            fs::read_to_string(dir.join("a/x.yml")).unwrap(),
            "mine: true\n"
        );
        assert!(!dir.join("b.yml").exists(), "nothing written");
        assert!(!dir.join(INDEX_FILE).exists());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn files_without_a_header_are_recognised_by_their_hash() {
        let dir = crate::output::test_dir();
        write(&dir, &set(&[("sd.json", "[1]"), ("other.json", "[2]")])).unwrap();
        let index = fs::read_to_string(dir.join(INDEX_FILE)).unwrap();
        assert!(index.contains("sd.json\txxh3:"), "{index}");
        // Changing obsgen's own JSON file is fine…
        write(&dir, &set(&[("sd.json", "[3]"), ("other.json", "[2]")])).unwrap();
        // …but not once a user edited it.
        fs::write(dir.join("sd.json"), "[\"mine\"]").unwrap();
        assert!(write(&dir, &set(&[("sd.json", "[4]")])).is_err());
        // Nor is an edited one pruned.
        fs::write(dir.join("other.json"), "[\"edited\"]").unwrap();
        fs::write(dir.join("sd.json"), "[3]").unwrap();
        let summary = write(&dir, &set(&[("sd.json", "[4]")])).unwrap();
        assert_eq!(summary.kept, ["other.json"]);
        assert!(dir.join("other.json").exists());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_index_with_an_older_hash_still_proves_ownership() {
        let dir = crate::output::test_dir();
        write(&dir, &set(&[("sd.json", "[1]"), ("other.json", "[2]")])).unwrap();
        // The index as obsgen wrote it before XXH3: word-wise FNV-1a.
        let older = |bytes: &[u8]| {
            format!(
                "fnv1a64w:{:016x}",
                crate::output::ownership::fnv1a64_words(bytes)
            )
        };
        let index = format!(
            "{}other.json\t{}\nsd.json\t{}\n",
            crate::output::index::INDEX_HEADER,
            older(b"[2]"),
            older(b"[1]")
        );
        fs::write(dir.join(INDEX_FILE), &index).unwrap();
        // obsgen's own file is replaced, a user's edit is kept, and the
        // index is written with the current hash.
        fs::write(dir.join("other.json"), "[\"edited\"]").unwrap();
        let summary = write(&dir, &set(&[("sd.json", "[3]")])).unwrap();
        assert_eq!(fs::read_to_string(dir.join("sd.json")).unwrap(), "[3]");
        assert_eq!(summary.kept, ["other.json"]);
        let index = fs::read_to_string(dir.join(INDEX_FILE)).unwrap();
        assert!(index.contains("sd.json\txxh3:"), "{index}");
        assert!(!index.contains("fnv1a64w:"), "{index}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn symlinked_directories_are_not_followed() {
        let dir = crate::output::test_dir();
        let out = dir.join("generated");
        let elsewhere = dir.join("elsewhere");
        fs::create_dir_all(&out).unwrap();
        fs::create_dir_all(&elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, out.join("a")).unwrap();
        let result = write(&out, &set(&[("a/x.yml", "x")]));
        assert!(matches!(result, Err(OutputError::UnsafePath { .. })));
        assert!(!elsewhere.join("x.yml").exists());
        // Nor a symlinked file: it is replaced by nothing and read never.
        std::os::unix::fs::symlink(dir.join("secret"), out.join("b.yml")).unwrap();
        fs::write(dir.join("secret"), ours("secret")).unwrap();
        let result = write(&out, &set(&[("b.yml", &ours("b"))]));
        assert!(matches!(result, Err(OutputError::NotOurs { .. })));
        assert_eq!(
            fs::read_to_string(dir.join("secret")).unwrap(),
            ours("secret")
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    fn locked(dir: &Path) -> OutputLock {
        lock(dir, std::time::Duration::ZERO, &mut || {}).unwrap()
    }

    #[test]
    fn the_sweep_lists_again_only_folders_whose_metadata_changed() {
        let dir = crate::output::test_dir();
        let out = dir.join("out");
        for folder in ["a", "b"] {
            fs::create_dir_all(out.join(folder)).unwrap();
            fs::write(out.join(folder).join("x.yml"), "x").unwrap();
        }
        fs::write(
            out.join(INDEX_FILE),
            format!("{}a/x.yml\nb/x.yml\n", crate::output::index::INDEX_HEADER),
        )
        .unwrap();
        let seen = dir.join("swept");
        let sweep = |seen: Option<&Path>| remove_legacy_temporaries(&locked(&out), seen).unwrap();
        let recorded = || read_swept(&seen).into_keys().collect::<Vec<_>>();

        // Folders changed within the last two seconds are not recorded.
        assert_eq!(sweep(Some(&seen)), 0);
        assert!(recorded().is_empty(), "{:?}", recorded());
        std::thread::sleep(std::time::Duration::from_millis(2100));
        assert_eq!(sweep(Some(&seen)), 0);
        assert_eq!(recorded(), ["", "a", "b"]);

        // A temporary changes its folder's metadata: that folder is listed
        // again, and recorded again once this sweep's own change is old.
        fs::write(out.join("a/.obsgen-tmp-x.yml"), "half").unwrap();
        assert_eq!(sweep(Some(&seen)), 1);
        assert!(!out.join("a/.obsgen-tmp-x.yml").exists());
        assert_eq!(recorded(), ["", "b"]);

        // A folder whose metadata is the recorded one is not listed: here
        // the record is made to say what `b` is now, temporary included.
        fs::write(out.join("b/.obsgen-tmp-x.yml"), "half").unwrap();
        let mut record = String::from(SWEPT_HEADER);
        let now = FileStat::of(&fs::symlink_metadata(out.join("b")).unwrap());
        write_swept_line(&mut record, "b", now);
        fs::write(&seen, record).unwrap();
        assert_eq!(sweep(Some(&seen)), 0);
        assert!(out.join("b/.obsgen-tmp-x.yml").exists());
        // Without a record every folder is listed.
        assert_eq!(sweep(None), 1);
        assert!(!out.join("b/.obsgen-tmp-x.yml").exists());
        // A damaged record is no record.
        fs::write(out.join("b/.obsgen-tmp-y.yml"), "half").unwrap();
        fs::write(&seen, "not a record\n").unwrap();
        assert_eq!(sweep(Some(&seen)), 1);
    }

    #[test]
    fn a_committed_journal_is_finished_and_uncommitted_staging_discarded() {
        let dir = crate::output::test_dir();
        write(
            &dir,
            &set(&[("a.yml", &ours("old")), ("gone.yml", &ours("g"))]),
        )
        .unwrap();
        // A build killed after its commit point: the journal and staging remain.
        let staging = dir.join(format!("{STAGING_PREFIX}1-2"));
        fs::create_dir(&staging).unwrap();
        fs::write(staging.join("0"), ours("new")).unwrap();
        fs::write(
            staging.join("1"),
            format!("{}a.yml\n", crate::output::index::INDEX_HEADER),
        )
        .unwrap();
        fs::write(
            dir.join(JOURNAL_FILE),
            format!(
                "{JOURNAL_HEADER}staging\t{STAGING_PREFIX}1-2\nput\t0\ta.yml\ndel\t{}\tgone.yml\nput\t1\t{INDEX_FILE}\nend\n",
                content_hash(ours("g").as_bytes())
            ),
        )
        .unwrap();
        // And a build killed before its commit point.
        fs::create_dir(dir.join(format!("{STAGING_PREFIX}3-4"))).unwrap();
        fs::write(dir.join(format!("{STAGING_PREFIX}3-4/0")), "half").unwrap();
        // And a temporary of an older obsgen: only a build's sweep removes it.
        fs::write(dir.join(".obsgen-tmp-a.yml"), "half").unwrap();
        let recovery = recover(&locked(&dir)).unwrap();
        assert_eq!(recovery.finished, Some(2));
        assert_eq!(recovery.discarded, 1);
        assert!(dir.join(".obsgen-tmp-a.yml").exists());
        assert_eq!(remove_legacy_temporaries(&locked(&dir), None).unwrap(), 1);
        let names: BTreeSet<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, BTreeSet::from(["a.yml".into(), INDEX_FILE.into()]));
        assert_eq!(fs::read_to_string(dir.join("a.yml")).unwrap(), ours("new"));
        assert!(recover(&locked(&dir)).unwrap().is_clean());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn fresh_folders_are_switched_in_whole_and_never_over_a_file_that_appeared() {
        let dir = crate::output::test_dir();
        let summary = write(
            &dir,
            &set(&[
                ("top.yml", &ours("t")),
                ("new/a.yml", &ours("a")),
                ("new/deep/b.yml", &ours("b")),
            ]),
        )
        .unwrap();
        assert_eq!(summary.written, ["new/a.yml", "new/deep/b.yml", "top.yml"]);
        assert_eq!(
            fs::read_to_string(dir.join("new/deep/b.yml")).unwrap(),
            ours("b")
        );

        // A committed switch of a whole folder, and meanwhile a user's file
        // appeared where the folder goes: it stays, the rest moves in.
        let staging = dir.join(format!("{STAGING_PREFIX}1-2"));
        fs::create_dir_all(staging.join("tree/more/deep")).unwrap();
        fs::write(staging.join("tree/more/x.yml"), ours("x")).unwrap();
        fs::write(staging.join("tree/more/deep/y.yml"), ours("y")).unwrap();
        fs::create_dir(dir.join("more")).unwrap();
        fs::write(dir.join("more/x.yml"), "mine").unwrap();
        fs::write(
            dir.join(JOURNAL_FILE),
            format!("{JOURNAL_HEADER}staging\t{STAGING_PREFIX}1-2\ntree\tmore\nend\n"),
        )
        .unwrap();
        let recovery = recover(&locked(&dir)).unwrap();
        assert_eq!(recovery.finished, Some(1));
        assert_eq!(fs::read_to_string(dir.join("more/x.yml")).unwrap(), "mine");
        assert_eq!(
            fs::read_to_string(dir.join("more/deep/y.yml")).unwrap(),
            ours("y")
        );
        assert!(!staging.exists());

        // Switched in whole by recovery: every file counted.
        fs::create_dir_all(staging.join("tree/whole/deep")).unwrap();
        fs::write(staging.join("tree/whole/x.yml"), ours("x")).unwrap();
        fs::write(staging.join("tree/whole/deep/y.yml"), ours("y")).unwrap();
        fs::write(
            dir.join(JOURNAL_FILE),
            format!("{JOURNAL_HEADER}staging\t{STAGING_PREFIX}1-2\ntree\twhole\nend\n"),
        )
        .unwrap();
        assert_eq!(recover(&locked(&dir)).unwrap().finished, Some(2));
        assert_eq!(
            fs::read_to_string(dir.join("whole/x.yml")).unwrap(),
            ours("x")
        );
        assert!(recover(&locked(&dir)).unwrap().is_clean());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn files_are_compared_with_the_disk_piece_by_piece() {
        let dir = crate::output::test_dir();
        let path = dir.join("big.yml");
        // Over three pieces, with a header.
        let mut contents = ours("x").into_bytes();
        contents.resize(COMPARE_PIECE * 3 + 17, b'a');
        fs::write(&path, &contents).unwrap();
        let compare = |contents: &[u8], header_suffices| match compare_with_disk(
            &path,
            contents,
            header_suffices,
        )
        .unwrap()
        {
            Compared::Missing => "missing".to_string(),
            Compared::Same => "same".to_string(),
            Compared::OursByHeader => "ours".to_string(),
            Compared::Differs(bytes) => format!("differs {}", bytes.len()),
            Compared::Other(what) => what.to_string(),
        };
        assert_eq!(compare(&contents, true), "same");
        let whole = format!("differs {}", contents.len());
        // A byte changed in the last piece, or one more byte.
        let mut changed = contents.clone();
        *changed.last_mut().unwrap() = b'b';
        assert_eq!(compare(&changed, false), whole);
        assert_eq!(compare(&changed, true), "ours");
        let mut longer = contents.clone();
        longer.push(b'a');
        assert_eq!(compare(&longer, false), whole);
        assert_eq!(compare(&contents[1..], false), whole);
        // Without a header, the bytes are needed to recognise it.
        let plain = vec![b'p'; COMPARE_PIECE + 5];
        fs::write(&path, &plain).unwrap();
        assert_eq!(
            compare(&plain[1..], true),
            format!("differs {}", plain.len())
        );
        fs::remove_file(&path).unwrap();
        assert_eq!(compare(&contents, true), "missing");
        fs::create_dir(&path).unwrap();
        assert_eq!(compare(&contents, true), "a directory");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_hashed_in_pieces_hashes_as_a_whole() {
        let dir = crate::output::test_dir();
        let path = dir.join("f");
        for len in [0, 7, 8, 4097, COMPARE_PIECE, COMPARE_PIECE * 2 + 13] {
            let mut contents = ours("x").into_bytes();
            contents.extend((0..len).map(|i| (i % 251) as u8));
            fs::write(&path, &contents).unwrap();
            assert_eq!(
                hash_file(&path, contents.len()).unwrap(),
                Some((hash64(&contents), true)),
                "{len}"
            );
            assert_eq!(hash_file(&path, contents.len() + 1).unwrap(), None);
            assert_eq!(hash_file(&path, contents.len() - 1).unwrap(), None);
            fs::write(&path, &contents[1..]).unwrap();
            assert_eq!(
                hash_file(&path, contents.len() - 1).unwrap(),
                Some((hash64(&contents[1..]), has_header(&contents[1..])))
            );
        }
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_damaged_journal_is_an_error_not_a_guess() {
        let dir = crate::output::test_dir();
        fs::write(dir.join(JOURNAL_FILE), "put\t0\t../../x\nend\n").unwrap();
        let error = recover(&locked(&dir)).unwrap_err().to_string();
        assert!(error.contains(JOURNAL_FILE), "{error}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
