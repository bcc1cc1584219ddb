//! The real function outside a simulation, the stand-in inside one that asks
//! for it, and key agreement in both.

use sim_runtime::Clock;
use x25519_dalek::{X25519_BASEPOINT_BYTES, x25519};

fn hex(s: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex digits");
    }
    out
}

/// RFC 7748, section 6.1: Alice's and Bob's keys and their shared secret.
const ALICE_SECRET: &str = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
const ALICE_PUBLIC: &str = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
const BOB_SECRET: &str = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
const BOB_PUBLIC: &str = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
const SHARED: &str = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";

fn agree(a: [u8; 32], b: [u8; 32]) -> ([u8; 32], [u8; 32]) {
    let (pa, pb) = (
        x25519(a, X25519_BASEPOINT_BYTES),
        x25519(b, X25519_BASEPOINT_BYTES),
    );
    (x25519(a, pb), x25519(b, pa))
}

#[test]
fn outside_a_simulation_it_is_rfc_7748() {
    let (a, b) = (hex(ALICE_SECRET), hex(BOB_SECRET));
    assert_eq!(x25519(a, X25519_BASEPOINT_BYTES), hex(ALICE_PUBLIC));
    assert_eq!(x25519(b, X25519_BASEPOINT_BYTES), hex(BOB_PUBLIC));
    assert_eq!(agree(a, b), (hex(SHARED), hex(SHARED)));
}

#[test]
fn a_simulation_uses_the_curve_unless_it_asks_for_the_stand_in() {
    let clock = Clock::new([5; 32]);
    let _guard = clock.install();
    let a = hex(ALICE_SECRET);
    assert_eq!(x25519(a, X25519_BASEPOINT_BYTES), hex(ALICE_PUBLIC));
    clock.use_x25519_stand_in(true);
    let stand_in = x25519(a, X25519_BASEPOINT_BYTES);
    assert_ne!(stand_in, hex(ALICE_PUBLIC), "the stand-in is in use");
    assert_eq!(
        stand_in,
        sim_runtime::dh::stand_in_x25519(a, X25519_BASEPOINT_BYTES)
    );
    clock.use_x25519_stand_in(false);
    assert_eq!(x25519(a, X25519_BASEPOINT_BYTES), hex(ALICE_PUBLIC));
}

#[test]
fn the_stand_in_is_a_key_agreement() {
    let clock = Clock::new([6; 32]);
    let _guard = clock.install();
    clock.use_x25519_stand_in(true);
    // Secrets from a simple deterministic generator, pairs of every kind.
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut secret = || {
        let mut k = [0u8; 32];
        for chunk in k.chunks_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            chunk.copy_from_slice(&state.to_le_bytes());
        }
        k
    };
    let secrets: Vec<[u8; 32]> = (0..16).map(|_| secret()).collect();
    for (i, a) in secrets.iter().enumerate() {
        for (j, b) in secrets.iter().enumerate() {
            let (ab, ba) = agree(*a, *b);
            assert_eq!(ab, ba, "both sides derive the same secret");
            let c = secrets[(j + 1) % secrets.len()];
            if i != j {
                assert_ne!(ab, agree(*a, c).0, "another peer, another secret");
            }
        }
    }
    // Secrets that differ only where X25519 clamps are the same secret.
    let a = secrets[1];
    let mut a2 = a;
    a2[0] ^= 7;
    a2[31] ^= 0x80;
    assert_eq!(
        x25519(a, X25519_BASEPOINT_BYTES),
        x25519(a2, X25519_BASEPOINT_BYTES)
    );
}

#[test]
#[allow(clippy::disallowed_methods)] // another thread, on purpose: no simulation there
fn the_stand_in_stays_on_its_simulation_thread() {
    let clock = Clock::new([7; 32]);
    let _guard = clock.install();
    clock.use_x25519_stand_in(true);
    let other = std::thread::spawn(|| x25519(hex(ALICE_SECRET), X25519_BASEPOINT_BYTES))
        .join()
        .expect("the thread runs");
    assert_eq!(other, hex(ALICE_PUBLIC));
}
