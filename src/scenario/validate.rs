//! From the file as written ([`RawScenario`]) to a runnable [`Scenario`]: defaults
//! filled in, every rule of the schema checked.
//!
//! Validation runs once, after deserialisation, and stops at the first broken
//! rule. Rules are checked in the order the schema lists the keys (`name`,
//! `duration`, `sample_interval`, `[stack]`, `[network]`, then each `[[join]]` in
//! file order), which is the order a scenario file is normally written in.
//!
//! Every raw value carries its byte span, so an error points at the value that
//! breaks the rule. When the culprit is a default (the key is absent), the error
//! is reported on the key that *is* written and conflicts with it.
//!
//! Workload lists added later (`[[churn]]`, `[[partition]]`) reuse
//! [`check_window`], the rule that a workload starts before the end of the run
//! and does not run past it.

use std::ops::Range;
use std::time::Duration;

use toml::Spanned;

use super::duration::{DurationValue, format_duration};
use super::error::{ScenarioError, Source};
use super::model::{
    DEFAULT_SAMPLE_INTERVAL, DEFAULT_SEED, Join, Latency, MAX_DURATION, MAX_LATENCY, MAX_NAME_LEN,
    MAX_NODES, Network, Scenario, Stack,
};
use super::raw::{RawJoin, RawLatency, RawNetwork, RawScenario, RawStack};

/// Checks `raw` against every rule of the schema and fills in the defaults.
pub(crate) fn resolve(raw: RawScenario, source: &Source<'_>) -> Result<Scenario, ScenarioError> {
    let fail = |span: Range<usize>, key: &str, message: String| {
        source.error(Some(span), Some(key.to_owned()), message)
    };

    let name = check_name(&raw.name).map_err(|message| fail(raw.name.span(), "name", message))?;

    let duration = raw.duration.get_ref().0;
    if duration.is_zero() {
        return Err(fail(
            raw.duration.span(),
            "duration",
            "must be greater than 0s".to_owned(),
        ));
    }
    if duration > MAX_DURATION {
        return Err(fail(
            raw.duration.span(),
            "duration",
            format!(
                "{} is longer than the maximum of {}",
                format_duration(duration),
                format_duration(MAX_DURATION)
            ),
        ));
    }

    let sample_interval = match &raw.sample_interval {
        None => DEFAULT_SAMPLE_INTERVAL.min(duration),
        Some(interval) => {
            let value = interval.get_ref().0;
            if value.is_zero() {
                return Err(fail(
                    interval.span(),
                    "sample_interval",
                    "must be greater than 0s".to_owned(),
                ));
            }
            if value > duration {
                return Err(fail(
                    interval.span(),
                    "sample_interval",
                    format!(
                        "{} is longer than the scenario (duration = {}); \
                         it must be greater than 0s and at most the duration",
                        format_duration(value),
                        format_duration(duration)
                    ),
                ));
            }
            value
        }
    };

    let stack = resolve_stack(raw.stack);
    let network = resolve_network(raw.network, source)?;
    let joins = resolve_joins(raw.join, duration, source)?;

    Ok(Scenario {
        name,
        description: raw.description.map(Spanned::into_inner).unwrap_or_default(),
        seed: raw.seed.map_or(DEFAULT_SEED, Spanned::into_inner),
        duration,
        sample_interval,
        stack,
        network,
        joins,
    })
}

/// The name becomes a directory name: a short, portable file name that cannot
/// climb out of the output directory.
fn check_name(name: &Spanned<String>) -> Result<String, String> {
    let name = name.get_ref();
    let allowed = "1 to 64 characters of A-Z, a-z, 0-9, '_', '.' and '-' \
                   (it names the output directory)";
    if name.is_empty() {
        return Err(format!("must not be empty; use {allowed}"));
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Err(format!(
            "is {} characters long; use {allowed}",
            name.chars().count()
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        return Err(format!("{name:?} contains {bad:?}; use {allowed}"));
    }
    if name == "." || name == ".." {
        return Err(format!(
            "{name:?} is not a usable directory name; use {allowed}"
        ));
    }
    Ok(name.clone())
}

fn resolve_stack(raw: Option<RawStack>) -> Stack {
    let Some(raw) = raw else {
        return Stack::default();
    };
    Stack {
        security: raw.security.map(Spanned::into_inner).unwrap_or_default(),
    }
}

fn resolve_network(raw: Option<RawNetwork>, source: &Source<'_>) -> Result<Network, ScenarioError> {
    let Some(latency) = raw.and_then(|raw| raw.latency) else {
        return Ok(Network::default());
    };
    let bound = |d: Duration, span: Range<usize>, key: &str| {
        if d > MAX_LATENCY {
            let message = format!(
                "{} is above the maximum one-way latency of {}",
                format_duration(d),
                format_duration(MAX_LATENCY)
            );
            return Err(source.error(Some(span), Some(key.to_owned()), message));
        }
        Ok(d)
    };
    let span = latency.span();
    let latency = match latency.into_inner() {
        RawLatency::Constant(d) => Latency::Constant(bound(d.0, span, "network.latency")?),
        RawLatency::Uniform(range) => {
            let min = bound(
                range.min.get_ref().0,
                range.min.span(),
                "network.latency.min",
            )?;
            let max = bound(
                range.max.get_ref().0,
                range.max.span(),
                "network.latency.max",
            )?;
            if min > max {
                let message = format!(
                    "min ({}) is greater than max ({}); a latency range needs min <= max",
                    format_duration(min),
                    format_duration(max)
                );
                return Err(source.error(
                    Some(range.min.span()),
                    Some("network.latency.min".to_owned()),
                    message,
                ));
            }
            Latency::Uniform { min, max }
        }
    };
    Ok(Network { latency })
}

fn resolve_joins(
    raw: Option<Spanned<Vec<Spanned<RawJoin>>>>,
    duration: Duration,
    source: &Source<'_>,
) -> Result<Vec<Join>, ScenarioError> {
    let Some(raw) = raw else {
        return Err(source.error(
            None,
            Some("join".to_owned()),
            "missing required key `join`: add at least one [[join]] section \
             (e.g. [[join]] with count = 10)",
        ));
    };
    if raw.get_ref().is_empty() {
        return Err(source.error(
            Some(raw.span()),
            Some("join".to_owned()),
            "needs at least one entry: the scenario has no nodes",
        ));
    }
    let mut joins = Vec::with_capacity(raw.get_ref().len());
    let mut total: u64 = 0;
    for (index, entry) in raw.into_inner().into_iter().enumerate() {
        let entry = entry.into_inner();
        let key = |field: &str| format!("join[{index}].{field}");
        let count = *entry.count.get_ref();
        if count < 1 {
            return Err(source.error(
                Some(entry.count.span()),
                Some(key("count")),
                format!("must be at least 1, found {count}"),
            ));
        }
        let count = u64::try_from(count).expect("count >= 1 was checked");
        total = total.saturating_add(count);
        if total > MAX_NODES as u64 {
            let message = if total == count {
                format!("{count} nodes is above the maximum of {MAX_NODES} per scenario")
            } else {
                format!(
                    "brings the total node count to {total} ({count} here, {} in the \
                     [[join]] entries before), above the maximum of {MAX_NODES} per scenario",
                    total - count
                )
            };
            return Err(source.error(Some(entry.count.span()), Some(key("count")), message));
        }
        let count = u32::try_from(count).expect("count <= MAX_NODES, which fits in u32");
        let (at, over) = check_window(&entry.at, &entry.over, duration, &key, source)?;
        joins.push(Join { at, count, over });
    }
    Ok(joins)
}

/// The window of a workload, `[at, at + over]`, with both keys defaulting to 0s:
/// it must start before the run ends (`at < duration`) and end by then
/// (`at + over <= duration`). `key` spells the path of a field of this entry.
pub(crate) fn check_window(
    at: &Option<Spanned<DurationValue>>,
    over: &Option<Spanned<DurationValue>>,
    duration: Duration,
    key: &dyn Fn(&str) -> String,
    source: &Source<'_>,
) -> Result<(Duration, Duration), ScenarioError> {
    let at_value = at.as_ref().map_or(Duration::ZERO, |at| at.get_ref().0);
    let over_value = over
        .as_ref()
        .map_or(Duration::ZERO, |over| over.get_ref().0);
    if let Some(at) = at
        && at_value >= duration
    {
        let message = format!(
            "{} is not before the end of the scenario (duration = {}); \
             a workload must start before the run ends",
            format_duration(at_value),
            format_duration(duration)
        );
        return Err(source.error(Some(at.span()), Some(key("at")), message));
    }
    let end = at_value.checked_add(over_value);
    if let Some(over) = over
        && end.is_none_or(|end| end > duration)
    {
        let end = end.map_or_else(|| "beyond any time".to_owned(), format_duration);
        let message = format!(
            "the workload would end at {end} (at = {} plus over = {}), after the end of \
             the scenario (duration = {}); at + over must be at most the duration",
            format_duration(at_value),
            format_duration(over_value),
            format_duration(duration)
        );
        return Err(source.error(Some(over.span()), Some(key("over")), message));
    }
    Ok((at_value, over_value))
}
