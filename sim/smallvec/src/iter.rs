//! The iterators of `SmallVec`: [`Drain`] (with `SmallVec::drain`, which
//! makes one) and [`IntoIter`], and `IntoIterator` for owned and borrowed
//! vectors.

use std::fmt;
use std::iter::FusedIterator;
use std::ops::RangeBounds;

use crate::vec::{Array, SmallVec};

/// The iterator traits of a wrapper whose `inner` is a std vector iterator
/// of `A::Item`s, forwarded to it; `[lifetime]` names the wrapper's
/// lifetime parameter, if it has one.
macro_rules! forward_iterator {
    ([$($lt:lifetime)?] $ty:ty) => {
        impl<$($lt,)? A: Array> Iterator for $ty {
            type Item = A::Item;
            #[inline]
            fn next(&mut self) -> Option<A::Item> {
                self.inner.next()
            }
            #[inline]
            fn size_hint(&self) -> (usize, Option<usize>) {
                self.inner.size_hint()
            }
        }

        impl<$($lt,)? A: Array> DoubleEndedIterator for $ty {
            #[inline]
            fn next_back(&mut self) -> Option<A::Item> {
                self.inner.next_back()
            }
        }

        impl<$($lt,)? A: Array> ExactSizeIterator for $ty {}
        impl<$($lt,)? A: Array> FusedIterator for $ty {}
    };
}

impl<A: Array> SmallVec<A> {
    /// Removes the elements in `range` and yields them.
    pub fn drain<R: RangeBounds<usize>>(&mut self, range: R) -> Drain<'_, A> {
        Drain {
            inner: self.vec.drain(range),
        }
    }
}

/// An iterator that removes a range of a `SmallVec`'s elements.
pub struct Drain<'a, A: Array + 'a> {
    pub(crate) inner: std::vec::Drain<'a, A::Item>,
}

impl<A: Array> fmt::Debug for Drain<'_, A>
where
    A::Item: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Drain")
            .field(&self.inner.as_slice())
            .finish()
    }
}

forward_iterator!(['a] Drain<'a, A>);

/// An iterator that consumes a `SmallVec`.
pub struct IntoIter<A: Array> {
    inner: std::vec::IntoIter<A::Item>,
}

impl<A: Array> IntoIter<A> {
    /// The remaining elements.
    pub fn as_slice(&self) -> &[A::Item] {
        self.inner.as_slice()
    }
    /// The remaining elements, mutably.
    pub fn as_mut_slice(&mut self) -> &mut [A::Item] {
        self.inner.as_mut_slice()
    }
}

impl<A: Array> fmt::Debug for IntoIter<A>
where
    A::Item: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("IntoIter").field(&self.as_slice()).finish()
    }
}

impl<A: Array> Clone for IntoIter<A>
where
    A::Item: Clone,
{
    fn clone(&self) -> Self {
        IntoIter {
            inner: self.inner.clone(),
        }
    }
}

forward_iterator!([] IntoIter<A>);

impl<A: Array> IntoIterator for SmallVec<A> {
    type Item = A::Item;
    type IntoIter = IntoIter<A>;
    fn into_iter(self) -> IntoIter<A> {
        IntoIter {
            inner: self.vec.into_iter(),
        }
    }
}

impl<'a, A: Array> IntoIterator for &'a SmallVec<A> {
    type Item = &'a A::Item;
    type IntoIter = std::slice::Iter<'a, A::Item>;
    fn into_iter(self) -> Self::IntoIter {
        self.vec.iter()
    }
}

impl<'a, A: Array> IntoIterator for &'a mut SmallVec<A> {
    type Item = &'a mut A::Item;
    type IntoIter = std::slice::IterMut<'a, A::Item>;
    fn into_iter(self) -> Self::IntoIter {
        self.vec.iter_mut()
    }
}
