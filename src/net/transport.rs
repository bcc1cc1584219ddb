//! `SimTransport`: libp2p's `Transport` over the simulated network.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::future::{BoxFuture, Ready};
use libp2p::Multiaddr;
use libp2p::core::transport::{DialOpts, ListenerId, Transport, TransportError, TransportEvent};
use libp2p::multiaddr::Protocol;

use super::link::SimStream;
use super::network::{NetError, Network, Syn};
use super::remote::Answer;
use crate::scheduler::NodeId;

/// The transport of one node: listens on and dials `/memory/<port>`.
pub struct SimTransport {
    node: NodeId,
    net: Network,
    listener: Option<(ListenerId, u64)>,
    events: VecDeque<TransportEvent<Ready<Result<SimStream, NetError>>, NetError>>,
}

impl Network {
    /// The transport for node `node`.
    pub fn transport(&self, node: NodeId) -> SimTransport {
        SimTransport::new(node, self.clone())
    }
}

impl SimTransport {
    pub(crate) fn new(node: NodeId, net: Network) -> Self {
        SimTransport {
            node,
            net,
            listener: None,
            events: VecDeque::new(),
        }
    }
}

fn memory_port(addr: &Multiaddr) -> Option<u64> {
    let mut it = addr.iter();
    // A trailing `/p2p/<peer id>` is allowed: the swarm appends it.
    match (it.next(), it.next(), it.next()) {
        (Some(Protocol::Memory(port)), None | Some(Protocol::P2p(_)), None) => Some(port),
        _ => None,
    }
}

fn memory_addr(port: u64) -> Multiaddr {
    Multiaddr::empty().with(Protocol::Memory(port))
}

impl Drop for SimTransport {
    /// A node that goes away stops listening.
    fn drop(&mut self) {
        if let Some((_, port)) = self.listener.take() {
            self.net.unlisten(port);
        }
    }
}

impl Transport for SimTransport {
    type Output = SimStream;
    type Error = NetError;
    type ListenerUpgrade = Ready<Result<SimStream, NetError>>;
    type Dial = BoxFuture<'static, Result<SimStream, NetError>>;

    fn listen_on(
        &mut self,
        id: ListenerId,
        addr: Multiaddr,
    ) -> Result<(), TransportError<NetError>> {
        let port = match memory_port(&addr) {
            Some(port) if port != 0 && self.listener.is_none() => port,
            _ => return Err(TransportError::MultiaddrNotSupported(addr)),
        };
        self.net
            .listen(self.node, port)
            .map_err(TransportError::Other)?;
        self.listener = Some((id, port));
        self.events.push_back(TransportEvent::NewAddress {
            listener_id: id,
            listen_addr: addr,
        });
        Ok(())
    }

    fn remove_listener(&mut self, id: ListenerId) -> bool {
        match self.listener {
            Some((lid, port)) if lid == id => {
                self.net.unlisten(port);
                self.listener = None;
                self.events.push_back(TransportEvent::ListenerClosed {
                    listener_id: id,
                    reason: Ok(()),
                });
                true
            }
            _ => false,
        }
    }

    fn dial(
        &mut self,
        addr: Multiaddr,
        _opts: DialOpts,
    ) -> Result<Self::Dial, TransportError<NetError>> {
        let Some(port) = memory_port(&addr).filter(|p| *p != 0) else {
            return Err(TransportError::MultiaddrNotSupported(addr));
        };
        let (net, node) = (self.net.clone(), self.node);
        let latency = net.latency_to_port(node, port);
        let syn = net.syn(node, port);
        if net.remote_worker(port).is_some() {
            return Ok(Box::pin(async move {
                // The listener's worker answers one latency after the SYN
                // arrives; a SYN it loses (a crashed host) is never answered.
                let after = match syn {
                    Syn::Arrives(after) => after,
                    Syn::Lost => futures::future::pending().await,
                };
                let (conn, stream) = net.dial_remote(node, port, after);
                sim_runtime::Delay::new(after + latency).await;
                match net.take_answer(conn) {
                    Some(Answer::Accepted) => Ok(stream),
                    Some(Answer::Refused) => Err(NetError::Refused(port)),
                    None => futures::future::pending().await,
                }
            }));
        }
        Ok(Box::pin(async move {
            // SYN on its way; a lost one leaves the dial to its timeout.
            match syn {
                Syn::Arrives(after) => sim_runtime::Delay::new(after).await,
                Syn::Lost => futures::future::pending::<()>().await,
            }
            if net.syn(node, port) == Syn::Lost {
                // The host crashed while the SYN travelled.
                futures::future::pending::<()>().await;
            }
            let stream = net.connect(node, port);
            // SYN-ACK (or the refusal) on its way back.
            sim_runtime::Delay::new(latency).await;
            stream.ok_or(NetError::Refused(port))
        }))
    }

    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<TransportEvent<Self::ListenerUpgrade, Self::Error>> {
        if let Some(ev) = self.events.pop_front() {
            return Poll::Ready(ev);
        }
        let Some((listener_id, port)) = self.listener else {
            return Poll::Pending;
        };
        match self.net.accept(port, cx.waker()) {
            Some((stream, dialer_port)) => Poll::Ready(TransportEvent::Incoming {
                listener_id,
                upgrade: futures::future::ready(Ok(stream)),
                local_addr: memory_addr(port),
                send_back_addr: memory_addr(dialer_port),
            }),
            None => Poll::Pending,
        }
    }
}
