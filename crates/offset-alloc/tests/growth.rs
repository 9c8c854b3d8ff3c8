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

mod layout {
    use offset_alloc::{Allocator, AllocatorOptions, FreeRegion, LayoutError};

    #[test]
    fn with_layout_places_allocations_and_frees_the_gaps() {
        let (mut a, handles) = Allocator::<u32>::with_layout(
            100,
            AllocatorOptions::default(),
            &[(5, 10), (15, 5), (50, 50)],
        )
        .unwrap();
        a.validate().unwrap();
        assert_eq!(
            handles.iter().map(|h| h.offset).collect::<Vec<_>>(),
            [5, 15, 50]
        );
        assert_eq!(
            a.free_regions().collect::<Vec<_>>(),
            [
                FreeRegion { offset: 0, size: 5 },
                FreeRegion {
                    offset: 20,
                    size: 30
                }
            ]
        );
        assert_eq!((a.allocation_count(), a.used_units()), (3, 65));
        for h in handles {
            a.free(h);
            a.validate().unwrap();
        }
        assert_eq!(a.allocate(100).unwrap().offset, 0);
    }

    #[test]
    fn with_layout_reproduces_an_existing_allocator() {
        let mut original: Allocator<u16> = Allocator::new(10_000);
        let handles: Vec<_> = (1..60).map(|i| original.allocate(i * 3).unwrap()).collect();
        for h in handles.iter().step_by(3) {
            original.free(*h);
        }
        let ranges: Vec<(u32, u32)> = original.allocations().map(|l| (l.offset, l.size)).collect();
        let (copy, _) = Allocator::<u16>::with_layout(10_000, Default::default(), &ranges).unwrap();
        copy.validate().unwrap();
        assert_eq!(
            copy.free_regions().collect::<Vec<_>>(),
            original.free_regions().collect::<Vec<_>>()
        );
        assert_eq!(copy.free_units(), original.free_units());
    }

    #[test]
    fn with_layout_refuses_bad_layouts() {
        let opts = AllocatorOptions::default();
        assert_eq!(
            Allocator::<u32>::with_layout(10, opts, &[(0, 0)]).unwrap_err(),
            LayoutError::ZeroSize { index: 0 }
        );
        assert_eq!(
            Allocator::<u32>::with_layout(10, opts, &[(8, 4)]).unwrap_err(),
            LayoutError::OutOfBounds {
                index: 0,
                end: 12,
                size: 10
            }
        );
        assert_eq!(
            Allocator::<u32>::with_layout(
                10,
                AllocatorOptions {
                    max_allocs: Some(1),
                    ..opts
                },
                &[(0, 1), (1, 1)]
            )
            .unwrap_err(),
            LayoutError::TooMany {
                count: 2,
                max_allocs: 1
            }
        );
    }

    #[test]
    fn with_layout_handles_a_full_and_an_empty_layout() {
        let (full, _) = Allocator::<u32>::with_layout(10, Default::default(), &[(0, 10)]).unwrap();
        full.validate().unwrap();
        assert_eq!(full.free_units(), 0);
        let (empty, handles) = Allocator::<u32>::with_layout(10, Default::default(), &[]).unwrap();
        empty.validate().unwrap();
        assert!(handles.is_empty() && empty.free_units() == 10);
    }
}
