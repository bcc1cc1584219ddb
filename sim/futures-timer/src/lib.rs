//! Drop-in replacement for the `futures-timer` crate, patched in with
//! `[patch.crates-io]`.
//!
//! [`Delay`] fires on the simulation's virtual clock when created on a thread
//! running a simulation, and on a real-time timer thread otherwise.

pub use sim_runtime::Delay;
