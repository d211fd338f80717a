//! `obsgen validate`: every error in every manifest, in one run.

use anyhow::Context;

use super::print::{out, outln};
use super::{Cli, Format, exit, report};
use crate::diagnostics::ValidationReport;

pub fn run(cli: &Cli) -> anyhow::Result<u8> {
    let compilation = crate::compile::check(&cli.root)
        .with_context(|| format!("validating `{}`", cli.root.display()))?;
    let valid = !compilation.has_errors();
    let services = compilation.model.as_ref().map_or(0, |m| m.services.len());
    match cli.format {
        // The result is the diagnostics: stdout, one document, also when valid.
        Format::Json => {
            let result = ValidationReport::new(&compilation.diagnostics, services);
            out!("{}", result.to_json())?;
        }
        Format::Text | Format::Markdown => {
            report(cli, &compilation);
            if valid {
                outln!("{services} services valid")?;
            }
        }
    }
    Ok(if valid { exit::OK } else { exit::INVALID })
}
