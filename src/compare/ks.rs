//! The two-sample Kolmogorov–Smirnov test: the statistic computed exactly
//! over the merged samples, and its asymptotic p-value.

use std::f64::consts::PI;

/// Result of a two-sample Kolmogorov–Smirnov test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KsTest {
    /// `D = sup_x |F_A(x) − F_B(x)|`, in `0..=1`.
    pub d: f64,
    /// Asymptotic p-value `Q_KS(sqrt(n_eff) · D)`, with
    /// `n_eff = n_A · n_B / (n_A + n_B)`.
    pub p: f64,
}

impl KsTest {
    /// The test of samples `a` and `b`, both sorted in increasing order
    /// ([`f64::total_cmp`]); `None` when either is empty.
    pub fn of(a: &[f64], b: &[f64]) -> Option<KsTest> {
        let d = ks_statistic(a, b)?;
        Some(KsTest {
            d,
            p: ks_p_value(d, a.len(), b.len()),
        })
    }
}

/// The two-sample statistic `D = sup_x |F_A(x) − F_B(x)|` of sorted samples
/// `a` and `b`, where `F` is the empirical CDF (fraction of values `<= x`);
/// `None` when either sample is empty.
///
/// The supremum is reached just after one of the values, so it is enough
/// to look at each distinct value of the merged samples once all its copies
/// in both samples have been counted: a tie between the samples moves both
/// CDFs at the same `x`, and must not be counted as a gap in between.
pub fn ks_statistic(a: &[f64], b: &[f64]) -> Option<f64> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j) = (0, 0);
    let mut d: f64 = 0.0;
    while i < a.len() && j < b.len() {
        // The smallest value not yet counted, then every copy of it.
        let x = if a[i].total_cmp(&b[j]).is_le() {
            a[i]
        } else {
            b[j]
        };
        while i < a.len() && a[i].total_cmp(&x).is_le() {
            i += 1;
        }
        while j < b.len() && b[j].total_cmp(&x).is_le() {
            j += 1;
        }
        d = d.max((i as f64 / na - j as f64 / nb).abs());
    }
    // Once one sample is used up its CDF is 1 and the other's only rises
    // towards 1: the gap only shrinks from here.
    Some(d)
}

/// Asymptotic p-value of the statistic `d` of samples of sizes `na` and
/// `nb`: the Kolmogorov distribution's tail `Q_KS(λ)` at
/// `λ = sqrt(n_eff) · d`, `n_eff = na · nb / (na + nb)`. It is 1 when `d`
/// is 0 or a sample is empty.
pub fn ks_p_value(d: f64, na: usize, nb: usize) -> f64 {
    if na == 0 || nb == 0 {
        return 1.0;
    }
    let n_eff = (na as f64 * nb as f64) / (na + nb) as f64;
    kolmogorov_q(n_eff.sqrt() * d)
}

/// Below this `λ` the alternating series converges slowly and cancels
/// badly, and [`q_small`] is used instead (Numerical Recipes, §6.14).
const SMALL_LAMBDA: f64 = 1.18;
/// Terms of either series at most; both are negligible long before.
const MAX_TERMS: u32 = 100;

/// `Q_KS(λ) = 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²λ²}`, the probability that the
/// Kolmogorov distribution exceeds `λ`; in `0..=1`, 1 for `λ <= 0`.
pub fn kolmogorov_q(lambda: f64) -> f64 {
    if lambda.is_nan() || lambda <= 0.0 {
        return 1.0;
    }
    let q = if lambda < SMALL_LAMBDA {
        q_small(lambda)
    } else {
        q_series(lambda)
    };
    q.clamp(0.0, 1.0)
}

/// The standard series `2 Σ_{k≥1} (−1)^{k−1} e^{−2k²λ²}`.
pub(super) fn q_series(lambda: f64) -> f64 {
    let mut sum = 0.0;
    let mut sign = 1.0;
    for k in 1..=MAX_TERMS {
        let k = f64::from(k);
        let term = (-2.0 * k * k * lambda * lambda).exp();
        sum += sign * term;
        if term < 1e-17 * sum.abs().max(f64::MIN_POSITIVE) {
            break;
        }
        sign = -sign;
    }
    2.0 * sum
}

/// The same function through the Jacobi theta identity:
/// `Q_KS(λ) = 1 − (sqrt(2π) / λ) Σ_{k≥1} e^{−(2k−1)² π² / (8λ²)}`, which
/// converges fast where the standard series does not.
pub(super) fn q_small(lambda: f64) -> f64 {
    let mut sum = 0.0;
    for k in 1..=MAX_TERMS {
        let m = f64::from(2 * k - 1);
        let term = (-(m * m) * PI * PI / (8.0 * lambda * lambda)).exp();
        sum += term;
        if term < 1e-17 * sum.max(f64::MIN_POSITIVE) {
            break;
        }
    }
    1.0 - (2.0 * PI).sqrt() / lambda * sum
}
