//! What a byte stream meets besides latency: the sender's upload bandwidth
//! and lost segments (`[network] upload_mbps` and `loss`).
//!
//! Both act at the sender, when a write is made, so a run split over
//! workers computes them in the worker of the node that sends.
//!
//! * **Upload bandwidth.** Each node has one uplink of `upload_bps` bits
//!   per second, shared by all its connections. A write of `b` bytes starts
//!   leaving when everything written before it (by the same node, on any
//!   connection) has left, and takes `8·b / upload_bps`; it reaches the
//!   peer one latency after its last byte left. A node sending 1 MB on a
//!   10 Mbit/s uplink is busy for 0.8 s, and what it writes next waits.
//! * **Loss.** A write is cut into segments of [`MSS`] bytes; each is lost
//!   with probability `loss`, and so is each retransmission. A segment
//!   lost `k` times arrives `RTO · (2^k − 1)` late, with
//!   `RTO = RTT + `[`MIN_RTO`] (Linux's floor over a steady round trip)
//!   doubling at each retransmission, as TCP's back-off does. TCP delivers
//!   in order, so a write arrives when its latest segment does, and
//!   nothing written after it on the connection arrives earlier: a stream
//!   slows down; no data is lost. Congestion control (the window halving
//!   after a loss) is not modelled.
//!
//! The draws come from one stream per node session, `(seed, "loss", node
//! << 32 | incarnation)`, in the order the node writes.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
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

/// Upload bandwidth and loss of one network, and each sender's state.
pub(crate) struct Shaping {
    seed: u64,
    /// Probability that a segment is lost, in `[0, 1)`.
    loss: f64,
    /// Each node's upload bandwidth in bits per second; `None`: unlimited.
    upload_bps: Option<u64>,
    senders: Mutex<BTreeMap<(NodeId, u32), Sender>>,
}

struct Sender {
    /// When everything written so far has left the uplink.
    uplink_free: Duration,
    rng: ChaCha12Rng,
}

impl Shaping {
    /// The shaping of a network with these settings, `None` when there is
    /// nothing to shape (no loss, unlimited bandwidth): links then take the
    /// path they take without it.
    pub fn new(seed: u64, loss: f64, upload_bps: Option<u64>) -> Option<Arc<Shaping>> {
        (loss > 0.0 || upload_bps.is_some()).then(|| {
            Arc::new(Shaping {
                seed,
                loss,
                upload_bps,
                senders: Mutex::new(BTreeMap::new()),
            })
        })
    }

    /// When `bytes` that `me` writes at `now` on a link of one-way latency
    /// `latency` reach the other end, before in-order delivery is applied.
    pub fn arrival(&self, me: End, now: Duration, bytes: usize, latency: Duration) -> Duration {
        let mut senders = self.senders.lock().expect("shaping lock");
        let sender = senders.entry((me.node, me.incarnation)).or_insert_with(|| {
            let index = u64::from(me.node) << 32 | u64::from(me.incarnation);
            Sender {
                uplink_free: Duration::ZERO,
                rng: rng::stream(self.seed, "loss", index),
            }
        });
        let mut left = now;
        if let Some(bps) = self.upload_bps {
            let start = sender.uplink_free.max(now);
            left = start + transmission(bytes, bps);
            sender.uplink_free = left;
        }
        let late = if self.loss > 0.0 && bytes > 0 {
            let rto = 2 * latency + MIN_RTO;
            let segments = bytes.div_ceil(MSS);
            let worst = (0..segments)
                .map(|_| losses(&mut sender.rng, self.loss))
                .max()
                .unwrap_or(0);
            rto * ((1u32 << worst) - 1)
        } else {
            Duration::ZERO
        };
        left + latency + late
    }
}

/// How long `bytes` take to leave an uplink of `bps` bits per second
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

    #[test]
    fn nothing_to_shape_is_no_shaping() {
        assert!(Shaping::new(1, 0.0, None).is_none());
        assert!(Shaping::new(1, 0.01, None).is_some());
        assert!(Shaping::new(1, 0.0, Some(1)).is_some());
    }

    #[test]
    fn a_megabyte_on_ten_megabits_takes_0_8_s_and_the_next_write_waits() {
        assert_eq!(transmission(1_000_000, 10_000_000), ms(800));
        assert_eq!(transmission(1, 3), Duration::from_nanos(2_666_666_667));
        let s = Shaping::new(1, 0.0, Some(10_000_000)).expect("shaped");
        let latency = ms(50);
        assert_eq!(s.arrival(end(0), ms(0), 1_000_000, latency), ms(850));
        // Written at 100 ms, it leaves after the megabyte: at 800 + 8 ms.
        assert_eq!(s.arrival(end(0), ms(100), 10_000, latency), ms(858));
        // Another node's uplink is its own.
        assert_eq!(s.arrival(end(1), ms(100), 10_000, latency), ms(158));
        // Once the uplink is idle, a write leaves at once.
        assert_eq!(s.arrival(end(0), ms(2000), 10_000, latency), ms(2058));
        // A restarted node starts with an idle uplink.
        let again = End {
            node: 0,
            incarnation: 1,
        };
        assert_eq!(s.arrival(again, ms(0), 10_000, latency), ms(58));
    }

    #[test]
    fn lost_segments_arrive_a_backed_off_timeout_late() {
        let latency = ms(40);
        let rto = ms(80 + 200);
        let s = Shaping::new(9, 0.2, None).expect("shaped");
        let mut late = BTreeMap::<Duration, u32>::new();
        let writes = 20_000;
        for i in 0..writes {
            let at = s.arrival(end(3), ms(i), MSS, latency);
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
            .filter(|&i| s.arrival(end(4), ms(i), 100 * MSS, latency) > ms(i) + latency)
            .count();
        assert!(big >= 198, "{big}");
        // The same seed draws the same losses.
        let (a, b) = (
            Shaping::new(5, 0.3, None).unwrap(),
            Shaping::new(5, 0.3, None).unwrap(),
        );
        for i in 0..100 {
            assert_eq!(
                a.arrival(end(1), ms(i), 5000, latency),
                b.arrival(end(1), ms(i), 5000, latency)
            );
        }
    }
}
