//! Invariants: the `[[assert]]` entries of a scenario, checked against what a
//! run measured.
//!
//! A scenario states what a correct run looks like, e.g.
//!
//! ```toml
//! [[assert]]
//! that = "min_entries >= 1"          # every live node knows someone ...
//! from = "2m"                        # ... at every sample from 2 min on
//!
//! [[assert]]
//! that = "recall_mean >= 0.9"
//! at = "10m"                         # on the sample taken at 10 min
//!
//! [[assert]]
//! that = "lookups_ok_rate >= 0.99"   # at the end of the run
//! ```
//!
//! and [`check`] returns one [`Violation`] per assertion the run broke, in file
//! order (an empty list when all hold). `scenarios/README.md` documents the
//! syntax for users; [`crate::scenario`] parses and validates it into
//! [`Assert`]s.
//!
//! # Metrics
//!
//! **Sample metrics** ([`SAMPLE_METRICS`]) have a value at every sample (one
//! every `sample_interval` of virtual time, as `network.csv` and
//! `routing_table.csv` record them), so they can be checked `at` one sample
//! time, `from` a time on (every sample at or after it; the first one that
//! breaks the condition is reported), or at the end (on the last sample):
//!
//! | metric                | value at a sample                                         |
//! |-----------------------|-----------------------------------------------------------|
//! | `recall_mean`         | mean routing-table recall over live nodes (`network.csv`)  |
//! | `recall_p10`          | 10th percentile (nearest rank) of that recall              |
//! | `stale_fraction_mean` | mean over live nodes with entries of stale entries / entries |
//! | `kclosest_all_fraction`, `kclosest_missing3_fraction`, `kclosest_below5_fraction` | fractions of the live nodes (not alone) whose table holds all of their true k closest, lacks 3 or more, holds fewer than 5 |
//! | `live_nodes`          | live nodes                                                 |
//! | `min_entries`         | smallest routing-table entry count over the live nodes (`routing_table.csv`) |
//! | `connections_open`    | connections open (both ends held)                          |
//!
//! **Summary metrics** ([`SUMMARY_METRICS`]) are the numeric rows of
//! `summary.csv`: figures of the whole run, checked once at the end. Their
//! values are computed as `summary.csv` computes them, at full precision (the
//! file rounds fractions to four decimals): times in whole milliseconds, counts
//! as integers.
//!
//! # Missing values
//!
//! A value can be missing: the recall at a sample where every live node is
//! alone, the stale fraction when no live node has an entry, `min_entries`
//! when no node is live, a lookup figure when no lookup finished, a percentile
//! of an empty set (each an empty field in the CSV files). **A missing value
//! breaks the assertion**, whatever the comparison: the violation has
//! `measured: None` and says why. So does a sample that the run did not take
//! (a run that stopped early).
//!
//! [`SAMPLE_METRICS`]: crate::metric_names::SAMPLE_METRICS
//! [`SUMMARY_METRICS`]: crate::metric_names::SUMMARY_METRICS

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use crate::metric_names::{MetricKind, metric_kind};
use crate::metrics::summary::level_name;
use crate::metrics::{NetworkSample, RunReport, Summary, ms};
use crate::scenario::{Assert, AssertWhen, format_duration};

#[cfg(test)]
mod tests;

/// An assertion the run broke.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// Index of the assertion among the scenario's `[[assert]]` entries
    /// (0-based, as in the key path `assert[0]`).
    pub index: usize,
    /// The assertion with its time, e.g. `recall_mean >= 0.9 from 5m`.
    pub condition: String,
    /// The value that broke it; `None` when the value is missing (see the
    /// module documentation) or the sample does not exist.
    pub measured: Option<f64>,
    /// Virtual time of the sample that broke it, for a sample metric whose
    /// sample exists; `None` for a summary metric.
    pub at: Option<Duration>,
    /// What was found, in words: `measured 0.8123 at 450s`, `no value at 5m:
    /// no live node had a recall (...)`, `no sample at 10m (...)`.
    pub message: String,
}

/// One line: `assert[1] failed: recall_mean >= 0.9 from 5m: measured 0.8123 at 450s`.
impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "assert[{}] failed: {}: {}",
            self.index, self.condition, self.message
        )
    }
}

/// Checks every assertion against `report`; returns the ones that do not hold,
/// in the order of `asserts`. See the module documentation for what each
/// metric is and how a missing value counts.
pub fn check(asserts: &[Assert], report: &RunReport) -> Vec<Violation> {
    let mut context = Context {
        report,
        summary: None,
        min_entries: None,
    };
    asserts
        .iter()
        .enumerate()
        .filter_map(|(index, assert)| context.check(index, assert))
        .collect()
}

/// What [`check`] computes at most once per report.
struct Context<'a> {
    report: &'a RunReport,
    summary: Option<Summary>,
    /// Smallest entry count per sample time.
    min_entries: Option<BTreeMap<Duration, usize>>,
}

impl Context<'_> {
    fn check(&mut self, index: usize, assert: &Assert) -> Option<Violation> {
        let fail = |measured: Option<f64>, at: Option<Duration>, message: String| {
            Some(Violation {
                index,
                condition: assert.to_string(),
                measured,
                at,
                message,
            })
        };
        let report = self.report;
        let samples = &report.network_samples;
        match (metric_kind(&assert.metric), assert.when) {
            (None, _) => fail(None, None, format!("unknown metric {:?}", assert.metric)),
            (Some(MetricKind::Summary), AssertWhen::End) => {
                let measured = self.summary_value(&assert.metric);
                match measured {
                    Some(x) if assert.holds(x) => None,
                    Some(x) => fail(measured, None, format!("measured {}", show(x, assert))),
                    None => fail(None, None, format!("no value: {}", missing(&assert.metric))),
                }
            }
            (Some(MetricKind::Summary), _) => fail(
                None,
                None,
                "a summary metric has a value at the end of the run only".to_owned(),
            ),
            (Some(MetricKind::Sample), AssertWhen::End) => match samples.last() {
                Some(sample) => self.on_sample(assert, sample, " (the last sample)", &fail),
                None => fail(None, None, "the run took no sample".to_owned()),
            },
            (Some(MetricKind::Sample), AssertWhen::At(t)) => {
                match samples.iter().find(|s| s.time == t) {
                    Some(sample) => self.on_sample(assert, sample, "", &fail),
                    None => fail(
                        None,
                        None,
                        format!("no sample at {}", no_sample(samples, t)),
                    ),
                }
            }
            (Some(MetricKind::Sample), AssertWhen::From(t)) => {
                let mut checked = samples.iter().filter(|s| s.time >= t).peekable();
                if checked.peek().is_none() {
                    let message = format!("no sample at or after {}", no_sample(samples, t));
                    return fail(None, None, message);
                }
                checked.find_map(|sample| self.on_sample(assert, sample, "", &fail))
            }
        }
    }

    /// The violation of `assert` on `sample`, if it breaks it; `note` follows
    /// the sample time in the message.
    fn on_sample(
        &mut self,
        assert: &Assert,
        sample: &NetworkSample,
        note: &str,
        fail: &dyn Fn(Option<f64>, Option<Duration>, String) -> Option<Violation>,
    ) -> Option<Violation> {
        let at = format_duration(sample.time);
        match self.sample_value(&assert.metric, sample) {
            Some(x) if assert.holds(x) => None,
            Some(x) => fail(
                Some(x),
                Some(sample.time),
                format!("measured {} at {at}{note}", show(x, assert)),
            ),
            None => fail(
                None,
                Some(sample.time),
                format!("no value at {at}{note}: {}", missing(&assert.metric)),
            ),
        }
    }

    /// Sample metric `name` at `sample`.
    fn sample_value(&mut self, name: &str, sample: &NetworkSample) -> Option<f64> {
        match name {
            "recall_mean" => sample.recall_mean,
            "recall_p10" => sample.recall_p10,
            "stale_fraction_mean" => sample.stale_fraction_mean,
            "kclosest_all_fraction" => sample.closest_held.all,
            "kclosest_missing3_fraction" => sample.closest_held.missing3,
            "kclosest_below5_fraction" => sample.closest_held.below5,
            "live_nodes" => Some(sample.live as f64),
            "connections_open" => Some(sample.connections as f64),
            "min_entries" => {
                let report = self.report;
                let table = self.min_entries.get_or_insert_with(|| {
                    let mut table = BTreeMap::new();
                    for s in &report.samples {
                        table
                            .entry(s.time)
                            .and_modify(|min: &mut usize| *min = (*min).min(s.stats.entries))
                            .or_insert(s.stats.entries);
                    }
                    table
                });
                table.get(&sample.time).map(|&min| min as f64)
            }
            other => unreachable!("{other} is not a sample metric"),
        }
    }

    /// Summary metric `name`, as `summary.csv` computes it.
    fn summary_value(&mut self, name: &str) -> Option<f64> {
        let r = self.report;
        let s = self.summary.get_or_insert_with(|| r.summary());
        let count = |n: u64| Some(n as f64);
        if let Some(value) = spread_value(name, s) {
            return value;
        }
        match name {
            "seed" => count(r.seed),
            "trace_events" => count(r.trace_events),
            "joins" => Some(s.joins as f64),
            "live_end" => Some(s.live_end as f64),
            "virtual_time_ms" => Some(ms(r.virtual_time) as f64),
            "bootstrapped" => Some(s.bootstrap.count as f64),
            "bootstrapped_ok" => Some(s.bootstrapped_ok as f64),
            "joins_without_bootstrap" => Some(s.joins_without_bootstrap as f64),
            "lookups_ok_rate" => s.lookup_ok_rate,
            "lookups_recall_mean" => s.lookup_recall_mean,
            "lookups_recall_p10" => s.lookup_recall_p10,
            "lookups_recall_p50" => s.lookup_recall_p50,
            "lookup_requests_p50" => s.lookup_requests[0].map(f64::from),
            "lookup_requests_p90" => s.lookup_requests[1].map(f64::from),
            "lookup_requests_max" => s.lookup_requests[2].map(f64::from),
            "lookup_hops_p50" => s.lookup_hops[0].map(f64::from),
            "lookup_hops_p90" => s.lookup_hops[1].map(f64::from),
            "lookup_hops_max" => s.lookup_hops[2].map(f64::from),
            "lookups_abandoned" => count(r.lookups_abandoned),
            "recall_final" => s.recall_final,
            "recall_time_avg" => s.recall_time_avg,
            "stale_fraction_final" => s.stale_final,
            "stale_fraction_time_avg" => s.stale_time_avg,
            "rt_entries_mean_end" => Some(s.mean_entries_end),
            "connected_peers_mean_end" => Some(s.mean_connected_end),
            "departures_graceful" => count(r.departures.graceful),
            "crashes" => count(r.departures.crashes),
            "connections_opened" => count(r.network.connections),
            "dials_refused" => count(r.network.refused),
            "bytes" => count(r.network.bytes),
            "writes" => count(r.network.writes),
            "task_polls" => count(r.scheduler.polls),
            "tasks_spawned" => count(r.scheduler.spawned),
            "timers_fired" => count(r.scheduler.timers_fired),
            "scenario_events" => count(r.scheduler.scenario_events),
            "events" => count(r.scheduler.events()),
            other => unreachable!("{other} is not a summary metric"),
        }
    }
}

/// `<spread>_count` and `<spread>_{p50,p90,p99,max}_ms` of the summary's
/// spreads; `None` when `name` is not one of them.
fn spread_value(name: &str, s: &Summary) -> Option<Option<f64>> {
    let (prefix, stat) = ["count", "p50_ms", "p90_ms", "p99_ms", "max_ms"]
        .into_iter()
        .find_map(|stat| {
            let prefix = name.strip_suffix(stat)?.strip_suffix('_')?;
            Some((prefix, stat))
        })?;
    let spread = match prefix {
        "first_bootstrap" => &s.bootstrap,
        "visible" => &s.visible,
        "lookup" => &s.lookup,
        _ => {
            let level = (0..s.recall_reached.len())
                .find(|&i| prefix == format!("recall{}", level_name(i)))?;
            &s.recall_reached[level]
        }
    };
    let time = match stat {
        "count" => return Some(Some(spread.count as f64)),
        "p50_ms" => spread.p50,
        "p90_ms" => spread.p90,
        "p99_ms" => spread.p99,
        _ => spread.max,
    };
    Some(time.map(|d| ms(d) as f64))
}

/// Why metric `name` can have no value.
fn missing(name: &str) -> &'static str {
    match name {
        "recall_mean" | "recall_p10" | "recall_final" | "recall_time_avg" => {
            "no live node had a recall (none was live, or each was alone)"
        }
        _ if name.starts_with("kclosest") => {
            "no live node had a recall (none was live, or each was alone)"
        }
        "stale_fraction_mean" | "stale_fraction_final" | "stale_fraction_time_avg" => {
            "no live node had a routing-table entry"
        }
        "min_entries" => "no live node was sampled",
        "lookups_recall_mean" | "lookups_recall_p10" | "lookups_recall_p50" => {
            "no finished lookup had a recall"
        }
        _ if name.starts_with("lookup") => "no lookup finished",
        _ if name.starts_with("first_bootstrap") => "no first bootstrap query finished",
        _ if name.starts_with("visible") => "no session became visible to half its k closest",
        _ if name.starts_with("recall") => "no session reached that recall",
        _ => "the value is missing",
    }
}

/// The end of a "no sample at <t>" message: the time and what the run sampled.
fn no_sample(samples: &[NetworkSample], t: Duration) -> String {
    match samples.last() {
        Some(last) => format!(
            "{} (the run's last sample is at {})",
            format_duration(t),
            format_duration(last.time)
        ),
        None => format!("{} (the run took no sample)", format_duration(t)),
    }
}

/// `x` for a message: an integer as such, else four decimals, unless the
/// rounding would make the broken condition look satisfied (then every digit).
fn show(x: f64, assert: &Assert) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        return format!("{x}");
    }
    let short = format!("{x:.4}");
    match short.parse::<f64>() {
        Ok(rounded) if !assert.holds(rounded) => short,
        _ => format!("{x}"),
    }
}
