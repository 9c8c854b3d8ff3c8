//! Drives an allocator with an arbitrary operation stream (allocate, aligned
//! allocate, exhaustive allocate, free, stale free, grow, reset, relayout) against a
//! shadow model of live ranges, calling `validate()` after every step. `max_allocs`
//! ranges up to the index type's accepted limit, past what it can always serve, so
//! node-space exhaustion is exercised too.
//!
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run ops -- -max_total_time=300`
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use offset_alloc::{AllocError, Allocation, Allocator, AllocatorOptions, NodeStorage, Rounding};

#[derive(Arbitrary, Debug)]
enum Op {
    Alloc(u16),
    AllocLarge(u32),
    AllocAligned(u16, u16),
    /// The exhaustive search: refused only when no free region fits.
    AllocExhaustive(u16, u16),
    Free(u16),
    StaleFree(u16),
    Grow(u16),
    Reset,
    /// Rebuild with `with_layout` from the live allocations (what compaction does).
    Relayout,
}

#[derive(Arbitrary, Debug)]
struct Input {
    size: u32,
    max_allocs: u16,
    bin_size_rounding: bool,
    small_index: bool,
    preallocate: bool,
    ops: Vec<Op>,
}

fn run<NI: offset_alloc::NodeIndex>(input: &Input) {
    let options = AllocatorOptions {
        max_allocs: Some(u32::from(input.max_allocs).clamp(1, Allocator::<NI>::MAX_ALLOCS_LIMIT)),
        rounding: if input.bin_size_rounding { Rounding::BinSize } else { Rounding::Exact },
        // Preallocating 2^16 nodes per input is slow; only for small limits.
        node_storage: if input.preallocate && input.max_allocs < 4096 {
            NodeStorage::Preallocated
        } else {
            NodeStorage::Lazy
        },
    };
    let mut allocator = Allocator::<NI>::with_options(input.size, options).unwrap();
    let mut live: Vec<(Allocation<NI>, u32)> = Vec::new();
    let mut dead: Vec<Allocation<NI>> = Vec::new();
    for op in &input.ops {
        match *op {
            Op::Alloc(s) => {
                if let Some(a) = allocator.allocate(u32::from(s)) {
                    live.push((a, u32::from(s)));
                }
            }
            Op::AllocLarge(s) => {
                if let Some(a) = allocator.allocate(s) {
                    live.push((a, s));
                }
            }
            Op::AllocAligned(s, align) => {
                let align = u32::from(align).max(1);
                if let Some(a) = allocator.allocate_aligned(u32::from(s), align) {
                    assert_eq!(a.offset % align, 0);
                    live.push((a, u32::from(s)));
                }
            }
            Op::AllocExhaustive(s, align) => {
                let (s, align) = (u32::from(s), u32::from(align).max(1));
                let fits = allocator.free_regions().any(|r| {
                    let pad = (align - r.offset % align) % align;
                    u64::from(r.size) >= u64::from(s) + u64::from(pad)
                });
                match allocator.try_allocate_aligned_exhaustive(s, align) {
                    Ok(a) => {
                        assert_eq!(a.offset % align, 0);
                        live.push((a, s));
                    }
                    Err(AllocError::OutOfSpace { .. }) => assert!(!fits || s == 0, "refused {s} at {align} although a region fits"),
                    Err(AllocError::TooLarge { .. }) => assert!(s > allocator.size()),
                    Err(AllocError::TooManyAllocations { .. } | AllocError::NodeSpaceExhausted { .. }) => {}
                    Err(e) => panic!("unexpected {e}"),
                }
            }
            Op::Free(i) if !live.is_empty() => {
                let (a, _) = live.swap_remove(usize::from(i) % live.len());
                allocator.try_free(a).expect("live handle refused");
                dead.push(a);
            }
            Op::StaleFree(i) if !dead.is_empty() => {
                let before = allocator.free_units();
                assert!(allocator.try_free(dead[usize::from(i) % dead.len()]).is_err());
                assert_eq!(before, allocator.free_units());
            }
            Op::Grow(extra) => {
                // Refused only for want of a node, past the guarantee.
                let _ = allocator.grow(allocator.size().saturating_add(u32::from(extra)));
            }
            Op::Reset => {
                allocator.reset();
                dead.extend(live.drain(..).map(|(a, _)| a));
            }
            Op::Relayout => {
                // Zero-size allocations have no range and are not part of a layout.
                live.retain(|(a, _)| {
                    let keep = allocator.allocation_size(*a) > 0;
                    if !keep {
                        allocator.free(*a);
                    }
                    keep
                });
                live.sort_by_key(|(a, _)| a.offset);
                let ranges: Vec<(u32, u32)> = live.iter().map(|(a, _)| (a.offset, allocator.allocation_size(*a))).collect();
                let (rebuilt, handles) = Allocator::<NI>::with_layout(allocator.size(), options, &ranges).expect("a live layout is valid");
                assert_eq!(rebuilt.free_regions().collect::<Vec<_>>(), allocator.free_regions().collect::<Vec<_>>());
                dead.extend(live.iter().map(|(a, _)| *a));
                for ((a, _), h) in live.iter_mut().zip(handles) {
                    *a = h;
                }
                allocator = rebuilt;
            }
            _ => {}
        }
        allocator.validate().unwrap();
        let mut ranges: Vec<(u32, u32)> = Vec::with_capacity(live.len());
        let mut charged = 0u64;
        for &(a, requested) in &live {
            let size = allocator.allocation_size(a);
            assert!(size >= requested);
            charged += u64::from(size);
            if size > 0 {
                ranges.push((a.offset, size));
            }
        }
        assert_eq!(charged, u64::from(allocator.used_units()));
        ranges.sort_unstable();
        for w in ranges.windows(2) {
            assert!(u64::from(w[0].0) + u64::from(w[0].1) <= u64::from(w[1].0), "overlap {w:?}");
        }
    }
    for (a, _) in live {
        allocator.free(a);
    }
    allocator.validate().unwrap();
    assert_eq!(allocator.free_regions().count(), usize::from(allocator.size() > 0));
}

fuzz_target!(|input: Input| {
    if input.small_index {
        run::<u16>(&input);
    } else {
        run::<u32>(&input);
    }
});
