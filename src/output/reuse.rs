//! Keeping the files of services whose inputs did not change.
//!
//! Rendering is most of a build's time, and in a platform repository of
//! thousands of services a commit touches a few. After each build obsgen
//! records, per service, the fingerprint of what its files were rendered
//! from ([`crate::model::fingerprint`]) and the hash of each file it
//! rendered. The next `build`, `check` or `diff` skips rendering a service
//! whose fingerprint is the same **and** whose files on disk still hash to
//! what was rendered; anything else (an edited or deleted file, another
//! obsgen binary, a changed platform or neighbour) renders as before. So a
//! skipped service's files are byte for byte what rendering would produce,
//! and the cache can only make a run faster, never different: deleting it
//! is always safe.
//!
//! Reading every file back costs as much as a `cp -r` of the tree, so, as
//! git does for its index, the cache also records each file's metadata
//! (size, modification and change times, inode) when its bytes were last
//! read and hashed: a file whose metadata is unchanged is not read again.
//! Any write to a file, or a `touch`, changes its change time (`ctime`),
//! which no user can set back; and metadata is only recorded for a file
//! whose change time was already two seconds old when it was read, so a
//! write within the file system's timestamp granularity after the read
//! ("racy" in git's words) cannot go unseen.
//!
//! The cache is machine-local, not part of the output tree (it names the
//! binary that rendered the files, by size and modification time): it lives
//! in `.obsgen-cache/` at the repository root, one file per output
//! directory, and that folder holds a `.gitignore` of `*` so that it is
//! never committed. Only `build` writes it; `check` and `diff` only read.
//! Beside it, a build keeps the record of the output folders it looked
//! through for older versions' temporaries ([`swept_path`]).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::ownership::hash64;

/// The cache line of the shared files rendered in parts (every
/// environment's `prometheus.yml`, say), kept when nothing in the model
/// changed; `*` sorts before every service name, which starts with a
/// letter.
pub const SHARED_ENTRY: &str = "*shared";

/// The hash the cache records for a file's bytes.
pub fn hash(contents: &[u8]) -> u64 {
    hash64(contents)
}

pub use super::ownership::has_header;

/// The cache folder, at the repository root.
pub const CACHE_DIR: &str = ".obsgen-cache";
const HEADER: &str = "# obsgen render cache v2: per service, its fingerprint and, for each file rendered for it, the hash of its bytes, whether it has a generated header, and its metadata when last read. Safe to delete.\n";

/// A file's metadata, as far as it tells whether the file changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStat {
    pub size: u64,
    pub modified_ns: i128,
    pub changed_ns: i128,
    pub inode: u64,
}

/// How long before a run a file's change time must be for its metadata to
/// be recorded (see the module documentation).
const RACY_NS: i128 = 2_000_000_000;

impl FileStat {
    /// The metadata of a file read by this run, started at `run_started_ns`;
    /// `None` when it changed too recently to trust, or the platform has
    /// no change times.
    pub fn trusted(meta: &std::fs::Metadata, run_started_ns: i128) -> Option<Self> {
        let stat = Self::of(meta)?;
        (stat.changed_ns + RACY_NS < run_started_ns).then_some(stat)
    }

    /// The metadata of a file.
    #[cfg(unix)]
    pub fn of(meta: &std::fs::Metadata) -> Option<Self> {
        use std::os::unix::fs::MetadataExt;
        Some(Self {
            size: meta.size(),
            modified_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
            changed_ns: i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec()),
            inode: meta.ino(),
        })
    }

    #[cfg(not(unix))]
    pub fn of(_meta: &std::fs::Metadata) -> Option<Self> {
        None
    }

    /// Appends the metadata as the cache records it.
    pub fn write_to(&self, out: &mut String) {
        let _ = write!(
            out,
            "{}:{}:{}:{}",
            self.size, self.modified_ns, self.changed_ns, self.inode
        );
    }

    /// Reads metadata [`FileStat::write_to`] wrote (`-`: none recorded).
    pub fn parse(text: &str) -> Option<Option<Self>> {
        if text == "-" {
            return Some(None);
        }
        let mut parts = text.split(':');
        let stat = Self {
            size: parts.next()?.parse().ok()?,
            modified_ns: parts.next()?.parse().ok()?,
            changed_ns: parts.next()?.parse().ok()?,
            inode: parts.next()?.parse().ok()?,
        };
        parts.next().is_none().then_some(Some(stat))
    }
}

/// What the cache records about one file of a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedFile<'a> {
    pub path: &'a str,
    /// [`hash64`] of its bytes.
    pub hash: u64,
    /// Whether it starts with obsgen's generated header.
    pub header: bool,
    /// Its metadata when its bytes were last read and hashed, if trusted.
    pub stat: Option<FileStat>,
}

/// Identifies the running obsgen binary: its version, size and
/// modification time. `None` when the binary cannot be found, and then
/// nothing is reused.
pub fn binary_salt() -> Option<u64> {
    let exe = std::env::current_exe().ok()?;
    let meta = std::fs::metadata(exe).ok()?;
    let modified = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    let identity = format!(
        "{}\n{}\n{}",
        env!("CARGO_PKG_VERSION"),
        meta.len(),
        modified.as_nanos()
    );
    Some(hash64(identity.as_bytes()))
}

/// The cache file of the output directory `out_dir`, under `root`.
pub fn cache_path(root: &Path, out_dir: &Path) -> PathBuf {
    cache_file(root, out_dir, "render")
}

/// Where a build records the metadata of the output folders it listed
/// for temporaries of older obsgen versions (see
/// [`super::write::remove_legacy_temporaries`]): beside the render cache.
pub fn swept_path(root: &Path, out_dir: &Path) -> PathBuf {
    cache_file(root, out_dir, "swept")
}

fn cache_file(root: &Path, out_dir: &Path, kind: &str) -> PathBuf {
    let out = out_dir
        .canonicalize()
        .unwrap_or_else(|_| out_dir.to_path_buf());
    // The folder's name hash is FNV-1a, as before XXH3: a cache file
    // keeps its name across obsgen versions instead of leaving one behind.
    let name = format!(
        "{kind}-{:016x}",
        super::ownership::fnv1a64_words(out.to_string_lossy().as_bytes())
    );
    root.join(CACHE_DIR).join(name)
}

/// What a previous build recorded: one line per service, sorted by name,
/// `name \t fingerprint \t (path \t hash)*`. Kept as the file's text, so
/// that a cache of 100,000 services costs one allocation.
#[derive(Debug, Default)]
pub struct ReuseCache {
    text: String,
    /// Where each service's line starts and ends in `text`, by name.
    lines: Vec<(usize, usize)>,
}

impl ReuseCache {
    /// Reads the cache at `path`; empty when it is missing or not one.
    pub fn read(path: &Path) -> Self {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(text),
            Err(_) => Self::default(),
        }
    }

    fn parse(text: String) -> Self {
        if !text.starts_with(HEADER) {
            return Self::default();
        }
        let mut lines = Vec::new();
        let mut start = HEADER.len();
        for line in text.get(start..).unwrap_or_default().split_inclusive('\n') {
            let end = start + line.len();
            lines.push((start, end - usize::from(line.ends_with('\n'))));
            start = end;
        }
        let cache = Self { text, lines };
        // Lines out of order would defeat the binary search: not a cache
        // obsgen wrote, so nothing is reused.
        let sorted = cache.lines.windows(2).all(|pair| match pair {
            [a, b] => cache.name_of(*a) < cache.name_of(*b),
            _ => true,
        });
        if sorted { cache } else { Self::default() }
    }

    /// Whether the cache's text is exactly `lines`, as [`write`] would
    /// write them.
    pub fn holds(&self, lines: &[std::borrow::Cow<'_, str>]) -> bool {
        let Some(mut rest) = self.text.strip_prefix(HEADER) else {
            return false;
        };
        for line in lines {
            match rest
                .strip_prefix(line.as_ref())
                .and_then(|after| after.strip_prefix('\n'))
            {
                Some(after) => rest = after,
                None => return false,
            }
        }
        rest.is_empty()
    }

    fn line(&self, (start, end): (usize, usize)) -> &str {
        self.text.get(start..end).unwrap_or_default()
    }

    fn name_of(&self, range: (usize, usize)) -> &str {
        self.line(range).split('\t').next().unwrap_or_default()
    }

    /// The files recorded for `service`, when its recorded fingerprint is
    /// `fingerprint`.
    pub fn files(&self, service: &str, fingerprint: u64) -> Option<Vec<RecordedFile<'_>>> {
        self.recorded(service, fingerprint).map(|(files, _)| files)
    }

    /// [`ReuseCache::files`], and the line they were read from (which a run
    /// that changes nothing about them records again as it is).
    pub fn recorded(
        &self,
        service: &str,
        fingerprint: u64,
    ) -> Option<(Vec<RecordedFile<'_>>, &str)> {
        let position = self
            .lines
            .binary_search_by(|&range| self.name_of(range).cmp(service))
            .ok()?;
        let line = self.line(*self.lines.get(position)?);
        let mut fields = line.split('\t').skip(1);
        let recorded = u64::from_str_radix(fields.next()?, 16).ok()?;
        if recorded != fingerprint {
            return None;
        }
        let mut files = Vec::new();
        while let Some(path) = fields.next() {
            let hash = u64::from_str_radix(fields.next()?, 16).ok()?;
            let header = match fields.next()? {
                "h" => true,
                "-" => false,
                _ => return None,
            };
            let stat = FileStat::parse(fields.next()?)?;
            files.push(RecordedFile {
                path,
                hash,
                header,
                stat,
            });
        }
        Some((files, line))
    }
}

/// A file's fields in a cache line but for its path and metadata: four
/// tabs, a hash of up to 16 hexadecimal digits and the header mark.
const FILE_FIELDS_MAX: usize = 4 + 16 + 1;
/// The longest metadata [`FileStat::write_to`] writes for a real file: four
/// numbers of up to 20 digits (times in nanoseconds have 19 until 2286)
/// and three colons.
const STAT_MAX: usize = 4 * 20 + 3;

/// The most an [`entry`] line can take, so that it is never grown: growing
/// doubles, and the first build after a fresh one of 100,000 services
/// peaked at 1,017 MiB with lines that grew, 864 MiB without.
fn entry_capacity(service: &str, files: &[RecordedFile<'_>]) -> usize {
    let per_file: usize = files
        .iter()
        .map(|file| {
            let stat = if file.stat.is_some() { STAT_MAX } else { 1 };
            file.path.len() + FILE_FIELDS_MAX + stat
        })
        .sum();
    // A tab and a fingerprint of up to 16 hexadecimal digits.
    service.len() + 17 + per_file
}

/// The line recorded for a service: its name, fingerprint and files
/// (without the line's end).
pub fn entry(service: &str, fingerprint: u64, files: &[RecordedFile<'_>]) -> String {
    let mut line = String::with_capacity(entry_capacity(service, files));
    let _ = write!(line, "{service}\t{fingerprint:x}");
    for file in files {
        let header = if file.header { "h" } else { "-" };
        let _ = write!(line, "\t{}\t{:x}\t{header}\t", file.path, file.hash);
        match file.stat {
            Some(stat) => stat.write_to(&mut line),
            None => line.push('-'),
        }
    }
    line
}

/// The line recorded for a service whose files were just rendered (their
/// metadata is not known until the next run reads them); `hashes` are
/// their [`hash`]es, in the set's order.
pub fn rendered_entry(
    service: &str,
    fingerprint: u64,
    files: &super::OutputSet,
    hashes: &[u64],
) -> String {
    let files: Vec<RecordedFile<'_>> = files
        .iter()
        .enumerate()
        .map(|(at, (path, contents))| RecordedFile {
            path,
            hash: hashes.get(at).copied().unwrap_or_else(|| hash64(contents)),
            header: super::ownership::has_header(contents),
            stat: None,
        })
        .collect();
    entry(service, fingerprint, &files)
}

/// Writes the cache (lines in service-name order) to `path`, replacing it
/// in one rename; creates the cache folder with its `.gitignore`.
pub fn write(path: &Path, lines: &[std::borrow::Cow<'_, str>]) -> std::io::Result<()> {
    let mut text = String::with_capacity(
        HEADER.len() + lines.iter().map(|line| line.len() + 1).sum::<usize>(),
    );
    text.push_str(HEADER);
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    write_cache_file(path, &text)
}

/// Writes a file of the cache folder whole (a temporary, then a rename),
/// creating the folder and its `.gitignore` when missing.
pub fn write_cache_file(path: &Path, text: &str) -> std::io::Result<()> {
    let Some(folder) = path.parent() else {
        return Ok(());
    };
    std::fs::create_dir_all(folder)?;
    let ignore = folder.join(".gitignore");
    if !ignore.exists() {
        std::fs::write(
            &ignore,
            "# obsgen's render cache and sweep record: machine-local, never committed.\n*\n",
        )?;
    }
    let temporary = path.with_extension(format!("tmp-{}", std::process::id()));
    std::fs::write(&temporary, text)?;
    std::fs::rename(&temporary, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&temporary);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_a_changed_fingerprint_reuses_nothing() {
        let stat = FileStat {
            size: 10,
            modified_ns: 1_700_000_000_000_000_001,
            changed_ns: 1_700_000_000_000_000_002,
            inode: 42,
        };
        let recorded = vec![
            RecordedFile {
                path: "x/a.yml",
                hash: 7,
                header: true,
                stat: Some(stat),
            },
            RecordedFile {
                path: "y/a.json",
                hash: 0xff,
                header: false,
                stat: None,
            },
        ];
        let lines = vec![
            entry("a", 0x1f, &recorded).into(),
            entry("b", 2, &[]).into(),
        ];
        let folder = std::env::temp_dir().join(format!("obsgen-reuse-{}", std::process::id()));
        let path = folder.join(CACHE_DIR).join("render-test");
        write(&path, &lines).unwrap();
        let cache = ReuseCache::read(&path);
        assert_eq!(cache.files("a", 0x1f), Some(recorded));
        assert_eq!(cache.files("b", 2), Some(vec![]));
        assert_eq!(cache.files("a", 0x1e), None);
        assert_eq!(cache.files("c", 2), None);
        // The cache holds exactly the lines it was written from: no fewer,
        // no more, none changed.
        assert!(cache.holds(&lines));
        assert!(!cache.holds(&lines[..1]));
        let mut more = lines.clone();
        more.push(entry("c", 3, &[]).into());
        assert!(!cache.holds(&more));
        let changed: Vec<std::borrow::Cow<'_, str>> =
            vec![lines[0].clone(), entry("b", 3, &[]).into()];
        assert!(!cache.holds(&changed));
        assert!(!ReuseCache::default().holds(&[]));
        assert!(ReuseCache::parse(HEADER.to_string()).holds(&[]));
        assert!(!ReuseCache::parse(format!("{HEADER}a\t1\n")).holds(&["a\t1".into(), "".into()]));
        assert!(
            std::fs::read_to_string(folder.join(CACHE_DIR).join(".gitignore"))
                .unwrap()
                .contains("\n*\n")
        );
        std::fs::remove_dir_all(&folder).unwrap();
    }

    #[test]
    fn a_line_is_written_without_growing_its_string() {
        let longest = FileStat {
            size: u64::MAX,
            modified_ns: 9_999_999_999_999_999_999,
            changed_ns: 9_999_999_999_999_999_999,
            inode: u64::MAX,
        };
        let file = |stat| RecordedFile {
            path: "grafana/dashboards/payments/a-long-service-name.json",
            hash: u64::MAX,
            header: false,
            stat,
        };
        for files in [
            vec![file(Some(longest)); 12],
            vec![file(None); 12],
            vec![file(Some(longest)), file(None)],
            vec![],
        ] {
            let line = entry("a-long-service-name", u64::MAX, &files);
            // A grown string has at least twice the capacity it started with.
            assert_eq!(
                line.capacity(),
                entry_capacity("a-long-service-name", &files)
            );
            assert!(line.len() <= line.capacity());
        }
    }

    #[test]
    fn anything_but_a_cache_obsgen_wrote_is_empty() {
        for text in [
            "",
            "a\t1\n",
            &format!("{HEADER}b\t1\na\t1\n"),
            &format!("{HEADER}a\tzz\n"),
        ] {
            let cache = ReuseCache::parse(text.to_string());
            assert_eq!(cache.files("a", 1), None, "{text:?}");
        }
        // A truncated line (a path without its hash) is not reused either.
        for line in [
            "a\t1\tx/a.yml",
            "a\t1\tx/a.yml\t1\th",
            "a\t1\tx/a.yml\t1\tx\t-",
            "a\t1\tx/a.yml\t1\th\t1:2",
        ] {
            let cache = ReuseCache::parse(format!("{HEADER}{line}\n"));
            assert_eq!(cache.files("a", 1), None, "{line}");
        }
        let cache = ReuseCache::parse(format!("{HEADER}a\t1\tx/a.yml\t1\th\t-\n"));
        assert!(cache.files("a", 1).is_some());
    }
}
