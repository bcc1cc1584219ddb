//! The helpers every part of validation uses: a positive duration, a finite
//! number in range, a workload's start and length within the run, and the
//! entries of a workload list with their indices and spans.

use std::ops::Range;
use std::time::Duration;

use toml::Spanned;

use super::duration::{DurationValue, format_duration};
use super::error::{ScenarioError, Source};

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
pub(crate) fn known_regions(regions: &[super::model::Region]) -> String {
    let names: Vec<&str> = regions.iter().map(|region| region.name.as_str()).collect();
    names.join(", ")
}
