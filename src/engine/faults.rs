//! Faults of a [`Sim`]: crashes, graceful stops, restarts with the same
//! identity, partitions and per-link latency.

use std::sync::Arc;
use std::time::Duration;

use libp2p::swarm::NetworkBehaviour;

use super::sim::Sim;
use crate::scheduler::NodeId;

impl<B: NetworkBehaviour> Sim<B> {
    /// Node `node` crashes: its links drop without a goodbye (its peers find
    /// out by their own timeouts), and its swarm and connection tasks are
    /// dropped. [`Sim::restart`] brings it back.
    pub fn crash(&mut self, node: NodeId) {
        if self.is_running(node) {
            if self.is_local(node) {
                let kind = self.nodes.tracer.crash;
                self.record_lifecycle(node, kind);
            }
            // Before anything is dropped, so nothing is sent on the way out.
            self.nodes.host.crash(node);
            self.remove(node);
        }
    }

    /// Node `node` stops gracefully: its swarm and connections are dropped,
    /// which closes its connections as when a process exits.
    pub fn stop(&mut self, node: NodeId) {
        if self.is_running(node) {
            if self.is_local(node) {
                let kind = self.nodes.tracer.stop;
                self.record_lifecycle(node, kind);
            }
            self.remove(node);
        }
    }

    fn record_lifecycle(&self, node: NodeId, kind: &'static str) {
        let peer = self.peer_id(node);
        self.record(self.now(), node, kind, Some(&peer), String::new);
    }

    /// Drops node `node`'s connection tasks, then its swarm.
    fn remove(&mut self, node: NodeId) {
        self.mark_down(node);
        if !self.is_local(node) {
            return;
        }
        self.sched.remove_owner(node);
        let swarm = self.nodes.slots[node as usize].take();
        drop(swarm);
    }

    /// Restarts a crashed or stopped node with the same identity, address
    /// and behaviour builder. Connections of its previous life are reset on
    /// their next use, as a rebooted host answers with RST.
    ///
    /// ```
    /// use std::time::Duration;
    /// use libp2p::{ping, swarm::SwarmEvent};
    /// use libp2p_sim::engine::{Sim, SimConfig};
    /// # fn main() -> Result<(), libp2p_sim::engine::EngineError> {
    /// let mut sim = Sim::new(SimConfig::seeded(2))?;
    /// let a = sim.add_node(|_| ping::Behaviour::default());
    /// let b = sim.add_node(|_| ping::Behaviour::default());
    /// sim.connect(a, b);
    /// let peer = sim.peer_id(b);
    /// sim.crash(b);
    /// // a hears nothing: its ping times out after 20 s of virtual time.
    /// let start = sim.now();
    /// sim.wait(a, |e| match e {
    ///     SwarmEvent::Behaviour(ping::Event { result: Err(_), .. }) => Some(()),
    ///     _ => None,
    /// });
    /// assert!(sim.now() - start >= Duration::from_secs(20));
    /// sim.restart(b);
    /// assert_eq!(sim.peer_id(b), peer);
    /// sim.connect(a, b);
    /// # Ok(()) }
    /// ```
    pub fn restart(&mut self, node: NodeId) {
        if !self.is_running(node) && self.was_added(node) {
            self.start(node);
        }
    }

    /// Splits the network for `length` of virtual time: `group_of` gives
    /// each node's side (`None`: reaches every side). Bytes between sides
    /// are held and delivered one latency after the heal, as TCP
    /// retransmission would; a dial across waits for the heal.
    ///
    /// # Panics
    /// In real time.
    pub fn partition(
        &mut self,
        length: Duration,
        group_of: impl Fn(NodeId) -> Option<usize> + Send + Sync + 'static,
    ) {
        let until = self.now() + length;
        self.nodes.host.split(until, Arc::new(group_of));
    }

    /// Ends the current partition now.
    ///
    /// # Panics
    /// In real time.
    pub fn heal(&mut self) {
        self.nodes.host.expect_network("heal").heal();
    }

    /// Sets the one-way latency between nodes `a` and `b` (both ways) for
    /// connections made from now on.
    ///
    /// # Panics
    /// In real time.
    pub fn set_link_latency(&mut self, a: NodeId, b: NodeId, one_way: Duration) {
        self.nodes
            .host
            .expect_network("set_link_latency")
            .set_link_latency(a, b, one_way);
    }
}
