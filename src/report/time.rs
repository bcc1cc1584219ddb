//! Charts over virtual time: live nodes and recall, stale entries.

use std::time::Duration;

use plotters::prelude::*;

use super::draw::{GREY, PALETTE, Res, centre_note, draw_segments, frame, line, svg};
use crate::metrics::RunReport;

/// Splits a series with missing values into runs of present values.
fn segments<Y: Copy>(points: impl IntoIterator<Item = (f64, Option<Y>)>) -> Vec<Vec<(f64, Y)>> {
    let mut out: Vec<Vec<(f64, Y)>> = Vec::new();
    let mut run = Vec::new();
    for (x, y) in points {
        match y {
            Some(y) => run.push((x, y)),
            None if !run.is_empty() => out.push(std::mem::take(&mut run)),
            None => {}
        }
    }
    if !run.is_empty() {
        out.push(run);
    }
    out
}

fn minutes(d: Duration) -> f64 {
    d.as_secs_f64() / 60.0
}

/// Right end of the time axis, in minutes: the run's virtual time or the
/// last sample, whichever is later; 1 when both are 0.
fn time_end(report: &RunReport) -> f64 {
    let last = report
        .network_samples
        .last()
        .map_or(Duration::ZERO, |s| s.time);
    let end = minutes(last.max(report.virtual_time));
    if end > 0.0 { end } else { 1.0 }
}

/// Live nodes (left axis) and mean routing-table recall (right axis) over
/// virtual time.
pub(super) fn live_recall(report: &RunReport) -> Res<String> {
    let samples = &report.network_samples;
    let x_end = time_end(report);
    let live = segments(
        samples
            .iter()
            .map(|s| (minutes(s.time), Some(s.live as u64))),
    );
    let recall = segments(samples.iter().map(|s| (minutes(s.time), s.recall_mean)));
    let live_max = samples.iter().map(|s| s.live as u64).max().unwrap_or(0);
    let y_end = (live_max + live_max / 10 + 1).max(2);
    let note = if samples.is_empty() {
        Some("no samples in this run")
    } else if recall.is_empty() {
        Some("no recall values (no node had peers to find)")
    } else {
        None
    };
    svg(|root| {
        let area = frame(
            root,
            "Live nodes and routing-table recall",
            "left axis: live nodes; right axis: mean recall of the routing tables \
             against each node's true k closest live peers (0..1)",
        )?;
        let mut chart = ChartBuilder::on(&area)
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .right_y_label_area_size(64)
            .build_cartesian_2d(0f64..x_end, 0u64..y_end)?
            .set_secondary_coord(0f64..x_end, 0f64..1f64);
        chart
            .configure_mesh()
            .x_desc("virtual time (min)")
            .y_desc("live nodes")
            .draw()?;
        chart
            .configure_secondary_axes()
            .y_desc("mean routing-table recall")
            .draw()?;
        draw_segments!(
            chart.draw_series,
            (f64, u64),
            live,
            line(PALETTE[0]),
            "live nodes"
        );
        draw_segments!(
            chart.draw_secondary_series,
            (f64, f64),
            recall,
            line(PALETTE[1]),
            "mean routing-table recall"
        );
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

/// Mean stale fraction of the routing tables over virtual time.
pub(super) fn stale(report: &RunReport) -> Res<String> {
    let samples = &report.network_samples;
    let x_end = time_end(report);
    let stale = segments(
        samples
            .iter()
            .map(|s| (minutes(s.time), s.stale_fraction_mean)),
    );
    let max = stale.iter().flatten().map(|p| p.1).fold(0.0, f64::max);
    let y_end = (max * 1.2).clamp(0.05, 1.0);
    let note = if samples.is_empty() {
        Some("no samples in this run")
    } else if stale.is_empty() {
        Some("no stale-fraction values (no routing table had entries)")
    } else {
        None
    };
    svg(|root| {
        let area = frame(
            root,
            "Stale routing-table entries",
            "mean over nodes with entries of (entries whose peer is not live) / entries",
        )?;
        let mut chart = ChartBuilder::on(&area)
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(0f64..x_end, 0f64..y_end)?;
        chart
            .configure_mesh()
            .x_desc("virtual time (min)")
            .y_desc("mean stale fraction")
            .draw()?;
        draw_segments!(
            chart.draw_series,
            (f64, f64),
            stale,
            line(PALETTE[3]),
            "mean stale fraction"
        );
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(GREY)
            .draw()?;
        if let Some(note) = note {
            centre_note(chart.plotting_area(), note)?;
        }
        Ok(())
    })
}
