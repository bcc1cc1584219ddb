//! Two runs compared metric by metric: the values of each metric on each
//! side, and the final recalls.

use std::path::PathBuf;

use super::ks::KsTest;
use crate::metrics::nearest_rank;

/// Largest difference of final recall between two runs that counts as the
/// same result (the acceptance criterion "final recall within 0.05").
pub const FINAL_RECALL_TOLERANCE: f64 = 0.05;

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
    /// One row per metric, in the order of the `compare` module documentation.
    pub rows: Vec<MetricRow>,
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
}
