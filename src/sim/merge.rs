//! One report from the reports of the workers of a run on several (see
//! `docs/parallel.md`). Each worker measured its own nodes: their sessions,
//! samples and lookups, and its share of the network's traffic; every
//! worker knew the whole network's membership from the timeline. The
//! merged report has the same content as a one-worker report:
//!
//! * sessions, samples and lookups: every worker's, in one order (join
//!   time then node; time then node; finish time, node, start);
//! * the network samples: membership (live nodes, joins, departures) as
//!   every worker counted it; traffic (connections, bytes, messages)
//!   summed over the workers; recall and stale fractions computed again
//!   over every node's sample;
//! * visibility: a node is visible at the first sample of its session at
//!   which, summed over the workers, at least half of its true k closest
//!   hold it (one worker also checks between samples, whenever a table
//!   gains a peer; on several, the times are those of the samples);
//! * departures, abandoned lookups and counters: summed. The trace hash
//!   and the trace's events are left to the caller, which merges the
//!   workers' traces (`trace::places`).

use std::collections::BTreeMap;
use std::time::Duration;

use crate::engine::NodeId;
use crate::metrics::summary::mean;
use crate::metrics::{ClosestHeld, NetworkSample, RunReport, Sample, nearest_rank};

/// Merges the reports of workers `0..n`, given in worker order.
///
/// # Panics
/// If `reports` is empty.
pub fn merge(reports: Vec<RunReport>) -> RunReport {
    let mut reports = reports.into_iter();
    let mut merged = reports.next().expect("a run has at least one worker");
    let mut network = std::mem::take(&mut merged.network_samples);
    for r in reports {
        merged.nodes.extend(r.nodes);
        merged.lookups.extend(r.lookups);
        merged.samples.extend(r.samples);
        merged.holders.extend(r.holders);
        for (mine, theirs) in merged.buckets.iter_mut().zip(&r.buckets) {
            mine.merge(theirs);
        }
        merged.windows.extend(r.windows);
        merged.lookups_abandoned += r.lookups_abandoned;
        merged.departures.graceful += r.departures.graceful;
        merged.departures.crashes += r.departures.crashes;
        merged.virtual_time = merged.virtual_time.max(r.virtual_time);
        merged.complete &= r.complete;
        let (s, t) = (&mut merged.scheduler, r.scheduler);
        s.polls += t.polls;
        s.spawned += t.spawned;
        s.live += t.live;
        s.timers_fired += t.timers_fired;
        s.scenario_events = s.scenario_events.max(t.scenario_events);
        let (n, m) = (&mut merged.network, r.network);
        n.connections += m.connections;
        n.refused += m.refused;
        n.bytes += m.bytes;
        n.writes += m.writes;
        n.open += m.open;
        for (mine, theirs) in network.iter_mut().zip(&r.network_samples) {
            mine.connections += theirs.connections;
            mine.bytes += theirs.bytes;
            mine.messages += theirs.messages;
        }
    }
    merged.nodes.sort_by_key(|r| (r.joined_at, r.index));
    merged.samples.sort_by_key(|s| (s.time, s.node));
    merged
        .lookups
        .sort_by_key(|l| (l.outcome.finished, l.outcome.node, l.outcome.started));
    recompute_network(&mut network, &merged);
    merged.network_samples = network;
    fill_visibility(&mut merged);
    merged.trace_hash.clear();
    merged.trace_events = 0;
    merged.trace_file = None;
    merged.trace_places = None;
    merged
}

/// The recall and stale figures of every network sample, over every
/// node's sample at that time.
fn recompute_network(network: &mut [NetworkSample], report: &RunReport) {
    let mut by_time: BTreeMap<Duration, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
    let mut by_time_samples: BTreeMap<Duration, Vec<&Sample>> = BTreeMap::new();
    for s in &report.samples {
        by_time_samples.entry(s.time).or_default().push(s);
        let (recalls, stale) = by_time.entry(s.time).or_default();
        recalls.extend(s.recall);
        if s.stats.entries > 0 {
            stale.push(s.stale as f64 / s.stats.entries as f64);
        }
    }
    for n in network.iter_mut() {
        let (mut recalls, stale) = by_time.remove(&n.time).unwrap_or_default();
        recalls.sort_by(f64::total_cmp);
        n.recall_mean = mean(recalls.iter().map(|r| Some(*r)));
        n.recall_p10 = nearest_rank(&recalls, 0.1);
        n.stale_fraction_mean = mean(stale.into_iter().map(Some));
        n.closest_held = ClosestHeld::of(by_time_samples.remove(&n.time).unwrap_or_default());
    }
}

/// Each session's visibility: the first sample in it at which the holders
/// summed over the workers are at least half of the node's true k closest.
fn fill_visibility(report: &mut RunReport) {
    let mut counts: BTreeMap<(NodeId, Duration), (u32, u32)> = BTreeMap::new();
    for h in &report.holders {
        let c = counts.entry((h.node, h.time)).or_default();
        c.0 += h.holders;
        c.1 = h.closest;
    }
    for record in &mut report.nodes {
        let end = record.left_at.unwrap_or(Duration::MAX);
        record.visible_at = counts
            .range((record.index, record.joined_at)..=(record.index, end))
            .find(|(_, (holders, closest))| *closest > 0 && 2 * holders >= *closest)
            .map(|((_, t), _)| *t);
    }
}
