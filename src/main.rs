//! The `sim` binary. See `sim --help` and the README.

mod cli;

/// The allocator of the `sim` binary (and of this package's benches):
/// jemalloc. A simulation allocates and frees small buffers at a high rate
/// (Yamux frames, Noise messages, Kademlia messages and routing-table
/// iterators), and jemalloc beats glibc's `malloc` there
/// (`docs/performance.md`). Allocation addresses never reach an output, so
/// the choice does not touch determinism. The library imposes no
/// allocator: a crate that uses it keeps its own.
#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
