//! The resolved workloads of a scenario: what happens when.
//!
//! Each workload is an array of tables in the file (`[[join]]`, `[[churn]]`,
//! `[[leave]]`, `[[partition]]`, `[[lookups]]`) with a start time `at` and,
//! for those that last, a length (`over` or `for`). All times are virtual
//! time since the start of the run. Every random choice a workload makes
//! (join times, session lengths, which nodes) is drawn from the run's seed.

use std::time::Duration;

use super::keyword::Keyword;

/// The largest `rate` of a `[[lookups]]` workload, in lookups per second.
pub const MAX_LOOKUP_RATE: f64 = 1000.0;

/// A join workload (`[[join]]`): `count` nodes start during `[at, at + over]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Join {
    /// `at`: virtual time the workload starts. Default: 0 s; `at < duration`.
    pub at: Duration,
    /// `count`: number of nodes that join; `>= 1`, and all nodes the
    /// scenario can create together `<= MAX_NODES`.
    pub count: u32,
    /// `over`: length of the window the joins are spread over. Default: 0 s
    /// (all at `at`); `at + over <= duration`.
    pub over: Duration,
    /// `arrival`: how join times are spread. Default: [`Arrival::Uniform`].
    pub arrival: Arrival,
}

impl Join {
    /// Virtual time by which every node of this workload has joined: `at + over`
    /// (for Poisson arrivals, the expected time of the last one).
    pub fn end(&self) -> Duration {
        self.at + self.over
    }
}

/// How the join times of a `[[join]]` are drawn (`arrival`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Arrival {
    /// `"uniform"`: each join time uniform in `[at, at + over]`, independently.
    #[default]
    Uniform,
    /// `"poisson"`: a Poisson process of rate `count / over`: exponential gaps
    /// with mean `over / count` from `at`, until `count` nodes joined. Joins
    /// that would fall after the end of the run do not happen.
    Poisson,
    /// `"even"`: evenly spaced, `over / count` apart from `at` (the first at
    /// `at`, the last at `at + over - over / count`): a fixed join rate with
    /// nothing drawn, as a test program that starts a node every few
    /// milliseconds.
    Even,
}

impl Keyword for Arrival {
    const WHAT: &'static str = "an arrival process";
    const CHOICES: &'static [(&'static str, Self)] = &[
        ("uniform", Arrival::Uniform),
        ("poisson", Arrival::Poisson),
        ("even", Arrival::Even),
    ];
}

/// A probability distribution of a length of time (`session`, `offline`).
///
/// In the file: `{ distribution = "exponential", mean = "30m" }`,
/// `{ distribution = "weibull", shape = 0.5, scale = "30m" }`,
/// `{ distribution = "lognormal", mu = 7.0, sigma = 1.0 }` (of seconds),
/// `{ distribution = "pareto", shape = 2.0, scale = "10m" }`,
/// `{ distribution = "constant", value = "10m" }`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TimeDistribution {
    /// Always `value`; `> 0`.
    Constant(Duration),
    /// Exponential with mean `mean` (`> 0`).
    Exponential {
        /// The mean.
        mean: Duration,
    },
    /// Weibull with shape k (`> 0`) and scale lambda (`> 0`):
    /// `P(X > x) = exp(-(x / lambda)^k)`.
    Weibull {
        /// Shape k; `< 1` gives the heavy tail measured in P2P networks.
        shape: f64,
        /// Scale lambda.
        scale: Duration,
    },
    /// Log-normal: `ln(X / 1 s)` is normal with mean `mu` and standard
    /// deviation `sigma` (`> 0`).
    LogNormal {
        /// Mean of the logarithm of the length in seconds.
        mu: f64,
        /// Standard deviation of that logarithm.
        sigma: f64,
    },
    /// Pareto (type I) with shape alpha (`> 0`) and scale x_m (`> 0`, the
    /// minimum): `P(X > x) = (x_m / x)^alpha` for `x >= x_m`.
    Pareto {
        /// Shape alpha; the mean is finite only for alpha > 1.
        shape: f64,
        /// Scale x_m, the smallest value.
        scale: Duration,
    },
}

impl Eq for TimeDistribution {}

/// What a churned or leaving node does when it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Departure {
    /// Closes its connections (peers see them end) and stops listening:
    /// later dials to it are refused after one round trip.
    Graceful,
    /// Vanishes: its connections black-hole (bytes sent to it are lost, no
    /// close is seen) until the peers' own timeouts fire; dials to it time
    /// out after the stack's `connection_timeout`.
    Crash,
}

impl Keyword for Departure {
    const WHAT: &'static str = "a departure mode";
    const CHOICES: &'static [(&'static str, Self)] = &[
        ("graceful", Departure::Graceful),
        ("crash", Departure::Crash),
    ];
}

/// The identity a node comes back with (`rejoin`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Rejoin {
    /// `"same"`: the same node (index, key, peer id, address) comes back.
    #[default]
    Same,
    /// `"new"`: a new node with a new index and identity takes its place.
    New,
    /// `"never"`: a departed node stays away.
    Never,
}

impl Keyword for Rejoin {
    const WHAT: &'static str = "a rejoin policy";
    const CHOICES: &'static [(&'static str, Self)] = &[
        ("same", Rejoin::Same),
        ("new", Rejoin::New),
        ("never", Rejoin::Never),
    ];
}

/// A churn workload (`[[churn]]`).
///
/// From `at` until `at + for`, a pool of `population` nodes alternates
/// between being online for a `session` length and offline for an `offline`
/// length, each drawn independently per node and period. At `at` the pool is
/// filled with the live nodes other than node 0 (the bootstrap node) in
/// index order; if there are fewer, new nodes join at `at` to fill it. Each
/// departure is a crash with probability `crash`, else graceful. In steady
/// state about `population * E[session] / (E[session] + E[offline])` pool
/// nodes are online.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Churn {
    /// `at`: when churn starts. Default 0 s; `< duration`.
    pub at: Duration,
    /// `for`: how long it lasts. Default: until the end of the run;
    /// `at + for <= duration`.
    pub length: Duration,
    /// `population`: size of the churned pool. Default: the live nodes
    /// other than node 0 at `at`; `>= 1`.
    pub population: Option<u32>,
    /// `session`: online length. Required.
    pub session: TimeDistribution,
    /// `offline`: offline length before a rejoin. Required unless
    /// `rejoin = "never"`.
    pub offline: Option<TimeDistribution>,
    /// `crash`: fraction of departures that are crashes. Default 0.5; in
    /// `[0, 1]`.
    pub crash: Ratio,
    /// `rejoin`: identity on return. Default [`Rejoin::Same`].
    pub rejoin: Rejoin,
}

/// A number in `[0, 1]`, compared exactly (it comes from the file).
#[derive(Debug, Clone, Copy, Default, PartialEq, PartialOrd)]
pub struct Ratio(pub f64);

impl Eq for Ratio {}

/// Which nodes a `[[leave]]` takes away (`node` or `count`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaveWho {
    /// `node = 0`: that node (if live at `at`).
    Node(u32),
    /// `count = 10`: that many live nodes other than node 0, drawn from the seed.
    Count(u32),
}

/// A one-off departure (`[[leave]]`), e.g. the bootstrap node leaving.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leave {
    /// `at`: when. Required; `< duration`.
    pub at: Duration,
    /// `node` or `count` (exactly one). Required.
    pub who: LeaveWho,
    /// `mode`: `"graceful"` or `"crash"`. Default graceful.
    pub mode: Departure,
}

/// How a `[[partition]]` splits the nodes.
#[derive(Debug, Clone, PartialEq)]
pub enum Split {
    /// `groups = [0.5, 0.5]`: each live node goes to group i with the given
    /// probability (fractions sum to 1, at least two).
    Fractions(Vec<f64>),
    /// `regions = [["eu"], ["us", "asia"]]`: groups of regions (indices into
    /// `network.regions`); each region in at most one group, at least two
    /// groups. Nodes of regions in no group keep talking to everyone.
    Regions(Vec<Vec<usize>>),
}

impl Eq for Split {}

/// A network partition (`[[partition]]`): from `at` to `at + for`, links
/// between nodes of different groups carry nothing: bytes sent across are
/// held and delivered after the heal (as TCP retransmission would), and new
/// connections across fail after the stack's `connection_timeout`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    /// `at`: when the split starts. Default 0 s; `< duration`.
    pub at: Duration,
    /// `for`: how long it lasts. Required; `> 0`, `at + for <= duration`.
    pub length: Duration,
    /// `groups` or `regions` (exactly one). Required.
    pub split: Split,
}

/// A lookup workload (`[[lookups]]`): from `at` to `at + for`, lookups
/// (`get_closest_peers` for a random key) start from random live nodes as a
/// Poisson process of `rate` lookups per second.
#[derive(Debug, Clone, PartialEq)]
pub struct Lookups {
    /// `at`: when. Default 0 s; `< duration`.
    pub at: Duration,
    /// `for`: how long. Default: until the end; `at + for <= duration`.
    pub length: Duration,
    /// `rate`: lookups per second of virtual time, over the whole network.
    /// Required; `> 0`, `<=` [`MAX_LOOKUP_RATE`] (1000).
    pub rate: f64,
}

impl Eq for Lookups {}
