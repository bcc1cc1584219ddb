//! The `sim` command line.
//!
//! Its modules form three layers, listed from the bottom up; a module
//! imports only modules of the layers below its own:
//!
//! * `args`: the arguments of `sim run` and what the layers above share
//!   (loading a scenario, output directories, repro commands, exit codes);
//! * `sweep` (`sim sweep`, `sim merge`), `determinism`
//!   (`sim run --check-determinism`) and `bench` (`sim bench`);
//! * this module: the clap [`Cli`], the dispatch, `sim run`, `check` and
//!   `compare`.

// The doc comments below are clap's `--help` text, where `<name>` is the
// usual placeholder notation, not HTML; rustdoc would warn about every one.
#![allow(rustdoc::invalid_html_tags)]

mod args;
mod bench;
mod determinism;
#[cfg(feature = "mpi")]
mod mpi;
mod sweep;
mod workers;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use libp2p_sim::invariant;
use libp2p_sim::machine::{self, Performance, Stopwatch};
use libp2p_sim::metrics::RunReport;
use libp2p_sim::metrics::summary::{Spread, level_name};
use libp2p_sim::scenario::{Scenario, format_duration};
use libp2p_sim::sim::{self, Progress, RunOptions};
use libp2p_sim::trace::TraceFilter;

use args::{EXIT_BAD_INPUT, EXIT_INTERRUPTED, RunArgs, load_run, out_dir, repro_command};

/// Deterministic simulation of rust-libp2p networks in virtual time.
#[derive(Debug, Parser)]
#[command(name = "sim", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a scenario and write its CSV results.
    Run(RunArgs),
    /// Validate a scenario without running it, and print it resolved (every
    /// default filled in) as TOML.
    Check {
        /// The scenario file (TOML).
        scenario: PathBuf,
    },
    /// Run many seeds of a scenario, each in its own process, on all cores;
    /// write sweep.csv and list the failing seeds with their repro commands.
    Sweep {
        /// The scenario file (TOML).
        scenario: PathBuf,
        /// Seeds: A..B (both included, e.g. 1..500) or a list 1,5,9.
        #[arg(long)]
        seeds: String,
        /// Runs at a time [default: the number of cores].
        #[arg(long)]
        jobs: Option<usize>,
        /// Run only shard i of n (0-based, every n-th seed from position i),
        /// e.g. --shard $JOB_COMPLETION_INDEX/8.
        #[arg(long, value_name = "i/n")]
        shard: Option<String>,
        /// Output directory [default: results/<scenario name>/sweep].
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Run the scaling series (each scenario at each node count, one run at a
    /// time, each in its own process) and write bench.csv and bench.md.
    Bench {
        /// Scenario files.
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "scenarios/storm.toml,scenarios/bootstrap.toml,scenarios/churn.toml"
        )]
        scenarios: Vec<PathBuf>,
        /// Node counts.
        #[arg(long, value_delimiter = ',', default_value = "100,300,1000,3000",
              value_parser = clap::value_parser!(u32).range(1..=100_000))]
        nodes: Vec<u32>,
        /// Worker counts: each scenario and size runs on each (`sim run
        /// --workers N`); a scenario without lookahead is skipped on more
        /// than one.
        #[arg(long, value_delimiter = ',', default_value = "1",
              value_parser = clap::value_parser!(u32).range(1..=256))]
        workers: Vec<u32>,
        /// Seed of every run.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// A built tokio-baseline binary (../shared/baseline-tokio), run as
        /// `<binary> <N>` beside each storm run.
        #[arg(long)]
        baseline: Option<PathBuf>,
        /// Time limit of one run, in seconds; a run past it is stopped and
        /// larger sizes of its scenario are skipped.
        #[arg(long, default_value_t = 600)]
        limit: u64,
        /// Address-space limit of one run, in GiB: a run that needs more
        /// stops as "out of memory".
        #[arg(long, default_value_t = 20)]
        max_memory: u64,
        /// Output directory.
        #[arg(long, default_value = "results/bench")]
        out: PathBuf,
    },
    /// Compare two result directories (e.g. a simulated and a real-time
    /// run): medians, p90s and the two-sample Kolmogorov-Smirnov statistic
    /// of every metric distribution; writes compare.csv and CDF charts.
    Compare {
        /// The first result directory (A).
        a: PathBuf,
        /// The second result directory (B).
        b: PathBuf,
        /// Output directory [default: results/compare/<A>-vs-<B>].
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Merge the sweep.csv files of several shards into one.
    Merge {
        /// The sweep.csv files.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// The merged file.
        #[arg(long)]
        out: PathBuf,
    },
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) if args.check_determinism => determinism::check(&args),
        Command::Run(args) => run(&args),
        Command::Check { scenario } => check(&scenario),
        Command::Sweep {
            scenario,
            seeds,
            jobs,
            shard,
            out,
        } => sweep_command(&scenario, &seeds, jobs, shard.as_deref(), out),
        Command::Bench {
            scenarios,
            nodes,
            workers,
            seed,
            baseline,
            limit,
            max_memory,
            out,
        } => bench::bench(&bench::Plan {
            scenarios,
            nodes,
            workers,
            seed,
            baseline,
            limit: Duration::from_secs(limit),
            memory: max_memory.saturating_mul(1 << 30),
            out,
        }),
        Command::Compare { a, b, out } => compare(&a, &b, out),
        Command::Merge { inputs, out } => sweep::merge(&inputs, &out).unwrap_or_else(|e| {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }),
    }
}

fn check(path: &Path) -> ExitCode {
    match Scenario::load(path) {
        Ok(s) => {
            println!(
                "# {}: valid; resolved with every default filled in",
                path.display()
            );
            print!("{}", s.to_toml());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}

fn compare(a: &Path, b: &Path, out: Option<PathBuf>) -> ExitCode {
    let comparison = match libp2p_sim::compare::compare_dirs(a, b) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    let out = out.unwrap_or_else(|| {
        let (la, lb) = libp2p_sim::compare::labels(a, b);
        let name = format!("{la}-vs-{lb}").replace(['/', '\\'], "_");
        PathBuf::from("results").join("compare").join(name)
    });
    print!("{comparison}");
    match comparison.write(&out) {
        Ok(files) => {
            let names: Vec<_> = files
                .iter()
                .filter_map(|f| f.file_name().map(|n| n.to_string_lossy().into_owned()))
                .collect();
            println!("output     {}/ ({})", out.display(), names.join(", "));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: writing {}: {e}", out.display());
            ExitCode::FAILURE
        }
    }
}

fn sweep_command(
    scenario: &Path,
    seeds: &str,
    jobs: Option<usize>,
    shard: Option<&str>,
    out: Option<PathBuf>,
) -> ExitCode {
    let usage = |e: String| {
        eprintln!("error: {e}");
        ExitCode::from(EXIT_BAD_INPUT)
    };
    let mut seeds = match sweep::parse_seeds(seeds) {
        Ok(s) => s,
        Err(e) => return usage(format!("--seeds {e}")),
    };
    if let Some(text) = shard {
        match sweep::parse_shard(text) {
            Ok(s) => seeds = sweep::shard(&seeds, s),
            Err(e) => return usage(format!("--shard {e}")),
        }
    }
    let jobs = jobs.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    sweep::sweep(scenario, &seeds, jobs, out).unwrap_or_else(|e| {
        eprintln!("error: {e:#}");
        ExitCode::FAILURE
    })
}

fn run(args: &RunArgs) -> ExitCode {
    let scenario = match load_run(args) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let filter = match args.trace_filter.as_deref().map(TraceFilter::parse) {
        Some(Err(e)) => {
            eprintln!("error: --trace-filter: {e}");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
        Some(Ok(f)) => Some(f),
        None => args.trace.then(TraceFilter::default),
    };
    if args.realtime
        && let Err(refusal) =
            libp2p_sim::realtime::check(&scenario, libp2p_sim::realtime::raise_fd_limit())
    {
        eprintln!("error: {}: {refusal}", args.scenario.display());
        return ExitCode::from(EXIT_BAD_INPUT);
    }
    if args.mpi && !cfg!(feature = "mpi") {
        eprintln!(
            "error: --mpi: this sim was built without MPI; build it with \
             `cargo build --release --features mpi` (needs libopenmpi-dev and libclang-dev)"
        );
        return ExitCode::from(EXIT_BAD_INPUT);
    }
    let refusal = if args.mpi {
        workers::refusal_as(&scenario, "--mpi")
    } else {
        workers::refusal(&scenario, args.workers)
    };
    if let Some(why) = refusal {
        eprintln!("error: {}: {why}", args.scenario.display());
        return ExitCode::from(EXIT_BAD_INPUT);
    }
    let seed = args.seed.unwrap_or(scenario.seed);
    let repro = repro_command(args, seed);
    match run_scenario(args, &scenario, seed, filter) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if matches!(e.downcast_ref(), Some(sim::SimError::Interrupted { .. })) => {
            eprintln!("stopped: {e:#}");
            eprintln!("rerun with: {repro}");
            ExitCode::from(EXIT_INTERRUPTED)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            eprintln!("reproduce with: {repro}");
            ExitCode::FAILURE
        }
    }
}

/// The progress line: virtual time reached, live nodes, wall time, and on
/// a worker of several its wait for the others.
fn progress_line(p: &Progress, wall: Duration) -> String {
    let waiting = p.waiting.map_or_else(String::new, |w| {
        format!(
            "  waiting {:>6.1} s ({:>2.0} %)",
            w.as_secs_f64(),
            100.0 * w.as_secs_f64() / wall.as_secs_f64().max(1e-9)
        )
    });
    format!(
        "  virtual {:>9.1}s / {}  nodes {:>6}  wall {:>7.1} s{waiting}",
        p.now.as_secs_f64(),
        format_duration(p.end),
        p.nodes,
        wall.as_secs_f64()
    )
}

fn run_scenario(
    args: &RunArgs,
    scenario: &Scenario,
    seed: u64,
    filter: Option<TraceFilter>,
) -> anyhow::Result<()> {
    // Before the first line of output, which callers may wait for.
    let stop = machine::stop_on_signals();
    let path = args.scenario.as_path();
    let out = out_dir(args, scenario, seed);
    #[cfg(feature = "mpi")]
    let universe = if args.mpi { Some(mpi::start()?) } else { None };
    // Under MPI, rank 0 speaks for the run.
    #[cfg(feature = "mpi")]
    let speaks = universe.as_ref().is_none_or(|u| mpi::rank(u) == 0);
    #[cfg(not(feature = "mpi"))]
    let speaks = true;
    if speaks {
        println!("scenario   {} ({})", scenario.name, path.display());
        println!("seed       {seed}");
        println!("nodes      {}", scenario.node_count());
        if args.realtime {
            println!(
                "mode       real time: TCP on 127.0.0.1, real clock, tokio (not deterministic)"
            );
        } else if args.real_x25519 {
            println!("x25519     on the curve (--real-x25519)");
        } else {
            println!(
                "x25519     stand-in: same bytes as --real-x25519, without the curve's CPU cost"
            );
        }
    }
    let progress = (!args.quiet && std::io::stderr().is_terminal()).then(|| {
        // Redraw at most ten times a second of wall time.
        let started = Stopwatch::start();
        let mut drawn: Option<Duration> = None;
        Box::new(move |p: Progress| {
            let wall = started.wall();
            if drawn.is_some_and(|d| wall < d + Duration::from_millis(100)) {
                return;
            }
            drawn = Some(wall);
            eprint!("\r{}", progress_line(&p, wall));
            let _ = std::io::stderr().flush();
        }) as sim::ProgressFn
    });
    let show_progress = progress.is_some();
    let watch = Stopwatch::start();
    let options = RunOptions {
        progress,
        trace: filter.map(|f| (out.clone(), f)),
        realtime: args.realtime,
        stop: Some(stop),
        // This process exits after writing the files; a real-time run
        // closes its sockets on the way.
        skip_teardown: !args.realtime,
        real_x25519: args.real_x25519,
        test_faults: args.test_faults(),
        worker: workers::spec(args),
    };
    let child = options.worker.is_some();
    let Some(Simulated { result, others }) = simulate(
        args,
        scenario,
        seed,
        &out,
        options,
        &watch,
        #[cfg(feature = "mpi")]
        universe.as_ref(),
    )?
    else {
        // An MPI rank other than 0: rank 0 writes the files.
        return Ok(());
    };
    if show_progress {
        eprintln!();
    }
    let report = match result {
        Ok(report) => report,
        Err(e) => {
            // Save what was measured, marked incomplete, then fail.
            if let Some(partial) = e.partial() {
                partial
                    .write_csv(&out)
                    .with_context(|| format!("writing results to {}", out.display()))?;
                Performance::measure(partial, &watch, scenario.node_count())
                    .write(&out)
                    .with_context(|| format!("writing results to {}", out.display()))?;
                eprintln!(
                    "partial results (summary.csv: complete,false) in {}",
                    out.display()
                );
            }
            let how = match e {
                sim::SimError::Interrupted { .. } => "stopped",
                _ => "failed",
            };
            return Err(
                anyhow::Error::new(e).context(format!("the simulation (seed {seed}) {how}"))
            );
        }
    };
    if child {
        // A worker hands its share to the parent, which writes the files.
        return workers::write_report(&report, &out);
    }
    let mut perf = Performance::measure(&report, &watch, scenario.node_count());
    if let Some((cpu, peak_rss)) = others {
        perf.cpu += cpu;
        perf.peak_rss = perf.peak_rss.max(peak_rss);
    }
    let mut files = report
        .write_csv(&out)
        .with_context(|| format!("writing results to {}", out.display()))?;
    files.push(
        perf.write(&out)
            .with_context(|| format!("writing results to {}", out.display()))?,
    );
    files.extend(report.trace_file.clone());
    if !args.no_plot {
        files.extend(
            libp2p_sim::report::write_report(&report, &out)
                .with_context(|| format!("drawing charts in {}", out.display()))?,
        );
    }
    print_summary(&report, &perf);
    if perf.windows.is_some() {
        let each: Vec<String> = report
            .windows
            .iter()
            .map(|(i, w)| {
                let share = w.waiting.as_secs_f64() / perf.wall.as_secs_f64().max(1e-9);
                format!(
                    "worker {i} {:.1} s ({:.0} %) in {} meetings",
                    w.waiting.as_secs_f64(),
                    100.0 * share,
                    w.windows
                )
            })
            .collect();
        println!("waiting    for the others: {}", each.join(", "));
    }
    let names: Vec<_> = files
        .iter()
        .filter_map(|f| f.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    println!("output     {}/ ({})", out.display(), names.join(", "));
    let violations = invariant::check(&scenario.asserts, &report);
    if !scenario.asserts.is_empty() && violations.is_empty() {
        println!("asserts    all {} hold", scenario.asserts.len());
    }
    if !violations.is_empty() {
        for v in &violations {
            eprintln!("{v}");
        }
        anyhow::bail!(
            "{} of {} assertions failed",
            violations.len(),
            scenario.asserts.len()
        );
    }
    Ok(())
}

/// What [`simulate`] gives: the run's outcome and, under MPI, the CPU
/// time and the largest peak RSS of the ranks other than 0.
struct Simulated {
    result: Result<RunReport, sim::SimError>,
    others: Option<(Duration, u64)>,
}

/// Runs the simulation as `args` ask: on MPI ranks (`--mpi`), on local
/// workers (`--workers N`), or in this process (one worker, or a worker of
/// a run on several). `None` on an MPI rank other than 0.
fn simulate(
    args: &RunArgs,
    scenario: &Scenario,
    seed: u64,
    out: &Path,
    options: RunOptions,
    watch: &Stopwatch,
    #[cfg(feature = "mpi")] universe: Option<&mpi::Universe>,
) -> anyhow::Result<Option<Simulated>> {
    #[cfg(feature = "mpi")]
    if let Some(universe) = universe {
        let ranks = mpi::run(universe, args, scenario, seed, out, options, watch)
            .with_context(|| format!("the simulation (seed {seed}) on MPI ranks failed"))?;
        return Ok(ranks.map(|r| Simulated {
            result: Ok(r.report),
            others: Some((r.others_cpu, r.others_peak_rss)),
        }));
    }
    let _ = watch;
    let result = if args.workers > 1 && options.worker.is_none() {
        println!("workers    {} (docs/parallel.md)", args.workers);
        let report = workers::run(args, seed, out).with_context(|| {
            format!(
                "the simulation (seed {seed}) on {} workers failed",
                args.workers
            )
        })?;
        Ok(report)
    } else {
        sim::run_with(scenario, seed, options)
    };
    Ok(Some(Simulated {
        result,
        others: None,
    }))
}

fn print_summary(report: &RunReport, perf: &Performance) {
    let s = report.summary();
    if report.lag.is_some() {
        let t = report.virtual_time.as_secs_f64();
        println!("elapsed    {t:.3} s of real time (the timeline's clock)");
    } else {
        println!("virtual    {}", format_duration(report.virtual_time));
    }
    println!(
        "wall       {:.2} s, CPU {:.2} s",
        perf.wall.as_secs_f64(),
        perf.cpu.as_secs_f64()
    );
    if let Some(lag) = report.lag {
        println!(
            "lag        scenario events applied {:.1} ms late on average, {:.1} ms at most (real time)",
            lag.mean().as_secs_f64() * 1e3,
            lag.max.as_secs_f64() * 1e3
        );
    } else {
        println!("speed      {:.1}x real time (virtual / wall)", perf.speed());
    }
    println!(
        "events     {} scheduled ({:.0} per second): {} task polls, {} timers, {} scenario events",
        perf.events,
        perf.events_per_sec(),
        report.scheduler.polls,
        report.scheduler.timers_fired,
        report.scheduler.scenario_events
    );
    println!(
        "memory     peak RSS {:.0} MB, {:.0} KB per node",
        machine::mb(perf.peak_rss),
        perf.rss_per_node() as f64 / 1024.0
    );
    println!(
        "sessions   {} joins, {} live at the end, {} graceful departures, {} crashes",
        s.joins, s.live_end, report.departures.graceful, report.departures.crashes
    );
    if s.joins_without_bootstrap > 0 {
        println!(
            "           {} joins found none of their bootstrap nodes running \
             (joins_without_bootstrap)",
            s.joins_without_bootstrap
        );
    }
    println!();
    println!(
        "  {:<34} {:>7} {:>9} {:>9} {:>9} {:>9}",
        "time after join (s)", "count", "p50", "p90", "p99", "max"
    );
    let spread = |name: &str, sp: &Spread| {
        let f = |d: Option<Duration>| {
            d.map(|d| format!("{:.2}", d.as_secs_f64()))
                .unwrap_or_else(|| "-".into())
        };
        println!(
            "  {:<34} {:>7} {:>9} {:>9} {:>9} {:>9}",
            name,
            sp.count,
            f(sp.p50),
            f(sp.p90),
            f(sp.p99),
            f(sp.max)
        );
    };
    spread("first bootstrap finished", &s.bootstrap);
    for (i, sp) in s.recall_reached.iter().enumerate() {
        spread(
            &format!("table holds {}% of true k closest", level_name(i)),
            sp,
        );
    }
    spread("in tables of half its k closest", &s.visible);
    spread("lookup duration (from start)", &s.lookup);
    println!();
    let f = |x: Option<f64>| x.map(|x| format!("{x:.3}")).unwrap_or_else(|| "-".into());
    println!(
        "recall     final {}, time-averaged {} (routing table vs true k closest)",
        f(s.recall_final),
        f(s.recall_time_avg)
    );
    println!(
        "stale      final {}, time-averaged {} (fraction of entries pointing at departed nodes)",
        f(s.stale_final),
        f(s.stale_time_avg)
    );
    if !report.lookups.is_empty() || report.lookups_abandoned > 0 {
        println!(
            "lookups    {} finished: ok rate {}, mean recall {}; {} abandoned by departing nodes",
            report.lookups.len(),
            f(s.lookup_ok_rate),
            f(s.lookup_recall_mean),
            report.lookups_abandoned
        );
    }
    println!(
        "tables     {:.1} routing-table entries and {:.1} connected peers per live node at the end",
        s.mean_entries_end, s.mean_connected_end
    );
    println!(
        "trace      {} over {} events",
        report.trace_hash, report.trace_events
    );
    println!(
        "network    {} connections, {} refused dials, {} bytes in {} writes",
        report.network.connections,
        report.network.refused,
        report.network.bytes,
        report.network.writes
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_progress_line_shows_the_wait_at_window_ends_on_workers() {
        let mut p = Progress {
            now: Duration::from_millis(12_500),
            end: Duration::from_secs(600),
            nodes: 42,
            waiting: None,
        };
        let wall = Duration::from_secs(4);
        let one = progress_line(&p, wall);
        assert!(one.contains("12.5s / 10m"), "{one}");
        assert!(one.contains("nodes     42"), "{one}");
        assert!(!one.contains("waiting"), "{one}");
        p.waiting = Some(Duration::from_secs(1));
        let line = progress_line(&p, wall);
        assert!(line.starts_with(&one), "{line}");
        assert!(line.ends_with("waiting    1.0 s (25 %)"), "{line}");
    }
}
