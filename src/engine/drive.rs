//! Driving a [`Sim`] in time: dials and connections, the events nodes
//! report, the ready-made loops (`run_for`, `run_until`, `wait`), and the
//! steps they are made of, for a caller with a loop of its own (a scenario
//! timeline):
//!
//! ```text
//! loop {
//!     sim.run_ready()?;                 // poll every ready task (seeded order)
//!     t = min(sim.next_timer(), your next event)
//!     sim.advance_to(t);                // fire timers due by t; their tasks become ready
//!     apply your events at t            // dials, crashes, calls into behaviours
//! }
//! ```

use std::time::Duration;

use libp2p::swarm::NetworkBehaviour;
use libp2p::swarm::SwarmEvent;
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::{Multiaddr, PeerId};

use super::EngineError;
use super::node::TimedEvent;
use super::sim::Sim;
use super::workers::Link;
use crate::scheduler::NodeId;

/// The real clock, for what the windows cost (never part of a run's
/// outputs beyond its performance figures).
#[allow(clippy::disallowed_methods)]
fn wall_clock() -> Duration {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed()
}

/// Task polls within one instant of virtual time after which the run is
/// declared a livelock (tasks that wake each other forever).
pub const POLLS_PER_INSTANT_LIMIT: u64 = 20_000_000;

/// Longest sleep of the ready-made loops in real time between two looks
/// at `done` (a task woken earlier ends it sooner).
const REALTIME_NAP: Duration = Duration::from_millis(10);

/// How long [`Sim::wait`] waits, in virtual time, before it panics.
pub const WAIT_LIMIT: Duration = Duration::from_secs(3600);

impl<B: NetworkBehaviour> Sim<B> {
    /// Node `a` dials node `b`'s address, knowing its peer id, whether or
    /// not it is connected to `b` already.
    pub fn dial(&mut self, a: NodeId, b: NodeId) {
        // A new connection even if `a` holds one to `b` (e.g. to a peer that
        // crashed and restarted, which `a` has not noticed yet).
        let opts = DialOpts::peer_id(self.peer_id(b))
            .addresses(vec![self.addr(b)])
            .condition(PeerCondition::Always)
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

    /// The event loop: poll every ready task, ask `done`, and when nothing
    /// is ready move virtual time to the next timer, up to `until` (in real
    /// time: sleep until a task is woken).
    fn drive(
        &mut self,
        until: Duration,
        mut done: impl FnMut(&mut Self) -> bool,
    ) -> Result<bool, EngineError> {
        loop {
            self.run_ready()?;
            if done(self) {
                return Ok(true);
            }
            if self.has_ready() {
                continue;
            }
            let now = self.now();
            if self.nodes.host.clock().is_none() {
                // Real time: wait for a socket or a timer, up to `until`.
                if now >= until {
                    return Ok(false);
                }
                self.sleep_until_woken((until - now).min(REALTIME_NAP));
                continue;
            }
            match self.next_timer() {
                Some(t) if t <= until => _ = self.advance_to(t.max(now)),
                _ if now < until => _ = self.advance_to(until),
                _ => return Ok(false),
            }
        }
    }

    /// Polls every ready task, in an order drawn from the seed, until none
    /// is ready; a task woken meanwhile is polled in the same call. Returns
    /// the number of polls.
    ///
    /// With [`Sim::next_timer`] and [`Sim::advance_to`], the steps of a loop
    /// of one's own, here one that crashes a node at a chosen instant:
    ///
    /// ```
    /// use std::time::Duration;
    /// use libp2p::ping;
    /// use libp2p_sim::engine::{Sim, SimConfig};
    /// # fn main() -> Result<(), libp2p_sim::engine::EngineError> {
    /// let mut sim = Sim::new(SimConfig::seeded(3))?;
    /// let a = sim.add_node(|_| ping::Behaviour::default());
    /// let b = sim.add_node(|_| ping::Behaviour::default());
    /// sim.dial(a, b);
    /// let crash_at = Duration::from_millis(1500);
    /// while sim.is_running(b) {
    ///     sim.run_ready()?;
    ///     // Nothing happens before the next timer or our own event.
    ///     let next = sim.next_timer().map_or(crash_at, |t| t.min(crash_at));
    ///     sim.advance_to(next);
    ///     if sim.now() == crash_at {
    ///         sim.crash(b);
    ///     }
    /// }
    /// assert_eq!(sim.now(), crash_at);
    /// assert_eq!(sim.swarm(a).connected_peers().count(), 1, "a has not noticed yet");
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`EngineError::Livelock`] after [`POLLS_PER_INSTANT_LIMIT`] polls with
    /// tasks still ready.
    pub fn run_ready(&mut self) -> Result<u64, EngineError> {
        let polls = self.run_ready_at_most(POLLS_PER_INSTANT_LIMIT);
        if polls == POLLS_PER_INSTANT_LIMIT && self.has_ready() {
            return Err(EngineError::Livelock {
                at: self.now(),
                seed: self.config.seed,
                polls,
            });
        }
        Ok(polls)
    }

    /// Polls ready tasks until none is ready or `budget` polls were made
    /// (in real time: a bounded batch, so that the caller's own events
    /// stay on time). Returns the number of polls.
    pub fn run_ready_at_most(&mut self, budget: u64) -> u64 {
        self.sched.run_ready(&mut self.nodes, budget)
    }

    /// Whether a task is ready to be polled.
    pub fn has_ready(&self) -> bool {
        self.sched.has_ready()
    }

    /// When the next timer fires (or, on several workers, the next
    /// connection from another worker arrives); `None` if nothing is
    /// pending (or in real time).
    pub fn next_timer(&self) -> Option<Duration> {
        let clock = self.nodes.host.clock()?;
        let arrival = self.network_arrival();
        match (clock.next_deadline(), arrival) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn network_arrival(&self) -> Option<Duration> {
        self.window.as_ref()?;
        self.nodes.host.expect_network("a worker").next_arrival()
    }

    /// Moves virtual time to `t`, firing every timer due by then: their
    /// tasks become ready and are polled by the next [`Sim::run_ready`].
    /// Returns the time reached: `t`, or on several workers possibly
    /// earlier, when a message from another worker arrives before `t`
    /// (take [`Sim::now`] or this value as the time your events apply at).
    ///
    /// On several workers this is where they meet: moving past the end of
    /// the current window exchanges messages with the others, and waits
    /// for them to reach it too.
    ///
    /// # Panics
    /// If `t` is before [`Sim::now`], in real time, or if another worker
    /// ended or failed.
    pub fn advance_to(&mut self, t: Duration) -> Duration {
        let mut t = t;
        loop {
            let end = self.window.as_ref().map_or(Duration::MAX, |w| w.end);
            if t < end {
                if self.window.is_some() {
                    let now = self.now();
                    self.nodes.host.expect_network("a worker").release(t, now);
                    // Keep the others' horizons moving while running.
                    let due = self.window.as_ref().is_some_and(|w| {
                        matches!(w.link, Link::Sliding(_))
                            && t >= w.reported.saturating_add(w.lookahead / 4)
                    });
                    if due {
                        self.report(Some(t));
                    }
                }
                let clock = self.nodes.host.expect_clock("advance_to");
                self.timers_fired += clock.advance_to(t) as u64;
                if self.window.is_some() {
                    self.nodes
                        .host
                        .expect_network("a worker")
                        .deliver_arrivals(t);
                }
                return t;
            }
            if self.sliding() {
                // At the horizon: take what came meanwhile; if nothing
                // did, promise `t` and wait for the others.
                if !self.pull(false) {
                    self.report(Some(t));
                    self.pull(true);
                }
            } else {
                self.exchange(t);
            }
            // What arrived may come before `t`.
            if let Some(earlier) = self.next_timer().filter(|e| *e < t) {
                t = earlier;
            }
        }
    }

    fn sliding(&self) -> bool {
        self.window
            .as_ref()
            .is_some_and(|w| matches!(w.link, Link::Sliding(_)))
    }

    /// The end of a window: sends what this worker sent to the others,
    /// takes in what they sent to it, and learns where the next window
    /// starts. `next` is this worker's next event.
    fn exchange(&mut self, next: Duration) {
        let net = self.nodes.host.expect_network("a worker");
        let out = net.take_outbox();
        let next = Some(self.next_timer().map_or(next, |n| n.min(next)));
        let window = self.window.as_mut().expect("only workers exchange");
        let Link::Barrier(exchange) = &mut window.link else {
            unreachable!("only a barrier exchanges at window ends");
        };
        let sent = out.len() as u64;
        let started = wall_clock();
        let (inbound, global) = exchange
            .exchange(out, next)
            .unwrap_or_else(|e| panic!("worker {}: exchange failed: {e}", window.workers.index));
        window.stats.waiting += wall_clock().saturating_sub(started);
        window.stats.windows += 1;
        window.stats.sent += sent;
        window.stats.received += inbound.len() as u64;
        // Nothing happens anywhere before `global`.
        let start = global.unwrap_or(Duration::MAX);
        window.end = start.saturating_add(window.lookahead);
        self.nodes.host.expect_network("a worker").hold(inbound);
    }

    /// Sliding horizons: sends what this worker sent to the others and
    /// its promise, `next` bounded by its next event (`None`: it is done).
    fn report(&mut self, next: Option<Duration>) {
        let net = self.nodes.host.expect_network("a worker");
        let out = net.take_outbox();
        let next = next.map(|t| self.next_timer().map_or(t, |n| n.min(t)));
        let window = self.window.as_mut().expect("only workers report");
        let Link::Sliding(link) = &mut window.link else {
            unreachable!("only sliding horizons report");
        };
        window.stats.windows += 1;
        window.stats.sent += out.len() as u64;
        if let Some(next) = next {
            window.reported = next;
        }
        link.report(out, next, window.read)
            .unwrap_or_else(|e| panic!("worker {}: report failed: {e}", window.workers.index));
    }

    /// Sliding horizons: holds what the others sent and takes the latest
    /// horizon; with `wait`, waits until something comes. Returns whether
    /// anything came. (Every message arriving before a horizon comes
    /// before it on the link, so what arrives before [`Window::end`] is
    /// held already.)
    fn pull(&mut self, wait: bool) -> bool {
        let window = self.window.as_mut().expect("only workers pull");
        let Link::Sliding(link) = &mut window.link else {
            unreachable!("only sliding horizons pull");
        };
        let started = wait.then(wall_clock);
        let got = link
            .receive(wait)
            .unwrap_or_else(|e| panic!("worker {}: receive failed: {e}", window.workers.index));
        if let Some(started) = started {
            window.stats.waiting += wall_clock().saturating_sub(started);
        }
        let net = self.nodes.host.expect_network("a worker");
        let came = !got.is_empty();
        for (wires, horizon) in got {
            window.read += wires.len() as u64;
            window.stats.received += wires.len() as u64;
            window.end = horizon.unwrap_or(Duration::MAX);
            net.hold(wires);
        }
        came
    }

    /// On several workers under sliding horizons, tells the others this
    /// worker is done: sends what it still has to send, and promises to
    /// do nothing more. Call it once the run has reached its end (dropping
    /// the simulation does); the others may then run past its last time.
    pub fn leave(&mut self) {
        if self.sliding() && self.window.as_ref().is_some_and(|w| !w.left) {
            self.report(None);
            self.window.as_mut().expect("checked above").left = true;
        }
    }

    /// Real time: sleeps until a task is woken (by a socket or a timer) or
    /// `max` has passed. In virtual time it returns at once.
    pub fn sleep_until_woken(&self, max: Duration) {
        if self.nodes.host.clock().is_none() && !self.has_ready() {
            std::thread::park_timeout(max);
        }
    }
}
