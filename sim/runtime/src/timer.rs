//! `Delay`, the timer the patched `futures-timer` exposes.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use crate::clock::{self, saturating_nanos};
use crate::entry::{NOT_QUEUED, Shared, Target};
use crate::realtime;

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
    /// later deadline and queues itself again (see
    /// [`Entry::fire`](crate::entry::Entry::fire)), so frequent resets to
    /// later deadlines (idle and keep-alive timers) do not fill the queue
    /// with stale entries.
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
