//! The trace of a run on several workers, in one canonical order.
//!
//! Each worker traces only its own nodes, in the order it produced their
//! events; which worker finishes a window first is a matter of the
//! machine, so the workers' traces cannot simply be concatenated. Every
//! event gets a [`Place`] instead: its virtual time, its node and a digest
//! of what it is. A node's events all come from one worker, in that
//! worker's order, so sorting every worker's places by (time, node,
//! position in the worker's trace) orders the whole run by (time, node,
//! per-node sequence), whatever the machine did. The merged trace hash is
//! FNV-1a over each event's time (nanoseconds), node and digest, in that
//! order, and `events.csv` is rewritten in that order ([`merge_files`]),
//! its `seq` column numbering the merged trace.

use std::fs::File;
use std::io::{self, BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::time::Duration;

use libp2p::PeerId;

use super::{FNV_OFFSET, fnv};
use crate::csvfile;
use crate::scheduler::NodeId;

/// Where an event belongs in the merged trace, and what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    /// Virtual time of the event, in nanoseconds.
    pub at_ns: u64,
    /// The node it happened to.
    pub node: NodeId,
    /// FNV-1a of its kind and peer id ([`digest`]).
    pub digest: u64,
}

/// Bytes per place in a places file.
const PLACE_BYTES: usize = 8 + 4 + 8;

/// FNV-1a over an event's kind and peer id (a zero byte when none): the
/// same bytes the running hash of one worker mixes in after time and node.
pub fn digest(kind: &str, peer: Option<&PeerId>) -> u64 {
    let peer = peer.map(|p| p.to_bytes());
    digest_of(kind, peer.as_deref().unwrap_or(&[0]))
}

/// [`digest`] of a kind and the bytes that stand for its peer.
pub(super) fn digest_of(kind: &str, peer: &[u8]) -> u64 {
    fnv(fnv(FNV_OFFSET, kind.as_bytes()), peer)
}

impl Place {
    /// The place of an event at `at` of `node`.
    pub fn new(at: Duration, node: NodeId, kind: &str, peer: Option<&PeerId>) -> Place {
        Place {
            at_ns: at.as_nanos() as u64,
            node,
            digest: digest(kind, peer),
        }
    }
}

/// `places` as bytes: 20 each, little-endian (time, node, digest).
pub fn to_bytes(places: &[Place]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(places.len() * PLACE_BYTES);
    for p in places {
        bytes.extend(p.at_ns.to_le_bytes());
        bytes.extend(p.node.to_le_bytes());
        bytes.extend(p.digest.to_le_bytes());
    }
    bytes
}

/// Places from [`to_bytes`].
pub fn from_bytes(bytes: &[u8]) -> io::Result<Vec<Place>> {
    if !bytes.len().is_multiple_of(PLACE_BYTES) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not a whole number of places",
        ));
    }
    let word = |b: &[u8]| u64::from_le_bytes(b.try_into().expect("8 bytes"));
    Ok(bytes
        .chunks_exact(PLACE_BYTES)
        .map(|c| Place {
            at_ns: word(&c[0..8]),
            node: NodeId::from_le_bytes(c[8..12].try_into().expect("4 bytes")),
            digest: word(&c[12..20]),
        })
        .collect())
}

/// Writes `places` to `path` ([`to_bytes`]), under a temporary name first.
pub fn write(path: &Path, places: &[Place]) -> io::Result<()> {
    write_bytes(path, &to_bytes(places))
}

/// Writes places already in bytes ([`to_bytes`]) to `path`, under a
/// temporary name first.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(tmp, path)
}

/// Reads a file written by [`write()`].
pub fn read(path: &Path) -> io::Result<Vec<Place>> {
    from_bytes(&std::fs::read(path)?)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}

/// The workers' traces in one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    /// `position[w][i]`: where worker `w`'s `i`-th event is in the merged
    /// trace.
    pub position: Vec<Vec<u64>>,
    /// The merged trace hash, 16 hex digits.
    pub hash: String,
    /// Events in all.
    pub events: u64,
}

/// Orders the events of every worker (`workers[w]`: worker `w`'s places,
/// in the order it traced them) by (time, node, per-node sequence) and
/// hashes them in that order.
pub fn merge(workers: &[Vec<Place>]) -> Merged {
    let mut all: Vec<(u64, NodeId, u32, u64)> = workers
        .iter()
        .enumerate()
        .flat_map(|(w, places)| {
            places
                .iter()
                .enumerate()
                .map(move |(i, p)| (p.at_ns, p.node, w as u32, i as u64))
        })
        .collect();
    // Every key is distinct (worker and position), so the order is total.
    all.sort_unstable();
    let mut position: Vec<Vec<u64>> = workers.iter().map(|p| vec![0; p.len()]).collect();
    let mut hash = FNV_OFFSET;
    for (n, &(at_ns, node, w, i)) in all.iter().enumerate() {
        position[w as usize][i as usize] = n as u64;
        let digest = workers[w as usize][i as usize].digest;
        hash = fnv(hash, &at_ns.to_le_bytes());
        hash = fnv(hash, &node.to_le_bytes());
        hash = fnv(hash, &digest.to_le_bytes());
    }
    Merged {
        position,
        hash: format!("{hash:016x}"),
        events: all.len() as u64,
    }
}

/// Writes `out`, one `events.csv` from the workers' (`files[w]`, as
/// [`super::Trace`] wrote them: `seq` is the position in that worker's
/// trace, and a filter may have left events out), in the merged order,
/// with `seq` renumbered as the position in the merged trace. Written
/// under a temporary name first.
pub fn merge_files(files: &[PathBuf], merged: &Merged, out: &Path) -> io::Result<PathBuf> {
    let bad = |file: &Path, why: String| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {why}", file.display()),
        )
    };
    let mut header = None;
    let mut rows: Vec<(u64, csv::StringRecord)> = Vec::new();
    for (w, file) in files.iter().enumerate() {
        let positions = merged
            .position
            .get(w)
            .ok_or_else(|| bad(file, format!("no places for worker {w}")))?;
        let mut reader = csv::Reader::from_reader(BufReader::new(File::open(file)?));
        header.get_or_insert(reader.headers()?.clone());
        for record in reader.into_records() {
            let record = record?;
            let seq: usize = record
                .get(0)
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| bad(file, format!("no seq in {}", csvfile::line(&record))))?;
            let at = *positions
                .get(seq)
                .ok_or_else(|| bad(file, format!("event {seq} has no place")))?;
            rows.push((at, record));
        }
    }
    rows.sort_unstable_by_key(|(at, _)| *at);
    let tmp = out.with_extension("csv.tmp");
    let mut writer = csv::Writer::from_writer(BufWriter::new(File::create(&tmp)?));
    writer.write_record(header.as_ref().unwrap_or(&csv::StringRecord::from(vec![
        "seq", "time_us", "node", "kind", "peer", "details",
    ])))?;
    for (at, record) in &rows {
        writer.write_field(at.to_string())?;
        for field in record.iter().skip(1) {
            writer.write_field(field)?;
        }
        writer.write_record(None::<&[u8]>)?;
    }
    writer.flush()?;
    drop(writer);
    std::fs::rename(&tmp, out)?;
    Ok(out.to_path_buf())
}
