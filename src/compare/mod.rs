//! Comparison of two runs: `sim compare <dirA> <dirB>`.
//!
//! [`compare_dirs`] reads the CSV files two `sim run`s wrote (see
//! `docs/outputs.md`) and compares, metric by metric, the distributions of
//! what they measured:
//!
//! | metric | unit | values |
//! |---|---|---|
//! | `first_bootstrap_after_join` | ms | `first_bootstrap_ms` of `discovery.csv` (already ms after join), sessions that finished one |
//! | `recall50_after_join`, `recall90_after_join`, `recall100_after_join` | ms | `recall50_ms`, `recall90_ms`, `recall100_ms` (ms after join), sessions that got there |
//! | `visible_after_join` | ms | `visible_ms` (ms after join), sessions that got there |
//! | `lookup_duration` | ms | `duration_ms` of `lookups.csv` |
//! | `lookup_recall` | fraction | `recall` of `lookups.csv` |
//! | `rt_recall_final` | fraction | `kclosest_recall` of `routing_table.csv` at its last `time_ms`, one per node (nodes alone have none) |
//! | `rt_entries_final` | entries | `entries` of `routing_table.csv` at its last `time_ms`, one per node |
//! | `recall_mean_samples` | fraction | `recall_mean` of every row of `network.csv` |
//!
//! For each: counts, medians and 90th percentiles (nearest rank, as in
//! [`nearest_rank`]), the ratio of the medians B / A, and the two-sample
//! Kolmogorov–Smirnov statistic with its asymptotic p-value ([`KsTest`]).
//! A side without values gives missing cells, never a panic. Columns are
//! found by name, so files with more columns read the same.
//!
//! Besides, the final recall of each run (`recall_mean` of the last row of
//! `network.csv`) and their difference, for the criterion "final recall
//! within [`FINAL_RECALL_TOLERANCE`]"; `compare.csv` gives it as a last row
//! `recall_final` with one value a side and no KS test.
//!
//! [`Comparison::write`] writes `compare.csv` and one overlaid CDF chart
//! `compare_<metric>.svg` per latency metric with values on either side;
//! [`Comparison`]'s `Display` is the text table for the terminal.
//!
//! [`nearest_rank`]: crate::metrics::nearest_rank

mod comparison;
mod ks;
mod plot;
mod read;
mod render;
mod run;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_dirs;

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use crate::csvfile::write_atomic;
use run::Run;

pub use comparison::{Comparison, FINAL_RECALL_TOLERANCE, MetricRow, Side, Unit, Values};
pub use ks::{KsTest, kolmogorov_q, ks_p_value, ks_statistic};
pub use read::CompareError;
pub use render::{CSV_HEADER, RECALL_FINAL};

/// Name of the CSV file [`Comparison::write`] writes.
pub const CSV_FILE: &str = "compare.csv";

/// Compares the result directories `a` and `b` (each written by
/// `sim run`: `discovery.csv`, `lookups.csv`, `routing_table.csv`,
/// `network.csv`).
pub fn compare_dirs(a: &Path, b: &Path) -> Result<Comparison, CompareError> {
    let run_a = Run::read(a)?;
    let run_b = Run::read(b)?;
    let (label_a, label_b) = labels(a, b);
    let rows = run_a
        .metrics
        .into_iter()
        .zip(run_b.metrics)
        .map(|(ma, mb)| MetricRow {
            metric: ma.def.name,
            unit: ma.def.unit,
            description: ma.def.description,
            a: Values::new(ma.values),
            b: Values::new(mb.values),
        })
        .collect();
    Ok(Comparison {
        a: Side {
            dir: a.to_path_buf(),
            label: label_a,
            final_recall: run_a.final_recall,
        },
        b: Side {
            dir: b.to_path_buf(),
            label: label_b,
            final_recall: run_b.final_recall,
        },
        rows,
    })
}

impl Comparison {
    /// Writes into `out` (created if needed) `compare.csv` and the chart
    /// `compare_<metric>.svg` of each latency metric with values on either
    /// side, each through a temporary file and a rename. Returns the paths
    /// written, `compare.csv` first, then the charts in row order.
    pub fn write(&self, out: &Path) -> io::Result<Vec<PathBuf>> {
        fs::create_dir_all(out)?;
        let mut files = vec![(CSV_FILE.to_string(), self.to_csv())];
        for row in &self.rows {
            if row.is_latency() && (row.a.count() > 0 || row.b.count() > 0) {
                let name = plot::file_name(row);
                let svg = plot::cdf_chart(self, row)
                    .map_err(|e| io::Error::other(format!("drawing {name}: {e}")))?;
                files.push((name, svg));
            }
        }
        files
            .into_iter()
            .map(|(name, body)| {
                let path = out.join(name);
                write_atomic(&path, &body)?;
                Ok(path)
            })
            .collect()
    }
}

/// Names of `a` and `b` for charts: the last path component of each, or
/// the last two, three… when they end the same, up to the whole paths.
pub fn labels(a: &Path, b: &Path) -> (String, String) {
    let (ca, cb): (Vec<_>, Vec<_>) = (a.components().collect(), b.components().collect());
    let tail = |c: &[Component<'_>], k: usize| -> String {
        let path: PathBuf = c[c.len().saturating_sub(k)..].iter().collect();
        path.display().to_string()
    };
    for k in 1..ca.len().max(cb.len()) {
        let (ta, tb) = (tail(&ca, k), tail(&cb, k));
        if ta != tb {
            return (ta, tb);
        }
    }
    (a.display().to_string(), b.display().to_string())
}
