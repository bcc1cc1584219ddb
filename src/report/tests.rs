use std::fs;
use std::path::PathBuf;
use std::time::Duration;

use super::cdf::{ecdf, log_axis, steps, tick};
use super::html::{escape, frac, secs};
use super::*;
use crate::engine::NetStats;
use crate::engine::SchedulerStats;
use crate::metrics::{
    BootstrapOutcome, Departures, LookupOutcome, LookupRecord, NetworkSample, NodeRecord, Sample,
    TableStats,
};

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

fn peer(i: u32) -> libp2p::PeerId {
    crate::node::identity(1, i).public().to_peer_id()
}

fn node(i: u32, joined: u64, bootstrap: Option<u64>, recall: [Option<u64>; 3]) -> NodeRecord {
    NodeRecord {
        index: i,
        peer_id: peer(i),
        joined_at: ms(joined),
        first_bootstrap: bootstrap.map(|t| BootstrapOutcome {
            at: ms(t),
            ok: true,
        }),
        bootstrap_peers: u32::from(i > 0),
        bootstrap_live: u32::from(i > 0),
        recall_reached: recall.map(|t| t.map(ms)),
        visible_at: recall[1].map(ms),
        left_at: None,
        end: TableStats {
            entries: 3,
            nonempty_buckets: 2,
            connected_peers: 2,
        },
    }
}

fn network_sample(t: u64, live: usize, recall: Option<f64>, stale: Option<f64>) -> NetworkSample {
    NetworkSample {
        time: ms(t),
        live,
        joins: 1,
        departures: 0,
        connections: live as u64,
        bytes: 100,
        messages: 10,
        recall_mean: recall,
        recall_p10: recall,
        stale_fraction_mean: stale,
        closest_held: Default::default(),
    }
}

fn lookup(node: u32, started: u64, finished: u64, ok: bool) -> LookupRecord {
    LookupRecord {
        outcome: LookupOutcome {
            node,
            key: peer(100 + node),
            started: ms(started),
            finished: ms(finished),
            ok,
            peers: vec![peer(0)],
            hops: 2,
            requests: 3,
            successes: 2,
            failures: 1,
        },
        recall: Some(0.5),
    }
}

fn empty_report(scenario: &str) -> RunReport {
    RunReport {
        scenario: scenario.to_string(),
        seed: 7,
        nodes: Vec::new(),
        lookups: Vec::new(),
        lookups_abandoned: 0,
        departures: Departures::default(),
        samples: Vec::new(),
        network_samples: Vec::new(),
        virtual_time: Duration::ZERO,
        scheduler: SchedulerStats::default(),
        network: NetStats::default(),
        trace_hash: String::new(),
        trace_events: 0,
        trace_file: None,
        lag: None,
        complete: true,
        holders: Vec::new(),
        buckets: Vec::new(),
        k: 20,
        windows: Vec::new(),
        trace_places: None,
    }
}

/// Three sessions, one of which never bootstraps, four network samples with
/// a gap in the recall series, and three lookups.
fn small_report() -> RunReport {
    let mut r = empty_report("small & <test>");
    r.virtual_time = ms(180_000);
    r.nodes = vec![
        node(0, 0, Some(1_000), [Some(2_000), Some(5_000), Some(9_000)]),
        node(1, 10_000, Some(12_500), [Some(13_000), Some(20_000), None]),
        node(2, 20_000, None, [None, None, None]),
    ];
    r.nodes[2].left_at = Some(ms(100_000));
    r.samples = vec![Sample {
        time: ms(30_000),
        node: 0,
        stats: TableStats::default(),
        stale: 0,
        recall: Some(1.0),
        closest: 2,
        closest_held: 2,
    }];
    r.network_samples = vec![
        network_sample(30_000, 3, None, None),
        network_sample(60_000, 3, Some(0.5), Some(0.0)),
        network_sample(90_000, 3, Some(0.9), Some(0.1)),
        network_sample(120_000, 2, None, Some(0.2)),
        network_sample(150_000, 2, Some(1.0), Some(0.05)),
    ];
    r.lookups = vec![
        lookup(0, 40_000, 41_500, true),
        lookup(1, 50_000, 50_200, true),
        lookup(0, 60_000, 70_000, false),
    ];
    r.lookups_abandoned = 1;
    r.departures.graceful = 1;
    r
}

fn out_dir(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("libp2p-sim-report-{}-{name}", std::process::id()))
}

fn read(dir: &std::path::Path, file: &str) -> String {
    fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("reading {file}: {e}"))
}

/// Checks that every file was written and each SVG is a document that
/// names `titles` (chart file, series titles).
fn check_files(dir: &std::path::Path, written: &[PathBuf], titles: &[(&str, &[&str])]) {
    let mut expected: Vec<PathBuf> = CHARTS.iter().map(|(f, _)| dir.join(f)).collect();
    expected.push(dir.join(INDEX));
    assert_eq!(written, expected);
    for path in written {
        assert!(path.is_file(), "{} missing", path.display());
    }
    for (file, series) in titles {
        let svg = read(dir, file);
        assert!(
            svg.starts_with("<svg"),
            "{file} starts with {:?}",
            &svg[..20]
        );
        assert!(svg.trim_end().ends_with("</svg>"), "{file} is not closed");
        for title in *series {
            assert!(svg.contains(title), "{file} lacks {title:?}");
        }
    }
}

const TITLES: [(&str, &[&str]); 4] = [
    (
        "live_recall.svg",
        &[
            "live nodes",
            "mean routing-table recall",
            "virtual time (min)",
        ],
    ),
    (
        "discovery_cdf.svg",
        &[
            "first bootstrap",
            "recall 50 %",
            "recall 90 %",
            "recall 100 %",
            "visible to half its k closest",
            "never got there",
        ],
    ),
    (
        "lookup_cdf.svg",
        &["all finished lookups", "lookups that reported Ok"],
    ),
    ("stale.svg", &["mean stale fraction"]),
];

#[test]
fn ecdf_gives_hand_computed_points() {
    // Five items, four with values (one repeated), one without.
    assert_eq!(
        ecdf(&[3.0, 1.0, 2.0, 2.0], 5),
        vec![(1.0, 0.2), (2.0, 0.6), (3.0, 0.8)]
    );
    // Every item has a value: the curve reaches 1.
    assert_eq!(ecdf(&[0.5, 0.0], 2), vec![(0.0, 0.5), (0.5, 1.0)]);
    // Non-finite values are dropped; the denominator never undercounts.
    assert_eq!(ecdf(&[f64::NAN, 4.0, 4.0], 1), vec![(4.0, 1.0)]);
    assert!(ecdf(&[], 0).is_empty());
    assert!(ecdf(&[], 3).is_empty());
}

#[test]
fn cdf_staircase_axis_and_ticks() {
    let cdf = [(0.0, 0.25), (2.0, 0.75)];
    assert_eq!(
        steps(&cdf, 0.1, 3.0),
        vec![
            (0.1, 0.0),
            (0.1, 0.0),
            (0.1, 0.25),
            (2.0, 0.25),
            (2.0, 0.75),
            (3.0, 0.75),
        ]
    );
    assert_eq!(log_axis([0.0, 0.25, 3.0].into_iter()), (0.1, 4.5));
    assert_eq!(log_axis([0.0, 0.000_01].into_iter()), (0.001, 0.01));
    assert_eq!(log_axis(std::iter::empty()), (0.1, 1.0));
    assert_eq!(tick(&0.1), "0.1");
    assert_eq!(tick(&0.001), "0.001");
    assert_eq!(tick(&100.0), "100");
}

#[test]
fn writes_all_files_with_series_titles() {
    let dir = out_dir("all");
    let report = small_report();
    let written = write_report(&report, &dir).unwrap();
    check_files(&dir, &written, &TITLES);
    assert!(read(&dir, "discovery_cdf.svg").contains("CDF over all 3 sessions"));
    assert!(read(&dir, "lookup_cdf.svg").contains("1 lookups abandoned"));

    let html = read(&dir, INDEX);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(
        html.contains("small &amp; &lt;test&gt;"),
        "scenario is escaped"
    );
    assert!(!html.contains("<test>"));
    assert!(html.contains("seed <b>7</b>"));
    for (file, _) in CHARTS {
        assert!(
            html.contains(&format!("<img src=\"{file}\"")),
            "{file} not embedded"
        );
    }
    for csv in [
        "discovery.csv",
        "routing_table.csv",
        "network.csv",
        "lookups.csv",
        "summary.csv",
    ] {
        assert!(
            html.contains(&format!("<a href=\"{csv}\">")),
            "{csv} not linked"
        );
    }
    // First bootstrap after join: 1 s and 2.5 s (nearest rank).
    assert!(html.contains(
        "<tr><td>first bootstrap</td><td>2</td><td>1.00</td><td>2.50</td><td>2.50</td><td>2.50</td></tr>"
    ));
    // Recall 100 %: one session only; lookups: 1.5, 0.2 and 10 s.
    assert!(html.contains("<tr><td>recall 100 %</td><td>1</td><td>9.00</td>"));
    assert!(html.contains(
        "<tr><td>lookup duration</td><td>3</td><td>1.50</td><td>10.00</td><td>10.00</td><td>10.00</td></tr>"
    ));
    assert!(html.contains("<tr><td>lookups Ok rate</td><td>0.667</td></tr>"));
    assert!(html.contains("<tr><td>routing-table recall, last sample</td><td>1.000</td></tr>"));
    assert!(!html.contains("http"), "the page must not load anything");
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn writing_twice_gives_identical_bytes() {
    let report = small_report();
    let (a, b) = (out_dir("twice-a"), out_dir("twice-b"));
    let first = write_report(&report, &a).unwrap();
    let second = write_report(&report.clone(), &b).unwrap();
    for (x, y) in first.iter().zip(&second) {
        assert_eq!(
            fs::read(x).unwrap(),
            fs::read(y).unwrap(),
            "{}",
            x.display()
        );
    }
    // Rewriting in place gives the same bytes too, and leaves no temporary.
    let before: Vec<Vec<u8>> = first.iter().map(|p| fs::read(p).unwrap()).collect();
    write_report(&report, &a).unwrap();
    let after: Vec<Vec<u8>> = first.iter().map(|p| fs::read(p).unwrap()).collect();
    assert_eq!(before, after);
    let names: Vec<String> = fs::read_dir(&a)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
    fs::remove_dir_all(&a).unwrap();
    fs::remove_dir_all(&b).unwrap();
}

#[test]
fn empty_report_draws_empty_charts_with_notes() {
    let dir = out_dir("empty").join("nested");
    let report = empty_report("empty");
    let written = write_report(&report, &dir).unwrap();
    check_files(&dir, &written, &TITLES);
    assert!(read(&dir, "live_recall.svg").contains("no samples in this run"));
    assert!(read(&dir, "stale.svg").contains("no samples in this run"));
    assert!(read(&dir, "discovery_cdf.svg").contains("no sessions in this run"));
    assert!(read(&dir, "lookup_cdf.svg").contains("no lookups in this run"));
    let html = read(&dir, INDEX);
    assert!(html.contains(
        "<tr><td>first bootstrap</td><td>0</td><td>-</td><td>-</td><td>-</td><td>-</td></tr>"
    ));
    assert!(html.contains("<tr><td>lookups Ok rate</td><td>-</td></tr>"));
    fs::remove_dir_all(out_dir("empty")).unwrap();
}

#[test]
fn one_node_with_all_values_missing_does_not_panic() {
    let dir = out_dir("one");
    let mut report = empty_report("one");
    report.nodes = vec![node(0, 0, None, [None, None, None])];
    report.network_samples = vec![network_sample(0, 1, None, None)];
    let written = write_report(&report, &dir).unwrap();
    check_files(&dir, &written, &TITLES);
    assert!(read(&dir, "live_recall.svg").contains("no recall values"));
    assert!(read(&dir, "stale.svg").contains("no stale-fraction values"));
    assert!(read(&dir, "discovery_cdf.svg").contains("no session got there"));
    assert!(read(&dir, "lookup_cdf.svg").contains("no lookups in this run"));

    // A single sample with values, at time 0, is drawn as a dot.
    report.network_samples = vec![network_sample(0, 1, Some(1.0), Some(0.0))];
    report.nodes[0].first_bootstrap = Some(BootstrapOutcome {
        at: Duration::ZERO,
        ok: false,
    });
    report.lookups = vec![lookup(0, 5, 5, false)];
    write_report(&report, &dir).unwrap();
    assert!(read(&dir, "live_recall.svg").contains("<circle"));
    assert!(!read(&dir, "lookup_cdf.svg").contains("no lookups"));
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn html_helpers_format_and_escape() {
    assert_eq!(secs(Some(ms(1_234))), "1.23");
    assert_eq!(secs(None), "-");
    assert_eq!(frac(Some(2.0 / 3.0)), "0.667");
    assert_eq!(frac(None), "-");
    assert_eq!(escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;");
}
