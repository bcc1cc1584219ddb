//! What a run measures, and the CSV files it writes.
//!
//! The numbers are defined in the README ("Output files"); this module
//! holds them as the run produces them ([`Recorder`]), the finished
//! [`RunReport`], its [`Summary`] and the CSV writers.
//! Every figure that has a truth to compare with is measured against the
//! `oracle::Oracle` by `sim::measure`.
//!
//! The figures a node reports of itself ([`TableStats`], [`BootstrapOutcome`],
//! [`LookupOutcome`]) and the lag of a real-time run ([`Lag`]) are defined
//! here, so that this module depends on neither the node nor real-time mode.

mod buckets;
mod csv;
mod outcome;
mod record;
pub mod summary;

pub use buckets::{BucketFill, expected_fill};
pub use outcome::{BootstrapOutcome, LookupOutcome, TableStats};
pub use record::{
    ClosestHeld, Departures, Holders, Lag, LookupRecord, NetworkSample, NodeRecord, RECALL_LEVELS,
    Recorder, RunReport, Sample, ms,
};
pub use summary::{Summary, nearest_rank};
