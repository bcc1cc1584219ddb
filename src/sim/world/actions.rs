//! The scenario's actions on the running network: churn sessions, planned
//! departures, partitions and lookup workloads. Each draws from its own
//! random stream (seed, label, index), so one workload never shifts
//! another's draws.

use std::sync::Arc;
use std::time::Duration;

use libp2p::PeerId;
use rand_chacha::ChaCha12Rng;

use super::{Simulation, mean_gap};
use crate::dist;
use crate::engine::NodeId;
use crate::rng;
use crate::scenario::{Departure, LeaveWho, Rejoin, Split};
use crate::sim::timeline::Event;

impl Simulation {
    fn churn_rng(&mut self, c: usize, node: NodeId) -> &mut ChaCha12Rng {
        let seed = self.seed;
        self.churn_rngs
            .entry((c, node))
            .or_insert_with(|| rng::stream(seed, "churn", ((c as u64) << 32) | u64::from(node)))
    }

    /// The running nodes other than the bootstrap nodes, in index order:
    /// those churn and `[[leave]] count` may pick.
    fn running_but_bootstrap(&self) -> Vec<NodeId> {
        let boot = &self.boot;
        self.sim
            .running()
            .filter(|&i| !boot.is_bootstrap(i))
            .collect()
    }

    pub(super) fn churn_start(&mut self, c: usize, now: Duration) {
        let churn = &self.scenario.churn[c];
        let mut pool = self.running_but_bootstrap();
        let population = churn.population.map_or(pool.len(), |p| p as usize);
        pool.truncate(population);
        while pool.len() < population {
            let i = self.fresh_index();
            self.start_node(i);
            pool.push(i);
        }
        for node in pool {
            self.schedule_session_end(c, node, now);
        }
    }

    fn schedule_session_end(&mut self, c: usize, node: NodeId, now: Duration) {
        let session = self.scenario.churn[c].session;
        let length = dist::sample(&session, self.churn_rng(c, node));
        self.timeline
            .push(now + length, Event::SessionEnd { churn: c, node });
    }

    pub(super) fn session_end(&mut self, c: usize, node: NodeId, now: Duration) {
        let churn = self.scenario.churn[c].clone();
        if now >= churn.at + churn.length || !self.sim.is_running(node) {
            return;
        }
        let crash = dist::bernoulli(self.churn_rng(c, node), churn.crash.0);
        self.stop_node(
            node,
            if crash {
                Departure::Crash
            } else {
                Departure::Graceful
            },
        );
        if let (Some(offline), Rejoin::Same | Rejoin::New) = (churn.offline, churn.rejoin) {
            let length = dist::sample(&offline, self.churn_rng(c, node));
            self.timeline
                .push(now + length, Event::OfflineEnd { churn: c, node });
        }
    }

    pub(super) fn offline_end(&mut self, c: usize, node: NodeId, now: Duration) {
        let returning = match self.scenario.churn[c].rejoin {
            Rejoin::Same if !self.sim.is_running(node) => node,
            Rejoin::New => self.fresh_index(),
            _ => return,
        };
        self.start_node(returning);
        self.schedule_session_end(c, returning, now);
    }

    fn fresh_index(&mut self) -> NodeId {
        let i = self.next_index;
        self.next_index += 1;
        i
    }

    pub(super) fn leave(&mut self, l: usize) {
        let leave = self.scenario.leaves[l].clone();
        let who: Vec<NodeId> = match leave.who {
            LeaveWho::Node(i) => vec![i],
            LeaveWho::Count(n) => {
                let mut candidates = self.running_but_bootstrap();
                let mut r = rng::stream(self.seed, "leave", l as u64);
                let mut chosen = Vec::new();
                while chosen.len() < n as usize && !candidates.is_empty() {
                    let k = rng::gen_below(&mut r, candidates.len() as u64) as usize;
                    chosen.push(candidates.swap_remove(k));
                }
                chosen
            }
        };
        for i in who {
            self.stop_node(i, leave.mode);
        }
    }

    pub(super) fn split(&mut self, p: usize, now: Duration) {
        let partition = &self.scenario.partitions[p];
        let group_of: Arc<dyn Fn(NodeId) -> Option<usize> + Send + Sync> = match &partition.split {
            Split::Fractions(fractions) => {
                let seed = self.seed;
                let mut acc = 0.0;
                let cumulative: Vec<f64> = fractions
                    .iter()
                    .map(|f| {
                        acc += f;
                        acc
                    })
                    .collect();
                Arc::new(move |node| {
                    let x =
                        rng::derive_u64(seed, "partition", ((p as u64) << 32) | u64::from(node));
                    let u = (x >> 11) as f64 / (1u64 << 53) as f64;
                    Some(
                        cumulative
                            .iter()
                            .position(|c| u < *c)
                            .unwrap_or(cumulative.len() - 1),
                    )
                })
            }
            Split::Regions(groups) => {
                let region_of = self.sim.regions();
                let groups = groups.clone();
                Arc::new(move |node| {
                    let region = region_of(node)?;
                    groups.iter().position(|g| g.contains(&region))
                })
            }
        };
        // One worker traces what concerns the whole network.
        if self.sim.is_local(0) {
            self.sim
                .record(now, 0, "split", None, || format!("partition {p}"));
        }
        self.sim
            .partition(partition.length, move |node| group_of(node));
    }

    pub(super) fn lookup(&mut self, w: usize, now: Duration) {
        let workload = self.scenario.lookups[w].clone();
        let r = &mut self.lookup_rngs[w];
        let live: Vec<NodeId> = self.sim.running().collect();
        if !live.is_empty() {
            let node = live[rng::gen_below(r, live.len() as u64) as usize];
            let key = random_key(r);
            if let Some(n) = self.study.borrow_mut().node(node) {
                self.sim
                    .record(now, node, "lookup_start", Some(&key), String::new);
                n.start_lookup(self.sim.swarm_mut(node), key, now);
            }
        }
        let next = now + dist::exponential(r, mean_gap(workload.rate));
        if next < workload.at + workload.length {
            self.timeline.push(next, Event::Lookup(w));
        }
    }
}

/// A random Kademlia key drawn from `r`, as `PeerId::random` makes one.
fn random_key(r: &mut ChaCha12Rng) -> PeerId {
    use rand_core::RngCore;
    let mut bytes = [0u8; 32];
    r.fill_bytes(&mut bytes);
    let hash = libp2p::multihash::Multihash::wrap(0, &bytes).expect("32 bytes fit a multihash");
    PeerId::from_multihash(hash).expect("an identity multihash is a valid peer id")
}
