//! `[[assert]]`: the condition parsed out of `that`, its metric checked against
//! the names of [`crate::metric_names`], and its time (`at`, `from`) checked
//! against the samples the run will take.
//!
//! Samples are taken every `sample_interval` from `sample_interval` on, up to
//! `duration` (there is none at 0s), so `at` must be one of those times and
//! `from` must leave at least one sample to check. A summary metric is a
//! figure of the whole run and takes neither.

use std::time::Duration;

use toml::Spanned;

use super::assert::{Assert, AssertWhen, CmpOp};
use super::duration::{DurationValue, format_duration};
use super::error::{ScenarioError, Source};
use super::keyword::{choices, parse_keyword};
use super::raw::RawAssert;
use super::validate_common::{RawList, entries};
use crate::metric_names::{MetricKind, SAMPLE_METRICS, SUMMARY_METRICS, metric_kind};

/// The form of `that`, for messages.
const FORM: &str = r#"write "<metric> <op> <number>" with <op> one of >=, <=, >, <, == (e.g. "recall_mean >= 0.9")"#;

/// `[[assert]]`, in file order. `duration` and `sample_interval` are the
/// resolved ones.
pub(crate) fn resolve_asserts(
    raw: RawList<RawAssert>,
    duration: Duration,
    sample_interval: Duration,
    source: &Source<'_>,
) -> Result<Vec<Assert>, ScenarioError> {
    let samples = SampleTimes {
        interval: sample_interval,
        duration,
    };
    let mut asserts = Vec::new();
    for (index, _, entry) in entries(raw) {
        let key = |field: &str| format!("assert[{index}].{field}");
        let fail = |span: std::ops::Range<usize>, field: &str, message: String| {
            source.error(Some(span), Some(key(field)), message)
        };
        let that = &entry.that;
        let (metric, op, value) = parse_condition(that.get_ref())
            .map_err(|message| fail(that.span(), "that", message))?;
        let Some(kind) = metric_kind(metric) else {
            return Err(fail(that.span(), "that", unknown_metric(metric)));
        };
        let when = match (&entry.at, &entry.from) {
            (Some(_), Some(from)) => {
                return Err(fail(
                    from.span(),
                    "from",
                    "give either `at` (one sample) or `from` (every sample from then on), \
                     not both"
                        .to_owned(),
                ));
            }
            (None, None) => AssertWhen::End,
            (Some(time), None) | (None, Some(time)) if kind == MetricKind::Summary => {
                let field = if entry.at.is_some() { "at" } else { "from" };
                return Err(fail(
                    time.span(),
                    field,
                    format!(
                        "{metric} is a summary metric, measured once at the end of the run \
                         (a row of summary.csv), so it takes no `{field}`; remove `{field}`, \
                         or use a sample metric: {}",
                        SAMPLE_METRICS.join(", ")
                    ),
                ));
            }
            (Some(at), None) => {
                AssertWhen::At(samples.check_at(at).map_err(|m| fail(at.span(), "at", m))?)
            }
            (None, Some(from)) => AssertWhen::From(
                samples
                    .check_from(from)
                    .map_err(|m| fail(from.span(), "from", m))?,
            ),
        };
        asserts.push(Assert {
            metric: metric.to_owned(),
            op,
            value,
            when,
        });
    }
    Ok(asserts)
}

/// Splits `"<metric> <op> <number>"`; spaces around the comparison are
/// optional. The error says what is wrong and shows the form.
pub(crate) fn parse_condition(text: &str) -> Result<(&str, CmpOp, f64), String> {
    let malformed = || format!("{text:?} is not a condition; {FORM}");
    let trimmed = text.trim();
    let metric_end = trimmed
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(trimmed.len());
    let (metric, rest) = trimmed.split_at(metric_end);
    let rest = rest.trim_start();
    let op_end = rest
        .find(|c: char| !matches!(c, '<' | '>' | '=' | '!'))
        .unwrap_or(rest.len());
    let (op, number) = rest.split_at(op_end);
    let number = number.trim();
    if metric.is_empty() || op.is_empty() || number.is_empty() {
        return Err(malformed());
    }
    let op = parse_keyword::<CmpOp>(op).map_err(|_| {
        format!(
            "{op:?} is not a comparison; use {} (in {text:?})",
            choices::<CmpOp>()
        )
    })?;
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{number:?} is not a number (in {text:?}); {FORM}"))?;
    if !value.is_finite() {
        return Err(format!(
            "{number:?} is not a finite number (in {text:?}); {FORM}"
        ));
    }
    Ok((metric, op, value))
}

/// The message for a metric nobody measures: the allowed names, by family, and
/// the closest one when it is a likely typo.
fn unknown_metric(metric: &str) -> String {
    let guess = SAMPLE_METRICS
        .iter()
        .chain(SUMMARY_METRICS)
        .map(|name| (edit_distance(metric, name), *name))
        .min()
        .filter(|(distance, _)| *distance <= 2)
        .map(|(_, name)| format!(" (did you mean {name}?)"))
        .unwrap_or_default();
    format!(
        "unknown metric {metric:?}{guess}; sample metrics (at the end, `at` or `from`): {}; \
         summary metrics (at the end only, the numeric rows of summary.csv): {}",
        SAMPLE_METRICS.join(", "),
        SUMMARY_METRICS.join(", ")
    )
}

/// Levenshtein distance between two ASCII-ish names (by characters).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

/// The times at which a run samples: every `interval` from `interval` to
/// `duration`.
struct SampleTimes {
    interval: Duration,
    duration: Duration,
}

impl SampleTimes {
    /// The last sample time: the largest multiple of the interval that is at
    /// most the duration.
    fn last(&self) -> Duration {
        let interval = self.interval.as_nanos();
        let last = self.duration.as_nanos() / interval * interval;
        Duration::from_nanos(u64::try_from(last).expect("at most the duration, <= 30d"))
    }

    /// When samples are taken, for messages.
    fn schedule(&self) -> String {
        format!(
            "samples are taken every sample_interval = {} from {} to {}",
            format_duration(self.interval),
            format_duration(self.interval),
            format_duration(self.last())
        )
    }

    /// `at`: a sample time.
    fn check_at(&self, at: &Spanned<DurationValue>) -> Result<Duration, String> {
        let value = at.get_ref().0;
        let spelled = format_duration(value);
        if value > self.duration {
            return Err(format!(
                "{spelled} is after the end of the scenario (duration = {}); {}",
                format_duration(self.duration),
                self.schedule()
            ));
        }
        if value.is_zero() || !value.as_nanos().is_multiple_of(self.interval.as_nanos()) {
            let why = if value.is_zero() {
                "no sample is taken at 0s"
            } else {
                "no sample is taken then"
            };
            return Err(format!(
                "{spelled} is not a sample time ({why}); {}: use a multiple of {}",
                self.schedule(),
                format_duration(self.interval)
            ));
        }
        Ok(value)
    }

    /// `from`: a time at or before the last sample.
    fn check_from(&self, from: &Spanned<DurationValue>) -> Result<Duration, String> {
        let value = from.get_ref().0;
        if value > self.last() {
            return Err(format!(
                "{} is after the last sample, so nothing would be checked; {}: use at most {}",
                format_duration(value),
                self.schedule(),
                format_duration(self.last())
            ));
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_split_with_or_without_spaces() {
        assert_eq!(
            parse_condition("recall_mean >= 0.9"),
            Ok(("recall_mean", CmpOp::Ge, 0.9))
        );
        assert_eq!(
            parse_condition("  crashes==0 "),
            Ok(("crashes", CmpOp::Eq, 0.0))
        );
        assert_eq!(
            parse_condition("live_nodes < -1e3"),
            Ok(("live_nodes", CmpOp::Lt, -1000.0))
        );
        assert!(parse_condition("recall_mean 0.9").is_err());
        assert!(parse_condition("recall_mean =< 0.9").is_err());
        assert!(parse_condition("recall_mean >= inf").is_err());
        assert!(parse_condition(">= 0.9").is_err());
    }

    #[test]
    fn edit_distance_counts_single_character_edits() {
        assert_eq!(edit_distance("recal_mean", "recall_mean"), 1);
        assert_eq!(edit_distance("crashes", "crashes"), 0);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
