//! The scenario file exactly as written: the serde mirror of the TOML schema.
//!
//! Each table of the file is one struct here, and each struct denies unknown keys,
//! so a typo (`sample_intreval`) is an error that lists the allowed keys rather
//! than a silently ignored line. Optional keys are `Option`s (the defaults are
//! filled in by `validate.rs`, which also owns every range rule), and every value
//! keeps its byte span ([`Spanned`]) so a rule broken after parsing can still be
//! reported at its line and column.
//!
//! Only the *shape* of the file is checked here: types, durations' syntax,
//! required keys, unknown keys. Everything that relates two values (`min <= max`,
//! `at < duration`) or bounds one (`count >= 1`) is in `validate.rs`.
//!
//! The workload tables (`[[join]]`, `[[churn]]`, ...) are in `raw_workloads.rs`;
//! a new workload list is a `Option<Spanned<Vec<Spanned<RawX>>>>` field of
//! [`RawScenario`] with its struct there.
//!
//! Where the schema needs more than serde's derive (a value that is a string *or*
//! a table, a table whose keys are region names, a table whose allowed keys
//! depend on one of its values), a hand-written visitor keeps every key's and
//! value's span, so that the error still points at the right place.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use toml::Spanned;

use super::duration::{
    DATETIME_MESSAGE, DurationValue, TOML_DATETIME_FIELD, bare_number_message, parse_duration,
};
use super::model::Security;
use super::raw_workloads::{
    RawChurn, RawJoin, RawLeave, RawLookups, RawPartition, next_spanned_key,
};

/// The whole file (the root table). Field order is the order the "allowed keys"
/// list of an unknown-key error shows.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScenario {
    /// `name`: output directory name, 1-64 chars of `[A-Za-z0-9_.-]`. Required.
    pub name: Spanned<String>,
    /// `description`: free text. Default `""`.
    pub description: Option<Spanned<String>>,
    /// `seed`: default seed of the run (u64). Default 1.
    pub seed: Option<Spanned<u64>>,
    /// `duration`: virtual time the run lasts. Required; `> 0`, `<= 30d`.
    pub duration: Spanned<DurationValue>,
    /// `sample_interval`: period of routing-table samples. Default `"30s"`
    /// (capped at `duration`); `> 0`, `<= duration`.
    pub sample_interval: Option<Spanned<DurationValue>>,
    /// `stop_when_bootstrapped`: end the run early once every scheduled join
    /// has happened and every live node's first bootstrap finished. Default
    /// `false`.
    pub stop_when_bootstrapped: Option<Spanned<bool>>,
    /// `[stack]`: protocol stack. Default: all of its defaults.
    pub stack: Option<RawStack>,
    /// `[network]`: the simulated network. Default: all of its defaults.
    pub network: Option<RawNetwork>,
    /// `[bootstrap]`: the bootstrap nodes. Default: the first node only.
    pub bootstrap: Option<RawBootstrap>,
    /// `[[join]]`: join workloads, at least one. Required.
    pub join: Option<Spanned<Vec<Spanned<RawJoin>>>>,
    /// `[[churn]]`: churn workloads. Default: none.
    pub churn: Option<Spanned<Vec<Spanned<RawChurn>>>>,
    /// `[[leave]]`: one-off departures. Default: none.
    pub leave: Option<Spanned<Vec<Spanned<RawLeave>>>>,
    /// `[[partition]]`: network partitions. Default: none.
    pub partition: Option<Spanned<Vec<Spanned<RawPartition>>>>,
    /// `[[lookups]]`: lookup workloads. Default: none.
    pub lookups: Option<Spanned<Vec<Spanned<RawLookups>>>>,
    /// `[[assert]]`: invariants checked after the run. Default: none.
    pub assert: Option<Spanned<Vec<Spanned<RawAssert>>>>,
}

/// One `[[assert]]` entry. The condition is read as a string here and parsed
/// by `validate_assert.rs`, which knows the metric names.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAssert {
    /// `that`: `"<metric> <op> <number>"`. Required.
    pub that: Spanned<String>,
    /// `at`: check on the sample taken at this time. Optional; a multiple of
    /// `sample_interval`, `> 0`, `<= duration`; not with `from`.
    pub at: Option<Spanned<DurationValue>>,
    /// `from`: check on every sample from this time on. Optional; at most the
    /// time of the last sample; not with `at`.
    pub from: Option<Spanned<DurationValue>>,
}

/// `[stack]`. Integers are read as i64 (TOML's integer) so that `0` and `-3`
/// get `validate.rs`'s messages, which name the allowed range.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStack {
    /// `security`: `"noise"` or `"plaintext"`. Default `"noise"`.
    pub security: Option<Spanned<Security>>,
    /// `replication_factor`: Kademlia's k. Default 20; `1..=256`.
    pub replication_factor: Option<Spanned<i64>>,
    /// `parallelism`: Kademlia's alpha. Default 3; `1..=64`.
    pub parallelism: Option<Spanned<i64>>,
    /// `query_timeout`: Kademlia query timeout. Default `"60s"`; `> 0`.
    pub query_timeout: Option<Spanned<DurationValue>>,
    /// `periodic_bootstrap`: interval, or `"off"`. Default `"5m"`; `> 0`.
    pub periodic_bootstrap: Option<Spanned<RawInterval>>,
    /// `identify_interval`: identify's re-send period. Default `"5m"`; `> 0`.
    pub identify_interval: Option<Spanned<DurationValue>>,
    /// `idle_timeout`: idle-connection timeout. Default `"10s"`; `>= 0`.
    pub idle_timeout: Option<Spanned<DurationValue>>,
    /// `connection_timeout`: dial and upgrade limit. Default `"10s"`; `> 0`.
    pub connection_timeout: Option<Spanned<DurationValue>>,
}

/// `[bootstrap]`. Integers are read as i64 so that `0` and `-1` get
/// `validate.rs`'s messages.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBootstrap {
    /// `nodes`: how many of the first nodes to join are bootstrap nodes.
    /// Default 1; from 1 to the nodes of the `[[join]]` workloads.
    pub nodes: Option<Spanned<i64>>,
    /// `per_joiner`: how many of them each joiner is given, drawn from the
    /// seed. Default: all; from 1 to `nodes`.
    pub per_joiner: Option<Spanned<i64>>,
}

/// `stack.periodic_bootstrap`: a duration string, or `"off"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RawInterval {
    /// `"off"`: no periodic bootstrap.
    Off,
    /// A duration (not yet checked to be `> 0`).
    Every(DurationValue),
}

impl<'de> Deserialize<'de> for RawInterval {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(IntervalVisitor)
    }
}

struct IntervalVisitor;

impl<'de> Visitor<'de> for IntervalVisitor {
    type Value = RawInterval;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(r#"a duration string such as "5m", or "off""#)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawInterval, E> {
        if v == "off" {
            return Ok(RawInterval::Off);
        }
        parse_duration(v)
            .map(|d| RawInterval::Every(DurationValue(d)))
            .map_err(|err| E::custom(format!(r#"{err}, or "off" to turn it off"#)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawInterval, E> {
        Err(E::custom(bare_number_message(&v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawInterval, E> {
        Err(E::custom(bare_number_message(&v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawInterval, E> {
        Err(E::custom(bare_number_message(&v)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawInterval, A::Error> {
        match map.next_key::<String>()? {
            Some(key) if key == TOML_DATETIME_FIELD => Err(de::Error::custom(DATETIME_MESSAGE)),
            _ => Err(de::Error::invalid_type(de::Unexpected::Map, &self)),
        }
    }
}

/// `[network]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNetwork {
    /// `latency`: one-way link latency, `"50ms"` or `{ min = "20ms", max = "80ms" }`.
    /// Default `{ min = "20ms", max = "80ms" }`; each bound `>= 0s`, `<= 60s`.
    /// Not allowed together with `regions`.
    pub latency: Option<Spanned<RawLatency>>,
    /// `[[network.regions]]`: named regions. Default: none (one flat network).
    pub regions: Option<Spanned<Vec<Spanned<RawRegion>>>>,
    /// `[network.latency_matrix]`: latency between regions, `a = { b = ... }`.
    /// Required with `regions`, not allowed without.
    pub latency_matrix: Option<Spanned<RawMatrix>>,
    /// `loss`: probability that a TCP segment is lost. Default 0; `[0, 0.5]`.
    pub loss: Option<Spanned<f64>>,
    /// `upload_mbps`: each node's upload bandwidth in Mbit/s. Default:
    /// unlimited; `(0, 100000]`.
    pub upload_mbps: Option<Spanned<f64>>,
    /// `download_mbps`: each node's download bandwidth in Mbit/s. Default:
    /// unlimited; `(0, 100000]`.
    pub download_mbps: Option<Spanned<f64>>,
    /// `[network.loss_matrix]`: loss between regions, `a = { b = 0.01 }`.
    /// Optional with `regions` (pairs left out have `loss`), not allowed
    /// without.
    pub loss_matrix: Option<Spanned<RawLossMatrix>>,
}

/// One `[[network.regions]]` entry; both keys are required.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRegion {
    /// `name`: 1-64 chars of `[A-Za-z0-9_-]`, unique.
    pub name: Spanned<String>,
    /// `share`: fraction of the nodes in this region, in `(0, 1]`.
    pub share: Spanned<f64>,
}

/// `[network.latency_matrix]`: one row per region name, each a table of
/// latencies by region name (`eu = { eu = "10ms", us = "80ms" }`), keys with
/// their spans. Region names are checked in `validate_network.rs`.
pub(crate) type RawMatrix = Entries<Spanned<Entries<Spanned<RawLatency>>>>;

/// `[network.loss_matrix]`: one row per region name, each a table of loss
/// probabilities by region name (`eu = { us = 0.01 }`).
pub(crate) type RawLossMatrix = Entries<Spanned<Entries<Spanned<f64>>>>;

/// A table whose keys are free names (region names), kept with their spans in
/// the order the deserialiser gives them.
#[derive(Debug)]
pub(crate) struct Entries<V>(pub Vec<(Spanned<String>, V)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Entries<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(EntriesVisitor(PhantomData))
    }
}

struct EntriesVisitor<V>(PhantomData<V>);

/// What a matrix or a matrix row must be.
const ENTRIES_EXPECTED: &str =
    r#"a table of latencies by region name, e.g. eu = { eu = "10ms", us = "80ms" }"#;

impl<'de, V: Deserialize<'de>> Visitor<'de> for EntriesVisitor<V> {
    type Value = Entries<V>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(ENTRIES_EXPECTED)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries<V>, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = next_spanned_key(&mut map, ENTRIES_EXPECTED)? {
            let value = map.next_value::<V>()?;
            entries.push((key, value));
        }
        Ok(Entries(entries))
    }
}

/// `network.latency`: a duration string (constant) or a `{ min, max }` table.
#[derive(Debug)]
pub(crate) enum RawLatency {
    /// `latency = "50ms"`.
    Constant(DurationValue),
    /// `latency = { min = "20ms", max = "80ms" }` (or a `[network.latency]` table).
    Uniform(RawLatencyRange),
}

/// The `{ min, max }` form of `network.latency`; both keys are required.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLatencyRange {
    /// `min`: smallest one-way latency, inclusive. Required in this form.
    pub min: Spanned<DurationValue>,
    /// `max`: largest one-way latency, inclusive. Required in this form.
    pub max: Spanned<DurationValue>,
}

impl<'de> Deserialize<'de> for RawLatency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(LatencyVisitor)
    }
}

struct LatencyVisitor;

impl<'de> Visitor<'de> for LatencyVisitor {
    type Value = RawLatency;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(r#"a duration string such as "50ms" or a table { min = "20ms", max = "80ms" }"#)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawLatency, E> {
        parse_duration(v)
            .map(|d| RawLatency::Constant(DurationValue(d)))
            .map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawLatency, E> {
        Err(E::custom(bare_number_message(&v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawLatency, E> {
        Err(E::custom(bare_number_message(&v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawLatency, E> {
        Err(E::custom(bare_number_message(&v)))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawLatency, A::Error> {
        // toml hands a date/time over as a one-key map; catch it before the range
        // struct reports a baffling unknown key.
        let range = RawLatencyRange::deserialize(MapAccessDeserializer::new(map));
        match range {
            Ok(range) => Ok(RawLatency::Uniform(range)),
            Err(err) if err.to_string().contains(TOML_DATETIME_FIELD) => {
                Err(de::Error::custom(DATETIME_MESSAGE))
            }
            Err(err) => Err(err),
        }
    }
}
