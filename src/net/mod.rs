//! The simulated network: addresses, links and their latency.
//!
//! Every node listens on `/memory/<port>` with `port = LISTEN_PORT_BASE +
//! node index`, like libp2p's `MemoryTransport`, but the registry of
//! listeners belongs to one simulation (libp2p's is process-global), so runs
//! in the same process never see each other's ports. Dialers get ephemeral
//! ports counted up from `EPHEMERAL_PORT_BASE`.
//!
//! The network model is a pure function of the run's seed and the two
//! endpoints ([`LatencyModel::one_way`]); it owns no clock and no random
//! stream. Virtual time is read from the installed clock by the links.
//!
//! Connection set-up follows TCP: the dialer's SYN reaches the listener
//! after one one-way latency, the listener accepts at that moment, and the
//! dialer holds the connection one round trip after it dialed. A dial to a
//! port nobody listens on fails as refused after one round trip.

mod link;
mod transport;

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::task::Waker;
use std::time::Duration;

use libp2p::Multiaddr;
use libp2p::multiaddr::Protocol;

pub use link::{Counters, SimStream};
pub use transport::{NetError, SimTransport};

use crate::rng;
use crate::scenario::Latency;
use crate::scheduler::NodeId;

/// Node `i` listens on `/memory/<LISTEN_PORT_BASE + i>`.
pub const LISTEN_PORT_BASE: u64 = 100_000;
/// Dialing sides get ports from here up.
pub const EPHEMERAL_PORT_BASE: u64 = 1_000_000;

/// The listen address of node `node`.
pub fn listen_addr(node: NodeId) -> Multiaddr {
    Multiaddr::empty().with(Protocol::Memory(LISTEN_PORT_BASE + u64::from(node)))
}

/// The node whose listen port is `port`, if it is one.
pub fn node_of_port(port: u64) -> Option<NodeId> {
    port.checked_sub(LISTEN_PORT_BASE)
        .filter(|_| port < EPHEMERAL_PORT_BASE)
        .and_then(|i| NodeId::try_from(i).ok())
}

/// Per-link one-way latency, fixed for the whole run.
#[derive(Debug, Clone)]
pub struct LatencyModel {
    seed: u64,
    latency: Latency,
}

impl LatencyModel {
    /// The model of scenario setting `latency` under run seed `seed`.
    pub fn new(seed: u64, latency: Latency) -> Self {
        LatencyModel { seed, latency }
    }

    /// One-way latency between `a` and `b` (symmetric; `None` stands for an
    /// address that belongs to no node).
    pub fn one_way(&self, a: NodeId, b: Option<NodeId>) -> Duration {
        match self.latency {
            Latency::Constant(d) => d,
            Latency::Uniform { min, max } => {
                let b = b.unwrap_or(NodeId::MAX);
                let (lo, hi) = (a.min(b), a.max(b));
                let link = (u64::from(lo) << 32) | u64::from(hi);
                let span = (max - min).as_nanos() as u64 + 1;
                let x = rng::derive_u64(self.seed, "link-latency", link);
                min + Duration::from_nanos(rng::below(x, span))
            }
        }
    }
}

struct Listener {
    node: NodeId,
    incoming: VecDeque<(SimStream, u64)>,
    waker: Option<Waker>,
}

struct State {
    model: LatencyModel,
    listeners: BTreeMap<u64, Listener>,
    next_ephemeral: u64,
    connections: u64,
    refused: u64,
}

/// Traffic figures of a network so far.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct NetStats {
    /// Connections established (accepted by a listener).
    pub connections: u64,
    /// Dials refused because nobody listened.
    pub refused: u64,
    /// Bytes carried.
    pub bytes: u64,
    /// Write calls carried.
    pub writes: u64,
}

/// The network of one simulation, shared by the transports of its nodes.
#[derive(Clone)]
pub struct Network {
    state: Arc<Mutex<State>>,
    counters: Arc<Counters>,
}

impl Network {
    /// An empty network with latency model `model`.
    pub fn new(model: LatencyModel) -> Self {
        Network {
            state: Arc::new(Mutex::new(State {
                model,
                listeners: BTreeMap::new(),
                next_ephemeral: EPHEMERAL_PORT_BASE,
                connections: 0,
                refused: 0,
            })),
            counters: Arc::new(Counters::default()),
        }
    }

    /// The transport for node `node`.
    pub fn transport(&self, node: NodeId) -> SimTransport {
        SimTransport::new(node, self.clone())
    }

    /// Figures so far.
    pub fn stats(&self) -> NetStats {
        let st = self.lock();
        NetStats {
            connections: st.connections,
            refused: st.refused,
            bytes: self.counters.bytes.load(Relaxed),
            writes: self.counters.writes.load(Relaxed),
        }
    }

    /// One-way latency from `node` to whoever owns `port`.
    pub(crate) fn latency_to_port(&self, node: NodeId, port: u64) -> Duration {
        self.lock().model.one_way(node, node_of_port(port))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("network lock")
    }

    pub(crate) fn listen(&self, node: NodeId, port: u64) -> Result<(), NetError> {
        let mut st = self.lock();
        if st.listeners.contains_key(&port) {
            return Err(NetError::AddressInUse(port));
        }
        st.listeners.insert(
            port,
            Listener {
                node,
                incoming: VecDeque::new(),
                waker: None,
            },
        );
        Ok(())
    }

    pub(crate) fn unlisten(&self, port: u64) {
        self.lock().listeners.remove(&port);
    }

    /// A SYN from `dialer` reaches `port` now: if someone listens, queue the
    /// connection there and return the dialer's end.
    pub(crate) fn connect(&self, dialer: NodeId, port: u64) -> Option<SimStream> {
        let mut st = self.lock();
        let State {
            model,
            listeners,
            next_ephemeral,
            connections,
            refused,
        } = &mut *st;
        let Some(listener) = listeners.get_mut(&port) else {
            *refused += 1;
            return None;
        };
        let latency = model.one_way(dialer, Some(listener.node));
        let (dialer_end, listener_end) = link::pair(latency, self.counters.clone());
        listener.incoming.push_back((listener_end, *next_ephemeral));
        *next_ephemeral += 1;
        *connections += 1;
        if let Some(w) = listener.waker.take() {
            w.wake();
        }
        Some(dialer_end)
    }

    /// The next connection waiting on `port`, with the dialer's port;
    /// otherwise remembers `waker` for when one arrives.
    pub(crate) fn accept(&self, port: u64, waker: &Waker) -> Option<(SimStream, u64)> {
        let mut st = self.lock();
        let listener = st.listeners.get_mut(&port)?;
        let next = listener.incoming.pop_front();
        if next.is_none() {
            listener.waker = Some(waker.clone());
        }
        next
    }
}

#[cfg(test)]
mod tests;
