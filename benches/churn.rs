//! A churn slice: 60 nodes (Noise + Yamux, identify + Kademlia, 20-80 ms
//! links) form a network over 20 s; from 30 s to 3 min, nodes leave after
//! exponential sessions (mean 1 min, half of them crashing) and come back
//! after exponential downtimes (mean 30 s) while the network runs two
//! lookups per second. Each iteration is the whole 3-minute run. Run with
//! `cargo bench --bench churn`.

// The allocator of the `sim` binary (src/main.rs), so that the benches
// measure what a run costs there.
#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use criterion::{Criterion, criterion_group, criterion_main};
use libp2p_sim::scenario::Scenario;
use libp2p_sim::sim;

const CHURN: &str = r#"
name = "churn-slice"
duration = "3m"

[[join]]
count = 60
over = "20s"

[[churn]]
at = "30s"
session = { distribution = "exponential", mean = "1m" }
offline = { distribution = "exponential", mean = "30s" }
crash = 0.5

[[lookups]]
at = "30s"
rate = 2.0
"#;

fn churn(c: &mut Criterion) {
    let s = Scenario::parse(CHURN, "churn-slice").expect("the bench scenario is valid");
    let mut group = c.benchmark_group("churn");
    group.sample_size(10);
    group.bench_function("slice_60_nodes_3m", |b| {
        b.iter(|| {
            let r = sim::run(&s, 1, None).expect("the bench run succeeds");
            assert!(r.departures.graceful + r.departures.crashes > 0);
            r
        })
    });
    group.finish();
}

criterion_group!(benches, churn);
criterion_main!(benches);
