//! What the nodes of a run live on: the simulated network on the virtual
//! clock (a simulation), or TCP on loopback on the real clock (real-time
//! mode, see [`crate::realtime`]). The world's logic is the same for both.

use std::time::Duration;

use sim_runtime::Clock;

use crate::net::{GroupFn, NetStats, Network};
use crate::node::Node;
use crate::realtime::RealNet;
use crate::scenario::Stack;
use crate::scheduler::{NodeId, Scheduler};
use crate::trace::TraceHandle;

/// How a run is hosted, as given to the world.
pub enum Mode<'a> {
    /// A simulation: this virtual clock (installed on the run's thread).
    Virtual(&'a Clock),
    /// Real time, on this TCP network.
    Real(RealNet),
}

/// The run's time source.
#[derive(Clone, Copy)]
pub(super) enum Time<'a> {
    Virtual(&'a Clock),
    /// Real time since the run started (at this reading of the real clock).
    Real {
        start: Duration,
    },
}

impl Time<'_> {
    pub fn now(&self) -> Duration {
        match self {
            Time::Virtual(clock) => clock.now(),
            Time::Real { start } => sim_runtime::now().saturating_sub(*start),
        }
    }
}

/// The network the nodes are on.
pub(super) enum Net {
    Sim(Network),
    Real(RealNet),
}

impl Net {
    /// Builds node `i` on this network.
    pub fn node(
        &self,
        i: NodeId,
        seed: u64,
        stack: &Stack,
        sched: &Scheduler,
        now: Duration,
        trace: TraceHandle,
    ) -> Node {
        match self {
            Net::Sim(net) => Node::new(i, seed, stack, net, sched.executor(i), now, trace),
            Net::Real(real) => {
                let addr = crate::realtime::free_addr()
                    .expect("the loopback interface has free TCP ports");
                let (transport, executor) = (real.transport(), real.executor());
                Node::build(i, seed, stack, transport, executor, addr, now, trace)
            }
        }
    }

    /// Node `i` may be reached again (simulation only).
    pub fn revive(&self, i: NodeId) {
        if let Net::Sim(net) = self {
            net.revive(i);
        }
    }

    /// Node `i` crashes: its links drop without a goodbye. In real time the
    /// node's sockets close when it is dropped, as when a process exits.
    pub fn crash(&self, i: NodeId) {
        if let Net::Sim(net) = self {
            net.crash(i);
        }
    }

    /// Cuts the network until `until` (real-time mode refuses partitions).
    pub fn split(&self, until: Duration, group_of: GroupFn) {
        if let Net::Sim(net) = self {
            net.split(until, group_of);
        }
    }

    pub fn heal(&self) {
        if let Net::Sim(net) = self {
            net.heal();
        }
    }

    pub fn stats(&self) -> NetStats {
        match self {
            Net::Sim(net) => net.stats(),
            Net::Real(real) => real.stats(),
        }
    }
}
