//! `sim run --realtime`: the same scenario on loopback TCP with the real
//! clock, and the scenarios it refuses.

mod common;

use common::{csv_rows, scratch, sim, sim_ok};
use std::path::Path;
use std::process::Output;

const SCENARIO: &str = "tests/scenarios/realtime.toml";

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The rows of a CSV file, header first.
fn rows(dir: &Path, file: &str) -> Vec<Vec<String>> {
    let body = std::fs::read_to_string(dir.join(file))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.join(file).display()));
    csv_rows(&body)
}

fn column(rows: &[Vec<String>], name: &str) -> usize {
    rows[0]
        .iter()
        .position(|c| c == name)
        .unwrap_or_else(|| panic!("no column {name} in {:?}", rows[0]))
}

fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn realtime_run_bootstraps_every_node_and_writes_what_a_simulation_writes() {
    let real = scratch("realtime-real");
    let simulated = scratch("realtime-sim");
    let stdout = sim_ok(&[
        "run",
        SCENARIO,
        "--realtime",
        "--out",
        real.to_str().unwrap(),
    ]);
    assert!(stdout.contains("not deterministic"), "{stdout}");
    assert!(
        stdout.contains("lag        scenario events applied"),
        "{stdout}"
    );
    sim_ok(&["run", SCENARIO, "--out", simulated.to_str().unwrap()]);

    // The same files, with the same columns.
    assert_eq!(file_names(&real), file_names(&simulated));
    for file in [
        "discovery.csv",
        "routing_table.csv",
        "network.csv",
        "lookups.csv",
        "buckets.csv",
    ] {
        assert_eq!(rows(&real, file)[0], rows(&simulated, file)[0], "{file}");
    }

    // Every node joined over real TCP and finished its first bootstrap
    // within the run (`first_bootstrap_ms` counts from the join).
    let d = rows(&real, "discovery.csv");
    assert_eq!(d.len(), 1 + 12, "{d:?}");
    let (join, boot, ok) = (
        column(&d, "join_ms"),
        column(&d, "first_bootstrap_ms"),
        column(&d, "first_bootstrap_ok"),
    );
    for row in &d[1..] {
        let joined: u64 = row[join].parse().unwrap();
        let booted: u64 = row[boot].parse().unwrap_or_else(|_| panic!("{row:?}"));
        assert!(joined + booted <= 6_000, "{row:?}");
        assert_eq!(row[ok], "true", "{row:?}");
    }

    // Samples are dated at their scheduled times, as in a simulation.
    let n = rows(&real, "network.csv");
    let times: Vec<&str> = n[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(times, ["2000", "4000", "6000"]);
    // The network counters saw the TCP connections and their bytes.
    let last = n.last().unwrap();
    assert!(
        last[column(&n, "bytes")].parse::<u64>().unwrap() > 0,
        "{last:?}"
    );
    let summary = std::fs::read_to_string(real.join("summary.csv")).unwrap();
    let value = |key: &str| -> f64 {
        summary
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key},")))
            .unwrap_or_else(|| panic!("{key} in {summary}"))
            .parse()
            .unwrap()
    };
    assert!(value("connections_opened") >= 11.0, "{summary}");
    // Twelve nodes that all know each other: the routing tables hold the
    // true k closest.
    assert!(value("recall_final") >= 0.9, "{summary}");
    // Lookups ran (a Poisson process of 2 per second for 3 s).
    assert!(rows(&real, "lookups.csv").len() > 1);

    // `sim compare` reads both and writes its table, CSV and charts.
    let out = scratch("realtime-compare");
    let stdout = sim_ok(&[
        "compare",
        simulated.to_str().unwrap(),
        real.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(stdout.contains("final recall"), "{stdout}");
    let c = rows(&out, "compare.csv");
    let metric = column(&c, "metric");
    let boot = c
        .iter()
        .find(|r| r[metric] == "first_bootstrap_after_join")
        .unwrap_or_else(|| panic!("{c:?}"));
    assert_eq!(boot[column(&c, "count_a")], "12");
    assert_eq!(boot[column(&c, "count_b")], "12");
    assert!(out.join("compare_first_bootstrap_after_join.svg").exists());

    // A directory without results: exit 2, naming the missing file.
    let o = sim(&[
        "compare",
        simulated.to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    let (_, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("discovery.csv") || stderr.contains("network.csv"),
        "{stderr}"
    );
}

#[test]
fn realtime_refuses_latency_partitions_and_large_scenarios_with_exit_2() {
    let partitioned = Path::new(env!("CARGO_TARGET_TMPDIR")).join("realtime-partition.toml");
    let base =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(SCENARIO)).unwrap();
    std::fs::write(
        &partitioned,
        format!("{base}\n[[partition]]\nat = \"3s\"\nfor = \"1s\"\ngroups = [0.5, 0.5]\n"),
    )
    .unwrap();
    let partitioned = partitioned.to_str().unwrap();
    let cases: [(&[&str], &str); 3] = [
        (&["tests/scenarios/small.toml"], "network.latency"),
        (&[partitioned], "partition"),
        (&[SCENARIO, "--nodes", "1000"], "at most"),
    ];
    for (args, expected) in cases {
        let out = scratch("realtime-refused");
        let mut argv = vec!["run"];
        argv.extend_from_slice(args);
        argv.extend_from_slice(&["--realtime", "--out", out.to_str().unwrap()]);
        let o = sim(&argv);
        let (_, stderr) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(args[0]), "names the file: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!out.exists(), "nothing written for {args:?}");
    }
}
