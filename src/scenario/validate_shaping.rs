//! The rules of what `[network]` shapes besides latency: `loss`,
//! `upload_mbps`, `download_mbps` and, with regions, `[network.loss_matrix]`.
//!
//! The loss matrix is written like the latency matrix (`eu = { us = 0.01 }`,
//! each unordered pair of regions at most once, either way round), but it
//! need not be complete: a pair it leaves out has `loss`. Its cells are
//! checked as the latency matrix's are: unknown region names, then pairs
//! given twice, then each value, each pass in file order.

use std::collections::BTreeMap;

use super::error::{ScenarioError, Source};
use super::model::{MAX_LOSS, MAX_UPLOAD_MBPS, Region};
use super::raw::{RawLossMatrix, RawNetwork};
use super::validate_common::{matrix_cells, number};
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
    let table = ("network.loss_matrix", "loss", false);
    let (cells, _) = matrix_cells(matrix.into_inner(), regions, table, source)?;
    let mut given = BTreeMap::new();
    for cell in cells {
        let loss = probability(&cell.value, &cell.path, source)?;
        given.insert(cell.pair, Ratio(loss));
    }
    Ok(given)
}
