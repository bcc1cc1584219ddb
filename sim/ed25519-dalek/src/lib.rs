//! Drop-in replacement for the part of `ed25519-dalek` 3.0 that
//! libp2p-identity uses, patched in with `[patch.crates-io]`.
//!
//! Every node of a simulation has one ed25519 identity, and Noise signs the
//! node's static key with it once. Every Noise handshake then verifies the
//! other side's signature, and decodes the other side's identity key (as
//! identify does again for every identify message). A 200-node bootstrap
//! run verifies the same 200 signatures over and over, and decompresses the
//! same 200 keys (`docs/performance.md` gives what that costs).
//!
//! This crate implements Ed25519 (RFC 8032, as ed25519-dalek does: `s` must
//! be canonical, `R` is compared as bytes) on curve25519-dalek, the curve
//! crate the real one uses, so signatures, keys and verdicts are the real
//! ones bit for bit: `tests/against_ring.rs` checks them against ring's
//! independent Ed25519 and against RFC 8032's test vectors.
//!
//! Inside a simulation (a simulated clock installed on the calling thread)
//! it also remembers what it computed ([`memo`]): a verification of a key,
//! message and signature seen before, and the decompression of a key seen
//! before, are looked up instead of computed again. Both are pure functions
//! of their inputs, so the answers are the same and nothing a run writes
//! changes; only the wall time does. Outside a simulation (real-time mode,
//! ordinary programs) every call computes.
//!
//! Only what libp2p-identity calls is provided: [`SigningKey`],
//! [`VerifyingKey`], [`Signature`], [`SecretKey`], [`SignatureError`] and
//! the [`Signer`] and [`Verifier`] traits.

pub mod memo;
mod signature;

use core::fmt;
use core::hash::{Hash, Hasher};

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::{Scalar, clamp_integer};
use sha2::{Digest, Sha512};
use zeroize::Zeroize;

pub use signature::{
    KEYPAIR_LENGTH, PUBLIC_KEY_LENGTH, SECRET_KEY_LENGTH, SIGNATURE_LENGTH, SecretKey, Signature,
    SignatureError, Signer, Verifier,
};
use signature::{Kind, hex};

/// An Ed25519 public key: its compressed bytes and the decompressed point.
#[derive(Clone, Copy)]
pub struct VerifyingKey {
    compressed: [u8; PUBLIC_KEY_LENGTH],
    point: EdwardsPoint,
}

impl VerifyingKey {
    /// The key whose compressed form is `bytes`; an error if `bytes` is not
    /// the y-coordinate of a point of the curve.
    pub fn from_bytes(bytes: &[u8; PUBLIC_KEY_LENGTH]) -> Result<VerifyingKey, SignatureError> {
        let point = memo::decompress(bytes, || CompressedEdwardsY(*bytes).decompress())
            .ok_or(SignatureError(Kind::PointDecompression))?;
        Ok(VerifyingKey {
            compressed: *bytes,
            point,
        })
    }

    /// The compressed form.
    pub fn as_bytes(&self) -> &[u8; PUBLIC_KEY_LENGTH] {
        &self.compressed
    }

    /// The compressed form.
    pub fn to_bytes(&self) -> [u8; PUBLIC_KEY_LENGTH] {
        self.compressed
    }

    /// `Ok` if `signature` is a valid signature of `msg` under this key.
    pub fn verify(&self, msg: &[u8], signature: &Signature) -> Result<(), SignatureError> {
        memo::verify(&self.compressed, signature, msg, || {
            self.verify_computed(msg, signature)
        })
    }

    /// RFC 8032, section 5.1.7, with `R` compared as bytes: `s` must be
    /// below the group order, and `[s]B - [k]A` must compress to `R`, where
    /// `k = SHA-512(R || A || msg)`.
    fn verify_computed(&self, msg: &[u8], signature: &Signature) -> Result<(), SignatureError> {
        let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(signature.s))
            .ok_or(SignatureError(Kind::ScalarFormat))?;
        let k = challenge(&signature.r, &self.compressed, msg);
        let r = EdwardsPoint::vartime_double_scalar_mul_basepoint(&k, &-self.point, &s);
        if r.compress().0 == signature.r {
            Ok(())
        } else {
            Err(SignatureError(Kind::Verify))
        }
    }
}

impl Verifier<Signature> for VerifyingKey {
    fn verify(&self, msg: &[u8], signature: &Signature) -> Result<(), SignatureError> {
        VerifyingKey::verify(self, msg, signature)
    }
}

impl PartialEq for VerifyingKey {
    fn eq(&self, other: &Self) -> bool {
        self.compressed == other.compressed
    }
}

impl Eq for VerifyingKey {}

impl Hash for VerifyingKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.compressed.hash(state);
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifyingKey(")?;
        hex(f, &self.compressed)?;
        write!(f, ")")
    }
}

/// An Ed25519 signing key: the seed, the scalar and nonce prefix expanded
/// from it, and the public key.
#[derive(Clone)]
pub struct SigningKey {
    secret: SecretKey,
    scalar: Scalar,
    prefix: [u8; 32],
    verifying: VerifyingKey,
}

impl SigningKey {
    /// The key of seed `secret` (RFC 8032, section 5.1.5).
    pub fn from_bytes(secret: &SecretKey) -> SigningKey {
        let mut hash: [u8; 64] = Sha512::digest(secret).into();
        let mut lower = [0u8; 32];
        lower.copy_from_slice(&hash[..32]);
        let mut prefix = [0u8; 32];
        prefix.copy_from_slice(&hash[32..]);
        let scalar = Scalar::from_bytes_mod_order(clamp_integer(lower));
        lower.zeroize();
        hash.zeroize();
        let point = EdwardsPoint::mul_base(&scalar);
        let compressed = point.compress().0;
        SigningKey {
            secret: *secret,
            scalar,
            prefix,
            verifying: VerifyingKey { compressed, point },
        }
    }

    /// The key of a 64-byte keypair (seed then public key); an error if the
    /// public key is not the seed's.
    pub fn from_keypair_bytes(bytes: &[u8; KEYPAIR_LENGTH]) -> Result<SigningKey, SignatureError> {
        let mut secret = [0u8; SECRET_KEY_LENGTH];
        secret.copy_from_slice(&bytes[..SECRET_KEY_LENGTH]);
        let key = SigningKey::from_bytes(&secret);
        secret.zeroize();
        if key.verifying.compressed[..] != bytes[SECRET_KEY_LENGTH..] {
            return Err(SignatureError(Kind::MismatchedKeypair));
        }
        Ok(key)
    }

    /// The seed.
    pub fn to_bytes(&self) -> SecretKey {
        self.secret
    }

    /// The seed.
    pub fn as_bytes(&self) -> &SecretKey {
        &self.secret
    }

    /// Seed then public key, 64 bytes.
    pub fn to_keypair_bytes(&self) -> [u8; KEYPAIR_LENGTH] {
        let mut out = [0u8; KEYPAIR_LENGTH];
        out[..SECRET_KEY_LENGTH].copy_from_slice(&self.secret);
        out[SECRET_KEY_LENGTH..].copy_from_slice(&self.verifying.compressed);
        out
    }

    /// The public key.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.verifying
    }

    /// The signature of `msg` (RFC 8032, section 5.1.6): deterministic,
    /// `r = SHA-512(prefix || msg)`, `R = [r]B`, `s = r + k * a`.
    pub fn sign(&self, msg: &[u8]) -> Signature {
        let mut nonce: [u8; 64] = Sha512::new()
            .chain_update(self.prefix)
            .chain_update(msg)
            .finalize()
            .into();
        let r = Scalar::from_bytes_mod_order_wide(&nonce);
        nonce.zeroize();
        let big_r = EdwardsPoint::mul_base(&r).compress().0;
        let k = challenge(&big_r, &self.verifying.compressed, msg);
        let s = k * self.scalar + r;
        Signature {
            r: big_r,
            s: s.to_bytes(),
        }
    }

    /// `Ok` if `signature` is a valid signature of `msg` under this key.
    pub fn verify(&self, msg: &[u8], signature: &Signature) -> Result<(), SignatureError> {
        self.verifying.verify(msg, signature)
    }
}

impl Signer<Signature> for SigningKey {
    fn sign(&self, msg: &[u8]) -> Signature {
        SigningKey::sign(self, msg)
    }
}

impl Verifier<Signature> for SigningKey {
    fn verify(&self, msg: &[u8], signature: &Signature) -> Result<(), SignatureError> {
        self.verifying.verify(msg, signature)
    }
}

impl Drop for SigningKey {
    fn drop(&mut self) {
        self.secret.zeroize();
        self.scalar.zeroize();
        self.prefix.zeroize();
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("verifying_key", &self.verifying)
            .finish_non_exhaustive()
    }
}

/// `k = SHA-512(R || A || msg)` reduced modulo the group order.
fn challenge(r: &[u8; 32], a: &[u8; 32], msg: &[u8]) -> Scalar {
    let hash: [u8; 64] = Sha512::new()
        .chain_update(r)
        .chain_update(a)
        .chain_update(msg)
        .finalize()
        .into();
    Scalar::from_bytes_mod_order_wide(&hash)
}
