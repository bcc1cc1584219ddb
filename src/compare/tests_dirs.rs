//! Tests of [`compare_dirs`] and [`Comparison::write`] end to end, on
//! result directories of hand-written CSV files: values, percentiles, KS
//! statistics, the table, `compare.csv`, the charts, and the errors.

use std::fs;
use std::path::{Path, PathBuf};

use super::*;

/// A fresh directory under the system's temporary directory.
fn temp(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("libp2p-sim-compare-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("creating a temporary directory");
    dir
}

fn write_files(dir: &Path, files: &[(&str, &str)]) {
    fs::create_dir_all(dir).expect("creating a run directory");
    for (name, body) in files {
        fs::write(dir.join(name), body).expect("writing a CSV file");
    }
}

/// Run A: the columns in the order `sim run` writes them.
const RUN_A: [(&str, &str); 4] = [
    (
        "discovery.csv",
        "node,peer_id,join_ms,left_ms,first_bootstrap_ms,first_bootstrap_ok,\
         recall50_ms,recall90_ms,recall100_ms,visible_ms,rt_entries_end,rt_buckets_end,connected_peers_end\n\
         0,p0,0,,5000,true,100,200,,50,5,1,3\n\
         1,p1,1000,,3000,true,0,400,,60,5,1,3\n\
         2,p2,2000,9000,,,200,600,,70,5,1,3\n\
         3,p3,100000,,1000,false,300,800,,,5,1,3\n",
    ),
    (
        "lookups.csv",
        "start_ms,node,key,duration_ms,ok,peers,recall,requests,successes,failures\n\
         10,1,k1,1000,true,20,1.0000,21,21,0\n\
         20,2,k2,2000,true,20,0.9000,21,21,0\n\
         30,0,k3,3000,false,20,,21,21,0\n",
    ),
    (
        "routing_table.csv",
        "time_ms,node,entries,nonempty_buckets,stale_entries,kclosest_recall,connected_peers\n\
         30000,0,3,1,0,0.5000,2\n\
         30000,1,3,1,0,1.0000,2\n\
         60000,0,4,1,0,0.7500,2\n\
         60000,1,6,1,0,1.0000,2\n\
         60000,2,2,1,0,,1\n",
    ),
    (
        "network.csv",
        "time_ms,live_nodes,joins,departures,connections_open,bytes,messages,recall_mean,recall_p10,stale_fraction_mean\n\
         30000,2,2,0,1,100,10,0.7500,0.5000,0.0000\n\
         60000,3,1,0,3,100,10,0.8750,0.7500,0.0000\n",
    ),
];

/// Run B: columns reordered, extra columns, CRLF line ends, no lookups.
const RUN_B: [(&str, &str); 4] = [
    (
        "discovery.csv",
        "node,join_ms,peer_id,zone,visible_ms,recall100_ms,recall90_ms,recall50_ms,\
         first_bootstrap_ok,first_bootstrap_ms,left_ms,rt_entries_end,rt_buckets_end,connected_peers_end\r\n\
         0,0,q0,eu,55,,250,150,true,6000,,4,1,2\r\n\
         1,500,q1,us,65,,450,50,true,2000,,4,1,2\r\n",
    ),
    (
        "lookups.csv",
        "start_ms,node,key,duration_ms,ok,peers,recall,requests,successes,failures\n",
    ),
    (
        "routing_table.csv",
        "run,node,time_ms,kclosest_recall,entries,nonempty_buckets,stale_entries,connected_peers\n\
         x,0,60000,1.0000,5,1,0,2\n\
         x,1,60000,0.5000,5,1,0,2\n\
         x,0,90000,1.0000,8,1,0,2\n",
    ),
    (
        "network.csv",
        "recall_mean,time_ms,live_nodes,joins,departures,connections_open,bytes,messages,recall_p10,stale_fraction_mean,extra\n\
         0.9000,30000,2,2,0,1,100,10,0.9,0.0,a\n\
         0.9500,60000,2,0,0,1,100,10,0.9,0.0,b\n\
         0.9000,90000,1,0,1,1,100,10,0.9,0.0,c\n",
    ),
];

fn two_runs(name: &str) -> (PathBuf, PathBuf, PathBuf) {
    let root = temp(name);
    let (a, b) = (root.join("run-a/seed-1"), root.join("run-b/seed-1"));
    write_files(&a, &RUN_A);
    write_files(&b, &RUN_B);
    (root, a, b)
}

fn row<'a>(c: &'a Comparison, metric: &str) -> &'a MetricRow {
    c.row(metric).unwrap_or_else(|| panic!("no row {metric}"))
}

#[test]
fn compares_two_hand_written_runs() {
    let (root, a, b) = two_runs("e2e");
    let c = compare_dirs(&a, &b).expect("both runs read");
    assert_eq!(
        (c.a.label.as_str(), c.b.label.as_str()),
        ("run-a/seed-1", "run-b/seed-1")
    );

    // Bootstrap times are already after join (node 3 joined at 100 s and
    // took 1 s): A = 1000 3000 5000, B = 2000 6000.
    let r = row(&c, "first_bootstrap_after_join");
    assert_eq!(r.unit, Unit::Ms);
    assert_eq!(
        (r.a.count(), r.a.median(), r.a.p90()),
        (3, Some(3000.0), Some(5000.0))
    );
    assert_eq!(
        (r.b.count(), r.b.median(), r.b.p90()),
        (2, Some(2000.0), Some(6000.0))
    );
    assert_eq!(r.median_ratio(), Some(2000.0 / 3000.0));
    // F_A - F_B at 1000, 2000, 3000, 5000: 1/3, -1/6, 1/6, 1/2.
    let ks = r.ks().expect("both sides have values");
    assert_eq!(ks.d, 0.5);
    assert!((ks.p - 0.9251).abs() < 1e-3, "p = {}", ks.p);

    // recall50: A = 0 100 200 300, B = 50 150: D at x = 150 is 1/2 - 1.
    let r = row(&c, "recall50_after_join");
    assert_eq!((r.a.median(), r.b.median()), (Some(100.0), Some(50.0)));
    assert_eq!(r.ks().map(|k| k.d), Some(0.5));
    // Nobody reached recall 100 %: no values, no test, no panic.
    let r = row(&c, "recall100_after_join");
    assert_eq!((r.a.count(), r.b.count(), r.ks()), (0, 0, None));
    assert_eq!(
        row(&c, "visible_after_join").a.sorted(),
        &[50.0, 60.0, 70.0]
    );

    // Lookups: B has none.
    let r = row(&c, "lookup_duration");
    assert_eq!(
        (r.a.count(), r.a.median(), r.b.count()),
        (3, Some(2000.0), 0)
    );
    assert_eq!((r.median_ratio(), r.ks()), (None, None));
    assert_eq!(row(&c, "lookup_recall").a.sorted(), &[0.9, 1.0]);

    // Routing tables at the last sample only; a node alone has no recall.
    assert_eq!(row(&c, "rt_recall_final").a.sorted(), &[0.75, 1.0]);
    assert_eq!(row(&c, "rt_recall_final").b.sorted(), &[1.0]);
    let r = row(&c, "rt_entries_final");
    assert_eq!(
        (r.a.median(), r.a.p90(), r.b.sorted()),
        (Some(4.0), Some(6.0), &[8.0][..])
    );
    assert_eq!(row(&c, "recall_mean_samples").b.count(), 3);

    // Final recall: last network.csv row of each.
    assert_eq!(
        (c.a.final_recall, c.b.final_recall),
        (Some(0.875), Some(0.9))
    );
    assert!((c.final_recall_diff().unwrap() - 0.025).abs() < 1e-12);
    assert_eq!(c.final_recall_within(FINAL_RECALL_TOLERANCE), Some(true));
    assert_eq!(c.final_recall_within(0.01), Some(false));
    // Exactly the tolerance apart counts, despite 0.90 - 0.85 > 0.05 in f64.
    let mut edge = c.clone();
    (edge.a.final_recall, edge.b.final_recall) = (Some(0.85), Some(0.90));
    assert_eq!(edge.final_recall_within(0.05), Some(true));
    edge.b.final_recall = Some(0.9001);
    assert_eq!(edge.final_recall_within(0.05), Some(false));

    let table = c.to_table();
    assert!(
        table.contains("final recall  A 0.8750  B 0.9000  B - A +0.0250 (within 0.05: yes)"),
        "{table}"
    );
    let lookup_line = table
        .lines()
        .find(|l| l.starts_with("lookup_duration"))
        .expect("a lookup line");
    assert_eq!(
        lookup_line.split_whitespace().collect::<Vec<_>>(),
        [
            "lookup_duration",
            "ms",
            "3",
            "2000",
            "3000",
            "0",
            "-",
            "-",
            "-",
            "-",
            "-"
        ]
    );

    let out = root.join("out");
    let written = c.write(&out).expect("writing the comparison");
    let expected: Vec<PathBuf> = [
        "compare.csv",
        "compare_first_bootstrap_after_join.svg",
        "compare_recall50_after_join.svg",
        "compare_recall90_after_join.svg",
        "compare_visible_after_join.svg",
        "compare_lookup_duration.svg",
    ]
    .iter()
    .map(|f| out.join(f))
    .collect();
    assert_eq!(written, expected);

    let csv = fs::read_to_string(out.join("compare.csv")).expect("compare.csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "metric,unit,count_a,median_a,p90_a,count_b,median_b,p90_b,median_ratio,ks_d,ks_p"
    );
    assert_eq!(lines.len(), 1 + c.rows.len() + 1);
    assert!(
        lines.contains(
            &"first_bootstrap_after_join,ms,3,3000,5000,2,2000,6000,0.6667,0.5000,0.9251"
        ),
        "{csv}"
    );
    assert!(
        lines.contains(&"lookup_duration,ms,3,2000,3000,0,,,,,"),
        "{csv}"
    );
    assert!(
        lines.contains(&"recall100_after_join,ms,0,,,0,,,,,"),
        "{csv}"
    );
    assert_eq!(
        lines.last(),
        Some(&"recall_final,fraction,1,0.8750,0.8750,1,0.9000,0.9000,1.0286,,")
    );

    let svg = fs::read_to_string(out.join("compare_first_bootstrap_after_join.svg")).expect("svg");
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    for text in [
        "A: run-a/seed-1 (n = 3)",
        "B: run-b/seed-1 (n = 2)",
        "seconds after join",
        "D = 0.500",
    ] {
        assert!(svg.contains(text), "chart lacks {text:?}");
    }
    let svg = fs::read_to_string(out.join("compare_lookup_duration.svg")).expect("svg");
    assert!(svg.contains("B: run-b/seed-1 (n = 0)") && svg.contains("one run has none"));

    // The same comparison writes the same bytes.
    let again = compare_dirs(&a, &b).expect("both runs read");
    assert_eq!(again, c);
    let out2 = root.join("out2");
    again.write(&out2).expect("writing again");
    for path in &written {
        let name = path.file_name().expect("a file name");
        assert_eq!(
            fs::read(path).ok(),
            fs::read(out2.join(name)).ok(),
            "{name:?} differs"
        );
    }
    let _ = fs::remove_dir_all(&root);
}

#[test]
fn errors_name_the_file_line_and_column() {
    let (root, a, b) = two_runs("errors");
    let missing = root.join("nowhere");
    let err = compare_dirs(&missing, &b).expect_err("no such directory");
    assert!(
        matches!(&err, CompareError::Read { path, .. } if path == &missing.join("discovery.csv"))
    );
    assert!(err.to_string().starts_with(&format!(
        "{}: cannot read",
        missing.join("discovery.csv").display()
    )));

    let net = b.join("network.csv");
    fs::write(&net, "time_ms,live_nodes\n30000,2\n").expect("writing");
    let err = compare_dirs(&a, &b).expect_err("no recall_mean column");
    assert_eq!(
        err.to_string(),
        format!("{}:1: missing column `recall_mean`", net.display())
    );

    let disc = a.join("discovery.csv");
    let body = RUN_A[0]
        .1
        .replace("1,p1,1000,,3000,true,0,", "1,p1,1000,,3000,true,abc,");
    fs::write(&disc, body).expect("writing");
    let err = compare_dirs(&a, &b).expect_err("a bad number");
    assert_eq!(
        err.to_string(),
        format!(
            "{}:3: column `recall50_ms`: `abc` is not a number",
            disc.display()
        )
    );

    fs::write(&disc, "node,join_ms\n0,0\n\n1,5,7\n").expect("writing");
    let err = compare_dirs(&a, &b).expect_err("a short line");
    assert_eq!(
        err.to_string(),
        format!("{}:4: 3 fields, the header has 2", disc.display())
    );

    fs::write(&disc, "\n").expect("writing");
    let err = compare_dirs(&a, &b).expect_err("an empty file");
    assert!(matches!(err, CompareError::NoHeader { .. }), "{err}");
    let _ = fs::remove_dir_all(&root);
}

#[test]
fn run_without_samples_compares_without_panic() {
    let root = temp("empty");
    let (a, b) = (root.join("a"), root.join("b"));
    let headers: Vec<(&str, String)> = RUN_A
        .iter()
        .map(|(name, body)| {
            (
                *name,
                format!("{}\n", body.lines().next().unwrap_or_default()),
            )
        })
        .collect();
    let headers: Vec<(&str, &str)> = headers.iter().map(|(n, b)| (*n, b.as_str())).collect();
    write_files(&a, &headers);
    write_files(&b, &RUN_A);
    let c = compare_dirs(&a, &b).expect("both runs read");
    assert!(c.rows.iter().all(|r| r.a.count() == 0 && r.ks().is_none()));
    assert_eq!(
        (c.a.final_recall, c.final_recall_within(0.05)),
        (None, None)
    );
    assert!(
        c.to_table()
            .contains("final recall  A -  B 0.8750  B - A - (within 0.05: -)")
    );
    let written = c.write(&root.join("out")).expect("writing");
    // compare.csv and the charts of the metrics B has values for.
    assert_eq!(written.len(), 1 + 5);
    let _ = fs::remove_dir_all(&root);
}
