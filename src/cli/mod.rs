//! The command line: a thin shell over the library, one file per command.
//!
//! Exit codes: 0 success, 1 invalid input or stale output, 2 usage or I/O
//! error (clap's own usage errors exit 2 as well).

mod build;
mod check;
mod completions;
mod diff;
mod error_text;
mod explain;
mod init;
mod loadtest;
mod output_dir;
pub(crate) mod print;
pub(crate) mod progress;
mod schema;
mod test;
mod validate;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::compile::Compilation;
use crate::diagnostics;

#[derive(Debug, Parser)]
#[command(
    name = "obsgen",
    version,
    about = "Compiles service manifests into Prometheus, Grafana, Alertmanager, Logstash and k6 configuration."
)]
pub struct Cli {
    /// The repository root (where obsgen.yaml is).
    #[arg(long, global = true, default_value = ".")]
    pub root: PathBuf,
    /// The output directory, relative to the root unless absolute.
    #[arg(long, global = true, default_value = "generated")]
    pub out: PathBuf,
    /// How to print results and diagnostics (`markdown`: for `diff --summary`
    /// and `explain`; other commands print text).
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// When to colour output: `auto` on a terminal unless `NO_COLOR` is set.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Print only results and errors: no progress, no list of written files,
    /// no warnings summary.
    #[arg(long, short, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Show every warning, also when the output is up to date.
    #[arg(long, short, global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scaffold obsgen.yaml, an example service, a Makefile snippet and a pre-commit config.
    Init {
        /// Where to scaffold (default: the current directory).
        dir: Option<PathBuf>,
    },
    /// Check every manifest (schema and meaning); report every error.
    Validate,
    /// Compile everything into the output directory.
    Build,
    /// Show what `build` would change, as a unified diff.
    Diff {
        /// Exit 1 when there are differences.
        #[arg(long)]
        exit_code: bool,
        /// Print what the change means, per service (alerts, SLOs, panels,
        /// routes, scrape targets, log pipelines, load scenarios), instead of the
        /// unified diff.
        #[arg(long)]
        summary: bool,
    },
    /// Validate, then fail with the diff when the output is stale (for CI and pre-commit).
    /// `--verbose` shows every warning even when the output is up to date
    /// (otherwise one summary line).
    Check,
    /// Run the generated promtool tests and Alertmanager routing cases (promtool and amtool from PATH).
    Test,
    /// Print the JSON Schema of a manifest kind (`--format markdown`: its field reference).
    Schema {
        /// `service` (default) or `platform`.
        #[arg(value_enum, default_value_t = SchemaKind::Service)]
        kind: SchemaKind,
    },
    /// Show everything one service gets: files, scrape jobs, recordings, SLOs,
    /// alerts with thresholds, dashboard panels, alert routes per environment,
    /// log pipeline, load scenarios.
    Explain {
        /// The service's name (`metadata.name`).
        service: String,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to stdout.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print obsgen's manual page (roff, for `man -l -`) to stdout.
    Man,
    /// Run a service's k6 load test against one environment (k6 on PATH); exits with k6's code.
    Loadtest(loadtest::LoadtestArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaKind {
    Service,
    Platform,
}

/// The process exit codes.
pub mod exit {
    pub const OK: u8 = 0;
    pub const INVALID: u8 = 1;
    pub const USAGE: u8 = 2;
}

/// Runs obsgen with the process's arguments.
pub fn main() -> ExitCode {
    // Lets the tests prove that a panic becomes one error line and exit 2
    // (see `main.rs`); no input can reach it.
    if std::env::var_os("OBSGEN_TEST_PANIC").is_some() {
        panic!("panic requested by OBSGEN_TEST_PANIC");
    }
    let cli = Cli::parse();
    match run(&cli) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            print::stderr(&error_text::error_text(&error));
            ExitCode::from(exit::USAGE)
        }
    }
}

/// Runs one command; `Err` is a usage or I/O problem (exit 2).
pub fn run(cli: &Cli) -> anyhow::Result<u8> {
    match &cli.command {
        Command::Init { dir } => {
            init::run(dir.clone().unwrap_or_else(|| PathBuf::from(".")), cli.quiet)
        }
        Command::Validate => validate::run(cli),
        Command::Build => build::run(cli),
        Command::Diff { exit_code, summary } => diff::run(cli, *exit_code, *summary),
        Command::Check => check::run(cli),
        Command::Completions { shell } => completions::completions(*shell),
        Command::Man => completions::man(),
        Command::Schema { kind } => schema::run(cli, *kind),
        Command::Test => test::run(cli),
        Command::Explain { service } => explain::run(cli, service),
        Command::Loadtest(args) => loadtest::run(cli, args),
    }
}

impl Cli {
    /// The output directory as a path.
    pub fn out_dir(&self) -> PathBuf {
        if self.out.is_absolute() {
            self.out.clone()
        } else {
            self.root.join(&self.out)
        }
    }

    /// The output directory as users see it, for diff headers (`generated/`).
    pub fn out_prefix(&self) -> String {
        let text = self.out.to_string_lossy().replace('\\', "/");
        format!("{}/", text.trim_end_matches('/'))
    }
}

/// Prints diagnostics to stderr in the chosen format.
pub(crate) fn report(cli: &Cli, compilation: &Compilation) {
    if compilation.diagnostics.is_empty() {
        return;
    }
    match cli.format {
        Format::Json => print::stderr(&diagnostics::render_json(&compilation.diagnostics)),
        Format::Text | Format::Markdown => {
            let colour = cli.colour(std::io::stderr().is_terminal());
            print::stderr(&diagnostics::render_text(
                &compilation.diagnostics,
                &compilation.sources,
                colour,
            ));
        }
    }
}

impl Cli {
    /// Whether to colour a stream that is (or is not) a terminal.
    pub(crate) fn colour(&self, is_terminal: bool) -> bool {
        wants_colour(
            self.color,
            is_terminal,
            std::env::var_os("NO_COLOR").as_deref(),
        )
    }

    /// Whether stdout wants colour.
    pub(crate) fn stdout_colour(&self) -> bool {
        self.colour(std::io::stdout().is_terminal())
    }
}

/// `--color always|never` decide; `auto` colours a terminal unless
/// `NO_COLOR` is set to something (no-color.org: an empty value is unset).
fn wants_colour(
    choice: ColorChoice,
    is_terminal: bool,
    no_color: Option<&std::ffi::OsStr>,
) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => is_terminal && no_color.is_none_or(|value| value.is_empty()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn colour_follows_the_flag_then_the_terminal_and_no_color() {
        use std::ffi::OsStr;
        assert!(wants_colour(
            ColorChoice::Always,
            false,
            Some(OsStr::new("1"))
        ));
        assert!(!wants_colour(ColorChoice::Never, true, None));
        assert!(wants_colour(ColorChoice::Auto, true, None));
        assert!(wants_colour(ColorChoice::Auto, true, Some(OsStr::new(""))));
        assert!(!wants_colour(
            ColorChoice::Auto,
            true,
            Some(OsStr::new("1"))
        ));
        assert!(!wants_colour(ColorChoice::Auto, false, None));
    }

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
