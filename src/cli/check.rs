//! `obsgen check`: validate, then compare with the committed output.
//! Quiet when everything is up to date; otherwise the diff and exit 1.

use anyhow::Context;

use super::print::{errln, out, outln};
use super::progress::Progress;
use super::{Cli, Format, exit, output_dir, report};
use crate::compile::Compilation;
use crate::output::{Change, Mode, TreeUpdate, render_unified};

/// Compiles the repository and compares what it generates with `out_dir`,
/// service by service on every core (nothing is written, and only the
/// files that differ are kept). `None` when the input is invalid or its
/// output too large (the diagnostics say which).
pub(crate) fn compile_and_compare(
    cli: &Cli,
    out_dir: &std::path::Path,
) -> anyhow::Result<(Compilation, Option<Vec<Change>>)> {
    let mut compilation = crate::compile::check(&cli.root)
        .with_context(|| format!("compiling `{}`", cli.root.display()))?;
    let Some(model) = compilation.model.as_ref() else {
        return Ok((compilation, None));
    };
    let limit = crate::compile::output_limit(model.services.len());
    let update = TreeUpdate::new(out_dir, Mode::Compare, Some(limit))?;
    let incremental = crate::compile::Incremental::open(&cli.root, out_dir, model, false);
    if let Err(too_large) = crate::compile::render_through(model, &update, incremental.as_ref())
        .with_context(|| format!("comparing with `{}`", out_dir.display()))?
    {
        compilation.diagnostics.push(too_large);
        return Ok((compilation, None));
    }
    // Neither command reads the model after comparing: its memory goes
    // before the comparison concludes.
    compilation.model = None;
    let found = update
        .changes()
        .with_context(|| format!("comparing with `{}`", out_dir.display()))?;
    Ok((compilation, Some(found)))
}

pub fn run(cli: &Cli) -> anyhow::Result<u8> {
    // Locked for the whole run; `None` when there is no output yet.
    let locked = output_dir::open(cli, false)?;
    let progress = Progress::start(cli, "compiling");
    let out_dir = match &locked {
        Some(lock) => lock.path().to_path_buf(),
        None => cli.out_dir(),
    };
    let (compilation, found) = compile_and_compare(cli, &out_dir)?;
    drop(progress);
    let Some(found) = found else {
        report(cli, &compilation);
        return Ok(exit::INVALID);
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
