//! The event trace of a run: every swarm, Kademlia and scenario event, in
//! the order the run produced them.
//!
//! Every run keeps a running hash of its events (FNV-1a over the virtual
//! time in nanoseconds, the node, the event kind and the peer id), printed
//! as the *trace hash*: two runs with the same hash went through the same
//! events in the same order. With `--trace`, the events are also written to
//! `events.csv` (optionally filtered by node and kind), so a run can be read
//! step by step, and two runs compared line by line.
//!
//! On several workers, each worker traces its own nodes and keeps every
//! event's [`Place`]; [`places`] merges them into one canonical order.
//!
//! `events.csv` columns: `seq` (position in the whole trace, filtered or
//! not), `time_us` (virtual time in microseconds), `node`, `kind`, `peer`
//! (empty if none), `details` (free text, kept exactly: RFC 4180 quoting
//! when it holds a comma, a quote or a line break).

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

use libp2p::PeerId;

use crate::csvfile;
use crate::scheduler::NodeId;

pub mod places;

pub use places::Place;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01B3;

/// FNV-1a: `hash` with `bytes` mixed in.
fn fnv(mut hash: u64, bytes: &[u8]) -> u64 {
    for b in bytes {
        hash = (hash ^ u64::from(*b)).wrapping_mul(FNV_PRIME);
    }
    hash
}

/// Which events `events.csv` keeps (all of them are hashed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TraceFilter {
    /// Only these nodes; all when `None`.
    pub nodes: Option<BTreeSet<NodeId>>,
    /// Only these kinds; all when `None`.
    pub kinds: Option<BTreeSet<String>>,
}

impl TraceFilter {
    /// Parses `--trace-filter` text: comma-separated items, each a node
    /// index (`12`), a range of nodes (`0-9`) or an event kind
    /// (`connection_closed`). Kinds are checked against [`KINDS`].
    pub fn parse(text: &str) -> Result<TraceFilter, String> {
        let mut filter = TraceFilter::default();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let nodes = filter.nodes.get_or_insert_with(BTreeSet::new);
            if let Some((a, b)) = item.split_once('-')
                && let (Ok(a), Ok(b)) = (a.parse::<NodeId>(), b.parse::<NodeId>())
            {
                if a > b {
                    return Err(format!("node range {item} is empty"));
                }
                nodes.extend(a..=b);
                continue;
            }
            if let Ok(n) = item.parse::<NodeId>() {
                nodes.insert(n);
                continue;
            }
            if filter.nodes.as_ref().is_some_and(BTreeSet::is_empty) {
                filter.nodes = None;
            }
            if !KINDS.contains(&item) {
                return Err(format!(
                    "{item:?} is neither a node, a node range nor an event kind; kinds: {}",
                    KINDS.join(", ")
                ));
            }
            filter
                .kinds
                .get_or_insert_with(BTreeSet::new)
                .insert(item.to_string());
        }
        if filter.nodes.as_ref().is_some_and(BTreeSet::is_empty) {
            filter.nodes = None;
        }
        Ok(filter)
    }

    fn keeps(&self, node: NodeId, kind: &str) -> bool {
        self.nodes.as_ref().is_none_or(|n| n.contains(&node))
            && self.kinds.as_ref().is_none_or(|k| k.contains(kind))
    }
}

/// Every event kind the trace records.
pub const KINDS: [&str; 16] = [
    "join",
    "leave",
    "crash",
    "split",
    "heal",
    "lookup_start",
    "dialing",
    "connection_established",
    "connection_closed",
    "dial_error",
    "incoming_error",
    "identify_received",
    "routing_updated",
    "kad_inbound",
    "query_done",
    "ping_failure",
];

struct Output {
    filter: TraceFilter,
    tmp: PathBuf,
    path: PathBuf,
    file: csv::Writer<File>,
    error: Option<io::Error>,
}

/// A run's trace: the running hash and, with `--trace`, the file.
pub struct Trace {
    hash: u64,
    events: u64,
    out: Option<Output>,
    /// Each event's place, on one worker of several ([`Trace::keep_places`]).
    places: Option<Vec<Place>>,
}

/// The trace shared by the run's nodes (one thread).
pub type TraceHandle = Rc<RefCell<Trace>>;

impl Trace {
    /// A trace that only hashes.
    pub fn hash_only() -> TraceHandle {
        Rc::new(RefCell::new(Trace {
            hash: FNV_OFFSET,
            events: 0,
            out: None,
            places: None,
        }))
    }

    /// A trace that also writes `events.csv` into `dir` (under a temporary
    /// name until [`Trace::finish`]).
    pub fn to_dir(dir: &Path, filter: TraceFilter) -> io::Result<TraceHandle> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join("events.csv");
        let tmp = dir.join(".events.csv.tmp");
        let mut file = csv::Writer::from_writer(File::create(&tmp)?);
        file.write_record(["seq", "time_us", "node", "kind", "peer", "details"])?;
        Ok(Rc::new(RefCell::new(Trace {
            hash: FNV_OFFSET,
            events: 0,
            out: Some(Output {
                filter,
                tmp,
                path,
                file,
                error: None,
            }),
            places: None,
        })))
    }

    fn mix(&mut self, bytes: &[u8]) {
        self.hash = fnv(self.hash, bytes);
    }

    /// Also keeps every event's [`Place`], for a worker of a run on
    /// several whose trace is merged with the others' ([`places`]).
    pub fn keep_places(&mut self) {
        self.places.get_or_insert_with(Vec::new);
    }

    /// The places kept since [`Trace::keep_places`], in the order of the
    /// events (`seq`); `None` if they were not kept.
    pub fn take_places(&mut self) -> Option<Vec<Place>> {
        self.places.take()
    }

    /// Records one event. `details` is only called when the event is
    /// written to the file.
    pub fn record(
        &mut self,
        at: Duration,
        node: NodeId,
        kind: &'static str,
        peer: Option<&PeerId>,
        details: impl FnOnce() -> String,
    ) {
        let seq = self.events;
        self.events += 1;
        let at_ns = at.as_nanos() as u64;
        let peer_bytes = peer.map(|p| p.to_bytes());
        let peer_bytes = peer_bytes.as_deref().unwrap_or(&[0]);
        self.mix(&at_ns.to_le_bytes());
        self.mix(&node.to_le_bytes());
        self.mix(kind.as_bytes());
        self.mix(peer_bytes);
        if let Some(places) = self.places.as_mut() {
            places.push(Place {
                at_ns,
                node,
                digest: places::digest_of(kind, peer_bytes),
            });
        }
        let Some(out) = self.out.as_mut() else {
            return;
        };
        if out.error.is_some() || !out.filter.keeps(node, kind) {
            return;
        }
        let peer = peer.map(PeerId::to_string).unwrap_or_default();
        let row = [
            seq.to_string(),
            at.as_micros().to_string(),
            node.to_string(),
        ];
        let written = (|| {
            for number in &row {
                out.file.write_field(number)?;
            }
            out.file.write_field(kind)?;
            out.file.write_field(&peer)?;
            out.file.write_field(details())?;
            out.file.write_record(None::<&[u8]>)
        })();
        if let Err(e) = written {
            out.error = Some(e.into());
        }
    }

    /// The running hash, as 16 hex digits.
    pub fn hash(&self) -> String {
        format!("{:016x}", self.hash)
    }

    /// Events recorded so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Flushes and renames `events.csv` into place (also after a failed
    /// run: every line written is complete). Returns its path, if any.
    pub fn finish(&mut self) -> io::Result<Option<PathBuf>> {
        let Some(mut out) = self.out.take() else {
            return Ok(None);
        };
        if let Some(e) = out.error.take() {
            return Err(e);
        }
        out.file.flush()?;
        drop(out.file);
        std::fs::rename(&out.tmp, &out.path)?;
        Ok(Some(out.path))
    }
}

/// How two runs' `events.csv` compare, row by row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TraceDiff {
    /// Every row the same: this many events.
    Same {
        /// Events (rows after the header).
        events: u64,
    },
    /// The first event that differs.
    Differ {
        /// Its position among the events (0 is the first after the header).
        seq: u64,
        /// Run a's row as a CSV line, or `(no more events)`.
        a: String,
        /// Run b's row likewise.
        b: String,
    },
}

/// Compares two `events.csv` files as parsed CSV records (an event's
/// details may span lines), reading them as it goes.
pub fn compare_traces(a: impl io::Read, b: impl io::Read) -> Result<TraceDiff, csv::Error> {
    let (mut a, mut b) = (csvfile::records_of(a), csvfile::records_of(b));
    // Rows that matched so far, the header included.
    let mut same = 0u64;
    loop {
        match (a.next().transpose()?, b.next().transpose()?) {
            (None, None) => {
                return Ok(TraceDiff::Same {
                    events: same.saturating_sub(1),
                });
            }
            (ra, rb) if ra == rb => same += 1,
            (ra, rb) => {
                let show = |r: Option<csv::StringRecord>| {
                    r.map_or_else(|| "(no more events)".to_string(), |r| csvfile::line(&r))
                };
                return Ok(TraceDiff::Differ {
                    seq: same.saturating_sub(1),
                    a: show(ra),
                    b: show(rb),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests;
