//! The network model against hand-computed times.

use std::sync::{Arc, Mutex};
use std::task::Context;
use std::time::Duration;

use futures::future::poll_fn;
use futures::{AsyncReadExt, AsyncWriteExt};
use libp2p::core::Endpoint;
use libp2p::core::transport::{DialOpts, ListenerId, PortUse, Transport, TransportEvent};
use sim_runtime::Clock;

use super::*;
use crate::rng;
use crate::scenario::Latency;
use crate::scheduler::{NodeDriver, NodeId, Scheduler};

/// A driver for scheduler tests without nodes.
pub(super) struct NoNodes;
impl NodeDriver for NoNodes {
    fn poll_node(&mut self, _: NodeId, _: &mut Context<'_>) {}
}

/// Runs tasks and advances the clock until nothing is left to do.
pub(super) fn drive(clock: &Clock, sched: &mut Scheduler) {
    loop {
        sched.run_ready(&mut NoNodes, u64::MAX);
        match clock.next_deadline() {
            Some(t) => {
                clock.advance_to(t);
            }
            None => return,
        }
    }
}

fn dial_opts() -> DialOpts {
    DialOpts {
        role: Endpoint::Dialer,
        port_use: PortUse::New,
    }
}

pub(super) type Log = Arc<Mutex<Vec<(String, Duration)>>>;

pub(super) fn note(log: &Log, what: &str) {
    log.lock()
        .unwrap()
        .push((what.to_string(), sim_runtime::now()));
}

pub(super) fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn connect_takes_a_round_trip_and_bytes_one_latency() {
    let clock = Clock::new([1; 32]);
    let _guard = clock.install();
    let net = Network::new(LatencyModel::new(1, Latency::Constant(ms(50))));
    let mut sched = Scheduler::new(rng::stream(1, "scheduler", 0));
    let log: Log = Arc::default();

    let mut listener = net.transport(1);
    listener
        .listen_on(ListenerId::next(), listen_addr(1))
        .unwrap();
    let l = log.clone();
    sched.spawn(1, async move {
        let mut stream = loop {
            let ev = poll_fn(|cx| std::pin::Pin::new(&mut listener).poll(cx)).await;
            if let TransportEvent::Incoming {
                upgrade,
                send_back_addr,
                ..
            } = ev
            {
                assert_eq!(
                    send_back_addr.to_string(),
                    format!("/memory/{EPHEMERAL_PORT_BASE}")
                );
                break upgrade.await.unwrap();
            }
        };
        note(&l, "accepted");
        let mut buf = [0u8; 5];
        stream.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hello");
        note(&l, "read");
        let mut rest = Vec::new();
        stream.read_to_end(&mut rest).await.unwrap();
        note(&l, "eof");
    });

    let mut dialer = net.transport(0);
    let dial = dialer.dial(listen_addr(1), dial_opts()).unwrap();
    let l = log.clone();
    sched.spawn(0, async move {
        let mut stream = dial.await.unwrap();
        note(&l, "connected");
        stream.write_all(b"hello").await.unwrap();
        stream.close().await.unwrap();
    });

    drive(&clock, &mut sched);
    let log = log.lock().unwrap().clone();
    let at = |what: &str| log.iter().find(|(w, _)| w == what).map(|(_, t)| *t);
    assert_eq!(at("accepted"), Some(ms(50)), "{log:?}");
    assert_eq!(at("connected"), Some(ms(100)), "{log:?}");
    assert_eq!(at("read"), Some(ms(150)), "{log:?}");
    assert_eq!(at("eof"), Some(ms(150)), "{log:?}");
    assert_eq!(net.stats().connections, 1);
    assert_eq!(net.stats().bytes, 5);
}

#[test]
fn dial_without_listener_is_refused_after_a_round_trip() {
    let clock = Clock::new([2; 32]);
    let _guard = clock.install();
    let net = Network::new(LatencyModel::new(1, Latency::Constant(ms(30))));
    let mut sched = Scheduler::new(rng::stream(1, "scheduler", 0));
    let log: Log = Arc::default();
    let dial = net.transport(0).dial(listen_addr(7), dial_opts()).unwrap();
    let l = log.clone();
    sched.spawn(0, async move {
        let err = dial.await.err().expect("nobody listens on node 7's port");
        assert!(matches!(err, NetError::Refused(_)), "{err}");
        note(&l, "refused");
    });
    drive(&clock, &mut sched);
    assert_eq!(
        log.lock().unwrap().clone(),
        vec![("refused".to_string(), ms(60))]
    );
    assert_eq!(net.stats().refused, 1);
}

#[test]
fn later_writes_never_overtake_earlier_ones() {
    let clock = Clock::new([3; 32]);
    let _guard = clock.install();
    let (mut a, mut b) = link::pair(
        ms(40),
        (Arc::default(), Arc::default(), None),
        fabric::End {
            node: 0,
            incarnation: 0,
        },
        fabric::End {
            node: 1,
            incarnation: 0,
        },
    );
    let mut sched = Scheduler::new(rng::stream(1, "scheduler", 0));
    let log: Log = Arc::default();
    sched.spawn(0, async move {
        a.write_all(b"x").await.unwrap();
        sim_runtime::Delay::new(ms(10)).await;
        a.write_all(b"y").await.unwrap();
    });
    let l = log.clone();
    sched.spawn(1, async move {
        let mut buf = [0u8; 1];
        for _ in 0..2 {
            b.read_exact(&mut buf).await.unwrap();
            note(&l, &String::from_utf8_lossy(&buf));
        }
    });
    drive(&clock, &mut sched);
    let log = log.lock().unwrap().clone();
    assert_eq!(log, vec![("x".into(), ms(40)), ("y".into(), ms(50))]);
}

#[test]
fn uniform_latency_is_per_link_symmetric_and_in_range() {
    let model = LatencyModel::new(
        9,
        Latency::Uniform {
            min: ms(20),
            max: ms(80),
        },
    );
    let mut distinct = std::collections::BTreeSet::new();
    for a in 0..20 {
        for b in 0..20 {
            let d = model.one_way(a, Some(b));
            assert_eq!(d, model.one_way(b, Some(a)));
            assert!(d >= ms(20) && d <= ms(80), "{d:?}");
            distinct.insert(d);
        }
    }
    assert!(distinct.len() > 100, "latencies should vary per link");
    let other_seed = LatencyModel::new(
        10,
        Latency::Uniform {
            min: ms(20),
            max: ms(80),
        },
    );
    assert_ne!(model.one_way(1, Some(2)), other_seed.one_way(1, Some(2)));
}
