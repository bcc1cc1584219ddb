//! The gossipsub experiment: same seed, same bytes, in two processes;
//! another seed, other bytes; and the deliveries make sense.

use std::path::PathBuf;
use std::process::Command;

fn run(seed: u64, name: &str) -> String {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}.csv"));
    let status = Command::new(env!("CARGO_BIN_EXE_gossip"))
        .args(["--seed", &seed.to_string(), "--out"])
        .arg(&out)
        .status()
        .expect("the gossip binary runs");
    assert!(status.success());
    std::fs::read_to_string(&out).expect("the CSV was written")
}

#[test]
fn same_seed_same_bytes_and_other_seed_other_bytes() {
    let (a, b, c) = (run(1, "seed-1-a"), run(1, "seed-1-b"), run(2, "seed-2"));
    assert_eq!(a, b, "seed 1 twice, in two processes");
    assert_ne!(a, c, "seeds 1 and 2");

    let mut rows = csv::Reader::from_reader(a.as_bytes());
    assert_eq!(
        rows.headers().unwrap(),
        vec![
            "message",
            "publisher",
            "node",
            "published_ms",
            "received_ms",
            "latency_ms"
        ]
    );
    let rows: Vec<Vec<u64>> = rows
        .records()
        .map(|r| r.unwrap().iter().map(|f| f.parse().unwrap()).collect())
        .collect();
    // 120 messages, each to up to 99 other nodes: gossipsub reaches
    // (nearly) everyone once the mesh has formed.
    assert!(
        rows.len() >= 120 * 99 * 95 / 100,
        "{} deliveries",
        rows.len()
    );
    for r in &rows {
        let (publisher, node, sent, got, latency) = (r[1], r[2], r[3], r[4], r[5]);
        assert_ne!(publisher, node, "a publisher does not deliver to itself");
        assert_eq!(got - sent, latency);
        // At least one link latency (10 ms or more), at most a few seconds.
        assert!((10..5_000).contains(&latency), "{r:?}");
    }
}
