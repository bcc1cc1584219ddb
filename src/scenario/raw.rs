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
//! To add a workload list (`[[churn]]`, `[[partition]]`, ...), add a
//! `Option<Spanned<Vec<Spanned<RawChurn>>>>` field to [`RawScenario`] next to
//! `join`, with its struct below.

use std::fmt;

use serde::Deserialize;
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use toml::Spanned;

use super::duration::{
    DATETIME_MESSAGE, DurationValue, TOML_DATETIME_FIELD, bare_number_message, parse_duration,
};
use super::model::Security;

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
    /// `[stack]`: protocol stack. Default: all of its defaults.
    pub stack: Option<RawStack>,
    /// `[network]`: the simulated network. Default: all of its defaults.
    pub network: Option<RawNetwork>,
    /// `[[join]]`: join workloads, at least one. Required.
    pub join: Option<Spanned<Vec<Spanned<RawJoin>>>>,
}

/// `[stack]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStack {
    /// `security`: `"noise"` or `"plaintext"`. Default `"noise"`.
    pub security: Option<Spanned<Security>>,
}

/// `[network]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNetwork {
    /// `latency`: one-way link latency, `"50ms"` or `{ min = "20ms", max = "80ms" }`.
    /// Default `{ min = "20ms", max = "80ms" }`; each bound `>= 0s`, `<= 60s`.
    pub latency: Option<Spanned<RawLatency>>,
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

/// One `[[join]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawJoin {
    /// `at`: virtual time the workload starts. Default `"0s"`; `< duration`.
    pub at: Option<Spanned<DurationValue>>,
    /// `count`: nodes that join, `>= 1`; all counts together `<= MAX_NODES`.
    /// Read as i64 (TOML's integer) so that `0` and `-3` get this module's
    /// messages rather than serde's.
    pub count: Spanned<i64>,
    /// `over`: window the joins are spread over. Default `"0s"`;
    /// `at + over <= duration`.
    pub over: Option<Spanned<DurationValue>>,
}
