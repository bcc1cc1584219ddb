//! `gossip [--seed N] [--nodes N] [--messages N] [--out FILE]`: runs the
//! gossipsub experiment and writes one CSV row per delivery (default
//! `gossip-seed-<N>.csv`).

use std::process::ExitCode;

use libp2p_sim_downstream::{Gossip, to_csv};

fn main() -> ExitCode {
    let mut gossip = Gossip::default();
    let mut out = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next();
        let number = || value.as_deref().and_then(|v| v.parse::<u64>().ok());
        match (flag.as_str(), number()) {
            ("--seed", Some(n)) => gossip.seed = n,
            ("--nodes", Some(n)) if (2..=10_000).contains(&n) => gossip.nodes = n as u32,
            ("--messages", Some(n)) if n <= 100_000 => gossip.messages = n as u32,
            ("--out", _) if value.is_some() => out = value.clone(),
            _ => {
                eprintln!(
                    "error: {flag} {}: usage: gossip [--seed N] [--nodes 2..10000] [--messages N] [--out FILE]",
                    value.unwrap_or_default()
                );
                return ExitCode::from(2);
            }
        }
    }
    let out = out.unwrap_or_else(|| format!("gossip-seed-{}.csv", gossip.seed));
    let deliveries = gossip.run();
    let tmp = format!("{out}.tmp");
    if let Err(e) =
        std::fs::write(&tmp, to_csv(&deliveries)).and_then(|()| std::fs::rename(&tmp, &out))
    {
        eprintln!("error: writing {out}: {e}");
        return ExitCode::FAILURE;
    }
    let mut latencies: Vec<u64> = deliveries.iter().map(|d| d.latency_ms).collect();
    latencies.sort_unstable();
    let median = latencies.get(latencies.len() / 2).copied().unwrap_or(0);
    println!(
        "{} deliveries of {} messages to {} nodes; median latency {median} ms -> {out}",
        deliveries.len(),
        gossip.messages,
        gossip.nodes
    );
    ExitCode::SUCCESS
}
