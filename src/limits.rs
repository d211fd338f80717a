//! Limits on what obsgen reads, evaluates and writes, as named constants.
//!
//! obsgen runs in CI on manifests written by many teams: no input may make
//! it hang, exhaust memory or write hundreds of megabytes. Each limit below
//! ends in a clear error naming the file (and field), never in a crash.
//! `docs/limits.md` lists them for users; keep the two in step.

use std::io::Read as _;
use std::path::Path;
use std::time::Duration;

/// The largest manifest or `obsgen.yaml` read (4 MiB); a manifest is a
/// few kilobytes, so anything bigger is a mistake or an attack.
pub const MAX_INPUT_BYTES: u64 = 4 * 1024 * 1024;

/// The longest string in any field of a manifest, in bytes (8 KiB): long
/// enough for a custom ratio query or a description, short enough that a
/// string repeated into every rule cannot multiply into gigabytes.
pub const MAX_STRING_BYTES: usize = 8 * 1024;

/// The most Jsonnet may nest calls before evaluation stops with an error
/// (rsjsonnet's own stack limit; deep recursion must not overflow ours).
pub const JSONNET_MAX_STACK: usize = 400;

/// The longest a Jsonnet manifest may evaluate (wall clock), imports included.
pub const JSONNET_TIMEOUT: Duration = Duration::from_secs(10);

/// How much the process may grow (resident memory) while Jsonnet
/// evaluates before obsgen stops: 1 GiB.
pub const JSONNET_MAX_MEMORY_BYTES: u64 = 1024 * 1024 * 1024;

/// The most a Jsonnet `importstr`/`importbin` may read (the same cap as a manifest).
pub const JSONNET_MAX_IMPORT_BYTES: u64 = MAX_INPUT_BYTES;

/// The generated output may hold at most this many bytes per service
/// (16 MiB, about fifty times what a large service produces): the whole
/// output set of `n` services is capped at `n` times this (at least once).
pub const MAX_OUTPUT_BYTES_PER_SERVICE: usize = 16 * 1024 * 1024;

/// How many diagnostics the text report prints before it says
/// "... and N more".
pub const MAX_PRINTED_DIAGNOSTICS: usize = 200;

/// Why an input file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("it is not a regular file ({kind}); obsgen reads only regular files")]
    NotRegular { kind: &'static str },
    #[error("it is larger than the limit of {} bytes", limit)]
    TooLarge { limit: u64 },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Reads a regular file of at most `limit` bytes. Devices, FIFOs and
/// sockets are refused before they are opened (reading `/dev/zero` never
/// ends, opening a FIFO waits for a writer); the size is checked while
/// reading, so a file that grows meanwhile cannot exceed the cap either.
pub fn read_file(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let metadata = std::fs::metadata(path)?;
    check_regular(&metadata)?;
    if metadata.len() > limit {
        return Err(ReadError::TooLarge { limit });
    }
    let file = std::fs::File::open(path)?;
    check_regular(&file.metadata()?)?;
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    Ok(bytes)
}

fn check_regular(metadata: &std::fs::Metadata) -> Result<(), ReadError> {
    if metadata.is_file() {
        return Ok(());
    }
    Err(ReadError::NotRegular {
        kind: file_kind(metadata.file_type()),
    })
}

/// A file type in words, for messages.
pub fn file_kind(file_type: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if file_type.is_fifo() {
            return "a FIFO";
        }
        if file_type.is_socket() {
            return "a socket";
        }
        if file_type.is_char_device() || file_type.is_block_device() {
            return "a device";
        }
    }
    if file_type.is_dir() {
        "a directory"
    } else if file_type.is_symlink() {
        "a symbolic link"
    } else if file_type.is_file() {
        "a regular file"
    } else {
        "a special file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_are_refused_without_reading() {
        // `/dev/zero` would never end; it must be refused at once.
        let error = read_file(Path::new("/dev/zero"), MAX_INPUT_BYTES).unwrap_err();
        assert!(
            matches!(error, ReadError::NotRegular { kind: "a device" }),
            "{error}"
        );
    }

    #[test]
    fn large_files_are_refused() {
        let dir = crate::output::test_dir();
        let path = dir.join("big.yaml");
        std::fs::write(&path, vec![b'a'; 101]).unwrap();
        assert!(matches!(
            read_file(&path, 100),
            Err(ReadError::TooLarge { limit: 100 })
        ));
        assert_eq!(read_file(&path, 101).unwrap().len(), 101);
    }
}
