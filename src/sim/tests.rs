//! Whole runs of small scenarios built in code: what each workload does to
//! the network, checked on the run's report.

use std::time::Duration;

use super::run;
use crate::metrics::RunReport;
use crate::scenario::{
    Churn, Departure, Join, Leave, LeaveWho, Lookups, Partition, Ratio, Rejoin, Scenario, Security,
    Split, Stack, TimeDistribution,
};

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// `nodes` plaintext nodes joining over 10 s; the run lasts `duration`.
pub(super) fn base(nodes: u32, duration: Duration) -> Scenario {
    Scenario {
        name: "test".into(),
        description: String::new(),
        seed: 1,
        duration,
        sample_interval: secs(30),
        stop_when_bootstrapped: false,
        stack: Stack {
            security: Security::Plaintext,
            ..Stack::default()
        },
        network: Default::default(),
        bootstrap: Default::default(),
        joins: vec![Join {
            at: Duration::ZERO,
            count: nodes,
            over: secs(10),
            arrival: Default::default(),
        }],
        churn: vec![],
        leaves: vec![],
        partitions: vec![],
        lookups: vec![],
        asserts: vec![],
    }
}

pub(super) fn go(s: &Scenario) -> RunReport {
    run(s, 3, None).expect("the run succeeds")
}

#[test]
fn churn_takes_nodes_away_and_brings_them_back_with_the_same_identity() {
    let mut s = base(20, secs(120));
    s.churn.push(Churn {
        at: secs(30),
        length: secs(90),
        population: None,
        session: TimeDistribution::Constant(secs(20)),
        offline: Some(TimeDistribution::Constant(secs(15))),
        crash: Ratio(0.5),
        rejoin: Rejoin::Same,
    });
    let r = go(&s);
    // 19 churned nodes: sessions end at 50 s and 85 s (and 120 s, the
    // end, which does not count), each followed by a return 15 s later.
    assert_eq!(r.departures.graceful + r.departures.crashes, 38);
    assert!(
        r.departures.crashes > 5 && r.departures.graceful > 5,
        "{:?}",
        r.departures
    );
    assert_eq!(r.nodes.len(), 20 + 38, "one session per join");
    let rejoined: Vec<_> = r.nodes.iter().filter(|n| n.joined_at == secs(65)).collect();
    assert_eq!(rejoined.len(), 19);
    for n in rejoined {
        let first = r.nodes.iter().find(|m| m.index == n.index).unwrap();
        assert_eq!(first.peer_id, n.peer_id, "same identity on rejoin");
        assert!(
            n.first_bootstrap.is_some_and(|b| b.ok),
            "rejoined node bootstraps"
        );
    }
    let live = r.nodes.iter().filter(|n| n.left_at.is_none()).count();
    assert_eq!(live, 20);
}

#[test]
fn rejoining_with_a_new_identity_creates_new_nodes() {
    let mut s = base(10, secs(60));
    s.churn.push(Churn {
        at: secs(20),
        length: secs(40),
        population: Some(12),
        session: TimeDistribution::Constant(secs(15)),
        offline: Some(TimeDistribution::Constant(secs(5))),
        crash: Ratio(0.0),
        rejoin: Rejoin::New,
    });
    let r = go(&s);
    // The pool of 12 takes the 9 live non-bootstrap nodes and 3 new ones.
    let indices: std::collections::BTreeSet<u32> = r.nodes.iter().map(|n| n.index).collect();
    assert_eq!(r.departures.crashes, 0);
    assert_eq!(r.departures.graceful, 24, "12 leave at 35 s and 12 at 55 s");
    assert_eq!(indices.len(), 10 + 3 + 24);
    let peers: std::collections::BTreeSet<_> = r.nodes.iter().map(|n| n.peer_id).collect();
    assert_eq!(
        peers.len(),
        indices.len(),
        "every new node has its own identity"
    );
}

#[test]
fn a_graceful_leave_is_refused_and_a_crash_is_not() {
    let leave = |mode| {
        let mut s = base(15, secs(90));
        s.leaves.push(Leave {
            at: secs(30),
            who: LeaveWho::Count(5),
            mode,
        });
        s.lookups.push(Lookups {
            at: secs(35),
            length: secs(55),
            rate: 1.0,
        });
        go(&s)
    };
    let graceful = leave(Departure::Graceful);
    let crash = leave(Departure::Crash);
    assert_eq!(graceful.departures.graceful, 5);
    assert_eq!(crash.departures.crashes, 5);
    // Lookups keep trying the departed peers' addresses: refused at once
    // after a graceful leave, unanswered (until the connection timeout)
    // after a crash.
    assert!(graceful.network.refused > 0, "{:?}", graceful.network);
    assert_eq!(crash.network.refused, 0, "{:?}", crash.network);
}

#[test]
fn a_partition_stops_traffic_between_groups_until_it_heals() {
    let mut s = base(16, secs(150));
    s.partitions.push(Partition {
        at: secs(30),
        length: secs(60),
        split: Split::Fractions(vec![0.5, 0.5]),
    });
    s.lookups.push(Lookups {
        at: secs(30),
        length: secs(120),
        rate: 1.0,
    });
    let r = go(&s);
    let during = |l: &crate::metrics::LookupOutcome| l.started >= secs(35) && l.finished < secs(90);
    let after = |l: &crate::metrics::LookupOutcome| l.started >= secs(100);
    let ok_rate = |f: &dyn Fn(&crate::metrics::LookupOutcome) -> bool| {
        let v: Vec<_> = r
            .lookups
            .iter()
            .map(|l| &l.outcome)
            .filter(|l| f(l))
            .collect();
        let failures: u32 = v.iter().map(|l| l.failures).sum();
        (v.len(), failures)
    };
    let (n_during, fail_during) = ok_rate(&during);
    let (n_after, fail_after) = ok_rate(&after);
    assert!(n_during > 10 && n_after > 10, "{n_during} {n_after}");
    assert!(fail_during > 0, "requests across the split fail during it");
    assert!(
        fail_after * 4 < fail_during.max(1) * 3,
        "fewer failures after the heal: {fail_after} vs {fail_during}"
    );
}

#[test]
fn a_small_static_network_reaches_full_recall_with_nothing_stale() {
    // k = 20 exceeds the 14 other nodes: every table should hold everyone.
    let r = go(&base(15, secs(90)));
    let at_60: Vec<_> = r.samples.iter().filter(|s| s.time == secs(60)).collect();
    assert_eq!(at_60.len(), 15);
    for s in &at_60 {
        assert_eq!(s.recall, Some(1.0), "{s:?}");
        assert_eq!(s.stale, 0, "{s:?}");
        assert_eq!(s.stats.entries, 14, "{s:?}");
    }
    for n in &r.nodes {
        let (half, all) = (n.recall_latency(0), n.recall_latency(2));
        assert!(half.is_some() && all.is_some(), "{n:?}");
        assert!(half <= all, "50% is reached no later than 100%: {n:?}");
        assert!(n.visible_latency().is_some(), "{n:?}");
    }
    let last = r.network_samples.last().unwrap();
    assert_eq!(last.live, 15);
    assert_eq!(last.recall_mean, Some(1.0));
    assert_eq!(last.stale_fraction_mean, Some(0.0));
}

#[test]
fn crashed_peers_are_counted_stale_and_leave_the_truth() {
    let mut s = base(15, secs(60));
    s.leaves.push(Leave {
        at: secs(40),
        who: LeaveWho::Count(5),
        mode: Departure::Crash,
    });
    let r = go(&s);
    let end: Vec<_> = r.samples.iter().filter(|s| s.time == secs(60)).collect();
    assert_eq!(end.len(), 10);
    for s in &end {
        // Tables still hold the crashed peers (nobody has timed them out
        // yet) and every live peer: recall against the live set stays 1.
        assert_eq!(s.stale, 5, "{s:?}");
        assert_eq!(s.recall, Some(1.0), "{s:?}");
    }
    let last = r.network_samples.last().unwrap();
    assert_eq!((last.live, last.departures), (10, 5));
    assert_eq!(last.stale_fraction_mean, Some(5.0 / 14.0));
}

#[test]
fn even_arrivals_are_exactly_spaced_and_ignore_the_seed() {
    let mut s = base(5, secs(60));
    s.joins[0].over = Duration::from_millis(10);
    s.joins[0].arrival = crate::scenario::Arrival::Even;
    let ms = Duration::from_millis;
    let want = vec![ms(0), ms(2), ms(4), ms(6), ms(8)];
    assert_eq!(super::join_schedule(&s, 1), want);
    assert_eq!(super::join_schedule(&s, 2), want);
}

#[test]
fn stop_when_bootstrapped_ends_the_run_when_the_last_first_bootstrap_ends() {
    let mut s = base(12, secs(600));
    s.network.latency = crate::scenario::Latency::Constant(Duration::from_millis(5));
    s.stop_when_bootstrapped = true;
    let r = go(&s);
    assert!(r.complete);
    assert_eq!(r.nodes.len(), 12);
    // Computed apart from the stop rule: the latest first-bootstrap end over
    // all nodes, which must also be after the last join.
    let last = r
        .nodes
        .iter()
        .map(|n| n.first_bootstrap.expect("every node bootstrapped").at)
        .max()
        .expect("12 nodes");
    let last_join = r.nodes.iter().map(|n| n.joined_at).max().expect("12 nodes");
    assert!(last >= last_join);
    assert_eq!(r.virtual_time, last, "the run ends at that moment");
    assert!(r.virtual_time < secs(600));

    s.stop_when_bootstrapped = false;
    assert_eq!(
        go(&s).virtual_time,
        secs(600),
        "without the key: the whole duration"
    );
}

#[test]
fn progress_is_reported_between_samples_and_never_goes_back() {
    use std::sync::{Arc, Mutex};
    // Samples every 30 s of a 1-minute run: three reports would come from
    // samples alone; the joins keep the loop busy enough for more.
    let s = base(20, secs(60));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let progress: super::ProgressFn = Box::new(move |p: super::Progress| {
        sink.lock().expect("not poisoned").push((p.now, p.nodes));
    });
    run(&s, 3, Some(progress)).expect("the run succeeds");
    let seen = seen.lock().expect("not poisoned");
    let between = seen
        .iter()
        .filter(|(t, _)| t.as_millis() % 30_000 != 0)
        .count();
    assert!(between > 0, "no report between samples: {seen:?}");
    assert!(
        seen.windows(2).all(|w| w[0].0 <= w[1].0),
        "time went back: {seen:?}"
    );
    assert!(seen.iter().all(|(_, n)| *n <= 20));
    assert_eq!(
        seen.last().map(|r| r.1),
        Some(20),
        "every node is live at the end"
    );
}

#[test]
fn a_stop_request_ends_the_run_with_what_it_measured() {
    use std::sync::atomic::{AtomicBool, Ordering};
    static STOP: AtomicBool = AtomicBool::new(false);
    // Asks to stop once the run has passed 30 s of its 2 minutes.
    let progress: super::ProgressFn = Box::new(|p: super::Progress| {
        if p.now >= secs(30) {
            STOP.store(true, Ordering::Relaxed);
        }
    });
    let options = super::RunOptions {
        progress: Some(progress),
        stop: Some(&STOP),
        ..Default::default()
    };
    let s = base(12, secs(120));
    let err = super::run_with(&s, 3, options).expect_err("the run is stopped");
    let super::SimError::Interrupted { at_ms, partial } = err else {
        panic!("not an interruption: {err}");
    };
    assert!((30_000..120_000).contains(&at_ms), "stopped at {at_ms} ms");
    let partial = partial.expect("what was measured is kept");
    assert!(!partial.complete);
    assert_eq!(partial.virtual_time.as_millis() as u64, at_ms);
    assert_eq!(
        partial.nodes.len(),
        12,
        "every node joined in the first 10 s"
    );
}

#[test]
fn skipping_the_teardown_keeps_every_measurement() {
    let s = base(10, secs(60));
    let options = super::RunOptions {
        skip_teardown: true,
        ..Default::default()
    };
    let r = super::run_with(&s, 5, options).expect("the run completes");
    assert!(r.complete);
    assert_eq!(r.virtual_time, secs(60));
    assert_eq!(r.nodes.len(), 10, "every node's session is recorded");
    assert!(
        r.nodes.iter().all(|n| n.first_bootstrap.is_some()),
        "and measured to the end: {:?}",
        r.nodes
            .iter()
            .map(|n| n.first_bootstrap)
            .collect::<Vec<_>>()
    );
}
