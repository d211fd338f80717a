//! The output directory as the commands see it: `--out` checked, the
//! directory locked, and the remains of an interrupted build finished or
//! discarded, before `build` writes or `check`/`diff` compare.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use super::Cli;
use crate::output::{self, OutputLock};

/// Refuses an `--out` that obsgen must never write into: the file-system
/// root, the repository root or a folder containing it (obsgen would mix its
/// files with the manifests, and an index there could name them), or
/// something that is not a directory. Returns the output directory.
pub(crate) fn checked(cli: &Cli) -> anyhow::Result<PathBuf> {
    let out = cli.out_dir();
    let shown = cli.out.display();
    match std::fs::symlink_metadata(&out) {
        Err(_) => return Ok(out),
        Ok(_) => match std::fs::metadata(&out) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => bail!(
                "`--out {shown}`: `{}` is a file, not a directory; pass the folder obsgen should write its output tree into",
                out.display()
            ),
            Err(_) => bail!(
                "`--out {shown}`: `{}` is a symbolic link to nothing; remove it or pass another folder",
                out.display()
            ),
        },
    }
    let canonical =
        std::fs::canonicalize(&out).with_context(|| format!("resolving `--out {shown}`"))?;
    if canonical.parent().is_none() {
        bail!(
            "`--out {shown}` is the file-system root; pass a folder of its own, such as `generated`"
        );
    }
    if let Ok(root) = std::fs::canonicalize(&cli.root) {
        if root == canonical {
            bail!(
                "`--out {shown}` is the repository root; obsgen's output needs a folder of its own, such as `generated`"
            );
        }
        if root.starts_with(&canonical) {
            bail!(
                "`--out {shown}` contains the repository `{}`; obsgen's output needs a folder of its own inside or beside it, such as `generated`",
                cli.root.display()
            );
        }
    }
    Ok(out)
}

/// The output directory, checked, locked and recovered; `None` when it does
/// not exist and `create` is false (nothing to compare with).
pub(crate) fn open(cli: &Cli, create: bool) -> anyhow::Result<Option<OutputLock>> {
    let out = checked(cli)?;
    if !out.exists() {
        if !create {
            return Ok(None);
        }
        std::fs::create_dir_all(&out).map_err(|error| output::OutputError::Io {
            action: "creating",
            path: out.display().to_string(),
            error,
        })?;
        // `a/..` only resolves to where it points once `a` exists.
        checked(cli)?;
    }
    let lock = lock(&out)?;
    let recovery = output::recover(&lock)?;
    if !recovery.is_clean() {
        eprintln!("note: `{}`: {recovery}", out.display());
    }
    Ok(Some(lock))
}

fn lock(out: &Path) -> anyhow::Result<OutputLock> {
    let timeout = output::timeout_from_env();
    let lock = output::lock(out, timeout, &mut || {
        eprintln!(
            "waiting for another obsgen run to finish with `{}` (up to {} s)…",
            out.display(),
            timeout.as_secs()
        );
    })?;
    Ok(lock)
}
