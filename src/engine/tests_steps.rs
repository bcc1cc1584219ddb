//! The engine's lower-level API, as a caller with a loop of its own uses
//! it: nodes at chosen indices, the step calls, the tracer, records of the
//! caller's own, reading a swarm without waking it, regions, and the same
//! calls in real time on TCP.

use std::collections::BTreeMap;
use std::time::Duration;

use libp2p::ping;
use libp2p::swarm::SwarmEvent;

use super::{
    EngineError, Latency, NetworkConfig, NodeId, Region, Sim, SimConfig, Trace, TraceKind, Tracer,
};
use crate::csvfile;

type Ping = ping::Behaviour;

fn pinger(_: &libp2p::identity::Keypair) -> Ping {
    ping::Behaviour::default()
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A fresh directory under the system's temporary directory.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("libp2p-sim-engine-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the temporary directory is writable");
    dir
}

#[test]
fn nodes_added_at_chosen_indices_leave_the_others_free() {
    let mut sim = Sim::new(SimConfig::seeded(11)).unwrap();
    assert_eq!(sim.add_node_at(4, pinger), 4);
    assert_eq!(sim.add_node_at(1, pinger), 1);
    assert_eq!(sim.len(), 5);
    assert!(sim.was_added(1) && sim.was_added(4));
    assert!(!sim.was_added(0) && !sim.was_added(2) && !sim.was_added(9));
    assert_eq!(sim.running().collect::<Vec<_>>(), vec![1, 4]);
    // The key is the index's, whatever the order nodes were added in.
    assert_eq!(sim.peer_id(4), super::identity(11, 4).public().to_peer_id());
    // The next plain add takes the index after the highest.
    assert_eq!(sim.add_node(pinger), 5);
    sim.connect(1, 4);
    sim.stop(4);
    assert_eq!(sim.running().collect::<Vec<_>>(), vec![1, 5]);
    sim.restart(4);
    assert!(sim.is_running(4));
}

#[test]
#[should_panic(expected = "node 2 was added before")]
fn a_node_is_added_once() {
    let mut sim = Sim::new(SimConfig::seeded(12)).unwrap();
    sim.add_node_at(2, pinger);
    sim.add_node_at(2, pinger);
}

#[test]
fn the_step_calls_run_a_network_as_run_for_does() {
    let mut config = SimConfig::seeded(13);
    config.network.latency = Latency::Constant(ms(30));
    let mut sim = Sim::new(config).unwrap();
    let (a, b) = (sim.add_node(pinger), sim.add_node(pinger));
    sim.dial(a, b);
    // The caller's own loop: poll, then move to the next timer.
    let mut rtt = None;
    let mut moves = 0;
    while rtt.is_none() {
        sim.run_ready().unwrap();
        assert!(!sim.has_ready(), "run_ready polls until nothing is ready");
        while let Some((_, event)) = sim.pop_event(a) {
            if let SwarmEvent::Behaviour(ping::Event { result: Ok(r), .. }) = event {
                rtt = Some(r);
            }
        }
        if rtt.is_none() {
            let next = sim.next_timer().expect("a dial in flight has a timer");
            assert!(next >= sim.now());
            assert_eq!(
                sim.advance_to(next),
                next,
                "one worker: time goes where asked"
            );
            assert_eq!(sim.now(), next);
            moves += 1;
        }
    }
    // Connection set-up, the upgrade and one ping, on 30 ms links.
    assert_eq!(rtt, Some(ms(60)));
    assert!(moves > 0);
    assert!(sim.timers_fired() >= moves, "every move fired a timer");
    // Time moves only when the caller moves it: the next timer (the idle
    // connection's timeout or ping's next round) is seconds away.
    let next = sim.next_timer().expect("the connection has timers");
    assert!(next > sim.now() + Duration::from_secs(5), "{next:?}");
}

/// Only connections, named the caller's way; starts as `up`.
fn connections_only() -> Tracer<<Ping as libp2p::swarm::NetworkBehaviour>::ToSwarm> {
    fn event(e: &SwarmEvent<ping::Event>) -> Option<TraceKind> {
        match e {
            SwarmEvent::ConnectionEstablished { peer_id, .. } => Some(("linked", Some(*peer_id))),
            _ => None,
        }
    }
    Tracer {
        event,
        details: |_| "d".to_string(),
        start: "up",
        stop: "down",
        crash: "dead",
    }
}

#[test]
fn the_tracer_and_the_callers_records_decide_what_the_trace_holds() {
    let dir = scratch("tracer");
    let mut sim = Sim::with_trace_file(SimConfig::seeded(14), &dir).unwrap();
    sim.set_tracer(connections_only());
    let (a, b, c) = (
        sim.add_node(pinger),
        sim.add_node(pinger),
        sim.add_node(pinger),
    );
    sim.connect(a, b);
    let peer = sim.peer_id(b);
    sim.record(sim.now(), a, "note", Some(&peer), || "mine".to_string());
    sim.crash(b);
    sim.stop(c);
    sim.run_for(Duration::from_secs(1));
    assert_eq!(sim.trace_events(), 8);
    sim.finish_trace().unwrap();
    let text = std::fs::read_to_string(dir.join("events.csv")).unwrap();
    let rows: Vec<Vec<String>> = csvfile::records(&text)
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    let kinds: Vec<(String, String)> = rows[1..]
        .iter()
        .map(|r| (r[2].clone(), r[3].clone()))
        .collect();
    let of = |n: NodeId| n.to_string();
    let expect: Vec<(String, String)> = [
        (a, "up"),
        (b, "up"),
        (c, "up"),
        (a, "linked"),
        (b, "linked"),
        (a, "note"),
        (b, "dead"),
        (c, "down"),
    ]
    .iter()
    .map(|(n, k)| (of(*n), k.to_string()))
    .collect();
    // The two ends of a connection may report in either order.
    let mut sorted = kinds.clone();
    sorted[3..5].sort();
    assert_eq!(sorted, expect, "{rows:?}");
    let header = &rows[0];
    let details = header.iter().position(|h| h == "details").unwrap();
    assert_eq!(rows[6][details], "mine");
    assert_eq!(rows[4][details], "d");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn peeking_at_a_swarm_does_not_schedule_a_poll() {
    let mut sim = Sim::new(SimConfig::seeded(15)).unwrap();
    let (a, b) = (sim.add_node(pinger), sim.add_node(pinger));
    sim.connect(a, b);
    sim.run_ready().unwrap();
    assert!(!sim.has_ready());
    let peers = sim.peek_mut(a).expect("a runs").connected_peers().count();
    assert_eq!(peers, 1);
    assert!(!sim.has_ready(), "peek_mut leaves the schedule alone");
    let _ = sim.swarm_mut(a);
    assert!(sim.has_ready(), "swarm_mut polls the node next round");
    sim.crash(b);
    assert!(sim.peek_mut(b).is_none());
}

fn two_regions(share_a: f64) -> NetworkConfig {
    let region = |name: &str, share| Region {
        name: name.to_string(),
        share,
    };
    NetworkConfig {
        latency: Latency::Constant(ms(10)),
        regions: vec![region("eu", share_a), region("us", 1.0 - share_a)],
        latency_matrix: BTreeMap::from([
            ((0, 0), Latency::Constant(ms(5))),
            ((0, 1), Latency::Constant(ms(40))),
            ((1, 1), Latency::Constant(ms(5))),
        ]),
        ..NetworkConfig::default()
    }
}

#[test]
fn regions_place_nodes_and_set_their_latency() {
    let mut config = SimConfig::seeded(16);
    config.network = two_regions(0.5);
    let mut sim = Sim::new(config).unwrap();
    let nodes: Vec<NodeId> = (0..8).map(|_| sim.add_node(pinger)).collect();
    let region_of = sim.regions();
    let regions: Vec<usize> = nodes.iter().map(|n| sim.region_of(*n).unwrap()).collect();
    assert!(regions.contains(&0) && regions.contains(&1), "{regions:?}");
    assert!(nodes.iter().all(|n| region_of(*n) == sim.region_of(*n)));
    // One pair in the same region and one across: 5 ms and 40 ms each way.
    let same = (1..8).find(|n| regions[*n] == regions[0]).unwrap() as NodeId;
    let across = (1..8).find(|n| regions[*n] != regions[0]).unwrap() as NodeId;
    for (peer, rtt) in [(same, ms(10)), (across, ms(80))] {
        sim.connect(0, peer);
        let got = sim.wait(0, |e| match e {
            SwarmEvent::Behaviour(ping::Event {
                peer: p,
                result: Ok(r),
                ..
            }) if p == sim_peer(peer) => Some(r),
            _ => None,
        });
        assert_eq!(got, rtt);
    }
    fn sim_peer(n: NodeId) -> libp2p::PeerId {
        super::identity(16, n).public().to_peer_id()
    }
}

#[test]
fn a_network_that_cannot_work_is_refused() {
    let mut config = SimConfig::seeded(17);
    config.network = two_regions(0.5);
    config.network.regions[1].share = 0.2;
    let err = Sim::<Ping>::new(config.clone()).err().expect("refused");
    assert!(
        matches!(err, EngineError::Config(ref m) if m.contains("sum to 0.7")),
        "{err}"
    );
    config.network = two_regions(0.5);
    config.network.latency_matrix.remove(&(0, 1));
    let err = Sim::<Ping>::new(config).err().expect("refused");
    assert!(err.to_string().contains("regions eu and us"), "{err}");
}

#[test]
fn the_same_calls_run_on_tcp_in_real_time() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let _context = runtime.enter();
    let mut sim: Sim<Ping> = Sim::realtime(
        SimConfig::seeded(18),
        runtime.handle().clone(),
        Trace::hash_only(),
    );
    let (a, b) = (sim.add_node(pinger), sim.add_node(pinger));
    assert!(sim.addr(a).to_string().starts_with("/ip4/127.0.0.1/tcp/"));
    assert_eq!(sim.peer_id(b), super::identity(18, b).public().to_peer_id());
    sim.connect(a, b);
    let rtt = sim.wait(a, |e| match e {
        SwarmEvent::Behaviour(ping::Event { result: Ok(r), .. }) => Some(r),
        _ => None,
    });
    assert!(rtt < Duration::from_secs(5), "{rtt:?}");
    assert!(sim.next_timer().is_none(), "no virtual timers in real time");
    assert!(sim.net_stats().connections >= 1);
    drop(sim);
    runtime.shutdown_timeout(Duration::from_secs(1));
}
