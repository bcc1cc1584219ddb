//! The state of one run (the engine's simulation of the nodes, the study's
//! record of each node, the timeline), its event loop, and the joins,
//! departures and samples of the timeline; the scenario's other actions
//! (churn, leaves, partitions, lookups) are in `actions`.
//!
//! The nodes run on the engine ([`crate::engine::Sim`]) and the study
//! reaches them only through its public API: nodes added at their
//! scenario index, an event handler that hands each node's events to its
//! [`Node`] record, and the engine's steps (`run_ready`, `next_timer`,
//! `advance_to`) interleaved with the timeline.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use libp2p::{Multiaddr, PeerId};
use rand_chacha::ChaCha12Rng;

use super::measure::Measure;
use super::status::{Progress, ProgressFn, SimError};
use super::timeline::{Event, Timeline, join_schedule};
use crate::dist;
use crate::engine::{EngineError, NodeId, Sim};
use crate::metrics::{Lag, NodeRecord, Recorder, RunReport};
use crate::node::{self, Behaviour, Node};
use crate::rng;
use crate::scenario::{Departure, Scenario, Stack};

mod actions;
mod bootstrap;

use bootstrap::BootstrapList;

/// Polls between two looks at the clock in real-time mode.
const REALTIME_BATCH: u64 = 256;

/// Rounds of the event loop between two progress reports (besides the
/// reports at every sample). Cheap: a report counts the live nodes.
const PROGRESS_ROUNDS: u64 = 4096;

/// The study's record of every live node, indexed by node index (`None`:
/// not joined yet, or left), shared with the engine's event handler.
#[derive(Default)]
pub(super) struct Study {
    pub slots: Vec<Option<Node>>,
    /// Nodes with news for the measurements since the last round.
    pub news: Vec<NodeId>,
}

impl Study {
    /// Node `node`'s record, if it is live.
    pub fn node(&mut self, node: NodeId) -> Option<&mut Node> {
        self.slots.get_mut(node as usize).and_then(Option::as_mut)
    }
}

pub(super) struct Simulation {
    scenario: Scenario,
    seed: u64,
    /// The nodes' swarms, clock and network.
    sim: Sim<Behaviour>,
    study: Rc<RefCell<Study>>,
    /// Whether `sim` runs in real time.
    realtime: bool,
    /// Every node's stack, for its behaviour builder.
    stack: Rc<Stack>,
    /// The next index a brand-new node gets.
    next_index: NodeId,
    timeline: Timeline,
    /// The bootstrap nodes, and the draws of each joiner's list.
    boot: BootstrapList,
    /// Per-(churn workload, node) streams of session and offline draws.
    churn_rngs: BTreeMap<(usize, NodeId), ChaCha12Rng>,
    lookup_rngs: Vec<ChaCha12Rng>,
    recorder: Recorder,
    measure: Measure,
    progress: Option<ProgressFn>,
    /// Rounds of the event loop so far (for progress reports).
    rounds: u64,
    /// Set from outside to stop the run early.
    stop: Option<&'static AtomicBool>,
    scenario_events: u64,
    /// First joins (`Event::Join`) not applied yet.
    joins_left: usize,
    /// Live nodes whose first bootstrap has not finished (kept only with
    /// `stop_when_bootstrapped`).
    awaiting_bootstrap: BTreeSet<NodeId>,
    /// Real-time mode: how late scenario events were applied.
    lag: Lag,
}

impl Simulation {
    /// The run of `scenario` under `seed` on `sim`, an engine simulation
    /// without nodes yet (`realtime`: one made by `Sim::realtime`).
    pub fn new(
        scenario: &Scenario,
        seed: u64,
        mut sim: Sim<Behaviour>,
        realtime: bool,
        progress: Option<ProgressFn>,
    ) -> Self {
        let mut timeline = Timeline::default();
        let joins = join_schedule(scenario, seed);
        let next_index = joins.len() as NodeId;
        for (i, t) in joins.into_iter().enumerate() {
            timeline.push(t, Event::Join(i as NodeId));
        }
        let interval = scenario.sample_interval;
        let mut t = interval;
        while t <= scenario.duration {
            timeline.push(t, Event::Sample);
            t += interval;
        }
        for (c, churn) in scenario.churn.iter().enumerate() {
            timeline.push(churn.at, Event::ChurnStart(c));
        }
        for (l, leave) in scenario.leaves.iter().enumerate() {
            timeline.push(leave.at, Event::Leave(l));
        }
        for (p, partition) in scenario.partitions.iter().enumerate() {
            timeline.push(partition.at, Event::Split(p));
            timeline.push(partition.at + partition.length, Event::Heal);
        }
        let mut lookup_rngs = Vec::new();
        for (w, lookups) in scenario.lookups.iter().enumerate() {
            let mut r = rng::stream(seed, "lookups", w as u64);
            let first = lookups.at + dist::exponential(&mut r, mean_gap(lookups.rate));
            timeline.push(first, Event::Lookup(w));
            lookup_rngs.push(r);
        }
        let on_workers = sim.workers().is_some();
        let study = Rc::new(RefCell::new(Study {
            slots: Vec::with_capacity(scenario.node_count()),
            news: Vec::new(),
        }));
        sim.set_tracer(node::tracer());
        let shared = study.clone();
        sim.on_event(move |index, now, swarm, event| {
            let mut study = shared.borrow_mut();
            let study = &mut *study;
            if let Some(n) = study.node(index) {
                let had_news = n.has_news();
                n.on_event(swarm, event, now);
                if !had_news && n.has_news() {
                    study.news.push(index);
                }
            }
            None
        });
        Simulation {
            scenario: scenario.clone(),
            seed,
            sim,
            study,
            realtime,
            stack: Rc::new(scenario.stack.clone()),
            next_index,
            timeline,
            boot: BootstrapList::new(scenario.bootstrap, seed),
            churn_rngs: BTreeMap::new(),
            lookup_rngs,
            recorder: Recorder::new(scenario, seed),
            measure: Measure::new(usize::from(scenario.stack.replication_factor), on_workers),
            progress,
            rounds: 0,
            stop: None,
            scenario_events: 0,
            joins_left: next_index as usize,
            awaiting_bootstrap: BTreeSet::new(),
            lag: Lag::default(),
        }
    }

    /// With `stop_when_bootstrapped`: every first join happened and every
    /// live node finished its first bootstrap.
    fn all_bootstrapped(&self) -> bool {
        self.scenario.stop_when_bootstrapped
            && self.joins_left == 0
            && self.awaiting_bootstrap.is_empty()
    }

    /// The event loop (see the module docs of `sim`).
    pub fn run(&mut self) -> Result<(), SimError> {
        if self.realtime {
            return self.run_realtime();
        }
        let end = self.scenario.duration;
        loop {
            self.sim.run_ready().map_err(livelock)?;
            self.take_news();
            if self.all_bootstrapped() {
                return Ok(());
            }
            let next_event = self.timeline.next_time();
            let next = match (self.sim.next_timer(), next_event) {
                (Some(a), Some(b)) => a.min(b),
                (a, b) => a.or(b).unwrap_or(end),
            };
            if next > end {
                // On several workers, a message may arrive before the end.
                if self.sim.advance_to(end) == end {
                    return Ok(());
                }
                continue;
            }
            let next = self.sim.advance_to(next);
            while let Some(event) = self.timeline.pop_due(next) {
                self.apply(event, next);
            }
            self.end_round(next)?;
            if next == end && !self.sim.has_ready() && self.timeline.next_time().is_none() {
                return Ok(());
            }
        }
    }

    /// The event loop in real time: poll what is ready, apply the scenario
    /// events whose time has come, and otherwise sleep until the next one or
    /// until a task is woken (by a socket, a timer thread or a connection
    /// task on the tokio runtime).
    fn run_realtime(&mut self) -> Result<(), SimError> {
        let end = self.scenario.duration;
        loop {
            // A bounded batch, so that scenario events stay on time.
            self.sim.run_ready_at_most(REALTIME_BATCH);
            self.take_news();
            self.end_round(self.sim.now())?;
            if self.all_bootstrapped() {
                return Ok(());
            }
            let now = self.sim.now();
            let next = self.timeline.next_time().unwrap_or(end).min(end);
            if next <= now {
                if next == end && self.timeline.next_time().is_none_or(|t| t > end) {
                    return Ok(());
                }
                while let Some(at) = self.timeline.next_time().filter(|t| *t <= now.min(end)) {
                    let event = self.timeline.pop_due(at).expect("an event is due at `at`");
                    self.lag.record(now - at);
                    self.apply(event, at);
                }
            } else {
                // At most 100 ms, so that a stop request is seen promptly.
                self.sim
                    .sleep_until_woken((next - now).min(Duration::from_millis(100)));
            }
        }
    }

    /// The run's time now (virtual, or real since the start).
    pub fn now(&self) -> Duration {
        self.sim.now()
    }

    /// How late real-time mode applied scenario events.
    pub fn lag(&self) -> Option<Lag> {
        self.realtime.then_some(self.lag)
    }

    /// The node whose task was being polled (after a panic: the culprit).
    pub fn running_node(&self) -> Option<NodeId> {
        self.sim.polling_node()
    }

    /// Hands what nodes reported in the last round to the measurements.
    fn take_news(&mut self) {
        let now = self.sim.now();
        let news = std::mem::take(&mut self.study.borrow_mut().news);
        for x in news {
            let taken = self.study.borrow_mut().node(x).map(|n| {
                (
                    std::mem::take(&mut n.routing_added),
                    std::mem::take(&mut n.finished_lookups),
                )
            });
            if let Some((added, lookups)) = taken {
                self.measure
                    .news(x, added, lookups, &mut self.sim, now, &mut self.recorder);
            }
            if let Some(node) = self.study.borrow_mut().node(x)
                && std::mem::take(&mut node.bootstrap_news)
            {
                self.awaiting_bootstrap.remove(&x);
            }
        }
    }

    /// Applies `event`, due at `now` (in real time it may be applied a
    /// little later; its effects are dated when due).
    fn apply(&mut self, event: Event, now: Duration) {
        self.scenario_events += 1;
        match event {
            Event::Join(i) => {
                self.joins_left -= 1;
                self.start_node(i);
            }
            Event::Sample => self.sample(now),
            Event::ChurnStart(c) => self.churn_start(c, now),
            Event::SessionEnd { churn, node } => self.session_end(churn, node, now),
            Event::OfflineEnd { churn, node } => self.offline_end(churn, node, now),
            Event::Leave(l) => self.leave(l),
            Event::Split(p) => self.split(p, now),
            Event::Heal => {
                // One worker traces what concerns the whole network.
                if self.sim.is_local(0) {
                    self.sim.record(now, 0, "heal", None, String::new);
                }
                self.sim.heal();
            }
            Event::Lookup(w) => self.lookup(w, now),
        }
    }

    /// Starts node `i` (first join, or rejoin with the same identity). The
    /// engine traces it as `join`.
    fn start_node(&mut self, i: NodeId) {
        let now = self.sim.now();
        if self.sim.was_added(i) {
            self.sim.restart(i);
        } else {
            let stack = self.stack.clone();
            self.sim
                .add_node_at(i, move |key| node::behaviour(key, &stack));
        }
        let peer = self.sim.peer_id(i);
        let local = self.sim.is_local(i);
        // Drawn on every worker, so that the draws stay in step.
        let given = self.boot.pick(i, |b| self.sim.was_added(b));
        let live = given.iter().filter(|&&b| self.sim.is_running(b)).count();
        if local && !given.is_empty() {
            let peers: Vec<(PeerId, Multiaddr)> = given
                .iter()
                .map(|&b| (self.sim.peer_id(b), self.sim.addr(b)))
                .collect();
            node::join_via(self.sim.swarm_mut(i), &peers);
        }
        self.measure.joined(i, peer);
        if self.scenario.stop_when_bootstrapped {
            self.awaiting_bootstrap.insert(i);
        }
        if !local {
            return;
        }
        let mut study = self.study.borrow_mut();
        let slot = i as usize;
        if study.slots.len() <= slot {
            study.slots.resize_with(slot + 1, || None);
        }
        let mut node = Node::new(i, peer, now);
        node.bootstrap_peers = given.len() as u32;
        node.bootstrap_live = live as u32;
        study.slots[slot] = Some(node);
    }

    /// Node `i` leaves now, gracefully or by crashing.
    fn stop_node(&mut self, i: NodeId, how: Departure) {
        // Whatever it reported before leaving still counts.
        self.take_news();
        if !self.sim.is_running(i) {
            return;
        }
        // On several workers, only the node's own worker has its record.
        let node = self
            .study
            .borrow_mut()
            .slots
            .get_mut(i as usize)
            .and_then(Option::take);
        self.awaiting_bootstrap.remove(&i);
        let crash = how == Departure::Crash;
        let now = self.sim.now();
        // Read before the swarm goes.
        let record = node.as_ref().map(|n| self.session_record(n, Some(now)));
        if crash {
            self.sim.crash(i);
        } else {
            self.sim.stop(i);
        }
        match (node, record) {
            (Some(node), Some(mut record)) => {
                self.recorder.departed(crash, node.lookups_in_flight());
                self.measure.left(i, &mut record);
                self.recorder.session(record);
            }
            _ => self.measure.left_elsewhere(i),
        }
    }

    /// The record of `node`'s session, ending at `left_at` (`None`: the
    /// run's end).
    fn session_record(&mut self, node: &Node, left_at: Option<Duration>) -> NodeRecord {
        let swarm = self
            .sim
            .peek_mut(node.index)
            .expect("a node with a record runs");
        NodeRecord {
            index: node.index,
            peer_id: node.peer_id,
            joined_at: node.joined_at,
            first_bootstrap: node.first_bootstrap,
            bootstrap_peers: node.bootstrap_peers,
            bootstrap_live: node.bootstrap_live,
            recall_reached: [None; 3],
            visible_at: None,
            left_at,
            end: node::table_stats(swarm),
        }
    }

    fn sample(&mut self, now: Duration) {
        self.take_news();
        let net = self.sim.net_stats();
        self.measure
            .sample(&mut self.sim, now, net, &mut self.recorder);
        self.report_progress(now);
    }

    /// Tells the progress callback, if any, where the run is.
    fn report_progress(&mut self, now: Duration) {
        if let Some(progress) = &mut self.progress {
            progress(Progress {
                now,
                end: self.scenario.duration,
                nodes: self.sim.running().count(),
                waiting: self.sim.window_stats().map(|w| w.waiting),
            });
        }
    }

    /// Ends a round of the event loop: stops the run if asked to, and
    /// between samples reports progress every [`PROGRESS_ROUNDS`] rounds, so
    /// a slow stretch (thousands of joins in one sample interval) still
    /// shows where the run is.
    fn end_round(&mut self, now: Duration) -> Result<(), SimError> {
        if self.stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
            let at_ms = now.as_millis() as u64;
            return Err(SimError::Interrupted {
                at_ms,
                partial: None,
            });
        }
        self.rounds += 1;
        if self.rounds.is_multiple_of(PROGRESS_ROUNDS) {
            self.report_progress(now);
        }
        Ok(())
    }

    /// Makes the run stop when `flag` becomes true (see `RunOptions::stop`).
    pub fn stop_on(&mut self, flag: Option<&'static AtomicBool>) {
        self.stop = flag;
    }

    /// Panics while polling node `n` at or after virtual time `at` (see
    /// [`TestFaults::panic_at`](super::TestFaults::panic_at)).
    pub fn inject_panic(&mut self, at: Option<(NodeId, Duration)>) {
        if let Some((node, at)) = at {
            self.sim.inject_panic(node, at);
        }
    }

    /// The run's report. With `skip_teardown` the nodes, their connections
    /// and the network are never freed (see `RunOptions::skip_teardown`).
    pub fn finish(mut self, skip_teardown: bool) -> RunReport {
        let now = self.sim.now();
        self.take_news();
        let live: Vec<NodeId> = self
            .sim
            .running()
            .filter(|n| self.sim.is_local(*n))
            .collect();
        for i in live {
            let node = self.study.borrow_mut().slots[i as usize].take();
            if let Some(node) = node {
                let mut record = self.session_record(&node, None);
                self.measure.fill(node.index, &mut record);
                self.recorder.session(record);
            }
        }
        self.sim.leave();
        let mut stats = self.sim.scheduler_stats();
        stats.timers_fired = self.sim.timers_fired();
        stats.scenario_events = self.scenario_events;
        let recorder = std::mem::replace(&mut self.recorder, Recorder::new(&self.scenario, 0));
        let mut report = recorder.finish(now, stats, self.sim.net_stats());
        if let (Some(w), Some(cost)) = (self.sim.workers(), self.sim.window_stats()) {
            report.windows.push((w.index, cost));
        }
        if skip_teardown {
            std::mem::forget(self);
        }
        report
    }
}

/// Mean gap of a Poisson process of `rate` events per second.
fn mean_gap(rate: f64) -> Duration {
    Duration::from_secs_f64(1.0 / rate)
}

/// The run's error for an engine error in its loop.
fn livelock(e: EngineError) -> SimError {
    match e {
        EngineError::Livelock { at, polls, .. } => SimError::Livelock {
            at_ms: at.as_millis() as u64,
            polls,
            partial: None,
        },
        other => SimError::Engine(other),
    }
}
