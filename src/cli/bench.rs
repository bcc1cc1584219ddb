//! `sim bench`: the scaling series.
//!
//! Each scenario is scaled to each node count (`Scenario::scaled`), written
//! beside the results as `<name>-<N>.toml`, and run by a child `sim run` on
//! each worker count (`--workers`), one run at a time so runs do not
//! compete for the cores. A scenario that cannot run on several workers
//! (no lookahead) is marked `refused` there. Every child is measured
//! from outside with `wait4` (wall, CPU, peak RSS), the same way as the
//! optional baseline program, and its `performance.csv` adds the virtual time
//! and the event count. A run that passes the time limit is stopped
//! (SIGTERM: it saves what it measured, so its virtual time shows how far it
//! got; SIGKILL if it has not ended 30 s later) and reported as `timeout`;
//! larger sizes of that scenario on that worker count are then skipped.
//! On several workers, wall, CPU (all processes) and peak RSS (the largest
//! process) are the whole run's, and `window_wait_s` is the longest time a
//! worker spent at window ends.
//! Each child's address space is capped (`--max-memory`), so a run too large
//! for the machine ends as `out of memory` instead of swapping.
//!
//! Output: `bench.csv` (one row per run) and `bench.md` (the same as a
//! Markdown table, as printed), rewritten after every run.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

use anyhow::Context as _;
use libp2p_sim::csvfile::{CsvBuf, write_atomic};
use libp2p_sim::machine::{self, ChildRun, Exit, Performance};
use libp2p_sim::scenario::Scenario;

use super::workers;

/// What to run.
pub struct Plan {
    pub scenarios: Vec<PathBuf>,
    pub nodes: Vec<u32>,
    /// Worker counts (`sim run --workers`).
    pub workers: Vec<u32>,
    pub seed: u64,
    /// A built `tokio-baseline` binary, run as `<binary> <N>` beside storm.
    pub baseline: Option<PathBuf>,
    pub limit: Duration,
    /// Address-space limit of each child, in bytes (`setrlimit(RLIMIT_AS)`),
    /// so a run too large for the machine fails alone instead of swapping or
    /// waking the kernel's out-of-memory killer.
    pub memory: u64,
    pub out: PathBuf,
}

/// One row of the table.
struct Row {
    scenario: String,
    nodes: u32,
    workers: u32,
    program: &'static str,
    status: String,
    run: Option<ChildRun>,
    perf: Option<Performance>,
}

/// Runs the series; exit code 0 unless a run failed with an error (a
/// timeout or running out of memory is a result), 1 then.
pub fn bench(plan: &Plan) -> ExitCode {
    match run_plan(plan) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_plan(plan: &Plan) -> anyhow::Result<bool> {
    let scenarios = plan
        .scenarios
        .iter()
        .map(|p| Scenario::load(p).map(|s| (p, s)))
        .collect::<Result<Vec<_>, _>>()?;
    // The path as given may be relative without a slash, which
    // `Command::new` would look up in PATH instead of here.
    let baseline = match &plan.baseline {
        Some(path) => {
            check_baseline(path)?;
            Some(std::fs::canonicalize(path)?)
        }
        None => None,
    };
    std::fs::create_dir_all(&plan.out)
        .with_context(|| format!("creating {}", plan.out.display()))?;
    let exe = std::env::current_exe()?;
    let provenance = Provenance::here();
    let mut rows = Vec::new();
    let mut all_ok = true;
    for (path, scenario) in &scenarios {
        // Worker counts whose runs of this scenario stopped: larger sizes
        // are skipped on them.
        let mut gave_up = BTreeSet::new();
        for &n in &plan.nodes {
            let name = format!("{}-{n}", scenario.name);
            let scaled = scenario
                .scaled(n)
                .with_context(|| format!("scaling {} to {n} nodes", path.display()))?;
            let file = plan.out.join(format!("{name}.toml"));
            write_atomic(&file, &scaled.to_toml())?;
            for &w in &plan.workers {
                if gave_up.contains(&w) {
                    rows.push(Row::skipped(&scenario.name, n, w, "sim", "skipped"));
                    continue;
                }
                if workers::refusal(&scaled, w).is_some() {
                    rows.push(Row::skipped(&scenario.name, n, w, "sim", "refused"));
                    continue;
                }
                let (dir, shown) = if plan.workers == [1] {
                    (plan.out.join(&name), String::new())
                } else {
                    (
                        plan.out.join(format!("{name}-w{w}")),
                        format!(" --workers {w}"),
                    )
                };
                eprintln!(
                    "bench: {name} (sim run {} --seed {}{shown})",
                    file.display(),
                    plan.seed
                );
                let mut cmd = Command::new(&exe);
                cmd.arg("run")
                    .arg(&file)
                    .args([
                        "--seed",
                        &plan.seed.to_string(),
                        "--workers",
                        &w.to_string(),
                        "--quiet",
                        "--no-plot",
                        "--out",
                    ])
                    .arg(&dir)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null());
                limit_memory(&mut cmd, plan.memory);
                // Figures of an earlier bench in the same place must not pass
                // for this run's.
                let _ = std::fs::remove_file(dir.join(machine::PERFORMANCE_CSV));
                let run = machine::run_child(&mut cmd, plan.limit)?;
                // A run stopped at the limit saves its figures too: its virtual
                // time then says how far it got.
                let perf = std::fs::read_to_string(dir.join(machine::PERFORMANCE_CSV))
                    .ok()
                    .and_then(|csv| Performance::parse(&csv))
                    .filter(|_| matches!(run.exit, Exit::Code(0) | Exit::Timeout));
                let row = Row::measured(&scenario.name, n, w, "sim", run, perf);
                // A timeout or running out of memory is a result; an error is not.
                all_ok &= !matches!(run.exit, Exit::Code(c) if c != 0);
                if run.exit != Exit::Code(0) {
                    gave_up.insert(w);
                }
                rows.push(row);
                write_tables(&plan.out, &provenance, &rows)?;
            }
            if let Some(baseline) = baseline.as_ref().filter(|_| scenario.name == "storm") {
                eprintln!("bench: baseline {} {n}", baseline.display());
                let mut cmd = Command::new(baseline);
                cmd.arg(n.to_string())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null());
                limit_memory(&mut cmd, plan.memory);
                let run = machine::run_child(&mut cmd, plan.limit)
                    .with_context(|| format!("running the baseline {}", baseline.display()))?;
                rows.push(Row::measured(&scenario.name, n, 1, "baseline", run, None));
            }
            write_tables(&plan.out, &provenance, &rows)?;
        }
    }
    write_tables(&plan.out, &provenance, &rows)?;
    print!("{}", markdown(&provenance, &rows));
    println!("tables in {}", plan.out.join("bench.md").display());
    Ok(all_ok)
}

/// Fails, before any run, unless `path` is an executable file: a missing
/// baseline would otherwise stop the series after its first simulator run.
fn check_baseline(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let meta = std::fs::metadata(path).with_context(|| {
        format!(
            "baseline {}: cannot read it (build it with `cargo build --release` \
             in ../shared/baseline-tokio; the binary is target/release/tokio-baseline)",
            path.display()
        )
    })?;
    anyhow::ensure!(
        meta.is_file() && meta.permissions().mode() & 0o111 != 0,
        "baseline {}: not an executable file",
        path.display()
    );
    Ok(())
}

/// Caps the address space of the child `cmd` will start at `bytes`.
fn limit_memory(cmd: &mut Command, bytes: u64) {
    use std::os::unix::process::CommandExt as _;
    let limit = libc::rlimit {
        rlim_cur: bytes as libc::rlim_t,
        rlim_max: bytes as libc::rlim_t,
    };
    // SAFETY: runs in the forked child before exec; `setrlimit` is
    // async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

impl Row {
    fn skipped(
        scenario: &str,
        nodes: u32,
        workers: u32,
        program: &'static str,
        status: &str,
    ) -> Row {
        Row {
            scenario: scenario.to_owned(),
            nodes,
            workers,
            program,
            status: status.into(),
            run: None,
            perf: None,
        }
    }

    fn measured(
        scenario: &str,
        nodes: u32,
        workers: u32,
        program: &'static str,
        run: ChildRun,
        perf: Option<Performance>,
    ) -> Row {
        let status = match run.exit {
            Exit::Code(0) => "ok".to_owned(),
            Exit::Code(c) => format!("exit {c}"),
            // An allocation over the address-space limit aborts the child.
            Exit::Signal(6) => "out of memory".to_owned(),
            Exit::Signal(9) => "killed".to_owned(),
            Exit::Signal(s) => format!("signal {s}"),
            Exit::Timeout => "timeout".to_owned(),
        };
        Row {
            scenario: scenario.to_owned(),
            nodes,
            workers,
            program,
            status,
            run: Some(run),
            perf,
        }
    }

    /// The cells after scenario, nodes, workers, program and status: wall
    /// s, CPU s, virtual s, virtual/wall, events/s, peak RSS MB, RSS per
    /// node MB, window wait s.
    fn cells(&self) -> [String; 8] {
        let dash = || "-".to_owned();
        let Some(run) = self.run else {
            return std::array::from_fn(|_| dash());
        };
        let rss = machine::mb(run.usage.peak_rss);
        let wait = self
            .perf
            .as_ref()
            .and_then(|p| p.windows)
            .map_or_else(dash, |(_, w)| format!("{:.1}", w.as_secs_f64()));
        let (virt, speed, eps) = match &self.perf {
            Some(p) => (
                format!("{:.1}", p.virtual_time.as_secs_f64()),
                format!(
                    "{:.2}",
                    p.virtual_time.as_secs_f64() / run.wall.as_secs_f64()
                ),
                format!("{:.0}", p.events as f64 / run.wall.as_secs_f64()),
            ),
            None => (dash(), dash(), dash()),
        };
        [
            format!("{:.1}", run.wall.as_secs_f64()),
            format!("{:.1}", run.usage.cpu.as_secs_f64()),
            virt,
            speed,
            eps,
            // Also for a run that failed or timed out: how far it got.
            format!("{rss:.0}"),
            format!("{:.2}", rss / f64::from(self.nodes)),
            wait,
        ]
    }
}

const COLUMNS: [&str; 13] = [
    "scenario",
    "nodes",
    "workers",
    "program",
    "status",
    "wall_s",
    "cpu_s",
    "virtual_s",
    "virtual_per_wall",
    "events_per_s",
    "peak_rss_mb",
    "rss_per_node_mb",
    "window_wait_s",
];

fn write_tables(out: &Path, provenance: &Provenance, rows: &[Row]) -> anyhow::Result<()> {
    let mut csv = CsvBuf::new(COLUMNS);
    for r in rows {
        let head = [
            r.scenario.clone(),
            r.nodes.to_string(),
            r.workers.to_string(),
            r.program.to_owned(),
            r.status.clone(),
        ];
        csv.row(head.into_iter().chain(r.cells()));
    }
    write_atomic(&out.join("bench.csv"), &csv.finish())?;
    write_atomic(&out.join("bench.md"), &markdown(provenance, rows))?;
    Ok(())
}

/// Where and when the figures were measured, for the head of `bench.md`:
/// the date (UTC), the machine, the command and the commit.
pub struct Provenance {
    date: String,
    machine: String,
    command: String,
    commit: String,
}

impl Provenance {
    /// This process: today's date, this machine, its command line, and the
    /// commit of the checkout it runs in (`unknown` outside one; `-dirty`
    /// after it when tracked files differ from the commit).
    pub fn here() -> Provenance {
        let command = std::iter::once("sim".to_string())
            .chain(std::env::args().skip(1))
            .collect::<Vec<_>>()
            .join(" ");
        Provenance {
            date: machine::today_utc(),
            machine: machine::describe(),
            command,
            commit: commit(),
        }
    }

    fn markdown(&self) -> String {
        format!(
            "Measured on {} on {}, with `{}` at commit {}.\n\n",
            self.date, self.machine, self.command, self.commit
        )
    }
}

fn commit() -> String {
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git")
            .args(args)
            .stderr(Stdio::null())
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    match git(&["rev-parse", "--short=7", "HEAD"]) {
        Some(hash) if !hash.is_empty() => {
            let dirty = git(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|s| !s.is_empty());
            if dirty { format!("{hash}-dirty") } else { hash }
        }
        _ => "unknown".to_string(),
    }
}

fn markdown(provenance: &Provenance, rows: &[Row]) -> String {
    let mut md = provenance.markdown();
    md.push_str(
        "| scenario | nodes | workers | program | status | wall s | CPU s | virtual s | virtual/wall | events/s | peak RSS MB | RSS/node MB | window wait s |\n\
         |---|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} |",
            r.scenario,
            r.nodes,
            r.workers,
            r.program,
            r.status,
            r.cells().join(" | ")
        );
    }
    md
}
