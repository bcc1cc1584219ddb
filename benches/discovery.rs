//! Peer discovery: a network of N real rust-libp2p nodes (Noise + Yamux,
//! identify + Kademlia) forming from nothing, as in `scenarios/storm.toml`:
//! the nodes start 2 ms apart with no link latency, dial node 0, and each
//! iteration ends when every node's first Kademlia bootstrap has finished.
//! One `BenchmarkId` per size. Run with `cargo bench --bench discovery`.

// The allocator of the `sim` binary (src/main.rs), so that the benches
// measure what a run costs there.
#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use libp2p_sim::scenario::Scenario;
use libp2p_sim::sim;

fn storm(nodes: u32) -> Scenario {
    let src = format!(
        "name = \"discovery\"\nduration = \"10m\"\nstop_when_bootstrapped = true\n\n\
         [stack]\nsecurity = \"noise\"\nperiodic_bootstrap = \"off\"\nidle_timeout = \"60s\"\n\n\
         [network]\nlatency = \"0ms\"\n\n\
         [[join]]\ncount = {nodes}\nover = \"{}ms\"\narrival = \"even\"\n",
        2 * nodes
    );
    Scenario::parse(&src, "discovery").expect("the bench scenario is valid")
}

fn discovery(c: &mut Criterion) {
    let mut group = c.benchmark_group("discovery");
    group.sample_size(10);
    for nodes in [50, 100, 200] {
        let s = storm(nodes);
        group.bench_with_input(BenchmarkId::new("first_bootstrap", nodes), &s, |b, s| {
            b.iter(|| {
                let r = sim::run(s, 1, None).expect("the bench run succeeds");
                assert!(r.nodes.iter().all(|n| n.first_bootstrap.is_some()));
                r
            })
        });
    }
    group.finish();
}

criterion_group!(benches, discovery);
criterion_main!(benches);
