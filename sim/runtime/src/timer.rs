//! `Delay`, the timer the patched `futures-timer` exposes, and the queue
//! entries shared by the virtual clock and the real-time timer thread.

use std::cmp::Ordering;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use crate::clock::{self, saturating_nanos};
use crate::realtime;

const NOT_QUEUED: u64 = u64::MAX;

/// What a queue entry does when its deadline passes.
pub(crate) enum Target {
    /// Wake this waker (a one-shot wake-up, e.g. bytes arriving on a link).
    Wake(Waker),
    /// Fire this `Delay` if it still wants to fire at this deadline.
    Delay(Weak<Shared>),
}

pub(crate) struct Entry {
    pub(crate) deadline: u64,
    pub(crate) seq: u64,
    pub(crate) target: Target,
}

impl Entry {
    /// Whether firing would do nothing whatever happens until then: the
    /// entry's `Delay` was dropped.
    pub(crate) fn is_dead(&self) -> bool {
        matches!(&self.target, Target::Delay(weak) if weak.strong_count() == 0)
    }

    /// Fires the entry at time `now`. A `Delay` that was reset to a later
    /// deadline is queued again through `requeue`. Returns whether a waker
    /// was woken.
    pub(crate) fn fire(self, now: u64, mut requeue: impl FnMut(u64, Target)) -> bool {
        match self.target {
            Target::Wake(w) => {
                w.wake();
                true
            }
            Target::Delay(weak) => {
                let Some(shared) = weak.upgrade() else {
                    return false;
                };
                // Only the entry for the deadline last queued is live; others
                // are left over from resets.
                if shared
                    .queued
                    .compare_exchange(self.deadline, NOT_QUEUED, Relaxed, Relaxed)
                    .is_err()
                {
                    return false;
                }
                let deadline = shared.deadline.load(Relaxed);
                let waker = shared.waker.lock().expect("timer waker lock").take();
                match waker {
                    Some(w) if deadline <= now => {
                        w.wake();
                        true
                    }
                    Some(w) => {
                        // Reset to later while nobody polled: keep the waker
                        // and wait for the new deadline.
                        *shared.waker.lock().expect("timer waker lock") = Some(w);
                        shared.queued.store(deadline, Relaxed);
                        requeue(deadline, Target::Delay(weak));
                        false
                    }
                    None => false,
                }
            }
        }
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    /// Reversed, so that `BinaryHeap` pops the earliest deadline first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.deadline, other.seq).cmp(&(self.deadline, self.seq))
    }
}

pub(crate) struct Shared {
    /// Nanoseconds on the clock the delay was created on.
    deadline: AtomicU64,
    /// Deadline of the live queue entry, or `NOT_QUEUED`.
    queued: AtomicU64,
    waker: Mutex<Option<Waker>>,
}

/// A future that completes at a point in time: virtual time when created
/// inside a simulation, real time otherwise.
pub struct Delay {
    shared: Arc<Shared>,
    simulated: bool,
}

impl Delay {
    /// A delay that completes `dur` from now.
    pub fn new(dur: Duration) -> Delay {
        let simulated = clock::is_simulated();
        let delay = Delay {
            shared: Arc::new(Shared {
                deadline: AtomicU64::new(0),
                queued: AtomicU64::new(NOT_QUEUED),
                waker: Mutex::new(None),
            }),
            simulated,
        };
        delay.set_deadline(dur);
        delay
    }

    /// Makes the delay complete `dur` from now instead, even if it completed.
    pub fn reset(&mut self, dur: Duration) {
        self.set_deadline(dur);
        let has_waker = self
            .shared
            .waker
            .lock()
            .expect("timer waker lock")
            .is_some();
        if has_waker {
            self.enqueue();
        }
    }

    fn now(&self) -> u64 {
        if self.simulated {
            clock::with_current(clock::Inner::now_nanos).unwrap_or(u64::MAX - 1)
        } else {
            realtime::now_nanos()
        }
    }

    fn set_deadline(&self, dur: Duration) {
        let deadline = self
            .now()
            .saturating_add(saturating_nanos(dur))
            .min(u64::MAX - 1);
        self.shared.deadline.store(deadline, Relaxed);
    }

    /// Makes sure a queue entry exists at or before the current deadline.
    /// An entry for an earlier deadline is enough: when it fires it sees the
    /// later deadline and queues itself again (see [`Entry::fire`]), so
    /// frequent resets to later deadlines (idle and keep-alive timers) do
    /// not fill the queue with stale entries.
    fn enqueue(&self) {
        let deadline = self.shared.deadline.load(Relaxed);
        let queued = self.shared.queued.load(Relaxed);
        if queued != NOT_QUEUED && queued <= deadline {
            return;
        }
        self.shared.queued.store(deadline, Relaxed);
        let target = Target::Delay(Arc::downgrade(&self.shared));
        if self.simulated {
            // A delay polled after its simulation ended never fires.
            let _ = clock::push_current(deadline, target);
        } else {
            realtime::push(deadline, target);
        }
    }
}

impl Future for Delay {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.now() >= self.shared.deadline.load(Relaxed) {
            return Poll::Ready(());
        }
        {
            let mut w = self.shared.waker.lock().expect("timer waker lock");
            match &mut *w {
                Some(old) if old.will_wake(cx.waker()) => {}
                slot => *slot = Some(cx.waker().clone()),
            }
        }
        self.enqueue();
        Poll::Pending
    }
}

impl fmt::Debug for Delay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delay")
            .field("deadline_nanos", &self.shared.deadline.load(Relaxed))
            .field("simulated", &self.simulated)
            .finish()
    }
}
