//! What one node reports of itself: how its first bootstrap query ended, its
//! finished lookups, its routing-table figures.

use std::time::Duration;

use libp2p::PeerId;

use crate::engine::NodeId;

/// How the first bootstrap query of a node ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BootstrapOutcome {
    /// Virtual time at which its last step was reported.
    pub at: Duration,
    /// Whether the query reported success.
    pub ok: bool,
}

/// Routing-table figures of one node at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct TableStats {
    /// Entries across all k-buckets.
    pub entries: usize,
    /// k-buckets holding at least one entry.
    pub nonempty_buckets: usize,
    /// Peers with at least one open connection.
    pub connected_peers: usize,
}

/// A finished `get_closest_peers` lookup started by the lookup workload.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LookupOutcome {
    /// The node that ran it.
    pub node: NodeId,
    /// The key looked up.
    #[serde(with = "peer_id")]
    pub key: PeerId,
    /// Virtual time it started.
    pub started: Duration,
    /// Virtual time it reported its last step.
    pub finished: Duration,
    /// Whether Kademlia reported `Ok` (rather than a timeout).
    pub ok: bool,
    /// The peers it returned, closest first.
    #[serde(with = "peer_ids")]
    pub peers: Vec<PeerId>,
    /// The longest chain of peers that led to the result: 1 when every
    /// returned peer was in the node's own table, `h + 1` for a peer first
    /// named by the answer of a peer of `h` ([`crate::lineage`]); 0 when it
    /// returned none.
    pub hops: u32,
    /// Requests sent, answered, and failed, as Kademlia counts them.
    pub requests: u32,
    /// Requests that got an answer.
    pub successes: u32,
    /// Requests that failed or timed out.
    pub failures: u32,
}

/// A peer id in a worker's report: its text form.
pub(crate) mod peer_id {
    use libp2p::PeerId;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(peer: &PeerId, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&peer.to_base58())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<PeerId, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Peer ids in a worker's report: their text forms.
pub(crate) mod peer_ids {
    use libp2p::PeerId;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(peers: &[PeerId], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(peers.iter().map(|p| p.to_base58()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<PeerId>, D::Error> {
        Vec::<String>::deserialize(d)?
            .into_iter()
            .map(|t| t.parse().map_err(serde::de::Error::custom))
            .collect()
    }
}
