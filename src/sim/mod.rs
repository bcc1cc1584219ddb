//! A simulation run: the loop that ties clock, scheduler, network, nodes and
//! the scenario timeline together.
//!
//! ```text
//! loop {
//!     run every ready task (seeded order) until none is ready
//!     t = min(next timer, next scenario event)      // nothing can happen before t
//!     if t > end { stop }
//!     advance the clock to t, firing timers due by t (their tasks become ready)
//!     apply scenario events at t (joins, samples)
//! }
//! ```
//!
//! Each run gets a thread of its own: the thread-local state that libp2p's
//! dependencies seed lazily (rand's thread RNG, std's `HashMap` keys) is then
//! created inside the run, from the run's entropy stream.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::task::Context;
use std::time::Duration;

use libp2p::PeerId;
use sim_runtime::Clock;

use crate::metrics::{NodeRecord, Recorder, RunReport};
use crate::net::{LatencyModel, Network};
use crate::node::Node;
use crate::rng;
use crate::scenario::Scenario;
use crate::scheduler::{NodeDriver, NodeId, Scheduler};

/// Polls allowed at one virtual instant before the run is declared stuck.
const POLLS_PER_INSTANT_LIMIT: u64 = 20_000_000;

/// What can end a run early.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// Code inside the run panicked.
    #[error("panic at virtual time {at_ms} ms: {message}")]
    Panicked {
        /// Virtual time of the panic.
        at_ms: u64,
        /// The panic message.
        message: String,
    },
    /// Tasks kept waking each other without virtual time moving.
    #[error("no progress: {polls} polls at virtual time {at_ms} ms without time advancing")]
    Livelock {
        /// Virtual time where the run stalled.
        at_ms: u64,
        /// Polls made at that instant.
        polls: u64,
    },
    /// The run's thread could not be started.
    #[error("could not start the simulation thread: {0}")]
    Thread(#[from] std::io::Error),
}

/// Progress of a run, reported at every sample.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// Virtual time reached.
    pub now: Duration,
    /// Virtual time the run ends.
    pub end: Duration,
    /// Nodes joined so far.
    pub nodes: usize,
}

/// Receives [`Progress`] from the run's thread.
pub type ProgressFn = Box<dyn FnMut(Progress) + Send>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    Join(NodeId),
    Sample,
}

/// Runs `scenario` with `seed` on a fresh thread and returns what it measured.
pub fn run(
    scenario: &Scenario,
    seed: u64,
    progress: Option<ProgressFn>,
) -> Result<RunReport, SimError> {
    let scenario = scenario.clone();
    let handle = std::thread::Builder::new()
        .name(format!("sim-seed-{seed}"))
        .stack_size(64 << 20)
        .spawn(move || run_here(&scenario, seed, progress))?;
    handle.join().unwrap_or_else(|panic| {
        Err(SimError::Panicked {
            at_ms: 0,
            message: panic_message(panic.as_ref()),
        })
    })
}

/// Runs `scenario` on the calling thread. Only deterministic on a thread
/// that has not used rand's thread RNG or created a `HashMap` before; use
/// [`run`] unless you control that.
pub fn run_here(
    scenario: &Scenario,
    seed: u64,
    progress: Option<ProgressFn>,
) -> Result<RunReport, SimError> {
    let clock = Clock::new(rng::derive_key(seed, "os-entropy", 0));
    let _guard = clock.install();
    let _ = sim_runtime::entropy::hook_address();
    let mut sim = Simulation::new(scenario, seed, &clock, progress);
    match catch_unwind(AssertUnwindSafe(|| sim.run())) {
        Ok(result) => result.map(|()| sim.finish()),
        Err(panic) => Err(SimError::Panicked {
            at_ms: clock.now().as_millis() as u64,
            message: panic_message(panic.as_ref()),
        }),
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic payload".to_string())
}

/// The join time of every node, in node order (node 0 first).
pub fn join_schedule(scenario: &Scenario, seed: u64) -> Vec<Duration> {
    let mut times = Vec::with_capacity(scenario.node_count());
    for (j, join) in scenario.joins.iter().enumerate() {
        let mut stream = rng::stream(seed, "join-times", j as u64);
        let span = join.over.as_nanos() as u64 + 1;
        let mut batch: Vec<Duration> = (0..join.count)
            .map(|_| join.at + Duration::from_nanos(rng::gen_below(&mut stream, span)))
            .collect();
        if j == 0 {
            // The bootstrap node comes first, at the workload's start.
            batch[0] = join.at;
        }
        batch.sort();
        times.extend(batch);
    }
    times
}

struct Nodes<'a> {
    nodes: Vec<Node>,
    clock: &'a Clock,
}

impl NodeDriver for Nodes<'_> {
    fn poll_node(&mut self, node: NodeId, cx: &mut Context<'_>) {
        self.nodes[node as usize].poll(cx, self.clock.now());
    }
}

struct Simulation<'a> {
    seed: u64,
    end: Duration,
    stack: crate::scenario::Stack,
    clock: &'a Clock,
    sched: Scheduler,
    net: Network,
    nodes: Nodes<'a>,
    events: BTreeMap<(Duration, u64), Event>,
    boot: Option<(PeerId, libp2p::Multiaddr)>,
    recorder: Recorder,
    progress: Option<ProgressFn>,
}

impl<'a> Simulation<'a> {
    fn new(scenario: &Scenario, seed: u64, clock: &'a Clock, progress: Option<ProgressFn>) -> Self {
        let mut events = BTreeMap::new();
        let mut seq = 0;
        let mut push = |t: Duration, e: Event| {
            events.insert((t, seq), e);
            seq += 1;
        };
        for (i, t) in join_schedule(scenario, seed).into_iter().enumerate() {
            push(t, Event::Join(i as NodeId));
        }
        let interval = scenario.sample_interval;
        let mut t = interval;
        while t <= scenario.duration {
            push(t, Event::Sample);
            t += interval;
        }
        Simulation {
            seed,
            end: scenario.duration,
            stack: scenario.stack.clone(),
            clock,
            sched: Scheduler::new(rng::stream(seed, "scheduler", 0)),
            net: Network::new(LatencyModel::new(seed, scenario.network.latency.clone())),
            nodes: Nodes {
                nodes: Vec::with_capacity(scenario.node_count()),
                clock,
            },
            events,
            boot: None,
            recorder: Recorder::new(scenario, seed),
            progress,
        }
    }

    fn run(&mut self) -> Result<(), SimError> {
        loop {
            let polls = self
                .sched
                .run_ready(&mut self.nodes, POLLS_PER_INSTANT_LIMIT);
            if polls == POLLS_PER_INSTANT_LIMIT && self.sched.has_ready() {
                return Err(SimError::Livelock {
                    at_ms: self.clock.now().as_millis() as u64,
                    polls,
                });
            }
            let next_event = self.events.first_key_value().map(|(k, _)| k.0);
            let next = match (self.clock.next_deadline(), next_event) {
                (Some(a), Some(b)) => a.min(b),
                (a, b) => a.or(b).unwrap_or(self.end),
            };
            if next > self.end {
                self.clock.advance_to(self.end);
                return Ok(());
            }
            self.clock.advance_to(next);
            while let Some(entry) = self.events.first_entry() {
                if entry.key().0 > next {
                    break;
                }
                let event = entry.remove();
                self.apply(event);
            }
            if next == self.end && !self.sched.has_ready() && next_event.is_none() {
                return Ok(());
            }
        }
    }

    fn apply(&mut self, event: Event) {
        let now = self.clock.now();
        match event {
            Event::Join(i) => {
                let executor = self.sched.executor(i);
                let mut node = Node::new(i, self.seed, &self.stack, &self.net, executor, now);
                match &self.boot {
                    Some((peer, addr)) => node.join_via(*peer, addr.clone()),
                    None => self.boot = Some((node.peer_id, node.addr.clone())),
                }
                debug_assert_eq!(self.nodes.nodes.len(), i as usize);
                self.nodes.nodes.push(node);
                self.sched.add_node(i);
            }
            Event::Sample => {
                for node in &mut self.nodes.nodes {
                    let stats = node.table_stats();
                    self.recorder.sample(now, node.index, stats);
                }
                if let Some(progress) = &mut self.progress {
                    progress(Progress {
                        now,
                        end: self.end,
                        nodes: self.nodes.nodes.len(),
                    });
                }
            }
        }
    }

    fn finish(mut self) -> RunReport {
        let records = self
            .nodes
            .nodes
            .iter_mut()
            .map(|node| NodeRecord {
                index: node.index,
                peer_id: node.peer_id,
                joined_at: node.joined_at,
                first_bootstrap: node.first_bootstrap,
                end: node.table_stats(),
            })
            .collect();
        self.recorder.finish(
            records,
            self.clock.now(),
            self.sched.stats(),
            self.net.stats(),
        )
    }
}
