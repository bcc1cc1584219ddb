//! `sim run --check-determinism`: runs the scenario twice, in two separate
//! processes at the same time, each writing its full event trace, and
//! compares the traces event by event. Two processes, because libp2p keeps
//! process-wide connection counters (see the README, "How determinism
//! works"), and because that is how a user reproduces a run. With
//! `--workers N`, each run is split over N workers, and their merged traces
//! are compared.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use libp2p_sim::csvfile;
use libp2p_sim::trace::{TraceDiff, compare_traces};

use super::args::{RunArgs, load_run, out_dir, repro_command};

/// Runs the check; exit code 0 when both traces are identical, 1 when they
/// differ or a run failed, 2 for a bad scenario.
pub fn check(args: &RunArgs) -> ExitCode {
    let scenario = match load_run(args) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if let Some(why) = super::workers::refusal(&scenario, args.workers) {
        eprintln!("error: {}: {why}", args.scenario.display());
        return ExitCode::from(super::EXIT_BAD_INPUT);
    }
    let seed = args.seed.unwrap_or(scenario.seed);
    let out = out_dir(args, &scenario, seed);
    let repro = format!("{} --check-determinism", repro_command(args, seed));
    match compare_runs(args, seed, &out) {
        Ok(Verdict::Same { events, hash }) => {
            println!(
                "deterministic: both runs went through the same {events} events (trace hash {hash})"
            );
            println!("runs in {}", out.display());
            ExitCode::SUCCESS
        }
        Ok(Verdict::Differ { seq, a, b }) => {
            println!("NOT deterministic: the runs diverge at event {seq}");
            println!("  run a: {a}");
            println!("  run b: {b}");
            println!("traces in {}", out.display());
            eprintln!("reproduce with: {repro}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            eprintln!("reproduce with: {repro}");
            ExitCode::FAILURE
        }
    }
}

enum Verdict {
    Same { events: u64, hash: String },
    Differ { seq: u64, a: String, b: String },
}

fn compare_runs(args: &RunArgs, seed: u64, out: &Path) -> anyhow::Result<Verdict> {
    let exe = std::env::current_exe()?;
    let dirs: [PathBuf; 2] = [out.join("run-a"), out.join("run-b")];
    let children = dirs
        .iter()
        .map(|dir| {
            Command::new(&exe)
                .arg("run")
                .arg(&args.scenario)
                .args([
                    "--seed",
                    &seed.to_string(),
                    "--trace",
                    "--no-plot",
                    "--quiet",
                ])
                .args(args.nodes.map(|n| format!("--nodes={n}")))
                .arg(format!("--workers={}", args.workers))
                .args(args.real_x25519.then_some("--real-x25519"))
                .args(args.test_fault_args())
                .arg("--out")
                .arg(dir)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
        })
        .collect::<Result<Vec<_>, _>>()?;
    for (child, name) in children.into_iter().zip(["a", "b"]) {
        let output = child.wait_with_output()?;
        if !output.status.success() {
            anyhow::bail!(
                "run {name} failed ({}):\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
    let open = |dir: &Path| File::open(dir.join("events.csv")).map(BufReader::new);
    let events = match compare_traces(open(&dirs[0])?, open(&dirs[1])?)? {
        TraceDiff::Same { events } => events,
        TraceDiff::Differ { seq, a, b } => return Ok(Verdict::Differ { seq, a, b }),
    };
    let summary = std::fs::read_to_string(dirs[0].join("summary.csv"))?;
    let hash = csvfile::read_metric_values(&summary)?
        .remove("trace_hash")
        .unwrap_or_else(|| "?".to_string());
    Ok(Verdict::Same { events, hash })
}
