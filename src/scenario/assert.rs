//! The resolved invariants of a scenario (`[[assert]]`): conditions on what a
//! run measured, checked after the run by `invariant::check`.
//!
//! In the file an assertion is a condition on one metric, written
//! `that = "<metric> <op> <number>"`, and optionally when to check it: on the
//! sample taken at one time (`at`), on every sample from a time on (`from`),
//! or, without either, once at the end of the run. The metric names, and
//! which of them may be checked at a sample time, are listed in
//! [`crate::metric_names`].

use std::fmt;
use std::time::Duration;

use super::duration::format_duration;
use super::keyword::{Keyword, spelling};

/// One `[[assert]]` entry: `metric op value`, checked `when`.
#[derive(Debug, Clone, PartialEq)]
pub struct Assert {
    /// The metric: one of [`crate::metric_names::SAMPLE_METRICS`] or
    /// [`crate::metric_names::SUMMARY_METRICS`].
    pub metric: String,
    /// How the measured value is compared with `value`.
    pub op: CmpOp,
    /// The number the measured value is compared with; finite.
    pub value: f64,
    /// When the condition is checked. Always [`AssertWhen::End`] for a summary
    /// metric.
    pub when: AssertWhen,
}

/// `value` is finite (validation rejects `nan` and `inf`), so equality is
/// reflexive.
impl Eq for Assert {}

impl Assert {
    /// Whether `measured` satisfies the condition.
    pub fn holds(&self, measured: f64) -> bool {
        self.op.holds(measured, self.value)
    }

    /// The condition without its time, as `that` spells it:
    /// `recall_mean >= 0.9`. The number is written in its shortest exact form,
    /// which parses back to the same value.
    pub fn that(&self) -> String {
        format!("{} {} {}", self.metric, self.op, self.value)
    }
}

/// The condition with its time, on one line: `recall_mean >= 0.9`,
/// `recall_mean >= 0.9 at 10m`, `recall_mean >= 0.9 from 5m`.
impl fmt::Display for Assert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.that())?;
        match self.when {
            AssertWhen::End => Ok(()),
            AssertWhen::At(t) => write!(f, " at {}", format_duration(t)),
            AssertWhen::From(t) => write!(f, " from {}", format_duration(t)),
        }
    }
}

/// When an assertion is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssertWhen {
    /// Neither `at` nor `from`: once, at the end of the run (for a sample
    /// metric, on the last sample).
    End,
    /// `at`: on the sample taken at this virtual time, a multiple of
    /// `sample_interval`, `> 0` and `<= duration`.
    At(Duration),
    /// `from`: on every sample taken at or after this virtual time; at most
    /// the time of the last sample.
    From(Duration),
}

/// The comparison of an assertion, written between the metric and the number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `>=`
    Ge,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `<`
    Lt,
    /// `==`: exact equality of the two numbers (meant for counts; a fraction
    /// is rarely exactly equal to anything).
    Eq,
}

impl CmpOp {
    /// Every comparison, in the order messages list them.
    pub const ALL: [CmpOp; 5] = [CmpOp::Ge, CmpOp::Le, CmpOp::Gt, CmpOp::Lt, CmpOp::Eq];

    /// Whether `measured op value` is true.
    pub fn holds(self, measured: f64, value: f64) -> bool {
        match self {
            CmpOp::Ge => measured >= value,
            CmpOp::Le => measured <= value,
            CmpOp::Gt => measured > value,
            CmpOp::Lt => measured < value,
            CmpOp::Eq => measured == value,
        }
    }

    /// The spelling in a condition: `>=`, `<=`, `>`, `<` or `==`.
    pub fn as_str(self) -> &'static str {
        spelling(self)
    }
}

impl fmt::Display for CmpOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Keyword for CmpOp {
    const WHAT: &'static str = "a comparison";
    const CHOICES: &'static [(&'static str, Self)] = &[
        (">=", CmpOp::Ge),
        ("<=", CmpOp::Le),
        (">", CmpOp::Gt),
        ("<", CmpOp::Lt),
        ("==", CmpOp::Eq),
    ];
}
