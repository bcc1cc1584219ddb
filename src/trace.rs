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

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01B3;

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
        })))
    }

    fn mix(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.hash = (self.hash ^ u64::from(*b)).wrapping_mul(FNV_PRIME);
        }
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
        self.mix(&(at.as_nanos() as u64).to_le_bytes());
        self.mix(&node.to_le_bytes());
        self.mix(kind.as_bytes());
        match peer {
            Some(p) => self.mix(&p.to_bytes()),
            None => self.mix(&[0]),
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
mod tests {
    use super::*;

    #[test]
    fn the_hash_depends_on_every_field_and_on_order() {
        let p = PeerId::random();
        let run = |events: &[(u64, NodeId, &'static str, bool)]| {
            let t = Trace::hash_only();
            for (ms, node, kind, with_peer) in events {
                let peer = with_peer.then_some(&p);
                t.borrow_mut()
                    .record(Duration::from_millis(*ms), *node, kind, peer, String::new);
            }
            t.borrow().hash()
        };
        let base = [(1, 0, "join", false), (2, 1, "dialing", true)];
        assert_eq!(run(&base), run(&base));
        assert_ne!(run(&base), run(&[base[1], base[0]]));
        assert_ne!(
            run(&base),
            run(&[(1, 0, "join", false), (3, 1, "dialing", true)])
        );
        assert_ne!(
            run(&base),
            run(&[(1, 0, "join", false), (2, 2, "dialing", true)])
        );
        assert_ne!(
            run(&base),
            run(&[(1, 0, "join", false), (2, 1, "dialing", false)])
        );
        assert_ne!(
            run(&base),
            run(&[(1, 0, "join", false), (2, 1, "leave", true)])
        );
    }

    #[test]
    fn filters_parse_nodes_ranges_and_kinds() {
        let f = TraceFilter::parse("3, 5-7,connection_closed").unwrap();
        assert_eq!(f.nodes, Some([3, 5, 6, 7].into_iter().collect()));
        assert_eq!(f.kinds, Some(["connection_closed".to_string()].into()));
        assert!(f.keeps(6, "connection_closed"));
        assert!(!f.keeps(4, "connection_closed"));
        assert!(!f.keeps(6, "join"));
        let kinds_only = TraceFilter::parse("join,leave").unwrap();
        assert_eq!(kinds_only.nodes, None);
        assert!(kinds_only.keeps(99, "leave"));
        let err = TraceFilter::parse("conection_closed").unwrap_err();
        assert!(err.contains("connection_closed"), "{err}");
        assert!(TraceFilter::parse("9-2").is_err());
    }

    #[test]
    fn the_file_holds_filtered_complete_lines() {
        let dir = std::env::temp_dir().join("libp2p-sim-trace-test");
        let _ = std::fs::remove_dir_all(&dir);
        let t = Trace::to_dir(&dir, TraceFilter::parse("1").unwrap()).unwrap();
        for node in 0..3 {
            t.borrow_mut()
                .record(Duration::from_micros(1500), node, "join", None, || {
                    "a, b".into()
                });
        }
        assert!(!dir.join("events.csv").exists(), "not before finish");
        let path = t.borrow_mut().finish().unwrap().unwrap();
        let text = std::fs::read_to_string(path).unwrap();
        assert_eq!(
            text,
            "seq,time_us,node,kind,peer,details\n1,1500,1,join,,\"a, b\"\n"
        );
        assert_eq!(t.borrow().events(), 3);
    }

    #[test]
    fn compare_traces_names_the_first_differing_event() {
        let compare = |a: &str, b: &str| compare_traces(a.as_bytes(), b.as_bytes()).unwrap();
        let a = "seq,kind,details\n0,start,\"x,\ny\"\n1,crash,\n";
        assert_eq!(compare(a, a), TraceDiff::Same { events: 2 });
        assert_eq!(
            compare(a, "seq,kind,details\n0,start,\"x,\ny\"\n1,stop,\n"),
            TraceDiff::Differ {
                seq: 1,
                a: "1,crash,".to_string(),
                b: "1,stop,".to_string()
            }
        );
        assert_eq!(
            compare(a, "seq,kind,details\n0,start,\"x,\ny\"\n"),
            TraceDiff::Differ {
                seq: 1,
                a: "1,crash,".to_string(),
                b: "(no more events)".to_string()
            }
        );
        // A difference inside a quoted, multi-line field is one event.
        assert_eq!(
            compare(a, "seq,kind,details\n0,start,\"x,\nz\"\n1,crash,\n"),
            TraceDiff::Differ {
                seq: 0,
                a: "0,start,\"x,\ny\"".to_string(),
                b: "0,start,\"x,\nz\"".to_string()
            }
        );
    }

    #[test]
    fn details_with_commas_quotes_and_line_breaks_read_back_exactly() {
        let dir = std::env::temp_dir().join("libp2p-sim-trace-details-test");
        let _ = std::fs::remove_dir_all(&dir);
        let details = "dial to /memory/7 failed: \"refused\", then\nretried,\r\nonce";
        let peer = PeerId::random();
        let t = Trace::to_dir(&dir, TraceFilter::default()).unwrap();
        for (node, text) in [(2, details), (3, "plain")] {
            t.borrow_mut().record(
                Duration::from_micros(42),
                node,
                "dial_error",
                Some(&peer),
                || text.into(),
            );
        }
        let path = t.borrow_mut().finish().unwrap().unwrap();
        let text = std::fs::read_to_string(path).unwrap();
        let mut reader = crate::csvfile::reader(&text);
        assert_eq!(
            reader.headers().unwrap(),
            vec!["seq", "time_us", "node", "kind", "peer", "details"]
        );
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 2);
        let peer = peer.to_string();
        assert_eq!(rows[0], vec!["0", "42", "2", "dial_error", &peer, details]);
        assert_eq!(rows[1], vec!["1", "42", "3", "dial_error", &peer, "plain"]);
    }
}
