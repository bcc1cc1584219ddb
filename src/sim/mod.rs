//! A run of the Kademlia study: the scenario's timeline interleaved with
//! the engine's steps ([`crate::engine::Sim::run_ready`],
//! [`next_timer`](crate::engine::Sim::next_timer),
//! [`advance_to`](crate::engine::Sim::advance_to)), which owns the clock,
//! the scheduler, the network and the nodes' swarms.
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
mod merge;
mod status;
mod timeline;
mod world;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_bootstrap;
#[cfg(test)]
mod tests_health;
#[cfg(test)]
mod tests_network;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use crate::engine::workers::{Exchange, Link, Schedule, Worker, lookahead};
use crate::engine::{
    EngineError, NodeId, Sim, SimConfig, Trace, TraceFilter, TraceHandle, Workers,
};
use crate::metrics::RunReport;
use crate::node::Behaviour;
use crate::scenario::Scenario;

pub use merge::merge;
pub use status::{Progress, ProgressFn, SimError};
pub use timeline::join_schedule;
use world::Simulation;

/// Options of a run beyond scenario and seed.
#[derive(Default)]
pub struct RunOptions {
    /// Called at every sample and every few thousand event-loop rounds.
    pub progress: Option<ProgressFn>,
    /// Write `events.csv` into this directory, with the events the filter
    /// keeps (the trace hash always covers every event).
    pub trace: Option<(PathBuf, TraceFilter)>,
    /// Run in real time on TCP instead of simulating (see
    /// [`crate::realtime`]); check the scenario with
    /// [`crate::realtime::check`] first.
    pub realtime: bool,
    /// When this flag becomes true, the run stops at the end of the current
    /// round of its event loop and returns [`SimError::Interrupted`] with
    /// what it measured (see [`crate::machine::stop_on_signals`]).
    pub stop: Option<&'static AtomicBool>,
    /// Do not free the run's nodes, connections and network at its end:
    /// for a process that exits right after the run (the `sim` binary),
    /// where freeing gigabytes of small allocations one by one takes
    /// seconds (5 s at 1,000 nodes) that the operating system does at once.
    /// Leave it false in a process that runs more than one simulation.
    pub skip_teardown: bool,
    /// Compute Noise's X25519 on the curve instead of the stand-in that a
    /// simulation uses by default (`sim_runtime::dh`: same outputs, none of
    /// the curve's CPU cost). Real-time runs always use the curve.
    pub real_x25519: bool,
    /// Faults injected by the tests of the harness itself. Default: none.
    pub test_faults: TestFaults,
    /// Run as one worker of a run on several (see [`merge`] and
    /// `docs/parallel.md`): this process simulates its share of the nodes
    /// and its report holds only what they measured. Default: none.
    pub worker: Option<WorkerSpec>,
}

/// Which worker of a run on several this process is, and how it reaches
/// the others.
pub struct WorkerSpec {
    /// This worker, `0..count`.
    pub index: u32,
    /// Workers in the run.
    pub count: u32,
    /// How it exchanges messages with the others.
    pub link: WorkerLink,
}

/// How a worker reaches the others.
pub enum WorkerLink {
    /// The local backend: the Unix socket of the hub in the parent process
    /// (`sim run --workers N`), which meets the workers as the schedule
    /// says.
    Hub(PathBuf, Schedule),
    /// Any other exchange, made from the run's thread: e.g. a
    /// [`crate::engine::workers::relay`] to MPI on the main thread
    /// (`mpirun -n N sim run --mpi`).
    Exchange(Box<dyn Exchange + Send>),
}

/// Faults that the harness's own tests inject into a run, through hidden
/// `sim run` options, never through the environment: nothing outside the
/// scenario, the seed and the command line changes a run's outputs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TestFaults {
    /// Panic while polling node `.0` at the first poll at or after virtual
    /// time `.1` (`sim run --inject-panic NODE@MS`), to test how a crash is
    /// reported. Default: none.
    pub panic_at: Option<(NodeId, Duration)>,
    /// Mix the process id into the seed of the entropy libp2p draws (keys,
    /// Kademlia's random refresh targets), so that two processes behave
    /// differently (`sim run --unseeded-entropy`), to test
    /// `--check-determinism`. Default: false.
    pub unseeded_entropy: bool,
}

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
    run_with(
        scenario,
        seed,
        RunOptions {
            progress,
            ..Default::default()
        },
    )
}

/// [`run`] with options (trace file).
pub fn run_with(
    scenario: &Scenario,
    seed: u64,
    options: RunOptions,
) -> Result<RunReport, SimError> {
    let scenario = scenario.clone();
    let handle = std::thread::Builder::new()
        .name(format!("sim-seed-{seed}"))
        .stack_size(64 << 20)
        .spawn(move || run_here(&scenario, seed, options))?;
    handle.join().unwrap_or_else(|panic| {
        Err(SimError::Panicked {
            at_ms: 0,
            node: None,
            message: panic_message(panic.as_ref()),
            partial: None,
        })
    })
}

/// Runs `scenario` on the calling thread. Only deterministic on a thread
/// that has not used rand's thread RNG or created a `HashMap` before; use
/// [`run`] unless you control that.
pub fn run_here(
    scenario: &Scenario,
    seed: u64,
    mut options: RunOptions,
) -> Result<RunReport, SimError> {
    if options.realtime {
        return run_realtime_here(scenario, seed, options);
    }
    let trace = new_trace(&options)?;
    let config = engine_config(scenario, seed, &options);
    let sim = match options.worker.take() {
        Some(spec) => {
            // Merged with the other workers' traces after the run.
            trace.borrow_mut().keep_places();
            if scenario.stop_when_bootstrapped {
                return Err(SimError::Engine(EngineError::Config(
                    "stop_when_bootstrapped needs every node's state in one process; it cannot run on several workers".into(),
                )));
            }
            let workers = Workers {
                index: spec.index,
                count: spec.count,
            };
            let link = match spec.link {
                WorkerLink::Hub(hub, schedule) => {
                    Link::connect(&hub, workers, schedule, lookahead(&config.network))?
                }
                WorkerLink::Exchange(exchange) => Link::Barrier(exchange),
            };
            let worker = Worker { workers, link };
            Sim::on_worker(config, trace.clone(), worker)?
        }
        None => Sim::with_trace(config, trace.clone())?,
    };
    run_world(scenario, seed, sim, false, options, trace)
}

/// Real-time mode (see [`crate::realtime`]): a tokio runtime for the
/// sockets and connection tasks, no virtual clock.
fn run_realtime_here(
    scenario: &Scenario,
    seed: u64,
    options: RunOptions,
) -> Result<RunReport, SimError> {
    crate::realtime::raise_fd_limit();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("sim-realtime")
        .build()?;
    let _context = runtime.enter();
    let trace = new_trace(&options)?;
    let config = engine_config(scenario, seed, &options);
    let sim = Sim::realtime(config, runtime.handle().clone(), trace.clone());
    let report = run_world(scenario, seed, sim, true, options, trace);
    // Connection tasks of the dropped swarms may still be closing sockets.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    report
}

/// The engine's configuration for `scenario` under `seed`: its network and
/// stack; nodes learn their addresses from identify, not from the engine.
fn engine_config(scenario: &Scenario, seed: u64, options: &RunOptions) -> SimConfig {
    let stack = &scenario.stack;
    SimConfig {
        seed,
        network: scenario.network.clone(),
        security: stack.security,
        idle_timeout: stack.idle_timeout,
        connection_timeout: stack.connection_timeout,
        // Before the first node makes its Noise keys.
        x25519_stand_in: !options.real_x25519,
        external_addr: false,
        entropy_seed: Some(entropy_seed(seed, options.test_faults)),
    }
}

/// The run's trace: to `events.csv` if asked, else only hashed.
fn new_trace(options: &RunOptions) -> Result<TraceHandle, SimError> {
    Ok(match &options.trace {
        Some((dir, filter)) => Trace::to_dir(dir, filter.clone())?,
        None => Trace::hash_only(),
    })
}

/// Runs the world on `engine` and gathers what it measured, also after a
/// panic or a livelock.
fn run_world(
    scenario: &Scenario,
    seed: u64,
    engine: Sim<Behaviour>,
    realtime: bool,
    options: RunOptions,
    trace: TraceHandle,
) -> Result<RunReport, SimError> {
    let mut sim = Simulation::new(scenario, seed, engine, realtime, options.progress);
    sim.stop_on(options.stop);
    sim.inject_panic(options.test_faults.panic_at);
    let outcome = catch_unwind(AssertUnwindSafe(|| sim.run()));
    let at_ms = sim.now().as_millis() as u64;
    let node = sim.running_node();
    let lag = sim.lag();
    // Whatever happened, the measurements so far can be saved; if even
    // that panics, there is nothing to save.
    let skip_teardown = options.skip_teardown;
    let report = catch_unwind(AssertUnwindSafe(move || sim.finish(skip_teardown))).ok();
    let trace_file = trace.borrow_mut().finish();
    let mut report = report.map(|mut r| {
        let t = trace.borrow();
        r.trace_hash = t.hash();
        r.trace_events = t.events();
        r.lag = lag;
        r
    });
    if let Some(r) = report.as_mut() {
        r.trace_places = trace.borrow_mut().take_places();
    }
    let trace_file = trace_file?;
    if let Some(r) = report.as_mut() {
        r.trace_file = trace_file;
    }
    match outcome {
        Ok(Ok(())) => Ok(report.expect("finishing a completed run does not panic")),
        Ok(Err(SimError::Livelock { at_ms, polls, .. })) => Err(SimError::Livelock {
            at_ms,
            polls,
            partial: report.map(|r| Box::new(r.incomplete())),
        }),
        Ok(Err(SimError::Interrupted { at_ms, .. })) => Err(SimError::Interrupted {
            at_ms,
            partial: report.map(|r| Box::new(r.incomplete())),
        }),
        Ok(Err(other)) => Err(other),
        Err(panic) => Err(SimError::Panicked {
            at_ms,
            node,
            message: panic_message(panic.as_ref()),
            partial: report.map(|r| Box::new(r.incomplete())),
        }),
    }
}

/// The seed of the run's entropy stream: the run's, unless
/// [`TestFaults::unseeded_entropy`] is set.
fn entropy_seed(seed: u64, faults: TestFaults) -> u64 {
    if faults.unseeded_entropy {
        seed ^ u64::from(std::process::id())
    } else {
        seed
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic payload".to_string())
}
