//! From the file as written ([`RawScenario`]) to a runnable [`Scenario`]: defaults
//! filled in, every rule of the schema checked.
//!
//! Validation runs once, after deserialisation, and stops at the first broken
//! rule. Rules are checked in the order the schema lists the keys (`name`,
//! `duration`, `sample_interval`, `[stack]`, `[network]`, then each workload list
//! in file order: `[[join]]`, `[[churn]]`, `[[leave]]`, `[[partition]]`,
//! `[[lookups]]`, then `[[assert]]`), which is the order a scenario file is
//! normally written in. The network's rules are in `validate_network.rs`, the
//! workloads' in `validate_workloads.rs` and `validate_churn.rs`, the
//! assertions' in `validate_assert.rs`; this file holds the top level and
//! `[stack]`, and `validate_common.rs` the helpers they share.
//!
//! Every raw value carries its byte span, so an error points at the value that
//! breaks the rule. When the culprit is a default (the key is absent), the error
//! is reported on the key that *is* written and conflicts with it.

use std::ops::Range;
use std::time::Duration;

use toml::Spanned;

use super::duration::{DurationValue, format_duration};
use super::error::{ScenarioError, Source};
use super::model::{
    Bootstrap, DEFAULT_SAMPLE_INTERVAL, DEFAULT_SEED, MAX_DURATION, MAX_NAME_LEN, Scenario, Stack,
};
use super::raw::{RawBootstrap, RawInterval, RawScenario, RawStack};
use super::validate_assert::resolve_asserts;
use super::validate_churn::resolve_churn;
use super::validate_common::positive_duration;
use super::validate_network::resolve_network;
use super::validate_workloads::{
    resolve_joins, resolve_leaves, resolve_lookups, resolve_partitions,
};

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

    let stack = resolve_stack(raw.stack, source)?;
    let network = resolve_network(raw.network, source)?;
    let joins = resolve_joins(raw.join, duration, source)?;
    let initial_nodes: u32 = joins.iter().map(|join| join.count).sum();
    let bootstrap = resolve_bootstrap(raw.bootstrap, initial_nodes, source)?;
    let churn = resolve_churn(raw.churn, duration, initial_nodes, source)?;
    let leaves = resolve_leaves(raw.leave, duration, initial_nodes, source)?;
    let partitions = resolve_partitions(raw.partition, duration, &network, source)?;
    let lookups = resolve_lookups(raw.lookups, duration, source)?;
    let asserts = resolve_asserts(raw.assert, duration, sample_interval, source)?;

    Ok(Scenario {
        name,
        description: raw.description.map(Spanned::into_inner).unwrap_or_default(),
        seed: raw.seed.map_or(DEFAULT_SEED, Spanned::into_inner),
        duration,
        sample_interval,
        stop_when_bootstrapped: raw.stop_when_bootstrapped.is_some_and(Spanned::into_inner),
        stack,
        network,
        bootstrap,
        joins,
        churn,
        leaves,
        partitions,
        lookups,
        asserts,
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

fn resolve_stack(raw: Option<RawStack>, source: &Source<'_>) -> Result<Stack, ScenarioError> {
    let Some(raw) = raw else {
        return Ok(Stack::default());
    };
    let default = Stack::default();
    let key = |field: &str| format!("stack.{field}");
    let count = |value: &Option<Spanned<i64>>, field: &str, max: u16, what: &str, default: u16| {
        value.as_ref().map_or(Ok(default), |value| {
            let found = *value.get_ref();
            u16::try_from(found)
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| {
                    let message = format!("must be from 1 to {max} ({what}), found {found}");
                    source.error(Some(value.span()), Some(key(field)), message)
                })
        })
    };
    let positive = |value: &Option<Spanned<DurationValue>>, field: &str, default: Duration| {
        value.as_ref().map_or(Ok(default), |value| {
            positive_duration(value, &key(field), source)
        })
    };
    let periodic_bootstrap = match &raw.periodic_bootstrap {
        None => default.periodic_bootstrap,
        Some(value) => match value.get_ref() {
            RawInterval::Off => None,
            RawInterval::Every(DurationValue(d)) if d.is_zero() => {
                return Err(source.error(
                    Some(value.span()),
                    Some(key("periodic_bootstrap")),
                    r#"must be greater than 0s; write "off" to turn periodic bootstrap off"#,
                ));
            }
            RawInterval::Every(DurationValue(d)) => Some(*d),
        },
    };
    Ok(Stack {
        security: raw.security.map(Spanned::into_inner).unwrap_or_default(),
        replication_factor: count(
            &raw.replication_factor,
            "replication_factor",
            256,
            "Kademlia's k",
            default.replication_factor,
        )?,
        parallelism: count(
            &raw.parallelism,
            "parallelism",
            64,
            "Kademlia's alpha, requests in flight per query",
            default.parallelism,
        )?,
        query_timeout: positive(&raw.query_timeout, "query_timeout", default.query_timeout)?,
        periodic_bootstrap,
        identify_interval: positive(
            &raw.identify_interval,
            "identify_interval",
            default.identify_interval,
        )?,
        idle_timeout: raw
            .idle_timeout
            .map_or(default.idle_timeout, |value| value.get_ref().0),
        connection_timeout: positive(
            &raw.connection_timeout,
            "connection_timeout",
            default.connection_timeout,
        )?,
    })
}

/// `[bootstrap]`, checked once the joins are known: there cannot be more
/// bootstrap nodes than nodes joining, nor a joiner given more than there are.
fn resolve_bootstrap(
    raw: Option<RawBootstrap>,
    initial_nodes: u32,
    source: &Source<'_>,
) -> Result<Bootstrap, ScenarioError> {
    let Some(raw) = raw else {
        return Ok(Bootstrap::default());
    };
    let count = |value: &Spanned<i64>, field: &str, max: u32, why: &str| {
        let found = *value.get_ref();
        u32::try_from(found)
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| {
                source.error(
                    Some(value.span()),
                    Some(format!("bootstrap.{field}")),
                    format!("must be from 1 to {max} ({why}), found {found}"),
                )
            })
    };
    let nodes = match &raw.nodes {
        None => 1,
        Some(value) => count(
            value,
            "nodes",
            initial_nodes,
            "the nodes the [[join]] workloads create",
        )?,
    };
    let per_joiner = match &raw.per_joiner {
        None => None,
        Some(value) => Some(count(
            value,
            "per_joiner",
            nodes,
            "bootstrap.nodes; leave it out to give every joiner all of them",
        )?),
    };
    Ok(Bootstrap { nodes, per_joiner })
}
