//! Headline figures of a run, derived from its report.

use std::time::Duration;

use super::record::{RECALL_LEVELS, RunReport};

/// Percentiles (nearest rank) of a set of durations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Spread {
    /// Number of values.
    pub count: usize,
    /// Median.
    pub p50: Option<Duration>,
    /// 90th percentile.
    pub p90: Option<Duration>,
    /// 99th percentile.
    pub p99: Option<Duration>,
    /// Largest value.
    pub max: Option<Duration>,
}

impl Spread {
    /// The spread of `values` (in any order).
    pub fn of(mut values: Vec<Duration>) -> Spread {
        values.sort();
        Spread {
            count: values.len(),
            p50: nearest_rank(&values, 0.5),
            p90: nearest_rank(&values, 0.9),
            p99: nearest_rank(&values, 0.99),
            max: values.last().copied(),
        }
    }
}

/// Headline figures of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Sessions (joins) in the run.
    pub joins: usize,
    /// Nodes live at the end.
    pub live_end: usize,
    /// Sessions whose first bootstrap query succeeded.
    pub bootstrapped_ok: usize,
    /// Sessions given bootstrap nodes of which none was running at the join.
    pub joins_without_bootstrap: usize,
    /// Time from join to the end of the first bootstrap query.
    pub bootstrap: Spread,
    /// Time from join until the routing table first held 50 %, 90 % and
    /// 100 % of the true k closest live peers.
    pub recall_reached: [Spread; 3],
    /// Time from join until the node was in the tables of half its k closest.
    pub visible: Spread,
    /// Lookup durations.
    pub lookup: Spread,
    /// Lookups that reported `Ok`, over finished lookups.
    pub lookup_ok_rate: Option<f64>,
    /// Mean recall of finished lookups against the key's true k closest.
    pub lookup_recall_mean: Option<f64>,
    /// 10th percentile and median (nearest rank) of that recall.
    pub lookup_recall_p10: Option<f64>,
    /// Median of that recall.
    pub lookup_recall_p50: Option<f64>,
    /// Median, 90th percentile (nearest rank) and maximum of the requests
    /// each finished lookup sent (the peers it contacted).
    pub lookup_requests: [Option<u32>; 3],
    /// Median, 90th percentile (nearest rank) and maximum of the hops of
    /// each finished lookup that returned peers.
    pub lookup_hops: [Option<u32>; 3],
    /// Mean routing-table recall at the last sample.
    pub recall_final: Option<f64>,
    /// Mean over samples of the mean routing-table recall.
    pub recall_time_avg: Option<f64>,
    /// Mean stale fraction at the last sample.
    pub stale_final: Option<f64>,
    /// Mean over samples of the mean stale fraction.
    pub stale_time_avg: Option<f64>,
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

/// Mean of the values present, `None` if there are none.
pub fn mean(values: impl IntoIterator<Item = Option<f64>>) -> Option<f64> {
    let (sum, n) = values
        .into_iter()
        .flatten()
        .fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

impl RunReport {
    /// The headline figures.
    pub fn summary(&self) -> Summary {
        let live: Vec<_> = self.nodes.iter().filter(|r| r.left_at.is_none()).collect();
        let n = live.len().max(1) as f64;
        let last = self.network_samples.last();
        let finished = self.lookups.len();
        let mut lookup_recalls: Vec<f64> = self.lookups.iter().filter_map(|l| l.recall).collect();
        lookup_recalls.sort_by(f64::total_cmp);
        let mut requests: Vec<u32> = self.lookups.iter().map(|l| l.outcome.requests).collect();
        requests.sort_unstable();
        let mut hops: Vec<u32> = self
            .lookups
            .iter()
            .map(|l| l.outcome.hops)
            .filter(|&h| h > 0)
            .collect();
        hops.sort_unstable();
        Summary {
            joins: self.nodes.len(),
            live_end: live.len(),
            bootstrapped_ok: self
                .nodes
                .iter()
                .filter(|r| r.first_bootstrap.is_some_and(|b| b.ok))
                .count(),
            joins_without_bootstrap: self.nodes.iter().filter(|r| r.bootstrap_gone()).count(),
            bootstrap: Spread::of(
                self.nodes
                    .iter()
                    .filter_map(|r| r.bootstrap_latency())
                    .collect(),
            ),
            recall_reached: std::array::from_fn(|i| {
                Spread::of(
                    self.nodes
                        .iter()
                        .filter_map(|r| r.recall_latency(i))
                        .collect(),
                )
            }),
            visible: Spread::of(
                self.nodes
                    .iter()
                    .filter_map(|r| r.visible_latency())
                    .collect(),
            ),
            lookup: Spread::of(
                self.lookups
                    .iter()
                    .map(|l| l.outcome.finished.saturating_sub(l.outcome.started))
                    .collect(),
            ),
            lookup_ok_rate: (finished > 0).then(|| {
                self.lookups.iter().filter(|l| l.outcome.ok).count() as f64 / finished as f64
            }),
            lookup_recall_mean: mean(self.lookups.iter().map(|l| l.recall)),
            lookup_recall_p10: nearest_rank(&lookup_recalls, 0.1),
            lookup_recall_p50: nearest_rank(&lookup_recalls, 0.5),
            lookup_requests: [0.5, 0.9, 1.0].map(|q| nearest_rank(&requests, q)),
            lookup_hops: [0.5, 0.9, 1.0].map(|q| nearest_rank(&hops, q)),
            recall_final: last.and_then(|s| s.recall_mean),
            recall_time_avg: mean(self.network_samples.iter().map(|s| s.recall_mean)),
            stale_final: last.and_then(|s| s.stale_fraction_mean),
            stale_time_avg: mean(self.network_samples.iter().map(|s| s.stale_fraction_mean)),
            mean_entries_end: live.iter().map(|r| r.end.entries as f64).sum::<f64>() / n,
            mean_connected_end: live
                .iter()
                .map(|r| r.end.connected_peers as f64)
                .sum::<f64>()
                / n,
        }
    }
}

/// Names of the recall levels in file columns: `50`, `90`, `100`.
pub fn level_name(i: usize) -> String {
    format!("{}", (RECALL_LEVELS[i] * 100.0).round() as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: &[u64]) -> Vec<Duration> {
        v.iter().map(|m| Duration::from_millis(*m)).collect()
    }

    #[test]
    fn nearest_rank_percentiles() {
        let s = Spread::of(ms(&[50, 10, 40, 20, 30, 60, 70, 80, 90, 100]));
        assert_eq!(s.count, 10);
        assert_eq!(s.p50, Some(Duration::from_millis(50)));
        assert_eq!(s.p90, Some(Duration::from_millis(90)));
        assert_eq!(s.p99, Some(Duration::from_millis(100)));
        assert_eq!(s.max, Some(Duration::from_millis(100)));
        assert_eq!(Spread::of(vec![]), Spread::default());
        assert_eq!(Spread::of(ms(&[7])).p50, Some(Duration::from_millis(7)));
    }

    #[test]
    fn lookup_requests_hops_and_recall_percentiles_by_hand() {
        use crate::metrics::{LookupOutcome, LookupRecord};
        let lookup = |requests: u32, recall: Option<f64>| LookupRecord {
            outcome: LookupOutcome {
                node: 0,
                key: libp2p::PeerId::random(),
                started: Duration::ZERO,
                finished: Duration::from_secs(1),
                ok: true,
                peers: Vec::new(),
                hops: requests / 3,
                requests,
                successes: requests,
                failures: 0,
            },
            recall,
        };
        let mut r = crate::metrics::Recorder::new(
            &crate::scenario::Scenario::parse(
                "name = \"t\"\nduration = \"1m\"\n[[join]]\ncount = 2\n",
                "t",
            )
            .expect("valid"),
            1,
        );
        let lookups = [
            (9, Some(0.5)),
            (3, Some(1.0)),
            (12, None),
            (6, Some(0.9)),
            (2, None),
        ];
        for (requests, recall) in lookups {
            r.lookup(lookup(requests, recall));
        }
        let s = r
            .finish(Duration::ZERO, Default::default(), Default::default())
            .summary();
        // Requests 2, 3, 6, 9, 12: median the 3rd, p90 the 5th.
        assert_eq!(s.lookup_requests, [Some(6), Some(12), Some(12)]);
        // Hops 1, 2, 3, 4 (the lookup of 0 hops returned no peers and does
        // not count): median the 2nd, p90 the 4th.
        assert_eq!(s.lookup_hops, [Some(2), Some(4), Some(4)]);
        // Recalls 0.5, 0.9, 1.0 (one lookup had none): p10 the 1st, median the 2nd.
        assert_eq!(
            (s.lookup_recall_p10, s.lookup_recall_p50),
            (Some(0.5), Some(0.9))
        );
    }

    #[test]
    fn mean_skips_missing_values() {
        assert_eq!(mean([Some(1.0), None, Some(0.0)]), Some(0.5));
        assert_eq!(mean([None, None]), None);
    }
}
