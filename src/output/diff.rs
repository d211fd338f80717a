//! Comparing an [`OutputSet`] with the tree on disk: the golden diff that
//! `obsgen diff` prints and `obsgen check` fails on.

use std::fs;
use std::path::Path;

use similar::TextDiff;

use super::{OutputError, OutputSet, read_index};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Modified,
    Removed,
}

/// One file that differs between the set and the disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub path: String,
    pub kind: ChangeKind,
    /// What is on disk (empty when added).
    pub old: Vec<u8>,
    /// What obsgen would write (empty when removed).
    pub new: Vec<u8>,
}

/// Every file `write` would add, change or remove, sorted by path.
pub fn changes(out_dir: &Path, set: &OutputSet) -> Result<Vec<Change>, OutputError> {
    let mut changes = Vec::new();
    for (path, contents) in set.iter() {
        let target = out_dir.join(path);
        match fs::read(&target) {
            Ok(existing) if existing == contents => {}
            Ok(existing) => changes.push(Change {
                path: path.to_string(),
                kind: ChangeKind::Modified,
                old: existing,
                new: contents.to_vec(),
            }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => changes.push(Change {
                path: path.to_string(),
                kind: ChangeKind::Added,
                old: Vec::new(),
                new: contents.to_vec(),
            }),
            Err(source) => {
                return Err(OutputError::Io {
                    action: "reading",
                    path: target.display().to_string(),
                    source,
                });
            }
        }
    }
    for old in read_index(out_dir)? {
        if set.get(&old).is_some() {
            continue;
        }
        if let Ok(existing) = fs::read(out_dir.join(&old)) {
            changes.push(Change {
                path: old,
                kind: ChangeKind::Removed,
                old: existing,
                new: Vec::new(),
            });
        }
    }
    changes.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(changes)
}

/// A unified diff of all changes, `git diff` style, optionally coloured.
pub fn render_unified(changes: &[Change], out_prefix: &str, colour: bool) -> String {
    let mut text = String::new();
    for change in changes {
        let old = String::from_utf8_lossy(&change.old);
        let new = String::from_utf8_lossy(&change.new);
        let a = match change.kind {
            ChangeKind::Added => "/dev/null".to_string(),
            _ => format!("a/{out_prefix}{}", change.path),
        };
        let b = match change.kind {
            ChangeKind::Removed => "/dev/null".to_string(),
            _ => format!("b/{out_prefix}{}", change.path),
        };
        let diff = TextDiff::from_lines(old.as_ref(), new.as_ref());
        let body = diff
            .unified_diff()
            .context_radius(3)
            .header(&a, &b)
            .to_string();
        if colour {
            for line in body.lines() {
                let (start, end) = if line.starts_with("+++") || line.starts_with("---") {
                    ("\x1b[1m", "\x1b[0m")
                } else if line.starts_with('+') {
                    ("\x1b[32m", "\x1b[0m")
                } else if line.starts_with('-') {
                    ("\x1b[31m", "\x1b[0m")
                } else if line.starts_with("@@") {
                    ("\x1b[36m", "\x1b[0m")
                } else {
                    ("", "")
                };
                text.push_str(start);
                text.push_str(line);
                text.push_str(end);
                text.push('\n');
            }
        } else {
            text.push_str(&body);
            if !body.ends_with('\n') {
                text.push('\n');
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::write;

    #[test]
    fn reports_added_modified_and_removed() {
        let dir = crate::output::test_dir();
        let mut first = OutputSet::new();
        first.add("a.yml", "x: 1\n").unwrap();
        first.add("gone.yml", "y: 1\n").unwrap();
        write(&dir, &first).unwrap();

        let mut second = OutputSet::new();
        second.add("a.yml", "x: 2\n").unwrap();
        second.add("new.yml", "z: 1\n").unwrap();
        let found = changes(&dir, &second).unwrap();
        let kinds: Vec<_> = found.iter().map(|c| (c.path.as_str(), c.kind)).collect();
        assert_eq!(
            kinds,
            [
                ("a.yml", ChangeKind::Modified),
                ("gone.yml", ChangeKind::Removed),
                ("new.yml", ChangeKind::Added)
            ]
        );
        let text = render_unified(&found, "generated/", false);
        assert!(text.contains("--- a/generated/a.yml\n+++ b/generated/a.yml\n"));
        assert!(text.contains("-x: 1\n+x: 2\n"));
        assert!(text.contains("+++ /dev/null"));
        write(&dir, &second).unwrap();
        assert!(changes(&dir, &second).unwrap().is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
