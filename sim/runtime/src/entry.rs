//! The entries of the timer queues, shared by the virtual clock and the
//! real-time timer thread, and the state a `Delay` shares with its entries.

use std::cmp::Ordering;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, Weak};
use std::task::Waker;

pub(crate) const NOT_QUEUED: u64 = u64::MAX;

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
    pub(crate) deadline: AtomicU64,
    /// Deadline of the live queue entry, or `NOT_QUEUED`.
    pub(crate) queued: AtomicU64,
    pub(crate) waker: Mutex<Option<Waker>>,
}
