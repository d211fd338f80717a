//! `obsgen init`: a working starting point (platform, a service, make
//! targets, a pre-commit config, CI recipes for GitHub Actions and GitLab).
//! Writes only files that do not exist yet, so running it in an existing
//! repository is harmless (an existing `.gitlab-ci.yml` is kept: include
//! `ci/obsgen.gitlab-ci.yml` from it).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use super::exit;
use super::print::outln;
use crate::output::OutputError;

/// The scaffold: path → contents, from `templates/init/`.
const FILES: &[(&str, &str)] = &[
    (
        "obsgen.yaml",
        include_str!("../../templates/init/obsgen.yaml"),
    ),
    (
        "services/hello.yaml",
        include_str!("../../templates/init/hello.yaml"),
    ),
    ("obsgen.mk", include_str!("../../templates/init/obsgen.mk")),
    (
        ".pre-commit-config.yaml",
        include_str!("../../templates/init/pre-commit-config.yaml"),
    ),
    (
        ".github/workflows/observability.yml",
        include_str!("../../templates/init/github-workflow.yml"),
    ),
    (
        "ci/obsgen.gitlab-ci.yml",
        include_str!("../../templates/init/gitlab-ci.yml"),
    ),
    (
        ".gitlab-ci.yml",
        include_str!("../../templates/init/gitlab-ci-root.yml"),
    ),
];

pub fn run(dir: PathBuf, quiet: bool) -> anyhow::Result<u8> {
    // `--quiet`: the files are written, nothing is said about them.
    let say =
        |line: String| -> std::io::Result<()> { if quiet { Ok(()) } else { outln!("{line}") } };
    // Check every file before writing any: a refusal leaves nothing half
    // scaffolded.
    let mut to_write = Vec::new();
    for (relative, contents) in FILES {
        let path = dir.join(relative);
        if let Some(link) = symlinked_folder(&dir, relative) {
            bail!(
                "not writing `{}`: `{}` is a symbolic link, and obsgen init writes only inside `{}`",
                path.display(),
                link.display(),
                dir.display()
            );
        }
        // `symlink_metadata`, not `exists`: a dangling symbolic link
        // "does not exist", but writing through it would create its target,
        // wherever that is.
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                say(format!(
                    "kept    {} (a symbolic link; not followed)",
                    path.display()
                ))?;
            }
            Ok(_) => say(format!("kept    {} (exists)", path.display()))?,
            Err(_) => to_write.push((path, contents)),
        }
    }
    for (path, contents) in to_write {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating `{}`", parent.display()))?;
        }
        // `create_new` refuses any existing name, a symbolic link included,
        // should one appear since the check above.
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|error| OutputError::Io {
                action: "creating",
                path: path.display().to_string(),
                error,
            })?;
        file.write_all(contents.as_bytes())
            .map_err(|error| OutputError::Io {
                action: "writing",
                path: path.display().to_string(),
                error,
            })?;
        say(format!("created {}", path.display()))?;
    }
    say(
        "next: `obsgen build` compiles into generated/, `obsgen test` runs its tests; add `include obsgen.mk` to your Makefile; set OBSGEN_GIT in the CI recipes (docs/ci.md)"
            .to_string(),
    )?;
    Ok(exit::OK)
}

/// The first folder between `dir` and `relative` that is a symbolic link.
fn symlinked_folder(dir: &Path, relative: &str) -> Option<PathBuf> {
    let mut current = dir.to_path_buf();
    let mut components = relative.split('/').peekable();
    while let Some(component) = components.next() {
        components.peek()?;
        current.push(component);
        if std::fs::symlink_metadata(&current).is_ok_and(|meta| meta.file_type().is_symlink()) {
            return Some(current);
        }
    }
    None
}
