//! `allocate_aligned`: any non-zero alignment, padding returned to the free lists.

use offset_alloc::{AllocError, Allocator, FreeRegion};

#[test]
fn offsets_are_multiples_of_non_power_of_two_alignments() {
    let mut allocator: Allocator = Allocator::new(1 << 20);
    for (i, align) in [12u32, 20, 3, 7, 24, 36, 1000]
        .into_iter()
        .cycle()
        .take(200)
        .enumerate()
    {
        let a = allocator.allocate_aligned(1 + i as u32 * 7, align).unwrap();
        assert_eq!(a.offset % align, 0, "align {align}");
        allocator.validate().unwrap();
    }
}

#[test]
fn front_padding_becomes_a_free_region() {
    let mut allocator: Allocator = Allocator::new(1000);
    let _a = allocator.allocate(5).unwrap();
    let b = allocator.allocate_aligned(24, 12).unwrap();
    assert_eq!(b.offset, 12);
    let free: Vec<_> = allocator.free_regions().collect();
    assert_eq!(
        free,
        [
            FreeRegion { offset: 5, size: 7 },
            FreeRegion {
                offset: 36,
                size: 964
            }
        ]
    );
    allocator.validate().unwrap();
}

#[test]
fn large_alignment_wastes_nothing_once_freed() {
    let mut allocator: Allocator = Allocator::new(65_536 + 1000);
    let small = allocator.allocate(100).unwrap();
    let big = allocator.allocate_aligned(1000, 65_536).unwrap();
    assert_eq!(big.offset, 65_536);
    // The heap is now full but for the padding: its 65,436 units are usable at once.
    let filler = allocator.allocate(65_436).unwrap();
    assert_eq!(filler.offset, 100);
    allocator.free(filler);
    allocator.free(small);
    allocator.free(big);
    allocator.validate().unwrap();
    assert_eq!(allocator.free_regions().count(), 1);
    assert_eq!(allocator.largest_free_region_exact(), 65_536 + 1000);
}

#[test]
fn padding_merges_back_when_its_left_neighbour_is_freed() {
    let mut allocator: Allocator = Allocator::new(4096);
    let a = allocator.allocate(10).unwrap();
    let b = allocator.allocate_aligned(100, 256).unwrap();
    allocator.free(a);
    allocator.validate().unwrap();
    assert_eq!(
        allocator.free_regions().next(),
        Some(FreeRegion {
            offset: 0,
            size: 256
        })
    );
    allocator.free(b);
    assert_eq!(
        allocator.free_regions().collect::<Vec<_>>(),
        [FreeRegion {
            offset: 0,
            size: 4096
        }]
    );
}

#[test]
fn aligned_request_fits_a_region_only_just_big_enough() {
    // One free region of 40 units at offset 4: a 24-unit request at alignment 12
    // fits at 12 (8 units of padding) although 24 + 11 rounds past its bin.
    let mut allocator: Allocator = Allocator::new(44);
    let _head = allocator.allocate(4).unwrap();
    let a = allocator.allocate_aligned(24, 12).unwrap();
    assert_eq!(a.offset, 12);
    allocator.validate().unwrap();
}

#[test]
fn alignment_zero_is_an_error() {
    let mut allocator: Allocator = Allocator::new(44);
    assert_eq!(
        allocator.try_allocate_aligned(4, 0),
        Err(AllocError::ZeroAlignment)
    );
}

#[test]
fn alignment_one_matches_plain_allocate() {
    let mut one: Allocator = Allocator::new(1 << 16);
    let mut two: Allocator = Allocator::new(1 << 16);
    for size in [5u32, 77, 1000, 3, 4096] {
        assert_eq!(
            one.allocate(size).unwrap().offset,
            two.allocate_aligned(size, 1).unwrap().offset
        );
    }
}

#[test]
fn aligned_request_that_cannot_fit_reports_out_of_space() {
    let mut allocator: Allocator = Allocator::new(100);
    let _a = allocator.allocate(1).unwrap();
    match allocator.try_allocate_aligned(90, 64) {
        Err(AllocError::OutOfSpace {
            requested: 90,
            align: 64,
            largest_free_at_least: 96,
            largest_free_at_most: 99,
            total_free: 99,
        }) => {}
        other => panic!("unexpected {other:?}"),
    }
    allocator.validate().unwrap();
}

#[test]
fn aligned_request_looks_where_room_is_before_eight_misfits() {
    // A 2^20-unit heap whose free regions are 7,000 units at offset 4,095 and eight
    // of 4,096 units at misaligned offsets; nothing of 8,191 units or more is free.
    // 4,096 units at alignment 4,096 fit at offset 4,096 (the 7,000-unit region).
    let mut free = vec![(4095u32, 7000u32)];
    free.extend((1..=8).map(|k| (16_384 * k + 100, 4096)));
    let mut used = Vec::new();
    let mut cursor = 0;
    for &(offset, size) in &free {
        used.push((cursor, offset - cursor));
        cursor = offset + size;
    }
    used.push((cursor, (1 << 20) - cursor));
    let (mut allocator, _live) =
        Allocator::<u32>::with_layout(1 << 20, Default::default(), &used).unwrap();
    let regions: Vec<_> = allocator
        .free_regions()
        .map(|r| (r.offset, r.size))
        .collect();
    assert_eq!(regions, free);

    let a = allocator
        .allocate_aligned(4096, 4096)
        .expect("offset 4096 fits");
    assert_eq!(a.offset, 4096);
    allocator.validate().unwrap();
}
