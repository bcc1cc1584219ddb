//! Sliding horizons: workers that meet without a barrier.
//!
//! In lookahead windows ([`workers`](super::workers)) every worker waits at
//! the end of every window for the slowest one, so the imbalance of each
//! window is paid at each. Here (Chandy–Misra–Bryant with lookahead) a
//! worker instead sends its messages and a *promise* as it goes: "I do
//! nothing before `P` unless a message I have not read yet arrives
//! earlier; I have read `r` messages". From the latest promises and the
//! messages still unread, each worker's *horizon* follows: the earliest
//! time a message not yet sent to it could arrive ([`horizons`]). A worker
//! runs every event before its horizon on its own and waits only when it
//! gets there, that is, when it is a whole lookahead ahead of the slowest
//! worker it could hear from.
//!
//! The schedule changes, the simulation does not: a worker takes in each
//! message from another worker just before its clock reaches the
//! message's arrival time, in canonical order, whenever the message was
//! received (`Network::release`), and every message reaches it before its
//! horizon passes the arrival. So the outputs are those of the barrier,
//! byte for byte, which a test checks.
//!
//! A worker's side is the [`Sliding`] trait; [`SlidingMesh`] is its local
//! backend, a Unix socket between every two workers, over which each
//! keeps the view it needs to work out its own horizon.
//!
//! [`SlidingMesh`]: super::mesh::SlidingMesh

use std::io;
use std::time::Duration;

use crate::net::Wire;

/// What came from the others: messages for this worker and its horizon
/// after them.
pub type Inbound = (Vec<Wire>, Option<Duration>);

/// A worker's link to the others under sliding horizons.
pub trait Sliding {
    /// Sends `out` (messages for other workers) and a promise: this
    /// worker does nothing before `next` (`None`: nothing ever again)
    /// unless a message it has not read arrives earlier; it has read `read`
    /// messages so far.
    fn report(&mut self, out: Vec<Wire>, next: Option<Duration>, read: u64) -> io::Result<()>;
    /// What arrived since the last call: messages for this worker and new
    /// horizons (`None`: no other worker can send anything any more), in
    /// the order they came; nothing if neither came. With `wait`, waits
    /// for at least one.
    fn receive(&mut self, wait: bool) -> io::Result<Vec<Inbound>>;
}

/// Each worker's horizon, from `floor[x]`: the earliest time worker `x`
/// may still do anything (its promise, or an unread message's arrival;
/// `None`: it is done, and ignores what it is sent; `Duration::MAX`: a
/// horizon without bound). A message reaching worker `i` is sent by some
/// `x` at an event of `x`, which happens at `floor[x]` at the earliest or
/// is caused by a message from some `y`, arriving at least `lookahead`
/// after `floor[y]`; and it arrives `lookahead` after it is sent at the
/// earliest. Longer chains arrive later still.
pub fn horizons(floor: &[Option<Duration>], lookahead: Duration) -> Vec<Duration> {
    let n = floor.len();
    let min_but = |skip: usize, of: &dyn Fn(usize) -> Duration| {
        (0..n)
            .filter(|&j| j != skip)
            .map(of)
            .min()
            .unwrap_or(Duration::MAX)
    };
    let at = |x: usize| floor[x].unwrap_or(Duration::MAX);
    let earliest: Vec<Duration> = (0..n)
        .map(|x| match floor[x] {
            Some(own) => own.min(min_but(x, &at).saturating_add(lookahead)),
            None => Duration::MAX,
        })
        .collect();
    (0..n)
        .map(|i| min_but(i, &|x| earliest[x]).saturating_add(lookahead))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: Duration = Duration::from_millis(20);
    fn ms(m: u64) -> Duration {
        Duration::from_millis(m)
    }

    #[test]
    fn a_worker_runs_a_lookahead_past_what_the_others_may_still_cause() {
        // Worker 1 waits at 500 ms, worker 0 is at 100 ms: worker 1 may
        // hear from worker 0 at 120 ms, and worker 0 from worker 1 only
        // after its own message came back, at 140 ms.
        let h = horizons(&[Some(ms(100)), Some(ms(500))], L);
        assert_eq!(h, vec![ms(140), ms(120)]);
        // Both idle until far apart: the earlier one runs to the later
        // one's time plus L.
        let h = horizons(&[Some(ms(100)), Some(ms(105))], L);
        assert_eq!(h, vec![ms(125), ms(120)]);
    }

    #[test]
    fn a_third_worker_bounds_the_others_through_its_messages() {
        // 2 at 100 ms may reach 0 and 1 at 120 ms; they answer at 140 ms
        // at the earliest.
        let h = horizons(&[Some(ms(900)), Some(ms(900)), Some(ms(100))], L);
        assert_eq!(h, vec![ms(120), ms(120), ms(140)]);
    }

    #[test]
    fn ended_workers_bound_nobody() {
        let unbounded = Duration::MAX;
        // Worker 1 is done: worker 0 hears from nobody any more.
        assert_eq!(
            horizons(&[Some(ms(100)), None], L),
            vec![unbounded, ms(120)]
        );
        assert_eq!(horizons(&[None, None], L), vec![unbounded, unbounded]);
        // A worker with nothing planned may still be woken, and answer.
        let h = horizons(&[Some(ms(100)), Some(unbounded)], L);
        assert_eq!(h, vec![ms(140), ms(120)]);
    }
}
