//! The rules of `[[churn]]` and of its `session` and `offline` distribution
//! tables.
//!
//! A distribution table's allowed keys depend on its `distribution`, so they are
//! checked here rather than by serde: a key that belongs to another
//! distribution (or to none) is reported at the key, listing the keys this
//! distribution takes; a missing parameter at the table, with an example.

use std::time::Duration;

use toml::Spanned;

use super::diagnose::quote_key;
use super::error::{ScenarioError, Source};
use super::keyword::{DistributionKind, choices, spelling};
use super::model::MAX_NODES;
use super::raw_workloads::{RawChurn, RawDistribution, RawParameter};
use super::validate_common::{
    LengthDefault, RawList, START, check_at, check_length, entries, number, positive_duration,
};
use super::workload::{Churn, Ratio, Rejoin, TimeDistribution};

/// The share of churn departures that are crashes when `crash` is not given.
const DEFAULT_CRASH: f64 = 0.5;

/// `[[churn]]`. `initial_nodes` is the sum of the join counts: with the
/// populations of the churn pools (which may add nodes), at most [`MAX_NODES`].
pub(crate) fn resolve_churn(
    raw: RawList<RawChurn>,
    duration: Duration,
    initial_nodes: u32,
    source: &Source<'_>,
) -> Result<Vec<Churn>, ScenarioError> {
    let mut churn = Vec::new();
    let mut pools: u64 = 0;
    for (index, span, entry) in entries(raw) {
        let key = |field: &str| format!("churn[{index}].{field}");
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
        let population = match &entry.population {
            None => None,
            Some(written) => {
                let population = *written.get_ref();
                let fail = |message: String| {
                    source.error(Some(written.span()), Some(key("population")), message)
                };
                if population < 1 {
                    return Err(fail(format!("must be at least 1, found {population}")));
                }
                let population = u64::try_from(population).expect(">= 1 was checked");
                pools = pools.saturating_add(population);
                let total = u64::from(initial_nodes).saturating_add(pools);
                if total > MAX_NODES as u64 {
                    return Err(fail(format!(
                        "brings the number of nodes the scenario may create to {total} \
                         ({initial_nodes} joining, {pools} in churn pools, which may add \
                         nodes to fill up), above the maximum of {MAX_NODES} per scenario"
                    )));
                }
                Some(u32::try_from(population).expect("<= MAX_NODES, which fits in u32"))
            }
        };
        let session = resolve_distribution(entry.session, &key("session"), source)?;
        let rejoin = entry
            .rejoin
            .as_ref()
            .map_or(Rejoin::Same, |r| r.get_ref().0);
        let offline = match (entry.offline, rejoin) {
            (Some(offline), Rejoin::Never) => {
                return Err(source.error(
                    Some(offline.span()),
                    Some(key("offline")),
                    r#"not allowed with rejoin = "never": a node that never rejoins has no offline time; remove `offline`, or use rejoin = "same" or "new""#,
                ));
            }
            (None, Rejoin::Never) => None,
            (Some(offline), _) => Some(resolve_distribution(offline, &key("offline"), source)?),
            (None, _) => {
                return Err(source.error(
                    Some(span),
                    Some(key("offline")),
                    format!(
                        "missing required key `offline` (how long a node stays away before \
                         it rejoins, e.g. offline = {}); only rejoin = \"never\" goes without",
                        DistributionKind::Exponential.example()
                    ),
                ));
            }
        };
        let crash = match &entry.crash {
            None => DEFAULT_CRASH,
            Some(written) => number(
                written,
                &key("crash"),
                "a fraction in [0, 1]: the share of departures that are crashes",
                |x| (0.0..=1.0).contains(&x),
                source,
            )?,
        };
        churn.push(Churn {
            at,
            length,
            population,
            session,
            offline,
            crash: Ratio(crash),
            rejoin,
        });
    }
    Ok(churn)
}

/// A `session` or `offline` table at `key`.
fn resolve_distribution(
    raw: Spanned<RawDistribution>,
    key: &str,
    source: &Source<'_>,
) -> Result<TimeDistribution, ScenarioError> {
    let span = raw.span();
    let raw = raw.into_inner();
    let Some(kind) = raw.distribution.map(|kind| kind.into_inner().0) else {
        let message = format!(
            "missing required key `distribution`: one of {} (e.g. {})",
            choices::<DistributionKind>(),
            DistributionKind::Exponential.example()
        );
        return Err(source.error(Some(span), Some(format!("{key}.distribution")), message));
    };
    let name = spelling(kind);
    let mut parameters = raw.parameters;
    parameters.sort_by_key(|(parameter, _)| parameter.span().start);
    for (parameter, _) in &parameters {
        if !kind.parameters().contains(&parameter.get_ref().as_str()) {
            let message = format!(
                "unknown key `{}` for the {name} distribution; allowed keys: distribution, {}",
                parameter.get_ref(),
                kind.parameters().join(", ")
            );
            return Err(source.error(
                Some(parameter.span()),
                Some(format!("{key}.{}", quote_key(parameter.get_ref()))),
                message,
            ));
        }
    }
    let find = |wanted: &str| {
        parameters
            .iter()
            .find(|(parameter, _)| parameter.get_ref() == wanted)
            .map(|(_, value)| value)
            .ok_or_else(|| {
                let message = format!(
                    "missing required key `{wanted}`: the {name} distribution needs {} \
                     (e.g. {})",
                    kind.parameters().join(" and "),
                    kind.example()
                );
                source.error(Some(span.clone()), Some(format!("{key}.{wanted}")), message)
            })
    };
    let duration = |wanted: &str| match find(wanted)? {
        RawParameter::Duration(value) => {
            positive_duration(value, &format!("{key}.{wanted}"), source)
        }
        _ => unreachable!("`{wanted}` is always read as a duration"),
    };
    let parameter = |wanted: &str, positive: bool| match find(wanted)? {
        RawParameter::Number(value) if positive => number(
            value,
            &format!("{key}.{wanted}"),
            "a number greater than 0",
            |x| x > 0.0,
            source,
        ),
        RawParameter::Number(value) => number(
            value,
            &format!("{key}.{wanted}"),
            "a finite number",
            |_| true,
            source,
        ),
        _ => unreachable!("`{wanted}` is always read as a number"),
    };
    Ok(match kind {
        DistributionKind::Exponential => TimeDistribution::Exponential {
            mean: duration("mean")?,
        },
        DistributionKind::Weibull => TimeDistribution::Weibull {
            shape: parameter("shape", true)?,
            scale: duration("scale")?,
        },
        DistributionKind::LogNormal => TimeDistribution::LogNormal {
            mu: parameter("mu", false)?,
            sigma: parameter("sigma", true)?,
        },
        DistributionKind::Pareto => TimeDistribution::Pareto {
            shape: parameter("shape", true)?,
            scale: duration("scale")?,
        },
        DistributionKind::Constant => TimeDistribution::Constant(duration("value")?),
    })
}
