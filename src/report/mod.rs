//! Charts and an HTML page for a finished run, written next to its CSVs.
//!
//! [`write_report`] draws four SVG charts with `plotters` (SVG backend only,
//! no font files: text is emitted as SVG `<text>` and rendered by the
//! viewer) and an `index.html` that shows the summary, embeds the charts and
//! links to the CSV files of [`RunReport::write_csv`]. The output depends on
//! the report only: the same report gives byte-identical files.

pub(crate) mod cdf;
pub(crate) mod draw;
mod html;
#[cfg(test)]
mod tests;
mod time;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::csvfile::write_atomic;
use crate::metrics::RunReport;

/// File names of the charts, with what they show (the `alt` text of the
/// page), in the order [`write_report`] writes them.
pub const CHARTS: [(&str, &str); 4] = [
    (
        "live_recall.svg",
        "live nodes and mean routing-table recall over virtual time",
    ),
    (
        "discovery_cdf.svg",
        "CDF of first bootstrap, recall and visibility times after join",
    ),
    ("lookup_cdf.svg", "CDF of lookup durations"),
    (
        "stale.svg",
        "mean stale fraction of the routing tables over virtual time",
    ),
];

/// File name of the HTML page.
pub const INDEX: &str = "index.html";

/// Writes into `dir` (created if needed) the charts of `report`:
///
/// * `live_recall.svg`: live nodes (left axis) and mean routing-table recall
///   (right axis, 0..1) over virtual time in minutes;
/// * `discovery_cdf.svg`: CDFs over all sessions of the times after join of
///   the first bootstrap, recall 50/90/100 % and visibility;
/// * `lookup_cdf.svg`: CDF of lookup durations;
/// * `stale.svg`: mean stale fraction over virtual time;
///
/// and `index.html`, a self-contained page with the scenario, the seed, the
/// summary table, the charts and links to the CSV files. Charts without data
/// are drawn as empty axes with a note. Every file is written under a
/// temporary name and renamed, so a file that exists is complete. Returns
/// the paths written, charts first, in the order above.
pub fn write_report(report: &RunReport, dir: &Path) -> io::Result<Vec<PathBuf>> {
    fs::create_dir_all(dir)?;
    let drawn = [
        time::live_recall(report),
        cdf::discovery_cdf(report),
        cdf::lookup_cdf(report),
        time::stale(report),
    ];
    let mut files = Vec::new();
    for ((name, _), svg) in CHARTS.iter().zip(drawn) {
        let svg = svg.map_err(|e| io::Error::other(format!("drawing {name}: {e}")))?;
        files.push((*name, svg));
    }
    files.push((INDEX, html::page(report, &CHARTS)));
    files
        .into_iter()
        .map(|(name, body)| {
            let path = dir.join(name);
            write_atomic(&path, &body)?;
            Ok(path)
        })
        .collect()
}
