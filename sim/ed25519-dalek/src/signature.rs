//! The sizes, [`Signature`], [`SignatureError`] and the [`Signer`] and
//! [`Verifier`] traits: what the keys of `lib.rs` and the tables of `memo`
//! both use.

use core::fmt;

/// Length of a secret key (the RFC 8032 seed), in bytes.
pub const SECRET_KEY_LENGTH: usize = 32;
/// Length of a compressed public key, in bytes.
pub const PUBLIC_KEY_LENGTH: usize = 32;
/// Length of a signature (`R` then `s`), in bytes.
pub const SIGNATURE_LENGTH: usize = 64;
/// Length of a keypair (secret key then public key), in bytes.
pub const KEYPAIR_LENGTH: usize = SECRET_KEY_LENGTH + PUBLIC_KEY_LENGTH;

/// An Ed25519 secret key: the 32-byte seed of RFC 8032.
pub type SecretKey = [u8; SECRET_KEY_LENGTH];

/// Why a key or signature was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignatureError(pub(crate) Kind);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Length,
    PointDecompression,
    ScalarFormat,
    MismatchedKeypair,
    Verify,
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            Kind::Length => "ed25519: wrong length",
            Kind::PointDecompression => "ed25519: cannot decompress the Edwards point",
            Kind::ScalarFormat => "ed25519: the signature's s is not a canonical scalar",
            Kind::MismatchedKeypair => "ed25519: the public key does not match the secret key",
            Kind::Verify => "ed25519: verification equation was not satisfied",
        })
    }
}

impl std::error::Error for SignatureError {}

/// Signing a message (the trait the real crate re-exports from `signature`).
pub trait Signer<S> {
    /// Signs `msg`.
    fn sign(&self, msg: &[u8]) -> S;
}

/// Verifying a signature (the trait the real crate re-exports from `signature`).
pub trait Verifier<S> {
    /// `Ok` if `signature` is a valid signature of `msg`.
    fn verify(&self, msg: &[u8], signature: &S) -> Result<(), SignatureError>;
}

/// An Ed25519 signature: the compressed point `R` and the scalar `s`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature {
    pub(crate) r: [u8; 32],
    pub(crate) s: [u8; 32],
}

impl Signature {
    /// The signature whose 64 bytes are `bytes` (checked when verified).
    pub fn from_bytes(bytes: &[u8; SIGNATURE_LENGTH]) -> Signature {
        let mut r = [0u8; 32];
        let mut s = [0u8; 32];
        r.copy_from_slice(&bytes[..32]);
        s.copy_from_slice(&bytes[32..]);
        Signature { r, s }
    }

    /// The 64 bytes: `R` then `s`.
    pub fn to_bytes(&self) -> [u8; SIGNATURE_LENGTH] {
        let mut out = [0u8; SIGNATURE_LENGTH];
        out[..32].copy_from_slice(&self.r);
        out[32..].copy_from_slice(&self.s);
        out
    }
}

impl TryFrom<&[u8]> for Signature {
    type Error = SignatureError;

    fn try_from(bytes: &[u8]) -> Result<Signature, SignatureError> {
        let bytes =
            <&[u8; SIGNATURE_LENGTH]>::try_from(bytes).map_err(|_| SignatureError(Kind::Length))?;
        Ok(Signature::from_bytes(bytes))
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature(")?;
        hex(f, &self.to_bytes())?;
        write!(f, ")")
    }
}

pub(crate) fn hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    bytes.iter().try_for_each(|b| write!(f, "{b:02x}"))
}
