//! Differential test against the real `offset-allocator` 0.2.0: on every request it
//! serves, we return the same offset. A sequence is compared up to the first request
//! it refuses but we serve (our no-false-out-of-memory extension); from there on the
//! two heaps legitimately differ.

use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Op {
    Alloc(u32),
    Free(usize),
}

/// Sizes spread over many bins, often near the heap size so refusals happen.
fn sizes(heap: u32) -> impl Strategy<Value = u32> {
    prop_oneof![
        3 => 1u32..64,
        3 => (0u32..18).prop_flat_map(|shift| (1u32 << shift)..(2u32 << shift)),
        1 => 1u32..=heap.max(1),
    ]
}

fn stream(max_heap: u32) -> impl Strategy<Value = (u32, Vec<Op>)> {
    (64u32..max_heap).prop_flat_map(|heap| {
        let op = prop_oneof![3 => sizes(heap).prop_map(Op::Alloc), 2 => any::<usize>().prop_map(Op::Free)];
        (Just(heap), proptest::collection::vec(op, 100..3000))
    })
}

macro_rules! differential {
    ($name:ident, $ni:ty, $max_heap:expr, $new_theirs:expr) => {
        proptest! {
            #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]
            #[test]
            fn $name((heap, ops) in stream($max_heap)) {
                let mut ours = offset_alloc::Allocator::<$ni>::new(heap);
                let mut theirs: offset_allocator::Allocator<$ni> = $new_theirs(heap);
                let mut live = Vec::new();
                for (step, op) in ops.into_iter().enumerate() {
                    match op {
                        Op::Alloc(size) => match (theirs.allocate(size), ours.allocate(size)) {
                            (Some(t), Some(o)) => {
                                prop_assert_eq!(u32::from(t.offset), o.offset, "step {}: allocate({})", step, size);
                                live.push((t, o));
                            }
                            (None, None) => {}
                            (None, Some(_)) => return Ok(()), // allowed divergence: we serve more
                            (Some(t), None) => prop_assert!(false, "step {step}: offset-allocator served {size} at {}, we refused", t.offset),
                        },
                        Op::Free(i) if !live.is_empty() => {
                            let (t, o) = live.swap_remove(i % live.len());
                            theirs.free(t);
                            ours.free(o);
                        }
                        Op::Free(_) => {}
                    }
                    let (t, o) = (theirs.storage_report(), ours.storage_report());
                    prop_assert_eq!((t.total_free_space, t.largest_free_region), (o.total_free_space, o.largest_free_region));
                }
            }
        }
    };
}

differential!(
    same_offsets_as_offset_allocator_u32,
    u32,
    1 << 22,
    offset_allocator::Allocator::<u32>::new
);
// offset-allocator's u16 `new` panics and it truncates offsets past 65535, so its
// u16 flavour is compared on heaps below 64 Ki with an explicit node count.
differential!(same_offsets_as_offset_allocator_u16, u16, 65_535, |heap| {
    offset_allocator::Allocator::<u16>::with_max_allocs(heap, 60_000)
});

/// The four requests the original refuses although a region fits.
#[test]
fn offset_allocator_refuses_what_we_serve() {
    let mut theirs: offset_allocator::Allocator = offset_allocator::Allocator::new(513);
    assert!(theirs.allocate(513).is_none());
    let mut ours: offset_alloc::Allocator = offset_alloc::Allocator::new(513);
    assert!(ours.allocate(513).is_some());

    let mut theirs: offset_allocator::Allocator = offset_allocator::Allocator::new(324);
    theirs.allocate(255).unwrap();
    assert!(theirs.allocate(67).is_none());
}
