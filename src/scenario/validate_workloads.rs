//! The rules of the workload lists: `[[join]]`, `[[leave]]`, `[[partition]]` and
//! `[[lookups]]` (`[[churn]]` and its distributions are in `validate_churn.rs`).
//!
//! Every workload is first placed in time with [`check_at`] and
//! [`check_length`] (it starts before the end of the run and does not run past
//! it), then its own keys are checked in the order the schema lists them. Rules
//! that involve several entries (the node limit, partitions that overlap) are
//! reported on the entry that breaks them, naming the other.

use std::ops::Range;
use std::time::Duration;

use toml::Spanned;

use super::duration::format_duration;
use super::error::{ScenarioError, Source};
use super::model::{MAX_NODES, Network};
use super::raw_workloads::{RawJoin, RawLeave, RawLookups, RawPartition, RawRegionGroups};
use super::validate_common::known_regions;
use super::validate_common::{
    LengthDefault, RawList, START, check_at, check_length, entries, number,
};
use super::validate_network::SUM_TOLERANCE;
use super::workload::{
    Arrival, Departure, Join, Leave, LeaveWho, Lookups, MAX_LOOKUP_RATE, Partition, Split,
};

/// `[[join]]`: at least one; the node limit counts every join.
pub(crate) fn resolve_joins(
    raw: RawList<RawJoin>,
    duration: Duration,
    source: &Source<'_>,
) -> Result<Vec<Join>, ScenarioError> {
    let Some(raw) = raw else {
        return Err(source.error(
            None,
            Some("join".to_owned()),
            "missing required key `join`: add at least one [[join]] section \
             (e.g. [[join]] with count = 10)",
        ));
    };
    if raw.get_ref().is_empty() {
        return Err(source.error(
            Some(raw.span()),
            Some("join".to_owned()),
            "needs at least one entry: the scenario has no nodes",
        ));
    }
    let mut joins = Vec::with_capacity(raw.get_ref().len());
    let mut total: u64 = 0;
    for (index, _, entry) in entries(Some(raw)) {
        let key = |field: &str| format!("join[{index}].{field}");
        let count = *entry.count.get_ref();
        if count < 1 {
            return Err(source.error(
                Some(entry.count.span()),
                Some(key("count")),
                format!("must be at least 1, found {count}"),
            ));
        }
        let count = u64::try_from(count).expect("count >= 1 was checked");
        total = total.saturating_add(count);
        if total > MAX_NODES as u64 {
            let message = if total == count {
                format!("{count} nodes is above the maximum of {MAX_NODES} per scenario")
            } else {
                format!(
                    "brings the total node count to {total} ({count} here, {} in the \
                     [[join]] entries before), above the maximum of {MAX_NODES} per scenario",
                    total - count
                )
            };
            return Err(source.error(Some(entry.count.span()), Some(key("count")), message));
        }
        let count = u32::try_from(count).expect("count <= MAX_NODES, which fits in u32");
        let at = check_at(entry.at.as_ref(), duration, START, &key("at"), source)?;
        let over = check_length(
            at,
            entry.over.as_ref(),
            "over",
            LengthDefault::Zero,
            duration,
            &key,
            source,
        )?;
        let arrival = entry
            .arrival
            .as_ref()
            .map_or(Arrival::Uniform, |a| a.get_ref().0);
        if let Some(written) = &entry.arrival
            && arrival == Arrival::Poisson
            && over.is_zero()
        {
            return Err(source.error(
                Some(written.span()),
                Some(key("arrival")),
                r#"a Poisson process needs a window: set over > 0s (the mean gap between joins is over / count), or use arrival = "uniform""#,
            ));
        }
        joins.push(Join {
            at,
            count,
            over,
            arrival,
        });
    }
    Ok(joins)
}

/// `[[leave]]`. Node indices refer to the `initial_nodes` nodes of the joins.
pub(crate) fn resolve_leaves(
    raw: RawList<RawLeave>,
    duration: Duration,
    initial_nodes: u32,
    source: &Source<'_>,
) -> Result<Vec<Leave>, ScenarioError> {
    let mut leaves = Vec::new();
    for (index, span, entry) in entries(raw) {
        let key = |field: &str| format!("leave[{index}].{field}");
        let what = "a [[leave]] must happen before the run ends";
        let at = check_at(Some(&entry.at), duration, what, &key("at"), source)?;
        let who = match (&entry.node, &entry.count) {
            (Some(_), Some(count)) => {
                return Err(source.error(
                    Some(count.span()),
                    Some(key("count")),
                    "give either `node` or `count`, not both",
                ));
            }
            (None, None) => {
                return Err(source.error(
                    Some(span),
                    Some(format!("leave[{index}]")),
                    "missing required key `node` or `count` (node = 0 takes that node \
                     away; count = 10 takes 10 random nodes other than node 0)",
                ));
            }
            (Some(node), None) => {
                let found = *node.get_ref();
                let last = i64::from(initial_nodes) - 1;
                if !(0..=last).contains(&found) {
                    let message = format!(
                        "node {found} does not exist: the [[join]] sections create \
                         {initial_nodes} nodes, numbered 0 to {last}"
                    );
                    return Err(source.error(Some(node.span()), Some(key("node")), message));
                }
                LeaveWho::Node(u32::try_from(found).expect("a node index fits in u32"))
            }
            (None, Some(count)) => {
                let found = *count.get_ref();
                let others = i64::from(initial_nodes) - 1;
                let fail =
                    |message: String| source.error(Some(count.span()), Some(key("count")), message);
                if found < 1 {
                    return Err(fail(format!("must be at least 1, found {found}")));
                }
                if found > others {
                    return Err(fail(format!(
                        "takes {found} nodes away, but the [[join]] sections create only \
                         {others} nodes besides node 0 (the bootstrap node, which `count` \
                         never picks; use node = 0 for it)"
                    )));
                }
                LeaveWho::Count(u32::try_from(found).expect("<= MAX_NODES, which fits in u32"))
            }
        };
        leaves.push(Leave {
            at,
            who,
            mode: entry
                .mode
                .as_ref()
                .map_or(Departure::Graceful, |mode| mode.get_ref().0),
        });
    }
    Ok(leaves)
}

/// `[[partition]]`: the split, and no two partitions at the same time.
pub(crate) fn resolve_partitions(
    raw: RawList<RawPartition>,
    duration: Duration,
    network: &Network,
    source: &Source<'_>,
) -> Result<Vec<Partition>, ScenarioError> {
    let mut partitions: Vec<Partition> = Vec::new();
    // Where each partition's time is written: its `at`, else its `for`.
    let mut anchors: Vec<(Range<usize>, &str)> = Vec::new();
    for (index, span, entry) in entries(raw) {
        let key = |field: &str| format!("partition[{index}].{field}");
        let at = check_at(entry.at.as_ref(), duration, START, &key("at"), source)?;
        let length = check_length(
            at,
            Some(&entry.length),
            "for",
            LengthDefault::UntilEnd,
            duration,
            &key,
            source,
        )?;
        let split = match (entry.groups, entry.regions) {
            (Some(_), Some(regions)) => {
                return Err(source.error(
                    Some(regions.span()),
                    Some(key("regions")),
                    "give either `groups` or `regions`, not both",
                ));
            }
            (None, None) => {
                return Err(source.error(
                    Some(span),
                    Some(format!("partition[{index}]")),
                    r#"missing required key `groups` or `regions` (e.g. groups = [0.5, 0.5], or regions = [["eu"], ["us"]] with [[network.regions]])"#,
                ));
            }
            (Some(groups), None) => resolve_groups(groups, &key("groups"), source)?,
            (None, Some(regions)) => {
                resolve_region_groups(regions, &key("regions"), network, source)?
            }
        };
        let partition = Partition { at, length, split };
        let anchor = match &entry.at {
            Some(at) => (at.span(), "at"),
            None => (entry.length.span(), "for"),
        };
        let end = at + length;
        if let Some(other) = partitions
            .iter()
            .position(|earlier| earlier.at < end && at < earlier.at + earlier.length)
        {
            let earlier = &partitions[other];
            // Report the one that starts later (on a tie, the later in the file).
            let (culprit, culprit_anchor, named, window) = if earlier.at > at {
                (other, anchors[other].clone(), index, &partition)
            } else {
                (index, anchor, other, earlier)
            };
            let message = format!(
                "overlaps partition[{named}] (from {} to {}); partitions must not overlap \
                 in time (one may start when another ends)",
                format_duration(window.at),
                format_duration(window.at + window.length)
            );
            return Err(source.error(
                Some(culprit_anchor.0),
                Some(format!("partition[{culprit}].{}", culprit_anchor.1)),
                message,
            ));
        }
        partitions.push(partition);
        anchors.push(anchor);
    }
    Ok(partitions)
}

/// `groups = [0.5, 0.5]`: at least two fractions in `(0, 1]` summing to 1.
fn resolve_groups(
    groups: Spanned<Vec<Spanned<f64>>>,
    key: &str,
    source: &Source<'_>,
) -> Result<Split, ScenarioError> {
    if groups.get_ref().len() < 2 {
        return Err(source.error(
            Some(groups.span()),
            Some(key.to_owned()),
            format!(
                "needs at least two groups (the fraction of the nodes in each, e.g. \
                 [0.5, 0.5]), found {}",
                groups.get_ref().len()
            ),
        ));
    }
    let mut fractions = Vec::with_capacity(groups.get_ref().len());
    for (index, group) in groups.get_ref().iter().enumerate() {
        fractions.push(number(
            group,
            &format!("{key}[{index}]"),
            "a fraction in (0, 1]: the share of the nodes in this group",
            |x| x > 0.0 && x <= 1.0,
            source,
        )?);
    }
    let sum: f64 = fractions.iter().sum();
    if (sum - 1.0).abs() > SUM_TOLERANCE {
        return Err(source.error(
            Some(groups.span()),
            Some(key.to_owned()),
            format!("the fractions sum to {sum}; they must sum to 1 (every node is in one group)"),
        ));
    }
    Ok(Split::Fractions(fractions))
}

/// `regions = [["eu"], ["us", "asia"]]`: at least two non-empty groups of known
/// regions, each region in one group at most.
fn resolve_region_groups(
    groups: RawRegionGroups,
    key: &str,
    network: &Network,
    source: &Source<'_>,
) -> Result<Split, ScenarioError> {
    let fail = |span: Range<usize>, key: String, message: String| {
        source.error(Some(span), Some(key), message)
    };
    let regions = &network.regions;
    if regions.is_empty() {
        return Err(fail(
            groups.span(),
            key.to_owned(),
            "needs [[network.regions]]: the scenario defines no regions to split by; \
             define regions, or split by fractions with groups = [0.5, 0.5]"
                .to_owned(),
        ));
    }
    if groups.get_ref().len() < 2 {
        return Err(fail(
            groups.span(),
            key.to_owned(),
            format!(
                "needs at least two groups of regions (e.g. [[\"{}\"], [\"...\"]]), found {}",
                regions[0].name,
                groups.get_ref().len()
            ),
        ));
    }
    let known = known_regions(regions);
    let mut split: Vec<Vec<usize>> = Vec::new();
    // The path of each region already placed in a group.
    let mut placed: Vec<Option<String>> = vec![None; regions.len()];
    for (g, group) in groups.get_ref().iter().enumerate() {
        if group.get_ref().is_empty() {
            return Err(fail(
                group.span(),
                format!("{key}[{g}]"),
                format!("is empty; each group needs at least one region (known regions: {known})"),
            ));
        }
        let mut members = Vec::with_capacity(group.get_ref().len());
        for (m, name) in group.get_ref().iter().enumerate() {
            let path = format!("{key}[{g}][{m}]");
            let Some(region) = regions.iter().position(|r| &r.name == name.get_ref()) else {
                let message = format!(
                    "unknown region {:?}; known regions: {known} (from [[network.regions]])",
                    name.get_ref()
                );
                return Err(fail(name.span(), path, message));
            };
            if let Some(first) = &placed[region] {
                let message = format!(
                    "region {:?} is already in a group (at {first}); a region may be in \
                     one group only",
                    name.get_ref()
                );
                return Err(fail(name.span(), path, message));
            }
            placed[region] = Some(path);
            members.push(region);
        }
        split.push(members);
    }
    Ok(Split::Regions(split))
}

/// `[[lookups]]`.
pub(crate) fn resolve_lookups(
    raw: RawList<RawLookups>,
    duration: Duration,
    source: &Source<'_>,
) -> Result<Vec<Lookups>, ScenarioError> {
    let mut lookups = Vec::new();
    for (index, _, entry) in entries(raw) {
        let key = |field: &str| format!("lookups[{index}].{field}");
        let at = check_at(entry.at.as_ref(), duration, START, &key("at"), source)?;
        let length = check_length(
            at,
            entry.length.as_ref(),
            "for",
            LengthDefault::UntilEnd,
            duration,
            &key,
            source,
        )?;
        let rate = number(
            &entry.rate,
            &key("rate"),
            &format!("a number of lookups per second greater than 0 and at most {MAX_LOOKUP_RATE}"),
            |x| x > 0.0 && x <= MAX_LOOKUP_RATE,
            source,
        )?;
        lookups.push(Lookups { at, length, rate });
    }
    Ok(lookups)
}
