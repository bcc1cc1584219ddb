//! What the nodes of a [`Sim`](super::Sim) live on: the simulated network
//! on the virtual clock, or real TCP on 127.0.0.1 on the real clock (the
//! fidelity check of `Sim::realtime`). Everything above this file is the
//! same for both.

use std::time::Duration;

use libp2p::identity::Keypair;
use libp2p::swarm::NetworkBehaviour;
use libp2p::{Multiaddr, Swarm};
use sim_runtime::Clock;

use super::SimConfig;
use super::node::{listening_swarm, upgrade};
use crate::net::{self, GroupFn, LatencyModel, NetStats, Network, TcpNet};
use crate::scheduler::{NodeId, Scheduler};

/// The clock and the network of a simulation.
pub(super) enum Host {
    /// A simulation: the virtual clock (installed on the thread) and the
    /// simulated network.
    Virtual {
        clock: Clock,
        net: Network,
        model: Box<LatencyModel>,
    },
    /// Real time since `start` (a reading of the real clock), on TCP.
    Real { start: Duration, net: TcpNet },
}

impl Host {
    /// Time since the simulation started, virtual or real.
    pub fn now(&self) -> Duration {
        match self {
            Host::Virtual { clock, .. } => clock.now(),
            Host::Real { start, .. } => sim_runtime::now().saturating_sub(*start),
        }
    }

    /// The virtual clock; `None` in real time.
    pub fn clock(&self) -> Option<&Clock> {
        match self {
            Host::Virtual { clock, .. } => Some(clock),
            Host::Real { .. } => None,
        }
    }

    /// The virtual clock.
    ///
    /// # Panics
    /// In real time, naming `what` was asked of it.
    pub fn expect_clock(&self, what: &str) -> &Clock {
        match self.clock() {
            Some(clock) => clock,
            None => panic!("{what} needs virtual time; this Sim runs in real time"),
        }
    }

    /// Builds node `index`'s swarm: the upgraded transport first, then the
    /// behaviour (`make`), then the swarm listening on the node's address,
    /// which is returned with it.
    pub fn swarm<B: NetworkBehaviour>(
        &self,
        config: &SimConfig,
        index: NodeId,
        key: &Keypair,
        sched: &Scheduler,
        make: impl FnOnce(&Keypair) -> B,
    ) -> (Swarm<B>, Multiaddr) {
        let peer_id = key.public().to_peer_id();
        let (swarm, addr) = match self {
            Host::Virtual { net, .. } => {
                let transport = upgrade(
                    net.transport(index),
                    key,
                    config.security,
                    config.connection_timeout,
                );
                let addr = net::listen_addr(index);
                let behaviour = make(key);
                let executor = sched.executor(index);
                let swarm = listening_swarm(
                    transport,
                    behaviour,
                    peer_id,
                    executor,
                    config.idle_timeout,
                    addr.clone(),
                );
                (swarm, addr)
            }
            Host::Real { net, .. } => {
                let addr = net::free_addr().expect("the loopback interface has free TCP ports");
                let transport = upgrade(
                    net.transport(),
                    key,
                    config.security,
                    config.connection_timeout,
                );
                let behaviour = make(key);
                let swarm = listening_swarm(
                    transport,
                    behaviour,
                    peer_id,
                    net.executor(),
                    config.idle_timeout,
                    addr.clone(),
                );
                (swarm, addr)
            }
        };
        let mut swarm = swarm;
        if config.external_addr {
            swarm.add_external_address(addr.clone());
        }
        (swarm, addr)
    }

    /// Node `node` may be reached again (simulation only).
    pub fn revive(&self, node: NodeId) {
        if let Host::Virtual { net, .. } = self {
            net.revive(node);
        }
    }

    /// Node `node` crashes: its links drop without a goodbye. In real time
    /// its sockets close when its swarm is dropped, as when a process exits.
    pub fn crash(&self, node: NodeId) {
        if let Host::Virtual { net, .. } = self {
            net.crash(node);
        }
    }

    /// The simulated network.
    ///
    /// # Panics
    /// In real time, naming `what` was asked of it.
    pub fn expect_network(&self, what: &str) -> &Network {
        match self {
            Host::Virtual { net, .. } => net,
            Host::Real { .. } => panic!("{what} needs the simulated network; this Sim runs on TCP"),
        }
    }

    /// Splits the simulated network until `until`.
    pub fn split(&self, until: Duration, group_of: GroupFn) {
        self.expect_network("a partition").split(until, group_of);
    }

    /// The node's region (see [`LatencyModel::region_of`]); `None` in a flat
    /// network and in real time.
    pub fn region_of(&self, node: NodeId) -> Option<usize> {
        match self {
            Host::Virtual { model, .. } => model.region_of(node),
            Host::Real { .. } => None,
        }
    }

    /// [`Host::region_of`] for every node, as an owned function.
    pub fn regions(&self) -> std::sync::Arc<dyn Fn(NodeId) -> Option<usize> + Send + Sync> {
        match self {
            Host::Virtual { model, .. } => {
                let model = model.clone();
                std::sync::Arc::new(move |node| model.region_of(node))
            }
            Host::Real { .. } => std::sync::Arc::new(|_| None),
        }
    }

    /// One-way latency between nodes `a` and `b` for a connection made now.
    pub fn latency(&self, a: NodeId, b: NodeId) -> Duration {
        let port = crate::net::LISTEN_PORT_BASE + u64::from(b);
        self.expect_network("a link latency")
            .latency_to_port(a, port)
    }

    /// The network's counters so far.
    pub fn stats(&self) -> NetStats {
        match self {
            Host::Virtual { net, .. } => net.stats(),
            Host::Real { net, .. } => net.stats(),
        }
    }
}
