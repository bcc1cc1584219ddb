//! Cost of simulating a network: wall time per run of small bootstrap
//! scenarios, by size, security, and X25519 stand-in or curve. Run with
//! `cargo bench --bench run`.
//!
//! Each iteration is a whole deterministic run (nodes join over 20 s, then
//! the run lasts one simulated minute), so criterion's figure divided by the
//! node count is the cost per node-minute of a forming network.

// The allocator of the `sim` binary (src/main.rs), so that the benches
// measure what a run costs there.
#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use libp2p_sim::scenario::Scenario;
use libp2p_sim::sim;

fn scenario(nodes: usize, security: &str) -> Scenario {
    let src = format!(
        "name = \"bench\"\nduration = \"1m\"\n\n[stack]\nsecurity = \"{security}\"\n\n\
         [[join]]\nat = \"0s\"\ncount = {nodes}\nover = \"20s\"\n"
    );
    Scenario::parse(&src, "bench").expect("the bench scenario is valid")
}

fn bootstrap(c: &mut Criterion) {
    let mut group = c.benchmark_group("bootstrap_1m");
    group.sample_size(10);
    // "noise" uses the X25519 stand-in (the default), "noise-curve" the
    // curve (`--real-x25519`): the difference is what the stand-in saves.
    for (name, security, real_x25519) in [
        ("plaintext", "plaintext", false),
        ("noise", "noise", false),
        ("noise-curve", "noise", true),
    ] {
        for nodes in [25, 50, 100] {
            let s = scenario(nodes, security);
            group.bench_with_input(BenchmarkId::new(name, nodes), &s, |b, s| {
                b.iter(|| {
                    let options = sim::RunOptions {
                        real_x25519,
                        ..Default::default()
                    };
                    sim::run_with(s, 1, options).expect("the bench run succeeds")
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bootstrap);
criterion_main!(benches);
