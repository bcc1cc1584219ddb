//! One simulation over several worker processes, in lookahead windows.
//!
//! The nodes are dealt to `N` workers round-robin (node `i` runs in worker
//! `i % N`). Every worker runs the same program: it adds every node, makes
//! every fault, and calls the same steps; only its own nodes get a swarm.
//! A link between two workers carries SYNs, answers, bytes and closes as
//! messages stamped with their arrival time, which is at least the
//! *lookahead* `L` after they were sent: the smallest one-way latency any
//! link between two workers can have. So a worker may simulate every event
//! before the end of the current window `[T, T + L)` on its own; at the
//! window's end the workers exchange the messages due later, each takes
//! them in at their arrival times in one canonical order (arrival time,
//! sending node, sequence), and the next window starts at the earliest
//! next event of all workers, so idle virtual time is still skipped.
//! Without the barrier, the same run: [`horizon`](super::horizon), the
//! local backend's default ([`Schedule`], [`Link`]).
//!
//! [`Exchange`] is the one interface between workers; [`SocketExchange`]
//! is its local backend, a Unix socket to a [`hub`] in the parent process
//! that routes the messages and computes the next window's start. An
//! exchange that must stay on the thread that made it (MPI's) serves a
//! simulation on another thread through a [`relay`].

use std::io;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::process::{Child, ExitStatus};
use std::sync::mpsc;
use std::time::Duration;

use super::horizon::Sliding;
use super::mesh::SlidingMesh;
use crate::net::{Wire, Workers, read_frame, write_frame};
use crate::scenario::{Latency, Network as NetworkConfig};

/// What a worker sends and receives at the end of a window.
pub trait Exchange {
    /// Sends `out` (messages for other workers) and `next`, the time of
    /// this worker's next event (`None`: none); returns the messages for
    /// this worker and the earliest next event over all workers and all
    /// messages in flight.
    fn exchange(
        &mut self,
        out: Vec<Wire>,
        next: Option<Duration>,
    ) -> io::Result<(Vec<Wire>, Option<Duration>)>;
}

/// This worker's place and its link to the others.
pub struct Worker {
    /// Which worker this is, of how many.
    pub workers: Workers,
    /// How it meets the others.
    pub link: Link,
}

/// How a worker meets the others; both give the same outputs.
pub enum Link {
    /// At the end of every lookahead window, all at once.
    Barrier(Box<dyn Exchange>),
    /// As it goes, waiting only when a lookahead ahead of the others
    /// ([`horizon`](super::horizon)).
    Sliding(Box<dyn Sliding>),
}

impl Link {
    /// Connects worker `workers.index` to the others of a local run whose
    /// rendezvous is `path` (the hub's socket under a barrier, the
    /// workers' own sockets beside it under sliding horizons), as
    /// `schedule` says; `lookahead` is the one of the links between
    /// workers ([`lookahead`]).
    pub fn connect(
        path: &Path,
        workers: Workers,
        schedule: Schedule,
        lookahead: Duration,
    ) -> io::Result<Link> {
        Ok(match schedule {
            Schedule::Barrier => {
                Link::Barrier(Box::new(SocketExchange::connect(path, workers.index)?))
            }
            Schedule::Sliding => {
                Link::Sliding(Box::new(SlidingMesh::connect(path, workers, lookahead)?))
            }
        })
    }
}

/// Which of the two ways the local backend uses (see [`Link`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Schedule {
    /// Lookahead windows with a barrier at each end.
    Barrier,
    /// Sliding horizons (the default: less waiting, same outputs).
    #[default]
    Sliding,
}

/// The smallest one-way latency a link between two workers can have under
/// `network`: a flat network's lower bound, or the smallest entry of the
/// latency matrix (any two regions may meet across workers).
pub fn lookahead(network: &NetworkConfig) -> Duration {
    let low = |l: &Latency| l.bounds().0;
    if network.regions.is_empty() {
        low(&network.latency)
    } else {
        network
            .latency_matrix
            .values()
            .map(low)
            .min()
            .unwrap_or_default()
    }
}

/// A worker's end of the local backend: a Unix socket to the [`hub`].
pub struct SocketExchange {
    stream: UnixStream,
}

impl SocketExchange {
    /// Connects worker `index` to the hub listening at `path`.
    pub fn connect(path: &Path, index: u32) -> io::Result<SocketExchange> {
        let mut stream = UnixStream::connect(path)?;
        io::Write::write_all(&mut stream, &index.to_le_bytes())?;
        Ok(SocketExchange { stream })
    }
}

impl Exchange for SocketExchange {
    fn exchange(
        &mut self,
        out: Vec<Wire>,
        next: Option<Duration>,
    ) -> io::Result<(Vec<Wire>, Option<Duration>)> {
        write_frame(&mut self.stream, &out, next)?;
        read_frame(&mut self.stream)?.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "another worker ended before this one (see its output)",
            )
        })
    }
}

/// One window's end, as the simulation's thread hands it to the relay;
/// `None`: the simulation is over.
type Request = Option<(Vec<Wire>, Option<Duration>)>;
/// What the relay hands back.
type Reply = io::Result<(Vec<Wire>, Option<Duration>)>;

/// The simulation's end of a [`relay`]: an [`Exchange`] that can move to
/// another thread.
pub struct RelayExchange {
    requests: mpsc::Sender<Request>,
    replies: mpsc::Receiver<Reply>,
}

/// Tells a [`RelayServer`] that the simulation is over (a simulation that
/// skips its teardown never drops its [`RelayExchange`]).
pub struct RelayDone(mpsc::Sender<Request>);

impl RelayDone {
    /// Ends [`RelayServer::serve`] once the exchanges asked for before are
    /// made.
    pub fn done(self) {
        let _ = self.0.send(None);
    }
}

/// The serving end of a [`relay`], on the thread that owns the exchange.
pub struct RelayServer {
    requests: mpsc::Receiver<Request>,
    replies: mpsc::Sender<Reply>,
}

/// A pair of ends that let a simulation on one thread use an exchange
/// that stays on another (MPI is called from the thread that started it):
/// every window's end travels from [`RelayExchange`] to
/// [`RelayServer::serve`] and back.
pub fn relay() -> (RelayExchange, RelayServer) {
    let (requests, requested) = mpsc::channel();
    let (replies, replied) = mpsc::channel();
    (
        RelayExchange {
            requests,
            replies: replied,
        },
        RelayServer {
            requests: requested,
            replies,
        },
    )
}

impl Exchange for RelayExchange {
    fn exchange(
        &mut self,
        out: Vec<Wire>,
        next: Option<Duration>,
    ) -> io::Result<(Vec<Wire>, Option<Duration>)> {
        let gone = || io::Error::new(io::ErrorKind::BrokenPipe, "the relay's server ended");
        self.requests.send(Some((out, next))).map_err(|_| gone())?;
        self.replies.recv().map_err(|_| gone())?
    }
}

impl RelayExchange {
    /// What the simulation's thread calls when the simulation is over.
    pub fn done_signal(&self) -> RelayDone {
        RelayDone(self.requests.clone())
    }
}

impl RelayServer {
    /// Makes every exchange the simulation asks for on `exchange`, until
    /// it is over ([`RelayDone::done`], or its end is dropped); returns the
    /// number of exchanges.
    pub fn serve(self, exchange: &mut dyn Exchange) -> u64 {
        let mut served = 0;
        while let Ok(Some((out, next))) = self.requests.recv() {
            served += 1;
            if self.replies.send(exchange.exchange(out, next)).is_err() {
                break;
            }
        }
        served
    }
}

/// The parent's side of the local backend: accepts `count` workers on
/// `listener` (giving up when `alive` says a worker ended before it
/// connected), then, window after window, reads one frame from each (in
/// worker order), routes every message to its worker and answers each
/// with its messages and the earliest next event of all. Returns when a
/// worker closes its socket (the run ended, or the worker died, which
/// ends the others' exchanges with an error).
pub fn hub(
    listener: &UnixListener,
    count: u32,
    alive: impl FnMut() -> bool,
) -> io::Result<HubStats> {
    let mut streams = accept(listener, count, alive)?;
    let mut stats = HubStats::default();
    loop {
        let mut inboxes: Vec<Vec<Wire>> = (0..count).map(|_| Vec::new()).collect();
        let mut next: Option<Duration> = None;
        for stream in streams.iter_mut() {
            let Some((wires, their_next)) = read_frame(stream)? else {
                return Ok(stats);
            };
            next = min_opt(next, their_next);
            for wire in wires {
                next = min_opt(next, Some(wire.at));
                stats.messages += 1;
                let dest = inboxes
                    .get_mut(wire.dest as usize)
                    .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no such worker"))?;
                dest.push(wire);
            }
        }
        for (stream, mut inbox) in streams.iter_mut().zip(inboxes) {
            inbox.sort_by_key(Wire::order);
            write_frame(stream, &inbox, next)?;
        }
        stats.windows += 1;
    }
}

/// What the hub saw of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HubStats {
    /// Windows (exchanges) completed.
    pub windows: u64,
    /// Messages routed between workers.
    pub messages: u64,
}

/// Accepts `count` workers on `listener`, each naming its index first;
/// returns their streams in worker order (gives up when `alive` says a
/// worker ended before it connected).
fn accept(
    listener: &UnixListener,
    count: u32,
    mut alive: impl FnMut() -> bool,
) -> io::Result<Vec<UnixStream>> {
    let mut streams: Vec<Option<UnixStream>> = (0..count).map(|_| None).collect();
    listener.set_nonblocking(true)?;
    for _ in 0..count {
        let mut stream = loop {
            match listener.accept() {
                Ok((stream, _)) => break stream,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if !alive() {
                        return Err(io::Error::other("a worker ended before it joined"));
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) => return Err(e),
            }
        };
        stream.set_nonblocking(false)?;
        let mut index = [0u8; 4];
        io::Read::read_exact(&mut stream, &mut index)?;
        let i = u32::from_le_bytes(index) as usize;
        let slot = streams.get_mut(i).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidData, "worker index out of range")
        })?;
        *slot = Some(stream);
    }
    streams
        .into_iter()
        .map(|s| {
            s.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "a worker index twice"))
        })
        .collect()
}

/// Runs one simulation on `count` local worker processes: starts worker
/// `i` with `spawn(i, socket)`, where `socket` is the run's rendezvous in
/// `dir` (which must exist), and waits for them. Under a barrier the
/// parent binds `socket` and routes the messages ([`hub`]); under sliding
/// horizons the workers talk to each other
/// ([`SlidingMesh`]) and the parent only
/// watches: when one fails it stops the others. The workers must connect
/// as `schedule` says. Returns each worker's exit status, in worker
/// order, and what the hub saw (an error if a worker ended before it
/// joined, or the routing failed; nothing under sliding horizons, where
/// each worker counts its own).
pub fn run_local(
    dir: &Path,
    count: u32,
    schedule: Schedule,
    mut spawn: impl FnMut(u32, &Path) -> io::Result<Child>,
) -> io::Result<(Vec<ExitStatus>, io::Result<HubStats>)> {
    let socket = dir.join("hub.sock");
    let _ = std::fs::remove_file(&socket);
    let listener = match schedule {
        Schedule::Barrier => Some(UnixListener::bind(&socket)?),
        Schedule::Sliding => None,
    };
    let mut children: Vec<Child> = (0..count)
        .map(|i| spawn(i, &socket))
        .collect::<io::Result<_>>()?;
    let routed = match listener {
        Some(listener) => {
            let alive = || {
                children
                    .iter_mut()
                    .all(|c| c.try_wait().ok().flatten().is_none())
            };
            hub(&listener, count, alive)
        }
        None => {
            watch(&mut children);
            Ok(HubStats::default())
        }
    };
    let statuses = children
        .iter_mut()
        .map(Child::wait)
        .collect::<io::Result<_>>()?;
    Ok((statuses, routed))
}

/// Waits until every child has ended; once one fails, stops the others
/// (they may be waiting to reach it).
fn watch(children: &mut [Child]) {
    loop {
        let mut running = 0;
        let mut failed = false;
        for child in children.iter_mut() {
            match child.try_wait() {
                Ok(None) => running += 1,
                Ok(Some(status)) => failed |= !status.success(),
                Err(_) => failed = true,
            }
        }
        if running == 0 {
            return;
        }
        if failed {
            for child in children.iter_mut() {
                let _ = child.kill();
            }
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn min_opt(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
