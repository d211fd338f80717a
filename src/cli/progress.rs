//! A progress indication for builds that take a while, on a terminal only:
//! a spinner with the elapsed time on stderr, shown after a short delay (a
//! quick build shows nothing) and erased when the work ends. Never on a
//! pipe, a file, in CI logs, with `--quiet` or `--format json`: those get
//! silence, as a machine reading them expects.

use std::io::IsTerminal;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{Cli, Format, print};

/// How long work runs before the spinner appears.
const DELAY: Duration = Duration::from_millis(400);
const TICK: Duration = Duration::from_millis(100);

/// Shows progress until dropped.
pub(crate) struct Progress {
    stop: Option<mpsc::Sender<()>>,
    spinner: Option<JoinHandle<()>>,
}

/// Whether to show progress at all.
fn shows_progress(quiet: bool, format: Format, stderr_is_terminal: bool) -> bool {
    !quiet && format == Format::Text && stderr_is_terminal
}

impl Progress {
    /// Starts `label …` on stderr when it is a terminal (and not `--quiet`).
    pub(crate) fn start(cli: &Cli, label: &str) -> Self {
        if !shows_progress(cli.quiet, cli.format, std::io::stderr().is_terminal()) {
            return Self {
                stop: None,
                spinner: None,
            };
        }
        let (stop, stopped) = mpsc::channel::<()>();
        let label = label.to_string();
        let spinner = std::thread::spawn(move || {
            if stopped.recv_timeout(DELAY) != Err(RecvTimeoutError::Timeout) {
                return;
            }
            let started = Instant::now();
            for frame in ['|', '/', '-', '\\'].iter().cycle() {
                print::stderr(&format!(
                    "\r{label} {frame} {:.1} s",
                    started.elapsed().as_secs_f64()
                ));
                if stopped.recv_timeout(TICK) != Err(RecvTimeoutError::Timeout) {
                    break;
                }
            }
            // Erase the line: what follows starts clean.
            print::stderr("\r\x1b[2K");
        });
        Self {
            stop: Some(stop),
            spinner: Some(spinner),
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(spinner) = self.spinner.take() {
            let _ = spinner.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_only_on_a_terminal_in_text_and_not_quiet() {
        assert!(shows_progress(false, Format::Text, true));
        assert!(!shows_progress(false, Format::Text, false));
        assert!(!shows_progress(true, Format::Text, true));
        assert!(!shows_progress(false, Format::Json, true));
    }
}
