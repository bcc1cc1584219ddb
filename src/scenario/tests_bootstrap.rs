//! Whole-file tests of `[bootstrap]`: defaults, values, and one test per
//! error, each asserting line, column, key path and what the message allows.

use super::tests::{check, with};
use super::tests_files::assert_round_trip;
use super::*;

fn parse(src: &str) -> Scenario {
    Scenario::parse(src, "t.toml").expect("valid")
}

#[test]
fn without_the_table_the_first_node_is_the_only_bootstrap_node() {
    let default = Bootstrap {
        nodes: 1,
        per_joiner: None,
    };
    assert_eq!(Bootstrap::default(), default);
    assert_eq!(parse(&with("")).bootstrap, default);
    assert_eq!(parse(&with("[bootstrap]")).bootstrap, default);
}

#[test]
fn both_keys_are_read_and_written_back() {
    let s = parse(&with("[bootstrap]\nnodes = 5\nper_joiner = 2"));
    assert_eq!(
        s.bootstrap,
        Bootstrap {
            nodes: 5,
            per_joiner: Some(2)
        }
    );
    assert!(
        s.to_toml()
            .contains("\n[bootstrap]\nnodes = 5\nper_joiner = 2\n")
    );
    assert_round_trip(&s);
    let all = parse(&with("[bootstrap]\nnodes = 3"));
    assert_eq!(all.bootstrap.per_joiner, None);
    assert_round_trip(&all);
}

#[test]
fn nodes_must_be_between_one_and_the_joining_nodes() {
    // `with` makes five nodes join.
    for bad in ["0", "-1", "6"] {
        let err = check(
            &with(&format!("[bootstrap]\nnodes = {bad}")),
            4,
            9,
            Some("bootstrap.nodes"),
            "must be from 1 to 5",
        );
        assert!(err.message.contains(&format!("found {bad}")), "{err}");
    }
    assert_eq!(parse(&with("[bootstrap]\nnodes = 5")).bootstrap.nodes, 5);
}

#[test]
fn per_joiner_must_be_between_one_and_nodes() {
    for bad in ["0", "4"] {
        check(
            &with(&format!("[bootstrap]\nnodes = 3\nper_joiner = {bad}")),
            5,
            14,
            Some("bootstrap.per_joiner"),
            "must be from 1 to 3",
        );
    }
    // Without `nodes` there is one bootstrap node.
    check(
        &with("[bootstrap]\nper_joiner = 2"),
        4,
        14,
        Some("bootstrap.per_joiner"),
        "leave it out",
    );
}

#[test]
fn unknown_keys_and_wrong_types_are_errors() {
    check(
        &with("[bootstrap]\nnode = 3"),
        4,
        1,
        Some("bootstrap.node"),
        "per_joiner",
    );
    check(
        &with("[bootstrap]\nnodes = \"3\""),
        4,
        9,
        Some("bootstrap.nodes"),
        "integer",
    );
}

#[test]
fn a_scaled_scenario_keeps_its_bootstrap_nodes_while_there_are_enough() {
    let s = parse(&with("[bootstrap]\nnodes = 4\nper_joiner = 2"));
    assert_eq!(s.scaled(100).expect("valid").bootstrap, s.bootstrap);
    let err = s.scaled(3).expect_err("4 bootstrap nodes of 3");
    assert!(err.to_string().contains("bootstrap.nodes"), "{err}");
}
