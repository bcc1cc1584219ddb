//! The resolved scenario: what the rest of the crate runs.
//!
//! These types are the *output* of [`Scenario::parse`](super::Scenario::parse):
//! every default is filled in and every rule of the schema has been checked, so a
//! consumer never sees an `Option` standing for "not written in the file" and never
//! needs to re-validate. The limits and defaults are public constants, so that the
//! CLI, the docs and the tests quote the same numbers.
//!
//! Adding a key to the schema means adding a field here (with its unit and default
//! in the doc comment), its raw counterpart in `raw.rs`, and its check in
//! `validate.rs`.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;

/// The largest total node count (the sum of every `[[join]]` `count`) a scenario
/// may ask for.
pub const MAX_NODES: usize = 100_000;

/// The longest virtual time a scenario may last: 30 days.
pub const MAX_DURATION: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// The largest one-way link latency a scenario may ask for: 60 seconds.
pub const MAX_LATENCY: Duration = Duration::from_secs(60);

/// The longest scenario name; names are used as output directory names.
pub const MAX_NAME_LEN: usize = 64;

/// The seed used when neither the file nor the CLI gives one.
pub const DEFAULT_SEED: u64 = 1;

/// The routing-table sampling period used when the file gives none (shortened to
/// the scenario's duration when that is shorter).
pub const DEFAULT_SAMPLE_INTERVAL: Duration = Duration::from_secs(30);

/// Lower bound of the default uniform one-way latency.
pub const DEFAULT_LATENCY_MIN: Duration = Duration::from_millis(20);

/// Upper bound of the default uniform one-way latency.
pub const DEFAULT_LATENCY_MAX: Duration = Duration::from_millis(80);

/// A fully resolved, validated scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    /// Identifies the scenario and names its output directory: 1 to 64 characters
    /// of `A-Z a-z 0-9 _ . -`, not `.` or `..`. Required.
    pub name: String,
    /// Free text for humans. Default: empty.
    pub description: String,
    /// Seed of every random choice of the run, used when the CLI gets no `--seed`.
    /// Default: [`DEFAULT_SEED`] (1).
    pub seed: u64,
    /// Virtual time the run lasts, from time zero. Required; `0 < duration <= 30d`.
    pub duration: Duration,
    /// Virtual-time period of the routing-table samples. Default: 30 s, or the
    /// duration if that is shorter; `0 < sample_interval <= duration`.
    pub sample_interval: Duration,
    /// Protocol stack of every node. Default: [`Stack::default`].
    pub stack: Stack,
    /// The simulated network between the nodes. Default: [`Network::default`].
    pub network: Network,
    /// The `[[join]]` workloads in file order; at least one. The first node of the
    /// first workload is the bootstrap node.
    pub joins: Vec<Join>,
}

impl Scenario {
    /// Total number of nodes the scenario creates: the sum of the join counts,
    /// at most [`MAX_NODES`].
    pub fn node_count(&self) -> usize {
        self.joins.iter().map(|join| join.count as usize).sum()
    }
}

/// The protocol stack every node runs (`[stack]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stack {
    /// Connection security. Default: [`Security::Noise`].
    pub security: Security,
}

/// How connections are secured (`stack.security`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub enum Security {
    /// `"noise"`: the Noise XX handshake, as in production libp2p. The default.
    #[default]
    Noise,
    /// `"plaintext"`: libp2p's plaintext handshake: cheaper, for large runs where
    /// the cryptography is not what is being studied.
    Plaintext,
}

impl Security {
    /// Every choice, in the order error messages list them.
    pub const ALL: [Security; 2] = [Security::Noise, Security::Plaintext];

    /// The spelling used in scenario files: `"noise"` or `"plaintext"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Security::Noise => "noise",
            Security::Plaintext => "plaintext",
        }
    }
}

impl fmt::Display for Security {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Security {
    type Err = String;

    /// Parses the file spelling; the error names the allowed values.
    fn from_str(s: &str) -> Result<Self, String> {
        Security::ALL
            .into_iter()
            .find(|security| security.as_str() == s)
            .ok_or_else(|| {
                format!(r#"{s:?} is not a security protocol; use "noise" or "plaintext""#)
            })
    }
}

impl TryFrom<String> for Security {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

/// The simulated network (`[network]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Network {
    /// One-way latency of every link. Default: uniform 20 ms to 80 ms.
    pub latency: Latency,
}

/// One-way latency of a link (`network.latency`); each bound is `>= 0` and
/// `<= 60s`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Latency {
    /// `latency = "50ms"`: every message takes exactly this long.
    Constant(Duration),
    /// `latency = { min = "20ms", max = "80ms" }`: each link draws its latency
    /// uniformly from `[min, max]` with the run's seed; `min <= max`.
    Uniform {
        /// Smallest latency, inclusive.
        min: Duration,
        /// Largest latency, inclusive.
        max: Duration,
    },
}

impl Default for Latency {
    fn default() -> Self {
        Latency::Uniform {
            min: DEFAULT_LATENCY_MIN,
            max: DEFAULT_LATENCY_MAX,
        }
    }
}

impl Latency {
    /// The smallest and largest latency this setting can produce
    /// (equal for [`Latency::Constant`]).
    pub fn bounds(&self) -> (Duration, Duration) {
        match *self {
            Latency::Constant(d) => (d, d),
            Latency::Uniform { min, max } => (min, max),
        }
    }
}

/// A join workload (`[[join]]`): `count` nodes start during `[at, at + over]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Join {
    /// Virtual time the workload starts. Default: 0 s; `at < duration`.
    pub at: Duration,
    /// Number of nodes that join; `>= 1`, and all counts together `<= MAX_NODES`.
    pub count: u32,
    /// Length of the window the joins are spread over, uniformly with the run's
    /// seed. Default: 0 s (all at `at`); `at + over <= duration`.
    pub over: Duration,
}

impl Join {
    /// Virtual time by which every node of this workload has joined: `at + over`.
    pub fn end(&self) -> Duration {
        self.at + self.over
    }
}
