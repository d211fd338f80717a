//! `obsgen diff`: what `build` would change, as a unified diff.

use anyhow::Context;

use super::print::{out, outln};
use super::{Cli, Format, exit, report, stdout_colour};
use crate::output::{ChangeKind, changes, render_unified};

pub fn run(cli: &Cli, exit_code: bool) -> anyhow::Result<u8> {
    let (compilation, output) = crate::compile::compile(&cli.root)
        .with_context(|| format!("compiling `{}`", cli.root.display()))?;
    report(cli, &compilation);
    let Some(output) = output else {
        return Ok(exit::INVALID);
    };
    let out_dir = cli.out_dir();
    let found = changes(&out_dir, &output)
        .with_context(|| format!("comparing with `{}`", out_dir.display()))?;
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
