//! What splitting one simulation over worker processes buys: a Kademlia
//! network (the study's behaviour: Kademlia, identify, ping, over Noise and
//! Yamux) forming on one worker or several, through the engine's API.
//!
//! ```sh
//! cargo bench --bench workers -- --nodes 300 --secs 120 --workers 2
//! ```
//!
//! Node 0 starts first; the others join over the first 20 s (evenly),
//! each through node 0, on links of 20 to 80 ms (bootstrap.toml's); the
//! run lasts `--secs` of virtual time. With `--workers N > 1` the binary
//! starts N copies of itself as workers and routes their messages (the
//! local backend of `engine::workers`; `--sync barrier` for lookahead
//! windows instead of sliding horizons). Every worker prints one line: its
//! nodes, the routing-table entries they hold at the end, its trace hash,
//! its windows, the messages it sent and received, and the wall time it
//! spent in exchanges. Time it as a whole process from outside.

// The allocator of the `sim` binary (src/main.rs).
#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use libp2p::identify;
use libp2p::swarm::SwarmEvent;
use libp2p_sim::engine::workers::{Link, Schedule, Worker, lookahead, run_local};
use libp2p_sim::engine::{Latency, NodeId, Sim, SimConfig, Trace, Workers};
use libp2p_sim::node::{self, Behaviour, BehaviourEvent};
use libp2p_sim::scenario::Stack;

struct Args {
    nodes: u32,
    secs: u64,
    workers: u32,
    /// Set in a worker child: its index and the hub's socket.
    worker: Option<(u32, PathBuf)>,
    /// Each MPI rank is a worker (`mpirun -n N ... --mpi`; feature `mpi`).
    mpi: bool,
    /// How the local workers meet.
    sync: Schedule,
}

fn args() -> Args {
    let mut args = Args {
        nodes: 100,
        secs: 120,
        workers: 1,
        worker: None,
        mpi: false,
        sync: Schedule::Sliding,
    };
    let mut it = std::env::args().skip(1);
    let mut hub = None;
    let mut index = None;
    while let Some(a) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--nodes" => args.nodes = value().parse().expect("--nodes N"),
            "--secs" => args.secs = value().parse().expect("--secs S"),
            "--workers" => args.workers = value().parse().expect("--workers N"),
            "--worker" => index = Some(value().parse().expect("--worker I")),
            "--hub" => hub = Some(PathBuf::from(value())),
            "--mpi" => args.mpi = true,
            "--sync" => {
                args.sync = match value().as_str() {
                    "sliding" => Schedule::Sliding,
                    "barrier" => Schedule::Barrier,
                    other => panic!("--sync sliding|barrier, not {other}"),
                }
            }
            // What `cargo bench` passes to every bench binary.
            "--bench" => {}
            other => panic!("unknown argument {other}"),
        }
    }
    args.worker = index.zip(hub);
    args
}

fn main() {
    let args = args();
    if args.workers > 1 && args.worker.is_none() {
        return parent(&args);
    }
    // A thread of its own, created first, as `sim run` does.
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || run(&args))
        .expect("a thread can be started")
        .join()
        .expect("the run does not panic");
}

/// Starts the workers and routes their messages.
fn parent(args: &Args) {
    let dir = std::env::temp_dir().join(format!("libp2p-sim-bench-workers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("the temporary directory is writable");
    let exe = std::env::current_exe().expect("the binary knows its path");
    let sync = match args.sync {
        Schedule::Sliding => "sliding",
        Schedule::Barrier => "barrier",
    };
    let (statuses, routed) = run_local(&dir, args.workers, args.sync, |i, socket| {
        Command::new(&exe)
            .args(["--sync", sync])
            .args(["--nodes", &args.nodes.to_string()])
            .args(["--secs", &args.secs.to_string()])
            .args(["--workers", &args.workers.to_string()])
            .args(["--worker", &i.to_string()])
            .arg("--hub")
            .arg(socket)
            .spawn()
    })
    .expect("the binary runs itself as workers");
    assert!(statuses.iter().all(|s| s.success()), "a worker failed");
    let stats = routed.expect("the hub routes every window");
    if args.sync == Schedule::Barrier {
        println!(
            "hub: {} windows, {} messages",
            stats.windows, stats.messages
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// One worker's part (or the whole network on one worker).
fn run(args: &Args) {
    let mut config = SimConfig::seeded(1);
    config.network.latency = Latency::Uniform {
        min: Duration::from_millis(20),
        max: Duration::from_millis(80),
    };
    config.external_addr = false;
    config.x25519_stand_in = true;
    let trace = Trace::hash_only();
    #[cfg(feature = "mpi")]
    let universe = args
        .mpi
        .then(|| mpi::initialize().expect("MPI starts (run under mpirun)"));
    #[cfg(feature = "mpi")]
    if let Some(universe) = &universe {
        let worker = libp2p_sim::engine::mpi::MpiExchange::worker(universe);
        let sim = Sim::on_worker(config, trace, worker).expect("this build can simulate");
        return finish(args, sim);
    }
    #[cfg(not(feature = "mpi"))]
    assert!(
        !args.mpi,
        "--mpi needs the feature: cargo bench --features mpi"
    );
    let sim: Sim<Behaviour> = match &args.worker {
        Some((index, socket)) => {
            let workers = Workers {
                index: *index,
                count: args.workers,
            };
            let link = Link::connect(socket, workers, args.sync, lookahead(&config.network))
                .expect("the other workers are there");
            let worker = Worker { workers, link };
            Sim::on_worker(config, trace, worker).expect("this build can simulate")
        }
        None => Sim::with_trace(config, trace).expect("this build can simulate"),
    };
    finish(args, sim);
    std::process::exit(0);
}

/// Runs the network on `sim` and prints what this worker saw.
fn finish(args: &Args, mut sim: Sim<Behaviour>) {
    sim.set_tracer(node::tracer());
    // As the study does: identify's listen addresses go into Kademlia, and
    // no event is queued.
    sim.on_event(|_, _, swarm, event| {
        if let SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received {
            peer_id,
            info,
            ..
        })) = event
        {
            for addr in info.listen_addrs {
                swarm.behaviour_mut().kad.add_address(&peer_id, addr);
            }
        }
        None
    });
    let stack = std::rc::Rc::new(Stack::default());
    let gap = Duration::from_secs(20) / args.nodes;
    for i in 0..args.nodes as NodeId {
        sim.run_for(gap);
        let s = stack.clone();
        sim.add_node_at(i, move |key| node::behaviour(key, &s));
        if i > 0 && sim.is_local(i) {
            let (boot, addr) = (sim.peer_id(0), sim.addr(0));
            node::join_via(sim.swarm_mut(i), &[(boot, addr)]);
        }
    }
    sim.run_for(Duration::from_secs(args.secs).saturating_sub(gap * args.nodes));
    // Done: the others may run on (the process exits without the drop).
    sim.leave();
    let local: Vec<NodeId> = sim.running().filter(|n| sim.is_local(*n)).collect();
    let entries: usize = local
        .iter()
        .map(|n| node::table_stats(sim.peek_mut(*n).expect("local and running")).entries)
        .sum();
    let who = sim.workers().map_or("one worker".to_string(), |w| {
        format!("worker {} of {}", w.index, w.count)
    });
    let windows = sim.window_stats().unwrap_or_default();
    println!(
        "{who}: {} nodes, {entries} table entries, trace {} over {} events, {} windows, {} sent, {} received, {:.2} s in exchanges",
        local.len(),
        sim.trace_hash(),
        sim.trace_events(),
        windows.windows,
        windows.sent,
        windows.received,
        windows.waiting.as_secs_f64()
    );
    // Freeing the nodes one by one would only add to the time measured.
    std::mem::forget(sim);
}
