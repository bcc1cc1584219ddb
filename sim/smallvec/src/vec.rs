//! [`SmallVec`] over a `Vec`, the [`Array`] trait of its "inline buffer", and
//! its inherent methods (`drain` is with the iterators, in `iter.rs`).

use std::fmt;
use std::marker::PhantomData;

/// Types that can be a `SmallVec`'s "inline buffer": arrays `[T; N]`.
///
/// # Safety
/// As in smallvec: `size()` is the number of `Item`s the type holds.
pub unsafe trait Array {
    /// The element type.
    type Item;
    /// The number of elements (the inline capacity in smallvec).
    fn size() -> usize;
    /// The array's elements, in order.
    #[doc(hidden)]
    fn into_vec(self) -> Vec<Self::Item>;
    /// An array of exactly `v`'s elements, or `v` back if its length differs.
    #[doc(hidden)]
    fn from_vec(v: Vec<Self::Item>) -> Result<Self, Vec<Self::Item>>
    where
        Self: Sized;
}

unsafe impl<T, const N: usize> Array for [T; N] {
    type Item = T;
    fn size() -> usize {
        N
    }
    fn into_vec(self) -> Vec<T> {
        Vec::from(self)
    }
    fn from_vec(v: Vec<T>) -> Result<Self, Vec<T>> {
        <[T; N]>::try_from(v)
    }
}

/// Error of the fallible allocation methods.
#[derive(Debug)]
pub enum CollectionAllocErr {
    /// The capacity overflowed `usize`.
    CapacityOverflow,
    /// The allocator failed.
    AllocErr {
        /// The layout that was asked for.
        layout: std::alloc::Layout,
    },
}

impl fmt::Display for CollectionAllocErr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Allocation error: {self:?}")
    }
}

impl From<std::collections::TryReserveError> for CollectionAllocErr {
    fn from(_: std::collections::TryReserveError) -> Self {
        CollectionAllocErr::CapacityOverflow
    }
}

/// A vector with smallvec's API, stored in a `Vec`.
pub struct SmallVec<A: Array> {
    pub(crate) vec: Vec<A::Item>,
    _array: PhantomData<A>,
}

impl<A: Array> SmallVec<A> {
    pub(crate) fn wrap(vec: Vec<A::Item>) -> Self {
        SmallVec {
            vec,
            _array: PhantomData,
        }
    }

    /// An empty vector.
    #[inline]
    pub fn new() -> Self {
        Self::wrap(Vec::new())
    }

    /// An empty vector with room for `n` elements.
    #[inline]
    pub fn with_capacity(n: usize) -> Self {
        Self::wrap(Vec::with_capacity(n))
    }

    /// The elements of `vec`.
    #[inline]
    pub fn from_vec(vec: Vec<A::Item>) -> Self {
        Self::wrap(vec)
    }

    /// The elements of `buf`.
    pub fn from_buf(buf: A) -> Self {
        Self::wrap(buf.into_vec())
    }

    /// The first `len` elements of `buf`.
    pub fn from_buf_and_len(buf: A, len: usize) -> Self {
        assert!(len <= A::size());
        let mut vec = buf.into_vec();
        vec.truncate(len);
        Self::wrap(vec)
    }

    /// Sets the length.
    ///
    /// # Safety
    /// As `Vec::set_len`.
    pub unsafe fn set_len(&mut self, new_len: usize) {
        // SAFETY: the caller's contract is Vec::set_len's.
        unsafe { self.vec.set_len(new_len) }
    }

    /// The inline capacity smallvec would have: `N`.
    #[inline]
    pub fn inline_size(&self) -> usize {
        A::size()
    }

    /// The number of elements.
    #[inline]
    pub fn len(&self) -> usize {
        self.vec.len()
    }

    /// Whether there are no elements.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.vec.is_empty()
    }

    /// Room before the next reallocation: the heap vector's capacity, which
    /// can be below the inline size until room is reserved (smallvec's is
    /// never below it; see [`SmallVec::as_mut_ptr`]).
    #[inline]
    pub fn capacity(&self) -> usize {
        self.vec.capacity()
    }

    /// Whether smallvec would hold these elements on the heap.
    #[inline]
    pub fn spilled(&self) -> bool {
        self.vec.capacity() > A::size()
    }

    /// Appends `value`.
    #[inline]
    pub fn push(&mut self, value: A::Item) {
        self.vec.push(value)
    }

    /// Removes and returns the last element.
    #[inline]
    pub fn pop(&mut self) -> Option<A::Item> {
        self.vec.pop()
    }

    /// Moves all of `other`'s elements to the end.
    pub fn append<B: Array<Item = A::Item>>(&mut self, other: &mut SmallVec<B>) {
        self.vec.append(&mut other.vec)
    }

    /// Reallocates to capacity `new_cap` (at least the length).
    pub fn grow(&mut self, new_cap: usize) {
        self.try_grow(new_cap).expect("capacity overflow")
    }

    /// Reallocates to capacity `new_cap`, or fails.
    pub fn try_grow(&mut self, new_cap: usize) -> Result<(), CollectionAllocErr> {
        assert!(new_cap >= self.len());
        if new_cap > self.vec.capacity() {
            self.vec.try_reserve_exact(new_cap - self.vec.len())?;
        } else {
            self.vec.shrink_to(new_cap);
        }
        Ok(())
    }

    /// Reserves room for `additional` more elements.
    pub fn reserve(&mut self, additional: usize) {
        self.vec.reserve(additional)
    }

    /// Reserves room for `additional` more elements, or fails.
    pub fn try_reserve(&mut self, additional: usize) -> Result<(), CollectionAllocErr> {
        Ok(self.vec.try_reserve(additional)?)
    }

    /// Reserves room for exactly `additional` more elements.
    pub fn reserve_exact(&mut self, additional: usize) {
        self.vec.reserve_exact(additional)
    }

    /// Reserves room for exactly `additional` more elements, or fails.
    pub fn try_reserve_exact(&mut self, additional: usize) -> Result<(), CollectionAllocErr> {
        Ok(self.vec.try_reserve_exact(additional)?)
    }

    /// Frees unused room.
    pub fn shrink_to_fit(&mut self) {
        self.vec.shrink_to_fit()
    }

    /// Keeps the first `len` elements.
    #[inline]
    pub fn truncate(&mut self, len: usize) {
        self.vec.truncate(len)
    }

    /// The elements.
    #[inline]
    pub fn as_slice(&self) -> &[A::Item] {
        &self.vec
    }

    /// The elements, mutably.
    #[inline]
    pub fn as_mut_slice(&mut self) -> &mut [A::Item] {
        &mut self.vec
    }

    /// Removes element `index`, replacing it with the last.
    pub fn swap_remove(&mut self, index: usize) -> A::Item {
        self.vec.swap_remove(index)
    }

    /// Removes every element.
    #[inline]
    pub fn clear(&mut self) {
        self.vec.clear()
    }

    /// Removes element `index`, shifting the rest.
    pub fn remove(&mut self, index: usize) -> A::Item {
        self.vec.remove(index)
    }

    /// Inserts `element` at `index`, shifting the rest.
    pub fn insert(&mut self, index: usize, element: A::Item) {
        self.vec.insert(index, element)
    }

    /// Inserts the items of `iterable` at `index`, in order.
    pub fn insert_many<I: IntoIterator<Item = A::Item>>(&mut self, index: usize, iterable: I) {
        assert!(index <= self.len(), "insert_many: index out of bounds");
        let tail = self.vec.split_off(index);
        self.vec.extend(iterable);
        self.vec.extend(tail);
    }

    /// The elements as a `Vec`.
    #[inline]
    pub fn into_vec(self) -> Vec<A::Item> {
        self.vec
    }

    /// The elements as a boxed slice.
    pub fn into_boxed_slice(self) -> Box<[A::Item]> {
        self.vec.into_boxed_slice()
    }

    /// The elements as an array, if there are exactly `N`.
    pub fn into_inner(self) -> Result<A, Self> {
        A::from_vec(self.vec).map_err(Self::wrap)
    }

    /// Keeps the elements for which `f` returns true.
    pub fn retain<F: FnMut(&mut A::Item) -> bool>(&mut self, f: F) {
        self.vec.retain_mut(f)
    }

    /// Keeps the elements for which `f` returns true.
    pub fn retain_mut<F: FnMut(&mut A::Item) -> bool>(&mut self, f: F) {
        self.vec.retain_mut(f)
    }

    /// Removes consecutive repeated elements.
    pub fn dedup(&mut self)
    where
        A::Item: PartialEq,
    {
        self.vec.dedup()
    }

    /// Removes consecutive elements that `same_bucket` says are equal.
    pub fn dedup_by<F: FnMut(&mut A::Item, &mut A::Item) -> bool>(&mut self, same_bucket: F) {
        self.vec.dedup_by(same_bucket)
    }

    /// Removes consecutive elements with equal keys.
    pub fn dedup_by_key<F: FnMut(&mut A::Item) -> K, K: PartialEq>(&mut self, key: F) {
        self.vec.dedup_by_key(key)
    }

    /// Resizes to `new_len`, filling with `f()`.
    pub fn resize_with<F: FnMut() -> A::Item>(&mut self, new_len: usize, f: F) {
        self.vec.resize_with(new_len, f)
    }

    /// A pointer to the first element.
    #[inline]
    pub fn as_ptr(&self) -> *const A::Item {
        self.vec.as_ptr()
    }

    /// A mutable pointer to the first element, valid for writes of
    /// [`SmallVec::capacity`] elements, which is at least the inline size:
    /// unsafe code may write up to `inline_size()` elements through it and
    /// `set_len`, as smallvec's contract allows, so the room is reserved
    /// first.
    #[inline]
    pub fn as_mut_ptr(&mut self) -> *mut A::Item {
        if self.vec.capacity() < A::size() {
            self.vec.reserve_exact(A::size() - self.vec.len());
        }
        self.vec.as_mut_ptr()
    }
}

impl<A: Array> SmallVec<A>
where
    A::Item: Copy,
{
    /// A copy of `slice`.
    pub fn from_slice(slice: &[A::Item]) -> Self {
        Self::wrap(slice.to_vec())
    }

    /// Inserts a copy of `slice` at `index`.
    pub fn insert_from_slice(&mut self, index: usize, slice: &[A::Item]) {
        self.insert_many(index, slice.iter().copied())
    }

    /// Appends a copy of `slice`.
    pub fn extend_from_slice(&mut self, slice: &[A::Item]) {
        self.vec.extend_from_slice(slice)
    }
}

impl<A: Array> SmallVec<A>
where
    A::Item: Clone,
{
    /// Resizes to `len`, filling with clones of `value`.
    pub fn resize(&mut self, len: usize, value: A::Item) {
        self.vec.resize(len, value)
    }

    /// `n` clones of `elem`.
    pub fn from_elem(elem: A::Item, n: usize) -> Self {
        Self::wrap(vec![elem; n])
    }
}

impl<T, const N: usize> SmallVec<[T; N]> {
    /// An empty vector, in a const context.
    pub const fn new_const() -> Self {
        SmallVec {
            vec: Vec::new(),
            _array: PhantomData,
        }
    }
}
