//! Sliding horizons: workers that meet without a barrier.
//!
//! In lookahead windows ([`workers`](super::workers)) every worker waits at
//! the end of every window for the slowest one, so the imbalance of each
//! window is paid at each. Here (Chandy–Misra–Bryant with lookahead) a
//! worker instead sends its messages and a *promise* as it goes: "I do
//! nothing before `P` unless a message I have not read yet arrives
//! earlier; I have read `r` messages". From the latest promises and the
//! messages still unread, the [`hub_sliding`] works out each worker's
//! *horizon*: the earliest time a message not yet sent to it could arrive
//! ([`horizons`]). A worker runs every event before its horizon on its
//! own and waits only when it gets there, that is, when it is a whole
//! lookahead ahead of the slowest worker it could hear from.
//!
//! The schedule changes, the simulation does not: a worker takes in each
//! message from another worker just before its clock reaches the
//! message's arrival time, in canonical order, whenever the message was
//! received (`Network::release`), and every message reaches it before its
//! horizon passes the arrival. So the outputs are those of the barrier,
//! byte for byte, which a test checks.
//!
//! A worker's side is the [`Sliding`] trait; [`SlidingSocket`] is its local
//! backend, a Unix socket to the hub in the parent process, read by a
//! thread of its own so that a busy worker's socket never fills.

use std::collections::VecDeque;
use std::io;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::time::Duration;

use crate::net::{Wire, read_frame, write_frame};

/// A horizon update from the hub, with the messages routed before it.
pub type Inbound = (Vec<Wire>, Option<Duration>);

/// A worker's link to the others under sliding horizons.
pub trait Sliding {
    /// Sends `out` (messages for other workers) and a promise: this
    /// worker does nothing before `next` (`None`: nothing ever again)
    /// unless a message it has not read arrives earlier; it has read `read`
    /// messages so far.
    fn report(&mut self, out: Vec<Wire>, next: Option<Duration>, read: u64) -> io::Result<()>;
    /// What arrived since the last call: messages for this worker and new
    /// horizons (`None`: no other worker can send anything any more), in
    /// the order they came. With `wait`, waits for at least one.
    fn receive(&mut self, wait: bool) -> io::Result<Vec<Inbound>>;
}

/// The local backend of [`Sliding`]: a Unix socket to [`hub_sliding`],
/// read without blocking until the worker has to wait (what the hub sends
/// a running worker waits in the socket: no thread, no wake-up).
pub struct SlidingSocket {
    stream: UnixStream,
    /// Bytes read and not yet parsed into frames.
    buf: Vec<u8>,
    /// Whether the socket is in non-blocking mode now.
    nonblocking: bool,
    /// Where a read lands first (made once).
    chunk: Vec<u8>,
}

impl SlidingSocket {
    /// Connects worker `index`, whose links to other workers have
    /// `lookahead` (see [`lookahead`](super::workers::lookahead)), to the
    /// hub listening at `path`.
    pub fn connect(path: &Path, index: u32, lookahead: Duration) -> io::Result<SlidingSocket> {
        let mut stream = UnixStream::connect(path)?;
        io::Write::write_all(&mut stream, &index.to_le_bytes())?;
        let nanos = u64::try_from(lookahead.as_nanos()).unwrap_or(u64::MAX);
        io::Write::write_all(&mut stream, &nanos.to_le_bytes())?;
        Ok(SlidingSocket {
            stream,
            buf: Vec::new(),
            nonblocking: false,
            chunk: vec![0; 64 * 1024],
        })
    }

    fn set_nonblocking(&mut self, on: bool) -> io::Result<()> {
        if self.nonblocking != on {
            self.stream.set_nonblocking(on)?;
            self.nonblocking = on;
        }
        Ok(())
    }

    /// Reads what the socket holds (with `wait`, at least one byte);
    /// returns whether the hub is gone.
    fn fill(&mut self, wait: bool) -> io::Result<bool> {
        self.set_nonblocking(!wait)?;
        loop {
            match io::Read::read(&mut self.stream, &mut self.chunk) {
                Ok(0) => return Ok(true),
                Ok(n) => {
                    self.buf.extend_from_slice(&self.chunk[..n]);
                    if n < self.chunk.len() {
                        return Ok(false);
                    }
                    self.set_nonblocking(true)?;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Takes every whole frame out of the buffer.
    fn frames(&mut self) -> io::Result<Vec<Inbound>> {
        let mut got = Vec::new();
        take_whole(&mut self.buf, 0, |bytes| {
            got.push(read_frame(&mut &bytes[..]).map(|f| f.expect("a whole frame is there")));
        });
        got.into_iter().collect()
    }
}

impl Sliding for SlidingSocket {
    fn report(&mut self, out: Vec<Wire>, next: Option<Duration>, read: u64) -> io::Result<()> {
        let bytes = encode_report(&out, next, read)?;
        let mut rest = &bytes[..];
        // Never block on a full socket: the hub may itself be waiting to
        // write to this worker, so take in what it sends meanwhile.
        self.set_nonblocking(true)?;
        while !rest.is_empty() {
            match io::Write::write(&mut self.stream, rest) {
                Ok(n) => rest = &rest[n..],
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    poll_one(&self.stream, libc::POLLIN | libc::POLLOUT)?;
                    if self.fill(false)? {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "the hub ended before this worker",
                        ));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn receive(&mut self, wait: bool) -> io::Result<Vec<Inbound>> {
        loop {
            let gone = self.fill(wait)?;
            let got = self.frames()?;
            if !got.is_empty() || !wait {
                return Ok(got);
            }
            if gone {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the hub ended before this worker (see the other workers' output)",
                ));
            }
        }
    }
}

/// Hands `each` every whole frame at the front of `buf` (its length word,
/// its body and `trailer` more bytes), then drops them from `buf`; a
/// frame not yet whole stays.
fn take_whole(buf: &mut Vec<u8>, trailer: usize, mut each: impl FnMut(&[u8])) {
    let mut at = 0;
    while let Some(len) = buf.get(at..at + 8) {
        let len = u64::from_le_bytes(len.try_into().expect("eight bytes")) as usize;
        let end = at + 8 + len + trailer;
        if buf.len() < end {
            break;
        }
        each(&buf[at..end]);
        at = end;
    }
    buf.drain(..at);
}

/// A report as bytes: the frame, then the count of messages read.
fn encode_report(wires: &[Wire], next: Option<Duration>, read: u64) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(64);
    write_frame(&mut buf, wires, next)?;
    buf.extend_from_slice(&read.to_le_bytes());
    Ok(buf)
}

/// Waits until `stream` is ready for one of `events`.
fn poll_one(stream: &UnixStream, events: libc::c_short) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let mut fd = libc::pollfd {
        fd: stream.as_raw_fd(),
        events,
        revents: 0,
    };
    // SAFETY: one live, initialized `pollfd`.
    if unsafe { libc::poll(&mut fd, 1, -1) } < 0 {
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
    Ok(())
}

/// A worker's report as the hub reads it: messages, promise, messages read.
type Report = (Vec<Wire>, Option<Duration>, u64);

fn read_report(input: &mut impl io::Read) -> io::Result<Option<Report>> {
    let Some((wires, next)) = read_frame(input)? else {
        return Ok(None);
    };
    let mut read = [0u8; 8];
    io::Read::read_exact(input, &mut read)?;
    Ok(Some((wires, next, u64::from_le_bytes(read))))
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
pub(super) fn accept(
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

/// Each worker's horizon, from `floor[x]`: the earliest time worker `x`
/// may still do anything (its promise, or an unread message's arrival;
/// `None`: it is done, and ignores what it is sent; `Duration::MAX`: a
/// horizon without bound). A message reaching worker `i` is sent by some
/// `x` at an event of `x`, which happens at `floor[x]` at the earliest or
/// is caused by a message from some `y`, arriving at least `lookahead`
/// after `floor[y]`; and it arrives `lookahead` after it is sent at the
/// earliest. Longer chains arrive later still.
pub fn horizons(floor: &[Option<Duration>], lookahead: Duration) -> Vec<Duration> {
    let n = floor.len();
    let min_but = |skip: usize, of: &dyn Fn(usize) -> Duration| {
        (0..n)
            .filter(|&j| j != skip)
            .map(of)
            .min()
            .unwrap_or(Duration::MAX)
    };
    let at = |x: usize| floor[x].unwrap_or(Duration::MAX);
    let earliest: Vec<Duration> = (0..n)
        .map(|x| match floor[x] {
            Some(own) => own.min(min_but(x, &at).saturating_add(lookahead)),
            None => Duration::MAX,
        })
        .collect();
    (0..n)
        .map(|i| min_but(i, &|x| earliest[x]).saturating_add(lookahead))
        .collect()
}

/// The hub's view of one worker.
struct Seen {
    promise: Duration,
    /// Arrival times of the messages written to it and not yet read, by
    /// their number among all messages written to it.
    unread: VecDeque<(u64, Duration)>,
    written: u64,
    horizon: Duration,
    /// Bound by nothing: it left, or its socket is gone.
    ended: bool,
    /// It said it is done (its last promise).
    left: bool,
}

impl Seen {
    fn floor(&self) -> Option<Duration> {
        if self.ended {
            return None;
        }
        let unread = self.unread.iter().map(|(_, at)| *at).min();
        Some(unread.map_or(self.promise, |u| u.min(self.promise)))
    }
}

/// The parent's side of the local backend under sliding horizons: accepts
/// `count` workers on `listener` (as [`hub`](super::workers::hub) does),
/// each naming its lookahead, then routes each worker's messages as they
/// come and sends each worker its horizon whenever it moves. Returns when
/// every worker has closed its socket.
pub fn hub_sliding(
    listener: &UnixListener,
    count: u32,
    alive: impl FnMut() -> bool,
) -> io::Result<HubStats> {
    let mut streams = accept(listener, count, alive)?;
    let mut lookahead = Duration::MAX;
    for stream in &mut streams {
        let mut nanos = [0u8; 8];
        io::Read::read_exact(stream, &mut nanos)?;
        lookahead = lookahead.min(Duration::from_nanos(u64::from_le_bytes(nanos)));
    }
    let mut sockets = Sockets::new(streams)?;
    let mut pending = VecDeque::new();
    let mut seen: Vec<Seen> = (0..count)
        .map(|_| Seen {
            promise: Duration::ZERO,
            unread: VecDeque::new(),
            written: 0,
            horizon: lookahead,
            ended: false,
            left: false,
        })
        .collect();
    let mut stats = HubStats::default();
    let mut open = count;
    while open > 0 {
        let (x, report) = match pending.pop_front() {
            Some(next) => next,
            None => {
                pending.extend(sockets.wait()?);
                continue;
            }
        };
        // A worker that is done may close its socket with frames unread,
        // which resets it; before that, an error or an end is a failure
        // (the others may not run on without what it had still to send).
        let report = match report {
            Err(_) if seen[x].left => None,
            report => report?,
        };
        if report.is_none() && !seen[x].left {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "worker {x} ended without saying it was done \
                     (it failed, or exited before Sim::leave or the Sim's drop)"
                ),
            ));
        }
        let Some((wires, promise, read)) = report else {
            seen[x].ended = true;
            open -= 1;
            send_horizons(&mut sockets, &mut seen, lookahead);
            continue;
        };
        stats.windows += 1;
        let mut outboxes: Vec<Vec<Wire>> = (0..count).map(|_| Vec::new()).collect();
        for wire in wires {
            let dest = outboxes
                .get_mut(wire.dest as usize)
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no such worker"))?;
            dest.push(wire);
        }
        for (d, out) in outboxes.into_iter().enumerate() {
            if out.is_empty() || seen[d].ended {
                continue;
            }
            stats.messages += out.len() as u64;
            let to = &mut seen[d];
            for w in &out {
                to.unread.push_back((to.written, w.at));
                to.written += 1;
            }
            let wire_h = (to.horizon != Duration::MAX).then_some(to.horizon);
            // A worker that is done may be gone already (its messages
            // arrive after its end).
            if !sockets.send(d, &out, wire_h) {
                to.ended = true;
            }
        }
        let me = &mut seen[x];
        me.promise = promise.unwrap_or(Duration::MAX);
        // `None`: the worker is done and may go.
        me.left |= promise.is_none();
        me.ended |= me.left;
        while me.unread.front().is_some_and(|(n, _)| *n < read) {
            me.unread.pop_front();
        }
        send_horizons(&mut sockets, &mut seen, lookahead);
    }
    Ok(stats)
}

/// The hub's ends of the workers' sockets, all non-blocking: one thread
/// waits on all of them at once (`poll(2)`), so a report wakes the hub
/// once, and what the hub sends a worker that is not reading waits in a
/// queue, never blocking the hub (the worker may itself be writing to it).
struct Sockets {
    streams: Vec<UnixStream>,
    /// `fd` is -1 once a worker's socket ended.
    fds: Vec<libc::pollfd>,
    /// Bytes read from each worker and not yet parsed.
    bufs: Vec<Vec<u8>>,
    /// Bytes for each worker that its socket did not take yet.
    outs: Vec<Vec<u8>>,
    /// Where a read lands first (made once: a fresh one per read would be
    /// fresh pages, and page faults, each time).
    chunk: Vec<u8>,
}

impl Sockets {
    fn new(streams: Vec<UnixStream>) -> io::Result<Sockets> {
        use std::os::fd::AsRawFd;
        for s in &streams {
            s.set_nonblocking(true)?;
        }
        Ok(Sockets {
            fds: streams
                .iter()
                .map(|s| libc::pollfd {
                    fd: s.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                })
                .collect(),
            bufs: vec![Vec::new(); streams.len()],
            outs: vec![Vec::new(); streams.len()],
            chunk: vec![0; 256 * 1024],
            streams,
        })
    }

    /// Sends worker `i` a frame; `false` if its socket is gone (a worker
    /// that is done may be; one that failed shows in its exit status).
    fn send(&mut self, i: usize, wires: &[Wire], horizon: Option<Duration>) -> bool {
        if write_frame(&mut self.outs[i], wires, horizon).is_err() {
            return false;
        }
        self.flush(i)
    }

    /// Writes what worker `i`'s socket takes now; `false` if it is gone.
    fn flush(&mut self, i: usize) -> bool {
        let out = &mut self.outs[i];
        let mut done = 0;
        let ok = loop {
            if done == out.len() {
                break true;
            }
            match io::Write::write(&mut self.streams[i], &out[done..]) {
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break true,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break false,
            }
        };
        if ok {
            out.drain(..done);
        } else {
            out.clear();
        }
        ok
    }

    /// Waits until a worker sent something; returns its whole reports
    /// (`Ok(None)` at the end of a worker's socket, then nothing more from
    /// it), in worker order. Writes queued bytes as the sockets take them.
    fn wait(&mut self) -> io::Result<Vec<(usize, ReadReport)>> {
        let mut got = Vec::new();
        if self.fds.iter().all(|p| p.fd < 0) {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "every worker's socket has ended",
            ));
        }
        for (p, out) in self.fds.iter_mut().zip(&self.outs) {
            p.events = libc::POLLIN | if out.is_empty() { 0 } else { libc::POLLOUT };
        }
        // SAFETY: `fds` is a live, initialized array of `fds.len()` entries.
        let ready =
            unsafe { libc::poll(self.fds.as_mut_ptr(), self.fds.len() as libc::nfds_t, -1) };
        if ready < 0 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::Interrupted => Ok(got),
                _ => Err(e),
            };
        }
        for i in 0..self.fds.len() {
            let p = self.fds[i];
            if p.fd < 0 || p.revents == 0 {
                continue;
            }
            if p.revents & libc::POLLOUT != 0 {
                // If the socket is gone, reading says so.
                self.flush(i);
            }
            if p.revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) == 0 {
                continue;
            }
            match io::Read::read(&mut self.streams[i], &mut self.chunk) {
                Ok(0) => {
                    self.fds[i].fd = -1;
                    self.outs[i].clear();
                    got.push((i, Ok(None)));
                }
                Ok(n) => {
                    let buf = &mut self.bufs[i];
                    buf.extend_from_slice(&self.chunk[..n]);
                    // A report is a frame and the count of messages read.
                    take_whole(buf, 8, |bytes| {
                        got.push((i, read_report(&mut &bytes[..])));
                    });
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => {
                    self.fds[i].fd = -1;
                    self.outs[i].clear();
                    got.push((i, Err(e)));
                }
            }
        }
        Ok(got)
    }
}

/// A report as read: `Ok(None)` at the end of the socket.
type ReadReport = io::Result<Option<Report>>;

/// Sends each open worker its horizon if it moved.
fn send_horizons(sockets: &mut Sockets, seen: &mut [Seen], lookahead: Duration) {
    let floor: Vec<Option<Duration>> = seen.iter().map(Seen::floor).collect();
    for (i, h) in horizons(&floor, lookahead).into_iter().enumerate() {
        let to = &mut seen[i];
        if to.ended || h == to.horizon {
            continue;
        }
        to.horizon = h;
        let wire_h = (h != Duration::MAX).then_some(h);
        if !sockets.send(i, &[], wire_h) {
            to.ended = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: Duration = Duration::from_millis(20);
    fn ms(m: u64) -> Duration {
        Duration::from_millis(m)
    }

    #[test]
    fn a_worker_runs_a_lookahead_past_what_the_others_may_still_cause() {
        // Worker 1 waits at 500 ms, worker 0 is at 100 ms: worker 1 may
        // hear from worker 0 at 120 ms, and worker 0 from worker 1 only
        // after its own message came back, at 140 ms.
        let h = horizons(&[Some(ms(100)), Some(ms(500))], L);
        assert_eq!(h, vec![ms(140), ms(120)]);
        // Both idle until far apart: the earlier one runs to the later
        // one's time plus L.
        let h = horizons(&[Some(ms(100)), Some(ms(105))], L);
        assert_eq!(h, vec![ms(125), ms(120)]);
    }

    #[test]
    fn a_third_worker_bounds_the_others_through_its_messages() {
        // 2 at 100 ms may reach 0 and 1 at 120 ms; they answer at 140 ms
        // at the earliest.
        let h = horizons(&[Some(ms(900)), Some(ms(900)), Some(ms(100))], L);
        assert_eq!(h, vec![ms(120), ms(120), ms(140)]);
    }

    #[test]
    fn ended_workers_bound_nobody() {
        let unbounded = Duration::MAX;
        // Worker 1 is done: worker 0 hears from nobody any more.
        assert_eq!(
            horizons(&[Some(ms(100)), None], L),
            vec![unbounded, ms(120)]
        );
        assert_eq!(horizons(&[None, None], L), vec![unbounded, unbounded]);
        // A worker with nothing planned may still be woken, and answer.
        let h = horizons(&[Some(ms(100)), Some(unbounded)], L);
        assert_eq!(h, vec![ms(140), ms(120)]);
    }

    #[test]
    fn an_unread_message_holds_its_reader_back() {
        let seen = Seen {
            promise: ms(500),
            unread: VecDeque::from([(3, ms(260)), (4, ms(240))]),
            written: 5,
            horizon: L,
            ended: false,
            left: false,
        };
        assert_eq!(seen.floor(), Some(ms(240)));
    }
}
