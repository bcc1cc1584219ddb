//! # libp2p-sim
//!
//! A deterministic simulation harness for rust-libp2p networks. Hundreds to
//! thousands of real `libp2p::Swarm`s (Noise or plaintext, Yamux, identify,
//! Kademlia, ping) run in one thread on a simulated network, driven by a
//! seeded scheduler in virtual time. The same scenario and seed produce the
//! same bytes, run after run, process after process.
//!
//! ## How the pieces fit
//!
//! The modules form layers, listed here from the bottom up. A module imports
//! only modules of the layers below its own (its tests too), so no module
//! imports one that imports it back, directly or through others; the same
//! holds between the files of a folder module such as `scenario/`:
//!
//! * Layer 0: [`rng`], [`metric_names`], [`csvfile`], and the `sim-runtime`
//!   crate.
//! * Layer 1: [`scheduler`], [`scenario`].
//! * Layer 2: [`dist`], [`net`], [`trace`], [`realtime`].
//! * Layer 3: [`engine`].
//! * Layer 4: [`metrics`], [`oracle`], [`lineage`].
//! * Layer 5: [`node`], [`machine`], [`invariant`], [`report`].
//! * Layer 6: [`sim`], [`compare`].
//!
//! Layers 0 to 3 are the harness; the [`engine`] is its public face. The
//! Kademlia study (layers 4 to 6) is one user of the engine and reaches the
//! nodes, the clock and the network only through the engine's API.
//!
//! The `sim` binary (`src/main.rs` and `src/cli/`) stands above them all.
//! The modules in the same order, then the crates under `sim/`:
//!
//! * [`rng`]: derivation of independent random streams from the one seed.
//! * [`metric_names`]: the names of the metrics an `[[assert]]` may check,
//!   shared by the scenario's validation and the invariant checks.
//! * [`csvfile`]: how every CSV file is written and read (RFC 4180, through
//!   the `csv` crate) and put in place atomically.
//! * [`scheduler`]: the tasks (each node's swarm, and the connection tasks
//!   the swarms spawn through [`scheduler::SimExecutor`]) and the seeded
//!   choice of which ready task runs next.
//! * [`scenario`]: the TOML scenario files (schema and validation).
//! * [`dist`]: the time distributions of churn and arrivals.
//! * [`net`]: the simulated network: `/memory/<port>` addresses, links with
//!   per-link latency, TCP-like connection set-up and refusal, links to
//!   other workers as timed messages; and the real TCP network of real-time
//!   runs.
//! * [`trace`]: the event trace of a run, its hash and `events.csv`.
//! * [`realtime`]: which scenarios real-time mode (the same run on TCP over
//!   loopback with the real clock) accepts, and the process limits it needs.
//! * [`engine`]: the simulator as a library for any `NetworkBehaviour`:
//!   [`engine::Sim`] (nodes, connections, virtual time, faults, the step
//!   calls for a loop of one's own, the same calls in real time on TCP),
//!   one simulation over several worker processes or MPI ranks
//!   ([`engine::workers`]), the check that the build can simulate, and
//!   tests over seeds in child processes ([`engine::seeds`]). Start there
//!   to run your own libp2p code.
//! * [`metrics`]: what a run measured and the CSV files it writes.
//! * [`oracle`]: the global truth (live set, true k closest peers) that the
//!   metrics are measured against.
//! * [`lineage`]: a lookup's hops, from the answers that first named each
//!   peer it returned (a wrapper around the unmodified Kademlia behaviour).
//! * [`node`]: the study's libp2p behaviour (Kademlia, identify, ping), what
//!   it keeps of each node's session, and how its events are traced.
//! * [`machine`]: what a run costs the machine (wall time, CPU, peak memory).
//! * [`invariant`]: the scenario's `[[assert]]`s checked against a report.
//! * [`report`]: SVG charts and `index.html` from a run's report.
//! * [`sim`]: one run of the study on the engine. Adds the nodes at their
//!   join times, drives the loop "poll every ready task, then advance
//!   virtual time to the next timer or scenario event", and samples the
//!   routing tables.
//! * [`compare`]: two result directories compared metric by metric.
//! * `sim-runtime` (under `sim/`): the virtual clock, timers and `getrandom`
//!   hooks that the patched `web-time` and `futures-timer` crates delegate
//!   to, so that libp2p's own timeouts and randomness follow the simulation;
//!   and the X25519 stand-in behind the patched `x25519-dalek`, which spares
//!   a simulation the curve's CPU cost without changing its outputs
//!   ([`sim::RunOptions::real_x25519`] turns it off).
//! * `sim/smallvec`: the `smallvec` crate replaced by one backed by `Vec`,
//!   so that moving a `SmallVec` (which libp2p-kad's closest-peers iterator
//!   does for every step) copies three words rather than its inline buffer.
//! * `sim/ed25519-dalek`: `ed25519-dalek` replaced by Ed25519 (RFC 8032) on
//!   curve25519-dalek that, inside a simulation, remembers the signatures it
//!   verified and the keys it decompressed, which every Noise handshake
//!   would otherwise check again; outputs are unchanged.
//!
//! ## Running a scenario from code
//!
//! ```no_run
//! let scenario = libp2p_sim::scenario::Scenario::load("scenarios/bootstrap.toml".as_ref())?;
//! let report = libp2p_sim::sim::run(&scenario, 7, None)?;
//! report.write_csv("results/bootstrap/seed-7".as_ref())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod compare;
pub mod csvfile;
pub mod dist;
pub mod engine;
pub mod invariant;
pub mod lineage;
pub mod machine;
pub mod metric_names;
pub mod metrics;
pub mod net;
pub mod node;
pub mod oracle;
pub mod realtime;
pub mod report;
pub mod rng;
pub mod scenario;
pub mod scheduler;
pub mod sim;
pub mod trace;
