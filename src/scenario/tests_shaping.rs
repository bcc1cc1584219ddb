//! Whole-file tests of `[network] download_mbps` and `[network.loss_matrix]`:
//! what they are read as, how they are written back, and one test per class
//! of error with its line, column and key.

use super::tests::{check, with};
use super::*;

/// `[network]` with `loss = 0.01`, two regions and their latencies (lines 3
/// to 13), then `loss_matrix` from line 14.
fn lossy_regions(loss_matrix: &str) -> String {
    with(&format!(
        "[network]\nloss = 0.01\n\
         [[network.regions]]\nname = \"eu\"\nshare = 0.5\n\
         [[network.regions]]\nname = \"us\"\nshare = 0.5\n\
         [network.latency_matrix]\neu = {{ eu = \"5ms\", us = \"40ms\" }}\nus = {{ us = \"5ms\" }}\n\
         {loss_matrix}"
    ))
}

#[test]
fn download_bandwidth_is_read_checked_and_written_back() {
    let s = Scenario::parse(&with("[network]\ndownload_mbps = 0.5"), "t.toml").expect("valid");
    assert_eq!(s.network.download_bps, Some(500_000));
    assert_eq!(s.network.upload_bps, None);
    assert!(s.to_toml().contains("download_mbps = 0.5\n"));
    super::tests_files::assert_round_trip(&s);
    let plain = Scenario::parse(&with(""), "t.toml").expect("valid");
    assert_eq!(plain.network.download_bps, None);
    for bad in ["0", "-1", "100001", "nan"] {
        check(
            &with(&format!("[network]\ndownload_mbps = {bad}")),
            4,
            17,
            Some("network.download_mbps"),
            "greater than 0 and at most 100000 (Mbit/s)",
        );
    }
}

#[test]
fn the_loss_matrix_is_read_by_pair_either_way_round_and_written_back() {
    let text = lossy_regions("[network.loss_matrix]\nus = { eu = 0.05, us = 0 }");
    let s = Scenario::parse(&text, "t.toml").expect("valid");
    let pairs: Vec<((usize, usize), Ratio)> = s.network.loss_matrix.clone().into_iter().collect();
    assert_eq!(pairs, [((0, 1), Ratio(0.05)), ((1, 1), Ratio(0.0))]);
    // The pairs it names, and `loss` for the one it leaves out.
    assert_eq!(s.network.region_loss(1, 0), 0.05);
    assert_eq!(s.network.region_loss(1, 1), 0.0);
    assert_eq!(s.network.region_loss(0, 0), 0.01);
    assert!(
        s.to_toml()
            .contains("[network.loss_matrix]\neu = { us = 0.05 }\nus = { us = 0.0 }\n"),
        "{}",
        s.to_toml()
    );
    super::tests_files::assert_round_trip(&s);
    let without = Scenario::parse(&lossy_regions(""), "t.toml").expect("valid");
    assert!(without.network.loss_matrix.is_empty());
    assert!(!without.to_toml().contains("loss_matrix"));
}

#[test]
fn loss_matrix_errors_name_the_cell() {
    check(
        &with("[network]\nloss_matrix = { a = { a = 0.1 } }"),
        4,
        15,
        Some("network.loss_matrix"),
        "needs [[network.regions]]",
    );
    check(
        &lossy_regions("[network.loss_matrix]\neu = { asia = 0.1 }"),
        15,
        8,
        Some("network.loss_matrix.eu.asia"),
        "unknown region \"asia\"; known regions: eu, us",
    );
    check(
        &lossy_regions("[network.loss_matrix]\nmars = { eu = 0.1 }"),
        15,
        1,
        Some("network.loss_matrix.mars"),
        "unknown region \"mars\"",
    );
    check(
        &lossy_regions("[network.loss_matrix]\neu = { us = 0.1 }\nus = { eu = 0.2 }"),
        16,
        8,
        Some("network.loss_matrix.us.eu"),
        "the loss between regions \"eu\" and \"us\" is already given by \
         network.loss_matrix.eu.us",
    );
    check(
        &lossy_regions("[network.loss_matrix]\neu = { eu = 0.7 }"),
        15,
        13,
        Some("network.loss_matrix.eu.eu"),
        "must be a probability from 0 to 0.5",
    );
}
