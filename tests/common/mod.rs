//! Helpers shared by the tests that run the `sim` binary.
// Each test binary uses a subset of them.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the `sim` binary from the crate's directory and waits for it.
pub fn sim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the sim binary runs")
}

/// Runs the `sim` binary, asserts that it succeeded and returns its stdout.
pub fn sim_ok(args: &[&str]) -> String {
    let o = sim(args);
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "sim {} failed: {}\n{stdout}\n{}",
        args.join(" "),
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    stdout
}

/// A fresh (removed) directory under cargo's target tmpdir.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The bytes of `dir/file`.
pub fn read(dir: &Path, file: &str) -> Vec<u8> {
    std::fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(file).display()))
}

/// The trace hash a run prints.
pub fn trace_hash(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("trace      "))
        .expect("the run prints its trace hash")
        .to_string()
}

/// The rows of CSV `text`, header first, read as RFC 4180 CSV (a quoted
/// field may hold commas, quotes and line breaks).
pub fn csv_rows(text: &str) -> Vec<Vec<String>> {
    libp2p_sim::csvfile::records(text)
        .map(|r| r.expect("valid CSV").iter().map(str::to_owned).collect())
        .collect()
}
