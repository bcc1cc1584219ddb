//! One simulated node: a real libp2p `Swarm` with the stack a Kademlia
//! application uses (Noise or plaintext, Yamux, identify, Kademlia in server
//! mode, ping), on the simulated network.

use std::task::{Context, Poll};
use std::time::Duration;

use futures::StreamExt;
use std::num::NonZeroUsize;

use libp2p::core::Transport;
use libp2p::kad::store::MemoryStore;
use libp2p::swarm::dial_opts::DialOpts;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, PeerId, Swarm, identify, kad, ping};

use crate::metrics::{BootstrapOutcome, LookupOutcome, TableStats};
use crate::net::{self, Network};
use crate::scenario::Stack;
use crate::scheduler::{NodeId, SimExecutor};
use crate::trace::TraceHandle;

/// The identify protocol version string the simulated nodes announce.
pub const IDENTIFY_PROTOCOL: &str = "/libp2p-sim/0.1.0";

/// At most this many swarm events are handled per poll of a node before it
/// yields to other tasks (it stays ready).
const EVENTS_PER_POLL: usize = 64;

/// The behaviour every node runs.
#[derive(NetworkBehaviour)]
pub struct Behaviour {
    /// Kademlia, in server mode, with an in-memory record store.
    pub kad: kad::Behaviour<MemoryStore>,
    /// Identify; its reported listen addresses are fed into Kademlia.
    pub identify: identify::Behaviour,
    /// Ping, with libp2p's defaults.
    pub ping: ping::Behaviour,
}

/// A node of the simulation.
pub struct Node {
    /// Index in the simulation (0 is the bootstrap node).
    pub index: NodeId,
    /// Its peer id, from an ed25519 key drawn from the seed.
    pub peer_id: PeerId,
    /// The address it listens on.
    pub addr: Multiaddr,
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
    /// Lookups in flight: query, key, start.
    lookups: Vec<(kad::QueryId, PeerId, Duration)>,
    trace: TraceHandle,
    swarm: Swarm<Behaviour>,
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

impl Node {
    /// Builds node `index` on the simulated network, listening on its
    /// address, at virtual time `now`.
    pub fn new(
        index: NodeId,
        seed: u64,
        stack: &Stack,
        net: &Network,
        executor: SimExecutor,
        now: Duration,
        trace: TraceHandle,
    ) -> Node {
        let base = net.transport(index);
        let addr = net::listen_addr(index);
        Node::build(index, seed, stack, base, executor, addr, now, trace)
    }

    /// Builds node `index` on any byte transport `base` (the simulated
    /// network, or TCP in real-time mode), listening on `addr`, with its
    /// connection tasks spawned on `executor`.
    #[allow(clippy::too_many_arguments)]
    pub fn build<T>(
        index: NodeId,
        seed: u64,
        stack: &Stack,
        base: T,
        executor: impl libp2p::swarm::Executor + Send + 'static,
        addr: Multiaddr,
        now: Duration,
        trace: TraceHandle,
    ) -> Node
    where
        T: Transport + Send + Unpin + 'static,
        T::Output: futures::AsyncRead + futures::AsyncWrite + Unpin + Send + 'static,
        T::Error: Send + Sync + 'static,
        T::Dial: Send + 'static,
        T::ListenerUpgrade: Send + 'static,
    {
        let key = identity(seed, index);
        let peer_id = key.public().to_peer_id();
        let transport =
            crate::engine::upgrade(base, &key, stack.security, stack.connection_timeout);
        let behaviour = Behaviour {
            kad: kademlia(peer_id, stack),
            identify: identify::Behaviour::new(
                identify::Config::new(IDENTIFY_PROTOCOL.to_string(), key.public())
                    .with_interval(stack.identify_interval),
            ),
            ping: ping::Behaviour::default(),
        };
        let swarm = crate::engine::listening_swarm(
            transport,
            behaviour,
            peer_id,
            executor,
            stack.idle_timeout,
            addr.clone(),
        );
        Node {
            index,
            peer_id,
            addr,
            joined_at: now,
            first_bootstrap: None,
            bootstrap_news: false,
            finished_lookups: Vec::new(),
            routing_added: Vec::new(),
            lookups: Vec::new(),
            trace,
            swarm,
        }
    }

    /// Joins the network through `(boot_peer, boot_addr)` as a real
    /// application does: dial it, add it to Kademlia, start a bootstrap.
    pub fn join_via(&mut self, boot_peer: PeerId, boot_addr: Multiaddr) {
        let kad = &mut self.swarm.behaviour_mut().kad;
        kad.add_address(&boot_peer, boot_addr.clone());
        // Fails only when the routing table is empty, which add_address
        // just prevented; the automatic bootstrap would cover it anyway.
        let _ = kad.bootstrap();
        let opts = DialOpts::peer_id(boot_peer)
            .addresses(vec![boot_addr])
            .build();
        // A dial error is reported again as a swarm event; nothing to do.
        let _ = self.swarm.dial(opts);
    }

    /// Lookups started and not finished.
    pub fn lookups_in_flight(&self) -> usize {
        self.lookups.len()
    }

    /// Starts a lookup (`get_closest_peers`) for `key` at virtual time `now`.
    pub fn start_lookup(&mut self, key: PeerId, now: Duration) {
        let id = self.swarm.behaviour_mut().kad.get_closest_peers(key);
        self.lookups.push((id, key, now));
    }

    /// Polls the swarm, handling up to `EVENTS_PER_POLL` events; `now` is
    /// the current virtual time.
    pub fn poll(&mut self, cx: &mut Context<'_>, now: Duration) {
        for _ in 0..EVENTS_PER_POLL {
            match self.swarm.poll_next_unpin(cx) {
                Poll::Ready(Some(event)) => self.on_event(event, now),
                Poll::Ready(None) | Poll::Pending => return,
            }
        }
        cx.waker().wake_by_ref();
    }

    fn on_event(&mut self, event: SwarmEvent<BehaviourEvent>, now: Duration) {
        if let Some((kind, peer)) = trace_kind(&event) {
            self.trace
                .borrow_mut()
                .record(now, self.index, kind, peer.as_ref(), || {
                    trace_details(&event)
                });
        }
        match event {
            SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received {
                peer_id,
                info,
                ..
            })) => {
                let kad = &mut self.swarm.behaviour_mut().kad;
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
                self.finished_lookups.push(LookupOutcome {
                    node: self.index,
                    key,
                    started,
                    finished: now,
                    ok,
                    peers: peers.into_iter().map(|p| p.peer_id).collect(),
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

    /// The peers in the routing table now, over all k-buckets.
    pub fn table_peers(&mut self) -> Vec<PeerId> {
        let mut peers = Vec::new();
        for bucket in self.swarm.behaviour_mut().kad.kbuckets() {
            peers.extend(bucket.iter().map(|e| *e.node.key.preimage()));
        }
        peers
    }

    /// Whether `peer` is in the routing table now.
    pub fn table_contains(&mut self, peer: &PeerId) -> bool {
        self.swarm
            .behaviour_mut()
            .kad
            .kbucket(*peer)
            .is_some_and(|b| b.iter().any(|e| e.node.key.preimage() == peer))
    }

    /// Routing-table figures now.
    pub fn table_stats(&mut self) -> TableStats {
        let connected_peers = self.swarm.network_info().num_peers();
        let mut stats = TableStats {
            connected_peers,
            ..TableStats::default()
        };
        for bucket in self.swarm.behaviour_mut().kad.kbuckets() {
            let n = bucket.num_entries();
            stats.entries += n;
            stats.nonempty_buckets += usize::from(n > 0);
        }
        stats
    }
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
    if let Some(details) = crate::engine::connection_details(event) {
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
