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

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;

use super::assert::Assert;
use super::keyword::Keyword;
pub(crate) use super::workload::Join;
use super::workload::{Churn, Leave, Lookups, Partition, Ratio};

/// The largest number of nodes a scenario may ask for: the sum of every
/// `[[join]]` `count` plus every `[[churn]]` `population` (a churn pool may add
/// nodes to fill itself).
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
    /// End the run before `duration` as soon as every scheduled join has
    /// happened and every live node has finished its first bootstrap (with
    /// success or not); `duration` stays the upper bound. Default: `false`.
    pub stop_when_bootstrapped: bool,
    /// Protocol stack of every node. Default: [`Stack::default`].
    pub stack: Stack,
    /// The simulated network between the nodes. Default: [`Network::default`].
    pub network: Network,
    /// Which nodes a joiner dials first (`[bootstrap]`). Default:
    /// [`Bootstrap::default`], the first node only.
    pub bootstrap: Bootstrap,
    /// The `[[join]]` workloads in file order; at least one. The first node of the
    /// first workload is the first bootstrap node.
    pub joins: Vec<Join>,
    /// The `[[churn]]` workloads in file order. Default: none.
    pub churn: Vec<Churn>,
    /// The `[[leave]]` events in file order. Default: none.
    pub leaves: Vec<Leave>,
    /// The `[[partition]]` workloads in file order; they may not overlap in
    /// time. Default: none.
    pub partitions: Vec<Partition>,
    /// The `[[lookups]]` workloads in file order. Default: none.
    pub lookups: Vec<Lookups>,
    /// The `[[assert]]` invariants in file order, checked after the run by
    /// `invariant::check`. Default: none.
    pub asserts: Vec<Assert>,
}

impl Scenario {
    /// Number of nodes the `[[join]]` workloads create: the sum of the join
    /// counts, at most [`MAX_NODES`]. (Churn pools and `rejoin = "new"` may
    /// create more during the run.)
    pub fn node_count(&self) -> usize {
        self.joins.iter().map(|join| join.count as usize).sum()
    }
}

/// The bootstrap nodes (`[bootstrap]`): the first `nodes` nodes to join.
/// Every later joiner is given `per_joiner` of them (all by default), adds
/// their addresses to its routing table, dials each and starts a Kademlia
/// bootstrap; a bootstrap node joining is given those that joined before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bootstrap {
    /// `nodes`: how many of the first nodes to join are bootstrap nodes.
    /// Default 1; from 1 to the number of nodes the `[[join]]` workloads
    /// create.
    pub nodes: u32,
    /// `per_joiner`: how many bootstrap nodes each joiner is given, drawn
    /// from the seed for each join (a subset, in bootstrap order); `None`
    /// (the default, written `"all"`) gives every one. From 1 to `nodes`.
    pub per_joiner: Option<u32>,
}

impl Default for Bootstrap {
    fn default() -> Self {
        Bootstrap {
            nodes: 1,
            per_joiner: None,
        }
    }
}

/// The protocol stack every node runs (`[stack]`). Every default is
/// rust-libp2p 0.57's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stack {
    /// `security`: connection security. Default: [`Security::Noise`].
    pub security: Security,
    /// `replication_factor`: Kademlia's k (bucket size, lookup result size).
    /// Default 20; `1..=256`.
    pub replication_factor: u16,
    /// `parallelism`: Kademlia's alpha (requests in flight per lookup).
    /// Default 3; `1..=64`.
    pub parallelism: u16,
    /// `query_timeout`: Kademlia query timeout. Default 60 s; `> 0`.
    pub query_timeout: Duration,
    /// `periodic_bootstrap`: Kademlia's periodic bootstrap interval, `None`
    /// when written as `"off"`. Default 5 min; `> 0`.
    pub periodic_bootstrap: Option<Duration>,
    /// `identify_interval`: period of identify's re-sends on a connection.
    /// Default 5 min; `> 0`.
    pub identify_interval: Duration,
    /// `idle_timeout`: the swarm closes a connection this long after it
    /// became idle. Default 10 s; `>= 0`.
    pub idle_timeout: Duration,
    /// `connection_timeout`: limit on dialing plus the security and muxer
    /// upgrades (libp2p's `SwarmBuilder` default); a dial to a crashed or
    /// partitioned-off node fails after it. Default 10 s; `> 0`.
    pub connection_timeout: Duration,
}

impl Default for Stack {
    fn default() -> Self {
        Stack {
            security: Security::Noise,
            replication_factor: 20,
            parallelism: 3,
            query_timeout: Duration::from_secs(60),
            periodic_bootstrap: Some(Duration::from_secs(5 * 60)),
            identify_interval: Duration::from_secs(5 * 60),
            idle_timeout: Duration::from_secs(10),
            connection_timeout: Duration::from_secs(10),
        }
    }
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

impl Keyword for Security {
    const WHAT: &'static str = "a security protocol";
    const CHOICES: &'static [(&'static str, Self)] = &[
        ("noise", Security::Noise),
        ("plaintext", Security::Plaintext),
    ];
}

/// The simulated network (`[network]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Network {
    /// `latency`: one-way latency of every link when there are no regions.
    /// Default: uniform 20 ms to 80 ms. Not allowed together with `regions`.
    pub latency: Latency,
    /// `[[network.regions]]`: named regions and the share of nodes in each,
    /// in file order. Empty (the default) means one flat network. When
    /// present, the shares sum to 1 (within 1e-9) and every pair of regions
    /// (a region with itself included) has a latency in `latency_matrix`.
    pub regions: Vec<Region>,
    /// `[network.latency_matrix]`: one-way latency between two regions,
    /// symmetric; written `a.b = "40ms"` or `a.b = { min, max }` for
    /// `a <= b` or `b <= a` (once per pair). Key `(i, j)` with `i <= j`,
    /// indices into `regions`.
    pub latency_matrix: BTreeMap<(usize, usize), Latency>,
    /// `loss`: the probability that a TCP segment is lost (each
    /// retransmission too); a lost one arrives a retransmission timeout
    /// late, in order. Default 0; `0 <= loss <= 0.5`.
    pub loss: Ratio,
    /// `upload_mbps`: every node's upload bandwidth, shared by its
    /// connections, in bits per second (written in Mbit/s). Default `None`:
    /// unlimited; `0 < upload_mbps <= 100000`.
    pub upload_bps: Option<u64>,
    /// `download_mbps`: every node's download bandwidth, shared by its
    /// connections and served in the order bytes reach the node, in bits
    /// per second (written in Mbit/s). Default `None`: unlimited;
    /// `0 < download_mbps <= 100000`.
    pub download_bps: Option<u64>,
    /// `[network.loss_matrix]`: the loss between two regions, symmetric,
    /// over `loss` for the pairs it names; written like `latency_matrix`
    /// (`a = { b = 0.01 }`, each pair once, either way round), but pairs
    /// may be left out. Key `(i, j)` with `i <= j`, indices into
    /// `regions`; each value `0 <= loss <= 0.5`. Default: empty.
    pub loss_matrix: BTreeMap<(usize, usize), Ratio>,
}

/// The largest `[network] loss`.
pub const MAX_LOSS: f64 = 0.5;

/// The largest `[network] upload_mbps` and `download_mbps`: 100 Gbit/s.
pub const MAX_UPLOAD_MBPS: f64 = 100_000.0;

impl Network {
    /// The latency between regions `a` and `b` (indices into `regions`).
    pub fn region_latency(&self, a: usize, b: usize) -> &Latency {
        self.latency_matrix
            .get(&(a.min(b), a.max(b)))
            .expect("validation requires every pair of regions in the matrix")
    }

    /// The loss between regions `a` and `b`: the loss matrix's value for
    /// the pair, else `loss`.
    pub fn region_loss(&self, a: usize, b: usize) -> f64 {
        self.loss_matrix
            .get(&(a.min(b), a.max(b)))
            .map_or(self.loss.0, |r| r.0)
    }
}

/// One region (`[[network.regions]]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    /// `name`: identifies the region in the latency matrix and in
    /// partitions. Required; 1-64 of `[A-Za-z0-9_-]`, unique.
    pub name: String,
    /// `share`: fraction of the nodes placed in this region (each node is
    /// placed by a draw from its own stream). Required; in `(0, 1]`.
    pub share: f64,
}

impl Eq for Region {}

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
