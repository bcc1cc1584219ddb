//! Real-time mode (`sim run --realtime`): the same scenario, the same nodes
//! and the same measurements, on TCP over 127.0.0.1 with the real clock.
//!
//! This is the simulator's fidelity check, not a simulation: nothing here is
//! deterministic. What changes against a simulated run:
//!
//! * **Transport.** Each node listens on a free TCP port of 127.0.0.1 and
//!   dials the others there (`/ip4/127.0.0.1/tcp/<port>`), through
//!   `libp2p-tcp`'s tokio transport with `TCP_NODELAY`, under the same Noise
//!   (or plaintext) + Yamux upgrade. Latency is loopback's; the scenario's
//!   latency model cannot be applied, so [`check`] refuses a scenario that
//!   sets one (and partitions).
//! * **Time.** No virtual clock is installed: libp2p's timers and
//!   `Instant::now()` run on the real clock (the patched crates fall back to
//!   it outside a simulation), and the scenario timeline waits for the wall
//!   clock.
//! * **Threads.** A tokio multi-thread runtime drives the sockets and runs
//!   every connection task (Noise handshakes, Yamux, protocol handlers) on
//!   its worker threads, as in a libp2p application. The swarms themselves
//!   are polled by the run's own thread, which also applies scenario events
//!   and takes the measurements (it needs each swarm's routing table).
//!
//! The engine runs the nodes (`engine::Sim::realtime`) on `net::TcpNet`,
//! whose counters come from a wrapper around each TCP stream: connections
//! (counted at the listening end), bytes and writes (both ends),
//! connections open now, and dials refused.

use crate::scenario::Scenario;

/// Largest scenario real-time mode accepts, in nodes (see the README's
/// "Fidelity"): at 200 nodes this 2-core machine keeps up with the timeline
/// but CPU queueing already triples the median time to the first bootstrap;
/// at 300 the run needs more sockets than the open-file limit (20,000).
pub const MAX_NODES: usize = 200;

/// Open files a real-time run of `nodes` nodes may need: one socket per end
/// of every connection, in one process, and Kademlia connects most pairs of
/// a small network (measured: 200 nodes ran within 20,000 files, 300 ran
/// out of them 41 s in).
pub fn files_needed(nodes: usize) -> u64 {
    let n = nodes as u64;
    n * n.saturating_sub(1) / 2 + 64
}

/// Why a scenario cannot run in real time.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Refusal {
    /// The scenario sets link latency, which loopback cannot reproduce.
    #[error(
        "network.latency is {0}: real-time mode runs on loopback, whose latency a scenario cannot set; use latency = \"0ms\" (and see the README's \"Fidelity\" for emulating latency with tc netem)"
    )]
    Latency(String),
    /// Regions and a latency matrix: the same reason.
    #[error("network.regions: real-time mode runs on loopback and has no regions")]
    Regions,
    /// Loss and bandwidth are properties of the simulated network.
    #[error(
        "network.{0}: real-time mode runs on loopback, which neither loses segments nor limits bandwidth; remove it (or emulate it with tc netem, see the README's \"Fidelity\")"
    )]
    Shaping(&'static str),
    /// Partitions need the simulated network.
    #[error(
        "partition: real-time mode cannot cut loopback connections; remove the [[partition]] workloads"
    )]
    Partitions,
    /// Too many nodes for this machine to keep up in real time.
    #[error(
        "{0} nodes: real-time mode accepts at most {MAX_NODES} (above that this machine falls behind the scenario's timeline); scale it down with --nodes"
    )]
    TooLarge(usize),
    /// The process may not open enough sockets.
    #[error(
        "{nodes} nodes: a real-time run may need about {needed} open files (sockets) and this process may open {limit}; raise `ulimit -n` or scale it down with --nodes"
    )]
    Files {
        /// Nodes of the scenario.
        nodes: usize,
        /// [`files_needed`] for them.
        needed: u64,
        /// The open-file limit of the process.
        limit: u64,
    },
}

/// Checks that `scenario` can run in real time in a process that may open
/// `file_limit` files (see [`raise_fd_limit`]).
pub fn check(scenario: &Scenario, file_limit: u64) -> Result<(), Refusal> {
    let network = &scenario.network;
    if !network.regions.is_empty() {
        return Err(Refusal::Regions);
    }
    let (min, max) = network.latency.bounds();
    if !max.is_zero() {
        let text = if min == max {
            format!("{min:?}")
        } else {
            format!("{min:?} to {max:?}")
        };
        return Err(Refusal::Latency(text));
    }
    if network.loss.0 > 0.0 {
        return Err(Refusal::Shaping("loss"));
    }
    if network.upload_bps.is_some() {
        return Err(Refusal::Shaping("upload_mbps"));
    }
    if network.download_bps.is_some() {
        return Err(Refusal::Shaping("download_mbps"));
    }
    if !scenario.partitions.is_empty() {
        return Err(Refusal::Partitions);
    }
    if scenario.node_count() > MAX_NODES {
        return Err(Refusal::TooLarge(scenario.node_count()));
    }
    let needed = files_needed(scenario.node_count());
    if needed > file_limit {
        return Err(Refusal::Files {
            nodes: scenario.node_count(),
            needed,
            limit: file_limit,
        });
    }
    Ok(())
}

/// Raises the soft limit of open files to the hard limit: every node holds
/// a socket per connection, and a real-time run of a few hundred nodes opens
/// tens of thousands. Returns the soft limit now in force.
pub fn raise_fd_limit() -> u64 {
    // SAFETY: `getrlimit`/`setrlimit` only read and write the struct given.
    unsafe {
        let mut limit: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 0;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                return raised.rlim_cur as u64;
            }
        }
        limit.rlim_cur as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLENTY: u64 = 1 << 20;

    fn scenario(extra: &str) -> Scenario {
        let text = format!("name = \"t\"\nduration = \"10s\"\n[[join]]\ncount = 5\n{extra}");
        Scenario::parse(&text, "t.toml").expect("a valid scenario")
    }

    #[test]
    fn check_accepts_zero_latency_and_refuses_what_loopback_cannot_do() {
        let zero = "[network]\nlatency = \"0ms\"\n";
        assert_eq!(check(&scenario(zero), PLENTY), Ok(()));
        // The default latency (20-80 ms) cannot be reproduced on loopback.
        assert!(matches!(
            check(&scenario(""), PLENTY),
            Err(Refusal::Latency(_))
        ));
        assert!(matches!(
            check(&scenario("[network]\nlatency = \"5ms\"\n"), PLENTY),
            Err(Refusal::Latency(_))
        ));
        let split =
            format!("{zero}[[partition]]\nat = \"1s\"\nfor = \"1s\"\ngroups = [0.5, 0.5]\n");
        assert_eq!(check(&scenario(&split), PLENTY), Err(Refusal::Partitions));
        let lossy = format!("{zero}loss = 0.01\n");
        assert_eq!(
            check(&scenario(&lossy), PLENTY),
            Err(Refusal::Shaping("loss"))
        );
        let narrow = format!("{zero}upload_mbps = 10\n");
        assert_eq!(
            check(&scenario(&narrow), PLENTY),
            Err(Refusal::Shaping("upload_mbps"))
        );
        let narrow_down = format!("{zero}download_mbps = 10\n");
        assert_eq!(
            check(&scenario(&narrow_down), PLENTY),
            Err(Refusal::Shaping("download_mbps"))
        );
        let big = scenario(zero).scaled(MAX_NODES as u32 + 1).expect("scales");
        assert_eq!(check(&big, PLENTY), Err(Refusal::TooLarge(MAX_NODES + 1)));
        let largest = scenario(zero).scaled(MAX_NODES as u32).expect("scales");
        assert_eq!(check(&largest, PLENTY), Ok(()));
        // 200 nodes ran within 20,000 open files.
        assert_eq!(check(&largest, 20_000), Ok(()));
        assert_eq!(
            check(&largest, 1024),
            Err(Refusal::Files {
                nodes: MAX_NODES,
                needed: files_needed(MAX_NODES),
                limit: 1024
            })
        );
    }
}
