//! What a run tells its caller besides its report: its progress while it
//! runs, and why it ended early.

use std::time::Duration;

use crate::engine::NodeId;
use crate::metrics::RunReport;

/// What can end a run early. Both failures inside the run carry what was
/// measured up to that moment (`partial`), for files marked incomplete.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// Code inside the run panicked.
    #[error("panic at virtual time {at_ms} ms{}: {message}", in_node(*node))]
    Panicked {
        /// Virtual time of the panic.
        at_ms: u64,
        /// The node whose task was running, if any.
        node: Option<NodeId>,
        /// The panic message.
        message: String,
        /// What the run measured before the panic, if it could be saved.
        partial: Option<Box<RunReport>>,
    },
    /// Tasks kept waking each other without virtual time moving.
    #[error("no progress: {polls} polls at virtual time {at_ms} ms without time advancing")]
    Livelock {
        /// Virtual time where the run stalled.
        at_ms: u64,
        /// Polls made at that instant.
        polls: u64,
        /// What the run measured until then.
        partial: Option<Box<RunReport>>,
    },
    /// The run was asked to stop (`RunOptions::stop`: Ctrl-C, SIGTERM)
    /// before its end.
    #[error("interrupted at virtual time {at_ms} ms")]
    Interrupted {
        /// Virtual time reached.
        at_ms: u64,
        /// What the run measured until then.
        partial: Option<Box<RunReport>>,
    },
    /// The run's thread could not be started, or the trace not written.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The engine could not start the simulation.
    #[error("{0}")]
    Engine(#[from] crate::engine::EngineError),
}

fn in_node(node: Option<NodeId>) -> String {
    node.map(|n| format!(" in node {n}")).unwrap_or_default()
}

impl SimError {
    /// What the run measured before it failed, if anything.
    pub fn partial(&self) -> Option<&RunReport> {
        match self {
            SimError::Panicked { partial, .. }
            | SimError::Livelock { partial, .. }
            | SimError::Interrupted { partial, .. } => partial.as_deref(),
            SimError::Io(_) | SimError::Engine(_) => None,
        }
    }
}

/// Progress of a run, reported at every sample and every few thousand rounds
/// of the event loop in between (a callback that draws should throttle).
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// Virtual time reached.
    pub now: Duration,
    /// Virtual time the run ends.
    pub end: Duration,
    /// Nodes live now.
    pub nodes: usize,
    /// On one worker of several: wall time this worker has spent at window
    /// ends so far (waiting for the others, and the exchange); `None` on
    /// one worker.
    pub waiting: Option<Duration>,
}

/// Receives [`Progress`] from the run's thread.
pub type ProgressFn = Box<dyn FnMut(Progress) + Send>;
