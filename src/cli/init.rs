//! `obsgen init`: a working starting point. Writes only files that do not
//! exist yet, so running it in an existing repository is harmless.

use std::path::PathBuf;

use anyhow::Context;

use super::exit;
use super::print::outln;

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
];

pub fn run(dir: PathBuf) -> anyhow::Result<u8> {
    for (relative, contents) in FILES {
        let path = dir.join(relative);
        if path.exists() {
            outln!("kept    {} (exists)", path.display())?;
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating `{}`", parent.display()))?;
        }
        std::fs::write(&path, contents).with_context(|| format!("writing `{}`", path.display()))?;
        outln!("created {}", path.display())?;
    }
    outln!(
        "next: `obsgen build` compiles into generated/, `obsgen test` runs its tests; add `include obsgen.mk` to your Makefile"
    )?;
    Ok(exit::OK)
}
