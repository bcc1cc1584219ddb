//! The `sim` binary. See `sim --help` and the README.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
