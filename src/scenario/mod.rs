//! Scenario files: the TOML description of an experiment, parsed and validated.
//!
//! A scenario says how long a run lasts in virtual time, which protocol stack the
//! nodes run, what the network between them looks like, and which workloads
//! happen when: nodes joining (`[[join]]`), nodes coming and going (`[[churn]]`),
//! one-off departures (`[[leave]]`), network partitions (`[[partition]]`) and
//! lookups (`[[lookups]]`); and which invariants the run must keep
//! (`[[assert]]`, checked after the run by `invariant::check`). The
//! schema is documented for users in `scenarios/README.md`; a minimal file is
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
//! 2. The tree is deserialised into the raw schema types of `raw.rs` and
//!    `raw_workloads.rs`, which mirror the file one table per struct, deny unknown
//!    keys and keep each value's span. Type errors, unknown keys, missing required
//!    keys, malformed durations and unknown keywords (`keyword.rs`) stop here;
//!    `diagnose.rs` finds their key path in the tree and rewords them.
//! 3. `validate.rs` (with `validate_network.rs`, `validate_workloads.rs`,
//!    `validate_churn.rs` and `validate_assert.rs`) checks the rules that involve
//!    values (ranges, `min <= max`, workloads inside the run, region names, the
//!    node limit, metric names and sample times) and fills in the defaults,
//!    producing the types of `model.rs`, `workload.rs` and `assert.rs`.
//!
//! The first problem found is returned as a [`ScenarioError`], whose `Display` is
//! one line of the form `<file>:<line>:<column>: <key path>: <message>`.
//! [`Scenario::to_toml`] (`render.rs`) goes the other way: the resolved scenario,
//! every default written out, as a file that parses back to the same scenario.
//!
//! Durations are strings with a unit (`"250ms"`, `"1.5s"`, `"5m"`, `"2h"`,
//! `"1d"`); see [`parse_duration`] and [`format_duration`].
//!
//! # Keys, defaults and limits
//!
//! "fraction" is a TOML number (an integer is accepted); numbers must be finite
//! (`nan` and `inf` are rejected). `[i]` is the 0-based index of an entry of a
//! list.
//!
//! | key                     | default              | allowed                              |
//! |-------------------------|----------------------|--------------------------------------|
//! | `name`                  | required             | 1-64 of `[A-Za-z0-9_.-]`, not `.`/`..` |
//! | `description`           | `""`                 | any string                           |
//! | `seed`                  | [`DEFAULT_SEED`]     | any non-negative integer             |
//! | `duration`              | required             | `> 0`, `<=` [`MAX_DURATION`] (30d)   |
//! | `sample_interval`       | `"30s"` (capped at `duration`) | `> 0`, `<= duration`       |
//! | `stop_when_bootstrapped` | `false`             | `true`: end once all joined nodes finished their first bootstrap |
//! | `stack.security`        | `"noise"`            | `"noise"`, `"plaintext"`             |
//! | `stack.replication_factor` | `20`              | integer `1..=256`                    |
//! | `stack.parallelism`     | `3`                  | integer `1..=64`                     |
//! | `stack.query_timeout`   | `"60s"`              | `> 0`                                |
//! | `stack.periodic_bootstrap` | `"5m"`            | `> 0`, or `"off"`                    |
//! | `stack.identify_interval` | `"5m"`             | `> 0`                                |
//! | `stack.idle_timeout`    | `"10s"`              | `>= 0`                               |
//! | `stack.connection_timeout` | `"10s"`           | `> 0`                                |
//! | `network.latency`       | `{ min = "20ms", max = "80ms" }` | each `<=` [`MAX_LATENCY`] (60s), `min <= max`; not with `regions` |
//! | `network.regions[i].name` | required           | 1-64 of `[A-Za-z0-9_-]`, unique      |
//! | `network.regions[i].share` | required          | fraction in `(0, 1]`; all sum to 1 (within 1e-9) |
//! | `network.latency_matrix.a.b` | required with `regions` | a latency as `network.latency`; each unordered pair of regions (`a.a` included) exactly once, as `a.b` or `b.a` |
//! | `join[i].at`            | `"0s"`               | `< duration`                         |
//! | `join[i].count`         | required             | `>= 1`; sum of all `<=` [`MAX_NODES`] |
//! | `join[i].over`          | `"0s"`               | `at + over <= duration`              |
//! | `join[i].arrival`       | `"uniform"`          | `"uniform"`, `"poisson"` (needs `over > 0`), `"even"` (`over / count` apart) |
//! | `churn[i].at`           | `"0s"`               | `< duration`                         |
//! | `churn[i].for`          | until the end        | `> 0`, `at + for <= duration`        |
//! | `churn[i].population`   | the live nodes but node 0 | `>= 1`; join counts plus populations `<=` [`MAX_NODES`] |
//! | `churn[i].session`      | required             | a distribution table (below)         |
//! | `churn[i].offline`      | required, none with `rejoin = "never"` | a distribution table; not with `rejoin = "never"` |
//! | `churn[i].crash`        | `0.5`                | fraction in `[0, 1]`                 |
//! | `churn[i].rejoin`       | `"same"`             | `"same"`, `"new"`, `"never"`         |
//! | `leave[i].at`           | required             | `< duration`                         |
//! | `leave[i].node`         | one of `node`, `count` | `0 <=` node `<` sum of join counts |
//! | `leave[i].count`        | one of `node`, `count` | `1 <=` count `<=` sum of join counts `- 1` |
//! | `leave[i].mode`         | `"graceful"`         | `"graceful"`, `"crash"`              |
//! | `partition[i].at`       | `"0s"`               | `< duration`; partitions do not overlap in time |
//! | `partition[i].for`      | required             | `> 0`, `at + for <= duration`        |
//! | `partition[i].groups`   | one of `groups`, `regions` | `>= 2` fractions in `(0, 1]` summing to 1 |
//! | `partition[i].regions`  | one of `groups`, `regions` | `>= 2` non-empty groups of names from `network.regions`, each in one group at most |
//! | `lookups[i].at`         | `"0s"`               | `< duration`                         |
//! | `lookups[i].for`        | until the end        | `> 0`, `at + for <= duration`        |
//! | `lookups[i].rate`       | required             | lookups per second, `> 0`, `<=` [`MAX_LOOKUP_RATE`] (1000) |
//! | `assert[i].that`        | required             | `"<metric> <op> <number>"`, op one of `>=`, `<=`, `>`, `<`, `==`; a metric of [`crate::metric_names`]; a finite number |
//! | `assert[i].at`          | at the end           | a sample metric only; a multiple of `sample_interval`, `> 0`, `<= duration`; not with `from` |
//! | `assert[i].from`        | at the end           | a sample metric only; at most the last sample time; not with `at` |
//!
//! A distribution table (`session`, `offline`) is `{ distribution = "<kind>", ... }`
//! with exactly the parameters of its kind: `"exponential"`: `mean`;
//! `"weibull"`: `shape`, `scale`; `"lognormal"`: `mu`, `sigma`; `"pareto"`:
//! `shape`, `scale`; `"constant"`: `value`. `mean`, `scale` and `value` are
//! durations `> 0`; `shape` and `sigma` numbers `> 0`; `mu` any number. See
//! [`TimeDistribution`].
//!
//! # Where errors point
//!
//! An error's line and column point at the offending value; at the key itself
//! for an unknown key (including a parameter that does not belong to a
//! distribution, and an unknown region name in the latency matrix); at the table
//! header (`[[join]]`, the `{` of an inline table, or line 1 column 1 for a
//! top-level key) when a required key is missing. When a rule is broken by a
//! *default* (no such key in the file), the error is reported on the key that is
//! written and conflicts with it. A rule between two entries (a pair given twice
//! in the matrix, overlapping partitions) is reported on the later one, naming
//! the earlier.
//!
//! # Extending the schema
//!
//! A new key or workload list touches three places: its raw form (`raw.rs` or
//! `raw_workloads.rs`), its resolved form (`model.rs` or `workload.rs`) and its
//! rules and default (`validate*.rs`), plus its line in `render.rs`, a test in
//! `tests*.rs` and a line in `scenarios/README.md`. The error machinery (spans,
//! key paths, wording) needs no change; a string with a few allowed values is a
//! `Keyword` type (`keyword.rs`).

mod assert;
mod diagnose;
mod duration;
mod error;
mod keyword;
mod model;
mod raw;
mod raw_workloads;
mod render;
mod scale;
mod validate;
mod validate_assert;
mod validate_churn;
mod validate_common;
mod validate_network;
mod validate_shaping;
mod validate_workloads;
mod workload;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_assert;
#[cfg(test)]
mod tests_bootstrap;
#[cfg(test)]
mod tests_churn;
#[cfg(test)]
mod tests_files;
#[cfg(test)]
mod tests_network;
#[cfg(test)]
mod tests_shaping;
#[cfg(test)]
mod tests_workloads;

use std::path::Path;

use serde::Deserialize;
use toml::de::DeTable;

pub use assert::{Assert, AssertWhen, CmpOp};
pub use duration::{format_duration, parse_duration};
pub use error::ScenarioError;
pub use model::{
    Bootstrap, DEFAULT_LATENCY_MAX, DEFAULT_LATENCY_MIN, DEFAULT_SAMPLE_INTERVAL, DEFAULT_SEED,
    Latency, MAX_DURATION, MAX_LATENCY, MAX_NAME_LEN, MAX_NODES, Network, Region, Scenario,
    Security, Stack,
};
pub use workload::{
    Arrival, Churn, Departure, Join, Leave, LeaveWho, Lookups, MAX_LOOKUP_RATE, Partition, Ratio,
    Rejoin, Split, TimeDistribution,
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
