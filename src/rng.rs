//! Seed derivation: one master seed, one independent stream per purpose.
//!
//! Every consumer of randomness gets its own ChaCha stream keyed by
//! `(master seed, label, index)`, e.g. `("identity", 17)` for node 17's key
//! or `("join-times", 0)` for the scenario's join schedule. Streams do not
//! share state, so adding a node or a workload does not reshuffle the draws
//! of everyone else. Labels are plain strings, hashed with a fixed function
//! (FNV-1a), so the mapping is the same on every machine and every run.

use rand_chacha::ChaCha12Rng;
use rand_core::{RngCore, SeedableRng};

/// A 32-byte key derived from `(master, label, index)`.
pub fn derive_key(master: u64, label: &str, index: u64) -> [u8; 32] {
    let mut state = splitmix(master ^ fnv1a(label.as_bytes()));
    state = splitmix(state ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut key = [0u8; 32];
    for chunk in key.chunks_exact_mut(8) {
        state = splitmix(state);
        chunk.copy_from_slice(&state.to_le_bytes());
    }
    key
}

/// The ChaCha stream for `(master, label, index)`.
pub fn stream(master: u64, label: &str, index: u64) -> ChaCha12Rng {
    ChaCha12Rng::from_seed(derive_key(master, label, index))
}

/// A 64-bit value derived from `(master, label, index)`, without a stream.
/// Used where a single draw per item is needed (a link's latency).
pub fn derive_u64(master: u64, label: &str, index: u64) -> u64 {
    let key = derive_key(master, label, index);
    u64::from_le_bytes(key[..8].try_into().expect("key has 32 bytes"))
}

/// A uniform draw in `0..n` (n > 0) from one 64-bit value, by
/// multiply-shift (bias below 2^-32 for the sizes used here).
pub fn below(x: u64, n: u64) -> u64 {
    assert!(n > 0, "below(x, 0) has no values to pick from");
    ((u128::from(x) * u128::from(n)) >> 64) as u64
}

/// A uniform draw in `0..n` from `rng`.
pub fn gen_below(rng: &mut impl RngCore, n: u64) -> u64 {
    below(rng.next_u64(), n)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01B3)
    })
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_stable_and_independent() {
        assert_eq!(derive_key(7, "identity", 3), derive_key(7, "identity", 3));
        assert_ne!(derive_key(7, "identity", 3), derive_key(7, "identity", 4));
        assert_ne!(derive_key(7, "identity", 3), derive_key(8, "identity", 3));
        assert_ne!(derive_key(7, "identity", 3), derive_key(7, "join-times", 3));
        let a: Vec<u64> = (0..4).map(|_| stream(1, "x", 0).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut rng = stream(1, "below", 0);
        let mut seen = [0u32; 5];
        for _ in 0..5000 {
            seen[gen_below(&mut rng, 5) as usize] += 1;
        }
        // Each bucket expects 1000; a fair draw stays well inside 800..1200.
        assert!(seen.iter().all(|&n| (800..1200).contains(&n)), "{seen:?}");
    }
}
