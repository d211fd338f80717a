//! A progress indication for builds that take a while, on a terminal only:
//! a spinner with the elapsed time on stderr (while compiling), or a bar of
//! the services rendered and written so far, shown after a short delay (a
//! quick build shows nothing) and erased when the work ends. Never on a
//! pipe, a file, in CI logs, with `--quiet` or `--format json`: those get
//! silence, as a machine reading them expects.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
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

/// Counts what is done, for a progress bar: `done` of `total`.
#[derive(Clone)]
pub(crate) struct Counter {
    done: Arc<AtomicUsize>,
    total: usize,
}

impl Counter {
    pub(crate) fn new(total: usize) -> Self {
        Counter {
            done: Arc::new(AtomicUsize::new(0)),
            total,
        }
    }

    pub(crate) fn add_one(&self) {
        self.done.fetch_add(1, Ordering::Relaxed);
    }
}

/// `label [#######-------------]  3,120/10,000  4.2 s`
fn bar(label: &str, done: usize, total: usize, seconds: f64) -> String {
    const WIDTH: usize = 24;
    let done = done.min(total);
    let filled = (done * WIDTH).checked_div(total).unwrap_or(WIDTH);
    format!(
        "\r{label} [{}{}] {done}/{total} {seconds:.1} s",
        "#".repeat(filled),
        "-".repeat(WIDTH - filled)
    )
}

impl Progress {
    /// Starts `label …` on stderr when it is a terminal (and not `--quiet`).
    pub(crate) fn start(cli: &Cli, label: &str) -> Self {
        Self::start_counted(cli, label, None)
    }

    /// Starts a bar of `counter` (a spinner without one).
    pub(crate) fn start_counted(cli: &Cli, label: &str, counter: Option<Counter>) -> Self {
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
                let seconds = started.elapsed().as_secs_f64();
                print::stderr(&match &counter {
                    Some(counter) => bar(
                        &label,
                        counter.done.load(Ordering::Relaxed),
                        counter.total,
                        seconds,
                    ),
                    None => format!("\r{label} {frame} {seconds:.1} s"),
                });
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
    fn the_bar_fills_with_the_work_done() {
        assert_eq!(
            bar("writing", 0, 4, 0.0),
            "\rwriting [------------------------] 0/4 0.0 s"
        );
        assert_eq!(
            bar("writing", 2, 4, 1.25),
            "\rwriting [############------------] 2/4 1.2 s"
        );
        assert_eq!(
            bar("writing", 9, 4, 2.0),
            "\rwriting [########################] 4/4 2.0 s"
        );
        assert!(bar("writing", 0, 0, 0.0).contains("[########################] 0/0"));
    }

    #[test]
    fn progress_only_on_a_terminal_in_text_and_not_quiet() {
        assert!(shows_progress(false, Format::Text, true));
        assert!(!shows_progress(false, Format::Text, false));
        assert!(!shows_progress(true, Format::Text, true));
        assert!(!shows_progress(false, Format::Json, true));
    }
}
