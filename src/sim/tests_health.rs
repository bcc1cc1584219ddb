//! Routing-table health and bucket fill against independent computations
//! from the samples and the oracle's keys.

use std::time::Duration;

use super::tests::{base, go};
use crate::metrics::expected_fill;
use crate::oracle::kad_key;

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

#[test]
fn routing_table_health_fractions_match_the_samples() {
    let mut s = base(20, secs(100));
    s.stack.replication_factor = 8;
    let r = go(&s);
    let mut seen_partial = false;
    for n in &r.network_samples {
        // Recomputed from each node's recall and its number of true k
        // closest, not from the held counts.
        let rows: Vec<_> = r
            .samples
            .iter()
            .filter(|x| x.time == n.time && x.recall.is_some())
            .collect();
        let count = |f: &dyn Fn(f64, f64) -> bool| {
            let hits = rows
                .iter()
                .filter(|x| f(x.recall.unwrap(), x.closest as f64))
                .count();
            (!rows.is_empty()).then(|| hits as f64 / rows.len() as f64)
        };
        let all = count(&|recall, _| recall == 1.0);
        let missing3 = count(&|recall, k| ((1.0 - recall) * k).round() >= 3.0);
        let below5 = count(&|recall, k| (recall * k).round() < k.min(5.0));
        assert_eq!(n.closest_held.all, all, "at {:?}", n.time);
        assert_eq!(n.closest_held.missing3, missing3, "at {:?}", n.time);
        assert_eq!(n.closest_held.below5, below5, "at {:?}", n.time);
        seen_partial |= all.is_some_and(|a| a < 1.0);
    }
    // Early samples catch nodes still joining.
    assert!(seen_partial);
    let last = r.network_samples.last().expect("samples");
    assert!(last.closest_held.all.expect("live nodes") > 0.5, "{last:?}");
}

#[test]
fn bucket_fill_is_what_the_keys_allow_in_a_network_that_knows_itself() {
    // 30 nodes with k = 4: many buckets, most of them full.
    let mut s = base(30, secs(120));
    s.stack.replication_factor = 4;
    let r = go(&s);
    let last = r.buckets.last().expect("a sample");
    assert_eq!(last.time, secs(120));
    assert_eq!(last.nodes, 30);
    // What the keys allow: for each node, how many others share exactly i
    // leading bits of key with it, at most k.
    let keys: Vec<_> = r.nodes.iter().map(|n| kad_key(&n.peer_id)).collect();
    let mut allowed = vec![0usize; 256];
    for (a, ka) in keys.iter().enumerate() {
        let mut count = vec![0usize; 256];
        for (b, kb) in keys.iter().enumerate() {
            if a != b {
                let bits: Vec<u8> = ka.iter().zip(kb).map(|(x, y)| x ^ y).collect();
                let shared = bits
                    .iter()
                    .position(|&x| x != 0)
                    .map(|byte| byte * 8 + bits[byte].leading_zeros() as usize)
                    .expect("distinct keys");
                count[shared] += 1;
            }
        }
        for (i, c) in count.into_iter().enumerate() {
            allowed[i] += c.min(4);
        }
    }
    // No bucket holds more than the keys allow (nobody has left, so every
    // node that joined is live), and together they hold nearly all of it.
    let mut held_all = 0;
    for (i, &a) in allowed.iter().enumerate() {
        let held = last.entries.get(i).copied().unwrap_or(0) as usize;
        assert!(held <= a, "bucket {i}: {held} of {a} allowed");
        held_all += held;
    }
    let allowed_all: usize = allowed.iter().sum();
    assert!(
        held_all as f64 >= 0.9 * allowed_all as f64,
        "{held_all} of {allowed_all} allowed: {:?}",
        last.entries
    );
    // And the uniform prediction is close for the first buckets.
    assert!((last.mean(0) - expected_fill(4, 29, 0)).abs() < 0.5);
}

/// `nodes` nodes with buckets of `k`, a lookup every second from 40 s.
fn lookups(nodes: u32, k: u16) -> crate::metrics::RunReport {
    let mut s = base(nodes, secs(100));
    s.stack.replication_factor = k;
    s.lookups.push(crate::scenario::Lookups {
        at: secs(40),
        length: secs(60),
        rate: 1.0,
    });
    go(&s)
}

#[test]
fn a_lookup_in_a_network_every_table_holds_whole_takes_one_hop() {
    // 12 nodes, buckets of 20: after the joins every table holds every
    // other node, so each lookup starts from all of them.
    let r = lookups(12, 20);
    assert!(r.lookups.len() > 40, "{}", r.lookups.len());
    for l in &r.lookups {
        assert!(l.outcome.peers.len() >= 10, "{:?}", l.outcome);
        assert_eq!(l.outcome.hops, 1, "{:?}", l.outcome);
    }
    assert_eq!(r.summary().lookup_hops, [Some(1); 3]);
}

#[test]
fn lookups_from_partial_tables_take_more_hops_and_never_more_than_requests() {
    // 80 nodes, buckets of 3: a table holds a small part of the network,
    // and a lookup's result comes through the answers of other peers.
    let r = lookups(80, 3);
    assert!(r.lookups.len() > 40, "{}", r.lookups.len());
    for l in &r.lookups {
        let o = &l.outcome;
        assert!(o.hops >= 1 && o.hops <= o.requests, "{o:?}");
    }
    let [p50, _, max] = r.summary().lookup_hops;
    assert!(
        p50 >= Some(2) && max >= Some(3),
        "{:?}",
        r.summary().lookup_hops
    );
}
