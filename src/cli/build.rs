//! `obsgen build`: compile and write the output tree.

use anyhow::Context;

use super::print::{errln, outln};
use super::{Cli, Format, exit, report};

pub fn run(cli: &Cli) -> anyhow::Result<u8> {
    let (compilation, output) = crate::compile::compile(&cli.root)
        .with_context(|| format!("compiling `{}`", cli.root.display()))?;
    report(cli, &compilation);
    let Some(output) = output else {
        errln!("nothing written: fix the errors above; the previous output is unchanged");
        return Ok(exit::INVALID);
    };
    let out_dir = cli.out_dir();
    let summary = crate::output::write(&out_dir, &output)
        .with_context(|| format!("writing `{}`", out_dir.display()))?;
    match cli.format {
        Format::Json => outln!(
            "{}",
            serde_json::json!({
                "written": summary.written,
                "removed": summary.removed,
                "unchanged": summary.unchanged,
            })
        )?,
        Format::Text => {
            for path in &summary.written {
                outln!("wrote   {}{path}", cli.out_prefix())?;
            }
            for path in &summary.removed {
                outln!("removed {}{path}", cli.out_prefix())?;
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
