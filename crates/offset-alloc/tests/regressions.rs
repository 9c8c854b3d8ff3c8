//! One test per bug of the originals (C++ OffsetAllocator and offset-allocator 0.2.0).

use offset_alloc::{AllocError, Allocator, AllocatorOptions, ConfigError, FreeError, GrowError};

#[test]
fn offsets_above_65535_are_not_truncated_with_u16_indices() {
    let mut allocator: Allocator<u16> = Allocator::new(1 << 20);
    let a = allocator.allocate(70_000).unwrap();
    let b = allocator.allocate(100).unwrap();
    assert_eq!(b.offset, 70_000u32);
    let offset: u32 = b.offset; // typed u32 whatever the index type
    assert_eq!(offset, 70_000);
    allocator.free(a);
    allocator.free(b);
    allocator.validate().unwrap();
}

#[test]
fn u16_allocator_new_does_not_panic() {
    let allocator: Allocator<u16> = Allocator::new(1 << 30);
    assert_eq!(allocator.max_allocs(), Allocator::<u16>::GUARANTEED_ALLOCS);
    allocator.validate().unwrap();
}

#[test]
fn with_max_allocs_two_serves_two_allocations() {
    let mut allocator: Allocator = Allocator::with_max_allocs(36864, 2);
    let a = allocator.allocate(1000).unwrap();
    let b = allocator.allocate(1000).unwrap();
    assert_eq!(
        allocator.try_allocate(1000),
        Err(AllocError::TooManyAllocations { max_allocs: 2 })
    );
    allocator.validate().unwrap();
    allocator.free(a);
    assert!(allocator.allocate(1000).is_some());
    allocator.free(b);
    allocator.validate().unwrap();
}

#[test]
fn with_max_allocs_one_serves_one_allocation() {
    let mut allocator: Allocator = Allocator::with_max_allocs(36864, 1);
    let a = allocator.allocate(10).unwrap();
    assert!(allocator.allocate(10).is_none());
    allocator.free(a);
    allocator.validate().unwrap();
}

#[test]
fn max_allocs_limit_is_reached_exactly_with_fragmenting_pattern() {
    // Allocate n, then free every other one: n/2 live plus n/2 + 1 free regions.
    let n = 1000;
    let mut allocator: Allocator<u16> = Allocator::with_max_allocs(1 << 20, n);
    let handles: Vec<_> = (0..n).map(|_| allocator.allocate(3).unwrap()).collect();
    assert!(allocator.allocate(3).is_none());
    for h in handles.iter().step_by(2) {
        allocator.free(*h);
    }
    allocator.validate().unwrap();
    // Aligned requests split regions three ways; still never over the node bound.
    let mut again = Vec::new();
    while let Ok(h) = allocator.try_allocate_aligned(1, 5) {
        again.push(h);
        allocator.validate().unwrap();
    }
    assert_eq!(allocator.allocation_count(), n);
}

#[test]
fn with_max_allocs_zero_is_a_clear_error() {
    let err = Allocator::<u32>::with_options(
        100,
        AllocatorOptions {
            max_allocs: Some(0),
            ..Default::default()
        },
    );
    assert_eq!(err.unwrap_err(), ConfigError::ZeroMaxAllocs);
}

#[test]
fn with_max_allocs_over_the_accepted_limit_is_a_clear_error() {
    let err = Allocator::<u16>::with_options(
        100,
        AllocatorOptions {
            max_allocs: Some(65_534),
            ..Default::default()
        },
    );
    assert_eq!(
        err.unwrap_err(),
        ConfigError::MaxAllocsTooLarge {
            requested: 65_534,
            limit: 65_533
        }
    );
}

#[test]
#[should_panic(expected = "max_allocs 65534 is more than this node index type accepts (65533)")]
fn with_max_allocs_panics_with_a_readable_message() {
    let _ = Allocator::<u16>::with_max_allocs(100, 65_534);
}

#[test]
fn double_free_is_refused_and_changes_nothing() {
    let mut allocator: Allocator = Allocator::new(1000);
    let a = allocator.allocate(10).unwrap();
    let b = allocator.allocate(10).unwrap();
    allocator.free(a);
    let before = (allocator.free_units(), allocator.allocation_count());
    assert!(matches!(
        allocator.try_free(a),
        Err(FreeError::Stale { offset: 0, .. })
    ));
    assert_eq!(
        (allocator.free_units(), allocator.allocation_count()),
        before
    );
    assert!(allocator.is_live(b));
    allocator.validate().unwrap();
}

#[test]
fn stale_free_cannot_release_the_allocation_that_reused_its_node() {
    let mut allocator: Allocator = Allocator::new(1000);
    let a = allocator.allocate(10).unwrap();
    allocator.free(a);
    let b = allocator.allocate(10).unwrap(); // same offset, same node
    assert_eq!(a.offset, b.offset);
    assert!(allocator.try_free(a).is_err());
    assert!(allocator.is_live(b));
    assert_eq!(allocator.allocation_size(b), 10);
    allocator.validate().unwrap();
}

#[test]
fn foreign_free_is_refused() {
    let mut one: Allocator = Allocator::new(1000);
    let mut two: Allocator = Allocator::new(1000);
    let a = one.allocate(10).unwrap();
    let b = two.allocate(10).unwrap();
    assert!(matches!(two.try_free(a), Err(FreeError::Foreign { .. })));
    assert!(two.is_live(b));
    two.validate().unwrap();
}

#[test]
fn handles_are_refused_by_every_other_allocator_of_a_thousand() {
    // Same node, same generation, same offset in every allocator: only the salt
    // derived from the allocator's identity tells the handles apart.
    let mut allocators: Vec<Allocator> = (0..1000).map(|_| Allocator::new(64)).collect();
    let handles: Vec<_> = allocators
        .iter_mut()
        .map(|a| a.allocate(8).unwrap())
        .collect();
    for (i, allocator) in allocators.iter_mut().enumerate() {
        for (j, handle) in handles.iter().enumerate() {
            if i != j {
                assert!(
                    matches!(allocator.try_free(*handle), Err(FreeError::Foreign { .. })),
                    "allocator {i} accepted allocator {j}'s handle"
                );
            }
        }
        assert!(allocator.is_live(handles[i]));
    }
}

#[test]
fn stale_handle_of_a_reused_node_reports_its_own_generation() {
    let mut allocator: Allocator = Allocator::new(1000);
    let a = allocator.allocate(10).unwrap();
    allocator.free(a);
    let b = allocator.allocate(10).unwrap();
    let (
        Err(FreeError::Stale {
            generation: old, ..
        }),
        Ok(()),
    ) = (allocator.try_free(a), allocator.try_free(b))
    else {
        panic!("expected the old handle to be stale and the new one live");
    };
    assert!(matches!(
        allocator.try_free(b),
        Err(FreeError::Stale { generation, .. }) if generation == old + 1
    ));
}

#[test]
fn handles_are_sixteen_bytes_with_or_without_option() {
    use offset_alloc::Allocation;
    use std::mem::size_of;
    assert_eq!(size_of::<Allocation>(), 16);
    assert_eq!(size_of::<Option<Allocation>>(), 16);
    assert_eq!(size_of::<Allocation<u16>>(), 16);
}

#[test]
fn handles_from_before_a_reset_are_refused() {
    let mut allocator: Allocator = Allocator::new(1000);
    let a = allocator.allocate(10).unwrap();
    allocator.reset();
    let b = allocator.allocate(10).unwrap();
    assert!(matches!(
        allocator.try_free(a),
        Err(FreeError::Foreign { .. })
    ));
    assert!(allocator.is_live(b));
}

#[test]
#[should_panic(expected = "stale handle: the allocation at offset 0")]
fn free_panics_with_a_clear_message_on_double_free() {
    let mut allocator: Allocator = Allocator::new(1000);
    let a = allocator.allocate(10).unwrap();
    allocator.free(a);
    allocator.free(a);
}

#[test]
fn freeing_a_zero_size_allocation_leaves_no_zero_size_free_node() {
    let mut allocator: Allocator = Allocator::new(100);
    let a = allocator.allocate(10).unwrap();
    let z = allocator.allocate(0).unwrap();
    let b = allocator.allocate(90).unwrap();
    allocator.free(z);
    allocator.validate().unwrap();
    assert!(allocator.free_regions().all(|r| r.size > 0));
    assert_eq!(allocator.storage_report_full().free_regions[0].count, 0);
    allocator.free(a);
    allocator.free(b);
    assert_eq!(allocator.allocate(100).unwrap().offset, 0);
}

#[test]
fn zero_size_allocation_does_not_split_free_space() {
    let mut allocator: Allocator = Allocator::new(100);
    let a = allocator.allocate(50).unwrap();
    let z = allocator.allocate(0).unwrap();
    let b = allocator.allocate(50).unwrap();
    allocator.free(a);
    allocator.free(b);
    // With the zero-size allocation still live, the whole range is one region.
    assert_eq!(allocator.allocate(100).unwrap().offset, 0);
    allocator.free(z);
}

#[test]
fn u16_with_every_max_allocs_0_2_0_accepts_builds() {
    // offset-allocator 0.2.0 asserts `max_allocs < u16::MAX - 1`.
    for n in [1, 32_767, 32_768, 40_000, 65_532, 65_533] {
        let allocator: Allocator<u16> = Allocator::with_max_allocs(1 << 20, n);
        assert_eq!(allocator.max_allocs(), n);
        allocator.validate().unwrap();
    }
}

#[test]
fn past_the_guarantee_allocations_are_served_until_the_node_space_runs_out() {
    // Fill with 2-unit allocations up to max_allocs, free every other one (holes too
    // small for what follows), then allocate 3 units at a time from the tail: one
    // new node each, until the 65,535 nodes a u16 can name are all in use.
    let mut allocator: Allocator<u16> = Allocator::with_max_allocs(1 << 24, 65_533);
    let mut filled = Vec::new();
    while let Ok(a) = allocator.try_allocate(2) {
        filled.push(a);
    }
    assert_eq!(filled.len(), 65_533);
    let mut live = Vec::new();
    for (k, a) in filled.into_iter().enumerate() {
        if k % 2 == 0 {
            allocator.free(a);
        } else {
            live.push(a);
        }
    }
    let err = loop {
        match allocator.try_allocate(3) {
            Ok(a) => live.push(a),
            Err(e) => break e,
        }
    };
    let count = live.len() as u32;
    assert_eq!(
        err,
        AllocError::NodeSpaceExhausted {
            live: count,
            node_limit: 65_535
        }
    );
    assert!(count > Allocator::<u16>::GUARANTEED_ALLOCS, "{count}");
    allocator.validate().unwrap();
    // A zero-size allocation needs a node too.
    assert_eq!(allocator.try_allocate(0), Err(err));
    // An exact fit of the free tail needs none; then growth needs one and is refused.
    let tail = allocator.trailing_free_region().unwrap();
    live.push(
        allocator
            .allocate(tail.size)
            .expect("an exact fit needs no node"),
    );
    let size = allocator.size();
    assert_eq!(
        allocator.grow(size + 100),
        Err(GrowError::NodeSpaceExhausted { node_limit: 65_535 })
    );
    assert_eq!(allocator.size(), size, "a refused growth changes nothing");
    allocator.validate().unwrap();
    assert_eq!(allocator.allocation_count(), count + 1);
    for a in live {
        allocator.free(a);
    }
    allocator.validate().unwrap();
    assert!(allocator.is_empty());
}
