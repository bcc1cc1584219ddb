//! The names of the metrics an `[[assert]]` may check, and their families.
//!
//! The scenario validates the metric of each assertion against these names;
//! the invariant checks compute their values from a run's report (see
//! `invariant` for what each one measures). This module imports nothing else
//! of the crate, so the two need not know each other.

/// The metrics that have a value at every sample, and so may be checked `at`
/// a sample time, `from` a time on, or at the end (on the last sample).
pub const SAMPLE_METRICS: [&str; 9] = [
    "recall_mean",
    "recall_p10",
    "stale_fraction_mean",
    "kclosest_all_fraction",
    "kclosest_missing3_fraction",
    "kclosest_below5_fraction",
    "live_nodes",
    "min_entries",
    "connections_open",
];

/// The metrics measured once for the whole run: every row of `summary.csv`
/// whose value is a number, in the file's order. They may be checked at the
/// end only.
pub const SUMMARY_METRICS: &[&str] = &[
    "seed",
    "trace_events",
    "joins",
    "live_end",
    "virtual_time_ms",
    "bootstrapped",
    "bootstrapped_ok",
    "joins_without_bootstrap",
    "first_bootstrap_count",
    "first_bootstrap_p50_ms",
    "first_bootstrap_p90_ms",
    "first_bootstrap_p99_ms",
    "first_bootstrap_max_ms",
    "recall50_count",
    "recall50_p50_ms",
    "recall50_p90_ms",
    "recall50_p99_ms",
    "recall50_max_ms",
    "recall90_count",
    "recall90_p50_ms",
    "recall90_p90_ms",
    "recall90_p99_ms",
    "recall90_max_ms",
    "recall100_count",
    "recall100_p50_ms",
    "recall100_p90_ms",
    "recall100_p99_ms",
    "recall100_max_ms",
    "visible_count",
    "visible_p50_ms",
    "visible_p90_ms",
    "visible_p99_ms",
    "visible_max_ms",
    "lookup_count",
    "lookup_p50_ms",
    "lookup_p90_ms",
    "lookup_p99_ms",
    "lookup_max_ms",
    "lookups_ok_rate",
    "lookups_recall_mean",
    "lookups_recall_p10",
    "lookups_recall_p50",
    "lookup_requests_p50",
    "lookup_requests_p90",
    "lookup_requests_max",
    "lookup_hops_p50",
    "lookup_hops_p90",
    "lookup_hops_max",
    "lookups_abandoned",
    "recall_final",
    "recall_time_avg",
    "stale_fraction_final",
    "stale_fraction_time_avg",
    "rt_entries_mean_end",
    "connected_peers_mean_end",
    "departures_graceful",
    "crashes",
    "connections_opened",
    "dials_refused",
    "bytes",
    "writes",
    "task_polls",
    "tasks_spawned",
    "timers_fired",
    "scenario_events",
    "events",
];

/// Which family a metric belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// One of [`SAMPLE_METRICS`]: a value at every sample.
    Sample,
    /// One of [`SUMMARY_METRICS`]: one value for the whole run.
    Summary,
}

/// The family of metric `name`, or `None` if no such metric is measured.
pub fn metric_kind(name: &str) -> Option<MetricKind> {
    if SAMPLE_METRICS.contains(&name) {
        Some(MetricKind::Sample)
    } else if SUMMARY_METRICS.contains(&name) {
        Some(MetricKind::Summary)
    } else {
        None
    }
}
