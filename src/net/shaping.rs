//! What a byte stream meets besides latency: the sender's upload bandwidth,
//! lost segments and the receiver's download bandwidth (`[network]
//! upload_mbps`, `loss`, `loss_matrix` and `download_mbps`).
//!
//! Upload and loss act at the sender, when a write is made; download acts
//! at the receiver, in the order bytes reach its network interface. A run
//! split over workers computes each in the worker of the node concerned.
//!
//! * **Upload bandwidth.** Each node has one uplink of `upload_bps` bits
//!   per second, shared by all its connections. A write of `b` bytes starts
//!   leaving when everything written before it (by the same node, on any
//!   connection) has left, and takes `8·b / upload_bps`; it reaches the
//!   peer one latency after its last byte left. A node sending 1 MB on a
//!   10 Mbit/s uplink is busy for 0.8 s, and what it writes next waits.
//! * **Loss.** A write is cut into segments of [`MSS`] bytes; each is lost
//!   with probability `loss` (or the `loss_matrix` value for the two
//!   nodes' regions), and so is each retransmission. A segment lost `k`
//!   times arrives `RTO · (2^k − 1)` late, with `RTO = RTT + `[`MIN_RTO`]
//!   (Linux's floor over a steady round trip) doubling at each
//!   retransmission, as TCP's back-off does. TCP delivers in order, so a
//!   write arrives when its latest segment does, and nothing written after
//!   it on the connection arrives earlier: a stream slows down; no data is
//!   lost. Congestion control (the window halving after a loss) is not
//!   modelled.
//! * **Download bandwidth.** Each node has one downlink of `download_bps`
//!   bits per second, shared by all its connections and served in the
//!   order writes reach the node (ties in the order they were queued). A
//!   write whose bytes reach the node from `first` to `last` (its last
//!   byte `last`; its first one a transmission time at the sender's
//!   uplink earlier, or also `last` when uploads are unlimited) is
//!   readable at `max(last, max(free, first) + 8·b / download_bps)`, where
//!   `free` is when the downlink finished the write before it. A node
//!   receiving 1 MB on a 10 Mbit/s downlink from an unlimited sender waits
//!   0.8 s for it, and whatever reaches it meanwhile waits behind it; with
//!   equal uplink and downlink the two overlap and a lone transfer takes
//!   the time of one.
//!
//! Which writes are queued on a downlink is known at every instant for the
//! past: a write reaches the receiver no earlier than it is made. So the
//! queue is served lazily, whenever the receiver reads, for everything that
//! has arrived by then ([`Shaping::settle`]); the result does not depend on
//! when that happens.
//!
//! The loss draws come from one stream per node session, `(seed, "loss",
//! node << 32 | incarnation)`, in the order the node writes.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use rand_chacha::ChaCha12Rng;

use super::fabric::End;
use crate::scheduler::NodeId;
use crate::{dist, rng};

/// TCP's maximum segment size on a 1500-byte Ethernet path, in bytes.
pub const MSS: usize = 1460;

/// The retransmission timeout's floor above the round trip (Linux's
/// `TCP_RTO_MIN`).
pub const MIN_RTO: Duration = Duration::from_millis(200);

/// Retransmissions after which a segment counts as delivered anyway (TCP
/// would reset the connection after about 15; this keeps delays finite).
const MAX_RETRANSMISSIONS: u32 = 10;

/// The loss probability between two nodes, sender first.
pub(crate) type LossFn = Box<dyn Fn(NodeId, NodeId) -> f64 + Send + Sync>;

/// What a network shapes; the default shapes nothing.
#[derive(Default)]
pub(crate) struct Rates {
    /// Probability that a segment is lost, in `[0, 0.5]`.
    pub loss: f64,
    /// The loss between two nodes when it depends on them (a loss matrix);
    /// `None`: `loss` everywhere.
    pub loss_between: Option<LossFn>,
    /// Each node's upload bandwidth in bits per second; `None`: unlimited.
    pub upload_bps: Option<u64>,
    /// Each node's download bandwidth in bits per second; `None`:
    /// unlimited.
    pub download_bps: Option<u64>,
}

/// The receiving side of a connection, told when its queued writes have
/// come off the downlink.
pub(crate) trait Receiver: Send + Sync {
    /// The oldest of this receiver's writes still on the downlink is
    /// readable at `at`; `now` is the current virtual time.
    fn ready(&self, at: Duration, now: Duration);
}

/// Upload and download bandwidth and loss of one network, and each node's
/// state.
pub(crate) struct Shaping {
    seed: u64,
    rates: Rates,
    senders: Mutex<BTreeMap<(NodeId, u32), Sender>>,
    downlinks: Mutex<Downlinks>,
}

struct Sender {
    /// When everything written so far has left the uplink.
    uplink_free: Duration,
    rng: ChaCha12Rng,
}

#[derive(Default)]
struct Downlinks {
    /// Writes queued so far, to order those reaching a node together.
    queued: u64,
    by_node: BTreeMap<(NodeId, u32), Downlink>,
}

#[derive(Default)]
struct Downlink {
    /// When the downlink finished the last write it served.
    free: Duration,
    /// Writes not yet served, by (arrival of their last byte, queue order):
    /// their size in bytes and who reads them.
    waiting: BTreeMap<(Duration, u64), (usize, Weak<dyn Receiver>)>,
}

impl Shaping {
    /// The shaping of a network with these rates, `None` when there is
    /// nothing to shape (no loss, unlimited bandwidth): links then take the
    /// path they take without it.
    pub fn new(seed: u64, rates: Rates) -> Option<Arc<Shaping>> {
        let shapes = rates.loss > 0.0
            || rates.loss_between.is_some()
            || rates.upload_bps.is_some()
            || rates.download_bps.is_some();
        shapes.then(|| {
            Arc::new(Shaping {
                seed,
                rates,
                senders: Mutex::new(BTreeMap::new()),
                downlinks: Mutex::new(Downlinks::default()),
            })
        })
    }

    /// When `bytes` that `me` writes to `peer` at `now` on a link of
    /// one-way latency `latency` reach the other end (its last byte),
    /// before in-order delivery and the receiver's downlink are applied.
    pub fn arrival(
        &self,
        me: End,
        peer: NodeId,
        now: Duration,
        bytes: usize,
        latency: Duration,
    ) -> Duration {
        let loss = match &self.rates.loss_between {
            Some(between) => between(me.node, peer),
            None => self.rates.loss,
        };
        let mut senders = self.senders.lock().expect("shaping lock");
        let sender = senders.entry((me.node, me.incarnation)).or_insert_with(|| {
            let index = u64::from(me.node) << 32 | u64::from(me.incarnation);
            Sender {
                uplink_free: Duration::ZERO,
                rng: rng::stream(self.seed, "loss", index),
            }
        });
        let mut left = now;
        if let Some(bps) = self.rates.upload_bps {
            let start = sender.uplink_free.max(now);
            left = start + transmission(bytes, bps);
            sender.uplink_free = left;
        }
        let late = if loss > 0.0 && bytes > 0 {
            let rto = 2 * latency + MIN_RTO;
            let segments = bytes.div_ceil(MSS);
            let worst = (0..segments)
                .map(|_| losses(&mut sender.rng, loss))
                .max()
                .unwrap_or(0);
            rto * ((1u32 << worst) - 1)
        } else {
            Duration::ZERO
        };
        left + latency + late
    }

    /// Whether writes wait for the receiver's downlink.
    pub fn limits_download(&self) -> bool {
        self.rates.download_bps.is_some()
    }

    /// Queues on the downlink of `to` a write of `bytes` whose last byte
    /// reaches it at `arrive`; `reader` is told when it is readable.
    pub fn queue(&self, to: End, arrive: Duration, bytes: usize, reader: Weak<dyn Receiver>) {
        let mut downlinks = self.downlinks.lock().expect("downlink lock");
        let order = downlinks.queued;
        downlinks.queued += 1;
        let link = downlinks
            .by_node
            .entry((to.node, to.incarnation))
            .or_default();
        link.waiting.insert((arrive, order), (bytes, reader));
    }

    /// Serves, in order, every write that has reached `to` by `now`, and
    /// tells each reader when its write is readable.
    pub fn settle(&self, to: End, now: Duration) {
        let Some(down_bps) = self.rates.download_bps else {
            return;
        };
        let mut served = Vec::new();
        {
            let mut downlinks = self.downlinks.lock().expect("downlink lock");
            let Some(link) = downlinks.by_node.get_mut(&(to.node, to.incarnation)) else {
                return;
            };
            while let Some(entry) = link.waiting.first_entry() {
                let (last, _) = *entry.key();
                if last > now {
                    break;
                }
                let (bytes, reader) = entry.remove();
                let first = match self.rates.upload_bps {
                    Some(up_bps) => last.saturating_sub(transmission(bytes, up_bps)),
                    None => last,
                };
                let ready = last.max(link.free.max(first) + transmission(bytes, down_bps));
                link.free = ready;
                served.push((reader, ready));
            }
        }
        // Told outside the lock: a reader takes its own.
        for (reader, ready) in served {
            if let Some(reader) = reader.upgrade() {
                reader.ready(ready, now);
            }
        }
    }
}

/// How long `bytes` take to cross a link of `bps` bits per second
/// (rounded up to the nanosecond).
pub(crate) fn transmission(bytes: usize, bps: u64) -> Duration {
    let bits = bytes as u128 * 8;
    let nanos = (bits * 1_000_000_000).div_ceil(u128::from(bps));
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// How many times in a row one segment is lost (0: it arrives the first
/// time), at most [`MAX_RETRANSMISSIONS`].
fn losses(rng: &mut ChaCha12Rng, loss: f64) -> u32 {
    let mut k = 0;
    while k < MAX_RETRANSMISSIONS && dist::bernoulli(rng, loss) {
        k += 1;
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    fn end(node: NodeId) -> End {
        End {
            node,
            incarnation: 0,
        }
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn lossy(loss: f64) -> Rates {
        Rates {
            loss,
            ..Rates::default()
        }
    }

    fn up(bps: u64) -> Rates {
        Rates {
            upload_bps: Some(bps),
            ..Rates::default()
        }
    }

    fn down(up_bps: Option<u64>, down_bps: u64) -> Arc<Shaping> {
        let rates = Rates {
            upload_bps: up_bps,
            download_bps: Some(down_bps),
            ..Rates::default()
        };
        Shaping::new(1, rates).expect("shaped")
    }

    /// A receiver that notes when each of its writes is readable.
    #[derive(Default)]
    struct Notes(Mutex<Vec<Duration>>);

    impl Receiver for Notes {
        fn ready(&self, at: Duration, _now: Duration) {
            self.0.lock().unwrap().push(at);
        }
    }

    fn notes() -> (Arc<Notes>, Weak<dyn Receiver>) {
        let notes = Arc::new(Notes::default());
        let as_receiver: Arc<dyn Receiver> = notes.clone();
        (notes, Arc::downgrade(&as_receiver))
    }

    #[test]
    fn nothing_to_shape_is_no_shaping() {
        assert!(Shaping::new(1, Rates::default()).is_none());
        assert!(Shaping::new(1, lossy(0.01)).is_some());
        assert!(Shaping::new(1, up(1)).is_some());
        let downlink = down(None, 1);
        assert!(downlink.limits_download());
        assert!(!Shaping::new(1, up(1)).unwrap().limits_download());
        let between = Rates {
            loss_between: Some(Box::new(|_, _| 0.0)),
            ..Rates::default()
        };
        assert!(Shaping::new(1, between).is_some());
    }

    #[test]
    fn a_megabyte_on_ten_megabits_takes_0_8_s_and_the_next_write_waits() {
        assert_eq!(transmission(1_000_000, 10_000_000), ms(800));
        assert_eq!(transmission(1, 3), Duration::from_nanos(2_666_666_667));
        let s = Shaping::new(1, up(10_000_000)).expect("shaped");
        let latency = ms(50);
        assert_eq!(s.arrival(end(0), 9, ms(0), 1_000_000, latency), ms(850));
        // Written at 100 ms, it leaves after the megabyte: at 800 + 8 ms.
        assert_eq!(s.arrival(end(0), 9, ms(100), 10_000, latency), ms(858));
        // Another node's uplink is its own.
        assert_eq!(s.arrival(end(1), 9, ms(100), 10_000, latency), ms(158));
        // Once the uplink is idle, a write leaves at once.
        assert_eq!(s.arrival(end(0), 9, ms(2000), 10_000, latency), ms(2058));
        // A restarted node starts with an idle uplink.
        let again = End {
            node: 0,
            incarnation: 1,
        };
        assert_eq!(s.arrival(again, 9, ms(0), 10_000, latency), ms(58));
    }

    #[test]
    fn lost_segments_arrive_a_backed_off_timeout_late() {
        let latency = ms(40);
        let rto = ms(80 + 200);
        let s = Shaping::new(9, lossy(0.2)).expect("shaped");
        let mut late = BTreeMap::<Duration, u32>::new();
        let writes = 20_000;
        for i in 0..writes {
            let at = s.arrival(end(3), 9, ms(i), MSS, latency);
            *late.entry(at - ms(i) - latency).or_default() += 1;
        }
        // One segment each: lost k times with probability 0.8 · 0.2^k.
        let share = |d: Duration| f64::from(late.get(&d).copied().unwrap_or(0)) / writes as f64;
        assert!((share(Duration::ZERO) - 0.8).abs() < 0.015, "{late:?}");
        assert!((share(rto) - 0.16).abs() < 0.015, "{late:?}");
        assert!((share(rto * 3) - 0.032).abs() < 0.008, "{late:?}");
        assert!(late.keys().all(|d| (d.as_nanos() % rto.as_nanos()) == 0));
        // A write of many segments is as late as its latest one: with 100
        // segments at 20 % loss, nearly always at least one RTO.
        let big = (0..200)
            .filter(|&i| s.arrival(end(4), 9, ms(i), 100 * MSS, latency) > ms(i) + latency)
            .count();
        assert!(big >= 198, "{big}");
        // The same seed draws the same losses.
        let (a, b) = (
            Shaping::new(5, lossy(0.3)).unwrap(),
            Shaping::new(5, lossy(0.3)).unwrap(),
        );
        for i in 0..100 {
            assert_eq!(
                a.arrival(end(1), 9, ms(i), 5000, latency),
                b.arrival(end(1), 9, ms(i), 5000, latency)
            );
        }
    }

    #[test]
    fn a_megabyte_through_a_ten_megabit_downlink_takes_0_8_s_and_the_next_waits() {
        let s = down(None, 10_000_000);
        let me = end(1);
        let (big, big_at) = notes();
        let (small, small_at) = notes();
        // The megabyte's last byte reaches node 1 at 50 ms; 1,250 bytes
        // from another peer at 60 ms, 100 ms and 900 ms.
        s.queue(me, ms(50), 1_000_000, big_at);
        s.queue(me, ms(60), 1250, small_at.clone());
        s.queue(me, ms(100), 1250, small_at.clone());
        s.queue(me, ms(900), 1250, small_at);
        // Nothing is served before it has arrived.
        s.settle(me, ms(49));
        assert!(big.0.lock().unwrap().is_empty());
        s.settle(me, ms(100));
        assert_eq!(*big.0.lock().unwrap(), [ms(850)]);
        // Behind the megabyte, 1 ms each.
        assert_eq!(*small.0.lock().unwrap(), [ms(851), ms(852)]);
        s.settle(me, ms(2000));
        assert_eq!(*small.0.lock().unwrap(), [ms(851), ms(852), ms(901)]);
        // Another node's downlink is its own, and so is a new session's.
        let (other, other_at) = notes();
        s.queue(end(2), ms(60), 1250, other_at.clone());
        let again = End {
            node: 1,
            incarnation: 1,
        };
        s.queue(again, ms(70), 1250, other_at);
        s.settle(end(2), ms(100));
        s.settle(again, ms(100));
        assert_eq!(*other.0.lock().unwrap(), [ms(61), ms(71)]);
    }

    #[test]
    fn the_downlink_serves_in_order_of_arrival_not_of_queueing() {
        let s = down(None, 8_000_000);
        let (far, far_at) = notes();
        let (near, near_at) = notes();
        // Queued first but arriving later (a farther sender).
        s.queue(end(0), ms(100), 10_000, far_at);
        s.queue(end(0), ms(20), 10_000, near_at);
        s.settle(end(0), ms(100));
        assert_eq!(*near.0.lock().unwrap(), [ms(30)]);
        assert_eq!(*far.0.lock().unwrap(), [ms(110)]);
    }

    #[test]
    fn equal_uplink_and_downlink_overlap() {
        // Sent from a 10 Mbit/s uplink into a 10 Mbit/s downlink: the first
        // byte arrived 800 ms before the last, and the downlink kept up.
        let s = down(Some(10_000_000), 10_000_000);
        let (n, at) = notes();
        let last = s.arrival(end(0), 1, ms(0), 1_000_000, ms(50));
        assert_eq!(last, ms(850));
        s.queue(end(1), last, 1_000_000, at);
        s.settle(end(1), ms(850));
        assert_eq!(*n.0.lock().unwrap(), [ms(850)]);
        // A downlink of half the rate finishes 800 ms after the first byte
        // arrived plus 1.6 s: at 1,650 ms.
        let half = down(Some(10_000_000), 5_000_000);
        let (n, at) = notes();
        let last = half.arrival(end(0), 1, ms(0), 1_000_000, ms(50));
        half.queue(end(1), last, 1_000_000, at);
        half.settle(end(1), last);
        assert_eq!(*n.0.lock().unwrap(), [ms(1650)]);
    }

    #[test]
    fn loss_between_two_nodes_comes_from_the_pair() {
        // Node 0 loses everything it sends to node 1 (half of it at each
        // try), nothing to node 2.
        let rates = Rates {
            loss_between: Some(Box::new(|a, b| if (a, b) == (0, 1) { 0.5 } else { 0.0 })),
            ..Rates::default()
        };
        let s = Shaping::new(4, rates).expect("shaped");
        let latency = ms(10);
        let late_to = |to| {
            (0..200)
                .filter(|&i| s.arrival(end(0), to, ms(i), MSS, latency) > ms(i) + latency)
                .count()
        };
        assert_eq!(late_to(2), 0);
        let late = late_to(1);
        assert!((70..130).contains(&late), "{late} of 200");
    }
}
