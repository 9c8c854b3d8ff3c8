//! The exhaustive fallback (`try_allocate_exhaustive`, `try_allocate_aligned_exhaustive`):
//! random streams checked against a shadow model of live ranges, which says from its
//! own gaps whether any free region can hold a request. The fallback must succeed
//! exactly then. One macro instantiates the suite for `u32` and `u16` node indices.

use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Op {
    /// The O(1) path, to fragment the heap.
    Alloc(u32, u32),
    /// The exhaustive path.
    Exhaustive(u32, u32),
    Free(usize),
}

fn op(max_size: u32) -> impl Strategy<Value = Op> {
    let align = prop_oneof![3 => Just(1u32), 2 => 1u32..64, 1 => 64u32..700];
    prop_oneof![
        4 => ((1..=max_size), align.clone()).prop_map(|(s, a)| Op::Alloc(s, a)),
        3 => ((1..=max_size), align).prop_map(|(s, a)| Op::Exhaustive(s, a)),
        4 => any::<usize>().prop_map(Op::Free),
    ]
}

fn stream() -> impl Strategy<Value = (u32, Vec<Op>)> {
    (64u32..30_000).prop_flat_map(|size| {
        (
            Just(size),
            proptest::collection::vec(op(size / 8 + 16), 1..500),
        )
    })
}

/// Whether some gap between the model's live ranges holds `size` units at `align`.
fn model_fits(heap: u32, live: &[(u32, u32)], size: u32, align: u32) -> bool {
    let mut ranges: Vec<(u32, u32)> = live.to_vec();
    ranges.sort_unstable();
    let mut gaps = Vec::new();
    let mut cursor = 0u64;
    for &(offset, len) in &ranges {
        if u64::from(offset) > cursor {
            gaps.push((cursor, u64::from(offset) - cursor));
        }
        cursor = u64::from(offset) + u64::from(len);
    }
    if cursor < u64::from(heap) {
        gaps.push((cursor, u64::from(heap) - cursor));
    }
    gaps.iter().any(|&(offset, len)| {
        let start = offset.next_multiple_of(u64::from(align));
        start + u64::from(size) <= offset + len
    })
}

macro_rules! exhaustive_suite {
    ($name:ident, $ni:ty) => {
        mod $name {
            use super::*;
            use offset_alloc::{AllocError, Allocation, Allocator};

            proptest! {
                #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
                #[test]
                fn succeeds_exactly_when_some_free_region_fits((heap, ops) in stream()) {
                    let mut allocator = Allocator::<$ni>::new(heap);
                    let mut live: Vec<(Allocation<$ni>, u32, u32)> = Vec::new();
                    for op in ops {
                        match op {
                            Op::Alloc(size, align) => {
                                if let Some(a) = allocator.allocate_aligned(size, align) {
                                    live.push((a, a.offset, size));
                                }
                            }
                            Op::Exhaustive(size, align) => {
                                let ranges: Vec<(u32, u32)> = live.iter().map(|l| (l.1, l.2)).collect();
                                let fits = model_fits(heap, &ranges, size, align);
                                match allocator.try_allocate_aligned_exhaustive(size, align) {
                                    Ok(a) => {
                                        prop_assert!(fits, "served {} at {} where the model has no room", size, align);
                                        prop_assert_eq!(a.offset % align, 0);
                                        live.push((a, a.offset, size));
                                    }
                                    Err(AllocError::OutOfSpace { .. } | AllocError::TooLarge { .. }) => {
                                        prop_assert!(!fits, "refused {} at {} although a gap fits", size, align);
                                    }
                                    Err(e) => prop_assert!(false, "unexpected {}", e),
                                }
                            }
                            Op::Free(i) if !live.is_empty() => {
                                let (a, _, _) = live.swap_remove(i % live.len());
                                allocator.free(a);
                            }
                            Op::Free(_) => {}
                        }
                        allocator.validate().map_err(|e| TestCaseError::fail(e.to_string()))?;
                    }
                }
            }
        }
    };
}

exhaustive_suite!(u32_indices, u32);
exhaustive_suite!(u16_indices, u16);

/// Eight regions of 970 units sit in front of one of 1,000 in the same bin: the O(1)
/// probe gives up on a request of 1,000, the exhaustive search finds the region.
fn misfits_in_front(allocator: &mut offset_alloc::Allocator) -> u32 {
    let big = allocator.allocate(1000).unwrap();
    allocator.allocate(1).unwrap();
    let small: Vec<_> = (0..8)
        .map(|_| {
            let a = allocator.allocate(970).unwrap();
            allocator.allocate(1).unwrap();
            a
        })
        .collect();
    let rest = allocator.storage_report().total_free_space;
    allocator.allocate(rest).unwrap();
    let offset = big.offset;
    allocator.free(big);
    for a in small {
        allocator.free(a); // each becomes the head of the bin
    }
    offset
}

#[test]
fn the_exhaustive_search_finds_the_region_the_probe_gives_up_on() {
    let mut allocator = offset_alloc::Allocator::new(20_000);
    let offset = misfits_in_front(&mut allocator);
    assert!(
        allocator.try_allocate(1000).is_err(),
        "the O(1) probe stops after 8"
    );
    let a = allocator.try_allocate_exhaustive(1000).unwrap();
    assert_eq!(a.offset, offset);
    assert!(
        allocator.try_allocate_exhaustive(1000).is_err(),
        "nothing else fits"
    );
    allocator.validate().unwrap();
}

#[test]
fn the_exhaustive_search_changes_nothing_when_it_refuses() {
    let mut allocator = offset_alloc::Allocator::new(20_000);
    misfits_in_front(&mut allocator);
    let before: Vec<_> = allocator.free_regions().collect();
    let count = allocator.allocation_count();
    assert!(matches!(
        allocator.try_allocate_exhaustive(1001),
        Err(offset_alloc::AllocError::OutOfSpace {
            requested: 1001,
            ..
        })
    ));
    assert_eq!(allocator.free_regions().collect::<Vec<_>>(), before);
    assert_eq!(allocator.allocation_count(), count);
    allocator.validate().unwrap();
}
