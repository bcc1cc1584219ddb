//! [`Scenario::to_toml`]: the resolved scenario written back as a scenario file.
//!
//! Every key is written, defaults included, so the output shows exactly what a
//! run will do (`sim check` prints it). The document parses back, with
//! [`Scenario::parse`], to an equal [`Scenario`]: durations are written with
//! [`format_duration`] (exact to the nanosecond), numbers with Rust's shortest
//! round-trip spelling (also inside an assertion's `that`), and keys in the
//! order of `scenarios/README.md`. An `[[assert]]` without `at` or `from` is
//! written without them: "at the end" has no spelling of its own.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use super::assert::{Assert, AssertWhen};
use super::duration::format_duration;
use super::keyword::spelling;
use super::model::{Bootstrap, Latency, Network, Region, Scenario, Stack};
use super::workload::{
    Churn, Join, Leave, LeaveWho, Lookups, Partition, Ratio, Split, TimeDistribution,
};

impl Scenario {
    /// The scenario as a TOML document with every default filled in. Parsing it
    /// back gives a scenario equal to `self`.
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        line(&mut out, "name", &string(&self.name));
        line(&mut out, "description", &string(&self.description));
        line(&mut out, "seed", &self.seed.to_string());
        line(&mut out, "duration", &duration(self.duration));
        line(&mut out, "sample_interval", &duration(self.sample_interval));
        line(
            &mut out,
            "stop_when_bootstrapped",
            &self.stop_when_bootstrapped.to_string(),
        );
        write_stack(&mut out, &self.stack);
        write_network(&mut out, &self.network);
        write_bootstrap(&mut out, &self.bootstrap);
        for join in &self.joins {
            write_join(&mut out, join);
        }
        for churn in &self.churn {
            write_churn(&mut out, churn);
        }
        for leave in &self.leaves {
            write_leave(&mut out, leave);
        }
        for partition in &self.partitions {
            write_partition(&mut out, partition, &self.network);
        }
        for lookups in &self.lookups {
            write_lookups(&mut out, lookups);
        }
        for assert in &self.asserts {
            write_assert(&mut out, assert);
        }
        out
    }
}

fn line(out: &mut String, key: &str, value: &str) {
    writeln!(out, "{key} = {value}").expect("writing to a String cannot fail");
}

fn header(out: &mut String, header: &str) {
    writeln!(out, "\n{header}").expect("writing to a String cannot fail");
}

fn write_stack(out: &mut String, stack: &Stack) {
    header(out, "[stack]");
    line(out, "security", &string(spelling(stack.security)));
    line(
        out,
        "replication_factor",
        &stack.replication_factor.to_string(),
    );
    line(out, "parallelism", &stack.parallelism.to_string());
    line(out, "query_timeout", &duration(stack.query_timeout));
    let periodic = stack
        .periodic_bootstrap
        .map_or_else(|| string("off"), duration);
    line(out, "periodic_bootstrap", &periodic);
    line(out, "identify_interval", &duration(stack.identify_interval));
    line(out, "idle_timeout", &duration(stack.idle_timeout));
    line(
        out,
        "connection_timeout",
        &duration(stack.connection_timeout),
    );
}

fn write_network(out: &mut String, network: &Network) {
    header(out, "[network]");
    if network.regions.is_empty() {
        line(out, "latency", &latency(&network.latency));
    }
    line(out, "loss", &number(network.loss.0));
    if let Some(bps) = network.upload_bps {
        line(out, "upload_mbps", &number(bps as f64 / 1e6));
    }
    if let Some(bps) = network.download_bps {
        line(out, "download_mbps", &number(bps as f64 / 1e6));
    }
    if network.regions.is_empty() {
        return;
    }
    for region in &network.regions {
        header(out, "[[network.regions]]");
        line(out, "name", &string(&region.name));
        line(out, "share", &number(region.share));
    }
    let regions = &network.regions;
    write_matrix(
        out,
        "[network.latency_matrix]",
        regions,
        &network.latency_matrix,
        latency,
    );
    if !network.loss_matrix.is_empty() {
        let loss = |r: &Ratio| number(r.0);
        write_matrix(
            out,
            "[network.loss_matrix]",
            regions,
            &network.loss_matrix,
            loss,
        );
    }
}

/// A matrix between regions under `table`: one row per region that has
/// cells, each cell `(a, b)` with `a <= b` in row `a`.
fn write_matrix<T>(
    out: &mut String,
    table: &str,
    regions: &[Region],
    cells: &BTreeMap<(usize, usize), T>,
    value: impl Fn(&T) -> String,
) {
    header(out, table);
    for (a, row) in regions.iter().enumerate() {
        let row_cells: Vec<String> = cells
            .range((a, a)..=(a, usize::MAX))
            .map(|(&(_, b), cell)| format!("{} = {}", regions[b].name, value(cell)))
            .collect();
        if !row_cells.is_empty() {
            line(out, &row.name, &format!("{{ {} }}", row_cells.join(", ")));
        }
    }
}

fn write_bootstrap(out: &mut String, bootstrap: &Bootstrap) {
    header(out, "[bootstrap]");
    line(out, "nodes", &bootstrap.nodes.to_string());
    if let Some(per_joiner) = bootstrap.per_joiner {
        line(out, "per_joiner", &per_joiner.to_string());
    }
}

fn write_join(out: &mut String, join: &Join) {
    header(out, "[[join]]");
    line(out, "at", &duration(join.at));
    line(out, "count", &join.count.to_string());
    line(out, "over", &duration(join.over));
    line(out, "arrival", &string(spelling(join.arrival)));
}

fn write_churn(out: &mut String, churn: &Churn) {
    header(out, "[[churn]]");
    line(out, "at", &duration(churn.at));
    line(out, "for", &duration(churn.length));
    if let Some(population) = churn.population {
        line(out, "population", &population.to_string());
    }
    line(out, "session", &distribution(&churn.session));
    if let Some(offline) = &churn.offline {
        line(out, "offline", &distribution(offline));
    }
    line(out, "crash", &number(churn.crash.0));
    line(out, "rejoin", &string(spelling(churn.rejoin)));
}

fn write_leave(out: &mut String, leave: &Leave) {
    header(out, "[[leave]]");
    line(out, "at", &duration(leave.at));
    match leave.who {
        LeaveWho::Node(node) => line(out, "node", &node.to_string()),
        LeaveWho::Count(count) => line(out, "count", &count.to_string()),
    }
    line(out, "mode", &string(spelling(leave.mode)));
}

fn write_partition(out: &mut String, partition: &Partition, network: &Network) {
    header(out, "[[partition]]");
    line(out, "at", &duration(partition.at));
    line(out, "for", &duration(partition.length));
    match &partition.split {
        Split::Fractions(fractions) => {
            let fractions: Vec<String> = fractions.iter().map(|&f| number(f)).collect();
            line(out, "groups", &format!("[{}]", fractions.join(", ")));
        }
        Split::Regions(groups) => {
            let groups: Vec<String> = groups
                .iter()
                .map(|group| {
                    let names: Vec<String> = group
                        .iter()
                        .map(|&region| string(&network.regions[region].name))
                        .collect();
                    format!("[{}]", names.join(", "))
                })
                .collect();
            line(out, "regions", &format!("[{}]", groups.join(", ")));
        }
    }
}

fn write_lookups(out: &mut String, lookups: &Lookups) {
    header(out, "[[lookups]]");
    line(out, "at", &duration(lookups.at));
    line(out, "for", &duration(lookups.length));
    line(out, "rate", &number(lookups.rate));
}

fn write_assert(out: &mut String, assert: &Assert) {
    header(out, "[[assert]]");
    line(out, "that", &string(&assert.that()));
    match assert.when {
        AssertWhen::End => {}
        AssertWhen::At(at) => line(out, "at", &duration(at)),
        AssertWhen::From(from) => line(out, "from", &duration(from)),
    }
}

/// A duration as a TOML string: `"5m"`.
fn duration(d: Duration) -> String {
    string(&format_duration(d))
}

/// A finite float in its shortest round-trip spelling, always with a `.` or an
/// exponent so that TOML reads a float: `0.5`, `1.0`, `1e-10`.
fn number(x: f64) -> String {
    format!("{x:?}")
}

fn latency(latency: &Latency) -> String {
    match *latency {
        Latency::Constant(d) => duration(d),
        Latency::Uniform { min, max } => {
            format!("{{ min = {}, max = {} }}", duration(min), duration(max))
        }
    }
}

fn distribution(distribution: &TimeDistribution) -> String {
    let fields = match *distribution {
        TimeDistribution::Constant(value) => {
            format!(r#"distribution = "constant", value = {}"#, duration(value))
        }
        TimeDistribution::Exponential { mean } => {
            format!(r#"distribution = "exponential", mean = {}"#, duration(mean))
        }
        TimeDistribution::Weibull { shape, scale } => format!(
            r#"distribution = "weibull", shape = {}, scale = {}"#,
            number(shape),
            duration(scale)
        ),
        TimeDistribution::LogNormal { mu, sigma } => format!(
            r#"distribution = "lognormal", mu = {}, sigma = {}"#,
            number(mu),
            number(sigma)
        ),
        TimeDistribution::Pareto { shape, scale } => format!(
            r#"distribution = "pareto", shape = {}, scale = {}"#,
            number(shape),
            duration(scale)
        ),
    };
    format!("{{ {fields} }}")
}

/// A TOML basic string: quoted, with `"`, `\` and control characters escaped.
fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                write!(out, "\\u{:04X}", u32::from(c)).expect("writing to a String cannot fail")
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
