//! The workload tables exactly as written: `[[join]]`, `[[churn]]` (with its
//! `session` and `offline` distribution tables), `[[leave]]`, `[[partition]]`
//! and `[[lookups]]`. Same conventions as `raw.rs`: unknown keys are denied,
//! optional keys are `Option`s whose defaults `validate_workloads.rs` fills in,
//! and every value keeps its span.
//!
//! Integers are read as i64 (TOML's integer) and numbers as f64, so that `0`,
//! `-3` or `1.5` where they are not allowed get the validator's messages, which
//! name the allowed range, rather than serde's.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use toml::Spanned;

use super::duration::{DurationValue, TOML_DATETIME_FIELD};
use super::keyword::{DistributionKind, KeywordValue};
use super::workload::{Arrival, Departure, Rejoin};

/// One `[[join]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawJoin {
    /// `at`: virtual time the workload starts. Default `"0s"`; `< duration`.
    pub at: Option<Spanned<DurationValue>>,
    /// `count`: nodes that join, `>= 1`; all counts together `<= MAX_NODES`.
    pub count: Spanned<i64>,
    /// `over`: window the joins are spread over. Default `"0s"`;
    /// `at + over <= duration`.
    pub over: Option<Spanned<DurationValue>>,
    /// `arrival`: `"uniform"`, `"poisson"` or `"even"`. Default `"uniform"`.
    pub arrival: Option<Spanned<KeywordValue<Arrival>>>,
}

/// One `[[churn]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawChurn {
    /// `at`: when churn starts. Default `"0s"`; `< duration`.
    pub at: Option<Spanned<DurationValue>>,
    /// `for`: how long it lasts. Default: until the end; `> 0`,
    /// `at + for <= duration`.
    #[serde(rename = "for")]
    pub length: Option<Spanned<DurationValue>>,
    /// `population`: size of the churned pool, `>= 1`. Default: the live nodes.
    pub population: Option<Spanned<i64>>,
    /// `session`: online length. Required.
    pub session: Spanned<RawDistribution>,
    /// `offline`: offline length. Required unless `rejoin = "never"`, and not
    /// allowed with it.
    pub offline: Option<Spanned<RawDistribution>>,
    /// `crash`: fraction of departures that are crashes. Default 0.5; `[0, 1]`.
    pub crash: Option<Spanned<f64>>,
    /// `rejoin`: `"same"`, `"new"` or `"never"`. Default `"same"`.
    pub rejoin: Option<Spanned<KeywordValue<Rejoin>>>,
}

/// A distribution table (`session`, `offline`):
/// `{ distribution = "weibull", shape = 0.5, scale = "30m" }`.
///
/// Which keys are allowed depends on the value of `distribution`, so the table
/// is read by hand: `distribution` is parsed, every other key is kept with its
/// span and, when it is a parameter of some distribution, its typed value.
/// `validate_workloads.rs` then checks the keys against the distribution and
/// reports a key that does not belong at the key itself.
#[derive(Debug)]
pub(crate) struct RawDistribution {
    /// `distribution`: which one. Required (checked by the validator, which
    /// can then point at the table).
    pub distribution: Option<Spanned<KeywordValue<DistributionKind>>>,
    /// Every other key, with its value.
    pub parameters: Vec<(Spanned<String>, RawParameter)>,
}

/// The value of one key of a distribution table other than `distribution`.
#[derive(Debug)]
pub(crate) enum RawParameter {
    /// `mean`, `scale` or `value`: a duration.
    Duration(Spanned<DurationValue>),
    /// `shape`, `mu` or `sigma`: a number.
    Number(Spanned<f64>),
    /// A key no distribution takes; its value is not read.
    Unknown,
}

/// Parameters that are durations.
const DURATION_PARAMETERS: [&str; 3] = ["mean", "scale", "value"];
/// Parameters that are plain numbers.
const NUMBER_PARAMETERS: [&str; 3] = ["shape", "mu", "sigma"];

/// What a `session` or `offline` value must be.
const DISTRIBUTION_EXAMPLE: &str = r#"{ distribution = "exponential", mean = "30m" }"#;

impl<'de> Deserialize<'de> for RawDistribution {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(DistributionVisitor)
    }
}

struct DistributionVisitor;

impl<'de> Visitor<'de> for DistributionVisitor {
    type Value = RawDistribution;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a distribution table such as {DISTRIBUTION_EXAMPLE}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawDistribution, A::Error> {
        let mut distribution = None;
        let mut parameters = Vec::new();
        let expected = format!("a distribution table such as {DISTRIBUTION_EXAMPLE}");
        while let Some(key) = next_spanned_key(&mut map, &expected)? {
            let name = key.get_ref().as_str();
            if name == "distribution" {
                distribution = Some(map.next_value()?);
                continue;
            }
            let value = if DURATION_PARAMETERS.contains(&name) {
                RawParameter::Duration(map.next_value()?)
            } else if NUMBER_PARAMETERS.contains(&name) {
                RawParameter::Number(map.next_value()?)
            } else {
                map.next_value::<IgnoredAny>()?;
                RawParameter::Unknown
            };
            parameters.push((key, value));
        }
        Ok(RawDistribution {
            distribution,
            parameters,
        })
    }
}

/// One `[[leave]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLeave {
    /// `at`: when. Required; `< duration`.
    pub at: Spanned<DurationValue>,
    /// `node`: index of the node that leaves. Exactly one of `node`, `count`.
    pub node: Option<Spanned<i64>>,
    /// `count`: how many random nodes leave.
    pub count: Option<Spanned<i64>>,
    /// `mode`: `"graceful"` or `"crash"`. Default `"graceful"`.
    pub mode: Option<Spanned<KeywordValue<Departure>>>,
}

/// One `[[partition]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPartition {
    /// `at`: when the split starts. Default `"0s"`; `< duration`.
    pub at: Option<Spanned<DurationValue>>,
    /// `for`: how long it lasts. Required; `> 0`, `at + for <= duration`.
    #[serde(rename = "for")]
    pub length: Spanned<DurationValue>,
    /// `groups`: fractions of the nodes per side. Exactly one of `groups`,
    /// `regions`.
    pub groups: Option<Spanned<Vec<Spanned<f64>>>>,
    /// `regions`: groups of region names.
    pub regions: Option<RawRegionGroups>,
}

/// `partition[i].regions`: groups of region names, each name with its span.
pub(crate) type RawRegionGroups = Spanned<Vec<Spanned<Vec<Spanned<String>>>>>;

/// One `[[lookups]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLookups {
    /// `at`: when. Default `"0s"`; `< duration`.
    pub at: Option<Spanned<DurationValue>>,
    /// `for`: how long. Default: until the end; `> 0`, `at + for <= duration`.
    #[serde(rename = "for")]
    pub length: Option<Spanned<DurationValue>>,
    /// `rate`: lookups per second. Required; `> 0`, `<= 1000`.
    pub rate: Spanned<f64>,
}

/// The next key of a table read by hand, with its span. toml hands a date/time
/// over as a one-key map whose key has no span; that is reported as a value of
/// the wrong type, `expected` saying what the table should have been.
pub(crate) fn next_spanned_key<'de, A: MapAccess<'de>>(
    map: &mut A,
    expected: &str,
) -> Result<Option<Spanned<String>>, A::Error> {
    map.next_key::<Spanned<String>>().map_err(|err| {
        if err.to_string().contains(TOML_DATETIME_FIELD) {
            de::Error::custom(format!("expected {expected}, found a TOML date/time"))
        } else {
            err
        }
    })
}
