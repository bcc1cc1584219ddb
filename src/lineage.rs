//! Hops of a Kademlia lookup: the longest chain of peers that led to its
//! result, found by watching which response first named each peer.
//!
//! A `get_closest_peers` query in libp2p-kad starts from the 20 peers of the
//! local routing table closest to the key (its seeds). Every peer that
//! answers names peers closer to the key; the query takes each peer in at
//! its first mention and asks it in turn. So every peer the query returns
//! has a lineage: a seed (1 hop), or a peer named by the answer of a peer of
//! `h` hops (`h + 1` hops). A lookup's hops are the most hops of the peers
//! it returned, as in the DHT literature's "hops to the result".
//!
//! libp2p-kad 0.49 reports none of this in its events. Its answers reach its
//! behaviour as handler events of a type the crate does not export by name,
//! but the type is reachable as the behaviour's `THandlerOutEvent`, and its
//! variants are public. [`Lineage`] wraps the unmodified behaviour, hands
//! every call through, and, only while one of the node's watched queries is
//! running, notes each `FindNodeRes` answer (the responder, the query, the
//! peers named) before handing it on: the same answers, in the same order,
//! as Kademlia sees them.

use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};
use std::task::{Context, Poll};

use libp2p::core::Endpoint;
use libp2p::core::transport::PortUse;
use libp2p::kad::store::RecordStore;
use libp2p::kad::{self, QueryId};
use libp2p::swarm::{
    ConnectionDenied, ConnectionId, FromSwarm, NetworkBehaviour, THandler, THandlerInEvent,
    THandlerOutEvent, ToSwarm,
};
use libp2p::{Multiaddr, PeerId};

/// What Kademlia's connection handlers report to its behaviour.
type KadEvent = THandlerOutEvent<kad::Behaviour<kad::store::MemoryStore>>;

/// The hops of every peer a watched query has met so far: 1 for its seeds,
/// and `h + 1` for a peer first named in the answer of a peer of `h`.
#[derive(Debug, Default)]
struct Depths(BTreeMap<PeerId, u32>);

impl Depths {
    fn new(seeds: &[PeerId]) -> Depths {
        Depths(seeds.iter().map(|p| (*p, 1)).collect())
    }

    /// Takes in the answer of `responder`: the peers it names, in order.
    fn answer<'a>(&mut self, responder: &PeerId, named: impl IntoIterator<Item = &'a PeerId>) {
        let Some(&d) = self.0.get(responder) else {
            // Not a peer of this query (Kademlia ignores such an answer).
            return;
        };
        for peer in named {
            self.0.entry(*peer).or_insert(d + 1);
        }
    }

    /// The most hops of `peers`; one the query never met counts as a seed.
    fn most(&self, peers: &[PeerId]) -> u32 {
        peers
            .iter()
            .map(|p| self.0.get(p).copied().unwrap_or(1))
            .max()
            .unwrap_or(0)
    }
}

/// A behaviour (Kademlia) that also records, for the queries it is told to
/// watch, which answer first named each peer.
pub struct Lineage<B> {
    inner: B,
    /// Watched queries, in the order they started (a node runs few at once).
    watched: Vec<(QueryId, Depths)>,
}

impl<B> Lineage<B> {
    /// `inner`, watching nothing yet.
    pub fn new(inner: B) -> Self {
        Lineage {
            inner,
            watched: Vec::new(),
        }
    }

    /// Records the answers to `query` from now on; `seeds` are the peers it
    /// started from.
    pub fn watch(&mut self, query: QueryId, seeds: &[PeerId]) {
        self.watched.push((query, Depths::new(seeds)));
    }

    /// Stops watching `query` and returns the hops of its result `peers`
    /// (0 if it returned none or was not watched).
    pub fn finish(&mut self, query: QueryId, peers: &[PeerId]) -> u32 {
        match self.watched.iter().position(|(q, _)| *q == query) {
            Some(i) => self.watched.remove(i).1.most(peers),
            None => 0,
        }
    }

    /// Queries being watched.
    pub fn watching(&self) -> usize {
        self.watched.len()
    }

    /// Takes in `responder`'s answer to `query`, if it is watched.
    fn note<'a>(
        &mut self,
        responder: &PeerId,
        query: QueryId,
        named: impl IntoIterator<Item = &'a PeerId>,
    ) {
        if let Some((_, depths)) = self.watched.iter_mut().find(|(q, _)| *q == query) {
            depths.answer(responder, named);
        }
    }
}

impl<B> Deref for Lineage<B> {
    type Target = B;

    fn deref(&self) -> &B {
        &self.inner
    }
}

impl<B> DerefMut for Lineage<B> {
    fn deref_mut(&mut self) -> &mut B {
        &mut self.inner
    }
}

impl<S> NetworkBehaviour for Lineage<kad::Behaviour<S>>
where
    S: RecordStore + Send + 'static,
{
    type ConnectionHandler = <kad::Behaviour<S> as NetworkBehaviour>::ConnectionHandler;
    type ToSwarm = <kad::Behaviour<S> as NetworkBehaviour>::ToSwarm;

    fn handle_pending_inbound_connection(
        &mut self,
        connection_id: ConnectionId,
        local_addr: &Multiaddr,
        remote_addr: &Multiaddr,
    ) -> Result<(), ConnectionDenied> {
        self.inner
            .handle_pending_inbound_connection(connection_id, local_addr, remote_addr)
    }

    fn handle_established_inbound_connection(
        &mut self,
        connection_id: ConnectionId,
        peer: PeerId,
        local_addr: &Multiaddr,
        remote_addr: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.inner.handle_established_inbound_connection(
            connection_id,
            peer,
            local_addr,
            remote_addr,
        )
    }

    fn handle_pending_outbound_connection(
        &mut self,
        connection_id: ConnectionId,
        maybe_peer: Option<PeerId>,
        addresses: &[Multiaddr],
        effective_role: Endpoint,
    ) -> Result<Vec<Multiaddr>, ConnectionDenied> {
        self.inner.handle_pending_outbound_connection(
            connection_id,
            maybe_peer,
            addresses,
            effective_role,
        )
    }

    fn handle_established_outbound_connection(
        &mut self,
        connection_id: ConnectionId,
        peer: PeerId,
        addr: &Multiaddr,
        role_override: Endpoint,
        port_use: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.inner.handle_established_outbound_connection(
            connection_id,
            peer,
            addr,
            role_override,
            port_use,
        )
    }

    fn on_swarm_event(&mut self, event: FromSwarm) {
        self.inner.on_swarm_event(event);
    }

    fn on_connection_handler_event(
        &mut self,
        peer_id: PeerId,
        connection_id: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        if !self.watched.is_empty()
            && let KadEvent::FindNodeRes {
                closer_peers,
                query_id,
            } = &event
        {
            self.note(&peer_id, *query_id, closer_peers.iter().map(|p| &p.node_id));
        }
        self.inner
            .on_connection_handler_event(peer_id, connection_id, event);
    }

    fn poll(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<ToSwarm<Self::ToSwarm, THandlerInEvent<Self>>> {
        self.inner.poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peers(n: u32) -> Vec<PeerId> {
        (0..n)
            .map(|i| crate::engine::identity(1, i).public().to_peer_id())
            .collect()
    }

    /// The hops of result `peers` after `answers`, in the order received.
    fn hops(seeds: &[PeerId], answers: &[(PeerId, Vec<PeerId>)], peers: &[PeerId]) -> u32 {
        let mut depths = Depths::new(seeds);
        for (responder, named) in answers {
            depths.answer(responder, named);
        }
        depths.most(peers)
    }

    #[test]
    fn hops_follow_the_first_answer_that_named_each_peer() {
        let p = peers(8);
        let seeds = vec![p[0], p[1]];
        // p0 (seed) names p2 and p3; p2 names p4 and p3 (already named by
        // p0: stays at 2 hops); p4 names p5; p7 is not a peer of the query
        // and its answer is ignored; p1 names p5 again (already at 4).
        let answers = vec![
            (p[0], vec![p[2], p[3]]),
            (p[2], vec![p[4], p[3]]),
            (p[7], vec![p[6]]),
            (p[4], vec![p[5]]),
            (p[1], vec![p[5], p[6]]),
        ];
        assert_eq!(hops(&seeds, &answers, &[p[0], p[1]]), 1);
        assert_eq!(hops(&seeds, &answers, &[p[0], p[3]]), 2);
        assert_eq!(hops(&seeds, &answers, &[p[3], p[4]]), 3);
        assert_eq!(hops(&seeds, &answers, &[p[5], p[0]]), 4);
        // p6 was first named by p1's answer (p7's did not count): 2 hops.
        assert_eq!(hops(&seeds, &answers, &[p[6]]), 2);
        assert_eq!(hops(&seeds, &answers, &[]), 0);
    }

    #[test]
    fn only_watched_queries_are_recorded_and_only_answers_from_their_peers() {
        let p = peers(4);
        let (q1, q2) = (query_id(1), query_id(2));
        let mut lineage = Lineage::new(());
        lineage.note(&p[0], q1, &p[1..2]);
        assert_eq!(lineage.watching(), 0);
        lineage.watch(q1, &[p[0]]);
        lineage.watch(q2, &[p[3]]);
        assert_eq!(lineage.watching(), 2);
        // p2 is no peer of q1; p0's answer to q2 is not one to q1.
        lineage.note(&p[2], q1, &p[1..2]);
        lineage.note(&p[0], q2, &p[1..2]);
        lineage.note(&p[0], q1, &p[2..3]);
        lineage.note(&p[2], q1, &p[1..2]);
        assert_eq!(lineage.finish(q1, &[p[1], p[0]]), 3);
        assert_eq!(lineage.finish(q1, &[p[1]]), 0);
        assert_eq!(lineage.finish(q2, &[p[1]]), 1);
        assert_eq!(lineage.watching(), 0);
    }

    /// A query id of a real Kademlia behaviour: its `n`-th query.
    fn query_id(n: u32) -> QueryId {
        let me = peers(1)[0];
        let mut kad = kad::Behaviour::new(me, kad::store::MemoryStore::new(me));
        (0..n)
            .map(|_| kad.get_closest_peers(me))
            .last()
            .expect("n >= 1")
    }
}
