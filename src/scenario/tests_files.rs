//! The shipped scenario files and [`Scenario::to_toml`]: every file in
//! `scenarios/` validates and means what its comments say, and every scenario
//! (the shipped ones, a minimal one and one that uses every key) survives
//! `to_toml` then `parse` unchanged.

use std::time::Duration;

use super::keyword::{Keyword, choices, parse_keyword, spelling};
use super::tests::secs;
use super::*;

/// The scenarios shipped with the project, so that they can never drift from
/// the schema.
const SHIPPED: [(&str, &str); 8] = [
    (
        "scenarios/ipfs-like.toml",
        include_str!("../../scenarios/ipfs-like.toml"),
    ),
    (
        "scenarios/bootstrap.toml",
        include_str!("../../scenarios/bootstrap.toml"),
    ),
    (
        "scenarios/join.toml",
        include_str!("../../scenarios/join.toml"),
    ),
    (
        "scenarios/storm.toml",
        include_str!("../../scenarios/storm.toml"),
    ),
    (
        "scenarios/churn.toml",
        include_str!("../../scenarios/churn.toml"),
    ),
    (
        "scenarios/partition.toml",
        include_str!("../../scenarios/partition.toml"),
    ),
    (
        "scenarios/fidelity.toml",
        include_str!("../../scenarios/fidelity.toml"),
    ),
    (
        "scenarios/fidelity-calibrated.toml",
        include_str!("../../scenarios/fidelity-calibrated.toml"),
    ),
];

fn shipped(name: &str) -> Scenario {
    let path = format!("scenarios/{name}.toml");
    let (_, text) = SHIPPED
        .iter()
        .find(|(shipped, _)| *shipped == path)
        .expect("a shipped scenario");
    Scenario::parse(text, &path).unwrap_or_else(|err| panic!("{err}"))
}

/// `to_toml` then `parse` gives the same scenario, and rendering is stable.
pub(super) fn assert_round_trip(scenario: &Scenario) {
    let text = scenario.to_toml();
    let back = Scenario::parse(&text, "rendered.toml")
        .unwrap_or_else(|err| panic!("{err}\nin the rendered text:\n{text}"));
    assert_eq!(&back, scenario, "rendered text:\n{text}");
    assert_eq!(back.to_toml(), text);
}

#[test]
fn every_shipped_scenario_is_valid_and_round_trips() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .expect("scenarios/")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".toml"))
        .map(|name| format!("scenarios/{name}"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = SHIPPED.iter().map(|(path, _)| (*path).to_owned()).collect();
    listed.sort();
    assert_eq!(on_disk, listed, "every shipped file is tested here");
    for (path, text) in SHIPPED {
        let scenario = Scenario::parse(text, path).unwrap_or_else(|err| panic!("{err}"));
        assert_round_trip(&scenario);
    }
}

#[test]
fn shipped_bootstrap_scenario() {
    let scenario = shipped("bootstrap");
    assert_eq!(scenario.name, "bootstrap");
    assert_eq!(scenario.duration, secs(600));
    assert_eq!(scenario.sample_interval, secs(30));
    assert_eq!(scenario.stack, Stack::default());
    assert_eq!(scenario.network, Network::default());
    assert_eq!(
        scenario.joins,
        vec![Join {
            at: Duration::ZERO,
            count: 200,
            over: secs(60),
            arrival: Arrival::Uniform,
        }]
    );
    assert!(scenario.churn.is_empty() && scenario.leaves.is_empty());
    assert!(scenario.partitions.is_empty() && scenario.lookups.is_empty());
}

#[test]
fn shipped_join_scenario() {
    let scenario = shipped("join");
    assert_eq!(scenario.name, "join");
    assert_eq!(scenario.duration, secs(20 * 60));
    assert_eq!(
        scenario.joins,
        vec![
            Join {
                at: Duration::ZERO,
                count: 200,
                over: secs(60),
                arrival: Arrival::Uniform,
            },
            Join {
                at: secs(5 * 60),
                count: 100,
                over: secs(10 * 60),
                arrival: Arrival::Poisson,
            },
        ]
    );
    assert_eq!(scenario.node_count(), 300);
}

#[test]
fn shipped_churn_scenario() {
    let scenario = shipped("churn");
    assert_eq!(scenario.name, "churn");
    assert_eq!(scenario.duration, secs(30 * 60));
    assert_eq!(scenario.node_count(), 300);
    assert_eq!(scenario.joins[0].over, secs(120));
    assert_eq!(
        scenario.churn,
        vec![Churn {
            at: secs(5 * 60),
            length: secs(25 * 60),
            population: None,
            session: TimeDistribution::Weibull {
                shape: 0.6,
                scale: secs(20 * 60)
            },
            offline: Some(TimeDistribution::Exponential { mean: secs(5 * 60) }),
            crash: Ratio(0.5),
            rejoin: Rejoin::Same,
        }]
    );
    assert_eq!(
        scenario.lookups,
        vec![Lookups {
            at: secs(5 * 60),
            length: secs(25 * 60),
            rate: 1.0,
        }]
    );
}

#[test]
fn shipped_partition_scenario() {
    let scenario = shipped("partition");
    assert_eq!(scenario.name, "partition");
    assert_eq!(scenario.duration, secs(25 * 60));
    assert_eq!(scenario.node_count(), 200);
    let names: Vec<&str> = scenario
        .network
        .regions
        .iter()
        .map(|region| region.name.as_str())
        .collect();
    assert_eq!(names, ["east", "west"]);
    assert!(scenario.network.regions.iter().all(|r| r.share == 0.5));
    let range = |min: u64, max: u64| Latency::Uniform {
        min: Duration::from_millis(min),
        max: Duration::from_millis(max),
    };
    assert_eq!(scenario.network.region_latency(0, 0), &range(10, 30));
    assert_eq!(scenario.network.region_latency(1, 1), &range(10, 30));
    assert_eq!(scenario.network.region_latency(1, 0), &range(60, 100));
    assert_eq!(
        scenario.partitions,
        vec![Partition {
            at: secs(10 * 60),
            length: secs(5 * 60),
            split: Split::Regions(vec![vec![0], vec![1]]),
        }]
    );
    assert_eq!(
        scenario.lookups,
        vec![Lookups {
            at: secs(5 * 60),
            length: secs(20 * 60),
            rate: 0.5,
        }]
    );
}

#[test]
fn minimal_scenario_renders_every_default() {
    let scenario = Scenario::parse(
        "name = \"tiny\"\nduration = \"1m\"\n[[join]]\ncount = 10\n",
        "t.toml",
    )
    .expect("valid");
    let expected = r#"name = "tiny"
description = ""
seed = 1
duration = "1m"
sample_interval = "30s"
stop_when_bootstrapped = false

[stack]
security = "noise"
replication_factor = 20
parallelism = 3
query_timeout = "1m"
periodic_bootstrap = "5m"
identify_interval = "5m"
idle_timeout = "10s"
connection_timeout = "10s"

[network]
latency = { min = "20ms", max = "80ms" }
loss = 0.0

[bootstrap]
nodes = 1

[[join]]
at = "0s"
count = 10
over = "0s"
arrival = "uniform"
"#;
    assert_eq!(scenario.to_toml(), expected);
    assert_round_trip(&scenario);
}

/// A scenario that sets every key, with awkward strings and numbers.
const MAXIMAL: &str = r#"
name = "max_1.0-x"
description = "quotes \" and \\ backslashes,\ttabs,\nnew lines, é, \u0001 and \u007F"
seed = 9223372036854775807
duration = "1d"
sample_interval = "0.000001ms"

[stack]
security = "plaintext"
replication_factor = 256
parallelism = 64
query_timeout = "1.5s"
periodic_bootstrap = "off"
identify_interval = "1h"
idle_timeout = "0s"
connection_timeout = "250ms"

[[network.regions]]
name = "eu-west_1"
share = 0.1
[[network.regions]]
name = "US"
share = 0.2
[[network.regions]]
name = "asia"
share = 0.7

[network.latency_matrix]
asia = { asia = "0s", US = { min = "100ms", max = "60s" } }
US.US = { min = "1ms", max = "1ms" }
"eu-west_1" = { asia = "90ms", US = "70.5ms", "eu-west_1" = "3ms" }

[[join]]
count = 100
[[join]]
at = "1h"
count = 1000
over = "2h"
arrival = "poisson"

[[churn]]
session = { distribution = "exponential", mean = "30m" }
offline = { distribution = "weibull", shape = 0.5, scale = "30m" }
[[churn]]
at = "2h"
for = "1h"
population = 50
session = { distribution = "lognormal", mu = -1e-7, sigma = 1e300 }
crash = 0
rejoin = "never"
[[churn]]
at = "12h"
session = { distribution = "pareto", shape = 0.30000000000000004, scale = "10m" }
offline = { distribution = "constant", value = "10m" }
crash = 1
rejoin = "new"

[[leave]]
at = "3h"
node = 0
mode = "crash"
[[leave]]
at = "23h"
count = 1099

[[partition]]
for = "1h"
groups = [0.25, 0.25, 0.5]
[[partition]]
at = "1h"
for = "30m"
regions = [["asia"], ["US", "eu-west_1"]]
[[partition]]
at = "20h"
for = "4h"
regions = [["US"], ["eu-west_1"]]

[[lookups]]
rate = 1000
[[lookups]]
at = "23h"
for = "1h"
rate = 0.001

[[assert]]
that = "  recall_p10>=-1e-7 "
from = "0s"
[[assert]]
that = "min_entries == 0.30000000000000004"
at = "1d"
[[assert]]
that = "bytes < 1e300"
"#;

#[test]
fn maximal_scenario_round_trips() {
    let scenario = Scenario::parse(MAXIMAL, "max.toml").unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(scenario.seed, i64::MAX as u64);
    assert_eq!(scenario.sample_interval, Duration::from_nanos(1));
    assert!(scenario.description.contains("\u{1}"));
    assert_eq!(scenario.stack.periodic_bootstrap, None);
    assert_eq!(scenario.network.latency_matrix.len(), 6);
    assert_eq!(scenario.churn.len(), 3);
    assert_eq!(scenario.leaves[1].who, LeaveWho::Count(1099));
    assert_eq!(
        scenario.partitions[1].split,
        Split::Regions(vec![vec![2], vec![1, 0]])
    );
    assert_eq!(
        scenario.asserts[0],
        Assert {
            metric: "recall_p10".to_owned(),
            op: CmpOp::Ge,
            value: -1e-7,
            when: AssertWhen::From(Duration::ZERO),
        }
    );
    assert_eq!(scenario.asserts[1].value, 0.30000000000000004);
    assert_eq!(scenario.asserts[1].when, AssertWhen::At(secs(86_400)));
    assert_eq!(scenario.asserts[2].value, 1e300);
    assert_eq!(scenario.asserts[2].when, AssertWhen::End);
    assert_round_trip(&scenario);
}

/// The TOML examples of `scenarios/README.md`: the complete scenarios parse as
/// they are, and the snippets of the key reference parse together, appended to
/// a name and a duration (with every one of them, the file uses every table).
#[test]
fn readme_examples_are_valid() {
    let readme = include_str!("../../scenarios/README.md");
    let blocks: Vec<&str> = readme
        .split("```toml\n")
        .skip(1)
        .map(|rest| rest.split("```").next().expect("a closed block"))
        .collect();
    let (complete, snippets): (Vec<&str>, Vec<&str>) = blocks
        .iter()
        .partition(|block| block.starts_with("name = "));
    assert_eq!(complete.len(), 2);
    for block in complete {
        Scenario::parse(block, "README.md").unwrap_or_else(|err| panic!("{err}\n{block}"));
    }
    // The `latency` snippet excludes regions; it is covered by the complete ones.
    let together = format!(
        "name = \"doc\"\nduration = \"30m\"\n{}",
        snippets
            .iter()
            .filter(|block| !block.contains("latency = "))
            .copied()
            .collect::<String>()
    );
    let scenario =
        Scenario::parse(&together, "README.md").unwrap_or_else(|err| panic!("{err}\n{together}"));
    assert_eq!(scenario.network.regions.len(), 2);
    assert_eq!(scenario.joins.len(), 2);
    assert_eq!(scenario.churn.len(), 1);
    assert_eq!(scenario.leaves.len(), 2);
    assert_eq!(scenario.partitions.len(), 2);
    assert_eq!(scenario.lookups.len(), 1);
    assert_eq!(scenario.asserts.len(), 3);
    assert_round_trip(&scenario);
}

#[test]
fn spellings_parse_back_and_errors_list_the_choices() {
    for &(name, value) in Rejoin::CHOICES {
        assert_eq!(spelling(value), name);
        assert_eq!(parse_keyword::<Rejoin>(name), Ok(value));
    }
    assert_eq!(
        parse_keyword::<Rejoin>("sometimes"),
        Err(r#""sometimes" is not a rejoin policy; use "same", "new" or "never""#.to_owned())
    );
    assert_eq!(choices::<Arrival>(), r#""uniform", "poisson" or "even""#);
    for &(name, value) in Security::CHOICES {
        assert_eq!(value.as_str(), name);
    }
}

#[test]
fn shipped_ipfs_like_scenario_has_probelabs_session_quantiles() {
    let scenario = shipped("ipfs-like");
    assert_eq!(scenario.node_count(), 300);
    assert_eq!(scenario.bootstrap.nodes, 5);
    assert_eq!(scenario.network.regions.len(), 3);
    assert_eq!(scenario.network.loss, Ratio(0.005));
    assert_eq!(scenario.network.upload_bps, Some(50_000_000));
    let TimeDistribution::Weibull { shape, scale } = scenario.churn[0].session else {
        panic!("Weibull sessions: {:?}", scenario.churn[0].session);
    };
    // ProbeLab: about half of new peers gone within 2 hours, 80 % within 8.
    let gone_by = |hours: f64| 1.0 - (-(hours * 3600.0 / scale.as_secs_f64()).powf(shape)).exp();
    assert!((gone_by(2.0) - 0.5).abs() < 0.005, "{}", gone_by(2.0));
    assert!((gone_by(8.0) - 0.8).abs() < 0.005, "{}", gone_by(8.0));
}
