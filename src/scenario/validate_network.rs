//! The rules of `[network]`: one latency for every link, or named regions with a
//! latency matrix between them; and, either way, loss and bandwidth
//! (`validate_shaping.rs`).
//!
//! With regions, the file must say, for every unordered pair of regions (a
//! region with itself included), exactly once, what the latency between them
//! is; it may write the pair either way round (`eu.us` or `us.eu`). The checks
//! run in this order: `latency` and `regions` together, each region (name,
//! share), the shares' sum, then the matrix (unknown region names, then pairs
//! given twice, then each latency's bounds, each pass in file order) and
//! finally the pairs it lacks.

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use toml::Spanned;

use super::duration::format_duration;
use super::error::{ScenarioError, Source};
use super::model::{Latency, MAX_LATENCY, MAX_NAME_LEN, Network, Region};
use super::raw::{RawLatency, RawMatrix, RawNetwork, RawRegion};
use super::validate_common::{matrix_cells, number, pair_phrase};
use super::validate_shaping::{loss_matrix_without_regions, resolve_loss_matrix, resolve_rates};

/// How far from 1 the shares of the regions (and the fractions of a partition's
/// groups) may sum.
pub(crate) const SUM_TOLERANCE: f64 = 1e-9;

/// Checks `[network]` and fills in its defaults.
pub(crate) fn resolve_network(
    raw: Option<RawNetwork>,
    source: &Source<'_>,
) -> Result<Network, ScenarioError> {
    let Some(raw) = raw else {
        return Ok(Network::default());
    };
    let rates = resolve_rates(&raw, source)?;
    let Some(raw_regions) = raw.regions else {
        if let Some(matrix) = &raw.latency_matrix {
            return Err(source.error(
                Some(matrix.span()),
                Some("network.latency_matrix".to_owned()),
                "needs [[network.regions]]: the matrix gives the latency between named \
                 regions; without regions, give one `latency` for every link",
            ));
        }
        if let Some(matrix) = &raw.loss_matrix {
            return Err(loss_matrix_without_regions(matrix, source));
        }
        let latency = match raw.latency {
            None => Latency::default(),
            Some(latency) => resolve_latency(latency, "network.latency", source)?,
        };
        return Ok(Network {
            latency,
            loss: rates.loss,
            upload_bps: rates.upload_bps,
            download_bps: rates.download_bps,
            ..Network::default()
        });
    };
    if let Some(latency) = &raw.latency {
        return Err(source.error(
            Some(latency.span()),
            Some("network.latency".to_owned()),
            "not allowed together with `regions`: with regions, the latency of a link \
             comes from `latency_matrix`; remove `latency`",
        ));
    }
    let regions_span = raw_regions.span();
    let regions = resolve_regions(raw_regions, source)?;
    let Some(matrix) = raw.latency_matrix else {
        return Err(source.error(
            Some(regions_span),
            Some("network.latency_matrix".to_owned()),
            r#"missing required key `latency_matrix`: with [[network.regions]], give the latency of every pair of regions (e.g. [network.latency_matrix] with eu = { eu = "10ms", us = "80ms" })"#,
        ));
    };
    let latency_matrix = resolve_matrix(matrix, &regions, source)?;
    let loss_matrix = match raw.loss_matrix {
        None => BTreeMap::new(),
        Some(matrix) => resolve_loss_matrix(matrix, &regions, source)?,
    };
    Ok(Network {
        latency: Latency::default(),
        regions,
        latency_matrix,
        loss: rates.loss,
        upload_bps: rates.upload_bps,
        download_bps: rates.download_bps,
        loss_matrix,
    })
}

/// A latency setting (`network.latency` or a matrix cell) at `key`: each bound at
/// most [`MAX_LATENCY`], `min <= max`.
pub(crate) fn resolve_latency(
    latency: Spanned<RawLatency>,
    key: &str,
    source: &Source<'_>,
) -> Result<Latency, ScenarioError> {
    let bound = |d: Duration, span: Range<usize>, key: String| {
        if d > MAX_LATENCY {
            let message = format!(
                "{} is above the maximum one-way latency of {}",
                format_duration(d),
                format_duration(MAX_LATENCY)
            );
            return Err(source.error(Some(span), Some(key), message));
        }
        Ok(d)
    };
    let span = latency.span();
    Ok(match latency.into_inner() {
        RawLatency::Constant(d) => Latency::Constant(bound(d.0, span, key.to_owned())?),
        RawLatency::Uniform(range) => {
            let min = bound(
                range.min.get_ref().0,
                range.min.span(),
                format!("{key}.min"),
            )?;
            let max = bound(
                range.max.get_ref().0,
                range.max.span(),
                format!("{key}.max"),
            )?;
            if min > max {
                let message = format!(
                    "min ({}) is greater than max ({}); a latency range needs min <= max",
                    format_duration(min),
                    format_duration(max)
                );
                return Err(source.error(
                    Some(range.min.span()),
                    Some(format!("{key}.min")),
                    message,
                ));
            }
            Latency::Uniform { min, max }
        }
    })
}

fn resolve_regions(
    raw: Spanned<Vec<Spanned<RawRegion>>>,
    source: &Source<'_>,
) -> Result<Vec<Region>, ScenarioError> {
    let span = raw.span();
    if raw.get_ref().is_empty() {
        return Err(source.error(
            Some(span),
            Some("network.regions".to_owned()),
            "needs at least one region; leave out `regions` for one flat network",
        ));
    }
    let mut regions: Vec<Region> = Vec::with_capacity(raw.get_ref().len());
    for (index, entry) in raw.into_inner().into_iter().enumerate() {
        let entry = entry.into_inner();
        let key = |field: &str| format!("network.regions[{index}].{field}");
        let name = entry.name.get_ref();
        check_region_name(name)
            .map_err(|message| source.error(Some(entry.name.span()), Some(key("name")), message))?;
        if let Some(first) = regions.iter().position(|region| &region.name == name) {
            return Err(source.error(
                Some(entry.name.span()),
                Some(key("name")),
                format!(
                    "region {name:?} is already defined by network.regions[{first}]; \
                     region names must be unique"
                ),
            ));
        }
        let share = number(
            &entry.share,
            &key("share"),
            "a fraction in (0, 1]: the share of the nodes placed in this region",
            |x| x > 0.0 && x <= 1.0,
            source,
        )?;
        regions.push(Region {
            name: name.clone(),
            share,
        });
    }
    let sum: f64 = regions.iter().map(|region| region.share).sum();
    if (sum - 1.0).abs() > SUM_TOLERANCE {
        return Err(source.error(
            Some(span),
            Some("network.regions".to_owned()),
            format!(
                "the shares of the regions sum to {sum}; they must sum to 1 (every node \
                 is placed in exactly one region)"
            ),
        ));
    }
    Ok(regions)
}

/// Region names appear in keys of the matrix and in partitions: short, bare
/// TOML keys.
fn check_region_name(name: &str) -> Result<(), String> {
    let allowed = "use 1 to 64 characters of A-Z, a-z, 0-9, '_' and '-'";
    if name.is_empty() {
        return Err(format!("must not be empty; {allowed}"));
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Err(format!(
            "is {} characters long; {allowed}",
            name.chars().count()
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-')))
    {
        return Err(format!("{name:?} contains {bad:?}; {allowed}"));
    }
    Ok(())
}

fn resolve_matrix(
    matrix: Spanned<RawMatrix>,
    regions: &[Region],
    source: &Source<'_>,
) -> Result<BTreeMap<(usize, usize), Latency>, ScenarioError> {
    let matrix_span = matrix.span();
    let table = ("network.latency_matrix", "latency", true);
    let (cells, row_spans) = matrix_cells(matrix.into_inner(), regions, table, source)?;
    let mut given: BTreeMap<(usize, usize), Latency> = BTreeMap::new();
    for cell in cells {
        let latency = resolve_latency(cell.value, &cell.path, source)?;
        given.insert(cell.pair, latency);
    }

    for a in 0..regions.len() {
        for b in a..regions.len() {
            if given.contains_key(&(a, b)) {
                continue;
            }
            let (name_a, name_b) = (&regions[a].name, &regions[b].name);
            // Point at the row that should hold the pair, if there is one.
            let (span, row, column) = match (row_spans.get(&a), row_spans.get(&b)) {
                (Some(span), _) => (span.clone(), name_a, name_b),
                (None, Some(span)) => (span.clone(), name_b, name_a),
                (None, None) => (matrix_span.clone(), name_a, name_b),
            };
            let how = if a == b {
                format!("{name_a}.{name_a}")
            } else {
                format!("{name_a}.{name_b} or {name_b}.{name_a}")
            };
            let message = format!(
                "missing {}: give it once, as {how} (every pair of regions, a region with \
                 itself included, needs a latency)",
                pair_phrase(regions, (a, b), "latency")
            );
            return Err(source.error(
                Some(span),
                Some(format!("network.latency_matrix.{row}.{column}")),
                message,
            ));
        }
    }
    Ok(given)
}
