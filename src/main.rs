//! The `obsgen` binary: parses the command line and hands over to `cli`.

fn main() -> std::process::ExitCode {
    obsgen::cli::main()
}
