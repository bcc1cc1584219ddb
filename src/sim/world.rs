//! The state of one run (nodes, network, scheduler, timeline), its event
//! loop, and the joins, departures and samples of the timeline; the
//! scenario's other actions (churn, leaves, partitions, lookups) are in
//! `actions`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Context;
use std::time::Duration;

use libp2p::{Multiaddr, PeerId};
use rand_chacha::ChaCha12Rng;

use super::host::{Mode, Net, Time};
use super::measure::Measure;
use super::status::{Progress, ProgressFn, SimError};
use super::timeline::{Event, Timeline, join_schedule};
use crate::dist;
use crate::metrics::{Lag, NodeRecord, Recorder, RunReport};
use crate::net::{LatencyModel, Network};
use crate::node::Node;
use crate::rng;
use crate::scenario::{Departure, Scenario};
use crate::scheduler::{NodeDriver, NodeId, Scheduler};
use crate::trace::TraceHandle;

mod actions;

/// Polls allowed at one virtual instant before the run is declared stuck.
const POLLS_PER_INSTANT_LIMIT: u64 = 20_000_000;

/// Polls between two looks at the clock in real-time mode.
const REALTIME_BATCH: u64 = 256;

/// Rounds of the event loop between two progress reports (besides the
/// reports at every sample). Cheap: a report counts the live nodes.
const PROGRESS_ROUNDS: u64 = 4096;

/// The live nodes, indexed by node index (`None`: not joined yet, or left).
struct Nodes<'a> {
    slots: Vec<Option<Node>>,
    time: Time<'a>,
    /// Nodes with news for the measurements since the last round.
    news: Vec<NodeId>,
    /// [`TestFaults::panic_at`](super::TestFaults::panic_at).
    panic_at: Option<(NodeId, Duration)>,
}

impl NodeDriver for Nodes<'_> {
    fn poll_node(&mut self, node: NodeId, cx: &mut Context<'_>) {
        if let Some((n, at)) = self.panic_at
            && n == node
            && self.time.now() >= at
        {
            panic!("test panic (--inject-panic) in node {node}");
        }
        if let Some(n) = self.slots.get_mut(node as usize).and_then(Option::as_mut) {
            let had_news = n.has_news();
            n.poll(cx, self.time.now());
            if !had_news && n.has_news() {
                self.news.push(node);
            }
        }
    }
}

impl Nodes<'_> {
    fn live(&self) -> impl Iterator<Item = &Node> {
        self.slots.iter().flatten()
    }

    fn is_live(&self, node: NodeId) -> bool {
        self.slots.get(node as usize).is_some_and(Option::is_some)
    }
}

pub(super) struct Simulation<'a> {
    scenario: Scenario,
    seed: u64,
    time: Time<'a>,
    sched: Scheduler,
    model: LatencyModel,
    net: Net,
    nodes: Nodes<'a>,
    /// The next index a brand-new node gets.
    next_index: NodeId,
    timeline: Timeline,
    boot: Option<(PeerId, Multiaddr)>,
    /// Per-(churn workload, node) streams of session and offline draws.
    churn_rngs: BTreeMap<(usize, NodeId), ChaCha12Rng>,
    lookup_rngs: Vec<ChaCha12Rng>,
    recorder: Recorder,
    measure: Measure,
    progress: Option<ProgressFn>,
    trace: TraceHandle,
    /// Timers fired and scenario events applied so far.
    timers_fired: u64,
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

impl<'a> Simulation<'a> {
    pub fn new(
        scenario: &Scenario,
        seed: u64,
        mode: Mode<'a>,
        progress: Option<ProgressFn>,
        trace: TraceHandle,
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
        let model = LatencyModel::from_config(seed, &scenario.network);
        let (time, net) = match mode {
            Mode::Virtual(clock) => (Time::Virtual(clock), Net::Sim(Network::new(model.clone()))),
            Mode::Real(real) => (
                Time::Real {
                    start: sim_runtime::now(),
                },
                Net::Real(real),
            ),
        };
        Simulation {
            scenario: scenario.clone(),
            seed,
            time,
            sched: Scheduler::new(rng::stream(seed, "scheduler", 0)),
            net,
            model,
            nodes: Nodes {
                slots: Vec::with_capacity(scenario.node_count()),
                time,
                news: Vec::new(),
                panic_at: None,
            },
            next_index,
            timeline,
            boot: None,
            churn_rngs: BTreeMap::new(),
            lookup_rngs,
            recorder: Recorder::new(scenario, seed),
            measure: Measure::new(usize::from(scenario.stack.replication_factor)),
            progress,
            trace,
            timers_fired: 0,
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
        let Time::Virtual(clock) = self.time else {
            return self.run_realtime();
        };
        let end = self.scenario.duration;
        loop {
            let polls = self
                .sched
                .run_ready(&mut self.nodes, POLLS_PER_INSTANT_LIMIT);
            if polls == POLLS_PER_INSTANT_LIMIT && self.sched.has_ready() {
                return Err(SimError::Livelock {
                    at_ms: clock.now().as_millis() as u64,
                    polls,
                    partial: None,
                });
            }
            self.take_news();
            if self.all_bootstrapped() {
                return Ok(());
            }
            let next_event = self.timeline.next_time();
            let next = match (clock.next_deadline(), next_event) {
                (Some(a), Some(b)) => a.min(b),
                (a, b) => a.or(b).unwrap_or(end),
            };
            if next > end {
                self.timers_fired += clock.advance_to(end) as u64;
                return Ok(());
            }
            self.timers_fired += clock.advance_to(next) as u64;
            while let Some(event) = self.timeline.pop_due(next) {
                self.apply(event, next);
            }
            self.end_round(next)?;
            if next == end && !self.sched.has_ready() && self.timeline.next_time().is_none() {
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
        self.sched.unpark_on_wake(std::thread::current());
        loop {
            // A bounded batch, so that scenario events stay on time.
            self.sched.run_ready(&mut self.nodes, REALTIME_BATCH);
            self.take_news();
            self.end_round(self.time.now())?;
            if self.all_bootstrapped() {
                return Ok(());
            }
            let now = self.time.now();
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
            } else if !self.sched.has_ready() {
                // At most 100 ms, so that a stop request is seen promptly.
                std::thread::park_timeout((next - now).min(Duration::from_millis(100)));
            }
        }
    }

    /// The run's time now (virtual, or real since the start).
    pub fn now(&self) -> Duration {
        self.time.now()
    }

    /// How late real-time mode applied scenario events.
    pub fn lag(&self) -> Option<Lag> {
        matches!(self.time, Time::Real { .. }).then_some(self.lag)
    }

    /// The node whose task was being polled (after a panic: the culprit).
    pub fn running_node(&self) -> Option<NodeId> {
        self.sched.running()
    }

    /// Hands what nodes reported in the last round to the measurements.
    fn take_news(&mut self) {
        let now = self.time.now();
        for x in std::mem::take(&mut self.nodes.news) {
            self.measure
                .news(x, &mut self.nodes.slots, now, &mut self.recorder);
            if let Some(node) = self
                .nodes
                .slots
                .get_mut(x as usize)
                .and_then(Option::as_mut)
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
                self.trace
                    .borrow_mut()
                    .record(now, 0, "heal", None, String::new);
                self.net.heal();
            }
            Event::Lookup(w) => self.lookup(w, now),
        }
    }

    /// Starts node `i` (first join or rejoin with the same identity).
    fn start_node(&mut self, i: NodeId) {
        let now = self.time.now();
        self.net.revive(i);
        let mut node = self.net.node(
            i,
            self.seed,
            &self.scenario.stack,
            &self.sched,
            now,
            self.trace.clone(),
        );
        self.trace
            .borrow_mut()
            .record(now, i, "join", Some(&node.peer_id), String::new);
        match &self.boot {
            Some((peer, addr)) => node.join_via(*peer, addr.clone()),
            None => self.boot = Some((node.peer_id, node.addr.clone())),
        }
        let slot = i as usize;
        if self.nodes.slots.len() <= slot {
            self.nodes.slots.resize_with(slot + 1, || None);
        }
        self.measure.joined(i, node.peer_id);
        if self.scenario.stop_when_bootstrapped {
            self.awaiting_bootstrap.insert(i);
        }
        self.nodes.slots[slot] = Some(node);
        self.sched.add_node(i);
    }

    /// Node `i` leaves now, gracefully or by crashing.
    fn stop_node(&mut self, i: NodeId, how: Departure) {
        // Whatever it reported before leaving still counts.
        self.take_news();
        let Some(mut node) = self.nodes.slots.get_mut(i as usize).and_then(Option::take) else {
            return;
        };
        self.awaiting_bootstrap.remove(&i);
        let crash = how == Departure::Crash;
        let kind = if crash { "crash" } else { "leave" };
        self.trace
            .borrow_mut()
            .record(self.time.now(), i, kind, Some(&node.peer_id), String::new);
        if crash {
            // Before anything is dropped, so nothing is sent on the way out.
            self.net.crash(i);
        }
        self.sched.remove_owner(i);
        let now = self.time.now();
        self.recorder.departed(crash, node.lookups_in_flight());
        let mut record = session_record(&mut node, Some(now));
        self.measure.left(i, &mut record);
        self.recorder.session(record);
        drop(node);
    }

    fn sample(&mut self, now: Duration) {
        self.take_news();
        self.measure.sample(
            &mut self.nodes.slots,
            now,
            self.net.stats(),
            &mut self.recorder,
        );
        self.report_progress(now);
    }

    /// Tells the progress callback, if any, where the run is.
    fn report_progress(&mut self, now: Duration) {
        if let Some(progress) = &mut self.progress {
            progress(Progress {
                now,
                end: self.scenario.duration,
                nodes: self.nodes.live().count(),
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
        self.nodes.panic_at = at;
    }

    /// The run's report. With `skip_teardown` the nodes, their connections
    /// and the network are never freed (see `RunOptions::skip_teardown`).
    pub fn finish(mut self, skip_teardown: bool) -> RunReport {
        let now = self.time.now();
        self.take_news();
        for slot in self.nodes.slots.iter_mut() {
            if let Some(mut node) = slot.take() {
                let mut record = session_record(&mut node, None);
                self.measure.fill(node.index, &mut record);
                self.recorder.session(record);
                if skip_teardown {
                    std::mem::forget(node);
                }
            }
        }
        let mut stats = self.sched.stats();
        stats.timers_fired = self.timers_fired;
        stats.scenario_events = self.scenario_events;
        let recorder = std::mem::replace(&mut self.recorder, Recorder::new(&self.scenario, 0));
        let report = recorder.finish(now, stats, self.net.stats());
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

/// The record of `node`'s session, ending at `left_at` (`None`: the run's end).
fn session_record(node: &mut Node, left_at: Option<Duration>) -> NodeRecord {
    NodeRecord {
        index: node.index,
        peer_id: node.peer_id,
        joined_at: node.joined_at,
        first_bootstrap: node.first_bootstrap,
        recall_reached: [None; 3],
        visible_at: None,
        left_at,
        end: node.table_stats(),
    }
}
