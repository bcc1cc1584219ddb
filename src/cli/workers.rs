//! `sim run --workers N`: the parent starts N copies of this binary as
//! workers, routes their messages through the hub of the engine's local
//! backend, and merges their reports into one (`sim::merge`), which it
//! writes as a one-worker run writes its own.

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{Context as _, bail};
use libp2p_sim::engine::workers::{lookahead, run_local};
use libp2p_sim::metrics::RunReport;
use libp2p_sim::scenario::Scenario;
use libp2p_sim::sim::{self, WorkerLink, WorkerSpec};
use libp2p_sim::trace::places;

use super::args::RunArgs;

/// Where a worker writes its report for the parent.
const REPORT: &str = "report.json";
/// Where a worker writes the places of its traced events
/// (`trace::places`).
const PLACES: &str = "places.bin";

/// Why `scenario` cannot run on several workers, if it cannot.
pub fn refusal(scenario: &Scenario, workers: u32) -> Option<String> {
    if workers <= 1 {
        return None;
    }
    refusal_as(scenario, &format!("--workers {workers}"))
}

/// Why `scenario` cannot run on several workers as `flag` asks, if it
/// cannot.
pub fn refusal_as(scenario: &Scenario, flag: &str) -> Option<String> {
    if lookahead(&scenario.network).is_zero() {
        return Some(format!(
            "{flag}: links between workers can have zero latency \
             (network.latency or network.latency_matrix), so there is no lookahead \
             to simulate ahead in; run it on one worker, or give every link a latency above zero"
        ));
    }
    if scenario.stop_when_bootstrapped {
        return Some(format!(
            "{flag}: stop_when_bootstrapped needs every node's state in one \
             process; run it on one worker"
        ));
    }
    None
}

/// This process as worker `index` of a run on several.
pub fn spec(args: &RunArgs) -> Option<WorkerSpec> {
    Some(WorkerSpec {
        index: args.worker_index?,
        count: args.workers,
        link: WorkerLink::Hub(args.hub.clone()?, args.sync.schedule()),
    })
}

/// Writes a worker's report where the parent reads it.
pub fn write_report(report: &RunReport, out: &Path) -> anyhow::Result<()> {
    let (json, places) = report_files(report)?;
    std::fs::create_dir_all(out)?;
    libp2p_sim::csvfile::write_atomic(&out.join(REPORT), &json)?;
    places::write_bytes(&out.join(PLACES), &places)?;
    Ok(())
}

/// A worker's report as the parent reads it: JSON, and the places of its
/// traced events.
pub fn report_files(report: &RunReport) -> anyhow::Result<(String, Vec<u8>)> {
    let places = report.trace_places.as_deref().unwrap_or_default();
    let json = serde_json::to_string(report)?;
    Ok((json, places::to_bytes(places)))
}

/// Writes what [`report_files`] gave into worker `i`'s directory under
/// `dir`, with its trace if it sent one.
#[cfg(feature = "mpi")]
pub fn put_report_files(
    dir: &Path,
    i: u32,
    json: &str,
    places: &[u8],
    trace: Option<&[u8]>,
) -> anyhow::Result<()> {
    let wdir = worker_dir(dir, i);
    std::fs::create_dir_all(&wdir)?;
    libp2p_sim::csvfile::write_atomic(&wdir.join(REPORT), json)?;
    places::write_bytes(&wdir.join(PLACES), places)?;
    if let Some(trace) = trace {
        std::fs::write(wdir.join("events.csv"), trace)?;
    }
    Ok(())
}

/// Runs the scenario of `args` on `args.workers` workers and returns the
/// merged report, with the trace hash of the merged trace and (with
/// `--trace`) the merged `events.csv` in `out`.
pub fn run(args: &RunArgs, seed: u64, out: &Path) -> anyhow::Result<RunReport> {
    let dir = out.join(".workers");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let (statuses, routed) = run_local(&dir, args.workers, args.sync.schedule(), |i, socket| {
        spawn(args, seed, i, socket, &dir)
    })
    .context("starting the workers")?;
    let mut failed = Vec::new();
    for (i, status) in statuses.iter().enumerate() {
        if !status.success() {
            failed.push(format!(
                "worker {i} ({status}; its output: {})",
                worker_dir(&dir, i as u32).join("stdout.txt").display()
            ));
        }
    }
    if !failed.is_empty() {
        bail!("{}", failed.join(", "));
    }
    routed.context("routing the workers' messages")?;
    let report = collect(args, &dir, args.workers, out)?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(report)
}

/// Reads what workers `0..count` left in `dir/<i>/` (report, places,
/// trace) and merges it into one report, writing the merged `events.csv`
/// into `out` when the run was traced.
pub fn collect(args: &RunArgs, dir: &Path, count: u32, out: &Path) -> anyhow::Result<RunReport> {
    let mut reports = Vec::new();
    let mut places = Vec::new();
    let mut traces = Vec::new();
    for i in 0..count {
        let wdir = worker_dir(dir, i);
        let path = wdir.join(REPORT);
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let report: RunReport = serde_json::from_slice(&bytes)
            .with_context(|| format!("reading {}", path.display()))?;
        let path = wdir.join(PLACES);
        places.push(places::read(&path).with_context(|| format!("reading {}", path.display()))?);
        traces.push(wdir.join("events.csv"));
        reports.push(report);
    }
    let mut report = sim::merge(reports);
    let merged = places::merge(&places);
    report.trace_hash = merged.hash.clone();
    report.trace_events = merged.events;
    if args.trace || args.trace_filter.is_some() {
        let path = out.join("events.csv");
        places::merge_files(&traces, &merged, &path)
            .with_context(|| format!("merging the workers' traces into {}", path.display()))?;
        report.trace_file = Some(path);
    }
    Ok(report)
}

/// Where worker `i` of a run writes its files, under the run's `dir`.
pub fn worker_dir(dir: &Path, i: u32) -> PathBuf {
    dir.join(i.to_string())
}

/// Starts worker `i`: this binary, `sim run` with the same scenario,
/// seed and options, writing into its own directory.
fn spawn(args: &RunArgs, seed: u64, i: u32, socket: &Path, dir: &Path) -> io::Result<Child> {
    let wdir = worker_dir(dir, i);
    std::fs::create_dir_all(&wdir)?;
    let exe = std::env::current_exe()?;
    let mut cmd = Command::new(exe);
    cmd.arg("run")
        .arg(&args.scenario)
        .args(["--seed", &seed.to_string()])
        .args(["--workers", &args.workers.to_string()])
        .args([
            "--sync",
            clap::ValueEnum::to_possible_value(&args.sync)
                .expect("no value of --sync is skipped")
                .get_name(),
        ])
        .args(["--worker-index", &i.to_string()])
        .arg("--hub")
        .arg(socket)
        .arg("--out")
        .arg(&wdir)
        .arg("--no-plot");
    // Worker 0 draws the progress line (on the terminal the workers
    // share), with its wait at window ends.
    if i != 0 || args.quiet {
        cmd.arg("--quiet");
    }
    if let Some(n) = args.nodes {
        cmd.args(["--nodes", &n.to_string()]);
    }
    if args.trace {
        cmd.arg("--trace");
    }
    if let Some(filter) = &args.trace_filter {
        cmd.args(["--trace-filter", filter]);
    }
    if args.real_x25519 {
        cmd.arg("--real-x25519");
    }
    cmd.args(args.test_fault_args());
    let stdout = std::fs::File::create(wdir.join("stdout.txt"))?;
    cmd.stdout(stdout).stderr(Stdio::inherit());
    cmd.spawn()
}
