//! `sim run --workers N` end to end: the same seed and worker count give
//! the same files across processes; every node of the scenario is in the
//! merged files; the model is the same as on one worker; sliding horizons
//! and the barrier give the same files; loss and bandwidth act on workers
//! as on one; scenarios without lookahead are refused.

mod common;

use common::{csv_rows, read, scratch, sim, sim_ok};
use std::path::Path;

const SMALL: &str = "tests/scenarios/small.toml";
const CHURN: &str = "tests/scenarios/churn-small.toml";
const BOOTSTRAP_LIST: &str = "tests/scenarios/bootstrap-list.toml";
const SHAPED: &str = "tests/scenarios/shaped.toml";
/// The files that must be byte-identical between two runs of one schedule.
const SAME_FILES: [&str; 6] = [
    "discovery.csv",
    "routing_table.csv",
    "network.csv",
    "lookups.csv",
    "buckets.csv",
    "summary.csv",
];

fn run(scenario: &str, seed: &str, workers: &str, out: &Path) -> String {
    sim_ok(&[
        "run",
        scenario,
        "--seed",
        seed,
        "--workers",
        workers,
        "--no-plot",
        "--out",
        out.to_str().unwrap(),
    ])
}

/// The value of `metric` in summary.csv.
fn summary(dir: &Path, metric: &str) -> f64 {
    let text = String::from_utf8(read(dir, "summary.csv")).unwrap();
    let rows = csv_rows(&text);
    let row = rows
        .iter()
        .find(|r| r[0] == metric)
        .unwrap_or_else(|| panic!("no {metric} in summary.csv"));
    row[1]
        .parse()
        .unwrap_or_else(|_| panic!("{metric}: {:?}", row[1]))
}

#[test]
fn two_workers_write_the_same_files_for_the_same_seed() {
    for scenario in [SMALL, CHURN] {
        let name = Path::new(scenario).file_stem().unwrap().to_str().unwrap();
        let (a, b) = (
            scratch(&format!("w2-{name}-a")),
            scratch(&format!("w2-{name}-b")),
        );
        let out_a = run(scenario, "5", "2", &a);
        run(scenario, "5", "2", &b);
        assert!(out_a.contains("workers    2"), "{out_a}");
        for file in SAME_FILES {
            assert!(
                read(&a, file) == read(&b, file),
                "{scenario}: {file} differs"
            );
        }
        assert!(
            !a.join(".workers").exists(),
            "the workers' files are cleaned up"
        );
    }
}

#[test]
fn sliding_horizons_write_the_same_files_as_the_barrier() {
    for (seed, workers) in [("3", "2"), ("7", "3")] {
        let dirs: Vec<_> = ["sliding", "barrier"]
            .into_iter()
            .map(|how| {
                let dir = scratch(&format!("sync-{how}-{workers}"));
                sim_ok(&[
                    "run",
                    CHURN,
                    "--seed",
                    seed,
                    "--workers",
                    workers,
                    "--sync",
                    how,
                    "--no-plot",
                    "--out",
                    dir.to_str().unwrap(),
                ]);
                dir
            })
            .collect();
        for file in SAME_FILES {
            assert!(
                read(&dirs[0], file) == read(&dirs[1], file),
                "{workers} workers: {file} differs between --sync sliding and barrier"
            );
        }
    }
}

#[test]
fn the_merged_files_cover_every_node_and_match_one_worker() {
    let (one, two) = (scratch("w1-small"), scratch("w2-small"));
    run(SMALL, "9", "1", &one);
    run(SMALL, "9", "2", &two);
    let sessions = |dir: &Path| {
        let text = String::from_utf8(read(dir, "discovery.csv")).unwrap();
        let rows = csv_rows(&text);
        let mut nodes: Vec<String> = rows[1..].iter().map(|r| r[0].clone()).collect();
        nodes.sort();
        nodes
    };
    assert_eq!(
        sessions(&one),
        sessions(&two),
        "one session per node, on either"
    );
    // Same model, another schedule: the network ends as well discovered.
    let (r1, r2) = (summary(&one, "recall_final"), summary(&two, "recall_final"));
    assert!(
        (r1 - r2).abs() <= 0.02,
        "final recall {r1} on one worker, {r2} on two"
    );
    // Every node was sampled, on whichever worker it ran.
    let samples = |dir: &Path| {
        let text = String::from_utf8(read(dir, "routing_table.csv")).unwrap();
        csv_rows(&text).len()
    };
    assert_eq!(samples(&one), samples(&two));
}

#[test]
fn every_worker_gives_each_joiner_the_same_bootstrap_nodes() {
    let (one, two) = (scratch("w1-boot"), scratch("w2-boot"));
    run(BOOTSTRAP_LIST, "2", "1", &one);
    run(BOOTSTRAP_LIST, "2", "2", &two);
    // node, bootstrap_peers, bootstrap_live: drawn from the timeline, so the
    // same on any number of workers.
    let given = |dir: &Path| {
        let text = String::from_utf8(read(dir, "discovery.csv")).unwrap();
        let rows = csv_rows(&text);
        let column = |name: &str| rows[0].iter().position(|c| c == name).unwrap();
        let (peers, live) = (column("bootstrap_peers"), column("bootstrap_live"));
        let mut given: Vec<(u32, String, String)> = rows[1..]
            .iter()
            .map(|r| (r[0].parse().unwrap(), r[peers].clone(), r[live].clone()))
            .collect();
        given.sort();
        given
    };
    let on_one = given(&one);
    assert_eq!(on_one, given(&two));
    // Nodes 0 and 1 of the three bootstrap nodes leave at 6 s: a joiner
    // after that was given one of three, so some find theirs gone, not all.
    let gone = on_one
        .iter()
        .filter(|(_, p, l)| p == "1" && l == "0")
        .count();
    assert!(gone > 0 && gone < 14, "{on_one:?}");
    for dir in [&one, &two] {
        assert_eq!(summary(dir, "joins_without_bootstrap"), gone as f64);
    }
}

#[test]
fn scenarios_without_lookahead_are_refused() {
    let out = scratch("w2-storm");
    let o = sim(&[
        "run",
        "scenarios/storm.toml",
        "--nodes",
        "20",
        "--workers",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("lookahead"), "{stderr}");
    assert!(stderr.contains("storm.toml"), "{stderr}");
    assert!(!out.exists(), "nothing written");
}

#[test]
fn the_merged_trace_is_in_canonical_order_and_the_same_across_processes() {
    let dirs = [
        scratch("w2-trace-a"),
        scratch("w2-trace-b"),
        scratch("w2-hash"),
    ];
    for (dir, trace) in dirs.iter().zip([true, true, false]) {
        let mut args = vec!["run", CHURN, "--seed", "5", "--workers", "2", "--no-plot"];
        args.extend(trace.then_some("--trace"));
        args.extend(["--out", dir.to_str().unwrap()]);
        sim_ok(&args);
    }
    let events = read(&dirs[0], "events.csv");
    assert!(events == read(&dirs[1], "events.csv"), "same merged trace");
    let text = String::from_utf8(events).unwrap();
    let rows = csv_rows(&text);
    assert_eq!(rows[0][..3], ["seq", "time_us", "node"]);
    let keys: Vec<(u64, u64, u64)> = rows[1..]
        .iter()
        .map(|r| {
            (
                r[0].parse().unwrap(),
                r[1].parse().unwrap(),
                r[2].parse().unwrap(),
            )
        })
        .collect();
    assert!(keys.len() > 1000, "{} events", keys.len());
    for (i, (seq, _, _)) in keys.iter().enumerate() {
        assert_eq!(*seq, i as u64, "seq numbers the merged trace");
    }
    // In time order (then node, within a nanosecond: the file shows
    // microseconds).
    for pair in keys.windows(2) {
        assert!(pair[0].1 <= pair[1].1, "time goes back at {pair:?}");
    }
    // Both workers' nodes are in it.
    let nodes: std::collections::BTreeSet<u64> = keys.iter().map(|k| k.2).collect();
    assert!(nodes.contains(&0) && nodes.contains(&1), "{nodes:?}");
    let hash = |dir: &Path| {
        let text = String::from_utf8(read(dir, "summary.csv")).unwrap();
        csv_rows(&text)
            .into_iter()
            .find(|r| r[0] == "trace_hash")
            .map(|r| r[1].clone())
            .unwrap()
    };
    assert_eq!(
        hash(&dirs[0]),
        hash(&dirs[2]),
        "the hash does not need --trace"
    );
    assert!(
        !dirs[0].join("events-w0.csv").exists(),
        "no per-worker traces are left"
    );
}

#[test]
fn check_determinism_runs_on_workers() {
    let out = scratch("w2-check-det");
    let stdout = sim_ok(&[
        "run",
        CHURN,
        "--workers",
        "2",
        "--check-determinism",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        stdout.contains("deterministic: both runs went through"),
        "{stdout}"
    );
    let broken = scratch("w2-check-det-broken");
    let o = sim(&[
        "run",
        SMALL,
        "--workers",
        "2",
        "--check-determinism",
        "--unseeded-entropy",
        "--out",
        broken.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("NOT deterministic"), "{stdout}");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--workers 2 --unseeded-entropy"),
        "the repro command carries the worker count"
    );
    let storm = sim(&[
        "run",
        "scenarios/storm.toml",
        "--workers",
        "2",
        "--check-determinism",
    ]);
    assert_eq!(storm.status.code(), Some(2), "no lookahead: refused");
}

#[test]
#[cfg(not(feature = "mpi"))]
fn mpi_without_the_feature_says_how_to_build_it() {
    let out = scratch("mpi-no-feature");
    let o = sim(&["run", SMALL, "--mpi", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("--features mpi"), "{stderr}");
    assert!(!out.exists(), "nothing written");
    let both = sim(&["run", SMALL, "--mpi", "--workers", "2"]);
    assert_eq!(both.status.code(), Some(2), "--mpi sets the worker count");
}

#[test]
fn loss_and_bandwidth_act_on_workers_as_on_one() {
    let (a, b, one, plain) = (
        scratch("w2-shaped-a"),
        scratch("w2-shaped-b"),
        scratch("w1-shaped"),
        scratch("w1-unshaped"),
    );
    run(SHAPED, "2", "2", &a);
    run(SHAPED, "2", "2", &b);
    for file in SAME_FILES {
        assert!(read(&a, file) == read(&b, file), "{file} differs");
    }
    run(SHAPED, "2", "1", &one);
    // The same scenario without its loss and bandwidth keys.
    let text = std::fs::read_to_string(SHAPED).unwrap();
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| {
            !["loss", "upload_mbps", "download_mbps", "a = { b ="]
                .iter()
                .any(|k| l.starts_with(k))
        })
        .filter(|l| *l != "[network.loss_matrix]")
        .collect();
    std::fs::create_dir_all(&plain).unwrap();
    let unshaped = plain.join("unshaped.toml");
    std::fs::write(&unshaped, kept.join("\n")).unwrap();
    run(unshaped.to_str().unwrap(), "2", "1", &plain);
    let p50 = |dir: &Path| summary(dir, "lookup_p50_ms");
    // A lookup's messages wait for uplinks and downlinks of 1-2 Mbit/s and
    // for lost segments, on any number of workers.
    for dir in [&a, &one] {
        assert!(
            p50(dir) > 1.3 * p50(&plain),
            "{} against {}",
            p50(dir),
            p50(&plain)
        );
    }
    assert!(
        (p50(&a) / p50(&one) - 1.0).abs() < 0.25,
        "{} against {}",
        p50(&a),
        p50(&one)
    );
}
