//! One simulated node: a real libp2p `Swarm` with the stack a Kademlia
//! application uses (Noise or plaintext, Yamux, identify, Kademlia in server
//! mode, ping), on the simulated network.

use std::task::{Context, Poll};
use std::time::Duration;

use futures::StreamExt;
use libp2p::core::{Transport, upgrade};
use libp2p::identity::Keypair;
use libp2p::kad::store::MemoryStore;
use libp2p::swarm::dial_opts::DialOpts;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, PeerId, Swarm, identify, kad, noise, ping, plaintext, yamux};
use rand_core::RngCore;

use crate::net::{self, Network};
use crate::rng;
use crate::scenario::{Security, Stack};
use crate::scheduler::{NodeId, SimExecutor};

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

/// How the first bootstrap query of a node ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BootstrapOutcome {
    /// Virtual time at which its last step was reported.
    pub at: Duration,
    /// Whether the query reported success.
    pub ok: bool,
}

/// Routing-table figures of one node at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TableStats {
    /// Entries across all k-buckets.
    pub entries: usize,
    /// k-buckets holding at least one entry.
    pub nonempty_buckets: usize,
    /// Peers with at least one open connection.
    pub connected_peers: usize,
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
    swarm: Swarm<Behaviour>,
}

/// The ed25519 identity of node `index` under run seed `seed`.
pub fn identity(seed: u64, index: NodeId) -> Keypair {
    let mut secret = [0u8; 32];
    rng::stream(seed, "identity", u64::from(index)).fill_bytes(&mut secret);
    Keypair::ed25519_from_bytes(secret).expect("any 32 bytes are a valid ed25519 secret key")
}

impl Node {
    /// Builds node `index`, listening on its address, at virtual time `now`.
    pub fn new(
        index: NodeId,
        seed: u64,
        stack: &Stack,
        net: &Network,
        executor: SimExecutor,
        now: Duration,
    ) -> Node {
        let key = identity(seed, index);
        let peer_id = key.public().to_peer_id();
        let base = net.transport(index).upgrade(upgrade::Version::V1);
        let transport = match stack.security {
            Security::Noise => base
                .authenticate(noise::Config::new(&key).expect("ed25519 keys sign Noise keys"))
                .multiplex(yamux::Config::default())
                .boxed(),
            Security::Plaintext => base
                .authenticate(plaintext::Config::new(&key))
                .multiplex(yamux::Config::default())
                .boxed(),
        };
        let mut kad = kad::Behaviour::with_config(
            peer_id,
            MemoryStore::new(peer_id),
            kad::Config::new(kad::PROTOCOL_NAME),
        );
        kad.set_mode(Some(kad::Mode::Server));
        let behaviour = Behaviour {
            kad,
            identify: identify::Behaviour::new(identify::Config::new(
                IDENTIFY_PROTOCOL.to_string(),
                key.public(),
            )),
            ping: ping::Behaviour::default(),
        };
        let config = libp2p::swarm::Config::with_executor(executor);
        let mut swarm = Swarm::new(transport, behaviour, peer_id, config);
        let addr = net::listen_addr(index);
        swarm
            .listen_on(addr.clone())
            .expect("each node has its own port in its simulation's registry");
        Node {
            index,
            peer_id,
            addr,
            joined_at: now,
            first_bootstrap: None,
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
            SwarmEvent::Behaviour(BehaviourEvent::Kad(kad::Event::OutboundQueryProgressed {
                result: kad::QueryResult::Bootstrap(result),
                step,
                ..
            })) if step.last && self.first_bootstrap.is_none() => {
                self.first_bootstrap = Some(BootstrapOutcome {
                    at: now,
                    ok: result.is_ok(),
                });
            }
            _ => {}
        }
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
