//! A request-response ping-pong between two nodes, in virtual time, over
//! the seeds `LIBP2P_SIM_SEED`/`LIBP2P_SIM_SEEDS` choose.

use std::time::Duration;

use libp2p::request_response::{self, Event, Message, ProtocolSupport, json};
use libp2p::swarm::SwarmEvent;
use libp2p::{StreamProtocol, identity::Keypair};
use libp2p_sim::engine::{Sim, SimConfig, seeds};

type Pong = json::Behaviour<String, String>;

fn pong(_: &Keypair) -> Pong {
    let protocols = [(StreamProtocol::new("/pong/1"), ProtocolSupport::Full)];
    json::Behaviour::new(protocols, request_response::Config::default())
}

#[test]
fn ping_pong() {
    seeds::check(|seed| {
        let mut sim = Sim::new(SimConfig::seeded(seed)).unwrap();
        let (a, b) = (sim.add_node(pong), sim.add_node(pong));
        sim.connect(a, b);
        let peer_b = sim.peer_id(b);
        sim.swarm_mut(a)
            .behaviour_mut()
            .send_request(&peer_b, "ping".into());
        let (request, channel) = sim.wait(b, |e| match e {
            SwarmEvent::Behaviour(Event::Message {
                message:
                    Message::Request {
                        request, channel, ..
                    },
                ..
            }) => Some((request, channel)),
            _ => None,
        });
        assert_eq!(request, "ping");
        sim.swarm_mut(b)
            .behaviour_mut()
            .send_response(channel, "pong".into())
            .unwrap();
        let response = sim.wait(a, |e| match e {
            SwarmEvent::Behaviour(Event::Message {
                message: Message::Response { response, .. },
                ..
            }) => Some(response),
            _ => None,
        });
        assert_eq!(response, "pong");
    });
}

/// A peer that never answers: the request times out after the configured
/// 10 s of virtual time, which takes no wall time to speak of.
#[test]
fn an_unanswered_request_times_out_in_virtual_time() {
    seeds::check(|seed| {
        let mut sim = Sim::new(SimConfig::seeded(seed)).unwrap();
        let (a, b) = (sim.add_node(pong), sim.add_node(pong));
        sim.connect(a, b);
        let peer_b = sim.peer_id(b);
        let start = sim.now();
        sim.swarm_mut(a)
            .behaviour_mut()
            .send_request(&peer_b, "ping".into());
        // b takes the request and keeps the channel without answering.
        let _channel = sim.wait(b, |e| match e {
            SwarmEvent::Behaviour(Event::Message {
                message: Message::Request { channel, .. },
                ..
            }) => Some(channel),
            _ => None,
        });
        let failure = sim.wait(a, |e| match e {
            SwarmEvent::Behaviour(Event::OutboundFailure { error, .. }) => Some(error),
            _ => None,
        });
        assert!(
            matches!(failure, request_response::OutboundFailure::Timeout),
            "{failure:?}"
        );
        let waited = sim.now() - start;
        assert!(
            waited >= Duration::from_secs(10) && waited < Duration::from_secs(11),
            "{waited:?}"
        );
    });
}
