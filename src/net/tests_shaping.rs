//! Upload and download bandwidth and loss on real links, against
//! hand-computed times.

use std::sync::Arc;
use std::time::Duration;

use futures::{AsyncReadExt, AsyncWriteExt};
use sim_runtime::Clock;

use super::fabric::End;
use super::latency::LatencyModel;
use super::link::{self, SimStream};
use super::shaping::{MIN_RTO, MSS, Rates, Shaping};
use super::tests::{Log, drive, ms, note};
use crate::rng;
use crate::scenario::{Latency, Network, Ratio, Region};
use crate::scheduler::Scheduler;

fn end(node: u32) -> End {
    End {
        node,
        incarnation: 0,
    }
}

/// A connection from node `a` to node `b` with one-way latency `latency`.
fn link(
    latency: Duration,
    shaping: &Option<Arc<Shaping>>,
    a: u32,
    b: u32,
) -> (SimStream, SimStream) {
    link::pair(
        latency,
        (Arc::default(), Arc::default(), shaping.clone()),
        end(a),
        end(b),
    )
}

/// Spawns a task that reads `len` bytes from `rx` and notes `name`.
fn receive(sched: &mut Scheduler, log: &Log, name: &'static str, mut rx: SimStream, len: usize) {
    let log = log.clone();
    sched.spawn(1, async move {
        let mut buf = vec![0u8; len];
        rx.read_exact(&mut buf).await.unwrap();
        note(&log, name);
    });
}

/// A link: its name, one-way latency, sender and receiver.
type Named = (&'static str, Duration, u32, u32);

/// At 0, the first link carries a megabyte (16 writes of 62,500 bytes),
/// then the second and the third 1,250 bytes each; returns when each was
/// read in full, earliest first.
fn megabyte_then_two(shaping: Rates, links: [Named; 3]) -> Vec<(String, Duration)> {
    let clock = Clock::new([5; 32]);
    let _guard = clock.install();
    let shaping = Shaping::new(1, shaping);
    let mut sched = Scheduler::new(rng::stream(1, "scheduler", 0));
    let log: Log = Arc::default();
    let mut txs = Vec::new();
    for (i, (name, latency, from, to)) in links.into_iter().enumerate() {
        let (tx, rx) = link(latency, &shaping, from, to);
        txs.push(tx);
        receive(
            &mut sched,
            &log,
            name,
            rx,
            if i == 0 { 1_000_000 } else { 1250 },
        );
    }
    sched.spawn(0, async move {
        let chunk = vec![7u8; 62_500];
        for _ in 0..16 {
            txs[0].write_all(&chunk).await.unwrap();
        }
        txs[1].write_all(&[1u8; 1250]).await.unwrap();
        txs[2].write_all(&[2u8; 1250]).await.unwrap();
    });
    drive(&clock, &mut sched);
    let mut log = log.lock().unwrap().clone();
    log.sort_by_key(|(_, t)| *t);
    log
}

fn named(list: &[(&str, Duration)]) -> Vec<(String, Duration)> {
    list.iter().map(|(n, t)| (n.to_string(), *t)).collect()
}

#[test]
fn a_megabyte_on_a_ten_megabit_uplink_takes_0_8_s_and_holds_up_what_follows() {
    let rates = Rates {
        upload_bps: Some(10_000_000),
        ..Rates::default()
    };
    // Node 0 sends a megabyte to node 1, then a short message to node 2
    // on another connection; node 3 sends its own short message to node 2.
    let links = [
        ("megabyte", ms(50), 0, 1),
        ("behind it", ms(30), 0, 2),
        ("other node", ms(30), 3, 2),
    ];
    // 1,250 bytes take 1 ms at 10 Mbit/s; the megabyte 800 ms.
    let expected = named(&[
        ("other node", ms(1 + 30)),
        ("behind it", ms(800 + 1 + 30)),
        ("megabyte", ms(800 + 50)),
    ]);
    assert_eq!(megabyte_then_two(rates, links), expected);
}

#[test]
fn lost_segments_slow_a_stream_down_and_keep_it_whole_and_in_order() {
    let clock = Clock::new([6; 32]);
    let _guard = clock.install();
    let latency = ms(40);
    let rto = 2 * latency + MIN_RTO;
    let shaping = Shaping::new(
        3,
        Rates {
            loss: 0.1,
            ..Rates::default()
        },
    );
    let (mut tx, mut rx) = link(latency, &shaping, 0, 1);
    let mut sched = Scheduler::new(rng::stream(1, "scheduler", 0));
    let log: Log = Arc::default();
    let writes: u8 = 200;
    sched.spawn(0, async move {
        for i in 0..writes {
            tx.write_all(&[i; MSS]).await.unwrap();
            sim_runtime::Delay::new(ms(10)).await;
        }
    });
    let l = log.clone();
    sched.spawn(1, async move {
        let mut buf = [0u8; MSS];
        for i in 0..writes {
            rx.read_exact(&mut buf).await.unwrap();
            assert!(buf.iter().all(|&b| b == i), "segment {i} whole, in order");
            note(&l, &i.to_string());
        }
    });
    drive(&clock, &mut sched);
    let log = log.lock().unwrap().clone();
    assert_eq!(log.len(), usize::from(writes));
    // Write i leaves at 10·i ms; without loss it arrives a latency later.
    let late: Vec<Duration> = log
        .iter()
        .enumerate()
        .map(|(i, (_, t))| *t - ms(10 * i as u64) - latency)
        .collect();
    let first_lost = late.iter().position(|d| !d.is_zero()).expect("some loss");
    // A segment lost once arrives one RTO late; those written during that
    // RTO wait behind it, in order.
    assert!(late[first_lost] >= rto, "{late:?}");
    assert!(late[first_lost + 1] > Duration::ZERO, "{late:?}");
    let on_time = late.iter().filter(|d| d.is_zero()).count();
    // 10 % of segments lost, each holding up the next ~28 writes (280 ms):
    // far fewer than 90 % arrive on time, but some do.
    assert!(
        on_time > 10 && on_time < 150,
        "{on_time} of {writes}: {late:?}"
    );
}

#[test]
fn a_megabyte_through_a_ten_megabit_downlink_takes_0_8_s_and_holds_up_what_follows() {
    let rates = Rates {
        download_bps: Some(10_000_000),
        ..Rates::default()
    };
    // Node 1 receives a megabyte from node 0 (50 ms away), a short message
    // from node 2 (100 ms away), and one from node 3 (30 ms away), all
    // sent at 0.
    let links = [
        ("megabyte", ms(50), 0, 1),
        ("far", ms(100), 2, 1),
        ("near", ms(30), 3, 1),
    ];
    // The near message arrives first and takes 1 ms; the megabyte, which
    // arrived at 50 ms, 800 ms; the far one arrived behind it.
    let expected = named(&[
        ("near", ms(30 + 1)),
        ("megabyte", ms(50 + 800)),
        ("far", ms(850 + 1)),
    ]);
    assert_eq!(megabyte_then_two(rates, links), expected);
}

#[test]
fn behind_a_downlink_a_stream_stays_whole_and_in_order() {
    let clock = Clock::new([8; 32]);
    let _guard = clock.install();
    // 1 Mbit/s down, 10 Mbit/s up: the receiver is the bottleneck.
    let shaping = Shaping::new(
        2,
        Rates {
            upload_bps: Some(10_000_000),
            download_bps: Some(1_000_000),
            ..Rates::default()
        },
    );
    let (mut tx, mut rx) = link(ms(20), &shaping, 0, 1);
    let mut sched = Scheduler::new(rng::stream(1, "scheduler", 0));
    let log: Log = Arc::default();
    let writes: u8 = 50;
    sched.spawn(0, async move {
        for i in 0..writes {
            tx.write_all(&[i; 1250]).await.unwrap();
        }
    });
    let l = log.clone();
    sched.spawn(1, async move {
        let mut buf = [0u8; 1250];
        for i in 0..writes {
            rx.read_exact(&mut buf).await.unwrap();
            assert!(buf.iter().all(|&b| b == i), "write {i} whole, in order");
        }
        note(&l, "all");
    });
    drive(&clock, &mut sched);
    // 50 writes of 1,250 bytes: 10 ms each at 1 Mbit/s. The first byte
    // arrives at 20 ms; the downlink is busy from then on for 500 ms.
    assert_eq!(*log.lock().unwrap(), [("all".to_owned(), ms(20 + 500))]);
}

#[test]
fn the_loss_matrix_sets_the_loss_of_each_pair_of_regions_over_loss() {
    let region = |name: &str| Region {
        name: name.into(),
        share: 0.5,
    };
    let mut config = Network {
        regions: vec![region("a"), region("b")],
        // 30 % wherever the matrix says nothing: within region b.
        loss: Ratio(0.3),
        ..Network::default()
    };
    for pair in [(0, 0), (0, 1), (1, 1)] {
        config
            .latency_matrix
            .insert(pair, Latency::Constant(ms(10)));
    }
    config.loss_matrix.insert((0, 0), Ratio(0.0));
    config.loss_matrix.insert((0, 1), Ratio(0.1));
    let model = LatencyModel::from_config(4, &config);
    let shaping = model.shaping().expect("shaped");
    let in_region = |r: usize| {
        (0..200u32)
            .filter(|&n| model.region_of(n) == Some(r))
            .collect::<Vec<_>>()
    };
    let (a, b) = (in_region(0), in_region(1));
    assert!(a.len() > 50 && b.len() > 50);
    // The share of 1,000 one-segment writes from `from` to `to` that
    // arrive late.
    let late = |from: u32, to: u32| {
        let n = (0..1000)
            .filter(|&i| shaping.arrival(end(from), to, ms(i), MSS, ms(10)) > ms(i + 10))
            .count();
        n as f64 / 1000.0
    };
    assert_eq!(late(a[0], a[1]), 0.0);
    for (from, to) in [(a[2], b[0]), (b[1], a[3])] {
        let share = late(from, to);
        assert!((share - 0.1).abs() < 0.03, "a-b: {share}");
    }
    let share = late(b[2], b[3]);
    assert!((share - 0.3).abs() < 0.04, "b-b: {share}");
}
