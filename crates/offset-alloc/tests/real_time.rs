//! Hard real-time: with node storage allocated up front (`NodeStorage::Preallocated`
//! or `reserve`), `allocate`, `free`, `grow` and `reset` never call the global
//! allocator; with the default lazy storage, `allocate` does while node storage grows.
//!
//! A counting global allocator observes every allocation in the process, so this
//! target has no test harness (no other threads) and runs its checks in turn.

use std::alloc::System;

use cap::Cap;
use offset_alloc::{Allocation, Allocator, AllocatorOptions, NodeStorage};

#[global_allocator]
static HEAP: Cap<System> = Cap::new(System, usize::MAX);

const FILLS: usize = 100_000;

/// Bytes the global allocator handed out while `work` ran.
fn allocated_during(work: impl FnOnce()) -> usize {
    let before = HEAP.total_allocated();
    work();
    HEAP.total_allocated() - before
}

/// 100,000 fills, then churn with every kind of request, into a handle list
/// allocated beforehand.
fn workload(allocator: &mut Allocator, live: &mut Vec<Allocation>) {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..FILLS {
        live.push(allocator.allocate(1 + (next() % 500) as u32).unwrap());
    }
    for step in 0..200_000 {
        if next() % 2 == 0 && !live.is_empty() {
            let victim = live.swap_remove((next() % live.len() as u64) as usize);
            allocator.free(victim);
        } else if live.len() < FILLS {
            let size = (next() % 700) as u32; // zero sizes included
            let request = match step % 3 {
                0 => allocator.try_allocate(size),
                1 => allocator.try_allocate_aligned(size, 1 + (next() % 64) as u32),
                _ => allocator.try_allocate_exhaustive(size),
            };
            live.push(request.expect("the heap is large enough"));
        }
    }
    let size = allocator.size();
    allocator.grow(size + 1_000).unwrap();
    allocator.reset();
    live.clear();
    live.push(allocator.allocate(10).unwrap());
}

fn options(node_storage: NodeStorage) -> AllocatorOptions {
    AllocatorOptions {
        max_allocs: Some(FILLS as u32),
        node_storage,
        ..Default::default()
    }
}

fn preallocated_storage_never_calls_the_global_allocator() {
    let mut allocator: Allocator =
        Allocator::with_options(1 << 30, options(NodeStorage::Preallocated)).unwrap();
    let mut live = Vec::with_capacity(FILLS + 1);
    let bytes = allocated_during(|| workload(&mut allocator, &mut live));
    assert_eq!(bytes, 0, "allocate/free/grow/reset allocated {bytes} bytes");
    allocator.validate().unwrap();
}

fn reserve_makes_the_lazy_default_allocation_free_too() {
    let mut allocator: Allocator =
        Allocator::with_options(1 << 30, options(NodeStorage::Lazy)).unwrap();
    allocator.reserve(FILLS as u32).unwrap();
    let mut live = Vec::with_capacity(FILLS + 1);
    let bytes = allocated_during(|| workload(&mut allocator, &mut live));
    assert_eq!(bytes, 0, "allocated {bytes} bytes after reserve");
}

fn lazy_storage_grows_inside_allocate() {
    let mut allocator: Allocator =
        Allocator::with_options(1 << 30, options(NodeStorage::Lazy)).unwrap();
    let mut live = Vec::with_capacity(FILLS + 1);
    let bytes = allocated_during(|| workload(&mut allocator, &mut live));
    assert!(
        bytes > FILLS * Allocator::<u32>::NODE_BYTES,
        "lazy node storage grew by only {bytes} bytes"
    );
}

fn main() {
    for (name, check) in [
        (
            "preallocated_storage_never_calls_the_global_allocator",
            preallocated_storage_never_calls_the_global_allocator as fn(),
        ),
        (
            "reserve_makes_the_lazy_default_allocation_free_too",
            reserve_makes_the_lazy_default_allocation_free_too,
        ),
        (
            "lazy_storage_grows_inside_allocate",
            lazy_storage_grows_inside_allocate,
        ),
    ] {
        check();
        println!("test {name} ... ok");
    }
}
