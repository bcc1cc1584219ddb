//! The stand-in behaves as smallvec 1.x documents, for the methods the
//! dependency tree calls and the ones whose meaning is easy to get wrong.

use smallvec::{SmallVec, ToSmallVec, smallvec};

type V = SmallVec<[u32; 4]>;

#[test]
fn inline_size_and_capacity_follow_the_array_length() {
    let v = V::new();
    assert_eq!(v.inline_size(), 4);
    assert!(!v.spilled());
    let mut w = V::new();
    w.extend(0..9);
    assert!(w.spilled(), "more elements than the inline size spill");
    assert!(w.capacity() >= 9);
}

#[test]
fn capacity_is_room_that_really_exists() {
    // Nothing is reserved up front: the capacity reported is the allocation's.
    let v = V::new();
    let reported = v.capacity();
    assert!(
        v.into_vec().capacity() >= reported,
        "{reported} slots that do not exist"
    );
    for len in [0u64, 1, 3, 8, 9] {
        let mut v: SmallVec<[u64; 8]> = (0..len).collect();
        // smallvec's contract: through `as_mut_ptr`, up to `capacity()`
        // elements may be written, and `capacity() >= inline_size()`.
        let p = v.as_mut_ptr();
        let cap = v.capacity();
        assert!(cap >= v.inline_size(), "len {len}: capacity {cap}");
        for i in v.len()..cap {
            // SAFETY: `p` is valid for `capacity()` elements (asserted
            // against the allocation below).
            unsafe { p.add(i).write(i as u64) };
        }
        // SAFETY: every element up to `cap` was written.
        unsafe { v.set_len(cap) };
        assert!(v.iter().enumerate().all(|(i, x)| *x == i as u64));
        let allocated = v.into_vec().capacity();
        assert!(
            allocated >= cap,
            "len {len}: capacity {cap}, allocated {allocated}"
        );
    }
}

#[test]
fn push_pop_insert_remove_keep_vec_order() {
    let mut v = V::new();
    v.push(1);
    v.push(3);
    v.insert(1, 2);
    assert_eq!(&v[..], &[1, 2, 3]);
    assert_eq!(v.remove(0), 1);
    assert_eq!(v.swap_remove(0), 2);
    assert_eq!(v.pop(), Some(3));
    assert_eq!(v.pop(), None);
    assert!(v.is_empty());
}

#[test]
fn insert_many_puts_the_items_at_the_index_in_order() {
    let mut v: V = smallvec![1, 5, 6];
    v.insert_many(1, [2, 3, 4]);
    assert_eq!(&v[..], &[1, 2, 3, 4, 5, 6]);
    v.insert_many(6, [7]);
    assert_eq!(v.last(), Some(&7));
    let mut w: V = smallvec![9];
    w.insert_from_slice(0, &[7, 8]);
    assert_eq!(&w[..], &[7, 8, 9]);
}

#[test]
#[should_panic]
fn insert_many_past_the_end_panics() {
    let mut v: V = smallvec![1];
    v.insert_many(2, [2]);
}

#[test]
fn into_inner_needs_exactly_the_inline_size() {
    let full: V = smallvec![1, 2, 3, 4];
    assert_eq!(full.into_inner().ok(), Some([1, 2, 3, 4]));
    let short: V = smallvec![1, 2];
    let back = short.into_inner().expect_err("two of four elements");
    assert_eq!(&back[..], &[1, 2], "the vector comes back unchanged");
}

#[test]
fn buffers_and_lengths() {
    let v = V::from_buf([4, 3, 2, 1]);
    assert_eq!(&v[..], &[4, 3, 2, 1]);
    let w = V::from_buf_and_len([4, 3, 2, 1], 2);
    assert_eq!(&w[..], &[4, 3]);
    let x: V = V::from_elem(7, 3);
    assert_eq!(&x[..], &[7, 7, 7]);
    let y: V = smallvec![0; 2];
    assert_eq!(&y[..], &[0, 0]);
    let z: V = [5u32, 6].to_smallvec();
    assert_eq!(z.into_vec(), vec![5, 6]);
}

#[test]
fn drain_retain_dedup_truncate() {
    let mut v: V = (0..10).collect();
    let drained: Vec<u32> = v.drain(2..5).collect();
    assert_eq!(drained, [2, 3, 4]);
    assert_eq!(&v[..], &[0, 1, 5, 6, 7, 8, 9]);
    v.retain(|x| *x % 2 == 1);
    assert_eq!(&v[..], &[1, 5, 7, 9]);
    let mut d: V = smallvec![1, 1, 2, 2, 2, 3, 1];
    d.dedup();
    assert_eq!(&d[..], &[1, 2, 3, 1]);
    d.truncate(1);
    assert_eq!(&d[..], &[1]);
    let back: Vec<u32> = v.drain(..).rev().collect();
    assert_eq!(back, [9, 7, 5, 1]);
    assert!(v.is_empty());
}

#[test]
fn sorting_through_the_slice_and_iteration() {
    let mut v: V = smallvec![3, 1, 2];
    v.sort_by(|a, b| b.cmp(a));
    assert_eq!(&v[..], &[3, 2, 1]);
    let mut it = v.clone().into_iter();
    assert_eq!(it.next(), Some(3));
    assert_eq!(it.as_slice(), &[2, 1]);
    assert_eq!(it.next_back(), Some(1));
    let by_ref: Vec<&u32> = (&v).into_iter().collect();
    assert_eq!(by_ref, [&3, &2, &1]);
    for x in &mut v {
        *x *= 10;
    }
    assert_eq!(&v[..], &[30, 20, 10]);
}

#[test]
fn comparisons_ignore_the_inline_size() {
    let a: SmallVec<[u32; 2]> = smallvec![1, 2, 3];
    let b: SmallVec<[u32; 8]> = smallvec![1, 2, 3];
    assert_eq!(a, b);
    let c: V = smallvec![1, 2];
    let d: V = smallvec![1, 3];
    assert!(c < d);
    assert_eq!(format!("{c:?}"), "[1, 2]");
}

#[test]
fn append_and_grow() {
    let mut a: V = smallvec![1];
    let mut b: SmallVec<[u32; 2]> = smallvec![2, 3];
    a.append(&mut b);
    assert_eq!(&a[..], &[1, 2, 3]);
    assert!(b.is_empty());
    a.grow(16);
    assert!(a.capacity() >= 16);
    a.shrink_to_fit();
    assert_eq!(&a[..], &[1, 2, 3]);
}

#[test]
fn moving_one_copies_three_words() {
    // The reason for the stand-in: the size does not grow with the array.
    type Big = SmallVec<[[u8; 176]; 20]>;
    assert_eq!(std::mem::size_of::<Big>(), std::mem::size_of::<Vec<u8>>());
}
