//! Measuring nodes against the oracle while the run goes on.
//!
//! * **Recall levels.** Whenever a node's routing table gains a peer, and at
//!   every sample, its recall (`|table ∩ true k closest live| / |true k
//!   closest live|`) is computed; the first times it reaches 50 %, 90 % and
//!   100 % are kept.
//! * **Visibility.** Whenever some node Z adds peer Y to its table and Z is
//!   one of Y's true k closest, and at every sample, the harness counts how
//!   many of Y's k closest hold Y; the first time that is at least half of
//!   them is kept.
//! * **Lookups.** When a lookup finishes, its result is compared with the
//!   true k closest live peers of its key at that moment.
//! * **Samples.** Every `sample_interval`, each live node's table is read
//!   (entries, stale entries, recall) and a network-wide row is made.
//!
//! All of this happens between scheduler rounds, at the virtual instant
//! the events were produced, so the times are exact.

use std::collections::BTreeMap;
use std::time::Duration;

use libp2p::PeerId;

use crate::engine::{NetStats, NodeId, Sim};
use crate::metrics::{
    BucketFill, ClosestHeld, LookupRecord, NetworkSample, NodeRecord, RECALL_LEVELS, Recorder,
    Sample, nearest_rank, summary::mean,
};
use crate::metrics::{Holders, LookupOutcome};
use crate::node::{self, Behaviour};
use crate::oracle::{self, Oracle};

/// Progress of one live session.
#[derive(Debug, Clone, Default)]
struct Session {
    recall_reached: [Option<Duration>; 3],
    visible_at: Option<Duration>,
}

/// The measuring state of a run.
pub(super) struct Measure {
    oracle: Oracle,
    k: usize,
    sessions: BTreeMap<NodeId, Session>,
    /// True k closest of a node, with the oracle version it was computed at.
    closest: BTreeMap<NodeId, (u64, Vec<NodeId>)>,
    joins_since: u64,
    departures_since: u64,
    last_net: NetStats,
    /// On several workers: the holders of every node are counted at
    /// samples, for the parent to find visibility (a worker sees only its
    /// own nodes' tables).
    on_workers: bool,
}

impl Measure {
    pub fn new(k: usize, on_workers: bool) -> Self {
        Measure {
            on_workers,
            oracle: Oracle::default(),
            k,
            sessions: BTreeMap::new(),
            closest: BTreeMap::new(),
            joins_since: 0,
            departures_since: 0,
            last_net: NetStats::default(),
        }
    }

    /// `node` with id `peer` joined.
    pub fn joined(&mut self, node: NodeId, peer: PeerId) {
        self.oracle.join(node, peer);
        self.sessions.insert(node, Session::default());
        self.joins_since += 1;
    }

    /// `node` left; its session's progress goes into `record`.
    pub fn left(&mut self, node: NodeId, record: &mut NodeRecord) {
        self.oracle.leave(node);
        self.closest.remove(&node);
        self.departures_since += 1;
        self.fill(node, record);
        self.sessions.remove(&node);
    }

    /// `node`, which runs on another worker, left.
    pub fn left_elsewhere(&mut self, node: NodeId) {
        self.oracle.leave(node);
        self.closest.remove(&node);
        self.departures_since += 1;
        self.sessions.remove(&node);
    }

    /// Copies `node`'s progress into its session record.
    pub fn fill(&self, node: NodeId, record: &mut NodeRecord) {
        if let Some(s) = self.sessions.get(&node) {
            record.recall_reached = s.recall_reached;
            record.visible_at = s.visible_at;
        }
    }

    /// The true k closest live peers of live node `node`.
    fn closest_of(&mut self, node: NodeId) -> &[NodeId] {
        let version = self.oracle.version();
        let stale = self.closest.get(&node).is_none_or(|(v, _)| *v != version);
        if stale {
            let list = self.oracle.closest_to_node(node, self.k);
            self.closest.insert(node, (version, list));
        }
        &self.closest[&node].1
    }

    fn peers_of(&self, nodes: &[NodeId]) -> Vec<PeerId> {
        nodes
            .iter()
            .filter_map(|n| self.oracle.get(*n).map(|(p, _)| p))
            .collect()
    }

    /// Recall of `node`'s table `table` now, `None` if it is alone.
    fn recall(&mut self, node: NodeId, table: &[PeerId]) -> Option<f64> {
        let truth = self.closest_of(node).to_vec();
        oracle::recall(table, &self.peers_of(&truth))
    }

    fn note_recall(&mut self, node: NodeId, recall: Option<f64>, now: Duration) {
        let (Some(r), Some(s)) = (recall, self.sessions.get_mut(&node)) else {
            return;
        };
        for (i, level) in RECALL_LEVELS.iter().enumerate() {
            if s.recall_reached[i].is_none() && r >= *level {
                s.recall_reached[i] = Some(now);
            }
        }
    }

    fn needs_recall(&self, node: NodeId) -> bool {
        self.sessions
            .get(&node)
            .is_some_and(|s| s.recall_reached.iter().any(Option::is_none))
    }

    /// Of live node `y`'s true k closest, how many (that run on this worker)
    /// hold it now, and how many there are; `None` if `y` is not live.
    fn holders(&mut self, y: NodeId, sim: &mut Sim<Behaviour>) -> Option<(usize, usize)> {
        let (peer, _) = self.oracle.get(y)?;
        let closest = self.closest_of(y).to_vec();
        let holders = closest
            .iter()
            .filter(|z| {
                sim.peek_mut(**z)
                    .is_some_and(|swarm| node::table_contains(swarm, &peer))
            })
            .count();
        Some((holders, closest.len()))
    }

    /// Checks whether `y` is now in the tables of half its k closest.
    fn check_visible(&mut self, y: NodeId, sim: &mut Sim<Behaviour>, now: Duration) {
        if self.on_workers || self.sessions.get(&y).is_none_or(|s| s.visible_at.is_some()) {
            return;
        }
        let Some((holders, closest)) = self.holders(y, sim) else {
            return;
        };
        if closest > 0
            && 2 * holders >= closest
            && let Some(s) = self.sessions.get_mut(&y)
        {
            s.visible_at = Some(now);
        }
    }

    /// For every live node, how many of its true k closest that run on this
    /// worker hold it now.
    fn count_holders(
        &mut self,
        live: &[NodeId],
        sim: &mut Sim<Behaviour>,
        now: Duration,
        recorder: &mut Recorder,
    ) {
        for &y in live {
            if let Some((holders, closest)) = self.holders(y, sim) {
                recorder.holders(Holders {
                    time: now,
                    node: y,
                    holders: holders as u32,
                    closest: closest as u32,
                });
            }
        }
    }

    /// Handles what live node `x` reported since the last round: peers
    /// `added` to its table, finished `lookups`.
    pub fn news(
        &mut self,
        x: NodeId,
        added: Vec<PeerId>,
        lookups: Vec<LookupOutcome>,
        sim: &mut Sim<Behaviour>,
        now: Duration,
        recorder: &mut Recorder,
    ) {
        if !added.is_empty() && self.needs_recall(x) {
            let swarm = sim.peek_mut(x).expect("a node with news runs");
            let table = node::table_peers(swarm);
            let recall = self.recall(x, &table);
            self.note_recall(x, recall, now);
        }
        for peer in added {
            let Some(y) = self.oracle.node_of(&peer) else {
                continue;
            };
            if self.closest_of(y).contains(&x) {
                self.check_visible(y, sim, now);
            }
        }
        for outcome in lookups {
            let target = oracle::kad_key(&outcome.key);
            let truth = self.oracle.closest(&target, self.k, None);
            let recall = oracle::recall(&outcome.peers, &self.peers_of(&truth));
            recorder.lookup(LookupRecord { outcome, recall });
        }
    }

    /// Samples every live node and the network.
    pub fn sample(
        &mut self,
        sim: &mut Sim<Behaviour>,
        now: Duration,
        net: NetStats,
        recorder: &mut Recorder,
    ) {
        let mut recalls = Vec::new();
        let mut stale_fractions = Vec::new();
        let mut samples = Vec::new();
        let mut fill = BucketFill::new(now);
        let live: Vec<NodeId> = sim.running().collect();
        for &i in &live {
            // On several workers, another worker samples its own nodes.
            let Some(swarm) = sim.peek_mut(i) else {
                continue;
            };
            let stats = node::table_stats(swarm);
            fill.add(node::bucket_fill(swarm));
            let table = node::table_peers(swarm);
            let truth = self.closest_of(i).to_vec();
            let health = self.oracle.table_health(&table, &self.peers_of(&truth));
            let (stale, recall) = (health.stale, health.recall);
            self.note_recall(i, recall, now);
            recalls.extend(recall);
            if !table.is_empty() {
                stale_fractions.push(stale as f64 / table.len() as f64);
            }
            let sample = Sample {
                time: now,
                node: i,
                stats,
                stale,
                recall,
                closest: truth.len(),
                closest_held: health.held,
            };
            samples.push(sample);
            recorder.sample(sample);
        }
        for &i in &live {
            self.check_visible(i, sim, now);
        }
        if self.on_workers {
            self.count_holders(&live, sim, now, recorder);
        }
        recalls.sort_by(f64::total_cmp);
        recorder.network_sample(NetworkSample {
            time: now,
            live: live.len(),
            joins: std::mem::take(&mut self.joins_since),
            departures: std::mem::take(&mut self.departures_since),
            connections: net.open,
            bytes: net.bytes - self.last_net.bytes,
            messages: net.writes - self.last_net.writes,
            recall_mean: mean(recalls.iter().map(|r| Some(*r))),
            recall_p10: nearest_rank(&recalls, 0.1),
            stale_fraction_mean: mean(stale_fractions.into_iter().map(Some)),
            closest_held: ClosestHeld::of(&samples),
        });
        recorder.buckets(fill);
        self.last_net = net;
    }
}
