//! What one result directory gives: the values of every metric of the
//! comparison, read from its CSV files (see the table in the module
//! documentation of `compare`).

use std::path::Path;

use super::comparison::Unit;
use super::read::{CompareError, Table};

/// Name, unit and description of a metric.
pub(super) struct Def {
    /// The `metric` column of `compare.csv`.
    pub(super) name: &'static str,
    /// What the values count.
    pub(super) unit: Unit,
    /// What it is, for chart titles.
    pub(super) description: &'static str,
}

/// The values one directory gives for a metric.
pub(super) struct Metric {
    /// Which metric.
    pub(super) def: Def,
    /// Its values, in file order.
    pub(super) values: Vec<f64>,
}

/// The discovery latencies: metric and `discovery.csv` column. The
/// columns already hold ms after join (`docs/outputs.md`, `discovery.csv`).
const DISCOVERY: [(Def, &str); 5] = [
    (
        def("first_bootstrap_after_join", Unit::Ms, "first bootstrap"),
        "first_bootstrap_ms",
    ),
    (
        def("recall50_after_join", Unit::Ms, "recall 50 % reached"),
        "recall50_ms",
    ),
    (
        def("recall90_after_join", Unit::Ms, "recall 90 % reached"),
        "recall90_ms",
    ),
    (
        def("recall100_after_join", Unit::Ms, "recall 100 % reached"),
        "recall100_ms",
    ),
    (
        def(
            "visible_after_join",
            Unit::Ms,
            "visible to half its k closest",
        ),
        "visible_ms",
    ),
];

/// A [`Def`], shorter.
const fn def(name: &'static str, unit: Unit, description: &'static str) -> Def {
    Def {
        name,
        unit,
        description,
    }
}

/// What one directory gives: the values of every metric, in row order.
pub(super) struct Run {
    /// The metrics, in the order of the rows of a comparison.
    pub(super) metrics: Vec<Metric>,
    /// `recall_mean` of the last row of `network.csv`.
    pub(super) final_recall: Option<f64>,
}

impl Run {
    /// Reads `discovery.csv`, `lookups.csv`, `routing_table.csv` and
    /// `network.csv` of `dir`.
    pub(super) fn read(dir: &Path) -> Result<Run, CompareError> {
        let discovery = Table::read(dir, "discovery.csv")?;
        let lookups = Table::read(dir, "lookups.csv")?;
        let table = Table::read(dir, "routing_table.csv")?;
        let network = Table::read(dir, "network.csv")?;
        let mut metrics = Vec::new();
        for (def, column) in DISCOVERY {
            let values = discovery.present(column)?;
            metrics.push(Metric { def, values });
        }
        let last = |column| -> Result<Vec<f64>, CompareError> {
            Ok(table
                .at_max("time_ms", column)?
                .into_iter()
                .flatten()
                .collect())
        };
        let final_recall = network
            .at_max("time_ms", "recall_mean")?
            .last()
            .copied()
            .flatten();
        let more = [
            (
                def("lookup_duration", Unit::Ms, "lookup duration"),
                lookups.present("duration_ms")?,
            ),
            (
                def("lookup_recall", Unit::Fraction, "lookup recall"),
                lookups.present("recall")?,
            ),
            (
                def(
                    "rt_recall_final",
                    Unit::Fraction,
                    "final routing-table recall",
                ),
                last("kclosest_recall")?,
            ),
            (
                def(
                    "rt_entries_final",
                    Unit::Entries,
                    "final routing-table entries",
                ),
                last("entries")?,
            ),
            (
                def(
                    "recall_mean_samples",
                    Unit::Fraction,
                    "mean recall per sample",
                ),
                network.present("recall_mean")?,
            ),
        ];
        metrics.extend(more.map(|(def, values)| Metric { def, values }));
        Ok(Run {
            metrics,
            final_recall,
        })
    }
}
