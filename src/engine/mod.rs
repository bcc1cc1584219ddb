//! # The engine: your libp2p code in virtual time
//!
//! The engine runs real, unmodified `libp2p::Swarm`s with **your**
//! `NetworkBehaviour` on a simulated network, on one thread, in virtual
//! time: a test that waits out a 60 s timeout takes milliseconds, and the
//! same seed gives the same run, event for event. It knows nothing of
//! Kademlia; `sim run` and its scenarios are one user of it.
//!
//! * [`Sim`]: the network. [`Sim::add_node`] builds a node's behaviour from
//!   its key (drawn from the seed); every node listens on its own
//!   `/memory/<port>` address. [`Sim::connect`], [`Sim::dial`],
//!   [`Sim::run_for`], [`Sim::run_until`], [`Sim::wait`] on a node's
//!   `SwarmEvent`s (or [`Sim::on_event`] to see every event as it comes),
//!   [`Sim::swarm_mut`] to call into a behaviour; faults:
//!   [`Sim::crash`], [`Sim::stop`], [`Sim::restart`] (same identity),
//!   [`Sim::partition`], [`Sim::heal`], [`Sim::set_link_latency`].
//! * A loop of your own: [`Sim::add_node_at`] numbers nodes your way, and
//!   [`Sim::run_ready`], [`Sim::next_timer`] and [`Sim::advance_to`] are the
//!   steps `run_for` is made of, so that your own events (a scenario's
//!   timeline) apply at exactly the instant you choose; a [`Tracer`] names
//!   the events of the trace, [`Sim::record`] adds your own, and
//!   [`Sim::peek_mut`] reads a swarm without changing the schedule.
//!   `sim run`'s Kademlia study is built this way (`src/sim/world.rs`).
//! * [`Sim::realtime`]: the same calls on TCP over 127.0.0.1 with the real
//!   clock, for a fidelity check.
//! * [`workers`]: one simulation over several worker processes (or MPI
//!   ranks, [`Sim::on_worker`]), each simulating its share of the nodes,
//!   none more than a lookahead ahead of what the others may still send
//!   it ([`horizon`]: sliding horizons; or windows with a barrier); the
//!   same seed on the same number of workers gives the same bytes.
//! * [`SimConfig`]: the seed, the links (latency, regions), Noise or
//!   plaintext, the swarm's timeouts.
//! * [`seeds`]: tests over seeds the way madsim does them: one seed by
//!   default, `LIBP2P_SIM_SEED` and `LIBP2P_SIM_SEEDS` to choose, each run in
//!   a process of its own, and a failing seed prints the line that reruns it.
//!
//! ## Two nodes and a ping, in virtual time
//!
//! ```
//! use std::time::Duration;
//! use libp2p::{ping, swarm::SwarmEvent};
//! use libp2p_sim::engine::{Sim, SimConfig};
//! # fn main() -> Result<(), libp2p_sim::engine::EngineError> {
//! let mut sim = Sim::new(SimConfig::seeded(7))?;
//! let a = sim.add_node(|_key| ping::Behaviour::default());
//! let b = sim.add_node(|_key| ping::Behaviour::default());
//! sim.connect(a, b);
//! let rtt = sim.wait(a, |event| match event {
//!     SwarmEvent::Behaviour(ping::Event { result: Ok(rtt), .. }) => Some(rtt),
//!     _ => None,
//! });
//! // One round trip on links of 10 ms each way (the default), exactly.
//! assert_eq!(rtt, Duration::from_millis(20));
//! # Ok(()) }
//! ```
//!
//! `examples/downstream/` is a crate of its own that uses the engine as a
//! user's crate does: a request-response test over seeds, and gossipsub on
//! 100 nodes with the delivery latency of every message written as CSV.
//!
//! ## What the build must have
//!
//! libp2p reads time through `web-time` and `futures-timer`, and entropy
//! through `getrandom`. A simulation needs all three to follow it, so a
//! crate that uses the engine carries the `[patch.crates-io]` entries for
//! `web-time` and `futures-timer` (the crates under `sim/`) and builds with
//! `--cfg getrandom_backend="custom"`. [`preflight`] checks all three when a
//! [`Sim`] is created, and the simulation refuses to start without them,
//! naming what is missing, rather than run on the wall clock or on the
//! operating system's entropy.
//!
//! ## One simulation per thread, one run per process
//!
//! A [`Sim`] installs its clock on the thread that creates it, so create it
//! before anything on that thread draws randomness or builds a `HashMap`
//! (std caches a thread's hash keys on first use). libp2p numbers
//! connections and listeners with process-wide counters that key some of
//! its `HashMap`s, so a second simulation in the same process may take
//! another schedule: [`seeds::check`] runs every seed in a child process.

mod drive;
mod faults;
pub mod horizon;
mod host;
pub mod mesh;
#[cfg(feature = "mpi")]
pub mod mpi;
mod node;
mod preflight;
pub mod seeds;
mod sim;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_steps;
#[cfg(test)]
mod tests_workers;
pub mod workers;

use std::time::Duration;

pub use drive::{POLLS_PER_INSTANT_LIMIT, WAIT_LIMIT};
pub use node::{
    EventHandler, TimedEvent, TraceKind, Tracer, connection_details, identity, listening_swarm,
    upgrade,
};
pub use preflight::preflight;
pub use sim::{Sim, WindowStats};

pub use crate::net::{NetStats, Workers};
pub use crate::scenario::{Latency, Network as NetworkConfig, Region, Security};
pub use crate::scheduler::{NodeId, SchedulerStats};
pub use crate::trace::{Trace, TraceFilter, TraceHandle};

/// How a [`Sim`] is set up. Build it with [`SimConfig::seeded`] and
/// change what you need.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// The seed: node keys, link latencies, the order tasks run in, and
    /// every random byte libp2p draws come from it.
    pub seed: u64,
    /// The links: one-way latency of every link, or regions with a share
    /// of the nodes each and a latency matrix between them (the fields of
    /// a scenario's `[network]`, see `scenarios/README.md`). Default: every
    /// link 10 ms constant, no regions.
    pub network: NetworkConfig,
    /// Noise or plaintext (both under Yamux). Default: Noise.
    pub security: Security,
    /// How long a connection without streams stays open. Default: 10 s.
    pub idle_timeout: Duration,
    /// Bound on a dial and its upgrade. Default: 20 s.
    pub connection_timeout: Duration,
    /// Compute Noise's X25519 with the stand-in that costs no CPU and
    /// writes the same bytes; only takes effect where the `x25519-dalek`
    /// patch is in the build. Default: false (the curve).
    pub x25519_stand_in: bool,
    /// Whether each node's listen address is also confirmed as its external
    /// address when it starts, as libp2p-swarm-test's
    /// `with_memory_addr_external` does. Default: true. Off for nodes that
    /// should learn their addresses from the network (identify).
    pub external_addr: bool,
    /// The seed of the entropy libp2p draws (Noise's ephemeral keys,
    /// random query targets), when it should differ from `seed`: to vary
    /// libp2p's own randomness while the keys, latencies and schedule stay.
    /// Default: `None` (drawn from `seed`).
    pub entropy_seed: Option<u64>,
}

impl SimConfig {
    /// The defaults with seed `seed`.
    pub fn seeded(seed: u64) -> SimConfig {
        SimConfig {
            seed,
            network: NetworkConfig {
                latency: Latency::Constant(Duration::from_millis(10)),
                ..NetworkConfig::default()
            },
            security: Security::Noise,
            idle_timeout: Duration::from_secs(10),
            connection_timeout: Duration::from_secs(20),
            x25519_stand_in: false,
            external_addr: true,
            entropy_seed: None,
        }
    }

    /// Checks what the type system cannot: region shares in (0, 1] summing
    /// to 1, and a latency for every pair of regions.
    fn validate(&self) -> Result<(), EngineError> {
        let regions = &self.network.regions;
        let bad = |why: String| Err(EngineError::Config(why));
        if let Some(r) = regions.iter().find(|r| !(r.share > 0.0 && r.share <= 1.0)) {
            return bad(format!(
                "region {}: share {} is not in (0, 1]",
                r.name, r.share
            ));
        }
        let total: f64 = regions.iter().map(|r| r.share).sum();
        if !regions.is_empty() && (total - 1.0).abs() > 1e-9 {
            return bad(format!("region shares sum to {total}, not 1"));
        }
        for a in 0..regions.len() {
            for b in a..regions.len() {
                if !self.network.latency_matrix.contains_key(&(a, b)) {
                    return bad(format!(
                        "no latency between regions {} and {} in latency_matrix (key ({a}, {b}))",
                        regions[a].name, regions[b].name
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Why a simulation cannot start or go on.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The build lacks a piece that virtual time needs.
    #[error("libp2p-sim cannot simulate with this build: {piece} is not in effect. {fix}")]
    NotPatched {
        /// What is missing.
        piece: &'static str,
        /// How to add it.
        fix: &'static str,
    },
    /// Tasks kept waking each other without virtual time moving.
    #[error(
        "livelock at virtual time {at:?} (seed {seed}): tasks keep waking each other ({polls} polls in one instant)"
    )]
    Livelock {
        /// When.
        at: Duration,
        /// The seed of the run.
        seed: u64,
        /// Polls made at that instant.
        polls: u64,
    },
    /// A [`SimConfig`] value that cannot work.
    #[error("invalid SimConfig: {0}")]
    Config(String),
    /// The trace file could not be written.
    #[error("trace file: {0}")]
    Io(#[source] std::io::Error),
}
