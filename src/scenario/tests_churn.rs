//! Whole-file tests of `[[churn]]` and its distribution tables: one test per
//! class of error, each asserting line, column, key path and what the message
//! allows, plus the defaults.
//!
//! `churn(lines)` is a 10-minute scenario of 5 nodes with a `[[churn]]` header
//! on line 5 and `lines` from line 6 on.

use std::time::Duration;

use super::tests::{check, secs};
use super::tests_workloads::{after_join, parse};
use super::*;

const SESSION: &str = r#"session = { distribution = "exponential", mean = "30m" }"#;
const OFFLINE: &str = r#"offline = { distribution = "exponential", mean = "5m" }"#;

fn churn(lines: &str) -> String {
    after_join(&format!("[[churn]]\n{lines}"))
}

/// A `[[churn]]` with a valid session and offline time (lines 6 and 7) and
/// `lines` from line 8 on.
fn churn_with(lines: &str) -> String {
    churn(&format!("{SESSION}\n{OFFLINE}\n{lines}"))
}

#[test]
fn churn_gets_its_defaults() {
    let scenario = parse(&churn_with(""));
    let expected = Churn {
        at: Duration::ZERO,
        length: secs(600),
        population: None,
        session: TimeDistribution::Exponential { mean: secs(1800) },
        offline: Some(TimeDistribution::Exponential { mean: secs(300) }),
        crash: Ratio(0.5),
        rejoin: Rejoin::Same,
    };
    assert_eq!(scenario.churn, vec![expected]);
    // The default length runs from `at` to the end.
    let scenario = parse(&churn_with("at = \"4m\""));
    assert_eq!(scenario.churn[0].length, secs(360));
}

#[test]
fn churn_reads_every_key_and_distribution() {
    let scenario = parse(&churn(
        "at = \"1m\"\nfor = \"8m\"\npopulation = 40\ncrash = 0\nrejoin = \"new\"\n\
         session = { distribution = \"weibull\", shape = 0.5, scale = \"30m\" }\n\
         offline = { distribution = \"pareto\", shape = 2, scale = \"10m\" }\n\
         [[churn]]\nrejoin = \"never\"\ncrash = 1\n\
         session = { distribution = \"lognormal\", mu = -7.5, sigma = 1.0 }\n\
         [[churn]]\nsession = { distribution = \"constant\", value = \"90s\" }\n\
         offline = { distribution = \"constant\", value = \"1.5s\" }",
    ));
    assert_eq!(
        scenario.churn[0],
        Churn {
            at: secs(60),
            length: secs(480),
            population: Some(40),
            session: TimeDistribution::Weibull {
                shape: 0.5,
                scale: secs(1800)
            },
            offline: Some(TimeDistribution::Pareto {
                shape: 2.0,
                scale: secs(600)
            }),
            crash: Ratio(0.0),
            rejoin: Rejoin::New,
        }
    );
    assert_eq!(scenario.churn[1].rejoin, Rejoin::Never);
    assert_eq!(scenario.churn[1].offline, None);
    assert_eq!(scenario.churn[1].crash, Ratio(1.0));
    assert_eq!(
        scenario.churn[1].session,
        TimeDistribution::LogNormal {
            mu: -7.5,
            sigma: 1.0
        }
    );
    assert_eq!(
        scenario.churn[2].offline,
        Some(TimeDistribution::Constant(Duration::from_millis(1500)))
    );
}

#[test]
fn churn_unknown_keys() {
    check(
        &churn_with("rate = 1"),
        8,
        1,
        Some("churn[0].rate"),
        "unknown key `rate`; allowed keys: at, for, population, session, offline, crash, rejoin",
    );
    // A key of another distribution, at the key, listing this one's keys.
    check(
        &churn(r#"session = { distribution = "weibull", shape = 0.5, mean = "1m" }"#),
        6,
        52,
        Some("churn[0].session.mean"),
        "unknown key `mean` for the weibull distribution; allowed keys: distribution, shape, scale",
    );
    check(
        &churn(r#"session = { distribution = "exponential", mean = "1m", lambda = 2 }"#),
        6,
        56,
        Some("churn[0].session.lambda"),
        "unknown key `lambda` for the exponential distribution; allowed keys: distribution, mean",
    );
}

#[test]
fn churn_values_of_the_wrong_type() {
    check(
        &churn("session = \"30m\""),
        6,
        11,
        Some("churn[0].session"),
        r#"expected a distribution table such as { distribution = "exponential", mean = "30m" }, found the string "30m""#,
    );
    check(
        &churn(r#"session = { distribution = "gamma", mean = "1m" }"#),
        6,
        28,
        Some("churn[0].session.distribution"),
        r#""gamma" is not a distribution; use "exponential", "weibull", "lognormal", "pareto" or "constant""#,
    );
    check(
        &churn(r#"session = { distribution = "weibull", shape = "0.5", scale = "1m" }"#),
        6,
        47,
        Some("churn[0].session.shape"),
        "expected a number, found the string \"0.5\"",
    );
    check(
        &churn_with("rejoin = 3"),
        8,
        10,
        Some("churn[0].rejoin"),
        r#"expected "same", "new" or "never", found the integer 3"#,
    );
    check(
        &churn_with("rejoin = \"later\""),
        8,
        10,
        Some("churn[0].rejoin"),
        r#""later" is not a rejoin policy; use "same", "new" or "never""#,
    );
    check(
        &churn_with("population = 2.5"),
        8,
        14,
        Some("churn[0].population"),
        "expected an integer, found the number 2.5",
    );
    check(
        &after_join("[churn]\nsession = { distribution = \"constant\", value = \"1m\" }"),
        5,
        1,
        Some("churn"),
        "write [[churn]] with double brackets",
    );
}

#[test]
fn churn_zero_or_negative_where_not_allowed() {
    check(
        &churn_with("population = 0"),
        8,
        14,
        Some("churn[0].population"),
        "must be at least 1, found 0",
    );
    check(
        &churn_with("for = \"0s\""),
        8,
        7,
        Some("churn[0].for"),
        "must be greater than 0s",
    );
    check(
        &churn(r#"session = { distribution = "exponential", mean = "0s" }"#),
        6,
        50,
        Some("churn[0].session.mean"),
        "must be greater than 0s",
    );
    check(
        &churn(r#"session = { distribution = "weibull", shape = -1, scale = "1m" }"#),
        6,
        47,
        Some("churn[0].session.shape"),
        "must be a number greater than 0, found -1",
    );
    check(
        &churn(r#"session = { distribution = "lognormal", mu = 1, sigma = 0 }"#),
        6,
        57,
        Some("churn[0].session.sigma"),
        "must be a number greater than 0, found 0",
    );
    check(
        &churn(r#"session = { distribution = "lognormal", mu = inf, sigma = 1 }"#),
        6,
        46,
        Some("churn[0].session.mu"),
        "must be a finite number, found inf",
    );
    check(
        &churn(r#"session = { distribution = "pareto", shape = 1, scale = "0s" }"#),
        6,
        57,
        Some("churn[0].session.scale"),
        "must be greater than 0s",
    );
    check(
        &churn(&format!(
            "{SESSION}\noffline = {{ distribution = \"constant\", value = \"0s\" }}"
        )),
        7,
        48,
        Some("churn[0].offline.value"),
        "must be greater than 0s",
    );
}

#[test]
fn churn_crash_is_a_fraction() {
    let allowed = "must be a fraction in [0, 1]: the share of departures that are crashes";
    check(
        &churn_with("crash = 1.5"),
        8,
        9,
        Some("churn[0].crash"),
        &format!("{allowed}, found 1.5"),
    );
    check(
        &churn_with("crash = -0.1"),
        8,
        9,
        Some("churn[0].crash"),
        &format!("{allowed}, found -0.1"),
    );
}

#[test]
fn churn_after_the_end_of_the_scenario() {
    check(
        &churn_with("at = \"10m\""),
        8,
        6,
        Some("churn[0].at"),
        "10m is not before the end of the scenario (duration = 10m); a workload must start \
         before the run ends",
    );
    check(
        &churn_with("at = \"5m\"\nfor = \"6m\""),
        9,
        7,
        Some("churn[0].for"),
        "the workload would end at 11m (at = 5m plus for = 6m), after the end of the scenario \
         (duration = 10m); at + for must be at most the duration",
    );
}

#[test]
fn churn_missing_required_keys() {
    check(
        &churn(OFFLINE),
        5,
        1,
        Some("churn[0].session"),
        "missing required key `session` (how long a node stays online, e.g. session = {",
    );
    check(
        &churn(SESSION),
        5,
        1,
        Some("churn[0].offline"),
        r#"missing required key `offline` (how long a node stays away before it rejoins, e.g. offline = { distribution = "exponential", mean = "30m" }); only rejoin = "never" goes without"#,
    );
    check(
        &churn(r#"session = { mean = "1m" }"#),
        6,
        11,
        Some("churn[0].session.distribution"),
        r#"missing required key `distribution`: one of "exponential", "weibull", "lognormal", "pareto" or "constant""#,
    );
    check(
        &churn(r#"session = { distribution = "weibull", scale = "1m" }"#),
        6,
        11,
        Some("churn[0].session.shape"),
        r#"missing required key `shape`: the weibull distribution needs shape and scale (e.g. { distribution = "weibull", shape = 0.5, scale = "30m" })"#,
    );
    check(
        &churn(&format!("{SESSION}\n{OFFLINE}\nrejoin = \"never\"")),
        7,
        11,
        Some("churn[0].offline"),
        r#"not allowed with rejoin = "never": a node that never rejoins has no offline time"#,
    );
}

#[test]
fn population_above_the_limit() {
    check(
        &churn_with(
            "population = 50000\n[[churn]]\npopulation = 49996\nsession = { distribution = \"constant\", value = \"1m\" }\nrejoin = \"never\"",
        ),
        10,
        14,
        Some("churn[1].population"),
        "brings the number of nodes the scenario may create to 100001 (5 joining, 99996 in \
         churn pools, which may add nodes to fill up), above the maximum of 100000 per scenario",
    );
    let at_limit = parse(&churn_with("population = 99995"));
    assert_eq!(at_limit.churn[0].population, Some(99_995));
}
