//! The latency model: per-link one-way latency and the region of each node,
//! both pure functions of the run's seed and the node indices.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::rng;
use crate::scenario::{Latency, Network as NetworkConfig};
use crate::scheduler::NodeId;

/// Per-link one-way latency, fixed for the whole run.
#[derive(Debug, Clone)]
pub struct LatencyModel {
    seed: u64,
    config: NetworkConfig,
    /// Cumulative region shares, for placing nodes.
    cumulative: Vec<f64>,
    /// One-way latencies set for single links, by (lower, higher) node.
    links: BTreeMap<(NodeId, NodeId), Duration>,
}

impl LatencyModel {
    /// A flat network whose links all follow `latency`, under seed `seed`.
    pub fn new(seed: u64, latency: Latency) -> Self {
        Self::from_config(
            seed,
            &NetworkConfig {
                latency,
                ..NetworkConfig::default()
            },
        )
    }

    /// The model of the scenario's `[network]` under run seed `seed`.
    pub fn from_config(seed: u64, config: &NetworkConfig) -> Self {
        let mut acc = 0.0;
        let cumulative = config
            .regions
            .iter()
            .map(|r| {
                acc += r.share;
                acc
            })
            .collect();
        LatencyModel {
            seed,
            config: config.clone(),
            cumulative,
            links: BTreeMap::new(),
        }
    }

    /// The bandwidth and loss of the configuration, `None` if it has
    /// neither.
    pub(crate) fn shaping(&self) -> Option<std::sync::Arc<super::shaping::Shaping>> {
        let config = &self.config;
        let loss_between = (!config.loss_matrix.is_empty()).then(|| {
            let model = self.clone();
            // A node's region is a hash of the seed and the node: computed
            // once per node, not once per write.
            let regions = std::sync::Mutex::new(BTreeMap::<NodeId, Option<usize>>::new());
            let between: super::shaping::LossFn = Box::new(move |a, b| {
                let mut regions = regions.lock().expect("region cache lock");
                let mut region = |n| *regions.entry(n).or_insert_with(|| model.region_of(n));
                match (region(a), region(b)) {
                    (Some(ra), Some(rb)) => model.config.region_loss(ra, rb),
                    _ => model.config.loss.0,
                }
            });
            between
        });
        let rates = super::shaping::Rates {
            loss: config.loss.0,
            loss_between,
            upload_bps: config.upload_bps,
            download_bps: config.download_bps,
        };
        super::shaping::Shaping::new(self.seed, rates)
    }

    /// Sets the one-way latency of the link between `a` and `b`, over
    /// whatever the configuration gives it.
    pub fn set_link(&mut self, a: NodeId, b: NodeId, one_way: Duration) {
        self.links.insert((a.min(b), a.max(b)), one_way);
    }

    /// The region of `node` (an index into the scenario's regions), `None`
    /// in a flat network. Drawn once per node from the seed, with the
    /// regions' shares as probabilities.
    pub fn region_of(&self, node: NodeId) -> Option<usize> {
        if self.cumulative.is_empty() {
            return None;
        }
        let x = rng::derive_u64(self.seed, "region", u64::from(node));
        let u = (x >> 11) as f64 / (1u64 << 53) as f64;
        let i = self.cumulative.iter().position(|c| u < *c);
        Some(i.unwrap_or(self.cumulative.len() - 1))
    }

    /// One-way latency between `a` and `b` (symmetric; `None` stands for an
    /// address that belongs to no node).
    pub fn one_way(&self, a: NodeId, b: Option<NodeId>) -> Duration {
        let b = b.unwrap_or(NodeId::MAX);
        if let Some(d) = self.links.get(&(a.min(b), a.max(b))) {
            return *d;
        }
        let latency = match (self.region_of(a), self.region_of(b)) {
            (Some(ra), Some(rb)) => self.config.region_latency(ra, rb),
            _ => &self.config.latency,
        };
        match *latency {
            Latency::Constant(d) => d,
            Latency::Uniform { min, max } => {
                let (lo, hi) = (a.min(b), a.max(b));
                let link = (u64::from(lo) << 32) | u64::from(hi);
                let span = (max - min).as_nanos() as u64 + 1;
                let x = rng::derive_u64(self.seed, "link-latency", link);
                min + Duration::from_nanos(rng::below(x, span))
            }
        }
    }
}
