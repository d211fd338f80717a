//! `obsgen diff`: what `build` would change, as a unified diff.

use anyhow::Context;

use super::print::{out, outln};
use super::{Cli, Format, exit, output_dir, report, stdout_colour};
use crate::output::{ChangeKind, changes, render_unified};

pub fn run(cli: &Cli, exit_code: bool) -> anyhow::Result<u8> {
    // Locked for the whole run; `None` when there is no output yet.
    let locked = output_dir::open(cli, false)?;
    let (compilation, output) = crate::compile::compile(&cli.root)
        .with_context(|| format!("compiling `{}`", cli.root.display()))?;
    report(cli, &compilation);
    let Some(output) = output else {
        return Ok(exit::INVALID);
    };
    let found = match locked {
        Some(lock) => changes(lock.path(), &output)
            .with_context(|| format!("comparing with `{}`", lock.path().display()))?,
        None => changes(&cli.out_dir(), &output)?,
    };
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
        Format::Text => out!(
            "{}",
            render_unified(&found, &cli.out_prefix(), stdout_colour())
        )?,
    }
    Ok(if exit_code && !found.is_empty() {
        exit::INVALID
    } else {
        exit::OK
    })
}
