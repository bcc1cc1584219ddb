//! Scenario files: the TOML description of an experiment, parsed and validated.
//!
//! A scenario says how long a run lasts in virtual time, which protocol stack the
//! nodes run, what the network between them looks like, and which workloads
//! happen when (for now, `[[join]]`: nodes joining the network). The schema is
//! documented for users in `scenarios/README.md`; a minimal file is
//!
//! ```toml
//! name = "bootstrap"
//! duration = "10m"
//!
//! [[join]]
//! count = 200
//! over = "1m"
//! ```
//!
//! # How a file becomes a [`Scenario`]
//!
//! 1. The text is parsed into `toml`'s spanned document tree. A syntax error stops
//!    here, at the parser's position.
//! 2. The tree is deserialised into the raw schema types of `raw.rs`, which mirror
//!    the file one table per struct, deny unknown keys and keep each value's span.
//!    Type errors, unknown keys, missing required keys and malformed durations
//!    stop here; `diagnose.rs` finds their key path in the tree and rewords them.
//! 3. `validate.rs` checks the rules that involve values (ranges, `min <= max`,
//!    workloads inside the run, the node limit) and fills in the defaults,
//!    producing the types of `model.rs`.
//!
//! The first problem found is returned as a [`ScenarioError`], whose `Display` is
//! one line of the form `<file>:<line>:<column>: <key path>: <message>`.
//!
//! Durations are strings with a unit (`"250ms"`, `"1.5s"`, `"5m"`, `"2h"`,
//! `"1d"`); see [`parse_duration`] and [`format_duration`].
//!
//! # Keys, defaults and limits
//!
//! | key                     | default              | allowed                              |
//! |-------------------------|----------------------|--------------------------------------|
//! | `name`                  | required             | 1-64 of `[A-Za-z0-9_.-]`, not `.`/`..` |
//! | `description`           | `""`                 | any string                           |
//! | `seed`                  | [`DEFAULT_SEED`]     | any non-negative integer             |
//! | `duration`              | required             | `> 0`, `<=` [`MAX_DURATION`] (30d)   |
//! | `sample_interval`       | `"30s"` (capped at `duration`) | `> 0`, `<= duration`       |
//! | `stack.security`        | `"noise"`            | `"noise"`, `"plaintext"`             |
//! | `network.latency`       | `{ min = "20ms", max = "80ms" }` | each `<=` [`MAX_LATENCY`] (60s), `min <= max` |
//! | `join[i].at`            | `"0s"`               | `< duration`                         |
//! | `join[i].count`         | required             | `>= 1`; sum of all `<=` [`MAX_NODES`] |
//! | `join[i].over`          | `"0s"`               | `at + over <= duration`              |
//!
//! # Where errors point
//!
//! An error's line and column point at the offending value; at the key itself
//! for an unknown key; at the table header (`[[join]]`, the `{` of an inline table,
//! or line 1 column 1 for a top-level key) when a required key is missing. When a
//! rule is broken by a *default* (no such key in the file), the error is reported
//! on the key that is written and conflicts with it.
//!
//! # Extending the schema
//!
//! A new key or workload list touches three files: its raw form (`raw.rs`), its
//! resolved form (`model.rs`) and its rules and default (`validate.rs`), plus a
//! test in `tests.rs` and a line in `scenarios/README.md`. The error machinery
//! (spans, key paths, wording) needs no change.

mod diagnose;
mod duration;
mod error;
mod model;
mod raw;
mod validate;

#[cfg(test)]
mod tests;

use std::path::Path;

use serde::Deserialize;
use toml::de::DeTable;

pub use duration::{format_duration, parse_duration};
pub use error::ScenarioError;
pub use model::{
    DEFAULT_LATENCY_MAX, DEFAULT_LATENCY_MIN, DEFAULT_SAMPLE_INTERVAL, DEFAULT_SEED, Join, Latency,
    MAX_DURATION, MAX_LATENCY, MAX_NAME_LEN, MAX_NODES, Network, Scenario, Security, Stack,
};

use error::Source;
use raw::RawScenario;

impl Scenario {
    /// Reads and parses the scenario file at `path`. Errors name the file as
    /// `path.display()` shows it; a file that cannot be read gives an error without
    /// line, column or key, whose message contains the OS error.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|err| ScenarioError::io(&origin, &err))?;
        Scenario::parse(&text, &origin)
    }

    /// Parses and validates scenario text. `origin` names the text in errors
    /// (usually its path).
    pub fn parse(src: &str, origin: &str) -> Result<Scenario, ScenarioError> {
        let source = Source::new(src, origin);
        let doc = DeTable::parse(src).map_err(|err| diagnose::syntax_error(&source, &err))?;
        let raw = RawScenario::deserialize(toml::de::Deserializer::from(doc.clone()))
            .map_err(|err| diagnose::schema_error(&source, doc.get_ref(), &err))?;
        validate::resolve(raw, &source)
    }
}
