//! Keywords: the string values of the schema that pick one of a few choices
//! (`arrival = "poisson"`, `rejoin = "never"`, `mode = "crash"`,
//! `distribution = "weibull"`), and the comparison inside an assertion's
//! `that` (`>=`, `<=`, `>`, `<`, `==`).
//!
//! Each choice type lists its spellings once, in its [`Keyword::CHOICES`]
//! (beside the type, so that this file imports none of them); the same list
//! parses the file ([`KeywordValue`]), words the error ("`"sometimes"` is not
//! a rejoin policy; use "same", "new" or "never"`) and writes the value back
//! ([`spelling`], used by `render.rs`). A value of the wrong type is reported by
//! serde as "expected "same", "new" or "never", found the integer 1", so every
//! error names what is allowed.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// A type whose values are written in the file as one of a few strings.
pub(crate) trait Keyword: Copy + PartialEq + 'static {
    /// What a value is, for "`"x"` is not <WHAT>": e.g. `"an arrival process"`.
    const WHAT: &'static str;
    /// Every spelling with its value, in the order error messages list them.
    const CHOICES: &'static [(&'static str, Self)];
}

/// The file spelling of `value`.
pub(crate) fn spelling<K: Keyword>(value: K) -> &'static str {
    K::CHOICES
        .iter()
        .find(|(_, choice)| *choice == value)
        .map(|(name, _)| *name)
        .expect("every value of a keyword type has a spelling")
}

/// The allowed spellings, quoted, as a sentence: `"a", "b" or "c"`.
pub(crate) fn choices<K: Keyword>() -> String {
    let quoted: Vec<String> = K::CHOICES
        .iter()
        .map(|(name, _)| format!("{name:?}"))
        .collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => quoted.concat(),
    }
}

/// Parses a spelling; the error names the allowed ones.
pub(crate) fn parse_keyword<K: Keyword>(s: &str) -> Result<K, String> {
    K::CHOICES
        .iter()
        .find(|(name, _)| *name == s)
        .map(|(_, value)| *value)
        .ok_or_else(|| format!("{s:?} is not {}; use {}", K::WHAT, choices::<K>()))
}

/// The serde face of a [`Keyword`]: a TOML string among its spellings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct KeywordValue<K>(pub K);

impl<'de, K: Keyword> Deserialize<'de> for KeywordValue<K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_str(KeywordVisitor(PhantomData))
            .map(KeywordValue)
    }
}

struct KeywordVisitor<K>(PhantomData<K>);

impl<'de, K: Keyword> Visitor<'de> for KeywordVisitor<K> {
    type Value = K;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&choices::<K>())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<K, E> {
        parse_keyword(v).map_err(E::custom)
    }
}

/// The kind of a time distribution (`distribution = "..."` in a `session` or
/// `offline` table); its parameters are read separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DistributionKind {
    /// `"exponential"`: `mean`.
    Exponential,
    /// `"weibull"`: `shape`, `scale`.
    Weibull,
    /// `"lognormal"`: `mu`, `sigma`.
    LogNormal,
    /// `"pareto"`: `shape`, `scale`.
    Pareto,
    /// `"constant"`: `value`.
    Constant,
}

impl DistributionKind {
    /// The parameters this distribution takes besides `distribution`, in the
    /// order messages list them.
    pub(crate) fn parameters(self) -> &'static [&'static str] {
        match self {
            DistributionKind::Exponential => &["mean"],
            DistributionKind::Weibull | DistributionKind::Pareto => &["shape", "scale"],
            DistributionKind::LogNormal => &["mu", "sigma"],
            DistributionKind::Constant => &["value"],
        }
    }

    /// A complete table of this distribution, for messages.
    pub(crate) fn example(self) -> &'static str {
        match self {
            DistributionKind::Exponential => r#"{ distribution = "exponential", mean = "30m" }"#,
            DistributionKind::Weibull => {
                r#"{ distribution = "weibull", shape = 0.5, scale = "30m" }"#
            }
            DistributionKind::LogNormal => {
                r#"{ distribution = "lognormal", mu = 7.0, sigma = 1.0 }"#
            }
            DistributionKind::Pareto => {
                r#"{ distribution = "pareto", shape = 2.0, scale = "10m" }"#
            }
            DistributionKind::Constant => r#"{ distribution = "constant", value = "10m" }"#,
        }
    }
}

impl Keyword for DistributionKind {
    const WHAT: &'static str = "a distribution";
    const CHOICES: &'static [(&'static str, Self)] = &[
        ("exponential", DistributionKind::Exponential),
        ("weibull", DistributionKind::Weibull),
        ("lognormal", DistributionKind::LogNormal),
        ("pareto", DistributionKind::Pareto),
        ("constant", DistributionKind::Constant),
    ];
}
