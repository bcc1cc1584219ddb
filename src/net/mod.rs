//! The simulated network: addresses, links, their latency, and the
//! senders' upload bandwidth and lost segments (`shaping.rs`).
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

mod fabric;
mod latency;
mod link;
mod network;
mod remote;
mod shaping;
mod tcp;
mod transport;

pub use fabric::GroupFn;
pub use latency::LatencyModel;
pub use link::{Counters, SimStream};
pub use network::{
    EPHEMERAL_PORT_BASE, LISTEN_PORT_BASE, NetError, NetStats, Network, listen_addr, node_of_port,
};
pub use remote::{Body, ConnKey, Wire, Workers, read_frame, write_frame};
pub use shaping::{MIN_RTO, MSS};
pub use tcp::{Counted, TcpNet, TokioExecutor, free_addr};
pub use transport::SimTransport;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_faults;
#[cfg(test)]
mod tests_shaping;
