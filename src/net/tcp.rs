//! Real TCP on 127.0.0.1 for real-time runs (see [`crate::realtime`]): a
//! tokio TCP transport whose streams count connections, bytes and writes,
//! the executor that runs connection tasks on the tokio runtime, and free
//! loopback ports to listen on.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use futures::{AsyncRead, AsyncWrite};
use libp2p::core::transport::Transport;
use libp2p::{Multiaddr, tcp};

use super::network::NetStats;

/// The TCP side of a real-time run: the runtime's handle and the counters.
pub struct TcpNet {
    handle: tokio::runtime::Handle,
    counters: Arc<Counters>,
}

#[derive(Default)]
struct Counters {
    connections: AtomicU64,
    refused: AtomicU64,
    bytes: AtomicU64,
    writes: AtomicU64,
    open: AtomicU64,
}

impl TcpNet {
    /// Transports built from here register their sockets with `handle`'s
    /// runtime; connection tasks are spawned on it.
    pub fn new(handle: tokio::runtime::Handle) -> TcpNet {
        TcpNet {
            handle,
            counters: Arc::default(),
        }
    }

    /// A TCP transport whose streams feed this network's counters.
    pub fn transport(
        &self,
    ) -> impl Transport<
        Output = Counted<tcp::tokio::TcpStream>,
        Error = io::Error,
        Dial: Send,
        ListenerUpgrade: Send,
    > + Send
    + Unpin
    + 'static {
        let on_stream = self.counters.clone();
        let on_error = self.counters.clone();
        tcp::tokio::Transport::new(tcp::Config::default().nodelay(true))
            .map(move |stream, endpoint| {
                Counted::new(stream, on_stream.clone(), endpoint.is_listener())
            })
            .map_err(move |e| {
                if e.kind() == io::ErrorKind::ConnectionRefused {
                    on_error.refused.fetch_add(1, Ordering::Relaxed);
                }
                e
            })
    }

    /// Spawns connection tasks on the runtime.
    pub fn executor(&self) -> TokioExecutor {
        TokioExecutor(self.handle.clone())
    }

    /// Counters so far.
    pub fn stats(&self) -> NetStats {
        let c = &self.counters;
        NetStats {
            connections: c.connections.load(Ordering::Relaxed),
            refused: c.refused.load(Ordering::Relaxed),
            bytes: c.bytes.load(Ordering::Relaxed),
            writes: c.writes.load(Ordering::Relaxed),
            open: c.open.load(Ordering::Relaxed),
        }
    }
}

/// libp2p's executor on a tokio runtime.
pub struct TokioExecutor(tokio::runtime::Handle);

impl libp2p::swarm::Executor for TokioExecutor {
    fn exec(&self, future: Pin<Box<dyn Future<Output = ()> + Send>>) {
        self.0.spawn(future);
    }
}

/// A free TCP port on 127.0.0.1, as a listen address: the kernel picks one
/// for a probe socket, which is closed again at once.
pub fn free_addr() -> io::Result<Multiaddr> {
    let probe = std::net::TcpListener::bind(("127.0.0.1", 0))?;
    let port = probe.local_addr()?.port();
    Ok(format!("/ip4/127.0.0.1/tcp/{port}")
        .parse()
        .expect("an IPv4 address and a port make a multiaddr"))
}

/// A stream that counts what is written through it.
pub struct Counted<S> {
    inner: S,
    counters: Arc<Counters>,
    /// The listening end counts the connection and its being open.
    listener: bool,
}

impl<S> Counted<S> {
    fn new(inner: S, counters: Arc<Counters>, listener: bool) -> Self {
        if listener {
            counters.connections.fetch_add(1, Ordering::Relaxed);
            counters.open.fetch_add(1, Ordering::Relaxed);
        }
        Counted {
            inner,
            counters,
            listener,
        }
    }
}

impl<S> Drop for Counted<S> {
    fn drop(&mut self) {
        if self.listener {
            self.counters.open.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Counted<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = result {
            self.counters.bytes.fetch_add(n as u64, Ordering::Relaxed);
            self.counters.writes.fetch_add(1, Ordering::Relaxed);
        }
        result
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::AsyncWriteExt;

    #[test]
    fn counted_streams_count_connections_at_the_listener_and_bytes_at_both_ends() {
        let counters = Arc::new(Counters::default());
        let mut listener =
            Counted::new(futures::io::Cursor::new(Vec::new()), counters.clone(), true);
        let mut dialer = Counted::new(
            futures::io::Cursor::new(Vec::new()),
            counters.clone(),
            false,
        );
        futures::executor::block_on(async {
            listener.write_all(b"hello").await.unwrap();
            dialer.write_all(b"abc").await.unwrap();
            dialer.write_all(b"de").await.unwrap();
        });
        let net = TcpNet {
            handle: tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap()
                .handle()
                .clone(),
            counters: counters.clone(),
        };
        let stats = net.stats();
        assert_eq!((stats.connections, stats.open), (1, 1));
        assert_eq!((stats.bytes, stats.writes), (10, 3));
        drop(listener);
        drop(dialer);
        assert_eq!(net.stats().open, 0);
        assert_eq!(net.stats().connections, 1);
    }

    #[test]
    fn free_addresses_are_loopback_tcp() {
        let addr = free_addr().expect("a free port").to_string();
        assert!(addr.starts_with("/ip4/127.0.0.1/tcp/"), "{addr}");
    }
}
