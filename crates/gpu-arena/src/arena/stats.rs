//! [`ArenaStats`], the printable report, and the leak report on drop.

use std::fmt;

use crate::arena::Arena;
use crate::arena::core::UNIT;

/// Where an arena stands. `Display` prints a one-line report.
///
/// ```
/// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
/// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
/// arena.alloc(100).unwrap();
/// let stats = arena.stats();
/// assert_eq!((stats.used, stats.live_allocations), (100, 1));
/// println!("{stats}");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArenaStats {
    /// Buffer size in bytes.
    pub capacity: u64,
    /// Bytes reserved by live allocations and by deferred frees still pending.
    pub used: u64,
    /// Bytes free (possibly in several ranges).
    pub free: u64,
    /// The largest free range in bytes.
    pub largest_free_region: u64,
    /// Live allocations.
    pub live_allocations: u32,
    /// Bytes freed with `free_deferred` that the GPU may still read (not reusable yet).
    pub pending_free: u64,
    /// Times the buffer grew.
    pub growth_count: u32,
    /// Bytes growth has copied from old buffers to new ones, in total: only the used
    /// prefix of each old buffer (up to the end of its last allocation) is copied.
    pub growth_bytes_copied: u64,
    /// Bumped on every buffer replacement.
    pub buffer_generation: u32,
}

impl ArenaStats {
    /// Largest free range / total free: 1.0 means no fragmentation (or nothing free).
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// assert_eq!(arena.stats().contiguity(), 1.0);
    /// ```
    pub fn contiguity(&self) -> f64 {
        if self.free == 0 {
            1.0
        } else {
            self.largest_free_region as f64 / self.free as f64
        }
    }
}

impl fmt::Display for ArenaStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} live, {} / {} bytes used ({:.1}%), largest free {} bytes, grew {} times (buffer generation {})",
            self.live_allocations,
            self.used,
            self.capacity,
            100.0 * self.used as f64 / self.capacity.max(1) as f64,
            self.largest_free_region,
            self.growth_count,
            self.buffer_generation
        )
    }
}

impl Arena {
    /// Capacity, use, fragmentation and growth counters.
    ///
    /// Time: O(regions in the highest bin).
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// assert_eq!(arena.stats().capacity, 1 << 20);
    /// ```
    pub fn stats(&self) -> ArenaStats {
        let state = self.state.lock();
        ArenaStats {
            capacity: state.capacity,
            used: u64::from(state.allocator.used_units()) * UNIT,
            free: u64::from(state.allocator.free_units()) * UNIT,
            largest_free_region: u64::from(state.allocator.largest_free_region_exact()) * UNIT,
            live_allocations: state.allocator.allocation_count()
                - state
                    .pending
                    .iter()
                    .map(|g| g.allocations.len() as u32)
                    .sum::<u32>(),
            pending_free: state.pending.iter().map(|g| g.bytes).sum(),
            growth_count: state.growth_count,
            growth_bytes_copied: state.growth_bytes_copied,
            buffer_generation: state.buffer_generation,
        }
    }
}

impl fmt::Debug for Arena {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Arena")
            .field("label", &self.core.label)
            .field("usage", &self.core.usage)
            .field("stats", &self.stats())
            .finish()
    }
}

impl Drop for Arena {
    fn drop(&mut self) {
        let state = self.state.get_mut();
        let pending: u32 = state
            .pending
            .iter()
            .map(|g| g.allocations.len() as u32)
            .sum();
        let live = state.allocator.allocation_count() - pending;
        if live > 0 {
            let first: Vec<String> = state
                .slots
                .iter()
                .take(8)
                .map(|(_, s)| format!("{}..{}", s.offset, s.offset + s.size))
                .collect();
            log::warn!(
                "{}: dropped with {live} live allocations ({} bytes), e.g. {}",
                self.core.label,
                state.slots.iter().map(|(_, s)| s.size).sum::<u64>(),
                first.join(", ")
            );
        }
    }
}
