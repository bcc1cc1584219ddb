//! Crashes, graceful departures, restarts, partitions and regions, against
//! hand-computed times.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::{Either, poll_fn, select};
use futures::{AsyncReadExt, AsyncWriteExt, FutureExt};
use libp2p::core::Endpoint;
use libp2p::core::transport::{DialOpts, ListenerId, PortUse, Transport, TransportEvent};
use sim_runtime::{Clock, Delay};

use super::tests::drive;
use super::*;
use crate::rng;
use crate::scenario::{Latency, Network as NetworkConfig, Region};
use crate::scheduler::Scheduler;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

type Log = Arc<Mutex<Vec<(String, Duration)>>>;

fn note(log: &Log, what: &str) {
    log.lock()
        .unwrap()
        .push((what.to_string(), sim_runtime::now()));
}

fn at(log: &Log, what: &str) -> Option<Duration> {
    let log = log.lock().unwrap();
    log.iter().find(|(w, _)| w == what).map(|(_, t)| *t)
}

fn dial_opts() -> DialOpts {
    DialOpts {
        role: Endpoint::Dialer,
        port_use: PortUse::New,
    }
}

/// Node 1 listens; node 0 dials it; returns both ends once connected
/// (after one round trip of 2 x 50 ms).
fn connected(
    clock: &Clock,
    net: &Network,
    sched: &mut Scheduler,
) -> (SimStream, SimStream, SimTransport) {
    let mut listener = net.transport(1);
    listener
        .listen_on(ListenerId::next(), listen_addr(1))
        .unwrap();
    let dial = net.transport(0).dial(listen_addr(1), dial_opts()).unwrap();
    let out: Arc<Mutex<Option<SimStream>>> = Arc::default();
    let o = out.clone();
    sched.spawn(0, async move {
        *o.lock().unwrap() = Some(dial.await.unwrap());
    });
    drive(clock, sched);
    let upgrade = loop {
        let event = poll_fn(|cx| std::pin::Pin::new(&mut listener).poll(cx))
            .now_or_never()
            .expect("the connection is queued");
        if let TransportEvent::Incoming { upgrade, .. } = event {
            break upgrade;
        }
    };
    let b = upgrade.now_or_never().unwrap().unwrap();
    let a = out.lock().unwrap().take().unwrap();
    (a, b, listener)
}

fn setup(seed: u8) -> (Clock, Network, Scheduler) {
    let clock = Clock::new([seed; 32]);
    let net = Network::new(LatencyModel::new(1, Latency::Constant(ms(50))));
    let sched = Scheduler::new(rng::stream(1, "scheduler", 0));
    (clock, net, sched)
}

/// Reads from `stream` until EOF or `limit`, noting "eof" or "silence".
async fn read_or_silence(mut stream: SimStream, limit: Duration, log: Log) {
    let mut rest = Vec::new();
    let read = Box::pin(async move { stream.read_to_end(&mut rest).await });
    match select(read, Delay::new(limit)).await {
        Either::Left(_) => note(&log, "eof"),
        Either::Right(_) => note(&log, "silence"),
    }
}

#[test]
fn a_crashed_peer_is_a_black_hole_and_dials_to_it_hang() {
    let (clock, net, mut sched) = setup(1);
    let _guard = clock.install();
    let (mut a, b, listener) = connected(&clock, &net, &mut sched);
    let start = clock.now();
    net.crash(1);
    drop(b);
    drop(listener);
    let log: Log = Arc::default();
    let l = log.clone();
    let dial = net.transport(0).dial(listen_addr(1), dial_opts()).unwrap();
    sched.spawn(0, async move {
        a.write_all(b"into the void").await.unwrap();
        note(&l, "written");
        read_or_silence(a, Duration::from_secs(30), l.clone()).await;
        match select(dial, Delay::new(Duration::from_secs(30))).await {
            Either::Left(_) => note(&l, "dial ended"),
            Either::Right(_) => note(&l, "dial hangs"),
        }
    });
    drive(&clock, &mut sched);
    assert_eq!(at(&log, "written"), Some(start));
    assert_eq!(at(&log, "silence"), Some(start + Duration::from_secs(30)));
    assert!(at(&log, "dial hangs").is_some(), "{log:?}");
    assert_eq!(net.stats().bytes, 0, "nothing reached the crashed node");
}

#[test]
fn a_graceful_departure_closes_connections_and_refuses_dials() {
    let (clock, net, mut sched) = setup(2);
    let _guard = clock.install();
    let (a, b, listener) = connected(&clock, &net, &mut sched);
    let start = clock.now();
    drop(b);
    drop(listener);
    let log: Log = Arc::default();
    let l = log.clone();
    let dial = net.transport(0).dial(listen_addr(1), dial_opts()).unwrap();
    sched.spawn(0, read_or_silence(a, Duration::from_secs(30), l.clone()));
    sched.spawn(0, async move {
        if dial.await.is_err() {
            note(&l, "refused");
        }
    });
    drive(&clock, &mut sched);
    assert_eq!(at(&log, "eof"), Some(start + ms(50)));
    assert_eq!(at(&log, "refused"), Some(start + ms(100)));
}

#[test]
fn a_restarted_peer_resets_old_connections() {
    let (clock, net, mut sched) = setup(3);
    let _guard = clock.install();
    let (mut a, b, listener) = connected(&clock, &net, &mut sched);
    net.crash(1);
    drop(b);
    drop(listener);
    net.revive(1);
    let log: Log = Arc::default();
    let l = log.clone();
    sched.spawn(0, async move {
        let err = a.write_all(b"hello?").await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset);
        note(&l, "reset");
    });
    drive(&clock, &mut sched);
    assert!(at(&log, "reset").is_some());
}

#[test]
fn a_partition_holds_bytes_and_syns_until_it_heals() {
    let (clock, net, mut sched) = setup(4);
    let _guard = clock.install();
    let (mut a, mut b, mut listener) = connected(&clock, &net, &mut sched);
    let start = clock.now();
    let heal = start + Duration::from_secs(5);
    // Node 0 alone on one side, everyone else on the other.
    net.split(heal, Arc::new(|n| Some(usize::from(n == 0))));
    let log: Log = Arc::default();
    let (l1, l2, l3) = (log.clone(), log.clone(), log.clone());
    sched.spawn(0, async move {
        a.write_all(b"x").await.unwrap();
        let _keep = a;
        Delay::new(Duration::from_secs(60)).await;
    });
    sched.spawn(1, async move {
        let mut buf = [0u8; 1];
        b.read_exact(&mut buf).await.unwrap();
        note(&l1, "read");
    });
    let dial = net.transport(0).dial(listen_addr(1), dial_opts()).unwrap();
    sched.spawn(0, async move {
        dial.await.unwrap();
        note(&l2, "connected");
    });
    sched.spawn(1, async move {
        loop {
            let ev = poll_fn(|cx| std::pin::Pin::new(&mut listener).poll(cx)).await;
            if matches!(ev, TransportEvent::Incoming { .. }) {
                note(&l3, "accepted");
                return;
            }
        }
    });
    drive(&clock, &mut sched);
    assert_eq!(at(&log, "read"), Some(heal + ms(50)));
    assert_eq!(at(&log, "accepted"), Some(heal + ms(50)));
    assert_eq!(at(&log, "connected"), Some(heal + ms(100)));
}

#[test]
fn regions_place_nodes_by_share_and_take_latency_from_the_matrix() {
    let config = NetworkConfig {
        regions: vec![
            Region {
                name: "eu".into(),
                share: 0.25,
            },
            Region {
                name: "us".into(),
                share: 0.75,
            },
        ],
        latency_matrix: [
            ((0, 0), Latency::Constant(ms(10))),
            ((0, 1), Latency::Constant(ms(80))),
            (
                (1, 1),
                Latency::Uniform {
                    min: ms(20),
                    max: ms(30),
                },
            ),
        ]
        .into_iter()
        .collect(),
        ..NetworkConfig::default()
    };
    let model = LatencyModel::from_config(5, &config);
    let regions: Vec<usize> = (0..4000).map(|n| model.region_of(n).unwrap()).collect();
    let eu = regions.iter().filter(|r| **r == 0).count();
    assert!((900..1100).contains(&eu), "about a quarter in eu: {eu}");
    for a in 0..50 {
        for b in 0..50 {
            let d = model.one_way(a, Some(b));
            assert_eq!(d, model.one_way(b, Some(a)));
            match (regions[a as usize], regions[b as usize]) {
                (0, 0) => assert_eq!(d, ms(10)),
                (1, 1) => assert!(d >= ms(20) && d <= ms(30)),
                _ => assert_eq!(d, ms(80)),
            }
        }
    }
}
