//! The global truth the metrics are measured against.
//!
//! The harness knows which nodes are live at every moment, so it can say
//! exactly which peers a Kademlia routing table *should* hold: for any key,
//! the true k closest live peers by XOR distance between Kademlia keys
//! (the SHA-256 of the peer id's bytes, as libp2p-kad hashes them). This
//! module computes that from its own hashing, independently of libp2p-kad,
//! so the two can be checked against each other.

use std::collections::BTreeMap;

use libp2p::PeerId;
use sha2::{Digest, Sha256};

use crate::engine::NodeId;

/// A 256-bit Kademlia key.
pub type KadKey = [u8; 32];

/// The Kademlia key of `peer`: SHA-256 of its id's bytes.
pub fn kad_key(peer: &PeerId) -> KadKey {
    Sha256::digest(peer.to_bytes()).into()
}

/// XOR distance between two keys, comparable as a big-endian number.
pub fn distance(a: &KadKey, b: &KadKey) -> KadKey {
    std::array::from_fn(|i| a[i] ^ b[i])
}

/// The live nodes, with their peer ids and keys.
#[derive(Debug, Default, Clone)]
pub struct Oracle {
    live: BTreeMap<NodeId, (PeerId, KadKey)>,
    by_peer: BTreeMap<PeerId, NodeId>,
    /// Bumped on every change of the live set.
    version: u64,
}

impl Oracle {
    /// `node` with `peer` id is live from now on.
    pub fn join(&mut self, node: NodeId, peer: PeerId) {
        self.live.insert(node, (peer, kad_key(&peer)));
        self.by_peer.insert(peer, node);
        self.version += 1;
    }

    /// `node` is not live any more.
    pub fn leave(&mut self, node: NodeId) {
        if let Some((peer, _)) = self.live.remove(&node) {
            self.by_peer.remove(&peer);
            self.version += 1;
        }
    }

    /// Number of live nodes.
    pub fn live_count(&self) -> usize {
        self.live.len()
    }

    /// Changes whenever the live set changes (for caches).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Whether `peer` is a live node.
    pub fn is_live(&self, peer: &PeerId) -> bool {
        self.by_peer.contains_key(peer)
    }

    /// The live node with id `peer`, if any.
    pub fn node_of(&self, peer: &PeerId) -> Option<NodeId> {
        self.by_peer.get(peer).copied()
    }

    /// The key and peer id of live node `node`.
    pub fn get(&self, node: NodeId) -> Option<(PeerId, KadKey)> {
        self.live.get(&node).copied()
    }

    /// The `k` live nodes closest to `target` by XOR distance, closest
    /// first, leaving out `exclude` (a node is not among its own closest
    /// peers). Fewer than `k` when fewer are live. Ties (equal keys) are
    /// impossible for distinct peer ids short of a SHA-256 collision.
    pub fn closest(&self, target: &KadKey, k: usize, exclude: Option<NodeId>) -> Vec<NodeId> {
        // A bounded max-heap of the k best so far would be O(n log k); the
        // sorted vector below is simpler and fast enough at these sizes.
        let mut best: Vec<(KadKey, NodeId)> = Vec::with_capacity(k + 1);
        for (&node, (_, key)) in &self.live {
            if Some(node) == exclude {
                continue;
            }
            let d = distance(target, key);
            if best.len() == k && best.last().is_some_and(|(worst, _)| d >= *worst) {
                continue;
            }
            let at = best.partition_point(|(other, _)| *other < d);
            best.insert(at, (d, node));
            best.truncate(k);
        }
        best.into_iter().map(|(_, node)| node).collect()
    }

    /// The true `k` closest live peers of live node `node` (itself left out).
    pub fn closest_to_node(&self, node: NodeId, k: usize) -> Vec<NodeId> {
        match self.live.get(&node) {
            Some((_, key)) => self.closest(key, k, Some(node)),
            None => Vec::new(),
        }
    }
}

/// How a routing table compares with the truth.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TableHealth {
    /// Entries whose peer is not live.
    pub stale: usize,
    /// `|table ∩ truth| / |truth|`, `None` when `truth` is empty.
    pub recall: Option<f64>,
    /// `|table ∩ truth|`.
    pub held: usize,
}

impl Oracle {
    /// The health of `table` (the peers in a node's routing table) given
    /// the node's true k closest live peers `truth`.
    pub fn table_health(&self, table: &[PeerId], truth: &[PeerId]) -> TableHealth {
        TableHealth {
            stale: table.iter().filter(|p| !self.is_live(p)).count(),
            recall: recall(table, truth),
            held: truth.iter().filter(|t| table.contains(t)).count(),
        }
    }
}

/// Fraction of `truth` found in `found`: `|found ∩ truth| / |truth|`, or
/// `None` when `truth` is empty.
pub fn recall(found: &[PeerId], truth: &[PeerId]) -> Option<f64> {
    if truth.is_empty() {
        return None;
    }
    let hits = truth.iter().filter(|t| found.contains(t)).count();
    Some(hits as f64 / truth.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use libp2p::kad::KBucketKey;

    fn peers(n: u32) -> Vec<PeerId> {
        (0..n)
            .map(|i| crate::node::identity(42, i).public().to_peer_id())
            .collect()
    }

    #[test]
    fn keys_are_the_ones_libp2p_kad_uses() {
        for p in peers(20) {
            let ours = kad_key(&p);
            let theirs = KBucketKey::from(p);
            assert_eq!(&ours[..], theirs.hashed_bytes());
        }
    }

    /// Brute force with libp2p-kad's own distance: sort every other live
    /// peer by distance and take the first k.
    fn brute_force(live: &[(NodeId, PeerId)], target: &PeerId, k: usize) -> Vec<NodeId> {
        let t = KBucketKey::from(*target);
        let mut v: Vec<_> = live
            .iter()
            .filter(|(_, p)| p != target)
            .map(|(n, p)| (t.distance(&KBucketKey::from(*p)), *n))
            .collect();
        v.sort();
        v.into_iter().take(k).map(|(_, n)| n).collect()
    }

    #[test]
    fn closest_matches_brute_force_as_nodes_come_and_go() {
        let all = peers(120);
        let mut oracle = Oracle::default();
        let mut live: Vec<(NodeId, PeerId)> = Vec::new();
        for (i, p) in all.iter().enumerate() {
            oracle.join(i as NodeId, *p);
            live.push((i as NodeId, *p));
        }
        // Some leave.
        for gone in [3, 17, 18, 40, 41, 42, 99] {
            oracle.leave(gone);
            live.retain(|(n, _)| *n != gone);
        }
        assert_eq!(oracle.live_count(), live.len());
        for k in [1, 5, 20, 200] {
            for (n, p) in live.iter().step_by(7) {
                let expected = brute_force(&live, p, k);
                assert_eq!(oracle.closest_to_node(*n, k), expected, "node {n}, k {k}");
            }
        }
        // Any key, not only node keys.
        let target = kad_key(&all[3]);
        assert_eq!(
            oracle.closest(&target, 20, None),
            brute_force(&live, &all[3], 20)
        );
        assert!(!oracle.is_live(&all[3]));
        assert_eq!(oracle.node_of(&all[4]), Some(4));
    }

    #[test]
    fn table_health_of_a_hand_built_table() {
        // Ten nodes; 7, 8, 9 have left. Node 0's table holds 1, 2, 3, 7, 8.
        let p = peers(10);
        let mut oracle = Oracle::default();
        for (i, peer) in p.iter().enumerate() {
            oracle.join(i as NodeId, *peer);
        }
        for gone in [7, 8, 9] {
            oracle.leave(gone);
        }
        let table = [p[1], p[2], p[3], p[7], p[8]];
        // With k = 4, the truth is 4 of the 6 live others (1..=6); count by
        // hand with libp2p-kad's distance which of them the table holds.
        let truth: Vec<PeerId> = {
            let t = KBucketKey::from(p[0]);
            let mut others: Vec<_> = (1..7)
                .map(|i| (t.distance(&KBucketKey::from(p[i])), p[i]))
                .collect();
            others.sort();
            others.into_iter().take(4).map(|(_, q)| q).collect()
        };
        let held = [p[1], p[2], p[3]]
            .iter()
            .filter(|q| truth.contains(q))
            .count();
        let oracle_truth: Vec<PeerId> = oracle
            .closest_to_node(0, 4)
            .into_iter()
            .map(|n| oracle.get(n).unwrap().0)
            .collect();
        assert_eq!(oracle_truth, truth);
        let health = oracle.table_health(&table, &oracle_truth);
        assert_eq!(health.stale, 2, "7 and 8 have left");
        assert_eq!(health.recall, Some(held as f64 / 4.0));
    }

    #[test]
    fn recall_counts_the_truth_found() {
        let p = peers(6);
        assert_eq!(recall(&p[..3], &p[1..5]), Some(0.5));
        assert_eq!(recall(&p, &p[..2]), Some(1.0));
        assert_eq!(recall(&[], &p[..2]), Some(0.0));
        assert_eq!(recall(&p, &[]), None);
    }
}
