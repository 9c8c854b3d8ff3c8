//! Model-based property test: random operation streams checked against a shadow
//! model of live ranges, with `validate()` after every step. One macro instantiates
//! the suite for `u32` and `u16` node indices and for both rounding policies.

use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Op {
    Alloc(u32),
    AllocAligned(u32, u32),
    Free(usize),
    StaleFree(usize),
    Grow(u32),
}

fn op(max_size: u32) -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..=max_size).prop_map(Op::Alloc),
        2 => ((0..=max_size), (1u32..80)).prop_map(|(s, a)| Op::AllocAligned(s, a)),
        4 => any::<usize>().prop_map(Op::Free),
        1 => any::<usize>().prop_map(Op::StaleFree),
        1 => (0u32..2000).prop_map(Op::Grow),
    ]
}

fn stream() -> impl Strategy<Value = (u32, u32, Vec<Op>)> {
    (1u32..20_000, 1u32..400).prop_flat_map(|(size, max_allocs)| {
        (
            Just(size),
            Just(max_allocs),
            proptest::collection::vec(op(size / 4 + 8), 1..600),
        )
    })
}

macro_rules! model_suite {
    ($name:ident, $ni:ty, $rounding:expr) => {
        mod $name {
            use super::*;
            use offset_alloc::{AllocError, Allocation, Allocator, AllocatorOptions};

            struct Live {
                handle: Allocation<$ni>,
                requested: u32,
            }

            fn check_model(allocator: &Allocator<$ni>, live: &[Live]) -> Result<(), TestCaseError> {
                allocator.validate().map_err(|e| TestCaseError::fail(e.to_string()))?;
                let mut ranges = Vec::new();
                let mut charged_total = 0u64;
                for l in live {
                    let charged = allocator.allocation_size(l.handle);
                    prop_assert!(allocator.is_live(l.handle));
                    prop_assert!(charged >= l.requested, "charged {} < requested {}", charged, l.requested);
                    prop_assert!(u64::from(l.handle.offset) + u64::from(charged) <= u64::from(allocator.size()));
                    charged_total += u64::from(charged);
                    if charged > 0 {
                        ranges.push((l.handle.offset, charged));
                    }
                }
                ranges.sort();
                for pair in ranges.windows(2) {
                    prop_assert!(pair[0].0 + pair[0].1 <= pair[1].0, "overlap: {:?}", pair);
                }
                prop_assert_eq!(u64::from(allocator.used_units()), charged_total);
                prop_assert_eq!(allocator.used_units() + allocator.free_units(), allocator.size());
                prop_assert_eq!(allocator.allocation_count() as usize, live.len());
                Ok(())
            }

            proptest! {
                #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
                #[test]
                fn random_streams_keep_every_invariant((size, max_allocs, ops) in stream()) {
                    let options = AllocatorOptions { max_allocs: Some(max_allocs), rounding: $rounding, ..Default::default() };
                    let mut allocator = Allocator::<$ni>::with_options(size, options).unwrap();
                    let mut live: Vec<Live> = Vec::new();
                    let mut dead: Vec<Allocation<$ni>> = Vec::new();
                    for op in ops {
                        match op {
                            Op::Alloc(s) | Op::AllocAligned(s, _) => {
                                let align = if let Op::AllocAligned(_, a) = op { a } else { 1 };
                                let guaranteed = allocator.largest_free_region();
                                match allocator.try_allocate_aligned(s, align) {
                                    Ok(handle) => {
                                        prop_assert_eq!(handle.offset % align, 0);
                                        live.push(Live { handle, requested: s });
                                    }
                                    Err(AllocError::TooManyAllocations { .. }) => {
                                        prop_assert_eq!(live.len() as u32, max_allocs);
                                    }
                                    Err(AllocError::TooLarge { .. }) => prop_assert!(s > allocator.size()),
                                    Err(AllocError::OutOfSpace { largest_free_at_least, largest_free_at_most, total_free, .. }) => {
                                        // A request within the largest bin's lower bound always fits.
                                        prop_assert!(u64::from(s) + u64::from(align - 1) > u64::from(guaranteed));
                                        let exact = allocator.largest_free_region_exact();
                                        prop_assert_eq!(largest_free_at_least, guaranteed);
                                        prop_assert!(largest_free_at_least <= exact && exact <= largest_free_at_most, "{} <= {} <= {}", largest_free_at_least, exact, largest_free_at_most);
                                        prop_assert_eq!(total_free, allocator.free_units());
                                    }
                                    Err(e) => prop_assert!(false, "unexpected {e}"),
                                }
                            }
                            Op::Free(i) if !live.is_empty() => {
                                let l = live.swap_remove(i % live.len());
                                allocator.try_free(l.handle).map_err(|e| TestCaseError::fail(e.to_string()))?;
                                dead.push(l.handle);
                            }
                            Op::StaleFree(i) if !dead.is_empty() => {
                                let before = (allocator.free_units(), allocator.allocation_count());
                                prop_assert!(allocator.try_free(dead[i % dead.len()]).is_err());
                                prop_assert_eq!(before, (allocator.free_units(), allocator.allocation_count()));
                            }
                            Op::Grow(extra) => {
                                let offsets: Vec<u32> = live.iter().map(|l| l.handle.offset).collect();
                                allocator.grow(allocator.size().saturating_add(extra)).unwrap();
                                prop_assert!(live.iter().zip(offsets).all(|(l, o)| l.handle.offset == o && allocator.is_live(l.handle)));
                            }
                            _ => {}
                        }
                        check_model(&allocator, &live)?;
                    }
                    for l in live.drain(..) {
                        allocator.free(l.handle);
                    }
                    check_model(&allocator, &live)?;
                    let size = allocator.size();
                    let regions: Vec<_> = allocator.free_regions().map(|r| (r.offset, r.size)).collect();
                    prop_assert_eq!(regions, vec![(0, size)]);
                }
            }
        }
    };
}

model_suite!(u32_exact, u32, offset_alloc::Rounding::Exact);
model_suite!(u16_exact, u16, offset_alloc::Rounding::Exact);
model_suite!(u32_bin_size, u32, offset_alloc::Rounding::BinSize);
model_suite!(u16_bin_size, u16, offset_alloc::Rounding::BinSize);
