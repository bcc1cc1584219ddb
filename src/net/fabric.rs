//! What lies between two endpoints right now: node liveness (crashes and
//! restarts) and partitions. Links ask the fabric, at each write, what
//! happens to the bytes ([`Path`]).
//!
//! * A crashed node is a black hole: bytes sent to it are lost and it sends
//!   nothing, not even a close, so its peers find out by their own timeouts.
//! * When a crashed node comes back (same index, new incarnation), its old
//!   connections are reset on their next use, as a rebooted host answers
//!   packets of connections it no longer knows with RST.
//! * During a partition, bytes between nodes of different groups are held
//!   and delivered one latency after the heal, as TCP retransmission would
//!   deliver them (the partitions of a scenario are shorter than TCP's
//!   give-up time of about 15 minutes).

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::scheduler::NodeId;

/// Group of a node during a partition: `None` for a node the partition does
/// not affect (it reaches every group).
pub type GroupFn = Arc<dyn Fn(NodeId) -> Option<usize> + Send + Sync>;

/// What happens to bytes sent now from one endpoint to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Path {
    /// Delivered after the link latency.
    Open,
    /// Held until the given heal time, then delivered after the latency.
    HeldUntil(Duration),
    /// Lost (the receiver or the sender is crashed).
    BlackHole,
    /// The receiver restarted since the connection was made: reset.
    Reset,
}

/// One end of a link: a node and the incarnation it had when the link was
/// made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct End {
    pub node: NodeId,
    pub incarnation: u32,
}

#[derive(Debug, Clone, Copy, Default)]
struct Life {
    crashed: bool,
    incarnation: u32,
}

struct Split {
    until: Duration,
    group_of: GroupFn,
}

#[derive(Default)]
struct State {
    lives: Vec<Life>,
    split: Option<Split>,
}

/// Liveness and partitions of one network.
#[derive(Default)]
pub(crate) struct Fabric {
    state: Mutex<State>,
    /// False until the first crash or partition: until then every path is
    /// open, and links need not take the lock on every write.
    disturbed: AtomicBool,
}

impl Fabric {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("fabric lock")
    }

    /// The current end of `node`.
    pub fn end(&self, node: NodeId) -> End {
        let st = self.lock();
        End {
            node,
            incarnation: st.lives.get(node as usize).map_or(0, |l| l.incarnation),
        }
    }

    /// Whether `node` is crashed now.
    pub fn is_crashed(&self, node: NodeId) -> bool {
        if !self.disturbed.load(Relaxed) {
            return false;
        }
        self.lock()
            .lives
            .get(node as usize)
            .is_some_and(|l| l.crashed)
    }

    /// `node` crashes: from now on it is a black hole.
    pub fn crash(&self, node: NodeId) {
        self.disturbed.store(true, Relaxed);
        let mut st = self.lock();
        let i = node as usize;
        if st.lives.len() <= i {
            st.lives.resize(i + 1, Life::default());
        }
        st.lives[i].crashed = true;
    }

    /// `node` starts (again): a new incarnation, not crashed.
    pub fn revive(&self, node: NodeId) {
        let mut st = self.lock();
        let i = node as usize;
        if st.lives.len() <= i {
            st.lives.resize(i + 1, Life::default());
        }
        let life = &mut st.lives[i];
        if life.crashed {
            life.crashed = false;
            life.incarnation += 1;
        }
    }

    /// Starts a partition that heals at `until`.
    pub fn split(&self, until: Duration, group_of: GroupFn) {
        self.disturbed.store(true, Relaxed);
        self.lock().split = Some(Split { until, group_of });
    }

    /// Ends the partition, if any.
    pub fn heal(&self) {
        self.lock().split = None;
    }

    /// What happens now to bytes from `from` to `to`.
    pub fn path(&self, from: End, to: End) -> Path {
        if !self.disturbed.load(Relaxed) {
            return Path::Open;
        }
        let st = self.lock();
        let life = |n: NodeId| st.lives.get(n as usize).copied().unwrap_or_default();
        let (lf, lt) = (life(from.node), life(to.node));
        if lf.crashed || lt.crashed || lf.incarnation != from.incarnation {
            return Path::BlackHole;
        }
        if lt.incarnation != to.incarnation {
            return Path::Reset;
        }
        if let Some(split) = &st.split {
            let (a, b) = ((split.group_of)(from.node), (split.group_of)(to.node));
            if let (Some(a), Some(b)) = (a, b)
                && a != b
            {
                return Path::HeldUntil(split.until);
            }
        }
        Path::Open
    }
}
