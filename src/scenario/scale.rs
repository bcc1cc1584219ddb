//! One scenario at another size: `sim run --nodes N` and `sim bench`.
//!
//! Scaling changes how many nodes join and nothing else that would change
//! the experiment's meaning:
//!
//! * every `[[join]]` count is multiplied by `N / (sum of counts)`, rounded,
//!   with the rounding remainder given to the first workload so the counts add
//!   up to exactly `N` (each workload keeps at least one node);
//! * `arrival = "even"` workloads keep their spacing (`over / count`), so a
//!   storm of joins 2 ms apart stays 2 ms apart; other workloads keep their
//!   window, so more nodes join in the same time;
//! * `[[leave]] count` scales like the joins; churn, lookups (a rate over the
//!   whole network), partitions and asserts are kept as written;
//! * the name becomes `<name>-<N>`, so scaled runs get their own output
//!   directory.
//!
//! The scaled scenario is rendered to TOML and validated again, so a scaling
//! that breaks a rule (an even storm longer than `duration`) is reported as the
//! usual error, and the file `sim bench` writes beside its results reproduces
//! the run on its own.

use super::{LeaveWho, Scenario, ScenarioError};
use crate::scenario::Arrival;

impl Scenario {
    /// This scenario with `nodes` nodes in its `[[join]]` workloads (see the
    /// module documentation for what changes).
    pub fn scaled(&self, nodes: u32) -> Result<Scenario, ScenarioError> {
        let total = self.node_count() as u64;
        let factor = f64::from(nodes) / total as f64;
        let mut out = self.clone();
        let mut counts: Vec<u32> = self
            .joins
            .iter()
            .map(|j| ((f64::from(j.count) * factor).round() as u32).max(1))
            .collect();
        let sum: i64 = counts.iter().map(|&c| i64::from(c)).sum();
        let first = i64::from(counts[0]) + i64::from(nodes) - sum;
        counts[0] = u32::try_from(first.max(1)).unwrap_or(1);
        for (join, count) in out.joins.iter_mut().zip(counts) {
            if join.arrival == Arrival::Even {
                join.over = join.over / join.count * count;
            }
            join.count = count;
        }
        for leave in &mut out.leaves {
            if let LeaveWho::Count(c) = &mut leave.who {
                *c = ((f64::from(*c) * factor).round() as u32).max(1);
            }
        }
        out.name = format!("{}-{nodes}", self.name);
        if !self.description.is_empty() {
            out.description = format!("{} (scaled to {nodes} nodes)", self.description);
        }
        Scenario::parse(
            &out.to_toml(),
            &format!("{} scaled to {nodes} nodes", self.name),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const STORM: &str = r#"
name = "storm"
description = "d"
duration = "10m"
[[join]]
count = 300
over = "600ms"
arrival = "even"
"#;

    #[test]
    fn even_joins_keep_their_spacing() {
        let s = Scenario::parse(STORM, "storm.toml").expect("valid");
        let big = s.scaled(1000).expect("valid at 1000");
        assert_eq!(big.node_count(), 1000);
        assert_eq!(big.joins[0].over, Duration::from_millis(2000));
        assert_eq!(big.name, "storm-1000");
        assert_eq!(big.description, "d (scaled to 1000 nodes)");
        let small = s.scaled(100).expect("valid at 100");
        assert_eq!(small.joins[0].over, Duration::from_millis(200));
    }

    #[test]
    fn counts_add_up_and_windows_stay() {
        let src = r#"
name = "two"
duration = "20m"
[[join]]
count = 200
over = "1m"
[[join]]
at = "5m"
count = 100
over = "10m"
arrival = "poisson"
[[leave]]
at = "6m"
count = 10
"#;
        let s = Scenario::parse(src, "two.toml").expect("valid");
        for n in [3, 100, 1000, 2999] {
            let t = s.scaled(n).expect("valid");
            assert_eq!(t.node_count(), n as usize, "n = {n}");
            assert_eq!(t.joins[0].over, Duration::from_secs(60));
            assert_eq!(t.joins[1].over, Duration::from_secs(600));
        }
        let t = s.scaled(1000).expect("valid");
        assert_eq!((t.joins[0].count, t.joins[1].count), (667, 333));
        assert_eq!(t.leaves[0].who, LeaveWho::Count(33));
    }

    #[test]
    fn a_scaling_that_breaks_a_rule_is_an_error() {
        // 100,000 joins 2 ms apart need 200 s; the scenario lasts 10 minutes,
        // so this one fits, but a 1-second scenario does not.
        let short = STORM.replace("\"10m\"", "\"1s\"");
        let s = Scenario::parse(&short, "storm.toml").expect("valid");
        let err = s.scaled(1000).expect_err("2 s of joins in a 1 s run");
        assert!(err.to_string().contains("join[0].over"), "{err}");
    }
}
