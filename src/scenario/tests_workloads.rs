//! Whole-file tests of the workload lists: `[[join]]`'s `arrival`, `[[leave]]`,
//! `[[partition]]`, `[[lookups]]` (`[[churn]]` is in `tests_churn.rs`). One test
//! per class of error, each asserting line, column, key path and what the
//! message allows, plus the defaults of each workload.
//!
//! `after_join(extra)` is a 10-minute scenario of 5 nodes with `extra` from
//! line 5 on.

use std::time::Duration;

use super::tests::{check, secs};
use super::*;

pub(super) fn after_join(extra: &str) -> String {
    format!("name = \"t\"\nduration = \"10m\"\n[[join]]\ncount = 5\n{extra}\n")
}

pub(super) fn parse(src: &str) -> Scenario {
    match Scenario::parse(src, "t.toml") {
        Ok(scenario) => scenario,
        Err(err) => panic!("{err}\n{src}"),
    }
}

#[test]
fn join_arrival() {
    let scenario = parse(&after_join(
        "[[join]]\nat = \"1m\"\ncount = 10\nover = \"5m\"\narrival = \"poisson\"",
    ));
    assert_eq!(scenario.joins[0].arrival, Arrival::Uniform);
    assert_eq!(scenario.joins[1].arrival, Arrival::Poisson);
    let join =
        |line: &str| format!("name = \"t\"\nduration = \"10m\"\n[[join]]\ncount = 5\n{line}\n");
    check(
        &join("arrival = \"burst\""),
        5,
        11,
        Some("join[0].arrival"),
        r#""burst" is not an arrival process; use "uniform", "poisson" or "even""#,
    );
    check(
        &join("arrival = 1"),
        5,
        11,
        Some("join[0].arrival"),
        r#"expected "uniform", "poisson" or "even", found the integer 1"#,
    );
    check(
        &join("arrival = \"poisson\""),
        5,
        11,
        Some("join[0].arrival"),
        "a Poisson process needs a window: set over > 0s",
    );
}

#[test]
fn leave_defaults_and_keys() {
    let scenario = parse(&after_join(
        "[[leave]]\nat = \"1m\"\nnode = 0\n[[leave]]\nat = \"2m\"\ncount = 4\nmode = \"crash\"",
    ));
    assert_eq!(
        scenario.leaves,
        vec![
            Leave {
                at: secs(60),
                who: LeaveWho::Node(0),
                mode: Departure::Graceful,
            },
            Leave {
                at: secs(120),
                who: LeaveWho::Count(4),
                mode: Departure::Crash,
            },
        ]
    );
}

#[test]
fn leave_errors() {
    let leave = |lines: &str| after_join(&format!("[[leave]]\n{lines}"));
    check(
        &leave("at = \"1m\"\nnode = 1\nhow = \"crash\""),
        8,
        1,
        Some("leave[0].how"),
        "unknown key `how`; allowed keys: at, node, count, mode",
    );
    check(
        &leave("node = 1"),
        5,
        1,
        Some("leave[0].at"),
        "missing required key `at` (when the nodes leave, e.g. at = \"5m\")",
    );
    check(
        &leave("at = \"1m\""),
        5,
        1,
        Some("leave[0]"),
        "missing required key `node` or `count`",
    );
    check(
        &leave("at = \"1m\"\nnode = 1\ncount = 2"),
        8,
        9,
        Some("leave[0].count"),
        "give either `node` or `count`, not both",
    );
    check(
        &leave("at = \"1m\"\nnode = 5"),
        7,
        8,
        Some("leave[0].node"),
        "node 5 does not exist: the [[join]] sections create 5 nodes, numbered 0 to 4",
    );
    check(
        &leave("at = \"1m\"\nnode = -1"),
        7,
        8,
        Some("leave[0].node"),
        "node -1 does not exist",
    );
    check(
        &leave("at = \"1m\"\nnode = \"first\""),
        7,
        8,
        Some("leave[0].node"),
        "expected an integer, found the string \"first\"",
    );
    check(
        &leave("at = \"1m\"\ncount = 0"),
        7,
        9,
        Some("leave[0].count"),
        "must be at least 1, found 0",
    );
    check(
        &leave("at = \"1m\"\ncount = 5"),
        7,
        9,
        Some("leave[0].count"),
        "takes 5 nodes away, but the [[join]] sections create only 4 nodes besides node 0",
    );
    check(
        &leave("at = \"10m\"\nnode = 1"),
        6,
        6,
        Some("leave[0].at"),
        "10m is not before the end of the scenario (duration = 10m); a [[leave]] must happen \
         before the run ends",
    );
    check(
        &leave("at = \"1m\"\nnode = 1\nmode = \"vanish\""),
        8,
        8,
        Some("leave[0].mode"),
        r#""vanish" is not a departure mode; use "graceful" or "crash""#,
    );
}

/// Two regions, `a` and `b`, with their matrix, from line 5 to line 13;
/// `partition(lines)` adds a `[[partition]]` header on line 14 and `lines` from
/// line 15 on.
const REGIONS: &str = "[[network.regions]]\nname = \"a\"\nshare = 0.5\n\
                       [[network.regions]]\nname = \"b\"\nshare = 0.5\n\
                       [network.latency_matrix]\na = { a = \"1ms\", b = \"2ms\" }\nb.b = \"1ms\"";

fn partition(lines: &str) -> String {
    after_join(&format!("{REGIONS}\n[[partition]]\n{lines}"))
}

#[test]
fn partition_defaults_and_splits() {
    let scenario = parse(&partition(
        "for = \"1m\"\ngroups = [0.25, 0.75]\n[[partition]]\nat = \"1m\"\nfor = \"2m\"\n\
         regions = [[\"b\"], [\"a\"]]\n[[partition]]\nat = \"3m\"\nfor = \"7m\"\n\
         groups = [0.2, 0.3, 0.5]",
    ));
    assert_eq!(
        scenario.partitions,
        vec![
            Partition {
                at: Duration::ZERO,
                length: secs(60),
                split: Split::Fractions(vec![0.25, 0.75]),
            },
            Partition {
                at: secs(60),
                length: secs(120),
                split: Split::Regions(vec![vec![1], vec![0]]),
            },
            Partition {
                at: secs(180),
                length: secs(420),
                split: Split::Fractions(vec![0.2, 0.3, 0.5]),
            },
        ]
    );
}

#[test]
fn partition_shape_errors() {
    check(
        &partition("for = \"1m\"\ngroups = [0.5, 0.5]\nsides = 2"),
        17,
        1,
        Some("partition[0].sides"),
        "unknown key `sides`; allowed keys: at, for, groups, regions",
    );
    check(
        &partition("groups = [0.5, 0.5]"),
        14,
        1,
        Some("partition[0].for"),
        "missing required key `for` (how long the partition lasts, e.g. for = \"5m\")",
    );
    check(
        &partition("for = \"1m\""),
        14,
        1,
        Some("partition[0]"),
        "missing required key `groups` or `regions` (e.g. groups = [0.5, 0.5], or regions = ",
    );
    check(
        &partition("for = \"1m\"\ngroups = [0.5, 0.5]\nregions = [[\"a\"], [\"b\"]]"),
        17,
        11,
        Some("partition[0].regions"),
        "give either `groups` or `regions`, not both",
    );
    check(
        &partition("for = \"1m\"\ngroups = [0.5, \"half\"]"),
        16,
        16,
        Some("partition[0].groups[1]"),
        "expected a number, found the string \"half\"",
    );
    check(
        &partition("for = \"0s\"\ngroups = [0.5, 0.5]"),
        15,
        7,
        Some("partition[0].for"),
        "must be greater than 0s",
    );
}

#[test]
fn partition_group_fractions() {
    let allowed = "must be a fraction in (0, 1]: the share of the nodes in this group";
    check(
        &partition("for = \"1m\"\ngroups = [1.5, -0.5]"),
        16,
        11,
        Some("partition[0].groups[0]"),
        &format!("{allowed}, found 1.5"),
    );
    check(
        &partition("for = \"1m\"\ngroups = [1, 0]"),
        16,
        14,
        Some("partition[0].groups[1]"),
        &format!("{allowed}, found 0"),
    );
    check(
        &partition("for = \"1m\"\ngroups = [0.5, 0.4]"),
        16,
        10,
        Some("partition[0].groups"),
        "the fractions sum to 0.9; they must sum to 1",
    );
    check(
        &partition("for = \"1m\"\ngroups = [1.0]"),
        16,
        10,
        Some("partition[0].groups"),
        "needs at least two groups (the fraction of the nodes in each, e.g. [0.5, 0.5]), found 1",
    );
}

#[test]
fn partition_regions_must_exist_once() {
    check(
        &partition("for = \"1m\"\nregions = [[\"a\"], [\"c\"]]"),
        16,
        20,
        Some("partition[0].regions[1][0]"),
        "unknown region \"c\"; known regions: a, b (from [[network.regions]])",
    );
    check(
        &partition("for = \"1m\"\nregions = [[\"a\"], [\"b\", \"a\"]]"),
        16,
        25,
        Some("partition[0].regions[1][1]"),
        "region \"a\" is already in a group (at partition[0].regions[0][0]); a region may be \
         in one group only",
    );
    check(
        &partition("for = \"1m\"\nregions = [[\"a\"], []]"),
        16,
        19,
        Some("partition[0].regions[1]"),
        "is empty; each group needs at least one region (known regions: a, b)",
    );
    check(
        &partition("for = \"1m\"\nregions = [[\"a\", \"b\"]]"),
        16,
        11,
        Some("partition[0].regions"),
        "needs at least two groups of regions",
    );
    check(
        &after_join("[[partition]]\nfor = \"1m\"\nregions = [[\"a\"], [\"b\"]]"),
        7,
        11,
        Some("partition[0].regions"),
        "needs [[network.regions]]: the scenario defines no regions to split by",
    );
}

#[test]
fn partition_after_the_end_of_the_scenario() {
    check(
        &partition("at = \"9m\"\nfor = \"2m\"\ngroups = [0.5, 0.5]"),
        16,
        7,
        Some("partition[0].for"),
        "the workload would end at 11m (at = 9m plus for = 2m), after the end of the scenario",
    );
    check(
        &partition("at = \"11m\"\nfor = \"1m\"\ngroups = [0.5, 0.5]"),
        15,
        6,
        Some("partition[0].at"),
        "11m is not before the end of the scenario (duration = 10m)",
    );
}

#[test]
fn overlapping_partitions() {
    let two = |first: &str, second: &str| {
        partition(&format!(
            "{first}\ngroups = [0.5, 0.5]\n[[partition]]\n{second}\ngroups = [0.5, 0.5]"
        ))
    };
    // The later partition (in time) is reported, naming the earlier one's window.
    check(
        &two("at = \"5m\"\nfor = \"2m\"", "at = \"6m\"\nfor = \"2m\""),
        19,
        6,
        Some("partition[1].at"),
        "overlaps partition[0] (from 5m to 7m); partitions must not overlap in time",
    );
    check(
        &two("at = \"5m\"\nfor = \"2m\"", "at = \"4m\"\nfor = \"2m\""),
        15,
        6,
        Some("partition[0].at"),
        "overlaps partition[1] (from 4m to 6m)",
    );
    // Without `at`, the error is on `for`.
    check(
        &two("for = \"2m\"", "for = \"1m\""),
        18,
        7,
        Some("partition[1].for"),
        "overlaps partition[0] (from 0s to 2m)",
    );
    // One may start when the other ends.
    let touching = parse(&two(
        "at = \"5m\"\nfor = \"2m\"",
        "at = \"7m\"\nfor = \"2m\"",
    ));
    assert_eq!(touching.partitions.len(), 2);
}

#[test]
fn lookups_defaults_and_errors() {
    let lookups = |lines: &str| after_join(&format!("[[lookups]]\n{lines}"));
    let scenario = parse(&lookups(
        "rate = 2\n[[lookups]]\nat = \"1m\"\nfor = \"1m\"\nrate = 0.5",
    ));
    assert_eq!(
        scenario.lookups,
        vec![
            Lookups {
                at: Duration::ZERO,
                length: secs(600),
                rate: 2.0,
            },
            Lookups {
                at: secs(60),
                length: secs(60),
                rate: 0.5,
            },
        ]
    );
    check(
        &lookups("rate = 1\nkey = \"random\""),
        7,
        1,
        Some("lookups[0].key"),
        "unknown key `key`; allowed keys: at, for, rate",
    );
    check(
        &lookups("at = \"1m\""),
        5,
        1,
        Some("lookups[0].rate"),
        "missing required key `rate` (lookups per second over the whole network, e.g. rate = 1.0)",
    );
    check(
        &lookups("rate = \"fast\""),
        6,
        8,
        Some("lookups[0].rate"),
        "expected a number, found the string \"fast\"",
    );
    let allowed = "must be a number of lookups per second greater than 0 and at most 1000";
    for (rate, found) in [
        ("0", "0"),
        ("-1", "-1"),
        ("1000.5", "1000.5"),
        ("nan", "nan"),
    ] {
        check(
            &lookups(&format!("rate = {rate}")),
            6,
            8,
            Some("lookups[0].rate"),
            &format!("{allowed}, found {found}"),
        );
    }
    assert_eq!(
        parse(&lookups("rate = 1000")).lookups[0].rate,
        MAX_LOOKUP_RATE
    );
    check(
        &lookups("rate = 1\nat = \"10m\""),
        7,
        6,
        Some("lookups[0].at"),
        "10m is not before the end of the scenario",
    );
    check(
        &lookups("rate = 1\nat = \"1m\"\nfor = \"10m\""),
        8,
        7,
        Some("lookups[0].for"),
        "the workload would end at 11m (at = 1m plus for = 10m)",
    );
}
