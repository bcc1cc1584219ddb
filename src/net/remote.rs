//! Links between workers: a run split over several worker processes, each
//! simulating a part of the nodes (see `docs/parallel.md`).
//!
//! A connection between a node of this worker and a node of another is a
//! pair of one-way pipes as within a worker, but what one end writes
//! travels as a [`Wire`] message stamped with its arrival time: the SYN of
//! a dial, its answer (accept or refuse), the bytes and the close. Every
//! message arrives at least one lookahead after it was sent (the smallest
//! latency between two workers), so a worker may simulate up to the end of
//! the current window before it hears from the others; at the window's end
//! the workers exchange what they sent, and each injects what it received
//! in one canonical order ([`Wire::order`]).
//!
//! The fabric (crashes, restarts, partitions) is kept by every worker for
//! every node, since the calls that change it are made by every worker
//! alike; only a node's swarm lives in one worker.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, Weak};
use std::time::Duration;

use crate::scheduler::NodeId;

/// A connection between workers, named by its dialer and the dialer's
/// worker-local count of remote dials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ConnKey {
    /// The dialing node.
    pub dialer: NodeId,
    /// Its worker's count of remote dials when it dialed.
    pub n: u64,
}

/// What a message between workers carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// A dialer's SYN for `port`; the listener's worker answers it.
    Syn { port: u64 },
    /// The listener accepted: the dial succeeds when this arrives.
    Accept,
    /// Nobody listened on the port: the dial is refused.
    Refuse,
    /// Bytes for the end of `conn` on the dialer's side (`to_dialer`) or
    /// on the listener's.
    Data { to_dialer: bool, bytes: Vec<u8> },
    /// End of file for that end.
    Fin { to_dialer: bool },
}

/// A message from one worker to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wire {
    /// Virtual time it arrives.
    pub at: Duration,
    /// The node that sent it.
    pub src: NodeId,
    /// The sending worker's count of messages, for a canonical order.
    pub seq: u64,
    /// The worker it goes to.
    pub dest: u32,
    /// The connection it belongs to.
    pub conn: ConnKey,
    /// What it carries.
    pub body: Body,
}

impl Wire {
    /// The canonical order of injection: arrival time, sending node,
    /// sequence.
    pub fn order(&self) -> (Duration, NodeId, u64) {
        (self.at, self.src, self.seq)
    }
}

/// How the nodes are split over workers, and this worker's place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Workers {
    /// This worker, `0..count`.
    pub index: u32,
    /// Workers in the run.
    pub count: u32,
}

impl Workers {
    /// The worker that runs node `node`: nodes are dealt round-robin.
    pub fn worker_of(&self, node: NodeId) -> u32 {
        node % self.count
    }

    /// Whether node `node` runs here.
    pub fn is_local(&self, node: NodeId) -> bool {
        self.worker_of(node) == self.index
    }
}

/// Where a worker delivers what arrives for a local end of a remote
/// connection (its receiving pipe).
pub(crate) trait Inbox: Send + Sync {
    /// Bytes that arrive at `at`; `now` is the current virtual time.
    fn deliver(&self, at: Duration, bytes: Vec<u8>, now: Duration);
    /// The end of file, arriving at `at`.
    fn deliver_fin(&self, at: Duration, now: Duration);
}

/// A dial that waits for its answer from another worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    Accepted,
    Refused,
}

/// This worker's side of the links to other workers.
pub(crate) struct Remote {
    pub workers: Workers,
    state: Mutex<RemoteState>,
    seq: AtomicU64,
}

#[derive(Default)]
struct RemoteState {
    outbox: Vec<Wire>,
    /// Receiving pipes of the local ends of remote connections.
    pipes: BTreeMap<(ConnKey, bool), Weak<dyn Inbox>>,
    /// Messages received but not yet taken in, in canonical order: each is
    /// taken in just before the clock reaches its arrival time, so what a
    /// worker does never depends on when a message reached it.
    held: BTreeMap<(Duration, NodeId, u64), Wire>,
    /// SYNs received, by arrival.
    syns: BTreeMap<(Duration, NodeId, u64), (ConnKey, u64)>,
    answers: BTreeMap<ConnKey, Answer>,
    dials: u64,
}

impl Remote {
    pub fn new(workers: Workers) -> Remote {
        Remote {
            workers,
            state: Mutex::default(),
            seq: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, RemoteState> {
        self.state.lock().expect("remote lock")
    }

    /// Queues a message for the next exchange.
    pub fn send(&self, at: Duration, src: NodeId, dest: u32, conn: ConnKey, body: Body) {
        let seq = self.seq.fetch_add(1, Relaxed);
        self.lock().outbox.push(Wire {
            at,
            src,
            seq,
            dest,
            conn,
            body,
        });
    }

    /// A fresh connection key for a dial by `dialer`.
    pub fn next_conn(&self, dialer: NodeId) -> ConnKey {
        let mut st = self.lock();
        st.dials += 1;
        ConnKey {
            dialer,
            n: st.dials,
        }
    }

    /// Registers the receiving pipe of a local end.
    pub fn register(&self, conn: ConnKey, to_dialer: bool, pipe: Weak<dyn Inbox>) {
        self.lock().pipes.insert((conn, to_dialer), pipe);
    }

    /// The messages sent since the last exchange.
    pub fn take_outbox(&self) -> Vec<Wire> {
        std::mem::take(&mut self.lock().outbox)
    }

    /// The answer to dial `conn`, once it arrived.
    pub fn take_answer(&self, conn: ConnKey) -> Option<Answer> {
        self.lock().answers.remove(&conn)
    }

    /// The earliest arrival not yet delivered: a held message or a SYN.
    pub fn next_arrival(&self) -> Option<Duration> {
        let st = self.lock();
        let held = st.held.first_key_value().map(|(k, _)| k.0);
        let syn = st.syns.first_key_value().map(|(k, _)| k.0);
        match (held, syn) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Keeps messages from other workers until their arrival.
    pub fn hold(&self, wires: Vec<Wire>) {
        let mut st = self.lock();
        for w in wires {
            st.held.insert(w.order(), w);
        }
    }

    /// Takes in, in canonical order, every held message that arrives by
    /// `until`; `now` is the current virtual time (before `until`).
    pub fn release(&self, until: Duration, now: Duration) {
        loop {
            let wire = {
                let mut st = self.lock();
                match st.held.first_entry() {
                    Some(e) if e.key().0 <= until => e.remove(),
                    _ => return,
                }
            };
            self.inject(wire, now);
        }
    }

    /// Removes and returns the SYNs due by `now`, in arrival order.
    pub fn due_syns(&self, now: Duration) -> Vec<(Duration, NodeId, ConnKey, u64)> {
        let mut st = self.lock();
        let mut due = Vec::new();
        while let Some(entry) = st.syns.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let ((at, src, _), (conn, port)) = entry.remove_entry();
            due.push((at, src, conn, port));
        }
        due
    }

    /// Takes in one message from another worker (in canonical order);
    /// `now` is the current virtual time.
    fn inject(&self, wire: Wire, now: Duration) {
        let mut st = self.lock();
        match wire.body {
            Body::Syn { port } => {
                st.syns
                    .insert((wire.at, wire.src, wire.seq), (wire.conn, port));
            }
            Body::Accept => _ = st.answers.insert(wire.conn, Answer::Accepted),
            Body::Refuse => _ = st.answers.insert(wire.conn, Answer::Refused),
            Body::Data { to_dialer, bytes } => {
                if let Some(pipe) = st
                    .pipes
                    .get(&(wire.conn, to_dialer))
                    .and_then(Weak::upgrade)
                {
                    pipe.deliver(wire.at, bytes, now);
                }
            }
            Body::Fin { to_dialer } => {
                if let Some(pipe) = st
                    .pipes
                    .remove(&(wire.conn, to_dialer))
                    .and_then(|w| w.upgrade())
                {
                    pipe.deliver_fin(wire.at, now);
                }
            }
        }
    }
}

/// Writes `wires` and `next` (the sender's next event time) as one frame.
pub fn write_frame(out: &mut impl Write, wires: &[Wire], next: Option<Duration>) -> io::Result<()> {
    // The length first, filled in at the end: one write per frame.
    let mut buf = Vec::with_capacity(24 + wires.len() * 48);
    buf.extend_from_slice(&[0; 8]);
    let nanos = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
    buf.extend_from_slice(&next.map_or(u64::MAX, nanos).to_le_bytes());
    buf.extend_from_slice(&(wires.len() as u64).to_le_bytes());
    for w in wires {
        buf.extend_from_slice(&nanos(w.at).to_le_bytes());
        buf.extend_from_slice(&w.src.to_le_bytes());
        buf.extend_from_slice(&w.seq.to_le_bytes());
        buf.extend_from_slice(&w.dest.to_le_bytes());
        buf.extend_from_slice(&w.conn.dialer.to_le_bytes());
        buf.extend_from_slice(&w.conn.n.to_le_bytes());
        let (kind, word, bytes): (u8, u64, &[u8]) = match &w.body {
            Body::Syn { port } => (0, *port, &[]),
            Body::Accept => (1, 0, &[]),
            Body::Refuse => (2, 0, &[]),
            Body::Data { to_dialer, bytes } => (3, u64::from(*to_dialer), bytes),
            Body::Fin { to_dialer } => (4, u64::from(*to_dialer), &[]),
        };
        buf.push(kind);
        buf.extend_from_slice(&word.to_le_bytes());
        buf.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        buf.extend_from_slice(bytes);
    }
    let len = (buf.len() - 8) as u64;
    buf[..8].copy_from_slice(&len.to_le_bytes());
    out.write_all(&buf)?;
    out.flush()
}

/// Reads one frame written by [`write_frame`]; `None` at end of stream.
pub fn read_frame(input: &mut impl Read) -> io::Result<Option<(Vec<Wire>, Option<Duration>)>> {
    let mut len = [0u8; 8];
    match input.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut buf = vec![0u8; u64::from_le_bytes(len) as usize];
    input.read_exact(&mut buf)?;
    let mut r = Reader { buf: &buf, pos: 0 };
    let next = r.u64()?;
    let next = (next != u64::MAX).then(|| Duration::from_nanos(next));
    let count = r.u64()?;
    let mut wires = Vec::new();
    for _ in 0..count {
        let at = Duration::from_nanos(r.u64()?);
        let src = r.u32()?;
        let seq = r.u64()?;
        let dest = r.u32()?;
        let conn = ConnKey {
            dialer: r.u32()?,
            n: r.u64()?,
        };
        let kind = r.take(1)?[0];
        let word = r.u64()?;
        let len = r.u64()? as usize;
        let bytes = r.take(len)?.to_vec();
        let body = match kind {
            0 => Body::Syn { port: word },
            1 => Body::Accept,
            2 => Body::Refuse,
            3 => Body::Data {
                to_dialer: word != 0,
                bytes,
            },
            4 => Body::Fin {
                to_dialer: word != 0,
            },
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "unknown message kind",
                ));
            }
        };
        wires.push(Wire {
            at,
            src,
            seq,
            dest,
            conn,
            body,
        });
    }
    Ok(Some((wires, next)))
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> io::Result<&'a [u8]> {
        let end = self.pos + n;
        let slice = self
            .buf
            .get(self.pos..end)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "truncated frame"))?;
        self.pos = end;
        Ok(slice)
    }

    fn u64(&mut self) -> io::Result<u64> {
        let b = self.take(8)?;
        Ok(u64::from_le_bytes(b.try_into().expect("8 bytes")))
    }

    fn u32(&mut self) -> io::Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes(b.try_into().expect("4 bytes")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(at_ms: u64, src: NodeId, seq: u64, body: Body) -> Wire {
        Wire {
            at: Duration::from_millis(at_ms),
            src,
            seq,
            dest: 1,
            conn: ConnKey { dialer: 7, n: 3 },
            body,
        }
    }

    #[test]
    fn frames_carry_every_kind_of_message_and_the_next_time() {
        let wires = vec![
            wire(30, 2, 0, Body::Syn { port: 100_005 }),
            wire(31, 5, 1, Body::Accept),
            wire(32, 5, 2, Body::Refuse),
            wire(
                33,
                2,
                3,
                Body::Data {
                    to_dialer: true,
                    bytes: vec![0, 1, 255, 7],
                },
            ),
            wire(34, 2, 4, Body::Fin { to_dialer: false }),
        ];
        let mut buf = Vec::new();
        write_frame(&mut buf, &wires, Some(Duration::from_nanos(123))).unwrap();
        write_frame(&mut buf, &[], None).unwrap();
        let mut r = &buf[..];
        let (back, next) = read_frame(&mut r).unwrap().expect("a frame");
        assert_eq!((back, next), (wires, Some(Duration::from_nanos(123))));
        assert_eq!(read_frame(&mut r).unwrap(), Some((Vec::new(), None)));
        assert_eq!(read_frame(&mut r).unwrap(), None, "end of stream");
        // A frame cut short is an error, not a silent end.
        let mut short = &buf[..buf.len() / 3];
        assert!(read_frame(&mut short).is_err());
    }

    #[test]
    fn messages_are_injected_by_arrival_then_sender_then_sequence() {
        let mut wires = [
            wire(20, 3, 9, Body::Accept),
            wire(10, 4, 1, Body::Accept),
            wire(20, 1, 5, Body::Accept),
            wire(20, 3, 2, Body::Accept),
        ];
        wires.sort_by_key(Wire::order);
        let order: Vec<(u64, NodeId, u64)> = wires
            .iter()
            .map(|w| (w.at.as_millis() as u64, w.src, w.seq))
            .collect();
        assert_eq!(order, vec![(10, 4, 1), (20, 1, 5), (20, 3, 2), (20, 3, 9)]);
    }

    #[test]
    fn nodes_are_dealt_round_robin() {
        let w = Workers { index: 1, count: 3 };
        assert_eq!(
            (0..7).map(|n| w.worker_of(n)).collect::<Vec<_>>(),
            vec![0, 1, 2, 0, 1, 2, 0]
        );
        assert!(w.is_local(4) && !w.is_local(5));
    }
}
