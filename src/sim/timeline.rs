//! The scenario's timeline: scenario events keyed by virtual time, and the
//! draws that place them (join times, Poisson gaps).

use std::collections::BTreeMap;
use std::time::Duration;

use crate::dist;
use crate::engine::NodeId;
use crate::rng;
use crate::scenario::{Arrival, Scenario};

/// Something the scenario makes happen at a virtual time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event {
    /// Node joins for the first time (initial `[[join]]` workloads).
    Join(NodeId),
    /// Routing tables are sampled.
    Sample,
    /// Churn workload `c` starts: its pool is formed.
    ChurnStart(usize),
    /// A churned node's session ends.
    SessionEnd { churn: usize, node: NodeId },
    /// A churned node's offline period ends.
    OfflineEnd { churn: usize, node: NodeId },
    /// `[[leave]]` number `l` happens.
    Leave(usize),
    /// `[[partition]]` number `p` starts.
    Split(usize),
    /// The current partition heals.
    Heal,
    /// Lookup workload `w` starts its next lookup.
    Lookup(usize),
}

/// Events in time order; events at the same time keep insertion order.
#[derive(Debug, Default)]
pub(crate) struct Timeline {
    events: BTreeMap<(Duration, u64), Event>,
    seq: u64,
}

impl Timeline {
    /// Adds `event` at `at`.
    pub fn push(&mut self, at: Duration, event: Event) {
        self.events.insert((at, self.seq), event);
        self.seq += 1;
    }

    /// Time of the next event.
    pub fn next_time(&self) -> Option<Duration> {
        self.events.first_key_value().map(|(k, _)| k.0)
    }

    /// Removes and returns the next event if it is due by `t`.
    pub fn pop_due(&mut self, t: Duration) -> Option<Event> {
        let entry = self.events.first_entry()?;
        (entry.key().0 <= t).then(|| entry.remove())
    }
}

/// The join time of every node of the `[[join]]` workloads, in node order
/// (node 0 first). Node indices follow the workloads in file order, and join
/// order within a workload. Poisson arrivals may fall after the end of the
/// run; those joins never happen.
pub fn join_schedule(scenario: &Scenario, seed: u64) -> Vec<Duration> {
    let mut times = Vec::with_capacity(scenario.node_count());
    for (j, join) in scenario.joins.iter().enumerate() {
        let mut stream = rng::stream(seed, "join-times", j as u64);
        let mut batch: Vec<Duration> = match join.arrival {
            Arrival::Uniform => {
                let span = join.over.as_nanos() as u64 + 1;
                (0..join.count)
                    .map(|_| join.at + Duration::from_nanos(rng::gen_below(&mut stream, span)))
                    .collect()
            }
            Arrival::Poisson => {
                let mean_gap = join.over / join.count;
                let mut t = join.at;
                (0..join.count)
                    .map(|_| {
                        t += dist::exponential(&mut stream, mean_gap);
                        t
                    })
                    .collect()
            }
            Arrival::Even => {
                let gap = join.over / join.count;
                (0..join.count).map(|i| join.at + gap * i).collect()
            }
        };
        if j == 0 {
            // The bootstrap node comes first, at the workload's start.
            batch[0] = join.at;
        }
        batch.sort();
        times.extend(batch);
    }
    times
}
