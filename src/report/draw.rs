//! Drawing scaffolding shared by the charts: the SVG document, the title
//! and explanation lines, notes on empty charts, series with gaps.
//!
//! Text is written as SVG `<text>` elements that the viewer renders with
//! its own fonts; `plotters` only estimates text extents for the layout
//! (its font-free "naive" estimator, used when neither `ttf` nor
//! `ab_glyph` is enabled), so no font file is read and the output is the
//! same on every machine.

use std::error::Error;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// What drawing a chart gives: a value or a `plotters` error.
pub(crate) type Res<T = ()> = Result<T, Box<dyn Error>>;
/// The whole SVG drawing area of a chart.
pub(crate) type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// Width and height of every chart, in pixels.
const SIZE: (u32, u32) = (900, 520);
const FONT: &str = "sans-serif";
/// Line width of a series.
pub(crate) const STROKE: u32 = 2;
/// Colours of the series, in order.
pub(crate) const PALETTE: [RGBColor; 5] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
];
/// Colour of the explanation line and of notes.
pub(crate) const GREY: RGBColor = RGBColor(110, 110, 110);

/// The style of a series line.
pub(super) fn line(color: RGBColor) -> ShapeStyle {
    color.stroke_width(STROKE)
}

/// Draws the chart `draw` makes into an SVG document.
pub(crate) fn svg(draw: impl FnOnce(&Area<'_>) -> Res) -> Res<String> {
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        draw(&root)?;
        root.present()?;
    }
    Ok(buf)
}

/// Writes the title and the explanation line; returns the area below.
pub(crate) fn frame<'a>(root: &Area<'a>, title: &str, subtitle: &str) -> Res<Area<'a>> {
    let area = root.titled(title, (FONT, 22))?;
    let (top, rest) = area.split_vertically(24);
    let width = top.dim_in_pixel().0 as i32;
    let style = TextStyle::from((FONT, 14))
        .color(&GREY)
        .pos(Pos::new(HPos::Center, VPos::Top));
    top.draw_text(subtitle, &style, (width / 2, 2))?;
    Ok(rest)
}

/// Writes `note` in the middle of the plotting area of a chart.
pub(crate) fn centre_note<CT: CoordTranslate>(
    area: &DrawingArea<SVGBackend<'_>, CT>,
    note: &str,
) -> Res {
    let area = area.strip_coord_spec();
    let (w, h) = area.dim_in_pixel();
    let style = TextStyle::from((FONT, 20))
        .color(&GREY)
        .pos(Pos::new(HPos::Center, VPos::Center));
    area.draw_text(note, &style, (w as i32 / 2, h as i32 / 2))?;
    Ok(())
}

/// Draws the runs `$segs` of points of type `$pt` in `$style` with
/// `$chart.$method` (`draw_series` or `draw_secondary_series`): first an
/// empty series that carries the legend entry (so the legend is there even
/// without data), then a line per run, or a dot for a run of one point.
macro_rules! draw_segments {
    ($chart:ident . $method:ident, $pt:ty, $segs:expr, $style:expr, $label:expr) => {{
        let style: ShapeStyle = $style;
        $chart
            .$method(LineSeries::new(Vec::<$pt>::new(), style))?
            .label($label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
        for seg in $segs {
            if seg.len() == 1 {
                let dot = Circle::new(seg[0], 3, style.color.filled());
                $chart.$method(std::iter::once(dot))?;
            } else {
                $chart.$method(LineSeries::new(seg, style))?;
            }
        }
    }};
}
pub(crate) use draw_segments;
