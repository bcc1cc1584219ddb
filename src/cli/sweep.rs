//! `sim sweep`: many seeds of one scenario, each in its own process, on all
//! cores; and `sim merge`: the sweep files of several shards as one.
//!
//! Each seed runs as `sim run <scenario> --seed <s> --out <dir>/seed-<s>
//! --no-plot --quiet` in a child process, so every run is exactly the run a
//! user gets when reproducing it (one simulation per process, see the
//! README on libp2p's process-wide counters).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::Duration;

use anyhow::{Context as _, bail};
use indicatif::{ProgressBar, ProgressStyle};

use libp2p_sim::machine::Stopwatch;
use libp2p_sim::metrics::write_atomic;

use super::args::load;

/// Columns of `sweep.csv`.
const HEADER: &str = "seed,outcome,exit_code,wall_ms,trace_hash,recall_final,\
                      stale_fraction_final,lookups_ok_rate,first_bootstrap_p90_ms,message";

/// Figures copied from each run's summary.csv into `sweep.csv`.
const FIGURES: [&str; 5] = [
    "trace_hash",
    "recall_final",
    "stale_fraction_final",
    "lookups_ok_rate",
    "first_bootstrap_p90_ms",
];

/// Parses `--seeds`: `A..B` (both ends included) or a comma list.
pub fn parse_seeds(text: &str) -> Result<Vec<u64>, String> {
    let bad = || format!("{text:?}: use A..B (both included, e.g. 1..500) or a list 1,5,9");
    if let Some((a, b)) = text.split_once("..") {
        let (a, b): (u64, u64) = (
            a.trim().parse().map_err(|_| bad())?,
            b.trim()
                .trim_start_matches('=')
                .parse()
                .map_err(|_| bad())?,
        );
        if a > b {
            return Err(format!(
                "{text:?} is empty: the first seed is above the last"
            ));
        }
        return Ok((a..=b).collect());
    }
    text.split(',')
        .map(|s| s.trim().parse::<u64>().map_err(|_| bad()))
        .collect()
}

/// Parses `--shard i/n` (0-based: `0/4` .. `3/4`).
pub fn parse_shard(text: &str) -> Result<(usize, usize), String> {
    let bad = || format!("{text:?}: use i/n with 0 <= i < n, e.g. 0/4");
    let (i, n) = text.split_once('/').ok_or_else(bad)?;
    let (i, n): (usize, usize) = (i.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?);
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

/// The seeds of shard `i` of `n`: every n-th seed starting at position i,
/// so shards get similar mixes.
pub fn shard(seeds: &[u64], (i, n): (usize, usize)) -> Vec<u64> {
    seeds.iter().skip(i).step_by(n).copied().collect()
}

/// One finished run of the sweep.
struct Outcome {
    seed: u64,
    exit_code: Option<i32>,
    wall: Duration,
    figures: BTreeMap<String, String>,
    message: String,
}

impl Outcome {
    fn kind(&self) -> &'static str {
        match self.exit_code {
            Some(0) => "ok",
            Some(1) if self.message.contains("assert[") => "assert_failed",
            _ => "error",
        }
    }

    fn row(&self) -> String {
        let mut row = format!(
            "{},{},{},{}",
            self.seed,
            self.kind(),
            self.exit_code.map(|c| c.to_string()).unwrap_or_default(),
            self.wall.as_millis()
        );
        for f in FIGURES {
            let _ = write!(row, ",{}", self.figures.get(f).map_or("", String::as_str));
        }
        let _ = write!(row, ",{}", self.message.replace([',', '\n', '\r'], ";"));
        row
    }
}

/// Runs the sweep; exit 0 if every seed passed, 1 if some failed.
pub fn sweep(
    scenario_path: &Path,
    seeds: &[u64],
    jobs: usize,
    out: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let scenario = match load(scenario_path) {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    let out = out.unwrap_or_else(|| PathBuf::from("results").join(&scenario.name).join("sweep"));
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let exe = std::env::current_exe()?;
    let bar = ProgressBar::new(seeds.len() as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} seeds, {msg} [{elapsed}, eta {eta}]")
            .expect("the template is valid"),
    );
    let mut queue = seeds.iter().copied();
    let mut running: Vec<(u64, Child, Stopwatch)> = Vec::new();
    let mut done: Vec<Outcome> = Vec::new();
    let mut failed = 0usize;
    loop {
        while running.len() < jobs.max(1) {
            let Some(seed) = queue.next() else { break };
            let child = Command::new(&exe)
                .arg("run")
                .arg(scenario_path)
                .args(["--seed", &seed.to_string(), "--no-plot", "--quiet", "--out"])
                .arg(out.join(format!("seed-{seed}")))
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()?;
            running.push((seed, child, Stopwatch::start()));
        }
        if running.is_empty() {
            break;
        }
        let mut i = 0;
        while i < running.len() {
            if running[i].1.try_wait()?.is_none() {
                i += 1;
                continue;
            }
            let (seed, child, started) = running.swap_remove(i);
            let outcome = collect(seed, child, started, &out)?;
            if outcome.kind() != "ok" {
                failed += 1;
            }
            done.push(outcome);
            bar.inc(1);
            bar.set_message(format!("{failed} failed"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    bar.finish_and_clear();
    done.sort_by_key(|o| o.seed);
    let mut csv = format!("{HEADER}\n");
    for o in &done {
        csv.push_str(&o.row());
        csv.push('\n');
    }
    let path = out.join("sweep.csv");
    write_atomic(&path, &csv)?;
    println!(
        "sweep      {} seeds of {} ({} jobs): {} passed, {} failed",
        done.len(),
        scenario_path.display(),
        jobs,
        done.len() - failed,
        failed
    );
    for o in done.iter().filter(|o| o.kind() != "ok") {
        println!("  seed {:>6}  {}: {}", o.seed, o.kind(), o.message);
        println!(
            "               reproduce with: sim run {} --seed {}",
            scenario_path.display(),
            o.seed
        );
    }
    println!("output     {}", path.display());
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn collect(seed: u64, child: Child, started: Stopwatch, out: &Path) -> anyhow::Result<Outcome> {
    let output = child.wait_with_output()?;
    let wall = started.wall();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let message = stderr
        .lines()
        .filter(|l| l.starts_with("assert[") || l.starts_with("error:"))
        .collect::<Vec<_>>()
        .join(" | ");
    let summary = std::fs::read_to_string(out.join(format!("seed-{seed}")).join("summary.csv"))
        .unwrap_or_default();
    let figures = summary
        .lines()
        .filter_map(|l| l.split_once(','))
        .filter(|(k, _)| FIGURES.contains(k))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Ok(Outcome {
        seed,
        exit_code: output.status.code(),
        wall,
        figures,
        message,
    })
}

/// `sim merge`: the rows of several `sweep.csv` files, one per seed, sorted.
pub fn merge(inputs: &[PathBuf], out: &Path) -> anyhow::Result<ExitCode> {
    let mut rows: BTreeMap<u64, String> = BTreeMap::new();
    for input in inputs {
        let text = std::fs::read_to_string(input)
            .with_context(|| format!("reading {}", input.display()))?;
        let mut lines = text.lines();
        if lines.next() != Some(HEADER) {
            bail!("{} is not a sweep.csv (unexpected header)", input.display());
        }
        for line in lines {
            let seed: u64 = line
                .split(',')
                .next()
                .and_then(|s| s.parse().ok())
                .with_context(|| format!("{}: bad row {line:?}", input.display()))?;
            if rows.insert(seed, line.to_string()).is_some() {
                bail!(
                    "seed {seed} appears twice (in {} and before)",
                    input.display()
                );
            }
        }
    }
    let mut csv = format!("{HEADER}\n");
    for row in rows.values() {
        csv.push_str(row);
        csv.push('\n');
    }
    write_atomic(out, &csv)?;
    let failed = rows.values().filter(|r| !r.contains(",ok,")).count();
    println!(
        "merged     {} seeds from {} files: {} failed -> {}",
        rows.len(),
        inputs.len(),
        failed,
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_and_shards() {
        assert_eq!(parse_seeds("1..5").unwrap(), vec![1, 2, 3, 4, 5]);
        assert_eq!(parse_seeds("3,9,4").unwrap(), vec![3, 9, 4]);
        assert!(parse_seeds("5..1").is_err());
        assert!(parse_seeds("x").is_err());
        assert_eq!(parse_shard("1/4").unwrap(), (1, 4));
        assert!(parse_shard("4/4").is_err());
        assert!(parse_shard("1").is_err());
        let seeds: Vec<u64> = (1..=10).collect();
        let parts: Vec<Vec<u64>> = (0..3).map(|i| shard(&seeds, (i, 3))).collect();
        assert_eq!(parts[0], vec![1, 4, 7, 10]);
        assert_eq!(parts[1], vec![2, 5, 8]);
        let mut all: Vec<u64> = parts.concat();
        all.sort();
        assert_eq!(all, seeds, "shards cover every seed once");
    }
}
