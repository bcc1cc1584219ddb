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

use thiserror::Error;

use crate::csvfile::write_atomic;
use crate::metrics::nearest_rank;
use run::Run;

pub use ks::{KsTest, kolmogorov_q, ks_p_value, ks_statistic};
pub use render::{CSV_HEADER, RECALL_FINAL};

/// Largest difference of final recall between two runs that counts as the
/// same result (the acceptance criterion "final recall within 0.05").
pub const FINAL_RECALL_TOLERANCE: f64 = 0.05;

/// Name of the CSV file [`Comparison::write`] writes.
pub const CSV_FILE: &str = "compare.csv";

/// Why two result directories could not be compared.
#[derive(Debug, Error)]
pub enum CompareError {
    /// A file is missing or unreadable.
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
    /// A file is not valid CSV (e.g. a quoted field never closed).
    #[error("{}:{line}: not valid CSV: {message}", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// Line where the reader stopped (1-based).
        line: usize,
        /// What the CSV reader said.
        message: String,
    },
    /// A file has no header line.
    #[error("{}:1: empty file, expected a header line", path.display())]
    NoHeader {
        /// The file.
        path: PathBuf,
    },
    /// The header lacks a column the comparison needs.
    #[error("{}:{line}: missing column `{column}`", path.display())]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// Line of the header (1).
        line: usize,
        /// The column.
        column: String,
    },
    /// A data line has another number of fields than the header.
    #[error("{}:{line}: {found} fields, the header has {expected}", path.display())]
    FieldCount {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// Fields in the header.
        expected: usize,
        /// Fields on this line.
        found: usize,
    },
    /// A field is neither empty nor a finite number.
    #[error("{}:{line}: column `{column}`: `{value}` is not a number", path.display())]
    BadNumber {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The column.
        column: String,
        /// The field as written.
        value: String,
    },
}

/// What the values of a metric count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Unit {
    /// Milliseconds of virtual time (a latency).
    Ms,
    /// A fraction in `0..=1`.
    Fraction,
    /// Routing-table entries.
    Entries,
}

impl Unit {
    /// The unit as written in `compare.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Ms => "ms",
            Unit::Fraction => "fraction",
            Unit::Entries => "entries",
        }
    }
}

/// The values of one metric on one side, sorted ([`f64::total_cmp`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Values(Vec<f64>);

impl Values {
    /// The values of `values` (in any order).
    pub fn new(mut values: Vec<f64>) -> Values {
        values.sort_by(f64::total_cmp);
        Values(values)
    }

    /// The sorted values.
    pub fn sorted(&self) -> &[f64] {
        &self.0
    }

    /// Number of values.
    pub fn count(&self) -> usize {
        self.0.len()
    }

    /// Median (nearest rank); `None` without values.
    pub fn median(&self) -> Option<f64> {
        nearest_rank(&self.0, 0.5)
    }

    /// 90th percentile (nearest rank); `None` without values.
    pub fn p90(&self) -> Option<f64> {
        nearest_rank(&self.0, 0.9)
    }
}

/// One metric of both runs.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricRow {
    /// Name of the metric (the `metric` column of `compare.csv`).
    pub metric: &'static str,
    /// What the values count.
    pub unit: Unit,
    /// What the metric is, for chart titles.
    pub description: &'static str,
    /// Values of run A.
    pub a: Values,
    /// Values of run B.
    pub b: Values,
}

impl MetricRow {
    /// Median of B over median of A; `None` when either is missing or the
    /// median of A is 0.
    pub fn median_ratio(&self) -> Option<f64> {
        match (self.a.median(), self.b.median()) {
            (Some(a), Some(b)) if a != 0.0 => Some(b / a),
            _ => None,
        }
    }

    /// The Kolmogorov–Smirnov test of A against B; `None` when a side has
    /// no values.
    pub fn ks(&self) -> Option<KsTest> {
        KsTest::of(self.a.sorted(), self.b.sorted())
    }

    /// Whether the metric is a latency (it gets a CDF chart).
    pub fn is_latency(&self) -> bool {
        self.unit == Unit::Ms
    }
}

/// One of the two result directories.
#[derive(Debug, Clone, PartialEq)]
pub struct Side {
    /// The directory, as given.
    pub dir: PathBuf,
    /// Its name in charts: the shortest tail of its path that tells it
    /// apart from the other directory.
    pub label: String,
    /// `recall_mean` of the last row of `network.csv`.
    pub final_recall: Option<f64>,
}

/// Two runs compared metric by metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Run A (the reference).
    pub a: Side,
    /// Run B.
    pub b: Side,
    /// One row per metric, in the order of the module documentation.
    pub rows: Vec<MetricRow>,
}

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
    /// Final recall of B minus final recall of A; `None` if either is
    /// missing.
    pub fn final_recall_diff(&self) -> Option<f64> {
        Some(self.b.final_recall? - self.a.final_recall?)
    }

    /// Whether the final recalls differ by at most `tolerance`; `None` if
    /// either is missing.
    pub fn final_recall_within(&self, tolerance: f64) -> Option<bool> {
        // Compared at 1e-9, so that float rounding of a difference of
        // four-decimal values (0.90 - 0.85) does not decide.
        self.final_recall_diff()
            .map(|d| (d.abs() * 1e9).round() <= (tolerance * 1e9).round())
    }

    /// The row of `metric`, if there is one.
    pub fn row(&self, metric: &str) -> Option<&MetricRow> {
        self.rows.iter().find(|r| r.metric == metric)
    }

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
