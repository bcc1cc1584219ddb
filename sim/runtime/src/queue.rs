//! The virtual clock's timer queue: entries ordered by (deadline, seq).
//!
//! One binary heap over every pending entry gets slow at scale: a run of
//! a few hundred nodes keeps hundreds of thousands of entries queued (link
//! deliveries, and the long timers of connections that have since closed:
//! identify's 5-minute interval, ping, idle and request timeouts), and each
//! pop walks the levels of a heap of megabytes, a cache miss per level.
//!
//! So the queue has two tiers. `near` is a heap of the entries due before
//! `horizon`; `far` holds every later entry in buckets of `2^BUCKET_SHIFT`
//! ns (~134 ms), unsorted. When `near` runs dry, the earliest bucket moves
//! into it, and entries of `Delay`s that were dropped meanwhile are
//! discarded on the way (firing them would do nothing). Pops come out in
//! exactly the order of one heap: `near` only holds deadlines below
//! `horizon`, `far` only deadlines at or above it, and ties keep their
//! sequence numbers.

use std::collections::{BTreeMap, BinaryHeap};

use crate::entry::Entry;

/// Width of a `far` bucket: 2^27 ns, about 134 ms.
const BUCKET_SHIFT: u32 = 27;

#[derive(Default)]
pub(crate) struct TimerQueue {
    /// Entries with `deadline < horizon`.
    near: BinaryHeap<Entry>,
    /// Entries with `deadline >= horizon`, by `deadline >> BUCKET_SHIFT`.
    far: BTreeMap<u64, Vec<Entry>>,
    far_len: usize,
    horizon: u64,
}

impl TimerQueue {
    pub(crate) fn push(&mut self, entry: Entry) {
        if entry.deadline < self.horizon {
            self.near.push(entry);
        } else {
            self.far
                .entry(entry.deadline >> BUCKET_SHIFT)
                .or_default()
                .push(entry);
            self.far_len += 1;
        }
    }

    /// Refills `near` from the earliest `far` bucket while it is empty, so
    /// that its top is the earliest entry of the whole queue.
    fn settle(&mut self) {
        while self.near.is_empty() {
            let Some((bucket, entries)) = self.far.pop_first() else {
                return;
            };
            self.far_len -= entries.len();
            // Deadlines are below u64::MAX, so `bucket + 1` cannot overflow.
            self.horizon = (bucket + 1).saturating_mul(1 << BUCKET_SHIFT);
            self.near
                .extend(entries.into_iter().filter(|e| !e.is_dead()));
        }
    }

    /// The earliest deadline queued.
    pub(crate) fn next_deadline(&mut self) -> Option<u64> {
        self.settle();
        self.near.peek().map(|e| e.deadline)
    }

    /// Removes and returns the earliest entry if it is due by `to`.
    pub(crate) fn pop_due(&mut self, to: u64) -> Option<Entry> {
        self.settle();
        if self.near.peek()?.deadline <= to {
            self.near.pop()
        } else {
            None
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.near.len() + self.far_len
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BinaryHeap;
    use std::sync::Weak;
    use std::task::Waker;

    use rand_chacha::ChaCha8Rng;
    use rand_core::{RngCore, SeedableRng};

    use super::{BUCKET_SHIFT, TimerQueue};
    use crate::entry::{Entry, Target};

    fn entry(deadline: u64, seq: u64, dead: bool) -> Entry {
        let target = if dead {
            // A `Delay` that is gone: its weak reference has no owner.
            Target::Delay(Weak::new())
        } else {
            Target::Wake(Waker::noop().clone())
        };
        Entry {
            deadline,
            seq,
            target,
        }
    }

    /// Random pushes (near and far deadlines, ties, dead entries) and pops,
    /// against one plain heap: the live entries come out in the same order.
    #[test]
    fn pops_in_the_order_of_one_heap() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut queue = TimerQueue::default();
        let mut reference = BinaryHeap::new();
        let (mut now, mut seq) = (0u64, 0u64);
        let (mut got, mut want) = (Vec::new(), Vec::new());
        for _ in 0..20_000 {
            if rng.next_u32() % 3 != 0 {
                let ahead = match rng.next_u32() % 4 {
                    0 => 0,
                    1 => rng.next_u64() % 1_000_000,
                    2 => rng.next_u64() % (1 << (BUCKET_SHIFT + 2)),
                    _ => rng.next_u64() % 600_000_000_000,
                };
                let dead = rng.next_u32() % 5 == 0;
                queue.push(entry(now + ahead, seq, dead));
                reference.push(entry(now + ahead, seq, dead));
                seq += 1;
            } else {
                now += rng.next_u64() % (1 << BUCKET_SHIFT);
                while let Some(e) = queue.pop_due(now) {
                    got.extend((!e.is_dead()).then_some((e.deadline, e.seq)));
                }
                while reference.peek().is_some_and(|e| e.deadline <= now) {
                    let e = reference.pop().expect("peeked");
                    want.extend((!e.is_dead()).then_some((e.deadline, e.seq)));
                }
                assert_eq!(got, want);
                let next_live = reference
                    .iter()
                    .filter(|e| !e.is_dead())
                    .map(|e| e.deadline)
                    .min();
                if let Some(live) = next_live {
                    let next = queue.next_deadline().expect("a live entry is queued");
                    assert!(next <= live, "never later than the earliest live entry");
                }
            }
        }
        while let Some(e) = queue.pop_due(u64::MAX) {
            got.extend((!e.is_dead()).then_some((e.deadline, e.seq)));
        }
        while let Some(e) = reference.pop() {
            want.extend((!e.is_dead()).then_some((e.deadline, e.seq)));
        }
        assert_eq!(got, want);
        assert!(got.len() > 5_000, "the test popped {} entries", got.len());
        assert_eq!(queue.len(), 0);
    }

    #[test]
    fn dead_entries_of_far_buckets_are_dropped_when_their_bucket_comes_up() {
        let mut queue = TimerQueue::default();
        let far = 10 << BUCKET_SHIFT;
        queue.push(entry(far, 0, true));
        queue.push(entry(far + 5, 1, false));
        queue.push(entry(far + 1, 2, true));
        assert_eq!(queue.len(), 3);
        assert_eq!(queue.next_deadline(), Some(far + 5));
        assert_eq!(queue.len(), 1, "only the live entry is left");
        // An entry due before the new horizon joins the heap directly.
        queue.push(entry(far + 2, 3, false));
        assert_eq!(queue.pop_due(far + 10).map(|e| e.seq), Some(3));
        assert_eq!(queue.pop_due(far + 4).map(|e| e.seq), None);
        assert_eq!(queue.pop_due(far + 5).map(|e| e.seq), Some(1));
        assert_eq!(queue.next_deadline(), None);
    }

    #[test]
    fn the_last_bucket_does_not_overflow_the_horizon() {
        let mut queue = TimerQueue::default();
        queue.push(entry(u64::MAX - 1, 0, false));
        assert_eq!(queue.next_deadline(), Some(u64::MAX - 1));
        queue.push(entry(u64::MAX - 2, 1, false));
        assert_eq!(queue.pop_due(u64::MAX).map(|e| e.seq), Some(1));
        assert_eq!(queue.pop_due(u64::MAX).map(|e| e.seq), Some(0));
    }
}
