//! What a run measures, and the CSV files it writes.
//!
//! Files (all times in milliseconds of virtual time, integers):
//!
//! * `discovery.csv`: one row per node per join (a node that rejoins has a
//!   row per session), in join order. `node`, `peer_id`, `join_ms` (when
//!   it joined), `left_ms` (when it left; empty if live at the end),
//!   `first_bootstrap_ms` (time from its join until its first Kademlia
//!   bootstrap query reported its last step; empty if that never
//!   happened), `first_bootstrap_ok` (`true`/`false`, empty if none),
//!   `rt_entries_end`, `rt_buckets_end`, `connected_peers_end` (routing
//!   table and connections when the session ended: at its departure or at
//!   the end of the run).
//! * `lookups.csv`: one row per finished lookup of a `[[lookups]]`
//!   workload, in finishing order (ties by start, then node). `start_ms`, `node`, `key`,
//!   `duration_ms`, `ok` (Kademlia reported success rather than timeout),
//!   `peers` (peers returned), `requests`, `successes`, `failures`
//!   (Kademlia's query statistics).
//! * `routing_table.csv`: one row per node per sample. `time_ms`, `node`,
//!   `entries` (entries over all k-buckets), `nonempty_buckets`,
//!   `connected_peers` (peers with an open connection). Samples are taken
//!   every `sample_interval` of virtual time, for every node joined by then.
//! * `summary.csv`: one `metric,value` row per figure of the run summary.

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use libp2p::PeerId;

use crate::net::NetStats;
use crate::node::{BootstrapOutcome, LookupOutcome, TableStats};
use crate::scenario::Scenario;
use crate::scheduler::{NodeId, SchedulerStats};

/// One session of a node: from a join to its departure or the end of the run.
#[derive(Debug, Clone)]
pub struct NodeRecord {
    /// Node index.
    pub index: NodeId,
    /// Its peer id.
    pub peer_id: PeerId,
    /// Virtual time it joined.
    pub joined_at: Duration,
    /// End of its first bootstrap query, if any.
    pub first_bootstrap: Option<BootstrapOutcome>,
    /// When it left, if it did.
    pub left_at: Option<Duration>,
    /// Routing table and connections at the end of the session.
    pub end: TableStats,
}

impl NodeRecord {
    /// Time from join until the first bootstrap query ended.
    pub fn bootstrap_latency(&self) -> Option<Duration> {
        self.first_bootstrap
            .map(|b| b.at.saturating_sub(self.joined_at))
    }
}

/// One routing-table sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// Virtual time of the sample.
    pub time: Duration,
    /// Node index.
    pub node: NodeId,
    /// The figures.
    pub stats: TableStats,
}

/// Collects what a run measures as it happens.
pub struct Recorder {
    scenario: String,
    seed: u64,
    samples: Vec<Sample>,
    sessions: Vec<NodeRecord>,
    lookups: Vec<LookupOutcome>,
    lookups_abandoned: u64,
    departures: Departures,
}

impl Recorder {
    /// A recorder for a run of `scenario` with `seed`.
    pub fn new(scenario: &Scenario, seed: u64) -> Self {
        Recorder {
            scenario: scenario.name.clone(),
            seed,
            samples: Vec::new(),
            sessions: Vec::new(),
            lookups: Vec::new(),
            lookups_abandoned: 0,
            departures: Departures::default(),
        }
    }

    /// Records one node's figures at `time`.
    pub fn sample(&mut self, time: Duration, node: NodeId, stats: TableStats) {
        self.samples.push(Sample { time, node, stats });
    }

    /// Records a session that ended (by departure or by the end of the run).
    pub fn session(&mut self, record: NodeRecord) {
        self.sessions.push(record);
    }

    /// Records finished lookups.
    pub fn lookups(&mut self, done: impl IntoIterator<Item = LookupOutcome>) {
        self.lookups.extend(done);
    }

    /// Records a departure; `abandoned` lookups of the node were in flight.
    pub fn departed(&mut self, crash: bool, abandoned: usize) {
        if crash {
            self.departures.crashes += 1;
        } else {
            self.departures.graceful += 1;
        }
        self.lookups_abandoned += abandoned as u64;
    }

    /// The report of the finished run.
    pub fn finish(
        mut self,
        virtual_time: Duration,
        scheduler: SchedulerStats,
        network: NetStats,
    ) -> RunReport {
        self.sessions.sort_by_key(|r| (r.joined_at, r.index));
        self.lookups.sort_by_key(|l| (l.finished, l.started, l.node));
        RunReport {
            scenario: self.scenario,
            seed: self.seed,
            nodes: self.sessions,
            lookups: self.lookups,
            lookups_abandoned: self.lookups_abandoned,
            departures: self.departures,
            samples: self.samples,
            virtual_time,
            scheduler,
            network,
        }
    }
}

/// Everything a finished run measured.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// Scenario name.
    pub scenario: String,
    /// Seed of the run.
    pub seed: u64,
    /// One record per session (join), in join order.
    pub nodes: Vec<NodeRecord>,
    /// Finished lookups, in finishing order.
    pub lookups: Vec<LookupOutcome>,
    /// Lookups whose node left before they finished.
    pub lookups_abandoned: u64,
    /// Graceful departures and crashes during the run.
    pub departures: Departures,
    /// Routing-table samples, in time then node order.
    pub samples: Vec<Sample>,
    /// Virtual time the run reached.
    pub virtual_time: Duration,
    /// Scheduler counters.
    pub scheduler: SchedulerStats,
    /// Network counters.
    pub network: NetStats,
}

/// How many nodes left during a run, and how.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Departures {
    /// Graceful departures.
    pub graceful: u64,
    /// Crashes.
    pub crashes: u64,
}

/// Headline figures of a run, derived from its report.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Sessions (joins) in the run.
    pub nodes: usize,
    /// Nodes live at the end.
    pub live_end: usize,
    /// Nodes whose first bootstrap query succeeded.
    pub bootstrapped_ok: usize,
    /// Nodes whose first bootstrap query ended (either way).
    pub bootstrapped: usize,
    /// Median, 90th percentile and maximum of time from join to first
    /// bootstrap end, over nodes that have one (nearest-rank).
    pub bootstrap_p50: Option<Duration>,
    /// See `bootstrap_p50`.
    pub bootstrap_p90: Option<Duration>,
    /// See `bootstrap_p50`.
    pub bootstrap_max: Option<Duration>,
    /// Mean routing-table entries at the end, over live nodes.
    pub mean_entries_end: f64,
    /// Mean connected peers at the end, over live nodes.
    pub mean_connected_end: f64,
}

/// The `q`-quantile (0..=1) of sorted `xs` by nearest rank.
pub fn nearest_rank<T: Copy>(sorted: &[T], q: f64) -> Option<T> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil().max(1.0) as usize;
    Some(sorted[rank.min(sorted.len()) - 1])
}

impl RunReport {
    /// The headline figures.
    pub fn summary(&self) -> Summary {
        let mut lat: Vec<Duration> = self
            .nodes
            .iter()
            .filter_map(|n| n.bootstrap_latency())
            .collect();
        lat.sort();
        let live: Vec<&NodeRecord> = self.nodes.iter().filter(|r| r.left_at.is_none()).collect();
        let n = live.len().max(1) as f64;
        Summary {
            live_end: live.len(),
            nodes: self.nodes.len(),
            bootstrapped_ok: self
                .nodes
                .iter()
                .filter(|r| r.first_bootstrap.is_some_and(|b| b.ok))
                .count(),
            bootstrapped: lat.len(),
            bootstrap_p50: nearest_rank(&lat, 0.5),
            bootstrap_p90: nearest_rank(&lat, 0.9),
            bootstrap_max: lat.last().copied(),
            mean_entries_end: live.iter().map(|r| r.end.entries as f64).sum::<f64>() / n,
            mean_connected_end: live
                .iter()
                .map(|r| r.end.connected_peers as f64)
                .sum::<f64>()
                / n,
        }
    }

    /// Writes the CSV files into `dir` (created if needed). Each file is
    /// written under a temporary name and renamed, so a file that exists is
    /// complete. Returns the paths written.
    pub fn write_csv(&self, dir: &Path) -> io::Result<Vec<PathBuf>> {
        fs::create_dir_all(dir)?;
        let files = [
            ("discovery.csv", self.discovery_csv()),
            ("routing_table.csv", self.routing_table_csv()),
            ("lookups.csv", self.lookups_csv()),
            ("summary.csv", self.summary_csv()),
        ];
        let mut written = Vec::new();
        for (name, body) in files {
            let path = dir.join(name);
            let tmp = dir.join(format!(".{name}.tmp"));
            fs::write(&tmp, body)?;
            fs::rename(&tmp, &path)?;
            written.push(path);
        }
        Ok(written)
    }

    fn discovery_csv(&self) -> String {
        let mut out = String::from(
            "node,peer_id,join_ms,left_ms,first_bootstrap_ms,first_bootstrap_ok,rt_entries_end,rt_buckets_end,connected_peers_end\n",
        );
        for r in &self.nodes {
            let (lat, ok) = match (r.bootstrap_latency(), r.first_bootstrap) {
                (Some(l), Some(b)) => (ms(l).to_string(), b.ok.to_string()),
                _ => (String::new(), String::new()),
            };
            writeln!(
                out,
                "{},{},{},{},{},{},{},{},{}",
                r.index,
                r.peer_id,
                ms(r.joined_at),
                r.left_at.map(|t| ms(t).to_string()).unwrap_or_default(),
                lat,
                ok,
                r.end.entries,
                r.end.nonempty_buckets,
                r.end.connected_peers
            )
            .expect("writing to a String cannot fail");
        }
        out
    }

    fn lookups_csv(&self) -> String {
        let mut out =
            String::from("start_ms,node,key,duration_ms,ok,peers,requests,successes,failures\n");
        for l in &self.lookups {
            writeln!(
                out,
                "{},{},{},{},{},{},{},{},{}",
                ms(l.started),
                l.node,
                l.key,
                ms(l.finished.saturating_sub(l.started)),
                l.ok,
                l.peers.len(),
                l.requests,
                l.successes,
                l.failures
            )
            .expect("writing to a String cannot fail");
        }
        out
    }

    fn routing_table_csv(&self) -> String {
        let mut out = String::from("time_ms,node,entries,nonempty_buckets,connected_peers\n");
        for s in &self.samples {
            writeln!(
                out,
                "{},{},{},{},{}",
                ms(s.time),
                s.node,
                s.stats.entries,
                s.stats.nonempty_buckets,
                s.stats.connected_peers
            )
            .expect("writing to a String cannot fail");
        }
        out
    }

    fn summary_csv(&self) -> String {
        let s = self.summary();
        let opt = |d: Option<Duration>| d.map(|d| ms(d).to_string()).unwrap_or_default();
        let rows = [
            ("scenario", self.scenario.clone()),
            ("seed", self.seed.to_string()),
            ("joins", s.nodes.to_string()),
            ("live_end", s.live_end.to_string()),
            ("virtual_time_ms", ms(self.virtual_time).to_string()),
            ("bootstrapped", s.bootstrapped.to_string()),
            ("bootstrapped_ok", s.bootstrapped_ok.to_string()),
            ("first_bootstrap_p50_ms", opt(s.bootstrap_p50)),
            ("first_bootstrap_p90_ms", opt(s.bootstrap_p90)),
            ("first_bootstrap_max_ms", opt(s.bootstrap_max)),
            ("rt_entries_mean_end", format!("{:.3}", s.mean_entries_end)),
            (
                "connected_peers_mean_end",
                format!("{:.3}", s.mean_connected_end),
            ),
            ("connections_opened", self.network.connections.to_string()),
            ("dials_refused", self.network.refused.to_string()),
            ("bytes", self.network.bytes.to_string()),
            ("writes", self.network.writes.to_string()),
            ("departures_graceful", self.departures.graceful.to_string()),
            ("crashes", self.departures.crashes.to_string()),
            ("lookups_finished", self.lookups.len().to_string()),
            (
                "lookups_ok",
                self.lookups.iter().filter(|l| l.ok).count().to_string(),
            ),
            ("lookups_abandoned", self.lookups_abandoned.to_string()),
            ("task_polls", self.scheduler.polls.to_string()),
            ("tasks_spawned", self.scheduler.spawned.to_string()),
        ];
        let mut out = String::from("metric,value\n");
        for (k, v) in rows {
            writeln!(out, "{k},{v}").expect("writing to a String cannot fail");
        }
        out
    }
}

/// Whole milliseconds of `d`, rounded down.
pub fn ms(d: Duration) -> u128 {
    d.as_millis()
}
