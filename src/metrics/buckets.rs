//! How full the k-buckets are, by bucket, against what a uniform network
//! predicts (`buckets.csv`).
//!
//! Bucket `i` holds the peers whose key shares exactly the first `i` bits
//! with the node's own (XOR distance in `[2^(255−i), 2^(256−i))`): bucket 0
//! covers half of the key space, bucket 1 a quarter, and so on. With `N`
//! other live nodes whose keys are uniform, bucket `i` can hold about
//! `N · 2^−(i+1)` of them, and at most k: the expected fill is
//! `min(k, N · 2^−(i+1))`.

use std::time::Duration;

/// At one sample, the entries of every bucket summed over the sampled
/// nodes (of one worker, or of all once merged).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BucketFill {
    /// Virtual time of the sample.
    pub time: Duration,
    /// Nodes sampled.
    pub nodes: u64,
    /// Entries of bucket `i` (shared prefix length), summed over them.
    pub entries: Vec<u64>,
}

impl BucketFill {
    /// An empty fill at `time`.
    pub fn new(time: Duration) -> Self {
        BucketFill {
            time,
            ..BucketFill::default()
        }
    }

    /// Adds one node's buckets: `(shared prefix length, entries)`.
    pub fn add(&mut self, buckets: impl IntoIterator<Item = (usize, usize)>) {
        self.nodes += 1;
        for (i, n) in buckets {
            if self.entries.len() <= i {
                self.entries.resize(i + 1, 0);
            }
            self.entries[i] += n as u64;
        }
    }

    /// Adds another worker's fill of the same sample.
    pub fn merge(&mut self, other: &BucketFill) {
        debug_assert_eq!(self.time, other.time);
        self.nodes += other.nodes;
        if self.entries.len() < other.entries.len() {
            self.entries.resize(other.entries.len(), 0);
        }
        for (mine, theirs) in self.entries.iter_mut().zip(&other.entries) {
            *mine += theirs;
        }
    }

    /// Mean entries of bucket `i` per sampled node.
    pub fn mean(&self, i: usize) -> f64 {
        let sum = self.entries.get(i).copied().unwrap_or(0);
        if self.nodes == 0 {
            0.0
        } else {
            sum as f64 / self.nodes as f64
        }
    }
}

/// `min(k, others · 2^−(i+1))`: the fill of bucket `i` in a uniform network
/// of `others` other nodes.
pub fn expected_fill(k: usize, others: usize, i: usize) -> f64 {
    let share = 0.5f64.powi(i32::try_from(i + 1).unwrap_or(i32::MAX));
    (others as f64 * share).min(k as f64)
}

/// The buckets worth a row: every one up to the last that either holds an
/// entry or is expected to hold at least half of one.
pub fn rows(fill: &BucketFill, k: usize, others: usize) -> usize {
    let held = fill
        .entries
        .iter()
        .rposition(|&n| n > 0)
        .map_or(0, |i| i + 1);
    let expected = (0..256)
        .take_while(|&i| expected_fill(k, others, i) >= 0.5)
        .count();
    held.max(expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_fill_by_hand() {
        // 100 others, k = 20: 50 → 20, 25 → 20, 12.5, 6.25, ...
        assert_eq!(expected_fill(20, 100, 0), 20.0);
        assert_eq!(expected_fill(20, 100, 1), 20.0);
        assert_eq!(expected_fill(20, 100, 2), 12.5);
        assert_eq!(expected_fill(20, 100, 3), 6.25);
        assert_eq!(expected_fill(20, 0, 0), 0.0);
        // 100 · 2^-8 = 0.39 < 0.5: rows 0 to 6.
        assert_eq!(rows(&BucketFill::default(), 20, 100), 7);
    }

    #[test]
    fn fills_add_up_over_nodes_and_workers() {
        let t = Duration::from_secs(30);
        let mut a = BucketFill::new(t);
        a.add([(0, 20), (1, 12), (3, 2)]);
        a.add([(0, 18)]);
        let mut b = BucketFill::new(t);
        b.add([(0, 20), (1, 10), (2, 5), (9, 1)]);
        a.merge(&b);
        assert_eq!(a.nodes, 3);
        assert_eq!(a.entries, vec![58, 22, 5, 2, 0, 0, 0, 0, 0, 1]);
        assert_eq!(a.mean(0), 58.0 / 3.0);
        assert_eq!(a.mean(40), 0.0);
        // The last bucket with an entry sets the rows when it is further.
        assert_eq!(rows(&a, 20, 100), 10);
    }
}
