//! `obsgen explain SERVICE`: everything one service gets
//! (`crate::review::explain`), from the output `build` would write.

use anyhow::{Context, bail};

use super::print::{out, outln};
use super::progress::Progress;
use super::{Cli, Format, exit, report};
use crate::review::explain::{self, ServiceInfo};

pub fn run(cli: &Cli, service: &str) -> anyhow::Result<u8> {
    let progress = Progress::start(cli, "compiling");
    let (compilation, output) = crate::compile::compile(&cli.root)
        .with_context(|| format!("compiling `{}`", cli.root.display()))?;
    drop(progress);
    let (Some(output), Some(model)) = (output, compilation.model.as_ref()) else {
        report(cli, &compilation);
        return Ok(exit::INVALID);
    };
    let Some(found) = model.services.iter().find(|s| s.name == service) else {
        let names: Vec<&str> = model.services.iter().map(|s| s.name.as_str()).collect();
        bail!(
            "no service `{service}` in `{}`; its services are: {}",
            cli.root.display(),
            if names.is_empty() {
                "(none)".to_string()
            } else {
                names.join(", ")
            }
        );
    };
    let explanation = explain::explain(
        &output,
        ServiceInfo {
            name: found.name.clone(),
            team: found.team.clone(),
            description: found.description.clone(),
            manifest: found.source.clone(),
        },
    );
    match cli.format {
        Format::Json => outln!("{}", explain::render_json(&explanation))?,
        Format::Text | Format::Markdown => out!("{}", explain::render_text(&explanation))?,
    }
    Ok(exit::OK)
}
