//! `grow`: the managed range enlarges in place; live allocations never move.

use offset_alloc::{Allocator, FreeRegion, GrowError};

fn offsets(allocator: &Allocator) -> Vec<(u32, u32)> {
    allocator
        .allocations()
        .map(|a| (a.offset, a.size))
        .collect()
}

#[test]
fn free_tail_is_extended_and_rebinned() {
    let mut allocator: Allocator = Allocator::new(1000);
    let a = allocator.allocate(400).unwrap();
    let before = offsets(&allocator);
    allocator.grow(100_000).unwrap();
    allocator.validate().unwrap();
    assert_eq!(offsets(&allocator), before);
    assert_eq!(
        allocator.free_regions().collect::<Vec<_>>(),
        [FreeRegion {
            offset: 400,
            size: 99_600
        }]
    );
    // Rebinned: a request that needs the grown size is found by the bin search.
    assert_eq!(allocator.allocate(99_000).unwrap().offset, 400);
    assert!(allocator.is_live(a));
}

#[test]
fn used_tail_gets_a_new_free_region_after_it() {
    let mut allocator: Allocator = Allocator::new(1000);
    let a = allocator.allocate(1000).unwrap();
    allocator.grow(1500).unwrap();
    allocator.validate().unwrap();
    assert_eq!(
        allocator.free_regions().collect::<Vec<_>>(),
        [FreeRegion {
            offset: 1000,
            size: 500
        }]
    );
    assert_eq!(allocator.allocate(500).unwrap().offset, 1000);
    assert_eq!(allocator.allocation_size(a), 1000);
}

#[test]
fn hole_before_a_used_tail_stays_separate() {
    let mut allocator: Allocator = Allocator::new(300);
    let a = allocator.allocate(100).unwrap();
    let _b = allocator.allocate(200).unwrap();
    allocator.free(a);
    allocator.grow(400).unwrap();
    allocator.validate().unwrap();
    assert_eq!(
        allocator.free_regions().collect::<Vec<_>>(),
        [
            FreeRegion {
                offset: 0,
                size: 100
            },
            FreeRegion {
                offset: 300,
                size: 100
            }
        ]
    );
    assert_eq!(offsets(&allocator), [(100, 200)]);
}

#[test]
fn an_empty_allocator_can_grow_from_zero() {
    let mut allocator: Allocator = Allocator::new(0);
    assert!(allocator.allocate(1).is_none());
    allocator.grow(64).unwrap();
    allocator.validate().unwrap();
    assert_eq!(allocator.allocate(64).unwrap().offset, 0);
}

#[test]
fn shrinking_is_refused_and_nothing_changes() {
    let mut allocator: Allocator = Allocator::new(100);
    let _a = allocator.allocate(10).unwrap();
    assert_eq!(
        allocator.grow(99),
        Err(GrowError::Shrink {
            current: 100,
            requested: 99
        })
    );
    assert_eq!(allocator.size(), 100);
    allocator.validate().unwrap();
}

#[test]
fn grow_to_the_same_size_is_a_no_op() {
    let mut allocator: Allocator = Allocator::new(100);
    allocator.grow(100).unwrap();
    assert_eq!(allocator.free_regions().count(), 1);
    allocator.validate().unwrap();
}
