//! The rules of what `[network]` shapes besides latency: `loss`,
//! `upload_mbps`, `download_mbps` and, with regions, `[network.loss_matrix]`.
//!
//! The loss matrix is written like the latency matrix (`eu = { us = 0.01 }`,
//! each unordered pair of regions at most once, either way round), but it
//! need not be complete: a pair it leaves out has `loss`. Its cells are
//! checked in file order: unknown region names, pairs given twice, then
//! each value.

use std::collections::BTreeMap;
use std::ops::Range;

use super::diagnose::quote_key;
use super::error::{ScenarioError, Source};
use super::model::{MAX_LOSS, MAX_UPLOAD_MBPS, Region};
use super::raw::{RawLossMatrix, RawNetwork};
use super::validate_common::{known_regions, number};
use super::workload::Ratio;

/// `loss`, `upload_mbps` and `download_mbps` as given (bandwidths in bits
/// per second, rounded to the bit).
pub(crate) struct Rates {
    pub loss: Ratio,
    pub upload_bps: Option<u64>,
    pub download_bps: Option<u64>,
}

/// Checks `loss`, `upload_mbps` and `download_mbps`, in that order.
pub(crate) fn resolve_rates(raw: &RawNetwork, source: &Source<'_>) -> Result<Rates, ScenarioError> {
    let loss = match &raw.loss {
        None => 0.0,
        Some(value) => probability(value, "network.loss", source)?,
    };
    let bandwidth = |value: &Option<toml::Spanned<f64>>, key: &str| match value {
        None => Ok(None),
        Some(value) => {
            let mbps = number(
                value,
                key,
                &format!("greater than 0 and at most {MAX_UPLOAD_MBPS} (Mbit/s)"),
                |x| x > 0.0 && x <= MAX_UPLOAD_MBPS,
                source,
            )?;
            Ok(Some(((mbps * 1e6).round() as u64).max(1)))
        }
    };
    Ok(Rates {
        loss: Ratio(loss),
        upload_bps: bandwidth(&raw.upload_mbps, "network.upload_mbps")?,
        download_bps: bandwidth(&raw.download_mbps, "network.download_mbps")?,
    })
}

fn probability(
    value: &toml::Spanned<f64>,
    key: &str,
    source: &Source<'_>,
) -> Result<f64, ScenarioError> {
    number(
        value,
        key,
        &format!("a probability from 0 to {MAX_LOSS} (of losing a TCP segment)"),
        |x| (0.0..=MAX_LOSS).contains(&x),
        source,
    )
}

/// The error for a loss matrix without regions.
pub(crate) fn loss_matrix_without_regions(
    matrix: &toml::Spanned<RawLossMatrix>,
    source: &Source<'_>,
) -> ScenarioError {
    source.error(
        Some(matrix.span()),
        Some("network.loss_matrix".to_owned()),
        "needs [[network.regions]]: the matrix gives the loss between named regions; \
         without regions, give one `loss` for every link",
    )
}

/// The loss matrix's cells by pair of region indices `(i, j)`, `i <= j`.
pub(crate) fn resolve_loss_matrix(
    matrix: toml::Spanned<RawLossMatrix>,
    regions: &[Region],
    source: &Source<'_>,
) -> Result<BTreeMap<(usize, usize), Ratio>, ScenarioError> {
    let index_of = |name: &str| regions.iter().position(|region| region.name == name);
    let unknown = |span: Range<usize>, path: String, name: &str| {
        let message = format!(
            "unknown region {name:?}; known regions: {} (from [[network.regions]])",
            known_regions(regions)
        );
        source.error(Some(span), Some(path), message)
    };
    let mut rows = matrix.into_inner().0;
    rows.sort_by_key(|(key, _)| key.span().start);
    let mut cells = Vec::new();
    for (row_key, row) in rows {
        let row_path = format!("network.loss_matrix.{}", quote_key(row_key.get_ref()));
        let Some(row_index) = index_of(row_key.get_ref()) else {
            return Err(unknown(row_key.span(), row_path, row_key.get_ref()));
        };
        for (column_key, value) in row.into_inner().0 {
            let path = format!("{row_path}.{}", quote_key(column_key.get_ref()));
            let Some(column) = index_of(column_key.get_ref()) else {
                return Err(unknown(column_key.span(), path, column_key.get_ref()));
            };
            cells.push((column_key.span(), row_index, column, path, value));
        }
    }
    cells.sort_by_key(|cell| cell.0.start);
    let mut given: BTreeMap<(usize, usize), (String, Ratio)> = BTreeMap::new();
    for (key_span, row, column, path, value) in cells {
        let pair = (row.min(column), row.max(column));
        if let Some((first, _)) = given.get(&pair) {
            let what = if pair.0 == pair.1 {
                format!("the loss within region {:?}", regions[pair.0].name)
            } else {
                format!(
                    "the loss between regions {:?} and {:?}",
                    regions[pair.0].name, regions[pair.1].name
                )
            };
            let message = format!(
                "{what} is already given by {first}; give the loss of each pair of regions \
                 at most once (either way round)"
            );
            return Err(source.error(Some(key_span), Some(path), message));
        }
        let loss = probability(&value, &path, source)?;
        given.insert(pair, (path, Ratio(loss)));
    }
    Ok(given
        .into_iter()
        .map(|(pair, (_, loss))| (pair, loss))
        .collect())
}
