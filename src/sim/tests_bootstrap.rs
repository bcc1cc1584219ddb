//! Several bootstrap nodes (`[bootstrap]`): who is given which, and what a
//! joiner whose bootstrap nodes are all gone gets.

use std::time::Duration;

use super::tests::{base, go};
use crate::metrics::RunReport;
use crate::scenario::{Bootstrap, Departure, Join, Leave, LeaveWho, Scenario};

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Two nodes join at once; node 0 leaves at 5 s; five more join from 10 s.
fn first_node_leaves(bootstrap: Bootstrap) -> Scenario {
    let mut s = base(2, secs(60));
    s.joins[0].over = secs(1);
    s.joins.push(Join {
        at: secs(10),
        count: 5,
        over: secs(5),
        arrival: Default::default(),
    });
    s.leaves.push(Leave {
        at: secs(5),
        who: LeaveWho::Node(0),
        mode: Departure::Graceful,
    });
    s.bootstrap = bootstrap;
    s
}

/// `(bootstrap_peers, bootstrap_live, first bootstrap ok)` of each session,
/// by node.
fn given(r: &RunReport) -> Vec<(u32, u32, u32, Option<bool>)> {
    let mut rows: Vec<_> = r
        .nodes
        .iter()
        .map(|n| {
            let ok = n.first_bootstrap.map(|b| b.ok);
            (n.index, n.bootstrap_peers, n.bootstrap_live, ok)
        })
        .collect();
    rows.sort();
    rows
}

/// Whether each of nodes 2 to 6 found at least half of its k closest.
fn later_joiners_found_others(r: &RunReport) -> Vec<bool> {
    let mut found: Vec<_> = r
        .nodes
        .iter()
        .filter(|n| n.index >= 2)
        .map(|n| (n.index, n.recall_reached[0].is_some()))
        .collect();
    found.sort();
    found.into_iter().map(|(_, f)| f).collect()
}

#[test]
fn joiners_whose_only_bootstrap_node_left_are_counted_and_find_nobody() {
    let r = go(&first_node_leaves(Bootstrap::default()));
    let rows = given(&r);
    assert_eq!(rows.len(), 7, "{rows:?}");
    assert_eq!(rows[0].1, 0, "node 0 is given nobody: {rows:?}");
    assert_eq!(rows[1], (1, 1, 1, Some(true)), "node 1 joined through 0");
    for row in &rows[2..] {
        assert_eq!((row.1, row.2), (1, 0), "node 0 was gone: {rows:?}");
    }
    assert_eq!(r.summary().joins_without_bootstrap, 5);
    // Kademlia's bootstrap query still ends `Ok` (it asked the one peer it
    // knew, which did not answer), but nobody was found.
    assert_eq!(later_joiners_found_others(&r), vec![false; 5]);
}

#[test]
fn a_second_bootstrap_node_lets_them_join() {
    let r = go(&first_node_leaves(Bootstrap {
        nodes: 2,
        per_joiner: None,
    }));
    let rows = given(&r);
    assert_eq!(rows[1], (1, 1, 1, Some(true)), "node 1 joined through 0");
    for row in &rows[2..] {
        assert_eq!((row.1, row.2), (2, 1), "node 1 was still there: {rows:?}");
        assert_eq!(row.3, Some(true), "{rows:?}");
    }
    assert_eq!(r.summary().joins_without_bootstrap, 0);
    // They found each other through node 1.
    assert_eq!(later_joiners_found_others(&r), vec![true; 5]);
    let live: Vec<_> = r.nodes.iter().filter(|n| n.left_at.is_none()).collect();
    assert_eq!(live.len(), 6);
    assert!(
        live.iter().all(|n| n.recall_reached[2].is_some()),
        "{live:?}"
    );
}

#[test]
fn each_joiner_gets_per_joiner_of_the_bootstrap_nodes() {
    let mut s = base(16, secs(40));
    s.bootstrap = Bootstrap {
        nodes: 4,
        per_joiner: Some(2),
    };
    let r = go(&s);
    let rows = given(&r);
    // Node i < 4 is given those of 0..i (at most 2); the others exactly 2.
    for (i, peers, live, ok) in &rows {
        let expected = (*i).min(2);
        assert_eq!((*peers, *live), (expected, expected), "node {i}: {rows:?}");
        if *i > 0 {
            assert_eq!(*ok, Some(true), "node {i}: {rows:?}");
        }
    }
    assert_eq!(r.summary().joins_without_bootstrap, 0);
}
