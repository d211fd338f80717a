//! The lock that keeps two obsgen runs from writing one output directory at
//! once.
//!
//! `build` (and `check`/`diff`, which may finish an interrupted build) hold
//! an exclusive advisory lock (`flock`) on the output directory itself for
//! the whole read-compare-write, so a second run waits for the first and
//! then finds its tree whole. The operating system releases the lock when
//! the holder exits, however it exits (`kill -9` included), so a crash never
//! leaves a stale lock behind. On Unix the directory is locked directly (no
//! lock file appears in a tree users commit); elsewhere a `.obsgen-lock`
//! file at its root is.

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::OutputError;

/// How long a run waits for another one before giving up, unless
/// `OBSGEN_LOCK_TIMEOUT` (seconds) says otherwise. A release build of
/// thousands of services takes about a second; a minute leaves room for
/// slow machines and debug builds without hanging a CI job forever.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(60);
/// The environment variable that overrides [`LOCK_TIMEOUT`], in seconds.
pub const LOCK_TIMEOUT_ENV: &str = "OBSGEN_LOCK_TIMEOUT";
const POLL: Duration = Duration::from_millis(50);

/// An exclusive lock on an output directory, released when dropped.
#[derive(Debug)]
pub struct OutputLock {
    path: PathBuf,
    _file: File,
}

impl OutputLock {
    /// The locked output directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The lock timeout: `OBSGEN_LOCK_TIMEOUT` seconds when set to a number,
/// [`LOCK_TIMEOUT`] otherwise.
pub fn timeout_from_env() -> Duration {
    std::env::var(LOCK_TIMEOUT_ENV)
        .ok()
        .and_then(|text| text.trim().parse::<f64>().ok())
        .filter(|seconds| seconds.is_finite() && *seconds >= 0.0)
        .map_or(LOCK_TIMEOUT, Duration::from_secs_f64)
}

/// Locks `out_dir` (which must exist). When another run holds the lock,
/// calls `on_wait` once, then waits up to `timeout` for it.
pub fn lock(
    out_dir: &Path,
    timeout: Duration,
    on_wait: &mut dyn FnMut(),
) -> Result<OutputLock, OutputError> {
    let file = open_lock_file(out_dir)?;
    let started = Instant::now();
    let mut waited = false;
    loop {
        match file.try_lock() {
            Ok(()) => {
                return Ok(OutputLock {
                    path: out_dir.to_path_buf(),
                    _file: file,
                });
            }
            Err(TryLockError::WouldBlock) => {
                if !waited {
                    on_wait();
                    waited = true;
                }
                if started.elapsed() >= timeout {
                    return Err(OutputError::Locked {
                        path: out_dir.display().to_string(),
                        seconds: timeout.as_secs_f64(),
                    });
                }
                std::thread::sleep(POLL);
            }
            Err(TryLockError::Error(error)) => {
                return Err(OutputError::Io {
                    action: "locking",
                    path: out_dir.display().to_string(),
                    error,
                });
            }
        }
    }
}

#[cfg(unix)]
fn open_lock_file(out_dir: &Path) -> Result<File, OutputError> {
    File::open(out_dir).map_err(|error| OutputError::Io {
        action: "opening",
        path: out_dir.display().to_string(),
        error,
    })
}

#[cfg(not(unix))]
fn open_lock_file(out_dir: &Path) -> Result<File, OutputError> {
    let path = out_dir.join(".obsgen-lock");
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|error| OutputError::Io {
            action: "opening",
            path: path.display().to_string(),
            error,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_waits_then_times_out_and_succeeds_once_released() {
        let dir = crate::output::test_dir();
        let first = lock(&dir, LOCK_TIMEOUT, &mut || {}).unwrap();
        let mut told = 0;
        let started = Instant::now();
        let second = lock(&dir, Duration::from_millis(200), &mut || told += 1);
        assert!(matches!(second, Err(OutputError::Locked { .. })));
        assert_eq!(told, 1, "the waiting run says so once");
        assert!(started.elapsed() >= Duration::from_millis(200));
        drop(first);
        lock(&dir, Duration::ZERO, &mut || panic!("no wait")).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
