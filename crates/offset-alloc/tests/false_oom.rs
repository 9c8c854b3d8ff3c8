//! No false out-of-memory: a request that fits a free region is served (extension).

use offset_alloc::{Allocator, bin};

#[test]
fn exact_heap_size_513_is_served() {
    let mut allocator: Allocator = Allocator::new(513);
    assert_eq!(allocator.allocate(513).unwrap().offset, 0);
    allocator.validate().unwrap();
}

#[test]
fn large_request_just_under_the_heap_is_served() {
    let mut allocator: Allocator = Allocator::new(699_050);
    assert!(allocator.allocate(664_908).is_some());
    allocator.validate().unwrap();
}

#[test]
fn remainder_of_a_split_serves_a_request_in_its_round_down_bin() {
    let mut allocator: Allocator = Allocator::new(324);
    allocator.allocate(255).unwrap();
    assert_eq!(allocator.allocate(67).unwrap().offset, 255);
    allocator.validate().unwrap();
}

#[test]
fn freed_hole_is_reused_for_the_same_size() {
    let mut allocator: Allocator = Allocator::new(2048);
    let a = allocator.allocate(1023).unwrap();
    allocator.allocate(16).unwrap();
    allocator.free(a);
    assert_eq!(allocator.allocate(1023).unwrap().offset, 0);
    allocator.validate().unwrap();
}

#[test]
fn every_bin_size_fills_a_heap_of_that_size() {
    for b in 0..240 {
        let size = bin::lower_bound(b);
        if size == 0 {
            continue;
        }
        let mut allocator: Allocator = Allocator::new(size);
        assert!(allocator.allocate(size).is_some(), "bin {b}, size {size}");
    }
}

#[test]
fn every_size_fills_a_heap_of_exactly_that_size() {
    for size in (1..5000).chain([u32::MAX, u32::MAX - 1, (15 << 28) + 1, 1 << 31]) {
        let mut allocator: Allocator = Allocator::new(size);
        assert!(allocator.allocate(size).is_some(), "size {size}");
    }
}

#[test]
fn free_then_same_size_always_succeeds_in_churn() {
    // xorshift keeps the stream deterministic.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut allocator: Allocator = Allocator::new(1 << 20);
    let mut live = Vec::new();
    for step in 0..20_000 {
        let size = 1 + (next() % 3000) as u32;
        if next() % 3 != 0 {
            if let Some(a) = allocator.allocate(size) {
                live.push(a);
            }
        } else if !live.is_empty() {
            let i = (next() % live.len() as u64) as usize;
            let victim = live.swap_remove(i);
            let victim_size = allocator.allocation_size(victim);
            allocator.free(victim);
            let again = allocator.allocate(victim_size);
            assert!(
                again.is_some(),
                "step {step}: freed {victim_size} units, could not allocate them again"
            );
            live.push(again.unwrap());
        }
    }
    allocator.validate().unwrap();
}
