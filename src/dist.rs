//! Draws from the scenario's time distributions (session and offline
//! lengths, Poisson gaps), by inverse transform from a seeded stream.
//!
//! Every draw takes the random stream as an argument; nothing here owns
//! state. The floating-point functions used (`ln`, `exp`, `powf`, `sqrt`,
//! `cos`) are those of the platform's libm, so a run is reproducible on the
//! same platform and build.

use std::time::Duration;

use rand_core::RngCore;

use crate::scenario::TimeDistribution;

/// Longest length a draw can produce (heavy tails are cut here): 100 years,
/// far beyond any scenario's duration.
pub const MAX_DRAW: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// A uniform draw in the open interval (0, 1), from 53 random bits.
pub fn unit_open(rng: &mut impl RngCore) -> f64 {
    ((rng.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
}

/// `true` with probability `p` (`p` in [0, 1]).
pub fn bernoulli(rng: &mut impl RngCore, p: f64) -> bool {
    unit_open(rng) < p
}

/// An exponential draw with mean `mean`.
pub fn exponential(rng: &mut impl RngCore, mean: Duration) -> Duration {
    seconds(-mean.as_secs_f64() * unit_open(rng).ln())
}

/// A draw from `dist`.
pub fn sample(dist: &TimeDistribution, rng: &mut impl RngCore) -> Duration {
    match *dist {
        TimeDistribution::Constant(d) => d,
        TimeDistribution::Exponential { mean } => exponential(rng, mean),
        TimeDistribution::Weibull { shape, scale } => {
            let e = -unit_open(rng).ln();
            seconds(scale.as_secs_f64() * e.powf(1.0 / shape))
        }
        TimeDistribution::LogNormal { mu, sigma } => seconds((mu + sigma * normal(rng)).exp()),
        TimeDistribution::Pareto { shape, scale } => {
            seconds(scale.as_secs_f64() * unit_open(rng).powf(-1.0 / shape))
        }
    }
}

/// The distribution's mean, `None` where it is infinite (Pareto with
/// shape <= 1). Used for documentation figures and tests.
pub fn mean(dist: &TimeDistribution) -> Option<f64> {
    match *dist {
        TimeDistribution::Constant(d) => Some(d.as_secs_f64()),
        TimeDistribution::Exponential { mean } => Some(mean.as_secs_f64()),
        TimeDistribution::Weibull { shape, scale } => {
            Some(scale.as_secs_f64() * gamma(1.0 + 1.0 / shape))
        }
        TimeDistribution::LogNormal { mu, sigma } => Some((mu + sigma * sigma / 2.0).exp()),
        TimeDistribution::Pareto { shape, scale } => {
            (shape > 1.0).then(|| shape * scale.as_secs_f64() / (shape - 1.0))
        }
    }
}

/// A standard normal draw (Box-Muller, one of the pair).
fn normal(rng: &mut impl RngCore) -> f64 {
    let (u, v) = (unit_open(rng), unit_open(rng));
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// `s` seconds as a duration, clamped to `[0, MAX_DRAW]`, rounded to the
/// nanosecond.
fn seconds(s: f64) -> Duration {
    if s.is_nan() || s <= 0.0 {
        return Duration::ZERO;
    }
    if s >= MAX_DRAW.as_secs_f64() {
        return MAX_DRAW;
    }
    Duration::from_secs_f64(s)
}

/// The gamma function for x > 0 (Lanczos approximation, g = 7), accurate
/// to about 1e-13 relative; enough for the Weibull mean.
fn gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        return std::f64::consts::PI / ((std::f64::consts::PI * x).sin() * gamma(1.0 - x));
    }
    let x = x - 1.0;
    let t = x + G + 0.5;
    let sum = C[1..]
        .iter()
        .enumerate()
        .fold(C[0], |acc, (i, c)| acc + c / (x + i as f64 + 1.0));
    (2.0 * std::f64::consts::PI).sqrt() * t.powf(x + 0.5) * (-t).exp() * sum
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    /// Mean and median of `n` draws.
    fn stats(dist: &TimeDistribution, n: usize) -> (f64, f64) {
        let mut r = rng::stream(1, "dist-test", 0);
        let mut v: Vec<f64> = (0..n).map(|_| sample(dist, &mut r).as_secs_f64()).collect();
        v.sort_by(f64::total_cmp);
        (v.iter().sum::<f64>() / n as f64, v[n / 2])
    }

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs()
    }

    #[test]
    fn gamma_matches_known_values() {
        assert!(close(gamma(1.0), 1.0, 1e-12));
        assert!(close(gamma(5.0), 24.0, 1e-12));
        assert!(close(gamma(0.5), std::f64::consts::PI.sqrt(), 1e-12));
        assert!(close(gamma(2.5), 1.329_340_388_179_137, 1e-12));
    }

    #[test]
    fn sample_means_and_medians_match_the_formulas() {
        let n = 200_000;
        let cases = [
            (
                TimeDistribution::Exponential { mean: secs(300) },
                300.0 * 2f64.ln(),
            ),
            (
                TimeDistribution::Weibull {
                    shape: 0.6,
                    scale: secs(1200),
                },
                1200.0 * 2f64.ln().powf(1.0 / 0.6),
            ),
            (
                TimeDistribution::LogNormal {
                    mu: 5.0,
                    sigma: 1.0,
                },
                5f64.exp(),
            ),
            (
                TimeDistribution::Pareto {
                    shape: 3.0,
                    scale: secs(60),
                },
                60.0 * 2f64.powf(1.0 / 3.0),
            ),
        ];
        for (dist, median) in cases {
            let (m, med) = stats(&dist, n);
            let expected = mean(&dist).unwrap();
            assert!(close(m, expected, 0.03), "{dist:?}: mean {m} vs {expected}");
            assert!(
                close(med, median, 0.02),
                "{dist:?}: median {med} vs {median}"
            );
        }
    }

    #[test]
    fn constant_is_constant_and_heavy_tails_are_capped() {
        let mut r = rng::stream(2, "dist-test", 0);
        let c = TimeDistribution::Constant(secs(7));
        assert!((0..10).all(|_| sample(&c, &mut r) == secs(7)));
        let wild = TimeDistribution::Pareto {
            shape: 0.01,
            scale: secs(1),
        };
        assert!((0..1000).all(|_| sample(&wild, &mut r) <= MAX_DRAW));
        assert_eq!(mean(&wild), None);
    }

    #[test]
    fn draws_are_a_function_of_the_stream() {
        let d = TimeDistribution::Weibull {
            shape: 0.5,
            scale: secs(100),
        };
        let draw = |seed| {
            let mut r = rng::stream(seed, "dist-test", 3);
            (0..5).map(|_| sample(&d, &mut r)).collect::<Vec<_>>()
        };
        assert_eq!(draw(1), draw(1));
        assert_ne!(draw(1), draw(2));
    }
}
