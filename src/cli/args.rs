//! The arguments of `sim run` and the helpers that the run, sweep and
//! determinism commands share: loading a scenario, the output directory, the
//! repro command, the exit codes.

// The doc comments below are clap's `--help` text, where `<name>` is the
// usual placeholder notation, not HTML; rustdoc would warn about every one.
#![allow(rustdoc::invalid_html_tags)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use libp2p_sim::scenario::Scenario;
use libp2p_sim::sim::TestFaults;

/// Arguments of `sim run`.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// The scenario file (TOML), e.g. scenarios/bootstrap.toml.
    pub scenario: PathBuf,
    /// Seed of the run [default: the scenario's `seed`].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Run the scenario scaled to this many nodes (join counts scale; see
    /// scenarios/README.md), named <name>-<nodes>.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub nodes: Option<u32>,
    /// Output directory [default: results/<scenario name>/seed-<seed>].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Do not print progress while running.
    #[arg(long, short)]
    pub quiet: bool,
    /// Do not draw the SVG charts and index.html (CSV files only).
    #[arg(long)]
    pub no_plot: bool,
    /// Write every swarm, Kademlia and scenario event to events.csv.
    #[arg(long)]
    pub trace: bool,
    /// Keep only some events in events.csv (implies --trace): comma-separated
    /// node indices, node ranges (0-9) and event kinds (connection_closed).
    #[arg(long, value_name = "FILTER")]
    pub trace_filter: Option<String>,
    /// Run the scenario twice, in two processes, and compare their event
    /// traces; report the first divergent event if they differ.
    #[arg(long)]
    pub check_determinism: bool,
    /// Run in real time instead of simulating: TCP on 127.0.0.1, the real
    /// clock, a tokio runtime; the same timeline and output files. Not
    /// deterministic. For fidelity checks against a simulated run.
    #[arg(long, conflicts_with = "check_determinism")]
    pub realtime: bool,
    /// Compute Noise's X25519 key agreement on the curve. By default a
    /// simulation uses a stand-in that costs no CPU and writes the same
    /// bytes (README, "How determinism works"); real-time runs always use
    /// the curve.
    #[arg(long)]
    pub real_x25519: bool,
    /// For tests of the harness itself: panic while polling node NODE at
    /// virtual time MS (milliseconds), e.g. 7@5000.
    #[arg(long, value_name = "NODE@MS", hide = true, value_parser = parse_node_at)]
    pub inject_panic: Option<(u32, u64)>,
    /// For tests of the harness itself: mix the process id into the seed of
    /// libp2p's entropy, so that two processes differ.
    #[arg(long, hide = true)]
    pub unseeded_entropy: bool,
    /// Split the run over N worker processes that run at most one
    /// lookahead ahead of each other (docs/parallel.md); the same seed and
    /// N give the same files. Needs links of non-zero latency.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 1,
        value_parser = clap::value_parser!(u32).range(1..=256),
        conflicts_with = "realtime"
    )]
    pub workers: u32,
    /// How the workers of `--workers` meet: `sliding` (each waits only
    /// when a lookahead ahead of the others) or `barrier` (all wait at the
    /// end of every lookahead window). The same files either way.
    #[arg(long, value_name = "HOW", value_enum, default_value_t = SyncArg::Sliding)]
    pub sync: SyncArg,
    /// Run as one worker of a run on several MPI ranks: `mpirun -n N sim
    /// run <scenario> --mpi` runs the scenario on N workers, one per rank,
    /// and rank 0 writes the files, the same as `--workers N` writes (needs
    /// a build with `--features mpi`).
    #[arg(long, conflicts_with_all = ["workers", "realtime", "check_determinism"])]
    pub mpi: bool,
    /// Set by the parent of a run on several workers: this process is
    /// worker I.
    #[arg(long, hide = true, value_name = "I", requires = "hub")]
    pub worker_index: Option<u32>,
    /// Set by the parent of a run on several workers: the hub's socket.
    #[arg(long, hide = true, value_name = "PATH")]
    pub hub: Option<PathBuf>,
}

/// `--sync`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SyncArg {
    /// Sliding horizons.
    Sliding,
    /// A barrier at the end of every lookahead window.
    Barrier,
}

impl SyncArg {
    /// The engine's name for it.
    pub fn schedule(self) -> libp2p_sim::engine::workers::Schedule {
        use libp2p_sim::engine::workers::Schedule;
        match self {
            SyncArg::Sliding => Schedule::Sliding,
            SyncArg::Barrier => Schedule::Barrier,
        }
    }
}

impl RunArgs {
    /// The faults that the hidden test options inject.
    pub fn test_faults(&self) -> TestFaults {
        TestFaults {
            panic_at: self
                .inject_panic
                .map(|(node, ms)| (node, Duration::from_millis(ms))),
            unseeded_entropy: self.unseeded_entropy,
        }
    }

    /// The hidden test options, as command-line arguments.
    pub fn test_fault_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if let Some((node, ms)) = self.inject_panic {
            args.push(format!("--inject-panic={node}@{ms}"));
        }
        if self.unseeded_entropy {
            args.push("--unseeded-entropy".to_string());
        }
        args
    }
}

/// Parses `NODE@MS`.
fn parse_node_at(text: &str) -> Result<(u32, u64), String> {
    let bad = || format!("{text:?}: use NODE@MS, e.g. 7@5000");
    let (node, ms) = text.split_once('@').ok_or_else(bad)?;
    Ok((
        node.parse().map_err(|_| bad())?,
        ms.parse().map_err(|_| bad())?,
    ))
}

/// Exit code for a scenario file that cannot be used (as for usage errors).
pub const EXIT_BAD_INPUT: u8 = 2;

/// Exit code of a run stopped by SIGINT or SIGTERM (128 + SIGINT, as shells
/// report an interrupted command).
pub const EXIT_INTERRUPTED: u8 = 130;

/// Loads the scenario of `args`, or prints the error (exit code 2).
pub fn load(path: &Path) -> Result<Scenario, ExitCode> {
    Scenario::load(path).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(EXIT_BAD_INPUT)
    })
}

/// The output directory of a run: `results/<name>/seed-<seed>`, or
/// `realtime-seed-<seed>` for a real-time run.
pub fn out_dir(args: &RunArgs, scenario: &Scenario, seed: u64) -> PathBuf {
    let mode = if args.realtime { "realtime-" } else { "" };
    args.out.clone().unwrap_or_else(|| {
        PathBuf::from("results")
            .join(&scenario.name)
            .join(format!("{mode}seed-{seed}"))
    })
}

/// Loads the scenario of a `sim run`, scaled by `--nodes`, or prints the
/// error (exit code 2).
pub fn load_run(args: &RunArgs) -> Result<Scenario, ExitCode> {
    let scenario = load(&args.scenario)?;
    match args.nodes {
        None => Ok(scenario),
        Some(n) => scenario.scaled(n).map_err(|e| {
            eprintln!("error: --nodes {n}: {e}");
            ExitCode::from(EXIT_BAD_INPUT)
        }),
    }
}

/// The command that reproduces a `sim run` (scenario, seed, node count).
pub fn repro_command(args: &RunArgs, seed: u64) -> String {
    let nodes = args
        .nodes
        .map(|n| format!(" --nodes {n}"))
        .unwrap_or_default();
    let realtime = if args.realtime { " --realtime" } else { "" };
    let x25519 = if args.real_x25519 {
        " --real-x25519"
    } else {
        ""
    };
    let faults: String = args
        .test_fault_args()
        .iter()
        .map(|a| format!(" {}", a.replace('=', " ")))
        .collect();
    let workers = if args.workers > 1 {
        format!(" --workers {}", args.workers)
    } else {
        String::new()
    };
    format!(
        "sim run {} --seed {seed}{nodes}{workers}{realtime}{x25519}{faults}",
        args.scenario.display()
    )
}
