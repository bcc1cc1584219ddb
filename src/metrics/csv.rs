//! The CSV files of a run. Columns are documented in `docs/outputs.md`.
//! Numbers are plain: integers for counts and milliseconds, four decimals
//! for fractions; a missing value is an empty field. Files are RFC 4180 CSV
//! written atomically ([`crate::csvfile`]).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::buckets::{self, expected_fill};
use super::record::{RunReport, ms};
use super::summary::{Spread, level_name};
use crate::csvfile::{CsvBuf, metric_values, write_atomic};

/// Appends a row of values formatted with `Display`.
macro_rules! row {
    ($out:expr, $($field:expr),+ $(,)?) => {
        $out.row([$($field.to_string()),+])
    };
}

fn opt_ms(d: Option<Duration>) -> String {
    d.map(|d| ms(d).to_string()).unwrap_or_default()
}

fn opt_u(x: Option<u32>) -> String {
    x.map(|v| v.to_string()).unwrap_or_default()
}

fn opt_f(x: Option<f64>) -> String {
    x.map(|x| format!("{x:.4}")).unwrap_or_default()
}

impl RunReport {
    /// Writes the CSV files into `dir` (created if needed). Returns the
    /// paths written.
    pub fn write_csv(&self, dir: &Path) -> io::Result<Vec<PathBuf>> {
        fs::create_dir_all(dir)?;
        let files = [
            ("discovery.csv", self.discovery_csv()),
            ("routing_table.csv", self.routing_table_csv()),
            ("network.csv", self.network_csv()),
            ("lookups.csv", self.lookups_csv()),
            ("buckets.csv", self.buckets_csv()),
            ("summary.csv", self.summary_csv()),
        ];
        files
            .into_iter()
            .map(|(name, body)| {
                let path = dir.join(name);
                write_atomic(&path, &body)?;
                Ok(path)
            })
            .collect()
    }

    fn discovery_csv(&self) -> String {
        let mut out = CsvBuf::new([
            "node",
            "peer_id",
            "join_ms",
            "left_ms",
            "first_bootstrap_ms",
            "first_bootstrap_ok",
            "recall50_ms",
            "recall90_ms",
            "recall100_ms",
            "visible_ms",
            "rt_entries_end",
            "rt_buckets_end",
            "connected_peers_end",
            "bootstrap_peers",
            "bootstrap_live",
        ]);
        for r in &self.nodes {
            row!(
                out,
                r.index,
                r.peer_id,
                ms(r.joined_at),
                opt_ms(r.left_at),
                opt_ms(r.bootstrap_latency()),
                r.first_bootstrap
                    .map(|b| b.ok.to_string())
                    .unwrap_or_default(),
                opt_ms(r.recall_latency(0)),
                opt_ms(r.recall_latency(1)),
                opt_ms(r.recall_latency(2)),
                opt_ms(r.visible_latency()),
                r.end.entries,
                r.end.nonempty_buckets,
                r.end.connected_peers,
                r.bootstrap_peers,
                r.bootstrap_live,
            );
        }
        out.finish()
    }

    fn routing_table_csv(&self) -> String {
        let mut out = CsvBuf::new([
            "time_ms",
            "node",
            "entries",
            "nonempty_buckets",
            "stale_entries",
            "kclosest_recall",
            "connected_peers",
            "kclosest",
            "kclosest_held",
        ]);
        for s in &self.samples {
            row!(
                out,
                ms(s.time),
                s.node,
                s.stats.entries,
                s.stats.nonempty_buckets,
                s.stale,
                opt_f(s.recall),
                s.stats.connected_peers,
                s.closest,
                s.closest_held,
            );
        }
        out.finish()
    }

    fn network_csv(&self) -> String {
        let mut out = CsvBuf::new([
            "time_ms",
            "live_nodes",
            "joins",
            "departures",
            "connections_open",
            "bytes",
            "messages",
            "recall_mean",
            "recall_p10",
            "stale_fraction_mean",
            "kclosest_all_fraction",
            "kclosest_missing3_fraction",
            "kclosest_below5_fraction",
        ]);
        for s in &self.network_samples {
            row!(
                out,
                ms(s.time),
                s.live,
                s.joins,
                s.departures,
                s.connections,
                s.bytes,
                s.messages,
                opt_f(s.recall_mean),
                opt_f(s.recall_p10),
                opt_f(s.stale_fraction_mean),
                opt_f(s.closest_held.all),
                opt_f(s.closest_held.missing3),
                opt_f(s.closest_held.below5),
            );
        }
        out.finish()
    }

    fn buckets_csv(&self) -> String {
        let mut out = CsvBuf::new(["time_ms", "bucket", "nodes", "mean_entries", "expected"]);
        for fill in &self.buckets {
            let live = self
                .network_samples
                .iter()
                .find(|n| n.time == fill.time)
                .map_or(0, |n| n.live);
            let others = live.saturating_sub(1);
            for i in 0..buckets::rows(fill, self.k, others) {
                row!(
                    out,
                    ms(fill.time),
                    i,
                    fill.nodes,
                    format!("{:.3}", fill.mean(i)),
                    format!("{:.3}", expected_fill(self.k, others, i)),
                );
            }
        }
        out.finish()
    }

    fn lookups_csv(&self) -> String {
        let mut out = CsvBuf::new([
            "start_ms",
            "node",
            "key",
            "duration_ms",
            "ok",
            "peers",
            "recall",
            "hops",
            "requests",
            "successes",
            "failures",
        ]);
        for l in &self.lookups {
            let o = &l.outcome;
            row!(
                out,
                ms(o.started),
                o.node,
                o.key,
                ms(o.finished.saturating_sub(o.started)),
                o.ok,
                o.peers.len(),
                opt_f(l.recall),
                o.hops,
                o.requests,
                o.successes,
                o.failures,
            );
        }
        out.finish()
    }

    fn summary_csv(&self) -> String {
        let s = self.summary();
        let mut rows: Vec<(String, String)> = vec![
            ("scenario".into(), self.scenario.clone()),
            ("seed".into(), self.seed.to_string()),
            ("complete".into(), self.complete.to_string()),
            ("trace_hash".into(), self.trace_hash.clone()),
            ("trace_events".into(), self.trace_events.to_string()),
            ("joins".into(), s.joins.to_string()),
            ("live_end".into(), s.live_end.to_string()),
            ("virtual_time_ms".into(), ms(self.virtual_time).to_string()),
            ("bootstrapped".into(), s.bootstrap.count.to_string()),
            ("bootstrapped_ok".into(), s.bootstrapped_ok.to_string()),
            (
                "joins_without_bootstrap".into(),
                s.joins_without_bootstrap.to_string(),
            ),
        ];
        let mut spread = |name: &str, sp: &Spread| {
            rows.push((format!("{name}_count"), sp.count.to_string()));
            for (q, v) in [
                ("p50", sp.p50),
                ("p90", sp.p90),
                ("p99", sp.p99),
                ("max", sp.max),
            ] {
                rows.push((format!("{name}_{q}_ms"), opt_ms(v)));
            }
        };
        spread("first_bootstrap", &s.bootstrap);
        for (i, sp) in s.recall_reached.iter().enumerate() {
            spread(&format!("recall{}", level_name(i)), sp);
        }
        spread("visible", &s.visible);
        spread("lookup", &s.lookup);
        rows.extend([
            ("lookups_ok_rate".into(), opt_f(s.lookup_ok_rate)),
            ("lookups_recall_mean".into(), opt_f(s.lookup_recall_mean)),
            ("lookups_recall_p10".into(), opt_f(s.lookup_recall_p10)),
            ("lookups_recall_p50".into(), opt_f(s.lookup_recall_p50)),
            ("lookup_requests_p50".into(), opt_u(s.lookup_requests[0])),
            ("lookup_requests_p90".into(), opt_u(s.lookup_requests[1])),
            ("lookup_requests_max".into(), opt_u(s.lookup_requests[2])),
            ("lookup_hops_p50".into(), opt_u(s.lookup_hops[0])),
            ("lookup_hops_p90".into(), opt_u(s.lookup_hops[1])),
            ("lookup_hops_max".into(), opt_u(s.lookup_hops[2])),
            (
                "lookups_abandoned".into(),
                self.lookups_abandoned.to_string(),
            ),
            ("recall_final".into(), opt_f(s.recall_final)),
            ("recall_time_avg".into(), opt_f(s.recall_time_avg)),
            ("stale_fraction_final".into(), opt_f(s.stale_final)),
            ("stale_fraction_time_avg".into(), opt_f(s.stale_time_avg)),
            (
                "rt_entries_mean_end".into(),
                format!("{:.3}", s.mean_entries_end),
            ),
            (
                "connected_peers_mean_end".into(),
                format!("{:.3}", s.mean_connected_end),
            ),
            (
                "departures_graceful".into(),
                self.departures.graceful.to_string(),
            ),
            ("crashes".into(), self.departures.crashes.to_string()),
            (
                "connections_opened".into(),
                self.network.connections.to_string(),
            ),
            ("dials_refused".into(), self.network.refused.to_string()),
            ("bytes".into(), self.network.bytes.to_string()),
            ("writes".into(), self.network.writes.to_string()),
            ("task_polls".into(), self.scheduler.polls.to_string()),
            ("tasks_spawned".into(), self.scheduler.spawned.to_string()),
            (
                "timers_fired".into(),
                self.scheduler.timers_fired.to_string(),
            ),
            (
                "scenario_events".into(),
                self.scheduler.scenario_events.to_string(),
            ),
            ("events".into(), self.scheduler.events().to_string()),
        ]);
        metric_values(rows)
    }
}
