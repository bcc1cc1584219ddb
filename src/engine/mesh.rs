//! The local backend of sliding horizons: workers that talk to each other
//! directly, with no process in between.
//!
//! Every pair of workers shares one Unix socket. A worker's report goes to
//! each other worker as one frame on that socket: the messages for it, the
//! promise ("nothing before `P` unless a message I have not read yet
//! arrives earlier"), how many messages the sender has read from each
//! worker, and the arrival time of each message it sent to a third worker.
//! From the frames it has read, each worker keeps the view a central hub
//! would have (every worker's promise and the messages still unread by
//! it) and works out its own horizon with [`horizons`]. A socket is a
//! queue, so a frame from a worker comes after every message that worker
//! sent before it: what a worker has not read yet from another was sent
//! after that worker's last promise it read, and arrives a lookahead after
//! it at the earliest, which [`horizons`] already allows for.
//!
//! A report is one write per other worker and wakes nobody who is running:
//! the frames wait in the socket until the reader reaches its horizon. A
//! worker that waits sleeps in `poll(2)` on its sockets and wakes when a
//! frame comes. Nothing blocks on a full socket: what a socket does not
//! take waits in a queue and goes when it can, while the worker reads.

use std::collections::VecDeque;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::horizon::{Inbound, Sliding, horizons};
use crate::net::{Wire, Workers, read_frame, write_frame};

/// Attempts to reach another worker's socket, 5 ms apart (a minute).
const ATTEMPTS: u32 = 12_000;

/// Where worker `index` listens for the workers after it, for the run
/// whose rendezvous is `path` (a file name in a directory of the run's
/// own).
pub fn worker_socket(path: &Path, index: u32) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{index}"));
    PathBuf::from(name)
}

/// A worker's ends of its sockets to every other worker (see the
/// [module docs](self)).
pub struct SlidingMesh {
    me: usize,
    lookahead: Duration,
    /// `None` at this worker's own index.
    peers: Vec<Option<Peer>>,
    /// What this worker knows of each worker, itself included.
    view: Vec<View>,
    /// The horizon last handed out.
    horizon: Duration,
    /// Where a read lands first (made once).
    chunk: Vec<u8>,
}

struct Peer {
    stream: UnixStream,
    /// Bytes read and not yet parsed.
    inbuf: Vec<u8>,
    /// Bytes the socket did not take yet.
    out: Vec<u8>,
    /// Whether the socket still works (a worker that left may be gone).
    open: bool,
}

/// One worker as another sees it.
#[derive(Clone)]
struct View {
    /// Its latest promise.
    promise: Duration,
    /// It said it is done.
    left: bool,
    /// How many messages it has read from each worker.
    read: Vec<u64>,
    /// How many messages each worker has sent it, as far as known.
    sent: Vec<u64>,
    /// Per sender, the messages it sent this worker that this worker had
    /// not read at last word: (number among the sender's messages to it,
    /// arrival time).
    unread: Vec<VecDeque<(u64, Duration)>>,
}

impl View {
    fn floor(&self) -> Option<Duration> {
        if self.left {
            return None;
        }
        let unread = self.unread.iter().flatten().map(|(_, at)| *at).min();
        Some(unread.map_or(self.promise, |u| u.min(self.promise)))
    }

    /// Takes in that it has read `read[y]` messages from each `y`.
    fn has_read(&mut self, read: &[u64]) {
        for (y, &r) in read.iter().enumerate() {
            self.read[y] = self.read[y].max(r);
            let queue = &mut self.unread[y];
            while queue.front().is_some_and(|(n, _)| *n < r) {
                queue.pop_front();
            }
        }
    }

    /// Takes in that worker `from` sent it a message arriving at `at`.
    fn sent_by(&mut self, from: usize, at: Duration) {
        let n = self.sent[from];
        self.sent[from] += 1;
        if n >= self.read[from] {
            self.unread[from].push_back((n, at));
        }
    }
}

fn nanos(d: Duration) -> u64 {
    // `u64::MAX` stands for "done" on the wire.
    u64::try_from(d.as_nanos())
        .unwrap_or(u64::MAX)
        .min(u64::MAX - 1)
}

fn broken(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, what)
}

impl SlidingMesh {
    /// Connects worker `workers.index` to the `workers.count - 1` others
    /// of the run whose rendezvous is `path` ([`worker_socket`]): it
    /// listens for the workers after it and reaches those before it,
    /// giving up after a minute. Each says its `lookahead` (see
    /// [`lookahead`](super::workers::lookahead)); the smallest holds.
    pub fn connect(path: &Path, workers: Workers, lookahead: Duration) -> io::Result<SlidingMesh> {
        let (me, n) = (workers.index as usize, workers.count as usize);
        let own = worker_socket(path, workers.index);
        let _ = std::fs::remove_file(&own);
        let listener = UnixListener::bind(&own)?;
        let mut streams: Vec<Option<UnixStream>> = (0..n).map(|_| None).collect();
        for (j, slot) in streams.iter_mut().enumerate().take(me) {
            let mut stream = reach(&worker_socket(path, j as u32))?;
            io::Write::write_all(&mut stream, &workers.index.to_le_bytes())?;
            *slot = Some(stream);
        }
        listener.set_nonblocking(true)?;
        for _ in me + 1..n {
            let mut stream = (0..ATTEMPTS)
                .find_map(|_| match listener.accept() {
                    Ok((stream, _)) => Some(Ok(stream)),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5));
                        None
                    }
                    Err(e) => Some(Err(e)),
                })
                .unwrap_or_else(|| Err(io::Error::other("a later worker never connected")))?;
            stream.set_nonblocking(false)?;
            let mut index = [0u8; 4];
            io::Read::read_exact(&mut stream, &mut index)?;
            let j = u32::from_le_bytes(index) as usize;
            match streams.get_mut(j) {
                Some(slot @ None) if j > me => *slot = Some(stream),
                _ => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("worker {me} was reached by a worker numbered {j}"),
                    ));
                }
            }
        }
        drop(listener);
        let _ = std::fs::remove_file(&own);
        let mut lookahead = lookahead;
        for stream in streams.iter_mut().flatten() {
            io::Write::write_all(stream, &nanos(lookahead).to_le_bytes())?;
        }
        for stream in streams.iter_mut().flatten() {
            let mut word = [0u8; 8];
            io::Read::read_exact(stream, &mut word)?;
            lookahead = lookahead.min(Duration::from_nanos(u64::from_le_bytes(word)));
        }
        let peers = streams
            .into_iter()
            .map(|s| {
                s.map(|stream| {
                    stream.set_nonblocking(true)?;
                    Ok(Peer {
                        stream,
                        inbuf: Vec::new(),
                        out: Vec::new(),
                        open: true,
                    })
                })
                .transpose()
            })
            .collect::<io::Result<_>>()?;
        let view = View {
            promise: Duration::ZERO,
            left: false,
            read: vec![0; n],
            sent: vec![0; n],
            unread: vec![VecDeque::new(); n],
        };
        Ok(SlidingMesh {
            me,
            lookahead,
            peers,
            view: vec![view; n],
            horizon: lookahead,
            chunk: vec![0; 256 * 1024],
        })
    }

    /// Writes what peer `j`'s socket takes now. A socket that fails is
    /// closed here; reading it says whether that was an error.
    fn flush(&mut self, j: usize) {
        let Some(peer) = self.peers[j].as_mut().filter(|p| p.open) else {
            return;
        };
        let mut done = 0;
        while done < peer.out.len() {
            match io::Write::write(&mut peer.stream, &peer.out[done..]) {
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    peer.out.clear();
                    done = 0;
                    if self.view[j].left {
                        peer.open = false;
                    }
                    break;
                }
            }
        }
        peer.out.drain(..done);
    }

    /// Reads what each socket holds and takes in its whole frames; the
    /// messages for this worker go to `wires`.
    fn read_all(&mut self, wires: &mut Vec<Wire>) -> io::Result<()> {
        for j in 0..self.peers.len() {
            let Some(peer) = self.peers[j].as_mut().filter(|p| p.open) else {
                continue;
            };
            let mut ended = None;
            loop {
                match io::Read::read(&mut peer.stream, &mut self.chunk) {
                    Ok(0) => {
                        ended = Some(None);
                        break;
                    }
                    Ok(n) => peer.inbuf.extend_from_slice(&self.chunk[..n]),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        ended = Some(Some(e));
                        break;
                    }
                }
            }
            let mut frames = Vec::new();
            take_whole(&mut peer.inbuf, |body| frames.push(body.to_vec()));
            for frame in frames {
                self.take_frame(j, &frame, wires)?;
            }
            if let Some(error) = ended {
                if !self.view[j].left {
                    let why = error.map_or("its socket ended".to_string(), |e| e.to_string());
                    return Err(broken(format!(
                        "worker {j} ended without saying it was done ({why}; see its output)"
                    )));
                }
                self.peers[j].as_mut().expect("read above").open = false;
            }
        }
        Ok(())
    }

    /// Takes in one frame from worker `j`.
    fn take_frame(&mut self, j: usize, frame: &[u8], wires: &mut Vec<Wire>) -> io::Result<()> {
        let bad = || io::Error::new(io::ErrorKind::InvalidData, "a short frame from a worker");
        let mut rest = frame;
        let (got, promise) = read_frame(&mut rest)?.ok_or_else(bad)?;
        let n = self.view.len();
        let word = |rest: &mut &[u8], len: usize| -> io::Result<u64> {
            let (head, tail) = rest.split_at_checked(len).ok_or_else(bad)?;
            *rest = tail;
            let mut bytes = [0u8; 8];
            bytes[..len].copy_from_slice(head);
            Ok(u64::from_le_bytes(bytes))
        };
        let read = (0..n)
            .map(|_| word(&mut rest, 8))
            .collect::<io::Result<Vec<u64>>>()?;
        let them = &mut self.view[j];
        them.promise = promise.unwrap_or(Duration::MAX);
        them.left |= promise.is_none();
        them.has_read(&read);
        // Read, and until this worker's next promise (which allows for
        // them), holding it back like unread ones.
        let mine = &mut self.view[self.me];
        for w in &got {
            mine.sent_by(j, w.at);
        }
        mine.read[j] += got.len() as u64;
        wires.extend(got);
        let others = word(&mut rest, 8)?;
        for _ in 0..others {
            let dest = word(&mut rest, 4)? as usize;
            let at = Duration::from_nanos(word(&mut rest, 8)?);
            if dest == self.me || dest == j || dest >= n {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "a worker told of a message to no third worker",
                ));
            }
            self.view[dest].sent_by(j, at);
        }
        Ok(())
    }

    /// This worker's horizon from what it knows.
    fn compute(&self) -> Duration {
        let floor: Vec<Option<Duration>> = self.view.iter().map(View::floor).collect();
        horizons(&floor, self.lookahead)[self.me]
    }

    /// What to wait for on each open socket: input, and room for output
    /// where some is queued.
    fn poll_set(&self) -> Vec<libc::pollfd> {
        self.peers
            .iter()
            .flatten()
            .filter(|p| p.open)
            .map(|p| libc::pollfd {
                fd: p.stream.as_raw_fd(),
                events: libc::POLLIN | if p.out.is_empty() { 0 } else { libc::POLLOUT },
                revents: 0,
            })
            .collect()
    }

    /// Waits until a socket has something to read or takes queued bytes.
    fn wait(&mut self) -> io::Result<()> {
        let mut fds = self.poll_set();
        if fds.is_empty() {
            return Err(broken("no other worker is left to hear from".into()));
        }
        // SAFETY: `fds` is a live, initialized array of `fds.len()` entries.
        if unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, -1) } < 0 {
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
        Ok(())
    }
}

/// Hands `each` the body of every whole frame (a length word, then that
/// many bytes) at the front of `buf`, then drops them from `buf`; a frame
/// not yet whole stays.
fn take_whole(buf: &mut Vec<u8>, mut each: impl FnMut(&[u8])) {
    let mut at = 0;
    while let Some(len) = buf.get(at..at + 8) {
        let len = u64::from_le_bytes(len.try_into().expect("eight bytes")) as usize;
        let end = at + 8 + len;
        if buf.len() < end {
            break;
        }
        each(&buf[at + 8..end]);
        at = end;
    }
    buf.drain(..at);
}

/// Connects to a worker's socket, which may not be there yet.
fn reach(socket: &Path) -> io::Result<UnixStream> {
    let mut last = None;
    for _ in 0..ATTEMPTS {
        match UnixStream::connect(socket) {
            Ok(stream) => return Ok(stream),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused
                ) =>
            {
                last = Some(e);
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other(format!(
        "no worker listens at {} ({})",
        socket.display(),
        last.map_or(String::new(), |e| e.to_string())
    )))
}

impl Sliding for SlidingMesh {
    fn report(&mut self, out: Vec<Wire>, next: Option<Duration>, _read: u64) -> io::Result<()> {
        let n = self.view.len();
        let mut to: Vec<Vec<Wire>> = (0..n).map(|_| Vec::new()).collect();
        for wire in out {
            let d = wire.dest as usize;
            if d >= n || d == self.me {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("a message for worker {d} on worker {}", self.me),
                ));
            }
            self.view[d].sent_by(self.me, wire.at);
            to[d].push(wire);
        }
        let mine = &mut self.view[self.me];
        // The promise allows for every message read so far.
        mine.unread.iter_mut().for_each(VecDeque::clear);
        mine.promise = next.unwrap_or(Duration::MAX);
        mine.left |= next.is_none();
        let promise = next.map(|p| Duration::from_nanos(nanos(p)));
        let read = mine.read.clone();
        for j in 0..n {
            let Some(peer) = self.peers[j].as_mut() else {
                continue;
            };
            if !peer.open || self.view[j].left {
                continue;
            }
            let start = peer.out.len();
            peer.out.extend_from_slice(&[0; 8]);
            write_frame(&mut peer.out, &to[j], promise)?;
            for r in &read {
                peer.out.extend_from_slice(&r.to_le_bytes());
            }
            let others: Vec<&Wire> = (0..n).filter(|&d| d != j).flat_map(|d| &to[d]).collect();
            peer.out
                .extend_from_slice(&(others.len() as u64).to_le_bytes());
            for w in others {
                peer.out.extend_from_slice(&w.dest.to_le_bytes());
                peer.out.extend_from_slice(&nanos(w.at).to_le_bytes());
            }
            let len = (peer.out.len() - start - 8) as u64;
            peer.out[start..start + 8].copy_from_slice(&len.to_le_bytes());
            self.flush(j);
        }
        Ok(())
    }

    fn receive(&mut self, wait: bool) -> io::Result<Vec<Inbound>> {
        let mut wires = Vec::new();
        loop {
            for j in 0..self.peers.len() {
                self.flush(j);
            }
            self.read_all(&mut wires)?;
            let h = self.compute();
            assert!(
                h >= self.horizon,
                "worker {}: the horizon moved back from {:?} to {h:?}",
                self.me,
                self.horizon
            );
            if !wires.is_empty() || h != self.horizon {
                self.horizon = h;
                return Ok(vec![(wires, (h != Duration::MAX).then_some(h))]);
            }
            if !wait {
                return Ok(Vec::new());
            }
            self.wait()?;
        }
    }
}

impl Drop for SlidingMesh {
    /// Sends what is still queued (this worker's last promise among it),
    /// reading and dropping what the others send meanwhile, so that two
    /// workers flushing to each other at once both get through.
    fn drop(&mut self) {
        // Workers that left need nothing more.
        for (peer, view) in self.peers.iter_mut().zip(&self.view) {
            if let Some(peer) = peer.as_mut().filter(|_| view.left) {
                peer.out.clear();
            }
        }
        loop {
            for j in 0..self.peers.len() {
                self.flush(j);
            }
            let queued = self
                .peers
                .iter()
                .flatten()
                .any(|p| p.open && !p.out.is_empty());
            if !queued {
                return;
            }
            let mut fds = self.poll_set();
            // SAFETY: `fds` is a live, initialized array of `fds.len()` entries.
            if unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, -1) } < 0 {
                return;
            }
            for peer in self.peers.iter_mut().flatten().filter(|p| p.open) {
                match io::Read::read(&mut peer.stream, &mut self.chunk) {
                    Ok(0) => peer.open = false,
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => peer.open = false,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(m: u64) -> Duration {
        Duration::from_millis(m)
    }

    #[test]
    fn an_unread_message_holds_its_reader_back_until_it_says_it_read_it() {
        let mut view = View {
            promise: ms(500),
            left: false,
            read: vec![0; 3],
            sent: vec![0; 3],
            unread: vec![VecDeque::new(); 3],
        };
        view.sent_by(0, ms(260));
        view.sent_by(2, ms(240));
        view.sent_by(0, ms(250));
        assert_eq!(view.floor(), Some(ms(240)));
        // It read worker 2's message, and the first of worker 0's.
        view.has_read(&[1, 0, 1]);
        assert_eq!(view.floor(), Some(ms(250)));
        // Told late of a message it has read already: it holds nothing.
        view.has_read(&[3, 0, 1]);
        view.sent_by(0, ms(200));
        assert_eq!(view.floor(), Some(ms(500)));
        view.left = true;
        assert_eq!(view.floor(), None);
    }
}
