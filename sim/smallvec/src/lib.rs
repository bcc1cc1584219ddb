//! Drop-in replacement for `smallvec` 1.x, patched in with
//! `[patch.crates-io]`: a `SmallVec<[T; N]>` that keeps its elements in a
//! `Vec<T>` instead of an inline buffer of `N` slots.
//!
//! Why: moving a real `SmallVec<[T; N]>` copies its whole inline buffer.
//! libp2p-kad's `ClosestIter` takes its `SmallVec<[Option<EntryView>; 20]>`
//! out of an `Option` and puts it back for every bucket it visits and every
//! entry it yields, 2 × 3.5 KB per step, up to 256 steps per `FIND_NODE`
//! answer (see `docs/performance.md` for what that costs a run). Here a
//! move is three words.
//!
//! What stays the same: every method has the meaning of smallvec's (the
//! order of elements, what is returned, when it panics), so code that uses
//! it behaves the same and a simulation writes the same bytes with either
//! crate. What differs, as smallvec documents it could: where the elements
//! live (always on the heap, allocated on the first push rather than up
//! front), and so [`SmallVec::spilled`] and [`SmallVec::capacity`], which
//! report the heap vector. `capacity()` is the room that really exists, so
//! it can be below the inline size before anything is stored; a pointer from
//! [`SmallVec::as_mut_ptr`] is valid for at least the inline size, as
//! smallvec's is, because taking it reserves that room.
//!
//! Only the API that safe code can observe is provided; `union`,
//! `const_generics`, `const_new` and `write` are accepted as features
//! (the layout they choose is the same here: a `Vec`).

#![deny(unsafe_op_in_unsafe_fn)]

mod iter;
mod traits;
mod vec;

pub use iter::{Drain, IntoIter};
pub use traits::{ExtendFromSlice, ToSmallVec};
pub use vec::{Array, CollectionAllocErr, SmallVec};

/// A `SmallVec` of the given elements, like `vec!`.
#[macro_export]
macro_rules! smallvec {
    ($elem:expr; $n:expr) => {
        $crate::SmallVec::from_elem($elem, $n)
    };
    ($($x:expr),* $(,)?) => {
        $crate::SmallVec::from_vec(::std::vec![$($x),*])
    };
}
