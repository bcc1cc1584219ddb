//! The harness's own cost, without libp2p: the virtual clock's timer queue
//! and the seeded scheduler. A regression here shows apart from libp2p's own
//! cost (compare with `discovery` and `churn`). Run with
//! `cargo bench --bench scheduler`.
//!
//! * `timers`: tasks that sleep again and again on the patched
//!   `futures-timer` `Delay` (1 µs to 1 ms, deterministic), so every event is
//!   one timer push, one timer firing and one task poll.
//! * `wakeups`: pairs of tasks that pass a token back and forth through a
//!   channel, so every event is one wake-up and one poll, with no timer.
//!
//! Throughput is in events (task polls), so criterion reports events per
//! second.

// The allocator of the `sim` binary (src/main.rs), so that the benches
// measure what a run costs there.
#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use std::task::Context;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use futures::{SinkExt, StreamExt, channel::mpsc};
use libp2p_sim::rng;
use libp2p_sim::scheduler::{NodeDriver, NodeId, Scheduler};
use sim_runtime::{Clock, Delay};

/// No swarms: only spawned tasks run.
struct NoNodes;

impl NodeDriver for NoNodes {
    fn poll_node(&mut self, _: NodeId, _: &mut Context<'_>) {}
}

/// Runs every task to completion in virtual time; returns the polls made.
fn drive(clock: &Clock, sched: &mut Scheduler) -> u64 {
    loop {
        sched.run_ready(&mut NoNodes, u64::MAX);
        match clock.next_deadline() {
            Some(t) => {
                clock.advance_to(t);
            }
            None if sched.has_ready() => {}
            None => return sched.stats().polls,
        }
    }
}

fn timers(tasks: u32, rounds: u32) -> u64 {
    let clock = Clock::new([7; 32]);
    let _guard = clock.install();
    let mut sched = Scheduler::new(rng::stream(1, "scheduler", 0));
    for t in 0..tasks {
        sched.spawn(t, async move {
            for r in 0..rounds {
                let micros = (u64::from(t) * 7919 + u64::from(r) * 104_729) % 1000 + 1;
                Delay::new(Duration::from_micros(micros)).await;
            }
        });
    }
    drive(&clock, &mut sched)
}

fn wakeups(pairs: u32, rounds: u32) -> u64 {
    let clock = Clock::new([7; 32]);
    let _guard = clock.install();
    let mut sched = Scheduler::new(rng::stream(1, "scheduler", 0));
    for p in 0..pairs {
        let (mut to_b, mut from_a) = mpsc::channel::<u32>(1);
        let (mut to_a, mut from_b) = mpsc::channel::<u32>(1);
        sched.spawn(p, async move {
            for r in 0..rounds {
                to_b.send(r).await.expect("b is alive");
                from_b.next().await.expect("b answers");
            }
        });
        sched.spawn(p, async move {
            while let Some(r) = from_a.next().await {
                if to_a.send(r).await.is_err() {
                    break;
                }
            }
        });
    }
    drive(&clock, &mut sched)
}

fn scheduler(c: &mut Criterion) {
    let rounds = 50;
    let mut group = c.benchmark_group("scheduler");
    for tasks in [1_000u32, 10_000] {
        let polls = timers(tasks, rounds);
        group.throughput(Throughput::Elements(polls));
        group.bench_with_input(BenchmarkId::new("timers", tasks), &tasks, |b, &t| {
            b.iter(|| timers(t, rounds))
        });
        let polls = wakeups(tasks / 2, rounds);
        group.throughput(Throughput::Elements(polls));
        group.bench_with_input(BenchmarkId::new("wakeups", tasks), &tasks, |b, &t| {
            b.iter(|| wakeups(t / 2, rounds))
        });
    }
    group.finish();
}

criterion_group!(benches, scheduler);
criterion_main!(benches);
