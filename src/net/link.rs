//! One simulated connection: two one-way pipes with a fixed latency.
//!
//! Bytes written at virtual time `t` become readable on the other side at
//! `t + latency`, in order (a later write never overtakes an earlier one).
//! Closing or dropping a side delivers end-of-file to the other side after
//! the same latency. With `[network] upload_mbps`, `loss` or
//! `download_mbps`, the sender's uplink, lost segments and the receiver's
//! downlink delay a write further ([`Shaping`]); otherwise there is no
//! bandwidth limit and yamux's flow control bounds what is in flight.
//! Crashes and partitions come from the [`Fabric`], asked at every write
//! and close.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures::io::{AsyncRead, AsyncWrite};

use super::fabric::{End, Fabric, Path};
use super::remote::{Body, ConnKey, Inbox, Remote};
use super::shaping::{Receiver, Shaping};

/// Traffic counters shared by every link of a network.
#[derive(Debug, Default)]
pub struct Counters {
    /// Bytes written into links.
    pub bytes: AtomicU64,
    /// Write calls on links (a proxy for messages: yamux writes one frame
    /// at a time).
    pub writes: AtomicU64,
    /// Connections whose two ends are both still held.
    pub open: AtomicU64,
}

struct Chunk {
    /// When the chunk is readable; until it is `settled`, when its last
    /// byte reaches the receiver, which waits for its downlink.
    arrive: Duration,
    data: Vec<u8>,
    /// Whether `arrive` is final (always, without a download limit).
    settled: bool,
}

#[derive(Default)]
struct PipeState {
    chunks: VecDeque<Chunk>,
    /// Bytes of the front chunk already read.
    read_pos: usize,
    /// When the writer's end-of-file reaches the reader.
    fin_at: Option<Duration>,
    /// The writer closed its side (the close may never arrive).
    closed: bool,
    /// Arrival time of the last chunk, to keep arrivals in order.
    last_arrival: Duration,
    reader_waker: Option<Waker>,
    /// The earliest wake-up already scheduled for the reader.
    wake_scheduled: Option<Duration>,
    /// The reading side was dropped: writes are discarded.
    reader_gone: bool,
}

impl PipeState {
    /// Schedules a wake-up of the reader at `at` unless an earlier pending
    /// one covers it.
    fn schedule_wake(&mut self, at: Duration, now: Duration) {
        let Some(waker) = &self.reader_waker else {
            return;
        };
        if self.wake_scheduled.is_some_and(|w| w > now && w <= at) {
            return;
        }
        sim_runtime::wake_at(at, waker.clone());
        self.wake_scheduled = Some(at);
    }
}

/// The bytes travelling one way on a connection, read by one end.
pub(crate) struct Pipe {
    state: Mutex<PipeState>,
    /// The reader's downlink, when the network limits downloads: the
    /// shaping and the reading end.
    downlink: Option<(Arc<Shaping>, End)>,
    /// This pipe, for the downlink to tell it when its bytes are readable.
    this: Weak<Pipe>,
}

impl Pipe {
    /// A pipe read by `reader`, behind its downlink if `shaping` limits
    /// downloads.
    fn new(shaping: &Option<Arc<Shaping>>, reader: End) -> Arc<Pipe> {
        let downlink = shaping
            .as_ref()
            .filter(|s| s.limits_download())
            .map(|s| (s.clone(), reader));
        Pipe::behind(downlink)
    }

    /// A pipe nobody reads (the sending half of a remote end).
    fn unread() -> Arc<Pipe> {
        Pipe::behind(None)
    }

    fn behind(downlink: Option<(Arc<Shaping>, End)>) -> Arc<Pipe> {
        Arc::new_cyclic(|this| Pipe {
            state: Mutex::default(),
            downlink,
            this: this.clone(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PipeState> {
        self.state.lock().expect("pipe lock")
    }

    /// Appends `data`, whose last byte reaches the reader at `at`, and
    /// wakes the reader then (to read it, or to serve its downlink).
    fn push(&self, st: &mut PipeState, at: Duration, data: &[u8], now: Duration) {
        match &self.downlink {
            None => match st.chunks.back_mut() {
                // Same arrival time: extend the last chunk instead of queueing.
                Some(last) if last.arrive == at => last.data.extend_from_slice(data),
                _ => st.chunks.push_back(Chunk {
                    arrive: at,
                    data: data.to_vec(),
                    settled: true,
                }),
            },
            Some((shaping, reader)) => {
                st.chunks.push_back(Chunk {
                    arrive: at,
                    data: data.to_vec(),
                    settled: false,
                });
                let this: Weak<dyn Receiver> = self.this.clone();
                shaping.queue(*reader, at, data.len(), this);
            }
        }
        st.schedule_wake(at, now);
    }

    /// Serves the reader's downlink up to `now`, if it has one.
    fn settle(&self, now: Duration) {
        if let Some((shaping, reader)) = &self.downlink {
            shaping.settle(*reader, now);
        }
    }
}

impl Receiver for Pipe {
    fn ready(&self, at: Duration, now: Duration) {
        let mut st = self.lock();
        if st.reader_gone {
            return;
        }
        let Some(chunk) = st.chunks.iter_mut().find(|c| !c.settled) else {
            return;
        };
        chunk.arrive = at;
        chunk.settled = true;
        st.schedule_wake(at, now);
    }
}

impl Inbox for Pipe {
    fn deliver(&self, at: Duration, bytes: Vec<u8>, now: Duration) {
        let mut st = self.lock();
        if st.reader_gone || bytes.is_empty() {
            return;
        }
        st.last_arrival = at;
        self.push(&mut st, at, &bytes, now);
    }

    fn deliver_fin(&self, at: Duration, now: Duration) {
        let mut st = self.lock();
        st.fin_at = Some(at);
        st.schedule_wake(at, now);
    }
}

/// Where a local end of a connection to another worker sends: the bytes it
/// writes travel as messages.
pub(crate) struct RemoteTx {
    pub remote: Arc<Remote>,
    pub conn: ConnKey,
    /// Whether the peer end is the dialer's.
    pub to_dialer: bool,
    /// The peer's worker.
    pub dest: u32,
}

/// One end of a simulated connection.
pub struct SimStream {
    tx: Arc<Pipe>,
    rx: Arc<Pipe>,
    latency: Duration,
    counters: Arc<Counters>,
    fabric: Arc<Fabric>,
    /// Upload bandwidth and loss, if the network has any.
    shaping: Option<Arc<Shaping>>,
    me: End,
    peer: End,
    /// Shared by both ends: true until the first of them is dropped.
    both_held: Arc<AtomicBool>,
    /// Set for the local end of a connection to another worker.
    remote: Option<RemoteTx>,
}

/// What every link of a network shares: its counters, its faults, and its
/// shaping if any.
pub(crate) type Shared = (Arc<Counters>, Arc<Fabric>, Option<Arc<Shaping>>);

/// A connected pair of streams between `a` and `b` with one-way latency
/// `latency`.
pub(crate) fn pair(
    latency: Duration,
    (counters, fabric, shaping): Shared,
    a: End,
    b: End,
) -> (SimStream, SimStream) {
    let a_to_b = Pipe::new(&shaping, b);
    let b_to_a = Pipe::new(&shaping, a);
    let both_held = Arc::new(AtomicBool::new(true));
    counters.open.fetch_add(1, Relaxed);
    let a_end = SimStream {
        tx: a_to_b.clone(),
        rx: b_to_a.clone(),
        latency,
        counters: counters.clone(),
        fabric: fabric.clone(),
        shaping: shaping.clone(),
        me: a,
        peer: b,
        both_held: both_held.clone(),
        remote: None,
    };
    let b_end = SimStream {
        tx: b_to_a,
        rx: a_to_b,
        latency,
        counters,
        fabric,
        shaping,
        me: b,
        peer: a,
        both_held,
        remote: None,
    };
    (a_end, b_end)
}

/// The local end `me` of a connection to `peer` on another worker: what it
/// writes goes out through `tx`; what arrives for it is delivered into its
/// receiving pipe, returned for registration. The dialer's end counts the
/// connection as open while it is held.
pub(crate) fn remote_end(
    latency: Duration,
    (counters, fabric, shaping): Shared,
    (me, peer): (End, End),
    tx: RemoteTx,
) -> (SimStream, std::sync::Weak<dyn Inbox>) {
    let rx = Pipe::new(&shaping, me);
    let dialer = tx.to_dialer;
    let counts = !dialer;
    if counts {
        counters.open.fetch_add(1, Relaxed);
    }
    let inbox: Arc<dyn Inbox> = rx.clone();
    let end = SimStream {
        tx: Pipe::unread(),
        rx,
        latency,
        counters,
        fabric,
        shaping,
        me,
        peer,
        both_held: Arc::new(AtomicBool::new(counts)),
        remote: Some(tx),
    };
    (end, Arc::downgrade(&inbox))
}

impl SimStream {
    /// When something sent now starts on its way, if ever (held by a
    /// partition until it heals); `Err` for a reset.
    fn departure(&self, now: Duration) -> io::Result<Option<Duration>> {
        match self.fabric.path(self.me, self.peer) {
            Path::Open => Ok(Some(now)),
            Path::HeldUntil(heal) => Ok(Some(heal.max(now))),
            Path::BlackHole => Ok(None),
            Path::Reset => Err(io::ErrorKind::ConnectionReset.into()),
        }
    }

    /// When `bytes` that start on their way at `from` reach the peer (`bytes`
    /// = 0 for a close), in order after what arrived `last`.
    fn arrival(&self, from: Duration, last: Duration, bytes: usize) -> Duration {
        let at = match &self.shaping {
            None => from + self.latency,
            Some(shaping) => shaping.arrival(self.me, self.peer.node, from, bytes, self.latency),
        };
        at.max(last)
    }

    fn close_tx(&self) {
        let now = sim_runtime::now();
        let mut st = self.tx.lock();
        if !st.closed {
            st.closed = true;
            // A crashed sender or a restarted receiver sends no close.
            let Ok(Some(from)) = self.departure(now) else {
                return;
            };
            let at = self.arrival(from, st.last_arrival, 0);
            match &self.remote {
                Some(r) => r.remote.send(
                    at,
                    self.me.node,
                    r.dest,
                    r.conn,
                    Body::Fin {
                        to_dialer: r.to_dialer,
                    },
                ),
                None => {
                    st.fin_at = Some(at);
                    st.schedule_wake(at, now);
                }
            }
        }
    }
}

impl AsyncRead for SimStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let now = sim_runtime::now();
        self.rx.settle(now);
        let mut st = self.rx.lock();
        let mut n = 0;
        while n < buf.len() {
            let pos = st.read_pos;
            let Some(head) = st.chunks.front() else {
                break;
            };
            if !head.settled || head.arrive > now {
                break;
            }
            let take = (head.data.len() - pos).min(buf.len() - n);
            buf[n..n + take].copy_from_slice(&head.data[pos..pos + take]);
            n += take;
            if pos + take == head.data.len() {
                st.chunks.pop_front();
                st.read_pos = 0;
            } else {
                st.read_pos = pos + take;
            }
        }
        if n > 0 {
            return Poll::Ready(Ok(n));
        }
        if st.chunks.is_empty() && st.fin_at.is_some_and(|f| f <= now) {
            return Poll::Ready(Ok(0));
        }
        match &st.reader_waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => {
                st.reader_waker = Some(cx.waker().clone());
                // Wake-ups already scheduled hold the old waker.
                st.wake_scheduled = None;
            }
        }
        if let Some(next) = st.chunks.front().map(|c| c.arrive).or(st.fin_at) {
            st.schedule_wake(next, now);
        }
        Poll::Pending
    }
}

impl AsyncWrite for SimStream {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let now = sim_runtime::now();
        let mut st = self.tx.lock();
        if st.closed {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        let from = match self.departure(now) {
            Ok(Some(from)) => from,
            // Into a black hole: accepted, never delivered.
            Ok(None) => return Poll::Ready(Ok(buf.len())),
            Err(e) => return Poll::Ready(Err(e)),
        };
        if st.reader_gone || buf.is_empty() {
            return Poll::Ready(Ok(buf.len()));
        }
        let arrive = self.arrival(from, st.last_arrival, buf.len());
        self.counters.bytes.fetch_add(buf.len() as u64, Relaxed);
        self.counters.writes.fetch_add(1, Relaxed);
        st.last_arrival = arrive;
        if let Some(r) = &self.remote {
            let body = Body::Data {
                to_dialer: r.to_dialer,
                bytes: buf.to_vec(),
            };
            r.remote.send(arrive, self.me.node, r.dest, r.conn, body);
            return Poll::Ready(Ok(buf.len()));
        }
        self.tx.push(&mut st, arrive, buf, now);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.close_tx();
        Poll::Ready(Ok(()))
    }
}

impl Drop for SimStream {
    fn drop(&mut self) {
        if self.both_held.swap(false, Relaxed) {
            self.counters.open.fetch_sub(1, Relaxed);
        }
        self.close_tx();
        let mut rx = self.rx.lock();
        rx.reader_gone = true;
        rx.chunks.clear();
        rx.reader_waker = None;
    }
}
