//! [`check`] on hand-built reports: each way of timing an assertion, each
//! comparison, missing values, `min_entries`, summary metrics, and the summary
//! metrics against the `summary.csv` a report writes.

use std::time::Duration;

use super::*;
use crate::engine::NetStats;
use crate::engine::SchedulerStats;
use crate::metric_names::{SAMPLE_METRICS, SUMMARY_METRICS};
use crate::metrics::{
    BootstrapOutcome, LookupOutcome, LookupRecord, NodeRecord, Recorder, Sample, TableStats,
};
use crate::scenario::{CmpOp, Scenario};

fn mins(n: u64) -> Duration {
    Duration::from_secs(60 * n)
}

fn ms_(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn peer(i: u32) -> libp2p::PeerId {
    crate::node::identity(1, i).public().to_peer_id()
}

/// A 5 min scenario sampled every minute, with `asserts` (TOML) appended.
fn scenario(asserts: &str) -> Scenario {
    let src = format!(
        "name = \"inv\"\nduration = \"5m\"\nsample_interval = \"1m\"\n[[join]]\ncount = 3\n{asserts}"
    );
    Scenario::parse(&src, "inv.toml").unwrap_or_else(|err| panic!("{err}"))
}

fn network_sample(minute: u64, live: usize, recall: Option<f64>) -> NetworkSample {
    NetworkSample {
        time: mins(minute),
        live,
        joins: 0,
        departures: 0,
        connections: 2 * live as u64,
        bytes: 0,
        messages: 0,
        recall_mean: recall,
        recall_p10: recall.map(|r| r / 2.0),
        stale_fraction_mean: recall.map(|r| 1.0 - r),
        closest_held: Default::default(),
    }
}

fn table_sample(minute: u64, node: u32, entries: usize) -> Sample {
    Sample {
        time: mins(minute),
        node,
        stats: TableStats {
            entries,
            ..TableStats::default()
        },
        stale: 0,
        recall: None,
        closest: 0,
        closest_held: 0,
    }
}

/// Samples at 1..=5 min: recall 0.5, 0.95, 0.8, 0.7, 0.85 (3 live nodes; at
/// 3 min the recall is missing), and tables of 0, 2, 4, 1, 3 entries at least
/// (none sampled at 4 min).
fn sampled() -> RunReport {
    let mut recorder = Recorder::new(&scenario(""), 1);
    let recalls = [Some(0.5), Some(0.95), None, Some(0.7), Some(0.85)];
    for (minute, recall) in (1..).zip(recalls) {
        recorder.network_sample(network_sample(minute, 3, recall));
    }
    for (minute, min) in [(1, 0), (2, 2), (3, 4), (5, 3)] {
        for node in 0..3 {
            recorder.sample(table_sample(minute, node, min + 2 * node as usize));
        }
    }
    recorder.finish(mins(5), SchedulerStats::default(), NetStats::default())
}

fn violations(asserts: &str, report: &RunReport) -> Vec<Violation> {
    check(&scenario(asserts).asserts, report)
}

/// The one violation of a single assertion.
fn violation(that: &str, when: &str, report: &RunReport) -> Option<Violation> {
    let mut found = violations(&format!("[[assert]]\nthat = \"{that}\"\n{when}"), report);
    assert!(found.len() <= 1);
    found.pop()
}

#[test]
fn the_end_is_the_last_sample() {
    let report = sampled();
    assert_eq!(violation("recall_mean >= 0.8", "", &report), None);
    let v = violation("recall_mean >= 0.9", "", &report).expect("0.85 < 0.9");
    assert_eq!(
        v,
        Violation {
            index: 0,
            condition: "recall_mean >= 0.9".to_owned(),
            measured: Some(0.85),
            at: Some(mins(5)),
            message: "measured 0.8500 at 5m (the last sample)".to_owned(),
        }
    );
    assert_eq!(
        v.to_string(),
        "assert[0] failed: recall_mean >= 0.9: measured 0.8500 at 5m (the last sample)"
    );
    let none =
        Recorder::new(&scenario(""), 1).finish(mins(5), Default::default(), Default::default());
    let v = violation("live_nodes >= 0", "", &none).expect("no sample");
    assert_eq!((v.measured, v.at), (None, None));
    assert_eq!(v.message, "the run took no sample");
}

#[test]
fn at_checks_one_sample() {
    let report = sampled();
    assert_eq!(
        violation("recall_mean >= 0.9", "at = \"2m\"", &report),
        None
    );
    let v = violation("recall_mean >= 0.9", "at = \"4m\"", &report).expect("0.7");
    assert_eq!((v.measured, v.at), (Some(0.7), Some(mins(4))));
    assert_eq!(v.condition, "recall_mean >= 0.9 at 4m");
    assert_eq!(v.message, "measured 0.7000 at 4m");
    // A run that stopped before the sample: no such sample.
    let mut short = sampled();
    short.network_samples.truncate(2);
    let v = violation("recall_mean >= 0.9", "at = \"4m\"", &short).expect("no sample");
    assert_eq!((v.measured, v.at), (None, None));
    assert_eq!(
        v.to_string(),
        "assert[0] failed: recall_mean >= 0.9 at 4m: no sample at 4m (the run's last sample is at 2m)"
    );
}

#[test]
fn from_reports_the_first_sample_that_breaks_it() {
    let report = sampled();
    assert_eq!(violation("live_nodes == 3", "from = \"0s\"", &report), None);
    // 4 min (0.7) and 5 min (0.85) break it; 3 min has no recall and breaks it first.
    let v = violation("recall_mean >= 0.9", "from = \"2m\"", &report).expect("broken");
    assert_eq!((v.measured, v.at), (None, Some(mins(3))));
    let v = violation("recall_mean >= 0.9", "from = \"3.5m\"", &report).expect("broken");
    assert_eq!((v.measured, v.at), (Some(0.7), Some(mins(4))));
    assert_eq!(v.condition, "recall_mean >= 0.9 from 210s");
    assert_eq!(
        v.to_string(),
        "assert[0] failed: recall_mean >= 0.9 from 210s: measured 0.7000 at 4m"
    );
    assert_eq!(
        violation("recall_mean >= 0.8", "from = \"5m\"", &report),
        None
    );
    let mut short = sampled();
    short.network_samples.truncate(2);
    let v = violation("live_nodes >= 1", "from = \"3m\"", &short).expect("no sample");
    assert_eq!(
        v.message,
        "no sample at or after 3m (the run's last sample is at 2m)"
    );
}

#[test]
fn each_comparison() {
    let report = sampled();
    // live_nodes is 3 at every sample.
    let cases = [
        (">= 3", true),
        (">= 4", false),
        ("<= 3", true),
        ("<= 2", false),
        ("> 2", true),
        ("> 3", false),
        ("< 4", true),
        ("< 3", false),
        ("== 3", true),
        ("== 3.5", false),
    ];
    for (condition, holds) in cases {
        let v = violation(&format!("live_nodes {condition}"), "from = \"1m\"", &report);
        assert_eq!(v.is_none(), holds, "live_nodes {condition}: {v:?}");
        if let Some(v) = v {
            assert_eq!((v.measured, v.at), (Some(3.0), Some(mins(1))));
            assert_eq!(v.message, "measured 3 at 1m");
        }
    }
    assert!(CmpOp::Eq.holds(0.1 + 0.2, 0.30000000000000004));
}

#[test]
fn a_missing_value_breaks_any_comparison() {
    let report = sampled();
    for that in [
        "recall_mean >= 0",
        "recall_mean < 1e9",
        "recall_p10 == 0",
        "stale_fraction_mean <= 1",
    ] {
        let v = violation(that, "at = \"3m\"", &report).expect("missing");
        assert_eq!((v.measured, v.at), (None, Some(mins(3))), "{that}");
        assert!(
            v.message.starts_with("no value at 3m: no live node had a"),
            "{v}"
        );
    }
    let v = violation("lookups_ok_rate >= 0", "", &report).expect("no lookups");
    assert_eq!((v.measured, v.at), (None, None));
    assert_eq!(v.message, "no value: no lookup finished");
    let v = violation("first_bootstrap_max_ms <= 1000", "", &report).expect("no sessions");
    assert_eq!(v.message, "no value: no first bootstrap query finished");
}

#[test]
fn min_entries_is_the_smallest_table_at_the_sample() {
    let report = sampled();
    let v = violation("min_entries >= 1", "from = \"0s\"", &report).expect("0 at 1m");
    assert_eq!((v.measured, v.at), (Some(0.0), Some(mins(1))));
    // No table was sampled at 4 min: a missing value.
    assert_eq!(
        violation("min_entries >= 1", "from = \"2m\"", &report),
        Some(Violation {
            index: 0,
            condition: "min_entries >= 1 from 2m".to_owned(),
            measured: None,
            at: Some(mins(4)),
            message: "no value at 4m: no live node was sampled".to_owned(),
        })
    );
    assert_eq!(violation("min_entries == 3", "at = \"5m\"", &report), None);
    assert_eq!(violation("min_entries == 2", "at = \"2m\"", &report), None);
}

/// A report with every summary figure present, and fractions that need
/// rounding in `summary.csv`.
fn rich() -> RunReport {
    let mut recorder = Recorder::new(&scenario(""), 42);
    for minute in 1..=3 {
        recorder.network_sample(network_sample(minute, 3, Some(1.0 / (minute + 1) as f64)));
    }
    for i in 0..3u32 {
        let joined = ms_(1_000 * u64::from(i));
        recorder.session(NodeRecord {
            index: i,
            peer_id: peer(i),
            joined_at: joined,
            first_bootstrap: Some(BootstrapOutcome {
                at: joined + ms_(1_234 * u64::from(i + 1)),
                ok: i != 1,
            }),
            bootstrap_peers: u32::from(i > 0),
            bootstrap_live: u32::from(i > 0),
            recall_reached: [1, 2, 3].map(|k| Some(joined + ms_(777 * k * u64::from(i + 1)))),
            visible_at: Some(joined + ms_(100)),
            left_at: (i == 2).then(|| mins(4)),
            end: TableStats {
                entries: 7 + i as usize,
                nonempty_buckets: 2,
                connected_peers: 1 + i as usize,
            },
        });
    }
    for (i, ok) in [true, true, false].into_iter().enumerate() {
        recorder.lookup(LookupRecord {
            outcome: LookupOutcome {
                node: 0,
                key: peer(10 + i as u32),
                started: mins(1),
                finished: mins(1) + ms_(2_500 + 1_000 * i as u64),
                ok,
                peers: vec![peer(1)],
                hops: 2,
                requests: 3,
                successes: 2,
                failures: 1,
            },
            recall: Some(1.0 / (i + 2) as f64),
        });
    }
    recorder.departed(true, 2);
    recorder.departed(false, 0);
    recorder.departed(false, 1);
    let scheduler = SchedulerStats {
        polls: 123_456,
        spawned: 789,
        live: 5,
        timers_fired: 1_000,
        scenario_events: 30,
    };
    let network = NetStats {
        connections: 11,
        refused: 4,
        bytes: 98_765,
        writes: 4_321,
        open: 6,
    };
    let mut report = recorder.finish(mins(5) + ms_(7), scheduler, network);
    report.trace_events = 31;
    report
}

/// `summary.csv` of `report`, as written by [`RunReport::write_csv`].
fn summary_csv(report: &RunReport, name: &str) -> Vec<(String, String)> {
    let dir = std::env::temp_dir().join(format!(
        "libp2p-sim-invariant-{}-{name}",
        std::process::id()
    ));
    report.write_csv(&dir).expect("write the CSV files");
    let text = std::fs::read_to_string(dir.join("summary.csv")).expect("summary.csv");
    std::fs::remove_dir_all(&dir).expect("remove the temporary directory");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("metric,value"));
    lines
        .map(|line| {
            let (metric, value) = line.split_once(',').expect("metric,value");
            (metric.to_owned(), value.to_owned())
        })
        .collect()
}

/// The rows of `summary.csv` that are not numbers: they identify or flag the
/// run and are not metrics.
const NOT_METRICS: [&str; 3] = ["scenario", "complete", "trace_hash"];

/// Summary metric `metric` as [`check`] measures it: the measured value of
/// an assertion that cannot hold (`metric < f64::MIN`).
fn measured(report: &RunReport, metric: &str) -> Option<f64> {
    let assert = Assert {
        metric: metric.to_owned(),
        op: CmpOp::Lt,
        value: f64::MIN,
        when: AssertWhen::End,
    };
    let v = check(&[assert], report);
    assert_eq!(v.len(), 1, "{metric} < MIN cannot hold");
    v[0].measured
}

#[test]
fn summary_metrics_are_the_numeric_rows_of_summary_csv() {
    let empty =
        Recorder::new(&scenario(""), 1).finish(mins(5), Default::default(), Default::default());
    for (report, name) in [(rich(), "rich"), (empty, "empty")] {
        let rows = summary_csv(&report, name);
        let names: Vec<&str> = rows
            .iter()
            .map(|(metric, _)| metric.as_str())
            .filter(|metric| !NOT_METRICS.contains(metric))
            .collect();
        assert_eq!(
            names, SUMMARY_METRICS,
            "the metric list follows summary.csv"
        );
        for (metric, written) in &rows {
            if NOT_METRICS.contains(&metric.as_str()) {
                assert!(
                    written.is_empty() || written.parse::<f64>().is_err(),
                    "{metric} = {written} is a number: add it to SUMMARY_METRICS"
                );
                continue;
            }
            let ours = measured(&report, metric);
            match (written.parse::<f64>(), ours) {
                (Ok(written), Some(ours)) => assert!(
                    (written - ours).abs() <= 5e-4,
                    "{name}: {metric}: summary.csv {written}, check {ours}"
                ),
                (Err(_), None) => assert!(written.is_empty(), "{metric} = {written}"),
                (written, ours) => {
                    panic!("{name}: {metric}: summary.csv {written:?}, check {ours:?}")
                }
            }
        }
    }
    // The rich report has every figure, and some need rounding.
    let report = rich();
    for metric in SUMMARY_METRICS {
        assert!(measured(&report, metric).is_some(), "{metric}");
    }
    assert_eq!(measured(&report, "lookups_ok_rate"), Some(2.0 / 3.0));
    assert_eq!(measured(&report, "first_bootstrap_max_ms"), Some(3_702.0));
    assert_eq!(measured(&report, "crashes"), Some(1.0));
}

#[test]
fn summary_metrics_are_compared_at_full_precision() {
    let report = rich();
    assert_eq!(violation("lookups_ok_rate >= 0.66", "", &report), None);
    // 2/3 shows as 0.6667 in summary.csv, which would hold; the message says more.
    let v = violation("lookups_ok_rate >= 0.6667", "", &report).expect("2/3 < 0.6667");
    assert_eq!((v.measured, v.at), (Some(2.0 / 3.0), None));
    assert_eq!(
        v.to_string(),
        "assert[0] failed: lookups_ok_rate >= 0.6667: measured 0.6666666666666666"
    );
    let v = violation("lookups_ok_rate >= 0.7", "", &report).expect("2/3 < 0.7");
    assert_eq!(v.message, "measured 0.6667");
    let v = violation("crashes == 0", "", &report).expect("one crash");
    assert_eq!(v.to_string(), "assert[0] failed: crashes == 0: measured 1");
    assert_eq!(violation("dials_refused < 5", "", &report), None);
}

#[test]
fn violations_keep_the_file_order_and_indices() {
    let asserts = "[[assert]]\nthat = \"crashes == 0\"\n\
                   [[assert]]\nthat = \"joins == 3\"\n\
                   [[assert]]\nthat = \"recall_mean >= 0.5\"\nfrom = \"1m\"\n";
    let found = violations(asserts, &rich());
    let lines: Vec<String> = found.iter().map(Violation::to_string).collect();
    assert_eq!(
        lines,
        [
            "assert[0] failed: crashes == 0: measured 1",
            "assert[2] failed: recall_mean >= 0.5 from 1m: measured 0.3333 at 2m",
        ]
    );
}

#[test]
fn metric_kinds() {
    assert_eq!(metric_kind("min_entries"), Some(MetricKind::Sample));
    assert_eq!(metric_kind("recall100_p90_ms"), Some(MetricKind::Summary));
    assert_eq!(metric_kind("scenario"), None);
    for name in SAMPLE_METRICS {
        assert!(!SUMMARY_METRICS.contains(&name), "{name} in both lists");
    }
}
