//! `obsgen build`: compile and write the output tree.

use anyhow::Context;

use super::print::{errln, outln};
use super::progress::Progress;
use super::{Cli, Format, exit, output_dir, report};

pub fn run(cli: &Cli) -> anyhow::Result<u8> {
    // A wrong `--out` is a usage error, reported before compiling. An
    // existing output directory is locked for the whole run, so that a
    // second run waits before it compiles; a new one once it is created.
    let locked = output_dir::open(cli, false)?;
    let progress = Progress::start(cli, "compiling");
    let (compilation, output) = crate::compile::compile(&cli.root)
        .with_context(|| format!("compiling `{}`", cli.root.display()))?;
    drop(progress);
    report(cli, &compilation);
    let Some(output) = output else {
        errln!("nothing written: fix the errors above; the previous output is unchanged");
        return Ok(exit::INVALID);
    };
    let lock = match locked {
        Some(lock) => lock,
        None => output_dir::open(cli, true)?
            .context("the output directory exists once it has been created")?,
    };
    let progress = Progress::start(cli, "writing");
    let summary = crate::output::write_locked(&lock, &output)
        .with_context(|| format!("writing `{}`", lock.path().display()))?;
    drop(progress);
    match cli.format {
        Format::Json => outln!(
            "{}",
            serde_json::json!({
                "written": summary.written,
                "removed": summary.removed,
                "unchanged": summary.unchanged,
                "kept": summary.kept,
            })
        )?,
        // `--quiet`: only what needs the user (files kept, errors).
        Format::Text | Format::Markdown if cli.quiet => {
            for path in &summary.kept {
                errln!(
                    "kept    {}{path}: no longer generated, but edited or not obsgen's, so not deleted",
                    cli.out_prefix()
                );
            }
        }
        Format::Text | Format::Markdown => {
            for path in &summary.written {
                outln!("wrote   {}{path}", cli.out_prefix())?;
            }
            for path in &summary.removed {
                outln!("removed {}{path}", cli.out_prefix())?;
            }
            for path in &summary.kept {
                errln!(
                    "kept    {}{path}: no longer generated, but edited or not obsgen's, so not deleted",
                    cli.out_prefix()
                );
            }
            outln!(
                "{} files: {} written, {} unchanged, {} removed",
                output.len(),
                summary.written.len(),
                summary.unchanged,
                summary.removed.len()
            )?;
        }
    }
    Ok(exit::OK)
}
