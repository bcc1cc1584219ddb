//! `index.html`: one self-contained page (inline CSS, no script, no
//! external resource) with the summary table, the charts and links to the
//! CSV files.

use std::time::Duration;

use crate::metrics::summary::{Spread, level_name};
use crate::metrics::{RECALL_LEVELS, RunReport};

/// The CSV files of a run, linked from the page.
const CSV_FILES: [&str; 5] = [
    "discovery.csv",
    "routing_table.csv",
    "network.csv",
    "lookups.csv",
    "summary.csv",
];

const STYLE: &str = "body{font-family:sans-serif;margin:2em;color:#222;max-width:960px}\
table{border-collapse:collapse;margin:1em 0}\
th,td{border:1px solid #ccc;padding:4px 10px;text-align:right}\
th:first-child,td:first-child{text-align:left}\
th{background:#f3f3f3}\
img{display:block;max-width:100%;margin:1em 0;border:1px solid #eee}\
.note{color:#666;font-size:90%}";

/// Escapes text for HTML element content and attribute values.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Seconds with 2 decimals, `-` when missing.
pub(super) fn secs(d: Option<Duration>) -> String {
    d.map_or_else(|| "-".to_string(), |d| format!("{:.2}", d.as_secs_f64()))
}

/// A fraction with 3 decimals, `-` when missing.
pub(super) fn frac(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_string(), |x| format!("{x:.3}"))
}

/// The page for `report`, embedding the SVG files named in `charts`
/// (file name, alternative text).
pub(super) fn page(report: &RunReport, charts: &[(&str, &str)]) -> String {
    let s = report.summary();
    let name = escape(&report.scenario);
    let mut out = String::new();
    let mut w = |text: String| out.push_str(&text);
    w(format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{name}, seed {seed}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>{name}</h1>\n<p>Scenario <b>{name}</b>, seed <b>{seed}</b>, \
         {vt} s of virtual time.</p>\n",
        seed = report.seed,
        vt = secs(Some(report.virtual_time)),
    ));

    w("<h2>Summary</h2>\n<table>\n<tr><th>figure</th><th>value</th></tr>\n".into());
    let counts = [
        ("sessions (joins)", s.joins.to_string()),
        ("live at the end", s.live_end.to_string()),
        ("first bootstrap finished", s.bootstrap.count.to_string()),
        ("first bootstrap Ok", s.bootstrapped_ok.to_string()),
        (
            "departures (graceful)",
            report.departures.graceful.to_string(),
        ),
        ("crashes", report.departures.crashes.to_string()),
        ("lookups finished", s.lookup.count.to_string()),
        ("lookups abandoned", report.lookups_abandoned.to_string()),
        ("lookups Ok rate", frac(s.lookup_ok_rate)),
        ("lookup recall (mean)", frac(s.lookup_recall_mean)),
        ("routing-table recall, last sample", frac(s.recall_final)),
        (
            "routing-table recall, time average",
            frac(s.recall_time_avg),
        ),
        ("stale fraction, last sample", frac(s.stale_final)),
        ("stale fraction, time average", frac(s.stale_time_avg)),
        (
            "routing-table entries at the end (mean)",
            frac(Some(s.mean_entries_end)),
        ),
        (
            "connected peers at the end (mean)",
            frac(Some(s.mean_connected_end)),
        ),
    ];
    for (label, value) in counts {
        w(format!("<tr><td>{label}</td><td>{value}</td></tr>\n"));
    }
    w("</table>\n".into());

    w(
        "<h2>Latencies</h2>\n<p class=\"note\">Seconds; discovery times are \
       counted from the session's join, over the sessions that got there \
       (count); nearest-rank percentiles.</p>\n<table>\n<tr><th>event</th>\
       <th>count</th><th>p50</th><th>p90</th><th>p99</th><th>max</th></tr>\n"
            .into(),
    );
    let mut spreads: Vec<(String, &Spread)> = vec![("first bootstrap".into(), &s.bootstrap)];
    for i in 0..RECALL_LEVELS.len() {
        spreads.push((format!("recall {} %", level_name(i)), &s.recall_reached[i]));
    }
    spreads.push(("visible to half its k closest".into(), &s.visible));
    spreads.push(("lookup duration".into(), &s.lookup));
    for (label, sp) in spreads {
        w(format!(
            "<tr><td>{label}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            sp.count,
            secs(sp.p50),
            secs(sp.p90),
            secs(sp.p99),
            secs(sp.max),
        ));
    }
    w("</table>\n".into());

    w("<h2>Charts</h2>\n".into());
    for (file, alt) in charts {
        w(format!(
            "<img src=\"{}\" alt=\"{}\">\n",
            escape(file),
            escape(alt)
        ));
    }

    w("<h2>Data</h2>\n<ul>\n".into());
    for file in CSV_FILES {
        w(format!("<li><a href=\"{file}\">{file}</a></li>\n"));
    }
    w(
        "</ul>\n<p class=\"note\">Every column and its unit is described in \
       libp2p-sim's docs/outputs.md.</p>\n</body>\n</html>\n"
            .into(),
    );
    out
}
