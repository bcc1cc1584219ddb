//! The helpers every part of validation uses: a positive duration, a finite
//! number in range, a workload's start and length within the run, and the
//! entries of a workload list with their indices and spans.

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use toml::Spanned;

use super::diagnose::quote_key;
use super::duration::{DurationValue, format_duration};
use super::error::{ScenarioError, Source};
use super::model::Region;
use super::raw::Entries;

/// A workload list as deserialised.
pub(crate) type RawList<T> = Option<Spanned<Vec<Spanned<T>>>>;

/// The tail of the message for a workload that starts too late.
pub(crate) const START: &str = "a workload must start before the run ends";

/// The entries of a list, each with its index and span.
pub(crate) fn entries<T>(raw: RawList<T>) -> impl Iterator<Item = (usize, Range<usize>, T)> {
    raw.map(Spanned::into_inner)
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(index, entry)| (index, entry.span(), entry.into_inner()))
}

/// A duration that must be greater than zero.
pub(crate) fn positive_duration(
    value: &Spanned<DurationValue>,
    key: &str,
    source: &Source<'_>,
) -> Result<Duration, ScenarioError> {
    let d = value.get_ref().0;
    if d.is_zero() {
        return Err(source.error(
            Some(value.span()),
            Some(key.to_owned()),
            "must be greater than 0s",
        ));
    }
    Ok(d)
}

/// A number written in the file: finite (TOML allows `nan` and `inf`) and
/// accepted by `ok`; `allowed` says what is allowed, e.g. "a fraction in [0, 1]".
pub(crate) fn number(
    value: &Spanned<f64>,
    key: &str,
    allowed: &str,
    ok: impl Fn(f64) -> bool,
    source: &Source<'_>,
) -> Result<f64, ScenarioError> {
    let x = *value.get_ref();
    if !(x.is_finite() && ok(x)) {
        // Spell the non-finite values as TOML does.
        let found = if x.is_nan() {
            "nan".to_owned()
        } else if x.is_infinite() {
            if x > 0.0 { "inf" } else { "-inf" }.to_owned()
        } else {
            x.to_string()
        };
        return Err(source.error(
            Some(value.span()),
            Some(key.to_owned()),
            format!("must be {allowed}, found {found}"),
        ));
    }
    Ok(x)
}

/// The start of a workload or event, `at` (default 0s): before the end of the
/// run. `what` ends the message, e.g. "a workload must start before the run ends".
pub(crate) fn check_at(
    at: Option<&Spanned<DurationValue>>,
    duration: Duration,
    what: &str,
    key: &str,
    source: &Source<'_>,
) -> Result<Duration, ScenarioError> {
    let Some(at) = at else {
        return Ok(Duration::ZERO);
    };
    let value = at.get_ref().0;
    if value >= duration {
        let message = format!(
            "{} is not before the end of the scenario (duration = {}); {what}",
            format_duration(value),
            format_duration(duration)
        );
        return Err(source.error(Some(at.span()), Some(key.to_owned()), message));
    }
    Ok(value)
}

/// What a workload's length is when its key is absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LengthDefault {
    /// `over` of `[[join]]`: 0s, everything at `at`; a written 0s is allowed.
    Zero,
    /// `for` of `[[churn]]` and `[[lookups]]`: until the end of the run; a
    /// written length must be `> 0`.
    UntilEnd,
}

/// The length of a workload starting at `at` (already checked to be before the
/// end), written under `name` (`over` or `for`): it must not run past the end
/// of the run. `key` spells the path of a field of this entry.
pub(crate) fn check_length(
    at: Duration,
    length: Option<&Spanned<DurationValue>>,
    name: &str,
    default: LengthDefault,
    duration: Duration,
    key: &dyn Fn(&str) -> String,
    source: &Source<'_>,
) -> Result<Duration, ScenarioError> {
    let Some(length) = length else {
        return Ok(match default {
            LengthDefault::Zero => Duration::ZERO,
            LengthDefault::UntilEnd => duration - at,
        });
    };
    let value = match default {
        LengthDefault::Zero => length.get_ref().0,
        LengthDefault::UntilEnd => positive_duration(length, &key(name), source)?,
    };
    let end = at.checked_add(value);
    if end.is_none_or(|end| end > duration) {
        let end = end.map_or_else(|| "beyond any time".to_owned(), format_duration);
        let message = format!(
            "the workload would end at {end} (at = {} plus {name} = {}), after the end of \
             the scenario (duration = {}); at + {name} must be at most the duration",
            format_duration(at),
            format_duration(value),
            format_duration(duration)
        );
        return Err(source.error(Some(length.span()), Some(key(name)), message));
    }
    Ok(value)
}

/// The list of known regions for messages: `eu, us, asia`.
pub(crate) fn known_regions(regions: &[Region]) -> String {
    let names: Vec<&str> = regions.iter().map(|region| region.name.as_str()).collect();
    names.join(", ")
}

/// The span of each row of a matrix between regions, by region index.
pub(crate) type RowSpans = BTreeMap<usize, Range<usize>>;

/// One cell of a matrix between regions, as written.
pub(crate) struct MatrixCell<V> {
    /// The two regions' indices, lower first.
    pub pair: (usize, usize),
    pub key_span: Range<usize>,
    /// Its key path, e.g. `network.latency_matrix.eu.us`.
    pub path: String,
    pub value: V,
}

/// The cells of the matrix between regions at `table` (e.g.
/// `network.latency_matrix`) of `what` (e.g. `latency`), in file order,
/// each unordered pair of regions at most once; and the span of each row
/// by region index. `complete` says whether every pair must be given (the
/// caller checks that), for the message about a pair given twice. Checks
/// rows, then cells, each in file order: unknown region names, then pairs
/// given twice.
pub(crate) fn matrix_cells<V>(
    matrix: Entries<Spanned<Entries<V>>>,
    regions: &[Region],
    (table, what, complete): (&str, &str, bool),
    source: &Source<'_>,
) -> Result<(Vec<MatrixCell<V>>, RowSpans), ScenarioError> {
    let index_of = |name: &str| regions.iter().position(|region| region.name == name);
    let unknown = |span: Range<usize>, path: String, name: &str| {
        let message = format!(
            "unknown region {name:?}; known regions: {} (from [[network.regions]])",
            known_regions(regions)
        );
        source.error(Some(span), Some(path), message)
    };
    let mut rows = matrix.0;
    rows.sort_by_key(|(key, _)| key.span().start);
    let mut row_spans = BTreeMap::new();
    let mut cells = Vec::new();
    for (row_key, row) in rows {
        let row_path = format!("{table}.{}", quote_key(row_key.get_ref()));
        let Some(row_index) = index_of(row_key.get_ref()) else {
            return Err(unknown(row_key.span(), row_path, row_key.get_ref()));
        };
        row_spans.insert(row_index, row.span());
        for (column_key, value) in row.into_inner().0 {
            let path = format!("{row_path}.{}", quote_key(column_key.get_ref()));
            let Some(column) = index_of(column_key.get_ref()) else {
                return Err(unknown(column_key.span(), path, column_key.get_ref()));
            };
            cells.push(MatrixCell {
                pair: (row_index.min(column), row_index.max(column)),
                key_span: column_key.span(),
                path,
                value,
            });
        }
    }
    cells.sort_by_key(|cell| cell.key_span.start);
    let mut first: BTreeMap<(usize, usize), &str> = BTreeMap::new();
    for cell in &cells {
        if let Some(first) = first.get(&cell.pair) {
            let message = format!(
                "{} is already given by {first}; give the {what} of each pair of regions \
                 {} (either way round)",
                pair_phrase(regions, cell.pair, what),
                if complete { "once" } else { "at most once" },
            );
            return Err(source.error(
                Some(cell.key_span.clone()),
                Some(cell.path.clone()),
                message,
            ));
        }
        first.insert(cell.pair, &cell.path);
    }
    Ok((cells, row_spans))
}

/// "the latency between regions `eu` and `us`" or "the loss within region
/// `eu`".
pub(crate) fn pair_phrase(regions: &[Region], (a, b): (usize, usize), what: &str) -> String {
    if a == b {
        format!("the {what} within region {:?}", regions[a].name)
    } else {
        format!(
            "the {what} between regions {:?} and {:?}",
            regions[a].name, regions[b].name
        )
    }
}
