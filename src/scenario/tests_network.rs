//! Whole-file tests of `[stack]` and `[network]` (regions and the latency
//! matrix): one per class of error, each asserting line, column, key path and
//! what the message allows, plus their defaults.
//!
//! `with(extra)` puts `extra` on lines 3 and on; [`REGIONS`] fills lines 3 to 8,
//! so a matrix written after it starts on line 9.

use std::time::Duration;

use super::tests::{check, secs, with};
use super::*;

/// Two regions, `eu` and `us`, half of the nodes each (lines 3 to 8).
const REGIONS: &str = "[[network.regions]]\nname = \"eu\"\nshare = 0.5\n\
                       [[network.regions]]\nname = \"us\"\nshare = 0.5\n";

/// [`REGIONS`] followed by `matrix` from line 9.
fn regions(matrix: &str) -> String {
    with(&format!("{REGIONS}{matrix}"))
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn empty_stack_gets_every_default() {
    let scenario = Scenario::parse(&with("[stack]"), "t.toml").expect("valid");
    assert_eq!(scenario.stack, Stack::default());
    let stack = scenario.stack;
    assert_eq!(stack.security, Security::Noise);
    assert_eq!(stack.replication_factor, 20);
    assert_eq!(stack.parallelism, 3);
    assert_eq!(stack.query_timeout, secs(60));
    assert_eq!(stack.periodic_bootstrap, Some(secs(300)));
    assert_eq!(stack.identify_interval, secs(300));
    assert_eq!(stack.idle_timeout, secs(10));
    assert_eq!(stack.connection_timeout, secs(10));
}

#[test]
fn every_stack_key_is_read() {
    let src = with(
        "[stack]\nsecurity = \"plaintext\"\nreplication_factor = 256\nparallelism = 1\n\
         query_timeout = \"90s\"\nperiodic_bootstrap = \"off\"\n\
         identify_interval = \"1m\"\nidle_timeout = \"0s\"\nconnection_timeout = \"2.5s\"",
    );
    let stack = Scenario::parse(&src, "t.toml").expect("valid").stack;
    let expected = Stack {
        security: Security::Plaintext,
        replication_factor: 256,
        parallelism: 1,
        query_timeout: secs(90),
        periodic_bootstrap: None,
        identify_interval: secs(60),
        idle_timeout: Duration::ZERO,
        connection_timeout: ms(2500),
    };
    assert_eq!(stack, expected);
    let src = with("[stack]\nperiodic_bootstrap = \"30s\"\nparallelism = 64");
    let stack = Scenario::parse(&src, "t.toml").expect("valid").stack;
    assert_eq!(stack.periodic_bootstrap, Some(secs(30)));
    assert_eq!(stack.parallelism, 64);
}

#[test]
fn stack_integers_out_of_range_name_the_range() {
    check(
        &with("[stack]\nreplication_factor = 0"),
        4,
        22,
        Some("stack.replication_factor"),
        "must be from 1 to 256 (Kademlia's k), found 0",
    );
    check(
        &with("[stack]\nreplication_factor = 257"),
        4,
        22,
        Some("stack.replication_factor"),
        "must be from 1 to 256",
    );
    check(
        &with("[stack]\nparallelism = -1"),
        4,
        15,
        Some("stack.parallelism"),
        "must be from 1 to 64 (Kademlia's alpha, requests in flight per query), found -1",
    );
    check(
        &with("[stack]\nparallelism = 65"),
        4,
        15,
        Some("stack.parallelism"),
        "must be from 1 to 64",
    );
}

#[test]
fn stack_durations_must_be_positive() {
    for key in ["query_timeout", "identify_interval", "connection_timeout"] {
        check(
            &with(&format!("[stack]\n{key} = \"0s\"")),
            4,
            key.len() + 4,
            Some(&format!("stack.{key}")),
            "must be greater than 0s",
        );
    }
    check(
        &with("[stack]\nperiodic_bootstrap = \"0s\""),
        4,
        22,
        Some("stack.periodic_bootstrap"),
        r#"must be greater than 0s; write "off" to turn periodic bootstrap off"#,
    );
}

#[test]
fn stack_wrong_types_say_what_is_expected() {
    check(
        &with("[stack]\nparallelism = \"3\""),
        4,
        15,
        Some("stack.parallelism"),
        "expected an integer, found the string \"3\"",
    );
    check(
        &with("[stack]\nidle_timeout = 10"),
        4,
        16,
        Some("stack.idle_timeout"),
        "found the bare number 10; quote it and add a unit",
    );
    check(
        &with("[stack]\nperiodic_bootstrap = \"never\""),
        4,
        22,
        Some("stack.periodic_bootstrap"),
        r#""never" is not a duration; use a number and a unit: ms, s, m, h or d (e.g. "250ms", "30s", "5m"), or "off" to turn it off"#,
    );
    check(
        &with("[stack]\nperiodic_bootstrap = 5"),
        4,
        22,
        Some("stack.periodic_bootstrap"),
        "found the bare number 5; quote it and add a unit",
    );
    check(
        &with("[stack]\nidle_timeout = true"),
        4,
        16,
        Some("stack.idle_timeout"),
        "expected a duration string such as \"250ms\", \"30s\" or \"5m\", found the boolean true",
    );
}

#[test]
fn regions_and_matrix_are_read() {
    let src = regions(
        "[network.latency_matrix]\neu = { eu = \"10ms\", us = { min = \"60ms\", max = \"100ms\" } }\n\
         us.us = \"15ms\"",
    );
    let network = Scenario::parse(&src, "t.toml").expect("valid").network;
    assert_eq!(
        network.regions,
        vec![
            Region {
                name: "eu".to_owned(),
                share: 0.5
            },
            Region {
                name: "us".to_owned(),
                share: 0.5
            },
        ]
    );
    // With regions, `latency` is not used and keeps its default.
    assert_eq!(network.latency, Latency::default());
    assert_eq!(network.latency_matrix.len(), 3);
    assert_eq!(network.region_latency(0, 0), &Latency::Constant(ms(10)));
    assert_eq!(network.region_latency(1, 1), &Latency::Constant(ms(15)));
    let between = Latency::Uniform {
        min: ms(60),
        max: ms(100),
    };
    assert_eq!(network.region_latency(0, 1), &between);
    assert_eq!(network.region_latency(1, 0), &between);
}

#[test]
fn a_pair_may_be_written_either_way_round() {
    let src =
        regions("[network.latency_matrix]\nus = { eu = \"80ms\", us = \"1ms\" }\neu.eu = \"2ms\"");
    let network = Scenario::parse(&src, "t.toml").expect("valid").network;
    assert_eq!(network.latency_matrix[&(0, 1)], Latency::Constant(ms(80)));
    assert_eq!(network.latency_matrix[&(0, 0)], Latency::Constant(ms(2)));
    let single = with(
        "[[network.regions]]\nname = \"solo\"\nshare = 1\n[network.latency_matrix]\nsolo.solo = \"5ms\"",
    );
    let network = Scenario::parse(&single, "t.toml").expect("valid").network;
    assert_eq!(network.regions[0].share, 1.0);
}

#[test]
fn unknown_keys_in_regions_and_matrix_cells() {
    check(
        &with("[[network.regions]]\nname = \"eu\"\nsize = 1"),
        5,
        1,
        Some("network.regions[0].size"),
        "unknown key `size`; allowed keys: name, share",
    );
    check(
        &with("[network]\nlatency = \"5ms\"\nregion = \"eu\""),
        5,
        1,
        Some("network.region"),
        "unknown key `region`; allowed keys: latency, regions, latency_matrix",
    );
    check(
        &regions("[network.latency_matrix]\neu = { eu = { min = \"1ms\", mean = \"2ms\" } }"),
        10,
        28,
        Some("network.latency_matrix.eu.eu.mean"),
        "unknown key `mean`; allowed keys: min, max",
    );
}

#[test]
fn region_values_of_the_wrong_type() {
    check(
        &with("[[network.regions]]\nname = \"eu\"\nshare = \"half\""),
        5,
        9,
        Some("network.regions[0].share"),
        "expected a number, found the string \"half\"",
    );
    check(
        &with("[network.regions]\nname = \"eu\"\nshare = 1"),
        3,
        1,
        Some("network.regions"),
        "write [[network.regions]] with double brackets",
    );
    check(
        &regions("[network.latency_matrix]\neu = \"10ms\""),
        10,
        6,
        Some("network.latency_matrix.eu"),
        r#"expected a table of latencies by region name, e.g. eu = { eu = "10ms", us = "80ms" }, found the string "10ms""#,
    );
    check(
        &regions("[network.latency_matrix]\neu = { eu = 10 }"),
        10,
        13,
        Some("network.latency_matrix.eu.eu"),
        "found the bare number 10",
    );
}

#[test]
fn region_shares_are_fractions_that_sum_to_one() {
    let share = |value: &str| {
        with(&format!(
            "[[network.regions]]\nname = \"eu\"\nshare = {value}"
        ))
    };
    let allowed = "must be a fraction in (0, 1]: the share of the nodes placed in this region";
    check(
        &share("0"),
        5,
        9,
        Some("network.regions[0].share"),
        &format!("{allowed}, found 0"),
    );
    check(
        &share("1.5"),
        5,
        9,
        Some("network.regions[0].share"),
        &format!("{allowed}, found 1.5"),
    );
    check(
        &share("nan"),
        5,
        9,
        Some("network.regions[0].share"),
        &format!("{allowed}, found nan"),
    );
    let src = with(
        "[[network.regions]]\nname = \"eu\"\nshare = 0.5\n[[network.regions]]\nname = \"us\"\nshare = 0.4",
    );
    check(
        &src,
        3,
        1,
        Some("network.regions"),
        "the shares of the regions sum to 0.9; they must sum to 1",
    );
    // Within 1e-9 is close enough.
    let src = regions("").replace("share = 0.5\n[[", "share = 0.5000000001\n[[");
    let src = src.replace(
        "[[join]]",
        "[network.latency_matrix]\neu = { eu = \"1ms\", us = \"1ms\" }\nus.us = \"1ms\"\n[[join]]",
    );
    assert!(Scenario::parse(&src, "t.toml").is_ok(), "{src}");
}

#[test]
fn region_names_are_unique_and_plain() {
    check(
        &with(
            "[[network.regions]]\nname = \"eu\"\nshare = 0.5\n[[network.regions]]\nname = \"eu\"\nshare = 0.5",
        ),
        7,
        8,
        Some("network.regions[1].name"),
        "region \"eu\" is already defined by network.regions[0]; region names must be unique",
    );
    check(
        &with("[[network.regions]]\nname = \"e.u\"\nshare = 1"),
        4,
        8,
        Some("network.regions[0].name"),
        "\"e.u\" contains '.'; use 1 to 64 characters of A-Z, a-z, 0-9, '_' and '-'",
    );
    check(
        &with("[[network.regions]]\nname = \"\"\nshare = 1"),
        4,
        8,
        Some("network.regions[0].name"),
        "must not be empty",
    );
    check(
        &with("[network]\nregions = []"),
        4,
        11,
        Some("network.regions"),
        "needs at least one region; leave out `regions` for one flat network",
    );
}

#[test]
fn matrix_names_must_be_known_regions() {
    check(
        &regions(
            "[network.latency_matrix]\neu = { eu = \"1ms\", us = \"1ms\" }\nasia = { us = \"1ms\" }",
        ),
        11,
        1,
        Some("network.latency_matrix.asia"),
        "unknown region \"asia\"; known regions: eu, us (from [[network.regions]])",
    );
    check(
        &regions("[network.latency_matrix]\neu = { eu = \"1ms\", uk = \"1ms\" }"),
        10,
        20,
        Some("network.latency_matrix.eu.uk"),
        "unknown region \"uk\"; known regions: eu, us",
    );
}

#[test]
fn matrix_pairs_are_given_exactly_once() {
    check(
        &regions(
            "[network.latency_matrix]\neu = { eu = \"1ms\", us = \"80ms\" }\n\
             us = { us = \"1ms\", eu = \"80ms\" }",
        ),
        11,
        20,
        Some("network.latency_matrix.us.eu"),
        "the latency between regions \"eu\" and \"us\" is already given by \
         network.latency_matrix.eu.us; give the latency of each pair of regions once",
    );
    check(
        &regions("[network.latency_matrix]\neu = { eu = \"1ms\" }\nus = { us = \"1ms\" }"),
        10,
        6,
        Some("network.latency_matrix.eu.us"),
        "missing the latency between regions \"eu\" and \"us\": give it once, as eu.us or us.eu",
    );
    check(
        &regions("[network.latency_matrix]\neu = { eu = \"1ms\", us = \"1ms\" }"),
        9,
        1,
        Some("network.latency_matrix.us.us"),
        "missing the latency within region \"us\": give it once, as us.us",
    );
}

#[test]
fn matrix_cells_obey_the_latency_bounds() {
    check(
        &regions(
            "[network.latency_matrix]\neu = { eu = \"1ms\", us = { min = \"2ms\", max = \"1ms\" } }",
        ),
        10,
        33,
        Some("network.latency_matrix.eu.us.min"),
        "min (2ms) is greater than max (1ms); a latency range needs min <= max",
    );
    check(
        &regions("[network.latency_matrix]\neu = { eu = \"61s\" }"),
        10,
        13,
        Some("network.latency_matrix.eu.eu"),
        "61s is above the maximum one-way latency of 1m",
    );
}

#[test]
fn latency_and_regions_exclude_each_other() {
    check(
        &regions("[network]\nlatency = \"5ms\"\n[network.latency_matrix]\neu.eu = \"1ms\""),
        10,
        11,
        Some("network.latency"),
        "not allowed together with `regions`",
    );
    check(
        &with("[network.latency_matrix]\neu = { eu = \"1ms\" }"),
        3,
        1,
        Some("network.latency_matrix"),
        "needs [[network.regions]]",
    );
    check(
        &regions(""),
        3,
        1,
        Some("network.latency_matrix"),
        "missing required key `latency_matrix`: with [[network.regions]], give the latency of \
         every pair of regions",
    );
}

#[test]
fn missing_region_keys() {
    check(
        &with("[[network.regions]]\nshare = 1"),
        3,
        1,
        Some("network.regions[0].name"),
        "missing required key `name` (the region's name, e.g. name = \"eu\")",
    );
    check(
        &with("[[network.regions]]\nname = \"eu\""),
        3,
        1,
        Some("network.regions[0].share"),
        "missing required key `share` (the fraction of the nodes placed in this region",
    );
}

#[test]
fn loss_and_upload_bandwidth_are_read_checked_and_written_back() {
    let s = Scenario::parse(&with("[network]\nloss = 0.02\nupload_mbps = 2.5"), "t.toml")
        .expect("valid");
    assert_eq!(s.network.loss, Ratio(0.02));
    assert_eq!(s.network.upload_bps, Some(2_500_000));
    assert!(s.to_toml().contains("loss = 0.02\nupload_mbps = 2.5\n"));
    super::tests_files::assert_round_trip(&s);
    let plain = Scenario::parse(&with(""), "t.toml").expect("valid");
    assert_eq!(
        (plain.network.loss, plain.network.upload_bps),
        (Ratio(0.0), None)
    );
    // With regions too, under the same [network] table.
    let regional = with(&format!(
        "[network]\nloss = 0.01\n{REGIONS}[network.latency_matrix]\n\
         eu = {{ eu = \"5ms\", us = \"40ms\" }}\nus = {{ us = \"5ms\" }}"
    ));
    let r = Scenario::parse(&regional, "t.toml").expect("valid");
    assert_eq!(r.network.loss, Ratio(0.01));
    super::tests_files::assert_round_trip(&r);
    for bad in ["-0.1", "0.6", "nan"] {
        check(
            &with(&format!("[network]\nloss = {bad}")),
            4,
            8,
            Some("network.loss"),
            "a probability from 0 to 0.5",
        );
    }
    for bad in ["0", "-1", "100001", "inf"] {
        check(
            &with(&format!("[network]\nupload_mbps = {bad}")),
            4,
            15,
            Some("network.upload_mbps"),
            "greater than 0 and at most 100000 (Mbit/s)",
        );
    }
}
