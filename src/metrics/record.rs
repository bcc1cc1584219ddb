//! What a run records as it goes ([`Recorder`]): sessions, samples, lookups,
//! departures; and the finished [`RunReport`].

use std::time::Duration;

use libp2p::PeerId;

use super::buckets::BucketFill;
use super::outcome::{BootstrapOutcome, LookupOutcome, TableStats};
use crate::engine::NetStats;
use crate::engine::{NodeId, SchedulerStats, WindowStats};
use crate::scenario::Scenario;

/// Recall levels whose first-reach times `discovery.csv` reports.
pub const RECALL_LEVELS: [f64; 3] = [0.5, 0.9, 1.0];

/// One session of a node: from a join to its departure or the end of the run.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct NodeRecord {
    /// Node index.
    pub index: NodeId,
    /// Its peer id.
    #[serde(with = "super::outcome::peer_id")]
    pub peer_id: PeerId,
    /// Virtual time it joined.
    pub joined_at: Duration,
    /// End of its first bootstrap query, if any.
    pub first_bootstrap: Option<BootstrapOutcome>,
    /// Bootstrap nodes it was given when it joined (0 for the first node).
    pub bootstrap_peers: u32,
    /// How many of them were running when it joined.
    pub bootstrap_live: u32,
    /// Virtual times its routing table first held 50 %, 90 % and 100 % of
    /// its true k closest live peers ([`RECALL_LEVELS`]).
    pub recall_reached: [Option<Duration>; 3],
    /// Virtual time it was first in the routing tables of at least half of
    /// its own true k closest live peers.
    pub visible_at: Option<Duration>,
    /// When it left, if it did.
    pub left_at: Option<Duration>,
    /// Routing table and connections at the end of the session.
    pub end: TableStats,
}

impl NodeRecord {
    /// Whether it was given bootstrap nodes and none of them was running.
    pub fn bootstrap_gone(&self) -> bool {
        self.bootstrap_peers > 0 && self.bootstrap_live == 0
    }

    /// Time from join until the first bootstrap query ended.
    pub fn bootstrap_latency(&self) -> Option<Duration> {
        self.first_bootstrap
            .map(|b| b.at.saturating_sub(self.joined_at))
    }

    /// Time from join until recall level `i` of [`RECALL_LEVELS`].
    pub fn recall_latency(&self, i: usize) -> Option<Duration> {
        self.recall_reached[i].map(|t| t.saturating_sub(self.joined_at))
    }

    /// Time from join until it was visible to half its k closest.
    pub fn visible_latency(&self) -> Option<Duration> {
        self.visible_at.map(|t| t.saturating_sub(self.joined_at))
    }
}

/// One routing-table sample of one node.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Sample {
    /// Virtual time of the sample.
    pub time: Duration,
    /// Node index.
    pub node: NodeId,
    /// Entries, non-empty buckets and connected peers.
    pub stats: TableStats,
    /// Entries whose peer is not live.
    pub stale: usize,
    /// `|table ∩ true k closest| / |true k closest|`; `None` when the node
    /// is alone.
    pub recall: Option<f64>,
    /// `|true k closest|`: k, or fewer when fewer other nodes are live.
    pub closest: usize,
    /// `|table ∩ true k closest|`.
    pub closest_held: usize,
}

impl Sample {
    /// How many of its true k closest the table lacks.
    pub fn closest_missing(&self) -> usize {
        self.closest - self.closest_held
    }
}

/// Routing-table health as ProbeLab reports it for the IPFS DHT, over the
/// nodes of one sample that are not alone (`closest` > 0): the fractions
/// whose table holds all of their true k closest, lacks 3 or more of them
/// (fewer than k − 2), and holds fewer than 5 (fewer than all of them when
/// fewer than 5 other nodes are live).
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClosestHeld {
    /// Holds all of its true k closest.
    pub all: Option<f64>,
    /// Lacks 3 or more of them.
    pub missing3: Option<f64>,
    /// Holds fewer than 5 of them.
    pub below5: Option<f64>,
}

impl ClosestHeld {
    /// The fractions over `samples` (of one sample time).
    pub fn of<'a>(samples: impl IntoIterator<Item = &'a Sample>) -> ClosestHeld {
        let (mut n, mut all, mut missing3, mut below5) = (0usize, 0usize, 0usize, 0usize);
        for s in samples.into_iter().filter(|s| s.closest > 0) {
            n += 1;
            all += usize::from(s.closest_held == s.closest);
            missing3 += usize::from(s.closest_missing() >= 3);
            below5 += usize::from(s.closest_held < s.closest.min(5));
        }
        let fraction = |x: usize| (n > 0).then(|| x as f64 / n as f64);
        ClosestHeld {
            all: fraction(all),
            missing3: fraction(missing3),
            below5: fraction(below5),
        }
    }
}

/// One network-wide sample.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NetworkSample {
    /// Virtual time of the sample.
    pub time: Duration,
    /// Live nodes.
    pub live: usize,
    /// Joins since the previous sample.
    pub joins: u64,
    /// Departures (graceful and crashes) since the previous sample.
    pub departures: u64,
    /// Connections open (both ends held).
    pub connections: u64,
    /// Bytes carried since the previous sample.
    pub bytes: u64,
    /// Write calls (messages) carried since the previous sample.
    pub messages: u64,
    /// Mean of the nodes' recall.
    pub recall_mean: Option<f64>,
    /// 10th percentile (nearest rank) of the nodes' recall.
    pub recall_p10: Option<f64>,
    /// Mean over nodes of stale entries / entries (nodes with entries).
    pub stale_fraction_mean: Option<f64>,
    /// Fractions of nodes holding all, all but 3 or more, and fewer than 5
    /// of their true k closest.
    pub closest_held: ClosestHeld,
}

/// A finished lookup and how well it found the truth.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LookupRecord {
    /// What Kademlia reported.
    pub outcome: LookupOutcome,
    /// `|returned ∩ true k closest live peers of the key| / |true k
    /// closest|`, at the moment the lookup finished.
    pub recall: Option<f64>,
}

/// How many nodes left during a run, and how.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Departures {
    /// Graceful departures.
    pub graceful: u64,
    /// Crashes.
    pub crashes: u64,
}

/// Collects what a run measures as it happens.
pub struct Recorder {
    scenario: String,
    seed: u64,
    samples: Vec<Sample>,
    network: Vec<NetworkSample>,
    sessions: Vec<NodeRecord>,
    lookups: Vec<LookupRecord>,
    lookups_abandoned: u64,
    departures: Departures,
    holders: Vec<Holders>,
    buckets: Vec<BucketFill>,
    k: usize,
}

impl Recorder {
    /// A recorder for a run of `scenario` with `seed`.
    pub fn new(scenario: &Scenario, seed: u64) -> Self {
        Recorder {
            scenario: scenario.name.clone(),
            seed,
            samples: Vec::new(),
            network: Vec::new(),
            sessions: Vec::new(),
            lookups: Vec::new(),
            lookups_abandoned: 0,
            departures: Departures::default(),
            holders: Vec::new(),
            buckets: Vec::new(),
            k: usize::from(scenario.stack.replication_factor),
        }
    }

    /// Records the bucket fill of the nodes sampled here at a sample.
    pub fn buckets(&mut self, fill: BucketFill) {
        self.buckets.push(fill);
    }

    /// Records a worker's count of a node's holders at a sample.
    pub fn holders(&mut self, h: Holders) {
        self.holders.push(h);
    }

    /// Records one node's sample.
    pub fn sample(&mut self, sample: Sample) {
        self.samples.push(sample);
    }

    /// Records one network-wide sample.
    pub fn network_sample(&mut self, sample: NetworkSample) {
        self.network.push(sample);
    }

    /// Records a session that ended (by departure or by the end of the run).
    pub fn session(&mut self, record: NodeRecord) {
        self.sessions.push(record);
    }

    /// Records a finished lookup.
    pub fn lookup(&mut self, record: LookupRecord) {
        self.lookups.push(record);
    }

    /// Records a departure; `abandoned` lookups of the node were in flight.
    pub fn departed(&mut self, crash: bool, abandoned: usize) {
        if crash {
            self.departures.crashes += 1;
        } else {
            self.departures.graceful += 1;
        }
        self.lookups_abandoned += abandoned as u64;
    }

    /// Departures so far.
    pub fn departures(&self) -> Departures {
        self.departures
    }

    /// The report of the finished run.
    pub fn finish(
        mut self,
        virtual_time: Duration,
        scheduler: SchedulerStats,
        network: NetStats,
    ) -> RunReport {
        self.sessions.sort_by_key(|r| (r.joined_at, r.index));
        RunReport {
            scenario: self.scenario,
            seed: self.seed,
            nodes: self.sessions,
            lookups: self.lookups,
            lookups_abandoned: self.lookups_abandoned,
            departures: self.departures,
            samples: self.samples,
            network_samples: self.network,
            virtual_time,
            scheduler,
            network,
            trace_hash: String::new(),
            trace_events: 0,
            trace_file: None,
            lag: None,
            complete: true,
            holders: self.holders,
            buckets: self.buckets,
            k: self.k,
            windows: Vec::new(),
            trace_places: None,
        }
    }
}

/// Everything a finished run measured.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RunReport {
    /// Scenario name.
    pub scenario: String,
    /// Seed of the run.
    pub seed: u64,
    /// One record per session (join), in join order.
    pub nodes: Vec<NodeRecord>,
    /// Finished lookups, in finishing order.
    pub lookups: Vec<LookupRecord>,
    /// Lookups whose node left before they finished.
    pub lookups_abandoned: u64,
    /// Graceful departures and crashes during the run.
    pub departures: Departures,
    /// Routing-table samples, in time then node order.
    pub samples: Vec<Sample>,
    /// Network-wide samples, in time order.
    pub network_samples: Vec<NetworkSample>,
    /// Virtual time the run reached.
    pub virtual_time: Duration,
    /// Scheduler counters.
    pub scheduler: SchedulerStats,
    /// Network counters.
    pub network: NetStats,
    /// Hash of every traced event, in order (see `trace`).
    pub trace_hash: String,
    /// Events in the trace.
    pub trace_events: u64,
    /// `events.csv`, when the run was traced.
    pub trace_file: Option<std::path::PathBuf>,
    /// Real-time mode only: how late scenario events were applied.
    pub lag: Option<Lag>,
    /// False when the run stopped early (a panic, a livelock, a stop
    /// request): the figures cover the run up to that moment only.
    pub complete: bool,
    /// A worker of a run on several workers: at every sample, for every
    /// live node, how many of its true k closest peers that run here hold
    /// it, and how many closest peers it has (the parent sums the holders
    /// over the workers to find when each node became visible). Empty on
    /// one worker.
    #[serde(default)]
    pub holders: Vec<Holders>,
    /// At every sample, the entries of each k-bucket summed over the nodes
    /// sampled (`buckets.csv`).
    #[serde(default)]
    pub buckets: Vec<BucketFill>,
    /// Kademlia's k of the run.
    #[serde(default)]
    pub k: usize,
    /// On several workers: each worker's index and what the windows cost
    /// it. Empty on one.
    #[serde(default)]
    pub windows: Vec<(u32, WindowStats)>,
    /// On several workers: the place of each of this worker's traced
    /// events, in its order, for the merged trace (see
    /// [`crate::trace::places`]; written beside the report, not in it).
    #[serde(skip)]
    pub trace_places: Option<Vec<crate::trace::Place>>,
}

/// At a sample, how many of a node's true k closest peers on one worker
/// hold the node in their routing tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Holders {
    /// Virtual time of the sample.
    pub time: Duration,
    /// The node.
    pub node: NodeId,
    /// Holders among the closest peers that run on this worker.
    pub holders: u32,
    /// The node's true k closest live peers, on all workers.
    pub closest: u32,
}

impl RunReport {
    /// The same report, marked as covering an incomplete run.
    pub fn incomplete(mut self) -> Self {
        self.complete = false;
        self
    }
}

/// Whole milliseconds of `d`, rounded down.
pub fn ms(d: Duration) -> u128 {
    d.as_millis()
}

/// How late a real-time run applied its scenario events (joins, samples,
/// departures, lookups) against their scheduled times: a run that keeps up
/// with its timeline has small figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Lag {
    /// Events applied.
    pub events: u64,
    /// Sum of their delays.
    pub total: Duration,
    /// The largest delay.
    pub max: Duration,
}

impl Lag {
    /// Counts one event applied `late` after its time.
    pub fn record(&mut self, late: Duration) {
        self.events += 1;
        self.total += late;
        self.max = self.max.max(late);
    }

    /// Mean delay (zero without events).
    pub fn mean(&self) -> Duration {
        match u32::try_from(self.events) {
            Ok(0) | Err(_) => Duration::ZERO,
            Ok(n) => self.total / n,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lag_keeps_mean_and_maximum() {
        let mut lag = Lag::default();
        assert_eq!(lag.mean(), Duration::ZERO);
        for ms in [1, 2, 9] {
            lag.record(Duration::from_millis(ms));
        }
        assert_eq!(lag.events, 3);
        assert_eq!(lag.mean(), Duration::from_millis(4));
        assert_eq!(lag.max, Duration::from_millis(9));
    }

    fn sample(closest: usize, closest_held: usize) -> Sample {
        Sample {
            time: Duration::from_secs(30),
            node: 0,
            stats: TableStats::default(),
            stale: 0,
            recall: (closest > 0).then(|| closest_held as f64 / closest as f64),
            closest,
            closest_held,
        }
    }

    #[test]
    fn closest_held_fractions_by_hand() {
        // k = 20: holds 20, 19, 17 (lacks 3), 4 (fewer than 5); one node
        // alone (no truth) does not count; one of 3 live neighbours holds 3.
        let samples = [
            sample(20, 20),
            sample(20, 19),
            sample(20, 17),
            sample(20, 4),
            sample(0, 0),
            sample(3, 3),
        ];
        let f = ClosestHeld::of(&samples);
        assert_eq!(f.all, Some(2.0 / 5.0));
        assert_eq!(f.missing3, Some(2.0 / 5.0));
        // Fewer than min(5, closest): only the one holding 4 of 20.
        assert_eq!(f.below5, Some(1.0 / 5.0));
        assert_eq!(ClosestHeld::of(&[sample(0, 0)]), ClosestHeld::default());
        assert_eq!(ClosestHeld::of(&[sample(3, 2)]).below5, Some(1.0));
    }
}
