//! [`Sim`]: a simulated network of the user's swarms, driven in virtual time.

use std::path::Path;
use std::sync::Arc;
use std::task::Context;
use std::time::Duration;

use libp2p::identity::Keypair;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, PeerId, Swarm};
use sim_runtime::{Clock, ClockGuard};

use super::node::{self, EventHandler, SimNode, TimedEvent};
use super::{EngineError, SimConfig, preflight, seeds};
use crate::net::{self, LatencyModel, Network};
use crate::rng;
use crate::scheduler::{NodeDriver, NodeId, Scheduler};
use crate::trace::{Trace, TraceFilter, TraceHandle};

/// Task polls within one instant of virtual time after which the run is
/// declared a livelock (tasks that wake each other forever).
const POLLS_PER_INSTANT_LIMIT: u64 = 20_000_000;

/// How long [`Sim::wait`] waits, in virtual time, before it panics.
pub const WAIT_LIMIT: Duration = Duration::from_secs(3600);

/// Builds a node's behaviour from its key (the same key after a restart).
type MakeBehaviour<B> = Box<dyn FnMut(&Keypair) -> B>;

/// The nodes, as the scheduler polls them.
struct Nodes<B: NetworkBehaviour> {
    slots: Vec<Option<SimNode<B>>>,
    clock: Clock,
    trace: TraceHandle,
    handler: Option<EventHandler<B>>,
}

impl<B: NetworkBehaviour> NodeDriver for Nodes<B> {
    fn poll_node(&mut self, node: NodeId, cx: &mut Context<'_>) {
        let now = self.clock.now();
        if let Some(n) = self.slots.get_mut(node as usize).and_then(Option::as_mut) {
            n.poll(node, cx, now, &self.trace, self.handler.as_mut());
        }
    }
}

/// A simulated network of swarms running the user's behaviour `B`, in
/// virtual time, on one thread.
///
/// Create it first thing in a test (see the [module docs](super) for why),
/// add nodes, connect them, and drive it with [`Sim::run_for`],
/// [`Sim::run_until`] or [`Sim::wait`]. Between those calls the swarms are
/// yours: [`Sim::swarm_mut`] calls into a behaviour, and the node is polled
/// again in the next round.
pub struct Sim<B: NetworkBehaviour> {
    // Field order is drop order: the swarms go while the clock is installed.
    nodes: Nodes<B>,
    sched: Scheduler,
    net: Network,
    make: Vec<Option<MakeBehaviour<B>>>,
    keys: Vec<Keypair>,
    config: SimConfig,
    timers_fired: u64,
    _guard: ClockGuard,
}

impl<B: NetworkBehaviour> Sim<B> {
    /// An empty network. Fails if the build lacks a piece that virtual time
    /// needs (see [`preflight`]), naming it and how to add it.
    ///
    /// # Panics
    /// If another simulation runs on this thread.
    pub fn new(config: SimConfig) -> Result<Sim<B>, EngineError> {
        // Under a determinism check of `seeds`, the trace goes to a file.
        match seeds::trace_dir() {
            Some(dir) => Self::with_trace_file(config, &dir),
            None => Self::with_trace(config, Trace::hash_only()),
        }
    }

    /// An empty network that also writes its event trace to
    /// `dir/events.csv` (see `docs/outputs.md`).
    pub fn with_trace_file(config: SimConfig, dir: &Path) -> Result<Sim<B>, EngineError> {
        let trace = Trace::to_dir(dir, TraceFilter::default()).map_err(EngineError::Io)?;
        Self::with_trace(config, trace)
    }

    fn with_trace(config: SimConfig, trace: TraceHandle) -> Result<Sim<B>, EngineError> {
        preflight()?;
        let clock = Clock::new(rng::derive_key(config.seed, "os-entropy", 0));
        clock.use_x25519_stand_in(config.x25519_stand_in);
        let guard = clock.install();
        let _ = sim_runtime::entropy::hook_address();
        let model = LatencyModel::new(config.seed, config.latency.clone());
        Ok(Sim {
            nodes: Nodes {
                slots: Vec::new(),
                clock,
                trace,
                handler: None,
            },
            sched: Scheduler::new(rng::stream(config.seed, "scheduler", 0)),
            net: Network::new(model),
            make: Vec::new(),
            keys: Vec::new(),
            config,
            timers_fired: 0,
            _guard: guard,
        })
    }

    /// The configuration (the seed among it).
    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    /// Virtual time since the simulation started.
    pub fn now(&self) -> Duration {
        self.nodes.clock.now()
    }

    /// Adds a node: its key is drawn from the seed and its index, `make`
    /// builds its behaviour from that key (again at each
    /// [`Sim::restart`]). It listens on its own address ([`Sim::addr`]),
    /// which is also its external address, and is polled from the next round
    /// on. Returns its index: 0, 1, 2, ...
    pub fn add_node(&mut self, make: impl FnMut(&Keypair) -> B + 'static) -> NodeId {
        let index = NodeId::try_from(self.keys.len()).expect("fewer than 2^32 nodes");
        self.keys.push(node::identity(self.config.seed, index));
        self.make.push(Some(Box::new(make)));
        self.nodes.slots.push(None);
        self.start(index);
        index
    }

    fn start(&mut self, index: NodeId) {
        let i = index as usize;
        let make = self.make[i].as_mut().expect("a node's builder is kept");
        let behaviour = make(&self.keys[i]);
        self.net.revive(index);
        let node = node::build(
            &self.config,
            index,
            &self.keys[i],
            &self.net,
            self.sched.executor(index),
            net::listen_addr(index),
            behaviour,
        );
        let now = self.now();
        let peer = self.keys[i].public().to_peer_id();
        self.nodes
            .trace
            .borrow_mut()
            .record(now, index, "start", Some(&peer), String::new);
        self.nodes.slots[i] = Some(node);
        self.sched.add_node(index);
    }

    /// Hands every swarm event of every node to `handler` as the node
    /// reports it, inside the node's poll, with the node's swarm: what it
    /// returns is queued (for [`Sim::wait`] and [`Sim::drain_events`]),
    /// `None` consumes the event. For experiments that react to events at
    /// once, or that would otherwise queue events nobody takes.
    ///
    /// ```
    /// use std::{cell::RefCell, rc::Rc, time::Duration};
    /// use libp2p::{ping, swarm::SwarmEvent};
    /// use libp2p_sim::engine::{Sim, SimConfig};
    /// # fn main() -> Result<(), libp2p_sim::engine::EngineError> {
    /// let mut sim = Sim::new(SimConfig::seeded(1))?;
    /// let a = sim.add_node(|_| ping::Behaviour::default());
    /// let b = sim.add_node(|_| ping::Behaviour::default());
    /// // Every successful ping of every node, with its virtual time.
    /// let rtts = Rc::new(RefCell::new(Vec::new()));
    /// let log = rtts.clone();
    /// sim.on_event(move |node, at, _swarm, event| match event {
    ///     SwarmEvent::Behaviour(ping::Event { result: Ok(rtt), .. }) => {
    ///         log.borrow_mut().push((node, at, rtt));
    ///         None
    ///     }
    ///     other => Some(other),
    /// });
    /// sim.connect(a, b);
    /// sim.run_for(Duration::from_secs(1));
    /// assert_eq!(rtts.borrow().len(), 2, "one ping each way");
    /// # Ok(()) }
    /// ```
    pub fn on_event(
        &mut self,
        handler: impl FnMut(
            NodeId,
            Duration,
            &mut Swarm<B>,
            SwarmEvent<B::ToSwarm>,
        ) -> Option<SwarmEvent<B::ToSwarm>>
        + 'static,
    ) {
        self.nodes.handler = Some(Box::new(handler));
    }

    /// Nodes added so far (running or not).
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True before the first [`Sim::add_node`].
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Node `node`'s peer id.
    pub fn peer_id(&self, node: NodeId) -> PeerId {
        self.keys[node as usize].public().to_peer_id()
    }

    /// Node `node`'s key.
    pub fn keypair(&self, node: NodeId) -> &Keypair {
        &self.keys[node as usize]
    }

    /// The address node `node` listens on: `/memory/<port>`.
    pub fn addr(&self, node: NodeId) -> Multiaddr {
        net::listen_addr(node)
    }

    /// Whether node `node` runs (not crashed or stopped).
    pub fn is_running(&self, node: NodeId) -> bool {
        self.nodes
            .slots
            .get(node as usize)
            .is_some_and(Option::is_some)
    }

    /// Node `node`'s swarm, to call into its behaviour.
    ///
    /// # Panics
    /// If the node does not run.
    pub fn swarm_mut(&mut self, node: NodeId) -> &mut Swarm<B> {
        // What the caller does registers no wake-up: poll the node next round.
        self.sched.wake_node(node);
        &mut self.running_node(node).swarm
    }

    /// Node `node`'s swarm, to read.
    ///
    /// # Panics
    /// If the node does not run.
    pub fn swarm(&self, node: NodeId) -> &Swarm<B> {
        match self.nodes.slots.get(node as usize).and_then(Option::as_ref) {
            Some(n) => &n.swarm,
            None => panic!("node {node} does not run"),
        }
    }

    fn running_node(&mut self, node: NodeId) -> &mut SimNode<B> {
        match self
            .nodes
            .slots
            .get_mut(node as usize)
            .and_then(Option::as_mut)
        {
            Some(n) => n,
            None => panic!("node {node} does not run"),
        }
    }

    /// Node `a` dials node `b`'s address, knowing its peer id, whether or
    /// not it is connected to `b` already.
    pub fn dial(&mut self, a: NodeId, b: NodeId) {
        // A new connection even if `a` holds one to `b` (e.g. to a peer that
        // crashed and restarted, which `a` has not noticed yet).
        let opts = libp2p::swarm::dial_opts::DialOpts::peer_id(self.peer_id(b))
            .addresses(vec![self.addr(b)])
            .condition(libp2p::swarm::dial_opts::PeerCondition::Always)
            .build();
        // A failure is reported as a swarm event, like any dial error.
        let _ = self.swarm_mut(a).dial(opts);
    }

    /// Node `a` dials `addr` (any address, known peer or not).
    pub fn dial_addr(&mut self, a: NodeId, addr: Multiaddr) {
        let _ = self.swarm_mut(a).dial(addr);
    }

    /// Node `a` dials node `b` and the simulation runs until both report
    /// the connection (`ConnectionEstablished` on each side, which this
    /// takes from their event queues; other events stay queued).
    ///
    /// # Panics
    /// If the connection is not made within [`WAIT_LIMIT`] of virtual time.
    pub fn connect(&mut self, a: NodeId, b: NodeId) {
        self.dial(a, b);
        let (pa, pb) = (self.peer_id(a), self.peer_id(b));
        let established = |node: NodeId, peer: PeerId| {
            move |sim: &mut Sim<B>| {
                sim.take_event(node, |e| {
                    matches!(e, SwarmEvent::ConnectionEstablished { peer_id, .. } if *peer_id == peer)
                })
                .is_some()
            }
        };
        let (at_a, at_b) = (established(a, pb), established(b, pa));
        let (mut done_a, mut done_b) = (false, false);
        let limit = self.now() + WAIT_LIMIT;
        let made = self.drive(limit, |sim| {
            done_a = done_a || at_a(sim);
            done_b = done_b || at_b(sim);
            done_a && done_b
        });
        match made {
            Ok(true) => {}
            Ok(false) => panic!(
                "node {a} and node {b} did not connect within {WAIT_LIMIT:?} of virtual time (seed {})",
                self.config.seed
            ),
            Err(e) => panic!("{e}"),
        }
    }

    /// Removes and returns the first queued event of `node` that `matches`
    /// accepts, leaving the others queued.
    fn take_event(
        &mut self,
        node: NodeId,
        mut matches: impl FnMut(&SwarmEvent<B::ToSwarm>) -> bool,
    ) -> Option<TimedEvent<B::ToSwarm>> {
        let events = &mut self.nodes.slots.get_mut(node as usize)?.as_mut()?.events;
        let i = events.iter().position(|(_, e)| matches(e))?;
        events.remove(i)
    }

    /// The oldest event of node `node` that nobody took yet.
    pub fn pop_event(&mut self, node: NodeId) -> Option<TimedEvent<B::ToSwarm>> {
        self.nodes
            .slots
            .get_mut(node as usize)?
            .as_mut()?
            .events
            .pop_front()
    }

    /// The events node `node` reported and nobody took yet, oldest first,
    /// each with the virtual time it was reported.
    pub fn drain_events(&mut self, node: NodeId) -> Vec<TimedEvent<B::ToSwarm>> {
        match self
            .nodes
            .slots
            .get_mut(node as usize)
            .and_then(Option::as_mut)
        {
            Some(n) => n.events.drain(..).collect(),
            None => Vec::new(),
        }
    }

    /// Runs the simulation for `duration` of virtual time.
    ///
    /// # Panics
    /// On a livelock (tasks that keep waking each other within one instant).
    pub fn run_for(&mut self, duration: Duration) {
        let until = self.now() + duration;
        if let Err(e) = self.drive(until, |_| false) {
            panic!("{e}");
        }
    }

    /// Runs until `done` returns true (it is asked after every round of
    /// polls) or `limit` of virtual time has passed. Returns whether `done`
    /// became true.
    ///
    /// # Panics
    /// On a livelock.
    pub fn run_until(&mut self, limit: Duration, done: impl FnMut(&mut Self) -> bool) -> bool {
        let until = self.now() + limit;
        self.drive(until, done).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Runs until node `node` reports an event that `f` maps to `Some`,
    /// and returns that. Events of `node` before it are dropped (as
    /// libp2p-swarm-test's `wait` does); other nodes' events stay queued.
    ///
    /// # Panics
    /// If no such event comes within [`WAIT_LIMIT`] of virtual time, or the
    /// node stops running.
    pub fn wait<T>(
        &mut self,
        node: NodeId,
        mut f: impl FnMut(SwarmEvent<B::ToSwarm>) -> Option<T>,
    ) -> T {
        let mut found = None;
        let until = self.now() + WAIT_LIMIT;
        let outcome = self.drive(until, |sim| {
            while found.is_none() {
                let Some((_, event)) = sim.pop_event(node) else {
                    break;
                };
                found = f(event);
            }
            found.is_some()
        });
        match (outcome, found) {
            (_, Some(t)) => t,
            (Err(e), None) => panic!("{e}"),
            (Ok(_), None) => panic!(
                "node {node}: no awaited event within {WAIT_LIMIT:?} of virtual time (seed {})",
                self.config.seed
            ),
        }
    }

    /// The event loop: poll every ready task (in an order drawn from the
    /// seed), ask `done`, and when nothing is ready move virtual time to the
    /// next timer, up to `until`.
    fn drive(
        &mut self,
        until: Duration,
        mut done: impl FnMut(&mut Self) -> bool,
    ) -> Result<bool, EngineError> {
        loop {
            let polls = self
                .sched
                .run_ready(&mut self.nodes, POLLS_PER_INSTANT_LIMIT);
            if polls == POLLS_PER_INSTANT_LIMIT && self.sched.has_ready() {
                return Err(EngineError::Livelock {
                    at: self.now(),
                    seed: self.config.seed,
                });
            }
            if done(self) {
                return Ok(true);
            }
            if self.sched.has_ready() {
                continue;
            }
            let now = self.now();
            let clock = &self.nodes.clock;
            match clock.next_deadline() {
                Some(t) if t <= until => self.timers_fired += clock.advance_to(t.max(now)) as u64,
                _ if now < until => self.timers_fired += clock.advance_to(until) as u64,
                _ => return Ok(false),
            }
        }
    }

    /// Node `node` crashes: its links drop without a goodbye (its peers find
    /// out by their own timeouts), and its swarm and connection tasks are
    /// dropped. [`Sim::restart`] brings it back.
    pub fn crash(&mut self, node: NodeId) {
        self.net.crash(node);
        self.remove(node, "crash");
    }

    /// Node `node` stops gracefully: its swarm and connections are dropped,
    /// which closes its connections as when a process exits.
    pub fn stop(&mut self, node: NodeId) {
        self.remove(node, "stop");
    }

    fn remove(&mut self, node: NodeId, kind: &'static str) {
        let Some(slot) = self.nodes.slots.get_mut(node as usize) else {
            return;
        };
        if slot.take().is_none() {
            return;
        }
        self.sched.remove_owner(node);
        let peer = self.peer_id(node);
        let now = self.now();
        self.nodes
            .trace
            .borrow_mut()
            .record(now, node, kind, Some(&peer), String::new);
    }

    /// Restarts a crashed or stopped node with the same identity, address
    /// and behaviour builder. Connections of its previous life are reset on
    /// their next use, as a rebooted host answers with RST.
    ///
    /// ```
    /// use std::time::Duration;
    /// use libp2p::{ping, swarm::SwarmEvent};
    /// use libp2p_sim::engine::{Sim, SimConfig};
    /// # fn main() -> Result<(), libp2p_sim::engine::EngineError> {
    /// let mut sim = Sim::new(SimConfig::seeded(2))?;
    /// let a = sim.add_node(|_| ping::Behaviour::default());
    /// let b = sim.add_node(|_| ping::Behaviour::default());
    /// sim.connect(a, b);
    /// let peer = sim.peer_id(b);
    /// sim.crash(b);
    /// // a hears nothing: its ping times out after 20 s of virtual time.
    /// let start = sim.now();
    /// sim.wait(a, |e| match e {
    ///     SwarmEvent::Behaviour(ping::Event { result: Err(_), .. }) => Some(()),
    ///     _ => None,
    /// });
    /// assert!(sim.now() - start >= Duration::from_secs(20));
    /// sim.restart(b);
    /// assert_eq!(sim.peer_id(b), peer);
    /// sim.connect(a, b);
    /// # Ok(()) }
    /// ```
    pub fn restart(&mut self, node: NodeId) {
        if !self.is_running(node) && (node as usize) < self.keys.len() {
            self.start(node);
        }
    }

    /// Splits the network for `length` of virtual time: `group_of` gives
    /// each node's side (`None`: reaches every side). Bytes between sides
    /// are held and delivered one latency after the heal, as TCP
    /// retransmission would; a dial across waits for the heal.
    pub fn partition(
        &mut self,
        length: Duration,
        group_of: impl Fn(NodeId) -> Option<usize> + Send + Sync + 'static,
    ) {
        let until = self.now() + length;
        self.net.split(until, Arc::new(group_of));
    }

    /// Ends the current partition now.
    pub fn heal(&mut self) {
        self.net.heal();
    }

    /// Sets the one-way latency between nodes `a` and `b` (both ways) for
    /// connections made from now on.
    pub fn set_link_latency(&mut self, a: NodeId, b: NodeId, one_way: Duration) {
        self.net.set_link_latency(a, b, one_way);
    }

    /// The trace hash so far: FNV-1a over every event's time, node, kind
    /// and peer. Two runs with the same hash went through the same events.
    pub fn trace_hash(&self) -> String {
        self.nodes.trace.borrow().hash()
    }

    /// Events traced so far.
    pub fn trace_events(&self) -> u64 {
        self.nodes.trace.borrow().events()
    }

    /// Writes out the trace file, if any; call before the end of a test
    /// whose trace is compared.
    pub fn finish_trace(&mut self) -> std::io::Result<()> {
        self.nodes.trace.borrow_mut().finish().map(|_| ())
    }

    /// Timers that fired so far.
    pub fn timers_fired(&self) -> u64 {
        self.timers_fired
    }
}

impl<B: NetworkBehaviour> Drop for Sim<B> {
    fn drop(&mut self) {
        // Connection tasks hold streams whose drop talks to the network:
        // drop them while everything else is still there.
        for node in 0..self.keys.len() as NodeId {
            self.sched.remove_owner(node);
        }
        let _ = self.finish_trace();
        seeds::record_finish(self.trace_hash(), self.trace_events());
    }
}
