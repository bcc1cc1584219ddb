//! Drop-in replacement for the part of `x25519-dalek` that libp2p-noise
//! uses (`x25519` and `X25519_BASEPOINT_BYTES`), patched in with
//! `[patch.crates-io]`.
//!
//! Outside a simulation, and inside one that did not ask for the stand-in,
//! [`x25519`] is the real function, computed with curve25519-dalek exactly
//! as x25519-dalek 3.0 does. Inside a simulation that turned the stand-in on
//! (the default of `sim run`; `--real-x25519` turns it off) it is
//! `sim_runtime::dh::stand_in_x25519`, a key agreement that costs nothing
//! and leaves every output of the run unchanged (see `sim_runtime::dh`).

use curve25519_dalek::montgomery::MontgomeryPoint;

/// The u-coordinate of the X25519 base point, 9 (RFC 7748).
pub const X25519_BASEPOINT_BYTES: [u8; 32] = {
    let mut b = [0u8; 32];
    b[0] = 9;
    b
};

/// X25519 of scalar `k` and u-coordinate `u` (RFC 7748): the public key of
/// `k` when `u` is [`X25519_BASEPOINT_BYTES`], the shared secret when `u`
/// is the other side's public key.
pub fn x25519(k: [u8; 32], u: [u8; 32]) -> [u8; 32] {
    if sim_runtime::dh::stand_in_active() {
        sim_runtime::dh::stand_in_x25519(k, u)
    } else {
        MontgomeryPoint(u).mul_clamped(k).to_bytes()
    }
}
