//! A [`Comparison`] as text: the table for the terminal and `compare.csv`.

use std::fmt;

use super::comparison::{Comparison, FINAL_RECALL_TOLERANCE, MetricRow, Unit};

/// Columns of `compare.csv`.
pub const CSV_HEADER: &str =
    "metric,unit,count_a,median_a,p90_a,count_b,median_b,p90_b,median_ratio,ks_d,ks_p";

/// Metric name of the final-recall row of `compare.csv`.
pub const RECALL_FINAL: &str = "recall_final";

/// Cells of one line, before formatting for CSV (missing = empty) or the
/// terminal (missing = `-`).
struct Cells {
    metric: String,
    unit: Unit,
    count: [usize; 2],
    median: [Option<f64>; 2],
    p90: [Option<f64>; 2],
    ratio: Option<f64>,
    ks_d: Option<f64>,
    ks_p: Option<f64>,
}

impl Cells {
    fn of(row: &MetricRow) -> Cells {
        let ks = row.ks();
        Cells {
            metric: row.metric.to_string(),
            unit: row.unit,
            count: [row.a.count(), row.b.count()],
            median: [row.a.median(), row.b.median()],
            p90: [row.a.p90(), row.b.p90()],
            ratio: row.median_ratio(),
            ks_d: ks.map(|k| k.d),
            ks_p: ks.map(|k| k.p),
        }
    }

    /// The final-recall line: one value a side, no test.
    fn final_recall(c: &Comparison) -> Cells {
        let (a, b) = (c.a.final_recall, c.b.final_recall);
        Cells {
            metric: RECALL_FINAL.to_string(),
            unit: Unit::Fraction,
            count: [usize::from(a.is_some()), usize::from(b.is_some())],
            median: [a, b],
            p90: [a, b],
            ratio: match (a, b) {
                (Some(a), Some(b)) if a != 0.0 => Some(b / a),
                _ => None,
            },
            ks_d: None,
            ks_p: None,
        }
    }

    /// The fields, a missing value written as `missing`.
    fn fields(&self, missing: &str) -> Vec<String> {
        let value = |v: Option<f64>| v.map_or(missing.to_string(), |v| value(self.unit, v));
        let fixed = |v: Option<f64>| v.map_or(missing.to_string(), |v| format!("{v:.4}"));
        vec![
            self.metric.clone(),
            self.unit.as_str().to_string(),
            self.count[0].to_string(),
            value(self.median[0]),
            value(self.p90[0]),
            self.count[1].to_string(),
            value(self.median[1]),
            value(self.p90[1]),
            fixed(self.ratio),
            fixed(self.ks_d),
            self.ks_p.map_or(missing.to_string(), p_value),
        ]
    }
}

/// A value of `unit`: fractions with four decimals, milliseconds and
/// entries as read (integers in the files `sim run` writes).
fn value(unit: Unit, v: f64) -> String {
    match unit {
        Unit::Fraction => format!("{v:.4}"),
        Unit::Ms | Unit::Entries => format!("{v}"),
    }
}

/// A p-value: four decimals, or three significant digits in scientific
/// notation below 0.0001 (so that a tiny p-value does not read as 0).
fn p_value(p: f64) -> String {
    if p == 0.0 || p >= 1e-4 {
        format!("{p:.4}")
    } else {
        format!("{p:.2e}")
    }
}

impl Comparison {
    fn lines(&self) -> Vec<Cells> {
        let mut lines: Vec<Cells> = self.rows.iter().map(Cells::of).collect();
        lines.push(Cells::final_recall(self));
        lines
    }

    /// `compare.csv`: [`CSV_HEADER`], one line per metric, then the
    /// [`RECALL_FINAL`] line; a missing value is an empty field.
    pub fn to_csv(&self) -> String {
        let mut out = format!("{CSV_HEADER}\n");
        for line in self.lines() {
            out.push_str(&line.fields("").join(","));
            out.push('\n');
        }
        out
    }

    /// The table for the terminal: the two directories, one line per
    /// metric in aligned columns (missing values as `-`), and the final
    /// recalls with their difference. Same as `Display`.
    pub fn to_table(&self) -> String {
        const HEAD: [&str; 11] = [
            "metric", "unit", "count A", "median A", "p90 A", "count B", "median B", "p90 B",
            "B/A", "KS D", "KS p",
        ];
        let mut grid: Vec<Vec<String>> = vec![HEAD.iter().map(|h| h.to_string()).collect()];
        grid.extend(self.lines().iter().map(|l| l.fields("-")));
        let widths: Vec<usize> = (0..HEAD.len())
            .map(|i| grid.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
            .collect();
        let mut out = format!(
            "A  {}\nB  {}\n\n",
            self.a.dir.display(),
            self.b.dir.display()
        );
        for row in &grid {
            let mut line = String::new();
            for (i, (cell, width)) in row.iter().zip(&widths).enumerate() {
                match i {
                    0 => line.push_str(&format!("{cell:<width$}")),
                    1 => line.push_str(&format!("  {cell:<width$}")),
                    _ => line.push_str(&format!("  {cell:>width$}")),
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.final_recall_line());
        out.push('\n');
        out
    }

    /// `final recall  A 0.8977  B 0.9120  B - A +0.0143 (within 0.05: yes)`.
    fn final_recall_line(&self) -> String {
        let side = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.4}"));
        let diff = self
            .final_recall_diff()
            .map_or("-".to_string(), |d| format!("{d:+.4}"));
        let verdict = match self.final_recall_within(FINAL_RECALL_TOLERANCE) {
            Some(true) => "yes",
            Some(false) => "no",
            None => "-",
        };
        format!(
            "final recall  A {}  B {}  B - A {diff} (within {FINAL_RECALL_TOLERANCE}: {verdict})",
            side(self.a.final_recall),
            side(self.b.final_recall),
        )
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_table())
    }
}
