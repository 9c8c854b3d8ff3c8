//! Errors, counters, reports, iteration and the round-up-to-bin policy.

use offset_alloc::{AllocError, Allocator, AllocatorOptions, FreeRegion, Rounding};

#[test]
fn out_of_space_reports_requested_and_largest_free() {
    let mut allocator: Allocator = Allocator::new(1000);
    let _a = allocator.allocate(600).unwrap();
    assert_eq!(
        allocator.try_allocate(500),
        Err(AllocError::OutOfSpace {
            requested: 500,
            align: 1,
            // The bin of 400 units starts at 384; the next one at 416.
            largest_free_at_least: 384,
            largest_free_at_most: 400,
            total_free: 400
        })
    );
    let msg = allocator.try_allocate(500).unwrap_err().to_string();
    assert!(msg.contains("500") && msg.contains("384 to 400"), "{msg}");
}

#[test]
fn request_larger_than_the_heap_is_too_large() {
    let mut allocator: Allocator = Allocator::new(1000);
    assert_eq!(
        allocator.try_allocate(1001),
        Err(AllocError::TooLarge {
            requested: 1001,
            size: 1000
        })
    );
}

#[test]
fn counters_follow_allocations() {
    let mut allocator: Allocator = Allocator::new(1000);
    assert!(allocator.is_empty());
    let a = allocator.allocate(100).unwrap();
    let z = allocator.allocate(0).unwrap();
    assert_eq!(
        (
            allocator.allocation_count(),
            allocator.used_units(),
            allocator.free_units()
        ),
        (2, 100, 900)
    );
    allocator.free(a);
    allocator.free(z);
    assert!(allocator.is_empty());
    assert_eq!(allocator.used_units(), 0);
}

#[test]
fn largest_free_region_is_the_bin_bound_and_exact_is_exact() {
    let mut allocator: Allocator = Allocator::new(1000);
    let _a = allocator.allocate(1).unwrap();
    assert_eq!(allocator.largest_free_region(), 960);
    assert_eq!(allocator.largest_free_region_exact(), 999);
}

#[test]
fn iteration_is_in_offset_order() {
    let mut allocator: Allocator = Allocator::new(100);
    let a = allocator.allocate(10).unwrap();
    let b = allocator.allocate(20).unwrap();
    let c = allocator.allocate(30).unwrap();
    allocator.free(b);
    let live: Vec<_> = allocator
        .allocations()
        .map(|l| (l.allocation, l.offset, l.size))
        .collect();
    assert_eq!(live, [(a, 0, 10), (c, 30, 30)]);
    let free: Vec<_> = allocator.free_regions().collect();
    assert_eq!(
        free,
        [
            FreeRegion {
                offset: 10,
                size: 20
            },
            FreeRegion {
                offset: 60,
                size: 40
            }
        ]
    );
}

#[test]
fn handles_from_iteration_free_their_allocation() {
    let mut allocator: Allocator = Allocator::new(100);
    for _ in 0..5 {
        allocator.allocate(7).unwrap();
    }
    let handles: Vec<_> = allocator.allocations().map(|l| l.allocation).collect();
    for h in handles {
        allocator.free(h);
    }
    assert!(allocator.is_empty());
    allocator.validate().unwrap();
}

#[test]
fn storage_report_is_zero_when_no_metadata_is_left() {
    let mut allocator: Allocator = Allocator::with_max_allocs(1000, 1);
    let _a = allocator.allocate(1).unwrap();
    let report = allocator.storage_report();
    assert_eq!(
        (report.total_free_space, report.largest_free_region),
        (0, 0)
    );
}

#[test]
fn construction_allocates_no_per_node_storage() {
    let allocator: Allocator = Allocator::new(1 << 30);
    // One node for the whole range, nothing proportional to max_allocs.
    assert!(
        allocator.metadata_bytes() < 4096,
        "{} bytes",
        allocator.metadata_bytes()
    );
}

#[test]
fn bin_size_rounding_charges_the_bin_lower_bound() {
    let opts = AllocatorOptions {
        rounding: Rounding::BinSize,
        ..Default::default()
    };
    let mut allocator: Allocator = Allocator::with_options(1 << 20, opts).unwrap();
    let a = allocator.allocate(1000).unwrap();
    let b = allocator.allocate(1000).unwrap();
    assert_eq!(allocator.allocation_size(a), 1024);
    assert_eq!(b.offset, 1024);
    allocator.free(a);
    // The hole is exactly bin-sized, so the round-up search finds it first.
    assert_eq!(allocator.allocate(999).unwrap().offset, 0);
    allocator.validate().unwrap();
}

#[test]
fn bin_size_rounding_never_charges_more_than_the_region() {
    let opts = AllocatorOptions {
        rounding: Rounding::BinSize,
        ..Default::default()
    };
    let mut allocator: Allocator = Allocator::with_options(513, opts).unwrap();
    let a = allocator.allocate(513).unwrap(); // bin bound 576 > 513 units available
    assert_eq!(allocator.allocation_size(a), 513);
    allocator.validate().unwrap();
}

#[test]
fn debug_output_names_the_numbers() {
    let allocator: Allocator = Allocator::new(1000);
    let text = format!("{allocator:?}");
    assert!(
        text.contains("size: 1000") && text.contains("free: 1000"),
        "{text}"
    );
}

#[test]
fn a_refusal_among_20000_free_regions_reports_bin_bounds_not_a_walk() {
    // 20,000 free regions of 1,000 units, nothing larger: a request of 1,001 is
    // refused. The error names the bin of the largest region (960..1023 units)
    // instead of walking all 20,000 regions to measure it.
    let mut allocator: Allocator = Allocator::new(20_000 * 1001);
    let mut holes = Vec::new();
    for _ in 0..20_000 {
        holes.push(allocator.allocate(1000).unwrap());
        allocator.allocate(1).unwrap();
    }
    for h in holes {
        allocator.free(h);
    }
    assert_eq!(
        allocator.try_allocate(1001),
        Err(AllocError::OutOfSpace {
            requested: 1001,
            align: 1,
            largest_free_at_least: 960,
            largest_free_at_most: 1023,
            total_free: 20_000_000
        })
    );
    assert_eq!(allocator.largest_free_region(), 960);
    assert_eq!(allocator.largest_free_region_exact(), 1000);
    allocator.validate().unwrap();
}
