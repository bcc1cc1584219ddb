//! Whole-file tests: one per class of error a scenario author can make, each
//! asserting the line, column, key path and gist of the message, plus the
//! defaults of a minimal file and the reading of a real file.
//!
//! Sources are written one key per line so that the expected positions can be
//! read off the literal: line 1 is the first line after `r#"`.

use std::time::Duration;

use super::*;

pub(super) fn fails(src: &str) -> ScenarioError {
    match Scenario::parse(src, "t.toml") {
        Ok(scenario) => panic!("expected an error, parsed {scenario:?}"),
        Err(err) => err,
    }
}

/// Asserts where an error is reported and what it says, and that it renders on
/// one line.
pub(super) fn check(
    src: &str,
    line: usize,
    column: usize,
    key: Option<&str>,
    gist: &str,
) -> ScenarioError {
    let err = fails(src);
    assert_eq!(
        (err.line, err.column, err.key.as_deref()),
        (Some(line), Some(column), key),
        "{err}"
    );
    assert!(
        err.message.contains(gist),
        "{err:?} should contain {gist:?}"
    );
    assert!(!err.to_string().contains('\n'), "{err}");
    err
}

/// A valid file with `extra` inserted between the head and the `[[join]]`.
pub(super) fn with(extra: &str) -> String {
    format!("name = \"t\"\nduration = \"10m\"\n{extra}\n[[join]]\ncount = 5\n")
}

pub(super) fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

#[test]
fn minimal_file_gets_every_default() {
    let scenario = Scenario::parse(
        "name = \"minimal\"\nduration = \"10m\"\n[[join]]\ncount = 3\n",
        "t.toml",
    )
    .expect("valid");
    let expected = Scenario {
        name: "minimal".to_owned(),
        description: String::new(),
        seed: 1,
        duration: secs(600),
        sample_interval: secs(30),
        stop_when_bootstrapped: false,
        stack: Stack {
            security: Security::Noise,
            replication_factor: 20,
            parallelism: 3,
            query_timeout: secs(60),
            periodic_bootstrap: Some(secs(300)),
            identify_interval: secs(300),
            idle_timeout: secs(10),
            connection_timeout: secs(10),
        },
        network: Network {
            latency: Latency::Uniform {
                min: Duration::from_millis(20),
                max: Duration::from_millis(80),
            },
            regions: Vec::new(),
            latency_matrix: Default::default(),
            loss: Ratio(0.0),
            upload_bps: None,
            download_bps: None,
            loss_matrix: std::collections::BTreeMap::new(),
        },
        bootstrap: Bootstrap::default(),
        joins: vec![Join {
            at: Duration::ZERO,
            count: 3,
            over: Duration::ZERO,
            arrival: Arrival::Uniform,
        }],
        churn: Vec::new(),
        leaves: Vec::new(),
        partitions: Vec::new(),
        lookups: Vec::new(),
        asserts: Vec::new(),
    };
    assert_eq!(scenario.stack, Stack::default());
    assert_eq!(scenario.network, Network::default());
    assert_eq!(scenario, expected);
    assert_eq!(scenario.node_count(), 3);
}

#[test]
fn full_file_is_read_as_written() {
    let src = r#"
name = "full-1.x_y"
description = "every key"
seed = 42
duration = "1h"
sample_interval = "1.5s"
[stack]
security = "plaintext"
[network]
latency = "50ms"
[[join]]
count = 1
[[join]]
at = "1m"
count = 10
over = "59m"
"#;
    let scenario = Scenario::parse(src, "t.toml").expect("valid");
    assert_eq!(scenario.name, "full-1.x_y");
    assert_eq!(scenario.description, "every key");
    assert_eq!(scenario.seed, 42);
    assert_eq!(scenario.duration, secs(3600));
    assert_eq!(scenario.sample_interval, Duration::from_millis(1500));
    assert_eq!(scenario.stack.security, Security::Plaintext);
    assert_eq!(
        scenario.network.latency,
        Latency::Constant(Duration::from_millis(50))
    );
    assert_eq!(
        scenario.joins[1],
        Join {
            at: secs(60),
            count: 10,
            over: secs(3540),
            arrival: Arrival::Uniform,
        }
    );
    assert_eq!(scenario.joins[1].end(), scenario.duration);
    assert_eq!(scenario.node_count(), 11);
}

#[test]
fn latency_range_may_be_a_table_and_zero() {
    let src = with("[network.latency]\nmin = \"0s\"\nmax = \"60s\"");
    let scenario = Scenario::parse(&src, "t.toml").expect("valid");
    assert_eq!(
        scenario.network.latency.bounds(),
        (Duration::ZERO, secs(60))
    );
}

#[test]
fn default_sample_interval_is_capped_at_a_short_duration() {
    let src = "name = \"short\"\nduration = \"10s\"\n[[join]]\ncount = 1\n";
    let scenario = Scenario::parse(src, "t.toml").expect("valid");
    assert_eq!(scenario.sample_interval, secs(10));
}

#[test]
fn toml_syntax_error() {
    let err = check(
        "name = \"t\"\nduration = \"10m\n",
        2,
        16,
        None,
        "invalid TOML",
    );
    assert!(err.message.contains("expected `\"`"), "{err}");
    check(
        "name = \"t\"\nname = \"u\"\n",
        2,
        1,
        None,
        "duplicate key `name`",
    );
}

#[test]
fn unknown_top_level_key_lists_the_allowed_keys() {
    let err = check(
        &with("sample_intreval = \"1m\""),
        3,
        1,
        Some("sample_intreval"),
        "unknown key `sample_intreval`",
    );
    assert!(
        err.message.ends_with(
            "allowed keys: name, description, seed, duration, sample_interval, \
             stop_when_bootstrapped, stack, network, bootstrap, join, churn, leave, partition, \
             lookups, assert"
        ),
        "{err}"
    );
}

#[test]
fn unknown_key_inside_tables_lists_the_allowed_keys() {
    check(
        &with("[stack]\nsecurity = \"noise\"\ntransport = \"tcp\""),
        5,
        1,
        Some("stack.transport"),
        "unknown key `transport`; allowed keys: security, replication_factor, parallelism, \
         query_timeout, periodic_bootstrap, identify_interval, \
         idle_timeout, connection_timeout",
    );
    check(
        &with("[network]\nlatency = { min = \"1ms\", max = \"2ms\", mean = \"1ms\" }"),
        4,
        39,
        Some("network.latency.mean"),
        "unknown key `mean`; allowed keys: min, max",
    );
    check(
        "name = \"t\"\nduration = \"10m\"\n[[join]]\ncount = 1\n[[join]]\ncount = 1\nevery = \"1s\"\n",
        7,
        1,
        Some("join[1].every"),
        "unknown key `every`; allowed keys: at, count, over, arrival",
    );
}

#[test]
fn wrong_type() {
    let src = "name = \"t\"\nduration = \"10m\"\n[[join]]\ncount = \"ten\"\n";
    check(
        src,
        4,
        9,
        Some("join[0].count"),
        "expected an integer, found the string \"ten\"",
    );
    check(
        &with("seed = -1"),
        3,
        8,
        Some("seed"),
        "expected an integer from 0 to 18446744073709551615, found the integer -1",
    );
    check(
        &with("stack = \"noise\""),
        3,
        9,
        Some("stack"),
        "expected a table, found the string \"noise\"",
    );
    check(
        &with("[stack]\nsecurity = \"tls\""),
        4,
        12,
        Some("stack.security"),
        r#""tls" is not a security protocol; use "noise" or "plaintext""#,
    );
    check(
        &with("[stack]\nsecurity = 1"),
        4,
        12,
        Some("stack.security"),
        "expected a string (in quotes), found the integer 1",
    );
    check(
        "name = \"t\"\nduration = \"10m\"\n[join]\ncount = 1\n",
        3,
        1,
        Some("join"),
        "write [[join]] with double brackets",
    );
}

#[test]
fn bad_duration_strings_say_what_is_allowed() {
    let src = r#"name = "t"
duration = "10m"

[network]
# the range of one-way latencies
latency = { max = "80ms",
  min = "fast" }

[[join]]
count = 1
"#;
    let err = check(
        src,
        7,
        9,
        Some("network.latency.min"),
        "\"fast\" is not a duration",
    );
    assert_eq!(
        err.to_string(),
        r#"t.toml:7:9: network.latency.min: "fast" is not a duration; use a number and a unit: ms, s, m, h or d (e.g. "250ms", "30s", "5m")"#
    );
    check(
        &with("sample_interval = \"5 min\""),
        3,
        19,
        Some("sample_interval"),
        "contains whitespace",
    );
    check(
        &with("sample_interval = \"5\""),
        3,
        19,
        Some("sample_interval"),
        "it has no unit",
    );
    check(
        &with("sample_interval = \"5w\""),
        3,
        19,
        Some("sample_interval"),
        "\"w\" is not a unit",
    );
    check(
        &with("sample_interval = \"\""),
        3,
        19,
        Some("sample_interval"),
        "it is empty",
    );
    check(
        "name = \"t\"\nduration = 600\n",
        2,
        12,
        Some("duration"),
        "found the bare number 600; quote it and add a unit",
    );
    check(
        &with("[network]\nlatency = 00:00:50"),
        4,
        11,
        Some("network.latency"),
        "found a TOML date/time",
    );
}

#[test]
fn negative_durations_are_rejected() {
    let src = "name = \"t\"\nduration = \"10m\"\n[[join]]\ncount = 1\nat = \"-1s\"\n";
    check(
        src,
        5,
        6,
        Some("join[0].at"),
        "durations cannot be negative",
    );
}

#[test]
fn zero_or_negative_where_not_allowed() {
    let join =
        |count: &str| format!("name = \"t\"\nduration = \"10m\"\n[[join]]\ncount = {count}\n");
    check(
        &join("0"),
        4,
        9,
        Some("join[0].count"),
        "must be at least 1, found 0",
    );
    check(
        &join("-3"),
        4,
        9,
        Some("join[0].count"),
        "must be at least 1, found -3",
    );
    check(
        "name = \"t\"\nduration = \"0s\"\n[[join]]\ncount = 1\n",
        2,
        12,
        Some("duration"),
        "must be greater than 0s",
    );
    check(
        &with("sample_interval = \"0ms\""),
        3,
        19,
        Some("sample_interval"),
        "must be greater than 0s",
    );
}

#[test]
fn duration_above_thirty_days() {
    let src = "name = \"t\"\nduration = \"31d\"\n[[join]]\ncount = 1\n";
    check(
        src,
        2,
        12,
        Some("duration"),
        "31d is longer than the maximum of 30d",
    );
}

#[test]
fn latency_min_above_max() {
    check(
        &with("[network]\nlatency = { min = \"90ms\", max = \"80ms\" }"),
        4,
        19,
        Some("network.latency.min"),
        "min (90ms) is greater than max (80ms)",
    );
}

#[test]
fn latency_above_sixty_seconds() {
    check(
        &with("[network]\nlatency = \"61s\""),
        4,
        11,
        Some("network.latency"),
        "61s is above the maximum one-way latency of 1m",
    );
    check(
        &with("[network]\nlatency = { min = \"1s\", max = \"2m\" }"),
        4,
        31,
        Some("network.latency.max"),
        "2m is above the maximum one-way latency of 1m",
    );
}

#[test]
fn workload_starting_at_or_after_the_end() {
    let src = "name = \"t\"\nduration = \"10m\"\n[[join]]\ncount = 1\n[[join]]\ncount = 1\nat = \"10m\"\n";
    check(
        src,
        7,
        6,
        Some("join[1].at"),
        "10m is not before the end of the scenario (duration = 10m)",
    );
}

#[test]
fn workload_running_past_the_end() {
    let src =
        "name = \"t\"\nduration = \"10m\"\n[[join]]\nat = \"9m\"\ncount = 1\nover = \"90s\"\n";
    check(
        src,
        6,
        8,
        Some("join[0].over"),
        "the workload would end at 630s (at = 9m plus over = 90s), after the end of the scenario (duration = 10m)",
    );
}

#[test]
fn sample_interval_longer_than_the_run() {
    check(
        &with("sample_interval = \"11m\""),
        3,
        19,
        Some("sample_interval"),
        "11m is longer than the scenario (duration = 10m)",
    );
}

#[test]
fn total_nodes_above_the_limit() {
    let src = "name = \"t\"\nduration = \"10m\"\n[[join]]\ncount = 60000\n[[join]]\ncount = 40000\n[[join]]\ncount = 1\n";
    check(
        src,
        8,
        9,
        Some("join[2].count"),
        "brings the total node count to 100001 (1 here, 100000 in the [[join]] entries before), above the maximum of 100000",
    );
    let src = "name = \"t\"\nduration = \"10m\"\n[[join]]\ncount = 5000000000\n";
    check(
        src,
        4,
        9,
        Some("join[0].count"),
        "5000000000 nodes is above the maximum of 100000",
    );
    let at_limit = "name = \"t\"\nduration = \"10m\"\n[[join]]\ncount = 100000\n";
    let scenario = Scenario::parse(at_limit, "t.toml").expect("exactly MAX_NODES is allowed");
    assert_eq!(scenario.node_count(), MAX_NODES);
}

#[test]
fn bad_names() {
    let named = |name: &str| format!("name = {name:?}\nduration = \"10m\"\n[[join]]\ncount = 1\n");
    check(
        &named("my scenario"),
        1,
        8,
        Some("name"),
        "\"my scenario\" contains ' '; use 1 to 64 characters of A-Z",
    );
    check(&named("a/b"), 1, 8, Some("name"), "contains '/'");
    check(&named("é"), 1, 8, Some("name"), "contains 'é'");
    check(&named(""), 1, 8, Some("name"), "must not be empty");
    check(
        &named(&"x".repeat(65)),
        1,
        8,
        Some("name"),
        "is 65 characters long",
    );
    check(
        &named(".."),
        1,
        8,
        Some("name"),
        "is not a usable directory name",
    );
    assert!(Scenario::parse(&named(&"x".repeat(64)), "t.toml").is_ok());
}

#[test]
fn missing_required_keys() {
    check("", 1, 1, Some("name"), "missing required key `name`");
    check(
        "name = \"t\"\n[[join]]\ncount = 1\n",
        1,
        1,
        Some("duration"),
        "missing required key `duration`",
    );
    check(
        "name = \"t\"\nduration = \"10m\"\n",
        1,
        1,
        Some("join"),
        "missing required key `join`",
    );
    check(
        "name = \"t\"\nduration = \"10m\"\njoin = []\n",
        3,
        8,
        Some("join"),
        "needs at least one entry",
    );
    check(
        "name = \"t\"\nduration = \"10m\"\n[[join]]\ncount = 1\n[[join]]\nat = \"1m\"\n",
        5,
        1,
        Some("join[1].count"),
        "missing required key `count`",
    );
    check(
        &with("[network]\nlatency = { max = \"80ms\" }"),
        4,
        11,
        Some("network.latency.min"),
        "missing required key `min`",
    );
}

#[test]
fn load_reads_a_file_and_names_it_in_errors() {
    let dir = std::env::temp_dir().join(format!("scenario-load-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let good = dir.join("good.toml");
    std::fs::write(
        &good,
        "name = \"g\"\nduration = \"1m\"\n[[join]]\ncount = 2\n",
    )
    .expect("write");
    assert_eq!(Scenario::load(&good).expect("valid").node_count(), 2);

    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "name = \"g\"\nduration = \"1m\"\n[[join]]\ncount = 0\n",
    )
    .expect("write");
    let err = Scenario::load(&bad).expect_err("count = 0");
    assert_eq!(err.origin, bad.display().to_string());
    assert!(
        err.to_string()
            .starts_with(&format!("{}:4:9: join[0].count: ", bad.display())),
        "{err}"
    );

    let missing = dir.join("missing.toml");
    let err = Scenario::load(&missing).expect_err("no such file");
    assert_eq!(
        (err.line, err.column, err.key.as_deref()),
        (None, None, None)
    );
    assert!(err.message.contains("os error"), "{err}");
    assert!(err.to_string().starts_with(&format!(
        "{}: cannot read the scenario file: ",
        missing.display()
    )));
    std::fs::remove_dir_all(&dir).expect("clean up");
}
