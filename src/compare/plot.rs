//! Overlaid CDF charts of a latency metric of two runs.
//!
//! Drawn like the run charts (`report::cdf`): empirical CDFs as step lines
//! on a log-scaled seconds axis, with the same SVG scaffolding, so the
//! output depends on the comparison only.

use plotters::prelude::*;

use super::comparison::{Comparison, MetricRow};
use crate::report::cdf::{ecdf, log_axis, steps, tick};
use crate::report::draw::{GREY, PALETTE, Res, STROKE, centre_note, draw_segments, frame, svg};

/// File name of the chart of `row`: `compare_<metric>.svg`.
pub(super) fn file_name(row: &MetricRow) -> String {
    format!("compare_{}.svg", row.metric)
}

/// One side's curve.
struct Curve {
    label: String,
    /// Values in seconds, sorted.
    seconds: Vec<f64>,
    color: RGBColor,
    width: u32,
}

/// The CDFs of `row` (a metric in milliseconds) of both runs, over the
/// values each has: each curve rises to 1, so the largest vertical gap
/// between them is the Kolmogorov–Smirnov statistic `D`. A side without
/// values has a legend entry and no line.
pub(super) fn cdf_chart(c: &Comparison, row: &MetricRow) -> Res<String> {
    let curve = |name: &str, label: &str, values: &[f64], color, width| Curve {
        label: format!("{name}: {label} (n = {})", values.len()),
        seconds: values.iter().map(|ms| ms / 1000.0).collect(),
        color,
        width,
    };
    // A is drawn wider and first, so that it shows around B where the two
    // coincide (a run compared with itself).
    let curves = [
        curve("A", &c.a.label, row.a.sorted(), PALETTE[0], STROKE + 3),
        curve("B", &c.b.label, row.b.sorted(), PALETTE[1], STROKE),
    ];
    let cdfs: Vec<Vec<(f64, f64)>> = curves
        .iter()
        .map(|c| ecdf(&c.seconds, c.seconds.len()))
        .collect();
    let (x_start, x_end) = log_axis(cdfs.iter().flatten().map(|p| p.0));
    let after_join = row.metric.ends_with("_after_join");
    let title = if after_join {
        format!("{} after join: CDF, A vs B", row.description)
    } else {
        format!("{}: CDF, A vs B", row.description)
    };
    let subtitle = match row.ks() {
        Some(ks) => format!(
            "fraction of each run's values within x; Kolmogorov–Smirnov D = {:.3}, p = {}",
            ks.d,
            p_text(ks.p)
        ),
        None => "fraction of each run's values within x; one run has none".to_string(),
    };
    let x_desc = if after_join {
        "seconds after join (log scale)"
    } else {
        "seconds (log scale)"
    };
    svg(|root| {
        let area = frame(root, &title, &subtitle)?;
        let mut chart = ChartBuilder::on(&area)
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(64)
            // Just below `x_start`, as in `report::cdf`, so that rounding
            // in `plotters` keeps the tick at `x_start`.
            .build_cartesian_2d((x_start * 0.999..x_end).log_scale(), 0f64..1f64)?;
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .x_label_formatter(&tick)
            .y_desc("fraction of the run's values")
            .draw()?;
        for (curve, cdf) in curves.iter().zip(&cdfs) {
            let runs = if cdf.is_empty() {
                Vec::new()
            } else {
                vec![steps(cdf, x_start, x_end)]
            };
            let style = curve.color.stroke_width(curve.width);
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
        if cdfs.iter().all(Vec::is_empty) {
            centre_note(chart.plotting_area(), "no values in either run")?;
        }
        Ok(())
    })
}

/// A p-value for the subtitle.
fn p_text(p: f64) -> String {
    if p == 0.0 || p >= 1e-3 {
        format!("{p:.3}")
    } else {
        format!("{p:.1e}")
    }
}
