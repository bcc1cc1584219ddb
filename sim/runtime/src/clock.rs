//! The virtual clock of one simulation and its timer queue.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::task::Waker;
use std::time::Duration;

use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

use crate::entry::{Entry, Target};
use crate::queue::TimerQueue;
use crate::realtime;

thread_local! {
    /// The clock of the simulation running on this thread, if any.
    static CURRENT: RefCell<Option<Rc<Inner>>> = const { RefCell::new(None) };
}

pub(crate) struct Inner {
    /// Virtual nanoseconds since the simulation started.
    now: Cell<u64>,
    /// Tie-breaker that keeps equal deadlines in insertion order.
    seq: Cell<u64>,
    queue: RefCell<TimerQueue>,
    /// The stream every `getrandom` call on this thread draws from.
    entropy: RefCell<ChaCha20Rng>,
    entropy_bytes: Cell<u64>,
    /// Whether the patched x25519-dalek uses [`crate::dh`]'s stand-in.
    pub(crate) x25519_stand_in: Cell<bool>,
}

impl Inner {
    pub(crate) fn now_nanos(&self) -> u64 {
        self.now.get()
    }

    pub(crate) fn push(&self, deadline: u64, target: Target) {
        let seq = self.seq.get();
        self.seq.set(seq + 1);
        self.queue.borrow_mut().push(Entry {
            deadline,
            seq,
            target,
        });
    }

    pub(crate) fn fill_entropy(&self, buf: &mut [u8]) {
        self.entropy.borrow_mut().fill_bytes(buf);
        self.entropy_bytes
            .set(self.entropy_bytes.get() + buf.len() as u64);
    }
}

/// Runs `f` with the clock installed on this thread, or returns `None`.
///
/// Safe to call from `getrandom` hooks: it never initialises thread-local
/// state lazily and tolerates being called while the thread is exiting.
pub(crate) fn with_current<R>(f: impl FnOnce(&Inner) -> R) -> Option<R> {
    CURRENT
        .try_with(|c| match c.try_borrow() {
            Ok(cur) => cur.as_deref().map(f),
            Err(_) => None,
        })
        .ok()
        .flatten()
}

/// True when a simulation's clock is installed on the calling thread.
pub fn is_simulated() -> bool {
    with_current(|_| ()).is_some()
}

/// Time since the simulation started (inside one), or since this process
/// first asked for the time (outside one).
pub fn now() -> Duration {
    Duration::from_nanos(now_nanos())
}

pub(crate) fn now_nanos() -> u64 {
    with_current(Inner::now_nanos).unwrap_or_else(realtime::now_nanos)
}

/// Wakes `waker` once the clock reaches `at` (a time as returned by [`now`]).
///
/// Used by the simulated network to wake a reader when bytes arrive.
pub fn wake_at(at: Duration, waker: Waker) {
    let deadline = saturating_nanos(at);
    let target = Target::Wake(waker);
    if let Some(target) = push_current(deadline, target) {
        realtime::push(deadline, target);
    }
}

/// Pushes onto the installed clock's queue; gives the target back if none.
pub(crate) fn push_current(deadline: u64, target: Target) -> Option<Target> {
    let mut target = Some(target);
    with_current(|c| c.push(deadline, target.take().expect("taken once")));
    target
}

pub(crate) fn saturating_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos())
        .unwrap_or(u64::MAX - 1)
        .min(u64::MAX - 1)
}

/// The virtual clock of one simulation.
///
/// Owned by the scheduler; installed on the simulation's thread so that the
/// patched `web-time` and `futures-timer` crates find it.
pub struct Clock {
    inner: Rc<Inner>,
}

/// Keeps a [`Clock`] installed on the current thread; uninstalls it on drop.
#[must_use = "the clock is uninstalled when the guard is dropped"]
pub struct ClockGuard {
    _private: (),
}

impl Drop for ClockGuard {
    fn drop(&mut self) {
        CURRENT.with(|c| c.borrow_mut().take());
    }
}

impl Clock {
    /// A clock at virtual time zero whose entropy stream is ChaCha20 keyed
    /// with `entropy_seed`.
    pub fn new(entropy_seed: [u8; 32]) -> Self {
        Clock {
            inner: Rc::new(Inner {
                now: Cell::new(0),
                seq: Cell::new(0),
                queue: RefCell::new(TimerQueue::default()),
                entropy: RefCell::new(ChaCha20Rng::from_seed(entropy_seed)),
                entropy_bytes: Cell::new(0),
                x25519_stand_in: Cell::new(false),
            }),
        }
    }

    /// Makes this clock the time and entropy source of the calling thread.
    ///
    /// # Panics
    /// If another clock is already installed on this thread.
    pub fn install(&self) -> ClockGuard {
        CURRENT.with(|c| {
            let mut cur = c.borrow_mut();
            assert!(
                cur.is_none(),
                "a simulation clock is already installed on this thread"
            );
            *cur = Some(self.inner.clone());
        });
        ClockGuard { _private: () }
    }

    /// Turns the X25519 stand-in on or off for code running under this
    /// clock (off in a new clock); see [`crate::dh`]. Set it before the
    /// first key is made: keys made with the curve do not agree with keys
    /// made with the stand-in.
    pub fn use_x25519_stand_in(&self, on: bool) {
        self.inner.x25519_stand_in.set(on);
    }

    /// Virtual time since the simulation started.
    pub fn now(&self) -> Duration {
        Duration::from_nanos(self.inner.now.get())
    }

    /// The earliest pending timer, if any (it may be one whose `Delay` was
    /// dropped or reset; firing it is then a no-op).
    pub fn next_deadline(&self) -> Option<Duration> {
        self.inner
            .queue
            .borrow_mut()
            .next_deadline()
            .map(Duration::from_nanos)
    }

    /// Number of entries in the timer queue.
    pub fn pending_timers(&self) -> usize {
        self.inner.queue.borrow().len()
    }

    /// Bytes handed out by the `getrandom` hooks so far.
    pub fn entropy_bytes(&self) -> u64 {
        self.inner.entropy_bytes.get()
    }

    /// Moves virtual time to `to` and fires every timer due by then, in
    /// deadline order (ties in the order they were set). Returns how many
    /// wakers were woken.
    ///
    /// # Panics
    /// If `to` is earlier than the current time.
    pub fn advance_to(&self, to: Duration) -> usize {
        let to = saturating_nanos(to);
        assert!(
            to >= self.inner.now.get(),
            "virtual time cannot go backwards"
        );
        self.inner.now.set(to);
        let mut woken = 0;
        loop {
            let Some(entry) = self.inner.queue.borrow_mut().pop_due(to) else {
                break;
            };
            // The queue is not borrowed here: firing may push a new entry.
            if entry.fire(to, |deadline, target| self.inner.push(deadline, target)) {
                woken += 1;
            }
        }
        woken
    }
}
