//! Stopping a run from outside: SIGTERM or Ctrl-C save what was measured,
//! and `sim bench` uses that to report how far a run past its limit got.

mod common;

use common::scratch;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

/// The value of `key` in a two-column `metric,value` CSV file.
fn metric(file: &Path, key: &str) -> String {
    let text = std::fs::read_to_string(file).expect("the file was written");
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{key},")).map(str::to_owned))
        .unwrap_or_else(|| panic!("no {key} in {}", file.display()))
}

#[test]
fn sigterm_stops_a_run_and_keeps_what_it_measured() {
    let out = scratch("stopped-run");
    // Two minutes of wall time unstopped: it cannot end by itself first.
    let mut child = Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(["run", "scenarios/bootstrap.toml", "--no-plot", "--out"])
        .arg(&out)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the sim binary runs");
    let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
    // The handler is in place before the first line.
    let first = lines.next().expect("a first line").expect("utf-8");
    assert!(first.starts_with("scenario"), "{first}");
    // SAFETY: `child` has not been waited for, so its pid is still ours.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let status = child.wait().expect("the child ends");
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("piped"), &mut stderr)
        .expect("utf-8");
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("stopped"), "{stderr}");
    assert!(
        stderr.contains("sim run scenarios/bootstrap.toml --seed 1"),
        "{stderr}"
    );
    assert_eq!(metric(&out.join("summary.csv"), "complete"), "false");
    let reached: f64 = metric(&out.join("performance.csv"), "virtual_s")
        .parse()
        .expect("a number");
    assert!(reached < 600.0, "stopped before the end: {reached}");
    let discovery = std::fs::read_to_string(out.join("discovery.csv")).expect("written");
    assert!(discovery.lines().count() >= 2, "node 0 joined at 0 s");
}

#[test]
fn bench_reports_how_far_a_run_past_its_limit_got() {
    let out = scratch("bench-stopped");
    let o = Command::new(env!("CARGO_BIN_EXE_sim"))
        .args([
            "bench",
            "--scenarios",
            "scenarios/bootstrap.toml",
            "--nodes",
            "100,200",
            "--limit",
            "2",
            "--out",
        ])
        .arg(&out)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the sim binary runs");
    assert!(o.status.success(), "a timeout is a result");
    let csv = std::fs::read_to_string(out.join("bench.csv")).expect("written");
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(
        rows[0][..5],
        ["bootstrap", "100", "1", "sim", "timeout"],
        "{rows:?}"
    );
    let reached: f64 = rows[0][7].parse().expect("the virtual time reached");
    assert!(reached > 0.0 && reached < 600.0, "{rows:?}");
    assert_eq!(rows[1][4], "skipped", "{rows:?}");
}
