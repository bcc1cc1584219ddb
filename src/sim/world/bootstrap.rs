//! The bootstrap nodes each joiner is given (`[bootstrap]` of a scenario).
//!
//! Nodes `0..nodes` are the bootstrap nodes: the first nodes of the
//! `[[join]]` workloads (node indices follow the workloads in file order and
//! join order within one). A joiner is given the bootstrap nodes that have
//! joined by then, other than itself: all of them, or `per_joiner` drawn
//! from the run's `"bootstrap"` stream. Every worker makes the same draws in
//! the same order, since every worker applies every join of the timeline;
//! a draw is made only when there are more candidates than `per_joiner`, so
//! a scenario with one bootstrap node draws nothing.

use rand_chacha::ChaCha12Rng;

use crate::engine::NodeId;
use crate::rng;
use crate::scenario::Bootstrap;

/// Who is a bootstrap node, and the draws of each joiner's list.
pub(in crate::sim) struct BootstrapList {
    nodes: u32,
    per_joiner: Option<u32>,
    rng: ChaCha12Rng,
}

impl BootstrapList {
    /// The bootstrap nodes of `bootstrap` under `seed`.
    pub fn new(bootstrap: Bootstrap, seed: u64) -> Self {
        BootstrapList {
            nodes: bootstrap.nodes,
            per_joiner: bootstrap.per_joiner,
            rng: rng::stream(seed, "bootstrap", 0),
        }
    }

    /// Whether node `i` is a bootstrap node (never picked by churn or by a
    /// `[[leave]] count`).
    pub fn is_bootstrap(&self, i: NodeId) -> bool {
        i < self.nodes
    }

    /// The bootstrap nodes given to joiner `i`, in index order: of the
    /// bootstrap nodes for which `joined` holds, other than `i`, all, or
    /// `per_joiner` of them drawn from the seed.
    pub fn pick(&mut self, i: NodeId, joined: impl Fn(NodeId) -> bool) -> Vec<NodeId> {
        let mut candidates: Vec<NodeId> =
            (0..self.nodes).filter(|&b| b != i && joined(b)).collect();
        let want = self.per_joiner.map_or(candidates.len(), |m| m as usize);
        if candidates.len() <= want {
            return candidates;
        }
        let mut chosen = Vec::with_capacity(want);
        while chosen.len() < want {
            let k = rng::gen_below(&mut self.rng, candidates.len() as u64) as usize;
            chosen.push(candidates.swap_remove(k));
        }
        chosen.sort_unstable();
        chosen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(nodes: u32, per_joiner: Option<u32>) -> BootstrapList {
        BootstrapList::new(Bootstrap { nodes, per_joiner }, 7)
    }

    #[test]
    fn one_bootstrap_node_is_given_to_everyone_but_itself() {
        let mut l = list(1, None);
        assert!(l.is_bootstrap(0) && !l.is_bootstrap(1));
        assert_eq!(l.pick(0, |_| true), Vec::<NodeId>::new());
        assert_eq!(l.pick(5, |_| true), vec![0]);
        assert_eq!(l.pick(5, |_| false), Vec::<NodeId>::new());
    }

    #[test]
    fn a_joiner_is_given_those_that_joined_before_it() {
        let mut l = list(4, None);
        // Node 2 joins after 0 and 1, before 3.
        assert_eq!(l.pick(2, |b| b < 2), vec![0, 1]);
        assert_eq!(l.pick(9, |_| true), vec![0, 1, 2, 3]);
        assert_eq!(l.pick(3, |_| true), vec![0, 1, 2]);
    }

    #[test]
    fn a_subset_is_drawn_from_the_seed_in_index_order() {
        let mut l = list(6, Some(2));
        let mut again = list(6, Some(2));
        let mut seen = [0u32; 6];
        for joiner in 10..610 {
            let given = l.pick(joiner, |_| true);
            assert_eq!(given, again.pick(joiner, |_| true), "same seed, same draw");
            assert_eq!(given.len(), 2);
            assert!(given[0] < given[1], "{given:?}");
            for b in given {
                seen[b as usize] += 1;
            }
        }
        // 1,200 picks over 6 nodes: 200 each on average, every one used.
        assert!(seen.iter().all(|&n| (120..=280).contains(&n)), "{seen:?}");
        // Fewer candidates than per_joiner: all of them, and no draw.
        let mut few = list(6, Some(2));
        assert_eq!(few.pick(1, |b| b == 0), vec![0]);
        assert_eq!(few.pick(20, |_| true), list(6, Some(2)).pick(20, |_| true));
    }
}
