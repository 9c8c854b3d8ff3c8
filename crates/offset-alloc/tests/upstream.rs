//! The behaviour scenarios of the original C++ and Rust suites, for `u32` and `u16`
//! node indices. Every step also runs `validate()`.

use offset_alloc::{Allocator, bin, ext};

#[test]
fn bin_round_trip_is_exact_for_the_first_17_sizes() {
    for i in 0..17 {
        assert_eq!(bin::round_up(i), i);
        assert_eq!(bin::round_down(i), i);
        assert_eq!(bin::lower_bound(i), i);
    }
}

#[test]
fn bin_conversion_vectors_match_the_original() {
    for (number, up, down) in [
        (17, 17, 16),
        (118, 39, 38),
        (1024, 64, 64),
        (65536, 112, 112),
        (529445, 137, 136),
        (1048575, 144, 143),
    ] {
        assert_eq!(bin::round_up(number), up, "round_up({number})");
        assert_eq!(bin::round_down(number), down, "round_down({number})");
    }
}

#[test]
fn every_u32_bin_lower_bound_maps_back_to_its_bin() {
    for i in 0..240 {
        let v = bin::lower_bound(i);
        assert_eq!(bin::round_up(v), i);
        assert_eq!(bin::round_down(v), i);
    }
}

#[test]
fn bins_past_the_u32_range_saturate_instead_of_wrapping() {
    assert_eq!(bin::lower_bound(239), 15 << 28);
    assert_eq!(bin::lower_bound(240), u32::MAX);
}

#[test]
fn min_allocator_size_serves_the_object() {
    static SIZES: [u32; 42] = [
        0, 1, 2, 3, 4, 5, 8, 17, 23, 36, 51, 68, 87, 151, 165, 167, 201, 223, 306, 346, 394, 411,
        806, 969, 1404, 1798, 2236, 4281, 4745, 13989, 21095, 26594, 27146, 29679, 144685, 153878,
        495127, 727999, 1377073, 9440387, 41994490, 68520116,
    ];
    for needed in SIZES {
        let mut allocator: Allocator = Allocator::new(ext::min_allocator_size(needed));
        assert!(allocator.allocate(needed).is_some(), "size {needed}");
        allocator.validate().unwrap();
    }
}

macro_rules! upstream_suite {
    ($name:ident, $ni:ty) => {
        mod $name {
            use offset_alloc::Allocator;

            const SIZE: u32 = 1024 * 1024 * 256;

            fn check(allocator: &Allocator<$ni>) {
                allocator.validate().unwrap();
            }

            fn assert_clean(allocator: &mut Allocator<$ni>) {
                let all = allocator.allocate(SIZE).unwrap();
                assert_eq!(all.offset, 0);
                allocator.free(all);
                check(allocator);
            }

            #[test]
            fn basic() {
                let mut allocator = Allocator::<$ni>::new(SIZE);
                let a = allocator.allocate(1337).unwrap();
                assert_eq!(a.offset, 0);
                allocator.free(a);
                check(&allocator);
            }

            #[test]
            fn simple() {
                let mut allocator = Allocator::<$ni>::new(SIZE);
                let a = allocator.allocate(0).unwrap();
                assert_eq!(a.offset, 0);
                let b = allocator.allocate(1).unwrap();
                assert_eq!(b.offset, 0);
                let c = allocator.allocate(123).unwrap();
                assert_eq!(c.offset, 1);
                let d = allocator.allocate(1234).unwrap();
                assert_eq!(d.offset, 124);
                check(&allocator);
                for x in [a, b, c, d] {
                    allocator.free(x);
                    check(&allocator);
                }
                assert_clean(&mut allocator);
            }

            #[test]
            fn merge_trivial() {
                let mut allocator = Allocator::<$ni>::new(SIZE);
                let a = allocator.allocate(1337).unwrap();
                assert_eq!(a.offset, 0);
                allocator.free(a);
                let b = allocator.allocate(1337).unwrap();
                assert_eq!(b.offset, 0);
                allocator.free(b);
                assert_clean(&mut allocator);
            }

            #[test]
            fn reuse_trivial() {
                let mut allocator = Allocator::<$ni>::new(SIZE);
                let a = allocator.allocate(1024).unwrap();
                assert_eq!(a.offset, 0);
                let b = allocator.allocate(3456).unwrap();
                assert_eq!(b.offset, 1024);
                allocator.free(a);
                let c = allocator.allocate(1024).unwrap();
                assert_eq!(c.offset, 0);
                allocator.free(c);
                allocator.free(b);
                assert_clean(&mut allocator);
            }

            #[test]
            fn reuse_complex() {
                let mut allocator = Allocator::<$ni>::new(SIZE);
                let a = allocator.allocate(1024).unwrap();
                assert_eq!(a.offset, 0);
                let b = allocator.allocate(3456).unwrap();
                assert_eq!(b.offset, 1024);
                allocator.free(a);
                let c = allocator.allocate(2345).unwrap();
                assert_eq!(c.offset, 1024 + 3456);
                let d = allocator.allocate(456).unwrap();
                assert_eq!(d.offset, 0);
                let e = allocator.allocate(512).unwrap();
                assert_eq!(e.offset, 456);
                let report = allocator.storage_report();
                assert_eq!(report.total_free_space, SIZE - 3456 - 2345 - 456 - 512);
                assert_ne!(report.largest_free_region, report.total_free_space);
                check(&allocator);
                for x in [c, d, b, e] {
                    allocator.free(x);
                }
                assert_clean(&mut allocator);
            }

            #[test]
            fn zero_fragmentation() {
                let mut allocator = Allocator::<$ni>::new(SIZE);
                let mut allocations: Vec<_> = (0..256u32)
                    .map(|i| {
                        let a = allocator.allocate(1024 * 1024).unwrap();
                        assert_eq!(a.offset, i * 1024 * 1024);
                        a
                    })
                    .collect();
                let report = allocator.storage_report();
                assert_eq!(
                    (report.total_free_space, report.largest_free_region),
                    (0, 0)
                );
                for i in [243, 5, 123, 95, 151, 152, 153, 154] {
                    allocator.free(allocations[i]);
                }
                check(&allocator);
                for i in [243, 5, 123, 95] {
                    allocations[i] = allocator.allocate(1024 * 1024).unwrap();
                }
                allocations[151] = allocator.allocate(1024 * 1024 * 4).unwrap();
                check(&allocator);
                for (i, a) in allocations.iter().enumerate() {
                    if !(152..155).contains(&i) {
                        allocator.free(*a);
                    }
                }
                let report = allocator.storage_report();
                assert_eq!(
                    (report.total_free_space, report.largest_free_region),
                    (SIZE, SIZE)
                );
                assert_clean(&mut allocator);
            }
        }
    };
}

upstream_suite!(with_u32_indices, u32);
upstream_suite!(with_u16_indices, u16);
