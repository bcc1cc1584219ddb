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
//! * [`SimConfig`]: the seed, the latency of links, Noise or plaintext, the
//!   swarm's idle timeout.
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

mod node;
mod preflight;
pub mod seeds;
mod sim;
#[cfg(test)]
mod tests;

use std::time::Duration;

pub(crate) use node::connection_details;
pub use node::{EventHandler, TimedEvent, identity, listening_swarm, upgrade};
pub use preflight::preflight;
pub use sim::{Sim, WAIT_LIMIT};

pub use crate::scenario::{Latency, Security};
pub use crate::scheduler::NodeId;

/// How a [`Sim`] is set up. Build it with [`SimConfig::seeded`] and
/// change what you need.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// The seed: node keys, link latencies, the order tasks run in, and
    /// every random byte libp2p draws come from it.
    pub seed: u64,
    /// One-way latency of every link. Default: 10 ms constant.
    pub latency: Latency,
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
}

impl SimConfig {
    /// The defaults with seed `seed`.
    pub fn seeded(seed: u64) -> SimConfig {
        SimConfig {
            seed,
            latency: Latency::Constant(Duration::from_millis(10)),
            security: Security::Noise,
            idle_timeout: Duration::from_secs(10),
            connection_timeout: Duration::from_secs(20),
            x25519_stand_in: false,
        }
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
    #[error("livelock at virtual time {at:?} (seed {seed}): tasks keep waking each other")]
    Livelock {
        /// When.
        at: Duration,
        /// The seed of the run.
        seed: u64,
    },
    /// The trace file could not be written.
    #[error("trace file: {0}")]
    Io(#[source] std::io::Error),
}
