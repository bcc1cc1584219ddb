//! What this crate remembers inside a simulation.
//!
//! Two tables per thread, used only while a simulated clock is installed on
//! the thread (`sim_runtime::is_simulated`):
//!
//! * verdicts: (public key, signature, message) → the result of verifying;
//! * points: compressed public key → its decompressed point, or none.
//!
//! Both functions are pure, so a remembered answer is the computed one. The
//! tables are ordered maps (no iteration order to leak) and each is cleared
//! when it reaches [`CAPACITY`] entries, which bounds the memory they hold
//! (a few MB) in long-lived threads; a simulation thread drops them when it
//! ends. A simulation of `n` nodes needs about `n` entries in each: one
//! Noise signature and one identity key per node.

use std::cell::RefCell;
use std::collections::BTreeMap;

use curve25519_dalek::edwards::EdwardsPoint;

use crate::signature::{PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH, Signature, SignatureError};

/// Entries a table holds before it is cleared.
pub const CAPACITY: usize = 1 << 16;

type Verdicts = BTreeMap<Box<[u8]>, Result<(), SignatureError>>;
type Points = BTreeMap<[u8; PUBLIC_KEY_LENGTH], Option<EdwardsPoint>>;

thread_local! {
    static VERDICTS: RefCell<Verdicts> = const { RefCell::new(BTreeMap::new()) };
    static POINTS: RefCell<Points> = const { RefCell::new(BTreeMap::new()) };
}

/// Entries in this thread's tables: (verdicts, points).
pub fn entries() -> (usize, usize) {
    let verdicts = VERDICTS.with(|t| t.borrow().len());
    let points = POINTS.with(|t| t.borrow().len());
    (verdicts, points)
}

/// The verdict on `signature` of `msg` under `key`: remembered inside a
/// simulation, else `compute()`.
pub(crate) fn verify(
    key: &[u8; PUBLIC_KEY_LENGTH],
    signature: &Signature,
    msg: &[u8],
    compute: impl FnOnce() -> Result<(), SignatureError>,
) -> Result<(), SignatureError> {
    if !sim_runtime::is_simulated() {
        return compute();
    }
    let mut k = Vec::with_capacity(PUBLIC_KEY_LENGTH + SIGNATURE_LENGTH + msg.len());
    k.extend_from_slice(key);
    k.extend_from_slice(&signature.to_bytes());
    k.extend_from_slice(msg);
    let k = k.into_boxed_slice();
    if let Some(known) = VERDICTS.with(|t| t.borrow().get(&k).copied()) {
        return known;
    }
    let verdict = compute();
    VERDICTS.with(|t| insert(&mut t.borrow_mut(), k, verdict));
    verdict
}

/// The point `bytes` decompresses to: remembered inside a simulation, else
/// `compute()`.
pub(crate) fn decompress(
    bytes: &[u8; PUBLIC_KEY_LENGTH],
    compute: impl FnOnce() -> Option<EdwardsPoint>,
) -> Option<EdwardsPoint> {
    if !sim_runtime::is_simulated() {
        return compute();
    }
    if let Some(known) = POINTS.with(|t| t.borrow().get(bytes).copied()) {
        return known;
    }
    let point = compute();
    POINTS.with(|t| insert(&mut t.borrow_mut(), *bytes, point));
    point
}

fn insert<K: Ord, V>(table: &mut BTreeMap<K, V>, key: K, value: V) {
    if table.len() >= CAPACITY {
        table.clear();
    }
    table.insert(key, value);
}
