//! The `sim` binary. See `sim --help` and the README.

mod bench;
mod cli;
mod determinism;
mod sweep;

fn main() -> std::process::ExitCode {
    libp2p_sim::machine::tune_allocator();
    cli::main()
}
