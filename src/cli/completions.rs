//! `obsgen completions SHELL` and `obsgen man`: generated from the clap
//! definitions (`clap_complete`, `clap_mangen`), so they can never list a
//! command or flag that does not exist.

use clap::CommandFactory;

use super::print::out;
use super::{Cli, exit};

pub fn completions(shell: clap_complete::Shell) -> anyhow::Result<u8> {
    let mut buffer = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "obsgen", &mut buffer);
    out!("{}", String::from_utf8_lossy(&buffer))?;
    Ok(exit::OK)
}

pub fn man() -> anyhow::Result<u8> {
    let mut buffer = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut buffer)
        .map_err(|error| anyhow::anyhow!("rendering the manual page: {error}"))?;
    out!("{}", String::from_utf8_lossy(&buffer))?;
    Ok(exit::OK)
}
