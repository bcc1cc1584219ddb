//! Tests of the statistics: the KS statistic and p-value against hand
//! computations, published values and a brute force; percentiles; chart
//! labels. Result directories end to end: `tests_dirs.rs`.

use std::path::Path;

use super::ks::{q_series, q_small};
use super::*;

fn sorted(v: &[f64]) -> Vec<f64> {
    Values::new(v.to_vec()).sorted().to_vec()
}

fn d(a: &[f64], b: &[f64]) -> Option<f64> {
    ks_statistic(&sorted(a), &sorted(b))
}

#[test]
fn ks_statistic_of_hand_computed_cases() {
    // Identical samples, with ties inside each: the CDFs coincide.
    assert_eq!(d(&[1.0, 2.0, 2.0, 3.0], &[3.0, 2.0, 1.0, 2.0]), Some(0.0));
    // Disjoint samples: one CDF is 1 before the other leaves 0.
    assert_eq!(d(&[1.0, 2.0], &[3.0, 4.0, 5.0]), Some(1.0));
    assert_eq!(d(&[30.0, 40.0, 50.0], &[1.0, 2.0]), Some(1.0));
    // Interleaved: A = 1 3 5 7, B = 2 4 6 8 10 12. After 7, F_A = 4/4 and
    // F_B = 3/6: D = 1/2 (the other gaps: 1/4, 1/12, 1/3, 1/6, 5/12, 1/4).
    assert_eq!(
        d(&[1.0, 3.0, 5.0, 7.0], &[2.0, 4.0, 6.0, 8.0, 10.0, 12.0]),
        Some(0.5)
    );
    // Ties across the samples: A = 1 2 2 3, B = 2 3 3 4. At x = 1 the gap
    // is 1/4, at 2 it is 3/4 - 1/4 = 1/2, at 3 it is 1 - 3/4. Counting A's
    // 2s before B's 2 would give a false 3/4.
    assert_eq!(d(&[1.0, 2.0, 2.0, 3.0], &[2.0, 3.0, 3.0, 4.0]), Some(0.5));
    // One value each, equal or not.
    assert_eq!(d(&[5.0], &[5.0]), Some(0.0));
    assert_eq!(d(&[5.0], &[6.0]), Some(1.0));
    // Symmetric.
    assert_eq!(
        d(&[2.0, 3.0, 3.0, 4.0], &[1.0, 2.0, 2.0, 3.0]),
        d(&[1.0, 2.0, 2.0, 3.0], &[2.0, 3.0, 3.0, 4.0])
    );
    // An empty side has no statistic.
    assert_eq!(d(&[], &[1.0]), None);
    assert_eq!(d(&[1.0], &[]), None);
    assert_eq!(KsTest::of(&[], &[]), None);
}

/// Deterministic pseudo-random integers in `0..range` (a 64-bit LCG).
fn lcg(seed: u64, n: usize, range: u64) -> Vec<f64> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((x >> 33) % range) as f64
        })
        .collect()
}

/// `sup |F_A − F_B|` over the grid `lo, lo + step, … hi`, counting values
/// `<= x` directly.
fn brute_force(a: &[f64], b: &[f64], lo: f64, hi: f64, step: f64) -> f64 {
    let cdf = |s: &[f64], x: f64| s.iter().filter(|v| **v <= x).count() as f64 / s.len() as f64;
    let mut best: f64 = 0.0;
    let mut x = lo;
    while x <= hi {
        best = best.max((cdf(a, x) - cdf(b, x)).abs());
        x += step;
    }
    best
}

#[test]
fn ks_statistic_matches_brute_force_on_a_grid() {
    // Integers in a small range, so both samples have many ties within
    // and across; the grid (step 1/4) holds every value and points between.
    for seed in 0..40u64 {
        let na = 1 + (seed as usize * 7) % 23;
        let nb = 1 + (seed as usize * 11) % 31;
        let range = 2 + seed % 15;
        let a = lcg(seed, na, range);
        // B shifted by a seed-dependent offset, sometimes overlapping A.
        let shift = (seed % 5) as f64 - 2.0;
        let b: Vec<f64> = lcg(seed + 1000, nb, range)
            .into_iter()
            .map(|v| v + shift)
            .collect();
        let expected = brute_force(&a, &b, -4.0, range as f64 + 4.0, 0.25);
        let got = d(&a, &b).expect("both samples have values");
        assert!(
            (got - expected).abs() < 1e-12,
            "seed {seed}: D = {got}, brute force {expected}, A = {a:?}, B = {b:?}"
        );
    }
}

#[test]
fn kolmogorov_q_matches_published_values() {
    // Q(0) = 1; tiny λ is indistinguishable from it.
    assert_eq!(kolmogorov_q(0.0), 1.0);
    assert!(kolmogorov_q(1e-6) > 1.0 - 1e-12);
    assert!(kolmogorov_q(0.2) > 0.999_99);
    // The Kolmogorov distribution: K(0.5) = 0.0361, K(1) = 0.7300, and
    // the critical values of the two-sample test at 10, 5, 1 and 0.1 %.
    let table = [
        (0.5, 0.9639),
        (1.0, 0.2700),
        (1.2238, 0.10),
        (1.3581, 0.05),
        (1.6276, 0.01),
        (1.9495, 0.001),
    ];
    for (lambda, q) in table {
        let got = kolmogorov_q(lambda);
        assert!(
            (got - q).abs() < 1e-4,
            "Q({lambda}) = {got}, table says {q}"
        );
    }
    // Both forms of the series agree where either would do.
    for lambda in [0.6, 0.8, 1.0, 1.18, 1.5, 2.0] {
        let (s, t) = (q_series(lambda), q_small(lambda));
        assert!((s - t).abs() < 1e-12, "λ = {lambda}: {s} vs {t}");
    }
}

#[test]
fn p_value_is_one_at_zero_and_falls_with_d() {
    assert_eq!(ks_p_value(0.0, 10, 10), 1.0);
    assert_eq!(ks_p_value(0.5, 0, 10), 1.0);
    let mut previous = 1.0;
    for i in 0..=4000 {
        let q = kolmogorov_q(f64::from(i) * 0.001);
        assert!((0.0..=1.0).contains(&q), "Q out of range: {q}");
        assert!(
            q <= previous + 1e-15,
            "Q rises at λ = {}",
            f64::from(i) * 0.001
        );
        previous = q;
    }
    assert!(previous < 1e-12, "Q(4) = {previous}");
    // Larger samples make the same D less likely under the null.
    assert!(ks_p_value(0.3, 100, 100) < ks_p_value(0.3, 10, 10));
    // n_eff = 4 · 4 / 8 = 2.
    assert_eq!(ks_p_value(0.5, 4, 4), kolmogorov_q(2f64.sqrt() * 0.5));
}

#[test]
fn values_percentiles_are_nearest_rank() {
    let v = Values::new(vec![5.0, 1.0, 3.0, 2.0, 4.0, 10.0, 9.0, 8.0, 7.0, 6.0]);
    assert_eq!(v.count(), 10);
    assert_eq!(v.median(), Some(5.0));
    assert_eq!(v.p90(), Some(9.0));
    let empty = Values::default();
    assert_eq!(
        (empty.count(), empty.median(), empty.p90()),
        (0, None, None)
    );
}

#[test]
fn labels_tell_the_directories_apart() {
    let l = |a: &str, b: &str| labels(Path::new(a), Path::new(b));
    assert_eq!(
        l("x/seed-1", "x/seed-2"),
        ("seed-1".into(), "seed-2".into())
    );
    assert_eq!(
        l("results/a/seed-7", "results/b/seed-7"),
        ("a/seed-7".into(), "b/seed-7".into())
    );
    assert_eq!(
        l("/r/seed-7", "r/seed-7"),
        ("/r/seed-7".into(), "r/seed-7".into())
    );
    assert_eq!(l("/run", "/x/y/run"), ("/run".into(), "y/run".into()));
    assert_eq!(l("same", "same"), ("same".into(), "same".into()));
}
