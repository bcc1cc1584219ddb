//! The network of one simulation: its addresses, its listeners, connection
//! set-up and refusal, and its traffic figures.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::task::Waker;
use std::time::Duration;

use libp2p::Multiaddr;
use libp2p::multiaddr::Protocol;

use super::fabric::{Fabric, GroupFn, Path};
use super::latency::LatencyModel;
use super::link::{self, Counters, RemoteTx, SimStream};
use super::remote::{Answer, Body, ConnKey, Remote, Workers};
use super::shaping::Shaping;
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
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NetStats {
    /// Connections established (accepted by a listener).
    pub connections: u64,
    /// Dials refused because nobody listened.
    pub refused: u64,
    /// Bytes carried.
    pub bytes: u64,
    /// Write calls carried.
    pub writes: u64,
    /// Connections open now (both ends still held by their nodes).
    pub open: u64,
}

/// Why a simulated dial or listen failed.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// Nobody listened on the port when the dialer's SYN arrived.
    #[error("connection refused by /memory/{0}")]
    Refused(u64),
    /// Another listener holds the port.
    #[error("/memory/{0} is already in use")]
    AddressInUse(u64),
}

/// The network of one simulation, shared by the transports of its nodes.
#[derive(Clone)]
pub struct Network {
    state: Arc<Mutex<State>>,
    counters: Arc<Counters>,
    fabric: Arc<Fabric>,
    /// Upload bandwidth and loss, if the model has any.
    shaping: Option<Arc<Shaping>>,
    /// The links to other workers, in a run split over workers.
    remote: Option<Arc<Remote>>,
}

/// What becomes of a dialer's SYN sent now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Syn {
    /// It reaches the port's host after this long.
    Arrives(Duration),
    /// It is lost (the host crashed); the dial hangs until its timeout.
    Lost,
}

impl Network {
    /// An empty network with latency model `model`.
    pub fn new(model: LatencyModel) -> Self {
        let shaping = model.shaping();
        Network {
            state: Arc::new(Mutex::new(State {
                model,
                listeners: BTreeMap::new(),
                next_ephemeral: EPHEMERAL_PORT_BASE,
                connections: 0,
                refused: 0,
            })),
            counters: Arc::new(Counters::default()),
            fabric: Arc::new(Fabric::default()),
            shaping,
            remote: None,
        }
    }

    /// The part of a network that worker `workers.index` of `workers.count`
    /// simulates: its nodes listen here, links to the other workers' nodes
    /// carry messages ([`Network::take_outbox`], [`Network::hold`]).
    pub fn split_over(model: LatencyModel, workers: Workers) -> Self {
        let mut net = Network::new(model);
        net.remote = (workers.count > 1).then(|| Arc::new(Remote::new(workers)));
        net
    }

    /// The messages for other workers sent since the last call.
    pub fn take_outbox(&self) -> Vec<super::remote::Wire> {
        self.remote
            .as_ref()
            .map_or_else(Vec::new, |r| r.take_outbox())
    }

    /// Keeps messages from other workers until their arrival times; they
    /// are taken in, in canonical order
    /// ([`Wire::order`](super::remote::Wire::order)), by
    /// [`Network::release`], whenever they were received.
    pub fn hold(&self, wires: Vec<super::remote::Wire>) {
        if let Some(r) = &self.remote {
            r.hold(wires);
        }
    }

    /// Takes in the held messages that arrive by `until`; call it before
    /// the clock moves from `now` to `until`.
    pub fn release(&self, until: Duration, now: Duration) {
        if let Some(r) = &self.remote {
            r.release(until, now);
        }
    }

    /// When the earliest message or SYN from another worker arrives, if
    /// one waits.
    pub fn next_arrival(&self) -> Option<Duration> {
        self.remote.as_ref().and_then(|r| r.next_arrival())
    }

    /// The worker of the node listening on `port`, if it is not this one.
    pub(crate) fn remote_worker(&self, port: u64) -> Option<u32> {
        let r = self.remote.as_ref()?;
        let host = node_of_port(port)?;
        (!r.workers.is_local(host)).then(|| r.workers.worker_of(host))
    }

    /// `dialer` sends a SYN to `port` on another worker, arriving `after`
    /// from now; returns the connection and the dialer's end, which is
    /// handed out once the answer came.
    pub(crate) fn dial_remote(
        &self,
        dialer: NodeId,
        port: u64,
        after: Duration,
    ) -> (ConnKey, SimStream) {
        let remote = self.remote.as_ref().expect("a remote dial has a remote");
        let host = node_of_port(port).expect("a remote port belongs to a node");
        let conn = remote.next_conn(dialer);
        let latency = self.latency_to_port(dialer, port);
        let stream = self.remote_stream(remote, conn, (dialer, host), false, latency);
        let at = sim_runtime::now() + after;
        remote.send(
            at,
            dialer,
            remote.workers.worker_of(host),
            conn,
            Body::Syn { port },
        );
        (conn, stream)
    }

    /// The local end of connection `conn` between `me` here and `peer` on
    /// another worker (`to_dialer`: the peer is the dialer), its receiving
    /// pipe registered for what arrives.
    fn remote_stream(
        &self,
        remote: &Arc<Remote>,
        conn: ConnKey,
        (me, peer): (NodeId, NodeId),
        to_dialer: bool,
        latency: Duration,
    ) -> SimStream {
        let tx = RemoteTx {
            remote: remote.clone(),
            conn,
            to_dialer,
            dest: remote.workers.worker_of(peer),
        };
        let ends = (self.fabric.end(me), self.fabric.end(peer));
        let (stream, inbox) = link::remote_end(latency, self.shared(), ends, tx);
        remote.register(conn, !to_dialer, inbox);
        stream
    }

    /// The answer to a remote dial, once it arrived.
    pub(crate) fn take_answer(&self, conn: ConnKey) -> Option<Answer> {
        self.remote.as_ref().and_then(|r| r.take_answer(conn))
    }

    /// Delivers the SYNs from other workers due by `now`: a listener gets
    /// the connection and the dialer an accept, or the dialer a refusal; a
    /// SYN to a crashed node is lost. Call after the clock reached `now`.
    pub fn deliver_arrivals(&self, now: Duration) {
        let Some(remote) = &self.remote else {
            return;
        };
        for (_, dialer, conn, port) in remote.due_syns(now) {
            let Some(host) = node_of_port(port) else {
                continue;
            };
            if self.fabric.is_crashed(host) {
                continue;
            }
            let latency = self.latency_to_port(dialer, port);
            let dest = remote.workers.worker_of(dialer);
            let mut st = self.lock();
            let Some(listener) = st.listeners.get_mut(&port) else {
                st.refused += 1;
                drop(st);
                remote.send(now + latency, host, dest, conn, Body::Refuse);
                continue;
            };
            let stream = self.remote_stream(remote, conn, (listener.node, dialer), true, latency);
            let port_back = st.next_ephemeral;
            st.next_ephemeral += 1;
            st.connections += 1;
            let listener = st.listeners.get_mut(&port).expect("looked up above");
            listener.incoming.push_back((stream, port_back));
            if let Some(w) = listener.waker.take() {
                w.wake();
            }
            drop(st);
            remote.send(now + latency, host, dest, conn, Body::Accept);
        }
    }

    /// `node` crashes: call before its swarm is dropped, so that its
    /// connections black-hole instead of closing.
    pub fn crash(&self, node: NodeId) {
        self.fabric.crash(node);
    }

    /// `node` (re)starts. A crashed node's old connections are reset from now on.
    pub fn revive(&self, node: NodeId) {
        self.fabric.revive(node);
    }

    /// Starts a partition healing at `until`; `group_of` gives each node's group.
    pub fn split(&self, until: Duration, group_of: GroupFn) {
        self.fabric.split(until, group_of);
    }

    /// Heals the current partition.
    pub fn heal(&self) {
        self.fabric.heal();
    }

    /// Sets the one-way latency between `a` and `b` for connections made
    /// from now on.
    pub fn set_link_latency(&self, a: NodeId, b: NodeId, one_way: Duration) {
        self.lock().model.set_link(a, b, one_way);
    }

    /// The fate of a SYN from `node` to `port` sent now.
    pub(crate) fn syn(&self, node: NodeId, port: u64) -> Syn {
        let latency = self.latency_to_port(node, port);
        let Some(host) = node_of_port(port) else {
            return Syn::Arrives(latency);
        };
        if self.fabric.is_crashed(host) {
            return Syn::Lost;
        }
        match self
            .fabric
            .path(self.fabric.end(node), self.fabric.end(host))
        {
            Path::HeldUntil(heal) => {
                Syn::Arrives(heal.saturating_sub(sim_runtime::now()) + latency)
            }
            Path::BlackHole | Path::Reset => Syn::Lost,
            Path::Open => Syn::Arrives(latency),
        }
    }

    /// Figures so far.
    pub fn stats(&self) -> NetStats {
        let st = self.lock();
        NetStats {
            connections: st.connections,
            refused: st.refused,
            bytes: self.counters.bytes.load(Relaxed),
            writes: self.counters.writes.load(Relaxed),
            open: self.counters.open.load(Relaxed),
        }
    }

    /// One-way latency from `node` to whoever owns `port`.
    pub(crate) fn latency_to_port(&self, node: NodeId, port: u64) -> Duration {
        self.lock().model.one_way(node, node_of_port(port))
    }

    /// What every link of this network shares.
    fn shared(&self) -> link::Shared {
        (
            self.counters.clone(),
            self.fabric.clone(),
            self.shaping.clone(),
        )
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
        let (dialer_end, listener_end) = link::pair(
            latency,
            self.shared(),
            self.fabric.end(dialer),
            self.fabric.end(listener.node),
        );
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
