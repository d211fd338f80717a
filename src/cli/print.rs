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

/// Lines for stdout, written in blocks of about [`BLOCK`] bytes instead of
/// one write per line: a fresh build of 10,000 services lists 122,122
/// files, and Rust's stdout makes a system call for every line.
/// [`Lines::finish`] writes what is left; lines not finished are lost.
pub struct Lines<W: Write> {
    out: W,
    text: String,
}

/// How much [`Lines`] holds before it writes.
const BLOCK: usize = 64 * 1024;

impl Lines<io::Stdout> {
    pub fn stdout() -> Self {
        Self::to(io::stdout())
    }
}

impl<W: Write> Lines<W> {
    pub fn to(out: W) -> Self {
        Self {
            out,
            text: String::new(),
        }
    }

    /// Adds `line` and its line end; a closed pipe is not an error.
    pub fn line(&mut self, line: std::fmt::Arguments<'_>) -> io::Result<()> {
        use std::fmt::Write as _;
        let _ = writeln!(self.text, "{line}");
        if self.text.len() >= BLOCK {
            self.write()?;
        }
        Ok(())
    }

    /// Writes the lines not written yet.
    pub fn finish(mut self) -> io::Result<()> {
        self.write()
    }

    fn write(&mut self) -> io::Result<()> {
        let result = ignore_broken_pipe(write_all(&mut self.out, &self.text));
        self.text.clear();
        result
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

    /// Counts the writes it takes.
    struct Counting {
        bytes: Vec<u8>,
        writes: usize,
    }

    impl Write for Counting {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.writes += 1;
            self.bytes.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_are_written_whole_in_blocks() {
        let mut counting = Counting {
            bytes: Vec::new(),
            writes: 0,
        };
        let mut lines = Lines::to(&mut counting);
        let mut expected = String::new();
        for n in 0..20_000 {
            lines
                .line(format_args!("wrote   generated/file-{n}.yml"))
                .unwrap();
            expected.push_str(&format!("wrote   generated/file-{n}.yml\n"));
        }
        lines.finish().unwrap();
        assert_eq!(String::from_utf8(counting.bytes).unwrap(), expected);
        // 20,000 lines of about 30 bytes: a dozen blocks, not 20,000 writes.
        assert!(
            counting.writes <= expected.len() / BLOCK + 1,
            "{}",
            counting.writes
        );
    }

    #[test]
    fn a_broken_pipe_is_a_normal_end() {
        let broken = io::Error::from(io::ErrorKind::BrokenPipe);
        assert!(ignore_broken_pipe(Err(broken)).is_ok());
        let full = io::Error::other("disk full");
        assert!(ignore_broken_pipe(Err(full)).is_err());
    }
}
