//! A simulation run: the loop that ties clock, scheduler, network, nodes and
//! the scenario timeline together.
//!
//! ```text
//! loop {
//!     run every ready task (seeded order) until none is ready
//!     t = min(next timer, next scenario event)      // nothing can happen before t
//!     if t > end { stop }
//!     advance the clock to t, firing timers due by t (their tasks become ready)
//!     apply scenario events at t (joins, departures, partitions, lookups, samples)
//! }
//! ```
//!
//! Each run gets a thread of its own: the thread-local state that libp2p's
//! dependencies seed lazily (rand's thread RNG, std's `HashMap` keys) is then
//! created inside the run, from the run's entropy stream.

mod measure;
mod timeline;
mod world;

#[cfg(test)]
mod tests;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use sim_runtime::Clock;

use crate::metrics::RunReport;
use crate::rng;
use crate::scenario::Scenario;

pub use timeline::join_schedule;
use world::Simulation;

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
    /// Nodes live now.
    pub nodes: usize,
}

/// Receives [`Progress`] from the run's thread.
pub type ProgressFn = Box<dyn FnMut(Progress) + Send>;

/// Runs `scenario` with `seed` on a fresh thread and returns what it measured.
///
/// One run per process is byte-for-byte reproducible (that is what `sim run`
/// does). A second run in the same process may take another schedule:
/// libp2p numbers connections and listeners with process-wide counters
/// (`ConnectionId`, `ListenerId`) that key some of its `HashMap`s, and those
/// counters do not restart. Run each simulation in its own process when
/// runs must be compared byte for byte.
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
