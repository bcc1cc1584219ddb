//! [`Sim`]: a simulated network of the user's swarms: its nodes, their
//! identities and addresses, and what a test reads of them. Driving it in
//! time is in `drive.rs`, faults in `faults.rs`.

use std::path::Path;
use std::task::Context;
use std::time::Duration;

use libp2p::identity::Keypair;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, PeerId, Swarm};
use sim_runtime::{Clock, ClockGuard};

use super::host::Host;
use super::node::{self, EventHandler, SimNode, Tracer};
use super::workers::{self, Link, Worker};
use super::{EngineError, SimConfig, preflight, seeds};
use crate::net::{LatencyModel, NetStats, Network, TcpNet, Workers};
use crate::rng;
use crate::scheduler::{NodeDriver, NodeId, Scheduler, SchedulerStats};
use crate::trace::{Trace, TraceFilter, TraceHandle};

/// Builds a node's behaviour from its key (the same key after a restart).
type MakeBehaviour<B> = Box<dyn FnMut(&Keypair) -> B>;

/// A node added to the simulation, running or not.
struct Entry<B> {
    key: Keypair,
    make: MakeBehaviour<B>,
    /// The address it listens on (in real time: since its last start).
    addr: Multiaddr,
}

/// The nodes, as the scheduler polls them.
pub(super) struct Nodes<B: NetworkBehaviour> {
    pub slots: Vec<Option<SimNode<B>>>,
    pub host: Host,
    pub trace: TraceHandle,
    pub tracer: Tracer<B::ToSwarm>,
    pub handler: Option<EventHandler<B>>,
    /// Panic in this node's first poll at or after this time.
    pub panic_at: Option<(NodeId, Duration)>,
}

impl<B: NetworkBehaviour> NodeDriver for Nodes<B> {
    fn poll_node(&mut self, node: NodeId, cx: &mut Context<'_>) {
        let now = self.host.now();
        if let Some((n, at)) = self.panic_at
            && n == node
            && now >= at
        {
            panic!("test panic (--inject-panic) in node {node}");
        }
        if let Some(n) = self.slots.get_mut(node as usize).and_then(Option::as_mut) {
            n.poll(
                node,
                cx,
                now,
                (&self.trace, &self.tracer),
                self.handler.as_mut(),
            );
        }
    }
}

/// The windows of a simulation split over workers (see
/// [`workers`](super::workers)).
pub(super) struct Window {
    pub link: Link,
    pub workers: Workers,
    pub lookahead: Duration,
    /// The current window ends here, or (sliding) the horizon: nothing
    /// from another worker arrives before it.
    pub end: Duration,
    /// Sliding: messages read from the others so far.
    pub read: u64,
    /// Sliding: the promise last sent.
    pub reported: Duration,
    /// Sliding: whether this worker told the others it is done.
    pub left: bool,
    pub stats: WindowStats,
}

/// What the windows of a worker cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WindowStats {
    /// Exchanges with the other workers so far.
    pub windows: u64,
    /// Messages sent to other workers.
    pub sent: u64,
    /// Messages received from other workers.
    pub received: u64,
    /// Wall time spent in exchanges (waiting for the slowest worker, and
    /// the exchange itself).
    pub waiting: Duration,
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
    pub(super) nodes: Nodes<B>,
    pub(super) sched: Scheduler,
    entries: Vec<Option<Entry<B>>>,
    /// Whether each node runs, in whichever worker it lives.
    up: Vec<bool>,
    pub(super) window: Option<Window>,
    pub(super) config: SimConfig,
    pub(super) timers_fired: u64,
    /// Whether the trace was made here (and is finished here).
    owns_trace: bool,
    _guard: Option<ClockGuard>,
}

impl<B: NetworkBehaviour> Sim<B> {
    /// An empty network. Fails if the build lacks a piece that virtual time
    /// needs (see [`preflight`]), naming it and how to add it.
    ///
    /// # Panics
    /// If another simulation runs on this thread.
    pub fn new(config: SimConfig) -> Result<Sim<B>, EngineError> {
        // Under a determinism check of `seeds`, the trace goes to a file.
        let trace = match seeds::trace_dir() {
            Some(dir) => Trace::to_dir(&dir, TraceFilter::default()).map_err(EngineError::Io)?,
            None => Trace::hash_only(),
        };
        // A worker of `seeds::check_on_workers` joins the others.
        if let Some((index, count, hub)) = seeds::worker() {
            let lookahead = workers::lookahead(&config.network);
            let workers = Workers { index, count };
            let link = Link::connect(&hub, workers, Default::default(), lookahead)
                .map_err(EngineError::Io)?;
            let worker = Worker { workers, link };
            return Self::virtual_time(config, trace, true, Some(worker));
        }
        Self::virtual_time(config, trace, true, None)
    }

    /// An empty network of which this process simulates the part of
    /// `worker` (see [`workers`](super::workers)), recording its events in
    /// `trace`, which the caller finishes. Fails if links between workers
    /// could have zero latency: there would be no lookahead.
    pub fn on_worker(
        config: SimConfig,
        trace: TraceHandle,
        worker: Worker,
    ) -> Result<Sim<B>, EngineError> {
        Self::virtual_time(config, trace, false, Some(worker))
    }

    /// An empty network that also writes its event trace to
    /// `dir/events.csv` (see `docs/outputs.md`).
    pub fn with_trace_file(config: SimConfig, dir: &Path) -> Result<Sim<B>, EngineError> {
        let trace = Trace::to_dir(dir, TraceFilter::default()).map_err(EngineError::Io)?;
        Self::virtual_time(config, trace, true, None)
    }

    /// An empty network that records its events in `trace`, which the
    /// caller keeps a handle to and finishes ([`Trace::finish`]).
    pub fn with_trace(config: SimConfig, trace: TraceHandle) -> Result<Sim<B>, EngineError> {
        Self::virtual_time(config, trace, false, None)
    }

    fn virtual_time(
        config: SimConfig,
        trace: TraceHandle,
        owns_trace: bool,
        worker: Option<Worker>,
    ) -> Result<Sim<B>, EngineError> {
        preflight()?;
        config.validate()?;
        let lookahead = workers::lookahead(&config.network);
        if worker.as_ref().is_some_and(|w| w.workers.count > 1) && lookahead.is_zero() {
            return Err(EngineError::Config(
                "links between workers can have zero latency, so there is no lookahead: \
                 a run on several workers needs a smallest one-way latency above zero"
                    .to_string(),
            ));
        }
        let entropy = config.entropy_seed.unwrap_or(config.seed);
        let clock = Clock::new(rng::derive_key(entropy, "os-entropy", 0));
        // Before the first node makes its Noise keys.
        clock.use_x25519_stand_in(config.x25519_stand_in);
        let guard = clock.install();
        let _ = sim_runtime::entropy::hook_address();
        let model = LatencyModel::from_config(config.seed, &config.network);
        let split = worker.as_ref().map(|w| w.workers);
        let net = match split {
            Some(split) => Network::split_over(model.clone(), split),
            None => Network::new(model.clone()),
        };
        let host = Host::Virtual {
            clock,
            net,
            model: Box::new(model),
        };
        let mut sim = Self::on(host, config, trace, owns_trace, Some(guard));
        sim.window = worker.filter(|w| w.workers.count > 1).map(|w| Window {
            link: w.link,
            read: 0,
            reported: Duration::ZERO,
            left: false,
            workers: w.workers,
            lookahead,
            end: lookahead,
            stats: WindowStats::default(),
        });
        Ok(sim)
    }

    /// The same network in real time, for a fidelity check: every node
    /// listens on a free TCP port of 127.0.0.1, its connection tasks run on
    /// `runtime` (a tokio runtime with I/O and timers enabled), and
    /// libp2p's timers run on the real clock. Nothing of it is
    /// deterministic; the seed still gives the node keys. Drive it with
    /// [`Sim::run_ready_at_most`] and [`Sim::sleep_until_woken`]; latency
    /// settings, partitions and [`Sim::advance_to`] need the simulated
    /// network and panic here.
    pub fn realtime(
        config: SimConfig,
        runtime: tokio::runtime::Handle,
        trace: TraceHandle,
    ) -> Sim<B> {
        let host = Host::Real {
            start: sim_runtime::now(),
            net: TcpNet::new(runtime),
        };
        let sim = Self::on(host, config, trace, false, None);
        sim.sched.unpark_on_wake(std::thread::current());
        sim
    }

    fn on(
        host: Host,
        config: SimConfig,
        trace: TraceHandle,
        owns_trace: bool,
        guard: Option<ClockGuard>,
    ) -> Sim<B> {
        Sim {
            nodes: Nodes {
                slots: Vec::new(),
                host,
                trace,
                tracer: Tracer::default(),
                handler: None,
                panic_at: None,
            },
            sched: Scheduler::new(rng::stream(config.seed, "scheduler", 0)),
            entries: Vec::new(),
            up: Vec::new(),
            window: None,
            config,
            timers_fired: 0,
            owns_trace,
            _guard: guard,
        }
    }

    /// The configuration (the seed among it).
    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    /// Time since the simulation started: virtual, or real in
    /// [`Sim::realtime`].
    pub fn now(&self) -> Duration {
        self.nodes.host.now()
    }

    /// Adds a node: its key is drawn from the seed and its index, `make`
    /// builds its behaviour from that key (again at each
    /// [`Sim::restart`]). It listens on its own address ([`Sim::addr`]),
    /// which is also its external address (see
    /// [`SimConfig::external_addr`]), and is polled from the next round on.
    /// Returns its index: 0, 1, 2, ...
    pub fn add_node(&mut self, make: impl FnMut(&Keypair) -> B + 'static) -> NodeId {
        let index = NodeId::try_from(self.entries.len()).expect("fewer than 2^32 nodes");
        self.add_node_at(index, make)
    }

    /// [`Sim::add_node`] with index `index`, for nodes numbered by the
    /// caller (a scenario's file order) rather than in the order they
    /// start. Indices left out stay free for later.
    ///
    /// # Panics
    /// If node `index` was added before (use [`Sim::restart`]).
    pub fn add_node_at(
        &mut self,
        index: NodeId,
        make: impl FnMut(&Keypair) -> B + 'static,
    ) -> NodeId {
        let i = index as usize;
        if self.entries.len() <= i {
            self.entries.resize_with(i + 1, || None);
            self.nodes.slots.resize_with(i + 1, || None);
            self.up.resize(i + 1, false);
        }
        assert!(self.entries[i].is_none(), "node {index} was added before");
        self.entries[i] = Some(Entry {
            key: node::identity(self.config.seed, index),
            make: Box::new(make),
            addr: crate::net::listen_addr(index),
        });
        self.start(index);
        index
    }

    /// Starts node `index` (added, not running) with a fresh swarm.
    pub(super) fn start(&mut self, index: NodeId) {
        let i = index as usize;
        self.up[i] = true;
        self.nodes.host.revive(index);
        if !self.is_local(index) {
            return;
        }
        let entry = self.entries[i].as_mut().expect("only added nodes start");
        let (swarm, addr) = self.nodes.host.swarm(
            &self.config,
            index,
            &entry.key,
            &self.sched,
            &mut entry.make,
        );
        entry.addr = addr;
        let peer = entry.key.public().to_peer_id();
        let now = self.now();
        self.record(
            now,
            index,
            self.nodes.tracer.start,
            Some(&peer),
            String::new,
        );
        self.nodes.slots[i] = Some(SimNode {
            swarm,
            events: Default::default(),
        });
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

    /// Chooses what the event trace records (see [`Tracer`]); applies to
    /// what happens from now on.
    ///
    /// ```
    /// use libp2p::{ping, swarm::SwarmEvent};
    /// use libp2p_sim::engine::{Sim, SimConfig, TraceKind, Tracer};
    /// # fn main() -> Result<(), libp2p_sim::engine::EngineError> {
    /// // Only failed pings, and a node's start as `boot`.
    /// fn failures(event: &SwarmEvent<ping::Event>) -> Option<TraceKind> {
    ///     match event {
    ///         SwarmEvent::Behaviour(ping::Event { peer, result: Err(_), .. }) => {
    ///             Some(("ping_failure", Some(*peer)))
    ///         }
    ///         _ => None,
    ///     }
    /// }
    /// let mut sim = Sim::new(SimConfig::seeded(4))?;
    /// sim.set_tracer(Tracer { event: failures, start: "boot", ..Tracer::default() });
    /// let a = sim.add_node(|_| ping::Behaviour::default());
    /// let b = sim.add_node(|_| ping::Behaviour::default());
    /// sim.connect(a, b);
    /// assert_eq!(sim.trace_events(), 2, "two boots, no failure");
    /// # Ok(()) }
    /// ```
    pub fn set_tracer(&mut self, tracer: Tracer<B::ToSwarm>) {
        self.nodes.tracer = tracer;
    }

    /// Records an event of the caller's own in the trace (and its hash):
    /// at time `at`, of node `node`, of kind `kind`, about `peer`, with
    /// `details` (built only when the trace is written to a file).
    pub fn record(
        &self,
        at: Duration,
        node: NodeId,
        kind: &'static str,
        peer: Option<&PeerId>,
        details: impl FnOnce() -> String,
    ) {
        self.nodes
            .trace
            .borrow_mut()
            .record(at, node, kind, peer, details);
    }

    /// Nodes added so far, running or not (one more than the highest index).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True before the first [`Sim::add_node`].
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn entry(&self, node: NodeId) -> &Entry<B> {
        match self.entries.get(node as usize).and_then(Option::as_ref) {
            Some(e) => e,
            None => panic!("node {node} was never added"),
        }
    }

    /// Whether node `node` was added (running or not).
    pub fn was_added(&self, node: NodeId) -> bool {
        self.entries.get(node as usize).is_some_and(Option::is_some)
    }

    /// Node `node`'s peer id.
    pub fn peer_id(&self, node: NodeId) -> PeerId {
        self.entry(node).key.public().to_peer_id()
    }

    /// Node `node`'s key.
    pub fn keypair(&self, node: NodeId) -> &Keypair {
        &self.entry(node).key
    }

    /// The address node `node` listens on: `/memory/<port>` (in real time:
    /// a TCP port of 127.0.0.1, new at each start).
    pub fn addr(&self, node: NodeId) -> Multiaddr {
        self.entry(node).addr.clone()
    }

    /// Whether node `node` runs (not crashed or stopped), in this worker
    /// or another.
    pub fn is_running(&self, node: NodeId) -> bool {
        self.up.get(node as usize).copied().unwrap_or(false)
    }

    /// Marks node `node` as not running.
    pub(super) fn mark_down(&mut self, node: NodeId) {
        if let Some(up) = self.up.get_mut(node as usize) {
            *up = false;
        }
    }

    /// Whether node `node` lives in this worker (always, on one worker).
    pub fn is_local(&self, node: NodeId) -> bool {
        self.window
            .as_ref()
            .is_none_or(|w| w.workers.is_local(node))
    }

    /// This worker's place among the workers of the run; `None` on one.
    pub fn workers(&self) -> Option<Workers> {
        self.window.as_ref().map(|w| w.workers)
    }

    /// What the windows cost this worker so far; `None` on one worker.
    pub fn window_stats(&self) -> Option<WindowStats> {
        self.window.as_ref().map(|w| w.stats)
    }

    /// The running nodes, in index order.
    pub fn running(&self) -> impl Iterator<Item = NodeId> + '_ {
        (0..self.nodes.slots.len() as NodeId).filter(|n| self.is_running(*n))
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
            None if !self.is_local(node) => panic!("node {node} runs in another worker"),
            None => panic!("node {node} does not run"),
        }
    }

    /// Node `node`'s swarm if it runs, without scheduling a poll: to read
    /// state through methods that take `&mut self` (Kademlia's
    /// `kbuckets()`) without changing the schedule. Something started
    /// through it is only acted on when the node is next polled anyway; use
    /// [`Sim::swarm_mut`] to act.
    pub fn peek_mut(&mut self, node: NodeId) -> Option<&mut Swarm<B>> {
        let slot = self.nodes.slots.get_mut(node as usize)?;
        slot.as_mut().map(|n| &mut n.swarm)
    }

    pub(super) fn running_node(&mut self, node: NodeId) -> &mut SimNode<B> {
        if !self.is_local(node) {
            panic!("node {node} runs in another worker; only its own worker can reach its swarm");
        }
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

    /// The region of node `node` under [`SimConfig::network`] (an index into
    /// its regions), `None` in a flat network or in real time.
    pub fn region_of(&self, node: NodeId) -> Option<usize> {
        self.nodes.host.region_of(node)
    }

    /// The one-way latency of a connection between nodes `a` and `b` made
    /// now (the network's model, with [`Sim::set_link_latency`]).
    ///
    /// # Panics
    /// In real time.
    pub fn latency(&self, a: NodeId, b: NodeId) -> Duration {
        self.nodes.host.latency(a, b)
    }

    /// Every node's region, as a function that outlives this borrow (for
    /// the side function of a [`Sim::partition`]).
    pub fn regions(&self) -> std::sync::Arc<dyn Fn(NodeId) -> Option<usize> + Send + Sync> {
        self.nodes.host.regions()
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

    /// The network's counters so far: connections, bytes, writes, refusals.
    pub fn net_stats(&self) -> NetStats {
        self.nodes.host.stats()
    }

    /// The scheduler's counters so far: polls, tasks spawned and live.
    pub fn scheduler_stats(&self) -> SchedulerStats {
        self.sched.stats()
    }

    /// The node whose task is being polled; after a panic that unwound out
    /// of a run, the node that panicked.
    pub fn polling_node(&self) -> Option<NodeId> {
        self.sched.running()
    }

    /// Makes node `node` panic in its first poll at or after `at`: for
    /// testing how a harness reports a node that panics.
    #[doc(hidden)]
    pub fn inject_panic(&mut self, node: NodeId, at: Duration) {
        self.nodes.panic_at = Some((node, at));
    }
}

impl<B: NetworkBehaviour> Drop for Sim<B> {
    fn drop(&mut self) {
        // What the connections' teardown sends stays here, as at a barrier.
        self.leave();
        // Connection tasks hold streams whose drop talks to the network:
        // drop them while everything else is still there.
        self.sched.remove_all();
        if self.owns_trace {
            let _ = self.finish_trace();
        }
        seeds::record_finish(self.trace_hash(), self.trace_events());
    }
}
