//! The X25519 stand-in: Noise's key agreement at no CPU cost, inside a
//! simulation that asks for it.
//!
//! Every Noise handshake performs eight X25519 scalar multiplications (four
//! per side in the XX pattern). A simulation charges no virtual time for CPU
//! work, so their cost shows only in wall time, where a profile of a
//! bootstrap run shows it as the largest single item. The patched `x25519-dalek`
//! crate under `sim/` asks [`stand_in_active`] on every call and, when a
//! simulation on the calling thread turned the stand-in on
//! ([`crate::Clock::use_x25519_stand_in`]), computes [`stand_in_x25519`]
//! instead of the curve.
//!
//! The stand-in keeps everything a simulation can observe:
//!
//! * it is a key agreement: `f(a, f(b, G)) == f(b, f(a, G))` for every pair
//!   of secrets, so both ends of a handshake derive the same keys, and
//!   ChaCha20-Poly1305, SHA-256 and the ed25519 identity signatures of the
//!   handshake run for real on them;
//! * keys and shared secrets are 32 bytes, as on the curve, so every
//!   handshake message has the same length and takes the same virtual time;
//! * it draws no randomness (secrets are drawn by the caller, as before), so
//!   the entropy stream, and with it the whole schedule, is unchanged.
//!
//! A run therefore writes the same bytes with the stand-in as with the curve
//! (a test in `tests/cli.rs` compares the two). It offers no secrecy at all,
//! which a simulation on one machine does not need; outside a simulation
//! (real-time mode, ordinary programs) the patched crate always uses the
//! curve.

use crate::clock::with_current;

/// True when the simulation running on the calling thread uses the stand-in.
pub fn stand_in_active() -> bool {
    with_current(|c| c.x25519_stand_in.get()).unwrap_or(false)
}

/// The stand-in for `x25519(k, u)`: the clamped scalar XOR the point.
///
/// XOR is commutative and associative, so with a public key
/// `P(b) = clamp(b) ^ G` both sides of an agreement compute
/// `clamp(a) ^ clamp(b) ^ G`.
pub fn stand_in_x25519(k: [u8; 32], u: [u8; 32]) -> [u8; 32] {
    let mut k = k;
    // Clamp as X25519 does (RFC 7748, section 5), so that secrets which the
    // curve treats as equal stay equal.
    k[0] &= 248;
    k[31] &= 127;
    k[31] |= 64;
    let mut out = [0u8; 32];
    for ((o, k), u) in out.iter_mut().zip(k).zip(u) {
        *o = k ^ u;
    }
    out
}
