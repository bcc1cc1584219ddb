//! The virtual clock, its timers and the entropy hooks.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use sim_runtime::{Clock, Delay};

struct Count(AtomicUsize);
impl Wake for Count {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counter() -> (Arc<Count>, Waker) {
    let c = Arc::new(Count(AtomicUsize::new(0)));
    (c.clone(), Waker::from(c))
}

fn poll(d: &mut Delay, w: &Waker) -> Poll<()> {
    Pin::new(d).poll(&mut Context::from_waker(w))
}

const MS: Duration = Duration::from_millis(1);

#[test]
fn delay_fires_exactly_at_its_deadline() {
    let clock = Clock::new([0; 32]);
    let _g = clock.install();
    let (count, waker) = counter();
    let mut d = Delay::new(10 * MS);
    assert!(poll(&mut d, &waker).is_pending());
    assert_eq!(clock.next_deadline(), Some(10 * MS));
    clock.advance_to(9 * MS);
    assert_eq!(count.0.load(Ordering::SeqCst), 0);
    assert!(poll(&mut d, &waker).is_pending());
    clock.advance_to(10 * MS);
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    assert!(poll(&mut d, &waker).is_ready());
    assert_eq!(sim_runtime::now(), 10 * MS);
}

#[test]
fn reset_moves_the_deadline_both_ways() {
    let clock = Clock::new([0; 32]);
    let _g = clock.install();
    let (count, waker) = counter();
    let mut d = Delay::new(10 * MS);
    assert!(poll(&mut d, &waker).is_pending());
    d.reset(30 * MS);
    clock.advance_to(10 * MS);
    assert_eq!(
        count.0.load(Ordering::SeqCst),
        0,
        "the old deadline must not wake"
    );
    assert!(poll(&mut d, &waker).is_pending());
    d.reset(5 * MS); // 15 ms from start, earlier than 30
    clock.advance_to(15 * MS);
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    assert!(poll(&mut d, &waker).is_ready());
    // Reset without a poll after it still wakes at the new deadline.
    d.reset(20 * MS);
    assert!(poll(&mut d, &waker).is_pending());
    d.reset(40 * MS);
    clock.advance_to(35 * MS);
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    clock.advance_to(55 * MS);
    assert_eq!(count.0.load(Ordering::SeqCst), 2);
}

#[test]
fn dropped_delays_do_not_wake() {
    let clock = Clock::new([0; 32]);
    let _g = clock.install();
    let (count, waker) = counter();
    let mut d = Delay::new(10 * MS);
    assert!(poll(&mut d, &waker).is_pending());
    drop(d);
    assert_eq!(clock.advance_to(20 * MS), 0);
    assert_eq!(count.0.load(Ordering::SeqCst), 0);
}

#[test]
fn equal_deadlines_fire_in_the_order_they_were_set() {
    let clock = Clock::new([0; 32]);
    let _g = clock.install();
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    struct Push(usize, Arc<std::sync::Mutex<Vec<usize>>>);
    impl Wake for Push {
        fn wake(self: Arc<Self>) {
            self.1.lock().unwrap().push(self.0);
        }
    }
    for i in [3, 1, 2] {
        sim_runtime::wake_at(5 * MS, Waker::from(Arc::new(Push(i, order.clone()))));
    }
    sim_runtime::wake_at(4 * MS, Waker::from(Arc::new(Push(0, order.clone()))));
    assert_eq!(clock.advance_to(5 * MS), 4);
    assert_eq!(*order.lock().unwrap(), vec![0, 3, 1, 2]);
}

#[test]
fn entropy_follows_the_seed_inside_and_the_os_outside() {
    let draw = |seed: u8| {
        let clock = Clock::new([seed; 32]);
        let _g = clock.install();
        let mut buf = [0u8; 32];
        sim_runtime::entropy::fill(&mut buf).unwrap();
        let mut via_getrandom = [0u8; 16];
        getrandom::fill(&mut via_getrandom).unwrap();
        (buf, via_getrandom, clock.entropy_bytes())
    };
    let a = draw(1);
    assert_eq!(a, draw(1));
    assert_ne!(a.0, draw(2).0);
    assert_eq!(a.2, 48, "getrandom must go through the simulation's stream");
    let mut os1 = [0u8; 32];
    let mut os2 = [0u8; 32];
    sim_runtime::entropy::fill(&mut os1).unwrap();
    sim_runtime::entropy::fill(&mut os2).unwrap();
    assert_ne!(os1, os2, "outside a simulation bytes come from the kernel");
}

#[test]
fn real_time_delay_outside_a_simulation() {
    assert!(!sim_runtime::is_simulated());
    let start = sim_runtime::now();
    futures_lite_block_on(Delay::new(20 * MS));
    assert!(sim_runtime::now() - start >= 20 * MS);
}

/// A minimal blocking executor (the crate has no async runtime dependency).
fn futures_lite_block_on(mut f: impl Future<Output = ()> + Unpin) {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    while Pin::new(&mut f).poll(&mut cx).is_pending() {
        std::thread::park();
    }
}

#[test]
fn resets_to_later_deadlines_keep_one_queue_entry() {
    let clock = Clock::new([9; 32]);
    let _g = clock.install();
    let (count, waker) = counter();
    let mut d = Delay::new(10 * MS);
    assert!(poll(&mut d, &waker).is_pending());
    // A keep-alive timer pushed back on every bit of activity.
    for i in 1..=100 {
        d.reset((10 + i) * MS);
        assert!(poll(&mut d, &waker).is_pending());
    }
    assert_eq!(clock.pending_timers(), 1, "no stale entries");
    // The entry at 10 ms finds the deadline moved and queues itself again.
    clock.advance_to(10 * MS);
    assert_eq!(count.0.load(Ordering::SeqCst), 0);
    assert_eq!(clock.next_deadline(), Some(110 * MS));
    clock.advance_to(110 * MS);
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    assert!(poll(&mut d, &waker).is_ready());
    // A reset to an earlier deadline still fires early.
    d.reset(50 * MS);
    assert!(poll(&mut d, &waker).is_pending());
    d.reset(5 * MS);
    assert!(poll(&mut d, &waker).is_pending());
    clock.advance_to(115 * MS);
    assert_eq!(count.0.load(Ordering::SeqCst), 2);
}
