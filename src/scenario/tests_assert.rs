//! `[[assert]]`: the resolved conditions and times, the rendering, and one test
//! per class of error (each asserting line, column, key path and message).
//!
//! Sources come from `with`, so the `[[assert]]` lines start at line 3.

use std::time::Duration;

use super::tests::{check, secs, with};
use super::tests_files::assert_round_trip;
use super::*;
use crate::metric_names::{SAMPLE_METRICS, SUMMARY_METRICS};

fn parse(src: &str) -> Scenario {
    Scenario::parse(src, "t.toml").unwrap_or_else(|err| panic!("{err}\n{src}"))
}

/// One `[[assert]]` with the given lines, in a 10 min scenario sampled every 30 s.
fn assert(lines: &str) -> String {
    with(&format!("[[assert]]\n{lines}"))
}

fn resolved(metric: &str, op: CmpOp, value: f64, when: AssertWhen) -> Assert {
    Assert {
        metric: metric.to_owned(),
        op,
        value,
        when,
    }
}

#[test]
fn asserts_are_read_in_file_order_with_their_times() {
    assert!(parse(&with("")).asserts.is_empty());
    let src = with(
        r#"[[assert]]
that = "lookups_ok_rate >= 0.99"
[[assert]]
that = "recall_mean>0.9"
at = "10m"
[[assert]]
that = " min_entries   ==  1 "
from = "0s"
[[assert]]
that = "live_nodes <= 5"
from = "1.5m"
[[assert]]
that = "crashes < 1e3""#,
    );
    let scenario = parse(&src);
    assert_eq!(
        scenario.asserts,
        vec![
            resolved("lookups_ok_rate", CmpOp::Ge, 0.99, AssertWhen::End),
            resolved("recall_mean", CmpOp::Gt, 0.9, AssertWhen::At(secs(600))),
            resolved("min_entries", CmpOp::Eq, 1.0, AssertWhen::From(secs(0))),
            resolved("live_nodes", CmpOp::Le, 5.0, AssertWhen::From(secs(90))),
            resolved("crashes", CmpOp::Lt, 1000.0, AssertWhen::End),
        ]
    );
    let shown: Vec<String> = scenario.asserts.iter().map(Assert::to_string).collect();
    assert_eq!(
        shown,
        [
            "lookups_ok_rate >= 0.99",
            "recall_mean > 0.9 at 10m",
            "min_entries == 1 from 0s",
            "live_nodes <= 5 from 90s",
            "crashes < 1000",
        ]
    );
    assert_round_trip(&scenario);
}

#[test]
fn asserts_render_after_the_workloads() {
    let scenario = parse(&assert("that = \"recall_p10 >= 0.5\"\nfrom = \"5m\""));
    let text = scenario.to_toml();
    assert!(
        text.ends_with(
            "arrival = \"uniform\"\n\n[[assert]]\nthat = \"recall_p10 >= 0.5\"\nfrom = \"5m\"\n"
        ),
        "{text}"
    );
    let end = parse(&assert("that = \"bytes < 1e9\""));
    assert!(
        end.to_toml()
            .ends_with("[[assert]]\nthat = \"bytes < 1000000000\"\n")
    );
    assert_round_trip(&end);
}

#[test]
fn every_metric_is_accepted_at_the_end() {
    for metric in SAMPLE_METRICS.iter().chain(SUMMARY_METRICS) {
        let scenario = parse(&assert(&format!("that = \"{metric} >= 0\"")));
        assert_eq!(scenario.asserts[0].metric, *metric);
    }
}

#[test]
fn assert_table_shape_errors() {
    check(
        &assert("at = \"5m\""),
        3,
        1,
        Some("assert[0].that"),
        r#"missing required key `that` (the condition, e.g. that = "recall_mean >= 0.9")"#,
    );
    check(
        &assert("that = \"crashes == 0\"\nwhen = \"end\""),
        5,
        1,
        Some("assert[0].when"),
        "unknown key `when`; allowed keys: that, at, from",
    );
    check(
        &assert("that = 0.9"),
        4,
        8,
        Some("assert[0].that"),
        "expected a string (in quotes), found the number 0.9",
    );
    check(
        &assert("that = \"live_nodes >= 1\"\nat = 300"),
        5,
        6,
        Some("assert[0].at"),
        "expected a duration string, found the bare number 300",
    );
    check(
        &with("[assert]\nthat = \"crashes == 0\""),
        3,
        1,
        Some("assert"),
        "expected an array of tables, found a single table; write [[assert]] with double brackets",
    );
}

#[test]
fn malformed_conditions_show_the_expected_form() {
    let form = r#"write "<metric> <op> <number>" with <op> one of >=, <=, >, <, == (e.g. "recall_mean >= 0.9")"#;
    for that in [
        "recall_mean 0.9",
        "recall_mean >=",
        ">= 0.9",
        "",
        "recall mean >= 0.9",
    ] {
        let err = check(
            &assert(&format!("that = \"{that}\"")),
            4,
            8,
            Some("assert[0].that"),
            "is not a condition",
        );
        assert!(err.message.ends_with(form), "{err}");
    }
    check(
        &assert("that = \"recall_mean => 0.9\""),
        4,
        8,
        Some("assert[0].that"),
        r#""=>" is not a comparison; use ">=", "<=", ">", "<" or "==" (in "recall_mean => 0.9")"#,
    );
    check(
        &assert("that = \"recall_mean = 0.9\""),
        4,
        8,
        Some("assert[0].that"),
        r#""=" is not a comparison"#,
    );
    let err = check(
        &assert("that = \"recall_mean >= high\""),
        4,
        8,
        Some("assert[0].that"),
        r#""high" is not a number (in "recall_mean >= high")"#,
    );
    assert!(err.message.ends_with(form), "{err}");
    check(
        &assert("that = \"recall_mean >= 0.9 from 5m\""),
        4,
        8,
        Some("assert[0].that"),
        r#""0.9 from 5m" is not a number"#,
    );
    check(
        &assert("that = \"recall_mean >= nan\""),
        4,
        8,
        Some("assert[0].that"),
        r#""nan" is not a finite number"#,
    );
}

#[test]
fn unknown_metrics_list_the_allowed_names() {
    let err = check(
        &assert("that = \"recal_mean >= 0.9\""),
        4,
        8,
        Some("assert[0].that"),
        r#"unknown metric "recal_mean" (did you mean recall_mean?); sample metrics (at the end, `at` or `from`): recall_mean, recall_p10, stale_fraction_mean, kclosest_all_fraction, kclosest_missing3_fraction, kclosest_below5_fraction, live_nodes, min_entries, connections_open; summary metrics (at the end only, the numeric rows of summary.csv): seed, "#,
    );
    for name in SUMMARY_METRICS {
        assert!(err.message.contains(name), "{name} in {err}");
    }
    let err = check(
        &assert("that = \"throughput > 1\""),
        4,
        8,
        Some("assert[0].that"),
        r#"unknown metric "throughput"; sample metrics"#,
    );
    assert!(!err.message.contains("did you mean"), "{err}");
}

#[test]
fn summary_metrics_take_no_time() {
    check(
        &assert("that = \"lookups_ok_rate >= 0.9\"\nat = \"5m\""),
        5,
        6,
        Some("assert[0].at"),
        "lookups_ok_rate is a summary metric, measured once at the end of the run (a row of \
         summary.csv), so it takes no `at`; remove `at`, or use a sample metric: recall_mean, \
         recall_p10, stale_fraction_mean, kclosest_all_fraction, kclosest_missing3_fraction, \
             kclosest_below5_fraction, live_nodes, min_entries, connections_open",
    );
    check(
        &assert("that = \"crashes == 0\"\nfrom = \"5m\""),
        5,
        8,
        Some("assert[0].from"),
        "crashes is a summary metric, measured once at the end of the run (a row of \
         summary.csv), so it takes no `from`",
    );
}

#[test]
fn at_and_from_are_exclusive() {
    check(
        &assert("that = \"recall_mean >= 0.9\"\nat = \"5m\"\nfrom = \"1m\""),
        6,
        8,
        Some("assert[0].from"),
        "give either `at` (one sample) or `from` (every sample from then on), not both",
    );
}

#[test]
fn at_must_be_a_sample_time() {
    let schedule = "samples are taken every sample_interval = 30s from 30s to 10m";
    check(
        &assert("that = \"live_nodes >= 1\"\nat = \"45s\""),
        5,
        6,
        Some("assert[0].at"),
        &format!(
            "45s is not a sample time (no sample is taken then); {schedule}: use a multiple of 30s"
        ),
    );
    check(
        &assert("that = \"live_nodes >= 1\"\nat = \"0s\""),
        5,
        6,
        Some("assert[0].at"),
        &format!("0s is not a sample time (no sample is taken at 0s); {schedule}"),
    );
    check(
        &assert("that = \"live_nodes >= 1\"\nat = \"10.5m\""),
        5,
        6,
        Some("assert[0].at"),
        &format!("630s is after the end of the scenario (duration = 10m); {schedule}"),
    );
    // The last sample, exactly at the end, is a sample time.
    let scenario = parse(&assert("that = \"live_nodes >= 1\"\nat = \"10m\""));
    assert_eq!(scenario.asserts[0].when, AssertWhen::At(secs(600)));
}

#[test]
fn from_must_leave_a_sample_to_check() {
    // Samples every 3 min in a 10 min run: at 3, 6 and 9 min.
    let src = "name = \"t\"\nduration = \"10m\"\nsample_interval = \"3m\"\n[[join]]\ncount = 5\n\
               [[assert]]\nthat = \"recall_mean >= 0.5\"\nfrom = \"9.5m\"\n";
    check(
        src,
        8,
        8,
        Some("assert[0].from"),
        "570s is after the last sample, so nothing would be checked; samples are taken every \
         sample_interval = 3m from 3m to 9m: use at most 9m",
    );
    let ok = parse(&src.replace("9.5m", "9m"));
    assert_eq!(ok.asserts[0].when, AssertWhen::From(secs(540)));
    let src = src.replace("from = \"9.5m\"", "at = \"9m\"");
    assert_eq!(parse(&src).asserts[0].when, AssertWhen::At(secs(540)));
    assert_eq!(
        parse(&src.replace("\"9m\"", "\"3m\"")).asserts[0].when,
        AssertWhen::At(Duration::from_secs(180))
    );
}

#[test]
fn errors_name_the_entry() {
    check(
        &with("[[assert]]\nthat = \"crashes == 0\"\n[[assert]]\nthat = \"crashes = 0\""),
        6,
        8,
        Some("assert[1].that"),
        r#""=" is not a comparison"#,
    );
}

#[test]
fn comparisons() {
    let cases = [
        (CmpOp::Ge, [false, true, true]),
        (CmpOp::Le, [true, true, false]),
        (CmpOp::Gt, [false, false, true]),
        (CmpOp::Lt, [true, false, false]),
        (CmpOp::Eq, [false, true, false]),
    ];
    for (op, expected) in cases {
        let got = [0.5, 1.0, 1.5].map(|measured| op.holds(measured, 1.0));
        assert_eq!(got, expected, "{op}");
    }
    let shown: Vec<&str> = CmpOp::ALL.iter().map(|op| op.as_str()).collect();
    assert_eq!(shown, [">=", "<=", ">", "<", "=="]);
}

#[test]
fn readme_lists_every_metric() {
    let readme = include_str!("../../scenarios/README.md");
    let section = readme
        .split("### `[[assert]]`")
        .nth(1)
        .and_then(|rest| rest.split("### The node limit").next())
        .expect("the [[assert]] section");
    for metric in SAMPLE_METRICS.iter().chain(SUMMARY_METRICS) {
        assert!(section.contains(&format!("`{metric}`")), "{metric}");
    }
}
