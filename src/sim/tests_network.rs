//! The network's loss and bandwidth (`[network] loss`, `loss_matrix`,
//! `upload_mbps`, `download_mbps`) as the study sees them.

use std::time::Duration;

use super::tests::{base, go};
use crate::metrics::RunReport;
use crate::scenario::{Latency, Lookups, Ratio, Region, Scenario};

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// 20 nodes, a lookup every second from 30 s to 90 s.
fn lookups() -> Scenario {
    let mut s = base(20, secs(100));
    s.lookups.push(Lookups {
        at: secs(30),
        length: secs(60),
        rate: 1.0,
    });
    s
}

fn median_lookup(r: &RunReport) -> Duration {
    let spread = r.summary().lookup;
    assert!(spread.count > 30, "{spread:?}");
    spread.p50.expect("lookups finished")
}

#[test]
fn loss_lengthens_lookups() {
    let clean = go(&lookups());
    let mut s = lookups();
    s.network.loss = Ratio(0.05);
    let lossy = go(&s);
    let (a, b) = (median_lookup(&clean), median_lookup(&lossy));
    // A lookup is a few round trips of one or two segments each; one lost
    // segment adds a retransmission timeout of 240 to 360 ms.
    assert!(
        b > a + Duration::from_millis(100),
        "median {a:?} clean, {b:?} at 5 % loss"
    );
    assert_eq!(clean.summary().lookup_ok_rate, Some(1.0));
}

#[test]
fn a_narrow_uplink_or_downlink_slows_joins_and_lookups() {
    let clean = go(&lookups());
    let boot = |r: &RunReport| r.summary().bootstrap.p50.expect("bootstrapped");
    // 64 kbit/s: a 1 KiB message takes 128 ms to leave, or to come in.
    for way in ["up", "down"] {
        let mut s = lookups();
        match way {
            "up" => s.network.upload_bps = Some(64_000),
            _ => s.network.download_bps = Some(64_000),
        }
        let narrow = go(&s);
        let (a, b) = (median_lookup(&clean), median_lookup(&narrow));
        assert!(b > a, "median {a:?} unlimited, {b:?} at 64 kbit/s {way}");
        assert!(boot(&narrow) > boot(&clean), "{way}");
    }
}

/// `lookups()` over two regions, 30 ms within and 30 ms between them.
fn two_regions() -> Scenario {
    let mut s = lookups();
    let region = |name: &str| Region {
        name: name.into(),
        share: 0.5,
    };
    s.network.regions = vec![region("a"), region("b")];
    let same = Latency::Constant(Duration::from_millis(30));
    for pair in [(0, 0), (0, 1), (1, 1)] {
        s.network.latency_matrix.insert(pair, same.clone());
    }
    s
}

#[test]
fn loss_between_regions_lengthens_lookups() {
    let clean = go(&two_regions());
    // 5 % between the two regions, none within them.
    let mut s = two_regions();
    s.network.loss_matrix.insert((0, 1), Ratio(0.05));
    let across = go(&s);
    let (a, b) = (median_lookup(&clean), median_lookup(&across));
    assert!(
        b > a + Duration::from_millis(50),
        "median {a:?} clean, {b:?} at 5 % between regions"
    );
}
