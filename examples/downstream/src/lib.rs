//! A gossipsub experiment on libp2p-sim's engine, as a user would write
//! one: real libp2p-gossipsub on 100 simulated nodes, a mesh forming, a
//! message published every second for two simulated minutes, and the
//! delivery latency of every message at every node written as CSV.

use std::collections::BTreeMap;
use std::time::Duration;

use libp2p::gossipsub::{self, IdentTopic, MessageAuthenticity, ValidationMode};
use libp2p::swarm::SwarmEvent;
use libp2p_sim::engine::{Latency, NodeId, Sim, SimConfig};
use libp2p_sim::rng;

/// What an experiment runs.
#[derive(Debug, Clone)]
pub struct Gossip {
    /// The seed of the run. Default 1.
    pub seed: u64,
    /// Nodes. Default 100.
    pub nodes: u32,
    /// Peers each node dials when it starts. Default 4.
    pub dials: u32,
    /// Time for the mesh to form before the first message. Default 10 s.
    pub warm_up: Duration,
    /// Messages, one per second. Default 120 (two minutes).
    pub messages: u32,
}

impl Default for Gossip {
    fn default() -> Self {
        Gossip {
            seed: 1,
            nodes: 100,
            dials: 4,
            warm_up: Duration::from_secs(10),
            messages: 120,
        }
    }
}

/// One delivery: message `message`, published by `publisher` at
/// `published_ms`, received by `node` at `received_ms` (virtual time, ms).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Delivery {
    pub message: u32,
    pub publisher: NodeId,
    pub node: NodeId,
    pub published_ms: u64,
    pub received_ms: u64,
    pub latency_ms: u64,
}

fn behaviour(key: &libp2p::identity::Keypair) -> gossipsub::Behaviour {
    let config = gossipsub::ConfigBuilder::default()
        .heartbeat_interval(Duration::from_secs(1))
        .validation_mode(ValidationMode::Strict)
        .build()
        .expect("a valid gossipsub configuration");
    gossipsub::Behaviour::new(MessageAuthenticity::Signed(key.clone()), config)
        .expect("signing with the node's key")
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl Gossip {
    /// Runs the experiment and returns every delivery, by message then node.
    pub fn run(&self) -> Vec<Delivery> {
        let mut config = SimConfig::seeded(self.seed);
        config.network.latency = Latency::Uniform {
            min: Duration::from_millis(10),
            max: Duration::from_millis(100),
        };
        let mut sim = Sim::new(config).expect("the build carries the patches");
        let topic = IdentTopic::new("sim-gossip");
        let nodes: Vec<NodeId> = (0..self.nodes).map(|_| sim.add_node(behaviour)).collect();
        for &n in &nodes {
            sim.swarm_mut(n)
                .behaviour_mut()
                .subscribe(&topic)
                .expect("subscribing to a topic");
        }
        // Each node dials a few others, chosen from the seed.
        for &n in &nodes[1..] {
            let mut r = rng::stream(self.seed, "topology", u64::from(n));
            for _ in 0..self.dials {
                let peer = rng::gen_below(&mut r, u64::from(self.nodes)) as NodeId;
                if peer != n {
                    sim.dial(n, peer);
                }
            }
        }
        sim.run_for(self.warm_up);
        for &n in &nodes {
            sim.drain_events(n);
        }
        let mut published: BTreeMap<u32, (NodeId, Duration)> = BTreeMap::new();
        let mut deliveries = Vec::new();
        let mut pick = rng::stream(self.seed, "publisher", 0);
        for message in 0..self.messages {
            let publisher = rng::gen_below(&mut pick, u64::from(self.nodes)) as NodeId;
            let sent = sim
                .swarm_mut(publisher)
                .behaviour_mut()
                .publish(topic.clone(), message.to_string().into_bytes());
            if sent.is_ok() {
                published.insert(message, (publisher, sim.now()));
            }
            sim.run_for(Duration::from_secs(1));
            collect(&mut sim, &nodes, &published, &mut deliveries);
        }
        // Late deliveries of the last messages.
        sim.run_for(Duration::from_secs(5));
        collect(&mut sim, &nodes, &published, &mut deliveries);
        deliveries.sort_by_key(|d| (d.message, d.node));
        deliveries
    }
}

/// Takes every node's events, keeping the gossipsub messages received.
fn collect(
    sim: &mut Sim<gossipsub::Behaviour>,
    nodes: &[NodeId],
    published: &BTreeMap<u32, (NodeId, Duration)>,
    out: &mut Vec<Delivery>,
) {
    for &node in nodes {
        for (at, event) in sim.drain_events(node) {
            let SwarmEvent::Behaviour(gossipsub::Event::Message { message, .. }) = event else {
                continue;
            };
            let Some(id) = std::str::from_utf8(&message.data)
                .ok()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            if let Some(&(publisher, sent)) = published.get(&id) {
                out.push(Delivery {
                    message: id,
                    publisher,
                    node,
                    published_ms: ms(sent),
                    received_ms: ms(at),
                    latency_ms: ms(at.saturating_sub(sent)),
                });
            }
        }
    }
}

/// The deliveries as CSV, one row each, with a header.
pub fn to_csv(deliveries: &[Delivery]) -> String {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    w.write_record([
        "message",
        "publisher",
        "node",
        "published_ms",
        "received_ms",
        "latency_ms",
    ])
    .expect("writing to memory");
    for d in deliveries {
        w.serialize(d).expect("writing to memory");
    }
    String::from_utf8(w.into_inner().expect("flushing memory")).expect("CSV of numbers is UTF-8")
}
