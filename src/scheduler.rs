//! The seeded single-threaded scheduler.
//!
//! A task is either a node's swarm (polled through a [`NodeDriver`], so the
//! simulation keeps direct access to every swarm between polls) or a future
//! spawned by a swarm through [`SimExecutor`] (libp2p's connection tasks).
//! Woken tasks enter a ready list; [`Scheduler::run_ready`] repeatedly picks
//! one of them uniformly at random from the scheduler's own seeded stream and
//! polls it, until none is ready. The scheduler owns no clock: the simulation
//! advances virtual time when it returns.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Wake, Waker};
use std::thread::Thread;

use rand_chacha::ChaCha12Rng;

use crate::rng;

/// Index of a node in the simulation (node 0 is the bootstrap node).
pub type NodeId = u32;

type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Polls node swarms on behalf of the scheduler.
pub trait NodeDriver {
    /// Polls node `node`'s swarm with `cx`, handling whatever it yields.
    fn poll_node(&mut self, node: NodeId, cx: &mut Context<'_>);
}

enum Kind {
    Node,
    Future(BoxFuture),
}

struct Task {
    owner: NodeId,
    kind: Kind,
    waker: Arc<TaskWaker>,
}

/// Task slot and generation, so a stale waker cannot wake a reused slot.
type Ticket = (usize, u64);

struct TaskWaker {
    ticket: Ticket,
    queued: AtomicBool,
    ready: Arc<ReadyList>,
}

/// Woken tasks, and the thread to unpark when one is woken (real-time mode
/// only: a simulation never sleeps, it advances the clock instead).
#[derive(Default)]
struct ReadyList {
    tickets: Mutex<Vec<Ticket>>,
    waiter: OnceLock<Thread>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.queued.swap(true, Ordering::AcqRel) {
            self.ready
                .tickets
                .lock()
                .expect("ready list lock")
                .push(self.ticket);
            if let Some(thread) = self.ready.waiter.get() {
                thread.unpark();
            }
        }
    }
}

/// Hands futures spawned by one node's swarm to the scheduler.
pub struct SimExecutor {
    owner: NodeId,
    spawned: Arc<Mutex<Vec<(NodeId, BoxFuture)>>>,
}

impl libp2p::swarm::Executor for SimExecutor {
    fn exec(&self, future: BoxFuture) {
        self.spawned
            .lock()
            .expect("spawn queue lock")
            .push((self.owner, future));
    }
}

/// Counters for the run summary and benchmarks.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SchedulerStats {
    /// Task polls performed.
    pub polls: u64,
    /// Tasks created (node swarms and spawned futures).
    pub spawned: u64,
    /// Tasks currently alive.
    pub live: u64,
    /// Timers that fired and woke a task (filled in by the simulation, which
    /// owns the clock).
    pub timers_fired: u64,
    /// Scenario events applied: joins, departures, samples, lookups,
    /// partitions (filled in by the simulation).
    pub scenario_events: u64,
}

impl SchedulerStats {
    /// Scheduled events: task polls, timer firings and scenario events. The
    /// unit of the "events per second" figure.
    pub fn events(&self) -> u64 {
        self.polls + self.timers_fired + self.scenario_events
    }
}

/// The ready list, the tasks and the random stream that orders them.
pub struct Scheduler {
    slots: Vec<Option<Task>>,
    generations: Vec<u64>,
    free: Vec<usize>,
    ready: Arc<ReadyList>,
    /// The slot of each node's swarm task, by node index.
    node_slots: Vec<Option<usize>>,
    /// The owner of the task being polled, if any.
    running: Option<NodeId>,
    spawned: Arc<Mutex<Vec<(NodeId, BoxFuture)>>>,
    rng: ChaCha12Rng,
    stats: SchedulerStats,
}

impl Scheduler {
    /// A scheduler whose poll order is drawn from `rng`.
    pub fn new(rng: ChaCha12Rng) -> Self {
        Scheduler {
            slots: Vec::new(),
            generations: Vec::new(),
            free: Vec::new(),
            ready: Arc::new(ReadyList::default()),
            node_slots: Vec::new(),
            running: None,
            spawned: Arc::new(Mutex::new(Vec::new())),
            rng,
            stats: SchedulerStats::default(),
        }
    }

    /// The executor to give node `owner`'s swarm.
    pub fn executor(&self, owner: NodeId) -> SimExecutor {
        SimExecutor {
            owner,
            spawned: self.spawned.clone(),
        }
    }

    /// Adds node `owner`'s swarm as a task; it is polled in the next round.
    pub fn add_node(&mut self, owner: NodeId) {
        let slot = self.insert(owner, Kind::Node);
        let i = owner as usize;
        if self.node_slots.len() <= i {
            self.node_slots.resize(i + 1, None);
        }
        self.node_slots[i] = Some(slot);
    }

    /// Makes node `owner`'s swarm ready, e.g. after the harness called into
    /// its behaviour from outside a poll (which registers no wake-up).
    pub fn wake_node(&self, owner: NodeId) {
        let slot = self.node_slots.get(owner as usize).copied().flatten();
        if let Some(task) = slot.and_then(|s| self.slots[s].as_ref()) {
            task.waker.wake_by_ref();
        }
    }

    /// Adds a future owned by node `owner`; it is polled in the next round.
    pub fn spawn(&mut self, owner: NodeId, future: impl Future<Output = ()> + Send + 'static) {
        let _ = self.insert(owner, Kind::Future(Box::pin(future)));
    }

    /// Drops every task of node `owner` (its swarm and its connections).
    pub fn remove_owner(&mut self, owner: NodeId) {
        // Tasks spawned but not adopted yet belong to the owner too.
        self.adopt_spawned();
        for slot in 0..self.slots.len() {
            if self.slots[slot].as_ref().is_some_and(|t| t.owner == owner) {
                self.remove(slot);
            }
        }
    }

    /// Drops every task, in one pass.
    pub fn remove_all(&mut self) {
        self.adopt_spawned();
        for slot in 0..self.slots.len() {
            self.remove(slot);
        }
    }

    /// The owner of the task being polled: set during a poll, so after a
    /// panic that unwound out of [`Scheduler::run_ready`] it names the node.
    pub fn running(&self) -> Option<NodeId> {
        self.running
    }

    /// Counters so far.
    pub fn stats(&self) -> SchedulerStats {
        self.stats
    }

    /// Polls ready tasks, in an order drawn from the seed, until none is
    /// ready or `budget` polls were made. Returns the number of polls.
    pub fn run_ready(&mut self, driver: &mut impl NodeDriver, budget: u64) -> u64 {
        let mut polls = 0;
        while polls < budget {
            self.adopt_spawned();
            let ticket = {
                let mut ready = self.ready.tickets.lock().expect("ready list lock");
                if ready.is_empty() {
                    break;
                }
                let i = rng::gen_below(&mut self.rng, ready.len() as u64) as usize;
                ready.swap_remove(i)
            };
            let (slot, generation) = ticket;
            if self.generations[slot] != generation {
                continue;
            }
            let Some(task) = self.slots[slot].as_mut() else {
                continue;
            };
            task.waker.queued.store(false, Ordering::Release);
            let waker = Waker::from(task.waker.clone());
            let mut cx = Context::from_waker(&waker);
            polls += 1;
            self.running = Some(task.owner);
            let done = match &mut task.kind {
                Kind::Node => {
                    driver.poll_node(task.owner, &mut cx);
                    false
                }
                Kind::Future(f) => f.as_mut().poll(&mut cx).is_ready(),
            };
            self.running = None;
            if done {
                self.remove(slot);
            }
        }
        self.stats.polls += polls;
        polls
    }

    /// Unparks `thread` whenever a task is woken, from any thread; for a
    /// loop that waits in `std::thread::park_timeout` (real-time mode). Only
    /// the first call has an effect.
    pub fn unpark_on_wake(&self, thread: Thread) {
        let _ = self.ready.waiter.set(thread);
    }

    /// True if some task is ready or waiting to be adopted.
    pub fn has_ready(&self) -> bool {
        !self
            .ready
            .tickets
            .lock()
            .expect("ready list lock")
            .is_empty()
            || !self.spawned.lock().expect("spawn queue lock").is_empty()
    }

    fn adopt_spawned(&mut self) {
        let spawned = std::mem::take(&mut *self.spawned.lock().expect("spawn queue lock"));
        for (owner, future) in spawned {
            let _ = self.insert(owner, Kind::Future(future));
        }
    }

    fn insert(&mut self, owner: NodeId, kind: Kind) -> usize {
        let slot = self.free.pop().unwrap_or_else(|| {
            self.slots.push(None);
            self.generations.push(0);
            self.slots.len() - 1
        });
        let waker = Arc::new(TaskWaker {
            ticket: (slot, self.generations[slot]),
            queued: AtomicBool::new(false),
            ready: self.ready.clone(),
        });
        waker.wake_by_ref();
        self.slots[slot] = Some(Task { owner, kind, waker });
        self.stats.spawned += 1;
        self.stats.live += 1;
        slot
    }

    fn remove(&mut self, slot: usize) {
        if let Some(task) = self.slots[slot].take() {
            if matches!(task.kind, Kind::Node) {
                self.node_slots[task.owner as usize] = None;
            }
            self.generations[slot] += 1;
            self.free.push(slot);
            self.stats.live -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::task::Poll;

    struct NoNodes;
    impl NodeDriver for NoNodes {
        fn poll_node(&mut self, _: NodeId, _: &mut Context<'_>) {}
    }

    fn order(seed: u64) -> Vec<usize> {
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut s = Scheduler::new(rng::stream(seed, "scheduler", 0));
        for i in 0..16 {
            let log = log.clone();
            s.spawn(0, async move { log.lock().unwrap().push(i) });
        }
        s.run_ready(&mut NoNodes, u64::MAX);
        log.lock().unwrap().clone()
    }

    #[test]
    fn order_is_a_function_of_the_seed() {
        assert_eq!(order(1), order(1));
        assert_ne!(order(1), order(2));
        let mut sorted = order(3);
        sorted.sort();
        assert_eq!(sorted, (0..16).collect::<Vec<_>>());
    }

    #[test]
    fn woken_tasks_run_again_and_finished_tasks_are_dropped() {
        let polls = Arc::new(AtomicUsize::new(0));
        let mut s = Scheduler::new(rng::stream(1, "scheduler", 0));
        let p = polls.clone();
        s.spawn(
            3,
            futures::future::poll_fn(move |cx| {
                if p.fetch_add(1, Ordering::SeqCst) < 4 {
                    cx.waker().wake_by_ref();
                    Poll::Pending
                } else {
                    Poll::Ready(())
                }
            }),
        );
        assert_eq!(s.run_ready(&mut NoNodes, u64::MAX), 5);
        assert_eq!(s.stats().live, 0);
        assert!(!s.has_ready());
    }

    #[test]
    fn remove_owner_drops_only_that_nodes_tasks() {
        let mut s = Scheduler::new(rng::stream(1, "scheduler", 0));
        s.spawn(1, futures::future::pending());
        s.spawn(2, futures::future::pending());
        s.run_ready(&mut NoNodes, u64::MAX);
        s.remove_owner(1);
        assert_eq!(s.stats().live, 1);
    }
}
