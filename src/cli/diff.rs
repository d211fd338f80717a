//! `obsgen diff`: what `build` would change, as a unified diff, or with
//! `--summary` as what it means per service (`crate::review::summary`).

use super::print::{out, outln};
use super::progress::Progress;
use super::{Cli, Format, exit, output_dir, report};
use crate::output::{Change, ChangeKind, render_unified};
use crate::review::summary::{self, ChangedFile};

pub fn run(cli: &Cli, exit_code: bool, summarize: bool) -> anyhow::Result<u8> {
    // Locked for the whole run; `None` when there is no output yet.
    let locked = output_dir::open(cli, false)?;
    let progress = Progress::start(cli, "compiling");
    let out_dir = match &locked {
        Some(lock) => lock.path().to_path_buf(),
        None => cli.out_dir(),
    };
    let (compilation, found) = super::check::compile_and_compare(cli, &out_dir)?;
    drop(progress);
    report(cli, &compilation);
    let Some(found) = found else {
        return Ok(exit::INVALID);
    };
    if summarize {
        print_summary(cli, &found)?;
    } else {
        match cli.format {
            Format::Json => {
                let files: Vec<_> = found
                    .iter()
                    .map(|change| {
                        serde_json::json!({
                            "path": change.path,
                            "change": match change.kind {
                                ChangeKind::Added => "added",
                                ChangeKind::Modified => "modified",
                                ChangeKind::Removed => "removed",
                            },
                        })
                    })
                    .collect();
                outln!("{}", serde_json::Value::Array(files))?;
            }
            Format::Text | Format::Markdown => out!(
                "{}",
                render_unified(&found, &cli.out_prefix(), cli.stdout_colour())
            )?,
        }
    }
    Ok(if exit_code && !found.is_empty() {
        exit::INVALID
    } else {
        exit::OK
    })
}

/// The change summary of `found`, in the chosen format.
fn print_summary(cli: &Cli, found: &[Change]) -> anyhow::Result<()> {
    let files: Vec<ChangedFile<'_>> = found
        .iter()
        // obsgen's own bookkeeping means nothing to a reviewer.
        .filter(|change| change.path != crate::output::INDEX_FILE)
        .map(|change| ChangedFile {
            path: &change.path,
            old: (change.kind != ChangeKind::Added).then_some(change.old.as_slice()),
            new: (change.kind != ChangeKind::Removed).then_some(change.new.as_slice()),
        })
        .collect();
    let summary = summary::summarize(&files);
    match cli.format {
        Format::Json => outln!("{}", summary::render_json(&summary))?,
        Format::Markdown => out!("{}", summary::render_markdown(&summary))?,
        Format::Text => out!("{}", summary::render_text(&summary))?,
    }
    Ok(())
}
