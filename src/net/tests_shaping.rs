//! Upload bandwidth and loss on real links, against hand-computed times.

use std::sync::Arc;
use std::time::Duration;

use futures::{AsyncReadExt, AsyncWriteExt};
use sim_runtime::Clock;

use super::fabric::End;
use super::link::{self, SimStream};
use super::shaping::{MIN_RTO, MSS, Shaping};
use super::tests::{Log, drive, ms, note};
use crate::rng;
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

#[test]
fn a_megabyte_on_a_ten_megabit_uplink_takes_0_8_s_and_holds_up_what_follows() {
    let clock = Clock::new([5; 32]);
    let _guard = clock.install();
    let shaping = Shaping::new(1, 0.0, Some(10_000_000));
    // Node 0 sends a megabyte to node 1, then a short message to node 2
    // on another connection; node 3 sends its own short message to node 2.
    let (mut big_tx, big_rx) = link(ms(50), &shaping, 0, 1);
    let (mut small_tx, small_rx) = link(ms(30), &shaping, 0, 2);
    let (mut other_tx, other_rx) = link(ms(30), &shaping, 3, 2);
    let mut sched = Scheduler::new(rng::stream(1, "scheduler", 0));
    let log: Log = Arc::default();
    sched.spawn(0, async move {
        let chunk = vec![7u8; 62_500];
        for _ in 0..16 {
            big_tx.write_all(&chunk).await.unwrap();
        }
        small_tx.write_all(&[1u8; 1250]).await.unwrap();
        other_tx.write_all(&[2u8; 1250]).await.unwrap();
    });
    receive(&mut sched, &log, "megabyte", big_rx, 1_000_000);
    receive(&mut sched, &log, "behind it", small_rx, 1250);
    receive(&mut sched, &log, "other node", other_rx, 1250);
    drive(&clock, &mut sched);
    let mut log = log.lock().unwrap().clone();
    log.sort_by_key(|(_, t)| *t);
    // 1,250 bytes take 1 ms at 10 Mbit/s; the megabyte 800 ms.
    let expected: Vec<(String, Duration)> = vec![
        ("other node".into(), ms(1 + 30)),
        ("behind it".into(), ms(800 + 1 + 30)),
        ("megabyte".into(), ms(800 + 50)),
    ];
    assert_eq!(log, expected);
}

#[test]
fn lost_segments_slow_a_stream_down_and_keep_it_whole_and_in_order() {
    let clock = Clock::new([6; 32]);
    let _guard = clock.install();
    let latency = ms(40);
    let rto = 2 * latency + MIN_RTO;
    let shaping = Shaping::new(3, 0.1, None);
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
