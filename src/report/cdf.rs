//! Empirical CDFs: discovery times after join, lookup durations.

use std::time::Duration;

use plotters::prelude::*;

use super::draw::{GREY, PALETTE, Res, STROKE, centre_note, draw_segments, frame, svg};
use crate::metrics::summary::level_name;
use crate::metrics::{LookupRecord, NodeRecord, RECALL_LEVELS, RunReport};

/// Empirical CDF of `values` over `total` items: one point per distinct
/// finite value, in increasing order, `(x, fraction of the total whose value
/// is <= x)`. Items without a value belong to `total` but not to `values`,
/// so the last fraction is below 1 when some never got a value. The
/// denominator is `max(total, number of finite values)`; empty when it is 0.
pub(crate) fn ecdf(values: &[f64], total: usize) -> Vec<(f64, f64)> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    let denominator = total.max(sorted.len()) as f64;
    let mut points: Vec<(f64, f64)> = Vec::new();
    for (i, &x) in sorted.iter().enumerate() {
        let y = (i + 1) as f64 / denominator;
        match points.last_mut() {
            Some(last) if last.0 == x => last.1 = y,
            _ => points.push((x, y)),
        }
    }
    points
}

/// The staircase that draws `cdf` from `(x_start, 0)` to `x_end`; values
/// below `x_start` are drawn at `x_start`.
pub(crate) fn steps(cdf: &[(f64, f64)], x_start: f64, x_end: f64) -> Vec<(f64, f64)> {
    let mut path = vec![(x_start, 0.0)];
    let mut y = 0.0;
    for &(x, next) in cdf {
        let x = x.max(x_start);
        path.push((x, y));
        path.push((x, next));
        y = next;
    }
    path.push((x_end, y));
    path
}

/// Ends of a log-scaled seconds axis that shows `values`: from the largest
/// power of ten at or below the smallest positive value (at least 1 ms;
/// 0.1 s when there is none) to 1.5 times the largest value (at least a
/// decade).
pub(crate) fn log_axis(values: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let positive = values.clone().filter(|v| *v > 0.0);
    let start = match positive.fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.min(v)))) {
        Some(min) => 10f64.powi(min.log10().floor().max(-3.0) as i32),
        None => 0.1,
    };
    let max = values.fold(0.0, f64::max);
    (start, (max * 1.5).max(start * 10.0))
}

/// A tick label in seconds: no trailing zeros, at most 3 decimals.
pub(crate) fn tick(v: &f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn seconds(values: impl Iterator<Item = Duration>) -> Vec<f64> {
    values.map(|d| d.as_secs_f64()).collect()
}

/// One curve of a CDF chart.
struct Curve {
    label: String,
    /// Values in seconds.
    values: Vec<f64>,
    /// Line width: wider for a curve another one may hide.
    width: u32,
}

impl Curve {
    fn new(label: impl Into<String>, values: Vec<f64>) -> Curve {
        Curve {
            label: label.into(),
            values,
            width: STROKE,
        }
    }
}

/// The texts of a CDF chart.
struct CdfText<'a> {
    title: &'a str,
    subtitle: &'a str,
    x_desc: &'a str,
    /// Note when there is nothing to count.
    empty: &'a str,
    /// Note when there are items but none has a value.
    no_values: &'a str,
}

/// CDFs of the discovery latencies after join, over all sessions.
pub(super) fn discovery_cdf(report: &RunReport) -> Res<String> {
    let nodes = &report.nodes;
    let of = |f: &dyn Fn(&NodeRecord) -> Option<Duration>| seconds(nodes.iter().filter_map(f));
    let mut curves = vec![Curve::new(
        "first bootstrap",
        of(&NodeRecord::bootstrap_latency),
    )];
    for i in 0..RECALL_LEVELS.len() {
        let label = format!("recall {} %", level_name(i));
        curves.push(Curve::new(label, of(&|r| r.recall_latency(i))));
    }
    curves.push(Curve::new(
        "visible to half its k closest",
        of(&NodeRecord::visible_latency),
    ));
    let title = format!(
        "Discovery after join: CDF over all {} sessions",
        nodes.len()
    );
    let text = CdfText {
        title: &title,
        subtitle: "y = fraction of all sessions that got there within x; \
                   a curve that stays below 1 shows sessions that never got there",
        x_desc: "seconds after join (log scale)",
        empty: "no sessions in this run",
        no_values: "no session got there during the run",
    };
    cdf_chart(&text, &curves, nodes.len())
}

/// CDF of lookup durations, over all finished lookups.
pub(super) fn lookup_cdf(report: &RunReport) -> Res<String> {
    let lookups = &report.lookups;
    let duration = |l: &LookupRecord| l.outcome.finished.saturating_sub(l.outcome.started);
    let mut all = Curve::new(
        "all finished lookups",
        seconds(lookups.iter().map(duration)),
    );
    // The Ok curve is drawn over it and often hides it: make it show around.
    all.width = STROKE + 3;
    let ok = seconds(lookups.iter().filter(|l| l.outcome.ok).map(duration));
    let curves = [all, Curve::new("lookups that reported Ok", ok)];
    let title = format!(
        "Lookup duration: CDF over all {} finished lookups",
        lookups.len()
    );
    let subtitle = format!(
        "the Ok curve ends at the share of lookups that reported Ok; \
         {} lookups abandoned by a departing node are not counted",
        report.lookups_abandoned
    );
    let text = CdfText {
        title: &title,
        subtitle: &subtitle,
        x_desc: "lookup duration, seconds (log scale)",
        empty: "no lookups in this run",
        no_values: "no lookups in this run",
    };
    cdf_chart(&text, &curves, lookups.len())
}

/// Draws the CDFs of `curves` over `total` items on a log-scaled x axis,
/// or a note on empty axes when there is nothing to draw.
fn cdf_chart(text: &CdfText<'_>, curves: &[Curve], total: usize) -> Res<String> {
    let cdfs: Vec<Vec<(f64, f64)>> = curves.iter().map(|c| ecdf(&c.values, total)).collect();
    let (x_start, x_end) = log_axis(cdfs.iter().flatten().map(|p| p.0));
    let note = if total == 0 {
        Some(text.empty)
    } else if cdfs.iter().all(Vec::is_empty) {
        Some(text.no_values)
    } else {
        None
    };
    svg(|root| {
        let area = frame(root, text.title, text.subtitle)?;
        let mut chart = ChartBuilder::on(&area)
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(64)
            // Just below `x_start`, so that rounding in `plotters` does not
            // drop the tick at `x_start`.
            .build_cartesian_2d((x_start * 0.999..x_end).log_scale(), 0f64..1f64)?;
        chart
            .configure_mesh()
            .x_desc(text.x_desc)
            .x_label_formatter(&tick)
            .y_desc("fraction of all")
            .draw()?;
        for (i, (curve, cdf)) in curves.iter().zip(&cdfs).enumerate() {
            let runs = if total == 0 {
                Vec::new()
            } else {
                vec![steps(cdf, x_start, x_end)]
            };
            let style = PALETTE[i % PALETTE.len()].stroke_width(curve.width);
            draw_segments!(
                chart.draw_series,
                (f64, f64),
                runs,
                style,
                curve.label.as_str()
            );
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(GREY)
            .draw()?;
        if let Some(note) = note {
            centre_note(chart.plotting_area(), note)?;
        }
        Ok(())
    })
}
