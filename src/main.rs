//! The `obsgen` binary: parses the command line and hands over to `cli`.
//!
//! A panic is a bug in obsgen whatever the input, but the user should see
//! one error line and exit code 2, not a Rust backtrace: the hook prints
//! it with a request to report it.

/// mimalloc: rendering allocates many small strings on every core, and
/// glibc's allocator made the threads wait on each other (see
/// `docs/decisions.md`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown cause".to_string());
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "error: obsgen hit an internal error ({}{place}); this is a bug, please report it with the input that caused it",
            obsgen::diagnostics::escape_controls(&message)
        );
    }));
    std::panic::catch_unwind(obsgen::cli::main)
        .unwrap_or_else(|_| std::process::ExitCode::from(obsgen::cli::exit::USAGE))
}
