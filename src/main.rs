//! The `sim` binary. See `sim --help` and the README.

mod bench;
mod cli;
mod determinism;
mod sweep;

fn main() -> std::process::ExitCode {
    cli::main()
}
