//! The stand-in's keys, signatures and verdicts against RFC 8032's test
//! vectors and against ring's independent Ed25519, outside and inside a
//! simulation (where verdicts and points are remembered).

use ed25519_dalek::{Signature, SigningKey, VerifyingKey, memo};
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use sim_runtime::Clock;

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex digits"))
        .collect()
}

/// RFC 8032, section 7.1, TEST 1 to TEST 3: secret key, public key,
/// message, signature.
const RFC8032: [(&str, &str, &str, &str); 3] = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
];

/// The group order l, little-endian.
const ORDER: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// A reproducible byte stream for seeds and messages (no RNG crate needed).
fn bytes(label: u64, n: usize) -> Vec<u8> {
    let mut x = label.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn seed(label: u64) -> [u8; 32] {
    bytes(label, 32).try_into().expect("32 bytes")
}

fn ring_verifies(public: &[u8], msg: &[u8], sig: &[u8]) -> bool {
    UnparsedPublicKey::new(&ED25519, public)
        .verify(msg, sig)
        .is_ok()
}

fn ours_verifies(public: &[u8; 32], msg: &[u8], sig: &[u8]) -> bool {
    let Ok(key) = VerifyingKey::from_bytes(public) else {
        return false;
    };
    Signature::try_from(sig).is_ok_and(|s| key.verify(msg, &s).is_ok())
}

#[test]
fn rfc_8032_test_vectors() {
    for (secret, public, msg, sig) in RFC8032 {
        let key = SigningKey::from_bytes(&unhex(secret).try_into().expect("32 bytes"));
        assert_eq!(key.verifying_key().to_bytes().to_vec(), unhex(public));
        let signature = key.sign(&unhex(msg));
        assert_eq!(signature.to_bytes().to_vec(), unhex(sig));
        assert!(ring_verifies(&unhex(public), &unhex(msg), &unhex(sig)));
        assert!(key.verify(&unhex(msg), &signature).is_ok());
    }
}

/// Checks 64 keys and messages of 0 to 189 bytes against ring, then every
/// single-bit corruption of the signature, the message and the key; run
/// outside and inside a simulation (twice, so the second pass answers from
/// the tables).
fn agree_with_ring() {
    for label in 0..64u64 {
        let seed = seed(label);
        let msg = bytes(label + 1000, (label as usize * 3) % 190);
        let ours = SigningKey::from_bytes(&seed);
        let theirs = Ed25519KeyPair::from_seed_unchecked(&seed).expect("any seed is a key");
        let public = ours.verifying_key().to_bytes();
        assert_eq!(
            public.as_slice(),
            theirs.public_key().as_ref(),
            "seed {label}"
        );
        let sig = ours.sign(&msg).to_bytes();
        assert_eq!(sig.as_slice(), theirs.sign(&msg).as_ref(), "seed {label}");
        assert!(ours_verifies(&public, &msg, &sig));

        let bit = label as usize * 7;
        let mut bad_sig = sig;
        bad_sig[bit % 64] ^= 1 << (bit % 8);
        let mut bad_msg = msg.clone();
        bad_msg.push(label as u8);
        let mut bad_key = public;
        bad_key[bit % 32] ^= 1 << (bit % 8);
        for (key, msg, sig) in [
            (&public, &msg, &bad_sig),
            (&public, &bad_msg, &sig),
            (&bad_key, &msg, &sig),
        ] {
            assert_eq!(
                ours_verifies(key, msg, sig),
                ring_verifies(key, msg, sig),
                "seed {label}"
            );
            assert!(!ours_verifies(key, msg, sig), "seed {label}");
        }
    }
}

#[test]
fn signatures_and_verdicts_match_ring_outside_a_simulation() {
    agree_with_ring();
    assert_eq!(
        memo::entries(),
        (0, 0),
        "nothing is remembered outside a simulation"
    );
}

#[test]
fn signatures_and_verdicts_match_ring_inside_a_simulation() {
    let clock = Clock::new([3; 32]);
    let _guard = clock.install();
    agree_with_ring();
    let (verdicts, points) = memo::entries();
    // Three verdicts per seed at least (a corrupted key may not decompress).
    assert!(
        verdicts >= 64 * 3 && points >= 64,
        "{verdicts} verdicts, {points} points"
    );
    agree_with_ring();
    assert_eq!(
        memo::entries(),
        (verdicts, points),
        "the second pass adds nothing"
    );
}

#[test]
fn a_remembered_signature_is_valid_only_for_its_own_message_and_key() {
    let clock = Clock::new([4; 32]);
    let _guard = clock.install();
    let (a, b) = (
        SigningKey::from_bytes(&seed(1)),
        SigningKey::from_bytes(&seed(2)),
    );
    let sig = a.sign(b"noise-libp2p-static-key:");
    for _ in 0..2 {
        assert!(a.verify(b"noise-libp2p-static-key:", &sig).is_ok());
        assert!(a.verify(b"noise-libp2p-static-key;", &sig).is_err());
        assert!(b.verify(b"noise-libp2p-static-key:", &sig).is_err());
    }
}

#[test]
fn a_signature_with_s_not_below_the_order_is_rejected() {
    let key = SigningKey::from_bytes(&seed(9));
    let msg = b"malleable";
    let mut sig = key.sign(msg).to_bytes();
    // s + l: the same point equation, but not a canonical scalar.
    let mut carry = 0u16;
    for (byte, l) in sig[32..].iter_mut().zip(ORDER) {
        let sum = u16::from(*byte) + u16::from(l) + carry;
        *byte = sum as u8;
        carry = sum >> 8;
    }
    assert_eq!(carry, 0, "s + l fits in 256 bits");
    let public = key.verifying_key().to_bytes();
    assert!(!ours_verifies(&public, msg, &sig));
    assert!(!ring_verifies(&public, msg, &sig));
}

#[test]
fn keypair_bytes_round_trip_and_a_mismatched_public_key_is_refused() {
    let key = SigningKey::from_bytes(&seed(5));
    let bytes = key.to_keypair_bytes();
    let back = SigningKey::from_keypair_bytes(&bytes).expect("its own keypair");
    assert_eq!(back.to_bytes(), key.to_bytes());
    assert_eq!(back.verifying_key(), key.verifying_key());
    let mut wrong = bytes;
    wrong[32..].copy_from_slice(&SigningKey::from_bytes(&seed(6)).verifying_key().to_bytes());
    assert!(SigningKey::from_keypair_bytes(&wrong).is_err());
    assert!(Signature::try_from(&bytes[..63]).is_err());
}

#[test]
fn bytes_that_are_no_point_are_refused_as_keys() {
    // About half of all y-coordinates are not on the curve; both
    // implementations must refuse the same ones.
    let mut refused = 0;
    for y in 0..64u8 {
        let mut candidate = [0u8; 32];
        candidate[0] = y;
        candidate[1] = 0x5a;
        let key = SigningKey::from_bytes(&seed(u64::from(y)));
        let sig = key.sign(b"x").to_bytes();
        if VerifyingKey::from_bytes(&candidate).is_err() {
            refused += 1;
            assert!(!ring_verifies(&candidate, b"x", &sig));
        }
    }
    assert!((10..54).contains(&refused), "{refused} of 64 refused");
}
