//! `sim sweep`: many seeds of one scenario, each in its own process, on all
//! cores; and `sim merge`: the sweep files of several shards as one.
//!
//! Each seed runs as `sim run <scenario> --seed <s> --out <dir>/seed-<s>
//! --no-plot --quiet` in a child process, so every run is exactly the run a
//! user gets when reproducing it (one simulation per process, see the
//! README on libp2p's process-wide counters).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::Duration;

use anyhow::{Context as _, bail};
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

use libp2p_sim::csvfile::{self, CsvBuf, write_atomic};
use libp2p_sim::machine::Stopwatch;

use super::args::load;

/// Columns of `sweep.csv`, the fields of [`Row`].
const COLUMNS: [&str; 10] = [
    "seed",
    "outcome",
    "exit_code",
    "wall_ms",
    "trace_hash",
    "recall_final",
    "stale_fraction_final",
    "lookups_ok_rate",
    "first_bootstrap_p90_ms",
    "message",
];

/// One row of `sweep.csv` (see `docs/outputs.md`). The figures are copied
/// from the run's `summary.csv` as they are written there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Row {
    seed: u64,
    outcome: String,
    exit_code: Option<i32>,
    wall_ms: u64,
    trace_hash: String,
    recall_final: String,
    stale_fraction_final: String,
    lookups_ok_rate: String,
    first_bootstrap_p90_ms: String,
    message: String,
}

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

    fn row(&self) -> Row {
        let figure = |name: &str| self.figures.get(name).cloned().unwrap_or_default();
        Row {
            seed: self.seed,
            outcome: self.kind().to_string(),
            exit_code: self.exit_code,
            wall_ms: u64::try_from(self.wall.as_millis()).unwrap_or(u64::MAX),
            trace_hash: figure("trace_hash"),
            recall_final: figure("recall_final"),
            stale_fraction_final: figure("stale_fraction_final"),
            lookups_ok_rate: figure("lookups_ok_rate"),
            first_bootstrap_p90_ms: figure("first_bootstrap_p90_ms"),
            message: self.message.clone(),
        }
    }
}

/// `sweep.csv`: the header and `rows` in their order.
fn sweep_csv<'a>(rows: impl IntoIterator<Item = &'a Row>) -> String {
    let mut csv = CsvBuf::new(COLUMNS);
    for row in rows {
        csv.serialize(row);
    }
    csv.finish()
}

/// The rows of the `sweep.csv` text read from `path`.
fn read_sweep_csv(path: &Path, text: &str) -> anyhow::Result<Vec<Row>> {
    let mut reader = csvfile::reader(text);
    if reader.headers()?.iter().ne(COLUMNS) {
        bail!("{} is not a sweep.csv (unexpected header)", path.display());
    }
    reader
        .deserialize()
        .map(|row| row.with_context(|| format!("{}: bad row", path.display())))
        .collect()
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
    let rows: Vec<Row> = done.iter().map(Outcome::row).collect();
    let path = out.join("sweep.csv");
    write_atomic(&path, &sweep_csv(&rows))?;
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
    // A run that failed early wrote no summary: its figures stay empty.
    let summary = std::fs::read_to_string(out.join(format!("seed-{seed}")).join("summary.csv"))
        .unwrap_or_default();
    let figures = csvfile::read_metric_values(&summary).unwrap_or_default();
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
    let mut rows: BTreeMap<u64, Row> = BTreeMap::new();
    for input in inputs {
        let text = std::fs::read_to_string(input)
            .with_context(|| format!("reading {}", input.display()))?;
        for row in read_sweep_csv(input, &text)? {
            let seed = row.seed;
            if rows.insert(seed, row).is_some() {
                bail!(
                    "seed {seed} appears twice (in {} and before)",
                    input.display()
                );
            }
        }
    }
    write_atomic(out, &sweep_csv(rows.values()))?;
    let failed = rows.values().filter(|r| r.outcome != "ok").count();
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

    fn row(seed: u64, outcome: &str, message: &str) -> Row {
        Row {
            seed,
            outcome: outcome.to_string(),
            exit_code: (outcome != "ok").then_some(1),
            wall_ms: 1200 + seed,
            trace_hash: format!("{seed:016x}"),
            recall_final: "0.9500".to_string(),
            stale_fraction_final: String::new(),
            lookups_ok_rate: "1.0000".to_string(),
            first_bootstrap_p90_ms: "310".to_string(),
            message: message.to_string(),
        }
    }

    #[test]
    fn merge_keeps_messages_exactly_and_sorts_by_seed() {
        let dir = std::env::temp_dir().join(format!("libp2p-sim-merge-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let message = "assert[0] \"recall_final >= 0.99\" failed: 0.95, at 10m\nerror: x,y";
        let a = [row(9, "assert_failed", message), row(1, "ok", "")];
        let b = [row(4, "error", "error: bad, \"quoted\"\r\nline")];
        let (pa, pb, merged) = (dir.join("a.csv"), dir.join("b.csv"), dir.join("m.csv"));
        write_atomic(&pa, &sweep_csv(&a)).unwrap();
        write_atomic(&pb, &sweep_csv(&b)).unwrap();
        merge(&[pa.clone(), pb], &merged).unwrap();
        let text = std::fs::read_to_string(&merged).unwrap();
        assert!(
            text.starts_with(&format!("{}\n", COLUMNS.join(","))),
            "{text}"
        );
        let back = read_sweep_csv(&merged, &text).unwrap();
        assert_eq!(back, vec![a[1].clone(), b[0].clone(), a[0].clone()]);
        assert_eq!(back[2].message, message);
        // A seed in two shards is refused.
        assert!(merge(&[pa.clone(), pa], &merged).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_with_another_header_is_not_a_sweep() {
        let err = read_sweep_csv(Path::new("x.csv"), "seed,outcome\n1,ok\n").unwrap_err();
        assert!(
            err.to_string().contains("x.csv is not a sweep.csv"),
            "{err}"
        );
    }
}
