//! `obsgen build`: compile and write the output tree.

use anyhow::Context;

use super::print::{errln, outln};
use super::progress::{Counter, Progress};
use super::{Cli, Format, exit, output_dir, report};
use crate::output::{Mode, TreeUpdate};

pub fn run(cli: &Cli) -> anyhow::Result<u8> {
    // A wrong `--out` is a usage error, reported before compiling. An
    // existing output directory is locked for the whole run, so that a
    // second run waits before it compiles; a new one once it is created.
    let locked = output_dir::open(cli, false)?;
    let progress = Progress::start(cli, "compiling");
    let mut compilation = crate::compile::check(&cli.root)
        .with_context(|| format!("compiling `{}`", cli.root.display()))?;
    drop(progress);
    let Some(model) = compilation.model.take() else {
        report(cli, &compilation);
        errln!("nothing written: fix the errors above; the previous output is unchanged");
        return Ok(exit::INVALID);
    };
    let created = locked.is_none();
    let lock = match locked {
        Some(lock) => lock,
        None => output_dir::open(cli, true)?
            .context("the output directory exists once it has been created")?,
    };
    let seen = crate::output::reuse::swept_path(&cli.root, lock.path());
    let swept = crate::output::remove_legacy_temporaries(&lock, Some(&seen))
        .with_context(|| format!("writing `{}`", lock.path().display()))?;
    if swept > 0 {
        errln!(
            "note: `{}`: removed {swept} temporary files left by an older obsgen",
            lock.path().display()
        );
    }
    // Rendered, compared and staged service by service; switched in at
    // the end, all at once.
    // One step per backend's shared files and per service.
    let counter = Counter::new(model.services.len() + crate::backend::all().len());
    let progress = Progress::start_counted(cli, "writing", Some(counter.clone()));
    let limit = crate::compile::output_limit(model.services.len());
    let update = TreeUpdate::new(lock.path(), Mode::Write, Some(limit))
        .with_context(|| format!("writing `{}`", lock.path().display()))?;
    let incremental = crate::compile::Incremental::open(&cli.root, lock.path(), &model, true);
    let counted = Counted {
        update: &update,
        counter: &counter,
    };
    let rendered = crate::compile::render_through(&model, &counted, incremental.as_ref());
    // Everything is rendered: the model's memory goes before the switch.
    drop(model);
    let outcome = match rendered {
        Ok(Ok(lines)) => Ok(update.commit().inspect(|_| {
            if let Some(incremental) = &incremental {
                incremental.save(&lines);
            }
        })),
        Ok(Err(too_large)) => Err(Some(too_large)),
        Err(error) => Ok(Err(error)),
    };
    drop(progress);
    let summary = match outcome {
        Ok(committed) => {
            report(cli, &compilation);
            committed.with_context(|| format!("writing `{}`", lock.path().display()))?
        }
        Err(too_large) => {
            compilation.diagnostics.extend(too_large);
            report(cli, &compilation);
            if created {
                // This run made the folder: leave no trace of it.
                let _ = std::fs::remove_dir_all(lock.path());
            }
            errln!("nothing written: fix the errors above; the previous output is unchanged");
            return Ok(exit::INVALID);
        }
    };
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
            let prefix = cli.out_prefix();
            let mut listing = crate::cli::print::Lines::stdout();
            for path in &summary.written {
                listing.line(format_args!("wrote   {prefix}{path}"))?;
            }
            for path in &summary.removed {
                listing.line(format_args!("removed {prefix}{path}"))?;
            }
            listing.finish()?;
            for path in &summary.kept {
                errln!(
                    "kept    {}{path}: no longer generated, but edited or not obsgen's, so not deleted",
                    cli.out_prefix()
                );
            }
            outln!(
                "{} files: {} written, {} unchanged, {} removed",
                summary.written.len() + summary.unchanged,
                summary.written.len(),
                summary.unchanged,
                summary.removed.len()
            )?;
        }
    }
    Ok(exit::OK)
}

/// The tree update, counting each service (rendered or kept) for the
/// progress bar.
struct Counted<'a> {
    update: &'a TreeUpdate<'a>,
    counter: &'a Counter,
}

impl crate::backend::FileSink for Counted<'_> {
    fn accept(&self, files: &crate::output::OutputSet) -> Result<(), crate::output::OutputError> {
        self.update.accept(files)?;
        self.counter.add_one();
        Ok(())
    }

    fn accept_hashed(
        &self,
        files: &crate::output::OutputSet,
        hashes: &[u64],
    ) -> Result<(), crate::output::OutputError> {
        self.update.accept_hashed(files, hashes)?;
        self.counter.add_one();
        Ok(())
    }

    fn reuse(
        &self,
        files: &mut [crate::output::reuse::RecordedFile<'_>],
    ) -> Result<bool, crate::output::OutputError> {
        let kept = self.update.reuse(files)?;
        if kept {
            self.counter.add_one();
        }
        Ok(kept)
    }
}
