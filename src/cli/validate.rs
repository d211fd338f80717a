//! `obsgen validate`: every error in every manifest, in one run.

use anyhow::Context;

use super::print::outln;
use super::{Cli, Format, exit, report};

pub fn run(cli: &Cli) -> anyhow::Result<u8> {
    let compilation = crate::compile::check(&cli.root)
        .with_context(|| format!("validating `{}`", cli.root.display()))?;
    report(cli, &compilation);
    let valid = !compilation.has_errors();
    if cli.format == Format::Text && valid {
        let services = compilation.model.as_ref().map_or(0, |m| m.services.len());
        outln!("{services} services valid")?;
    }
    Ok(if valid { exit::OK } else { exit::INVALID })
}
