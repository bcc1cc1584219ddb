//! The stack of one node of the Kademlia study: a real libp2p `Swarm` with
//! the behaviour a Kademlia application uses (identify, Kademlia in server
//! mode, ping; the engine adds Noise or plaintext and Yamux), what the
//! study keeps of a node's session beside its swarm, and how its events
//! are traced.

use std::num::NonZeroUsize;
use std::time::Duration;

use libp2p::identity::Keypair;
use libp2p::kad::store::MemoryStore;
use libp2p::swarm::dial_opts::DialOpts;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, PeerId, Swarm, identify, kad, ping};

use crate::engine::{NodeId, Tracer, connection_details};
use crate::lineage::Lineage;
use crate::metrics::{BootstrapOutcome, LookupOutcome, TableStats};
use crate::scenario::Stack;

/// The identify protocol version string the simulated nodes announce.
pub const IDENTIFY_PROTOCOL: &str = "/libp2p-sim/0.1.0";

/// The behaviour every node runs.
#[derive(NetworkBehaviour)]
pub struct Behaviour {
    /// Kademlia, in server mode, with an in-memory record store; wrapped to
    /// find the hops of the lookups the study starts.
    pub kad: Lineage<kad::Behaviour<MemoryStore>>,
    /// Identify; its reported listen addresses are fed into Kademlia.
    pub identify: identify::Behaviour,
    /// Ping, with libp2p's defaults.
    pub ping: ping::Behaviour,
}

/// Kademlia as configured by the scenario's stack, in server mode.
fn kademlia(peer_id: PeerId, stack: &Stack) -> kad::Behaviour<MemoryStore> {
    let k = NonZeroUsize::new(usize::from(stack.replication_factor))
        .expect("validation keeps replication_factor >= 1");
    let alpha = NonZeroUsize::new(usize::from(stack.parallelism))
        .expect("validation keeps parallelism >= 1");
    let mut config = kad::Config::new(kad::PROTOCOL_NAME);
    config
        .set_replication_factor(k)
        .set_kbucket_size(k)
        .set_parallelism(alpha)
        .set_query_timeout(stack.query_timeout)
        .set_periodic_bootstrap_interval(stack.periodic_bootstrap);
    let mut kad = kad::Behaviour::with_config(peer_id, MemoryStore::new(peer_id), config);
    kad.set_mode(Some(kad::Mode::Server));
    kad
}

/// The ed25519 identity of node `index` under run seed `seed` (the
/// engine's, so a study and an engine test give a node the same key).
pub use crate::engine::identity;

/// A node's behaviour under the scenario's stack, from its key.
pub fn behaviour(key: &Keypair, stack: &Stack) -> Behaviour {
    Behaviour {
        kad: Lineage::new(kademlia(key.public().to_peer_id(), stack)),
        identify: identify::Behaviour::new(
            identify::Config::new(IDENTIFY_PROTOCOL.to_string(), key.public())
                .with_interval(stack.identify_interval),
        ),
        ping: ping::Behaviour::default(),
    }
}

/// What the event trace of a study run records: the swarm events below,
/// and a node's start as `join`, its graceful stop as `leave`.
pub fn tracer() -> Tracer<BehaviourEvent> {
    Tracer {
        event: trace_kind,
        details: trace_details,
        start: "join",
        stop: "leave",
        crash: "crash",
    }
}

/// A node's swarm.
pub type NodeSwarm = Swarm<Behaviour>;

/// What the study keeps of a node's session beside its swarm (which the
/// engine owns): what it reported and the study has not taken yet.
#[derive(Debug)]
pub struct Node {
    /// Index in the simulation (0 is the first bootstrap node).
    pub index: NodeId,
    /// Its peer id, from an ed25519 key drawn from the seed.
    pub peer_id: PeerId,
    /// Virtual time it joined.
    pub joined_at: Duration,
    /// Its first bootstrap query's end, once reported.
    pub first_bootstrap: Option<BootstrapOutcome>,
    /// Set when the first bootstrap ends; the simulation clears it once seen.
    pub bootstrap_news: bool,
    /// Lookups that finished since the simulation last took them.
    pub finished_lookups: Vec<LookupOutcome>,
    /// Peers that entered the routing table since the simulation last took
    /// them (from Kademlia's `RoutingUpdated` events with `is_new_peer`).
    pub routing_added: Vec<PeerId>,
    /// Bootstrap nodes it was given when it joined.
    pub bootstrap_peers: u32,
    /// How many of them were running when it joined.
    pub bootstrap_live: u32,
    /// Lookups in flight: query, key, start.
    lookups: Vec<(kad::QueryId, PeerId, Duration)>,
}

impl Node {
    /// A session of node `index` (peer `peer_id`) starting at `now`.
    pub fn new(index: NodeId, peer_id: PeerId, now: Duration) -> Node {
        Node {
            index,
            peer_id,
            joined_at: now,
            first_bootstrap: None,
            bootstrap_news: false,
            finished_lookups: Vec::new(),
            routing_added: Vec::new(),
            bootstrap_peers: 0,
            bootstrap_live: 0,
            lookups: Vec::new(),
        }
    }

    /// Lookups started and not finished.
    pub fn lookups_in_flight(&self) -> usize {
        self.lookups.len()
    }

    /// Starts a lookup (`get_closest_peers`) for `key` at virtual time `now`.
    pub fn start_lookup(&mut self, swarm: &mut NodeSwarm, key: PeerId, now: Duration) {
        let kad = &mut swarm.behaviour_mut().kad;
        // The peers the query starts from, as Kademlia picks them.
        let target = kad::KBucketKey::from(key);
        let seeds: Vec<PeerId> = kad
            .get_closest_local_peers(&target)
            .take(kad::K_VALUE.get())
            .map(|k| *k.preimage())
            .collect();
        let id = kad.get_closest_peers(key);
        kad.watch(id, &seeds);
        self.lookups.push((id, key, now));
    }

    /// Handles one of the node's swarm events, reported at `now`.
    pub fn on_event(
        &mut self,
        swarm: &mut NodeSwarm,
        event: SwarmEvent<BehaviourEvent>,
        now: Duration,
    ) {
        match event {
            SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received {
                peer_id,
                info,
                ..
            })) => {
                let kad = &mut swarm.behaviour_mut().kad;
                for addr in info.listen_addrs {
                    kad.add_address(&peer_id, addr);
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Kad(kad::Event::RoutingUpdated {
                peer,
                is_new_peer: true,
                ..
            })) => self.routing_added.push(peer),
            SwarmEvent::Behaviour(BehaviourEvent::Kad(kad::Event::OutboundQueryProgressed {
                id,
                result: kad::QueryResult::GetClosestPeers(result),
                stats,
                step,
            })) if step.last => {
                let Some(i) = self.lookups.iter().position(|l| l.0 == id) else {
                    return;
                };
                let (_, key, started) = self.lookups.swap_remove(i);
                let (ok, peers) = match result {
                    Ok(ok) => (true, ok.peers),
                    Err(kad::GetClosestPeersError::Timeout { peers, .. }) => (false, peers),
                };
                let peers: Vec<PeerId> = peers.into_iter().map(|p| p.peer_id).collect();
                let hops = swarm.behaviour_mut().kad.finish(id, &peers);
                self.finished_lookups.push(LookupOutcome {
                    node: self.index,
                    key,
                    started,
                    finished: now,
                    ok,
                    peers,
                    hops,
                    requests: stats.num_requests(),
                    successes: stats.num_successes(),
                    failures: stats.num_failures(),
                });
            }
            SwarmEvent::Behaviour(BehaviourEvent::Kad(kad::Event::OutboundQueryProgressed {
                result: kad::QueryResult::Bootstrap(result),
                step,
                ..
            })) if step.last && self.first_bootstrap.is_none() => {
                self.first_bootstrap = Some(BootstrapOutcome {
                    at: now,
                    ok: result.is_ok(),
                });
                self.bootstrap_news = true;
            }
            _ => {}
        }
    }

    /// Whether something happened that the simulation wants to look at:
    /// routing-table insertions, finished lookups, or the first bootstrap's end.
    pub fn has_news(&self) -> bool {
        !self.routing_added.is_empty() || !self.finished_lookups.is_empty() || self.bootstrap_news
    }
}

/// Joins the network through its bootstrap peers as a real application
/// does: add each to Kademlia, start a bootstrap, dial each.
pub fn join_via(swarm: &mut NodeSwarm, boot: &[(PeerId, Multiaddr)]) {
    let kad = &mut swarm.behaviour_mut().kad;
    for (peer, addr) in boot {
        kad.add_address(peer, addr.clone());
    }
    // Fails only when the routing table is empty, which add_address
    // just prevented; the automatic bootstrap would cover it anyway.
    let _ = kad.bootstrap();
    for (peer, addr) in boot {
        let opts = DialOpts::peer_id(*peer)
            .addresses(vec![addr.clone()])
            .build();
        // A dial error is reported again as a swarm event; nothing to do.
        let _ = swarm.dial(opts);
    }
}

/// The peers in the routing table now, over all k-buckets.
pub fn table_peers(swarm: &mut NodeSwarm) -> Vec<PeerId> {
    let mut peers = Vec::new();
    for bucket in swarm.behaviour_mut().kad.kbuckets() {
        peers.extend(bucket.iter().map(|e| *e.node.key.preimage()));
    }
    peers
}

/// Whether `peer` is in the routing table now.
pub fn table_contains(swarm: &mut NodeSwarm, peer: &PeerId) -> bool {
    swarm
        .behaviour_mut()
        .kad
        .kbucket(*peer)
        .is_some_and(|b| b.iter().any(|e| e.node.key.preimage() == peer))
}

/// Routing-table figures now.
pub fn table_stats(swarm: &mut NodeSwarm) -> TableStats {
    let connected_peers = swarm.network_info().num_peers();
    let mut stats = TableStats {
        connected_peers,
        ..TableStats::default()
    };
    for bucket in swarm.behaviour_mut().kad.kbuckets() {
        let n = bucket.num_entries();
        stats.entries += n;
        stats.nonempty_buckets += usize::from(n > 0);
    }
    stats
}

/// Each non-empty k-bucket as `(shared prefix length with the node's own
/// key, entries)`: libp2p's bucket `j` holds distances in `[2^j, 2^(j+1))`,
/// a shared prefix of `255 − j` bits.
pub fn bucket_fill(swarm: &mut NodeSwarm) -> Vec<(usize, usize)> {
    let mut fill = Vec::new();
    for bucket in swarm.behaviour_mut().kad.kbuckets() {
        let n = bucket.num_entries();
        if let (true, Some(j)) = (n > 0, bucket.range().0.ilog2()) {
            fill.push((255 - j as usize, n));
        }
    }
    fill
}

/// The trace kind and peer of a swarm event, `None` for events the trace
/// leaves out (listen-address and other local bookkeeping).
fn trace_kind(event: &SwarmEvent<BehaviourEvent>) -> Option<(&'static str, Option<PeerId>)> {
    Some(match event {
        SwarmEvent::Dialing { peer_id, .. } => ("dialing", *peer_id),
        SwarmEvent::ConnectionEstablished { peer_id, .. } => {
            ("connection_established", Some(*peer_id))
        }
        SwarmEvent::ConnectionClosed { peer_id, .. } => ("connection_closed", Some(*peer_id)),
        SwarmEvent::OutgoingConnectionError { peer_id, .. } => ("dial_error", *peer_id),
        SwarmEvent::IncomingConnectionError { .. } => ("incoming_error", None),
        SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received {
            peer_id,
            ..
        })) => ("identify_received", Some(*peer_id)),
        SwarmEvent::Behaviour(BehaviourEvent::Kad(kad::Event::RoutingUpdated { peer, .. })) => {
            ("routing_updated", Some(*peer))
        }
        SwarmEvent::Behaviour(BehaviourEvent::Kad(kad::Event::InboundRequest { .. })) => {
            ("kad_inbound", None)
        }
        SwarmEvent::Behaviour(BehaviourEvent::Kad(kad::Event::OutboundQueryProgressed {
            step,
            ..
        })) if step.last => ("query_done", None),
        SwarmEvent::Behaviour(BehaviourEvent::Ping(ping::Event {
            peer,
            result: Err(_),
            ..
        })) => ("ping_failure", Some(*peer)),
        _ => return None,
    })
}

/// Free-text details of a traced event (only built when written).
fn trace_details(event: &SwarmEvent<BehaviourEvent>) -> String {
    if let Some(details) = connection_details(event) {
        return details;
    }
    match event {
        SwarmEvent::Behaviour(BehaviourEvent::Kad(kad::Event::RoutingUpdated {
            is_new_peer,
            ..
        })) => if *is_new_peer { "new" } else { "updated" }.to_string(),
        SwarmEvent::Behaviour(BehaviourEvent::Kad(kad::Event::InboundRequest { request })) => {
            format!("{request:?}")
                .split([' ', '{', '('])
                .next()
                .unwrap_or_default()
                .to_string()
        }
        SwarmEvent::Behaviour(BehaviourEvent::Kad(kad::Event::OutboundQueryProgressed {
            result,
            stats,
            ..
        })) => {
            let (what, ok) = match result {
                kad::QueryResult::Bootstrap(r) => ("bootstrap", r.is_ok()),
                kad::QueryResult::GetClosestPeers(r) => ("get_closest_peers", r.is_ok()),
                _ => ("other", true),
            };
            format!(
                "{what} {} requests={} failures={}",
                if ok { "ok" } else { "error" },
                stats.num_requests(),
                stats.num_failures()
            )
        }
        SwarmEvent::Behaviour(BehaviourEvent::Ping(ping::Event { result: Err(e), .. })) => {
            e.to_string()
        }
        _ => String::new(),
    }
}
