//! `obsgen check`: validate, then compare with the committed output.
//! Quiet when everything is up to date; otherwise the diff and exit 1.

use anyhow::Context;

use super::print::{errln, out, outln};
use super::progress::Progress;
use super::{Cli, Format, exit, output_dir, report};
use crate::output::{changes, render_unified};

pub fn run(cli: &Cli) -> anyhow::Result<u8> {
    // Locked for the whole run; `None` when there is no output yet.
    let locked = output_dir::open(cli, false)?;
    let progress = Progress::start(cli, "compiling");
    let (compilation, output) = crate::compile::compile(&cli.root)
        .with_context(|| format!("compiling `{}`", cli.root.display()))?;
    drop(progress);
    let Some(output) = output else {
        report(cli, &compilation);
        return Ok(exit::INVALID);
    };
    let found = match locked {
        Some(lock) => changes(lock.path(), &output)
            .with_context(|| format!("comparing with `{}`", lock.path().display()))?,
        None => changes(&cli.out_dir(), &output)?,
    };
    if found.is_empty() {
        // Up to date: a pre-commit hook should stay quiet, so warnings
        // are one line unless asked for.
        if cli.verbose || cli.format == Format::Json {
            report(cli, &compilation);
        } else if !cli.quiet
            && let Some(summary) = crate::diagnostics::warnings_summary(&compilation.diagnostics)
        {
            errln!("{summary}");
        }
        return Ok(exit::OK);
    }
    report(cli, &compilation);
    match cli.format {
        Format::Json => {
            let paths: Vec<&str> = found.iter().map(|c| c.path.as_str()).collect();
            outln!("{}", serde_json::json!({ "stale": paths }))?;
        }
        Format::Text | Format::Markdown => {
            out!(
                "{}",
                render_unified(&found, &cli.out_prefix(), cli.stdout_colour())
            )?;
            errln!(
                "{} is stale: {} files differ; run `obsgen build` and commit the result",
                cli.out_prefix(),
                found.len()
            );
        }
    }
    Ok(exit::INVALID)
}
