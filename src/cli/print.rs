//! Writing to stdout and stderr without panicking when the reader goes
//! away: `obsgen diff | head -1` closes the pipe early, which is a normal
//! end, not an error. Rust's `print!` panics on it ("failed printing to
//! stdout"); these functions treat a broken pipe as "nobody is listening"
//! and report any other failure (a full disk behind `>`) as an error.

use std::io::{self, Write};

/// Writes `text` to stdout and flushes it. A closed pipe is not an error.
pub fn stdout(text: &str) -> io::Result<()> {
    ignore_broken_pipe(write_all(&mut io::stdout().lock(), text))
}

/// Writes `text` to stderr. Nothing useful can be done when stderr fails.
pub fn stderr(text: &str) {
    let _ = write_all(&mut io::stderr().lock(), text);
}

fn write_all(out: &mut impl Write, text: &str) -> io::Result<()> {
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// `Ok` for a broken pipe, the error otherwise.
pub fn ignore_broken_pipe(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// `print!` that returns an error instead of panicking (use with `?`).
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::print::stdout(&format!($($arg)*))
    };
}

/// `println!` that returns an error instead of panicking (use with `?`).
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::print::stdout(&format!("{}\n", format_args!($($arg)*)))
    };
}

/// `eprintln!` that never panics.
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::cli::print::stderr(&format!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {errln, out, outln};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_pipe_is_a_normal_end() {
        let broken = io::Error::from(io::ErrorKind::BrokenPipe);
        assert!(ignore_broken_pipe(Err(broken)).is_ok());
        let full = io::Error::other("disk full");
        assert!(ignore_broken_pipe(Err(full)).is_err());
    }
}
