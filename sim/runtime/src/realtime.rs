//! Real time, for code that uses the patched crates outside a simulation.
//!
//! One timer thread serves every real-time `Delay` of the process. It is
//! started on first use and never inside a simulation: a simulated `Delay`
//! only ever goes to the virtual clock's queue.

#![allow(clippy::disallowed_methods)] // the one place that reads the real clock

use std::collections::BinaryHeap;
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::entry::{Entry, Target};

static BASE: OnceLock<Instant> = OnceLock::new();
static TIMERS: OnceLock<Timers> = OnceLock::new();

struct Timers {
    queue: Mutex<(BinaryHeap<Entry>, u64)>,
    changed: Condvar,
}

/// Real nanoseconds since the process first read the time through us.
pub(crate) fn now_nanos() -> u64 {
    let base = *BASE.get_or_init(Instant::now);
    u64::try_from(base.elapsed().as_nanos()).unwrap_or(u64::MAX - 1)
}

/// Queues `target` to fire at `deadline` (real nanoseconds).
pub(crate) fn push(deadline: u64, target: Target) {
    let timers = TIMERS.get_or_init(|| {
        std::thread::Builder::new()
            .name("sim-runtime-realtime-timer".into())
            .spawn(run)
            .expect("spawning the real-time timer thread");
        Timers {
            queue: Mutex::new((BinaryHeap::new(), 0)),
            changed: Condvar::new(),
        }
    });
    let mut q = timers.queue.lock().expect("timer queue lock");
    let seq = q.1;
    q.1 += 1;
    q.0.push(Entry {
        deadline,
        seq,
        target,
    });
    drop(q);
    timers.changed.notify_one();
}

fn run() {
    let timers = loop {
        // `push` starts this thread from inside `get_or_init`.
        if let Some(t) = TIMERS.get() {
            break t;
        }
        std::thread::yield_now();
    };
    let mut q = timers.queue.lock().expect("timer queue lock");
    loop {
        let now = now_nanos();
        let mut due = Vec::new();
        while q.0.peek().is_some_and(|e| e.deadline <= now) {
            due.push(q.0.pop().expect("peeked"));
        }
        if !due.is_empty() {
            drop(q);
            for e in due {
                e.fire(now, push);
            }
            q = timers.queue.lock().expect("timer queue lock");
            continue;
        }
        q = match q.0.peek().map(|e| e.deadline - now) {
            Some(wait) => {
                timers
                    .changed
                    .wait_timeout(q, Duration::from_nanos(wait))
                    .expect("timer queue lock")
                    .0
            }
            None => timers.changed.wait(q).expect("timer queue lock"),
        };
    }
}
