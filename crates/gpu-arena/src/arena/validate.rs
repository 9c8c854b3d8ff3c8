//! [`Arena::validate`]: an invariant walker over the arena's bookkeeping, for property
//! tests and fuzzing, so that a broken invariant is reported at the step that broke
//! it, with the allocation and numbers involved.

use offset_alloc::InvariantError;

use crate::arena::Arena;
use crate::arena::core::UNIT;

macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(InvariantError { message: format!($($msg)+) });
        }
    };
}

impl Arena {
    /// Checks every invariant: the allocator's own ([`offset_alloc::Allocator::validate`])
    /// and that it spans the capacity; every live allocation sits where its allocator
    /// range says, aligned, within its range and the capacity, and overlaps no other;
    /// the allocator holds exactly the live allocations and the deferred frees; the
    /// buffer is as large as the capacity (or smaller while a deferred growth waits).
    ///
    /// Time: O(allocations · log allocations).
    ///
    /// # Errors
    /// [`InvariantError`] naming the first broken invariant.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let h = arena.alloc_slice(&[1u32; 5]).unwrap();
    /// arena.validate().unwrap();
    /// arena.free(h).unwrap();
    /// arena.validate().unwrap();
    /// ```
    pub fn validate(&self) -> Result<(), InvariantError> {
        let state = self.state.lock();
        let label = &self.core.label;
        state.allocator.validate()?;
        let units = u64::from(state.allocator.size());
        ensure!(
            units * UNIT == state.capacity,
            "{label}: the allocator spans {} bytes, the capacity is {}",
            units * UNIT,
            state.capacity
        );
        ensure!(
            state.buffer.size() <= state.capacity,
            "{label}: the buffer ({} bytes) exceeds the capacity ({})",
            state.buffer.size(),
            state.capacity
        );
        if let Some(view) = &state.mapped {
            ensure!(
                self.core.direct && view.len() as u64 == state.buffer.size() && !state.fresh,
                "{label}: a mapped view of {} bytes over a buffer of {} (direct arena: {}, fresh: {})",
                view.len(),
                state.buffer.size(),
                self.core.direct,
                state.fresh
            );
        }
        let mut ranges = Vec::with_capacity(state.slots.len());
        let mut charged = 0u64;
        for (key, slot) in state.slots.iter() {
            let id = key.id(crate::error::HandleKind::Arena);
            ensure!(
                state.allocator.is_live(slot.allocation),
                "{label}: {id:?} holds an allocation the allocator does not"
            );
            let size = u64::from(state.allocator.allocation_size(slot.allocation)) * UNIT;
            charged += size;
            ensure!(
                u64::from(slot.allocation.offset) * UNIT == slot.offset,
                "{label}: {id:?} at {} but its range starts at {}",
                slot.offset,
                u64::from(slot.allocation.offset) * UNIT
            );
            ensure!(
                slot.size <= size && slot.len <= slot.size && slot.size % UNIT == 0,
                "{label}: {id:?} reserves {} bytes for {} requested in a range of {size}",
                slot.size,
                slot.len
            );
            ensure!(
                slot.align > 0 && slot.offset % slot.align == 0,
                "{label}: {id:?} at {} is not aligned to {}",
                slot.offset,
                slot.align
            );
            ensure!(
                slot.offset + slot.size <= state.capacity,
                "{label}: {id:?} ends at {} past the capacity {}",
                slot.offset + slot.size,
                state.capacity
            );
            ranges.push((slot.offset, slot.offset + slot.size));
        }
        ranges.sort_unstable();
        for pair in ranges.windows(2) {
            ensure!(
                pair[0].1 <= pair[1].0,
                "{label}: allocations {:?} and {:?} overlap",
                pair[0],
                pair[1]
            );
        }
        let mut pending_count = 0u64;
        for group in &state.pending {
            for &allocation in &group.allocations {
                ensure!(
                    state.allocator.is_live(allocation),
                    "{label}: a deferred free at {} is no longer held",
                    u64::from(allocation.offset) * UNIT
                );
                charged += u64::from(state.allocator.allocation_size(allocation)) * UNIT;
                pending_count += 1;
            }
        }
        let held = u64::from(state.allocator.allocation_count());
        let expected = state.slots.len() as u64 + pending_count;
        ensure!(
            held == expected,
            "{label}: the allocator holds {held} allocations; {} live and {pending_count} deferred",
            state.slots.len()
        );
        let used = u64::from(state.allocator.used_units()) * UNIT;
        ensure!(
            used == charged,
            "{label}: the allocator charges {used} bytes; the allocations hold {charged}"
        );
        Ok(())
    }
}
