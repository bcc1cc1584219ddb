//! One node of an engine simulation: the user's behaviour in a real
//! `libp2p::Swarm`, on the simulated network, with its identity drawn from
//! the seed.

use std::collections::VecDeque;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::StreamExt;
use libp2p::core::muxing::StreamMuxerBox;
use libp2p::core::transport::Boxed;
use libp2p::core::transport::timeout::TransportTimeout;
use libp2p::core::{Transport, upgrade};
use libp2p::identity::Keypair;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, PeerId, Swarm, noise, plaintext, yamux};
use rand_core::RngCore;

use crate::rng;
use crate::scenario::Security;
use crate::scheduler::NodeId;
use crate::trace::TraceHandle;

/// At most this many swarm events are taken per poll of a node before it
/// yields to other tasks (it stays ready).
const EVENTS_PER_POLL: usize = 64;

/// The ed25519 identity of node `index` under seed `seed`: the same node of
/// the same seed has the same key, also after a restart.
pub fn identity(seed: u64, index: NodeId) -> Keypair {
    let mut secret = [0u8; 32];
    rng::stream(seed, "identity", u64::from(index)).fill_bytes(&mut secret);
    Keypair::ed25519_from_bytes(secret).expect("any 32 bytes are a valid ed25519 secret key")
}

/// A swarm event with the virtual time it was taken from the swarm.
pub type TimedEvent<E> = (Duration, SwarmEvent<E>);

/// Sees every swarm event as the node reports it, with the node, the
/// virtual time and the node's swarm (to call into the behaviour at once);
/// returns the event to queue it for [`Sim::wait`](super::Sim::wait) and
/// the event calls, or `None` to consume it.
pub type EventHandler<B> = Box<
    dyn FnMut(
        NodeId,
        Duration,
        &mut Swarm<B>,
        SwarmEvent<<B as NetworkBehaviour>::ToSwarm>,
    ) -> Option<SwarmEvent<<B as NetworkBehaviour>::ToSwarm>>,
>;

/// A traced event's kind and the peer it concerns.
pub type TraceKind = (&'static str, Option<PeerId>);

/// What goes into the event trace: which swarm events, under which kind
/// and peer, with which details, and the kinds of a node's start, stop and
/// crash. Set it with [`Sim::set_tracer`](super::Sim::set_tracer); the
/// default traces every swarm event (a behaviour's events as `behaviour`).
pub struct Tracer<E> {
    /// The kind and peer of a swarm event; `None` leaves the event out of
    /// the trace (and its hash).
    pub event: fn(&SwarmEvent<E>) -> Option<TraceKind>,
    /// Free-text details of a traced event, only built when the trace is
    /// written to a file (they are not hashed).
    pub details: fn(&SwarmEvent<E>) -> String,
    /// The kind recorded when a node starts ([`Sim::add_node`](super::Sim::add_node),
    /// [`Sim::restart`](super::Sim::restart)). Default: `start`.
    pub start: &'static str,
    /// The kind recorded by [`Sim::stop`](super::Sim::stop). Default: `stop`.
    pub stop: &'static str,
    /// The kind recorded by [`Sim::crash`](super::Sim::crash). Default: `crash`.
    pub crash: &'static str,
}

impl<E> Default for Tracer<E> {
    fn default() -> Self {
        Tracer {
            event: |e| Some(trace_kind(e)),
            details,
            start: "start",
            stop: "stop",
            crash: "crash",
        }
    }
}

/// A running node.
pub(super) struct SimNode<B: NetworkBehaviour> {
    pub swarm: Swarm<B>,
    /// Events not taken by the test yet, oldest first.
    pub events: VecDeque<TimedEvent<B::ToSwarm>>,
}

/// A node's transport: `base` (the simulated network, or TCP) upgraded as
/// libp2p's `SwarmBuilder` does: multistream-select 1.0, Noise or
/// plaintext, Yamux, and the whole dial and upgrade bounded by `timeout`.
pub fn upgrade<T>(
    base: T,
    key: &Keypair,
    security: Security,
    timeout: Duration,
) -> Boxed<(PeerId, StreamMuxerBox)>
where
    T: Transport + Send + Unpin + 'static,
    T::Output: futures::AsyncRead + futures::AsyncWrite + Unpin + Send + 'static,
    T::Error: Send + Sync + 'static,
    T::Dial: Send + 'static,
    T::ListenerUpgrade: Send + 'static,
{
    let base = base.upgrade(upgrade::Version::V1);
    let upgraded = match security {
        Security::Noise => base
            .authenticate(noise::Config::new(key).expect("ed25519 keys sign Noise keys"))
            .multiplex(yamux::Config::default())
            .boxed(),
        Security::Plaintext => base
            .authenticate(plaintext::Config::new(key))
            .multiplex(yamux::Config::default())
            .boxed(),
    };
    TransportTimeout::new(upgraded, timeout).boxed()
}

/// A swarm on `transport` whose connection tasks go to `executor`, that
/// closes connections idle for `idle_timeout`, listening on `addr`.
pub fn listening_swarm<B: NetworkBehaviour>(
    transport: Boxed<(PeerId, StreamMuxerBox)>,
    behaviour: B,
    peer_id: PeerId,
    executor: impl libp2p::swarm::Executor + Send + 'static,
    idle_timeout: Duration,
    addr: Multiaddr,
) -> Swarm<B> {
    let config =
        libp2p::swarm::Config::with_executor(executor).with_idle_connection_timeout(idle_timeout);
    let mut swarm = Swarm::new(transport, behaviour, peer_id, config);
    swarm
        .listen_on(addr)
        .expect("each node has its own address: a simulated port, or a free TCP port");
    swarm
}

impl<B: NetworkBehaviour> SimNode<B> {
    /// Polls the swarm, queueing up to `EVENTS_PER_POLL` events stamped
    /// `now`, each recorded in `trace` as `tracer` says.
    pub fn poll(
        &mut self,
        index: NodeId,
        cx: &mut Context<'_>,
        now: Duration,
        (trace, tracer): (&TraceHandle, &Tracer<B::ToSwarm>),
        handler: Option<&mut EventHandler<B>>,
    ) {
        let mut handler = handler;
        for _ in 0..EVENTS_PER_POLL {
            match self.swarm.poll_next_unpin(cx) {
                Poll::Ready(Some(event)) => {
                    if let Some((kind, peer)) = (tracer.event)(&event) {
                        trace
                            .borrow_mut()
                            .record(now, index, kind, peer.as_ref(), || (tracer.details)(&event));
                    }
                    let kept = match handler.as_deref_mut() {
                        Some(handle) => handle(index, now, &mut self.swarm, event),
                        None => Some(event),
                    };
                    if let Some(event) = kept {
                        self.events.push_back((now, event));
                    }
                }
                Poll::Ready(None) | Poll::Pending => return,
            }
        }
        cx.waker().wake_by_ref();
    }
}

/// The trace kind and peer of a swarm event.
fn trace_kind<E>(event: &SwarmEvent<E>) -> (&'static str, Option<PeerId>) {
    match event {
        SwarmEvent::Behaviour(_) => ("behaviour", None),
        SwarmEvent::ConnectionEstablished { peer_id, .. } => {
            ("connection_established", Some(*peer_id))
        }
        SwarmEvent::ConnectionClosed { peer_id, .. } => ("connection_closed", Some(*peer_id)),
        SwarmEvent::IncomingConnection { .. } => ("incoming_connection", None),
        SwarmEvent::IncomingConnectionError { .. } => ("incoming_error", None),
        SwarmEvent::OutgoingConnectionError { peer_id, .. } => ("dial_error", *peer_id),
        SwarmEvent::NewListenAddr { .. } => ("new_listen_addr", None),
        SwarmEvent::ExpiredListenAddr { .. } => ("expired_listen_addr", None),
        SwarmEvent::ListenerClosed { .. } => ("listener_closed", None),
        SwarmEvent::ListenerError { .. } => ("listener_error", None),
        SwarmEvent::Dialing { peer_id, .. } => ("dialing", *peer_id),
        SwarmEvent::NewExternalAddrCandidate { .. } => ("external_addr_candidate", None),
        SwarmEvent::ExternalAddrConfirmed { .. } => ("external_addr_confirmed", None),
        SwarmEvent::ExternalAddrExpired { .. } => ("external_addr_expired", None),
        SwarmEvent::NewExternalAddrOfPeer { peer_id, .. } => {
            ("external_addr_of_peer", Some(*peer_id))
        }
        _ => ("other", None),
    }
}

/// Free-text details of a traced event (only built when the trace is
/// written to a file).
fn details<E>(event: &SwarmEvent<E>) -> String {
    connection_details(event).unwrap_or_default()
}

/// The details of a connection event in a trace: the role of a new
/// connection, how one closed, or the error of a failed one; `None` for
/// other events.
pub fn connection_details<E>(event: &SwarmEvent<E>) -> Option<String> {
    Some(match event {
        SwarmEvent::ConnectionEstablished { endpoint, .. } => if endpoint.is_dialer() {
            "dialer"
        } else {
            "listener"
        }
        .to_string(),
        SwarmEvent::ConnectionClosed { cause, .. } => match cause {
            Some(c) => format!("error: {c}"),
            None => "closed".to_string(),
        },
        SwarmEvent::OutgoingConnectionError { error, .. } => error.to_string(),
        SwarmEvent::IncomingConnectionError { error, .. } => error.to_string(),
        _ => return None,
    })
}
