//! Deferred frees: ranges retire only once the GPU is done with the work that may
//! still read them.
//!
//! `queue.write_buffer` data lands before the next submitted command buffer. So if a
//! range is freed and immediately re-used while a command buffer that reads it is
//! recorded but not yet submitted, that command buffer sees the new data. A range freed
//! with [`Arena::free_deferred`] instead joins an open group; [`Arena::maintain`]
//! (call it once per frame, after submitting) seals the open group with
//! `queue.on_submitted_work_done`, and returns sealed groups whose work has finished
//! to the allocator. Work recorded before the free and submitted before that
//! `maintain` call therefore always reads the old data.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::arena::Arena;
use crate::arena::state::{PendingGroup, Slot, State};
use crate::error::ArenaError;
use crate::handle::ArenaHandle;

impl Arena {
    /// Frees an allocation once the GPU has finished the work that may still use it:
    /// the handle is stale at once, but the range is reused only after a later
    /// [`Self::maintain`] finds that work complete.
    ///
    /// # Errors
    /// [`ArenaError::StaleHandle`] or [`ArenaError::ForeignHandle`].
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let h = arena.alloc(256).unwrap();
    /// arena.free_deferred(h).unwrap();
    /// assert_eq!(arena.stats().pending_free, 256);
    /// arena.maintain();                  // seals the free with the work submitted so far
    /// gpu.device.poll(wgpu::PollType::wait_indefinitely()).unwrap();
    /// arena.maintain();                  // that work is done: the range is reusable
    /// assert_eq!(arena.stats().pending_free, 0);
    /// ```
    pub fn free_deferred(&self, handle: impl Into<ArenaHandle>) -> Result<(), ArenaError> {
        let mut state = self.state.lock();
        let Slot {
            allocation, size, ..
        } = state.slots.remove(handle.into().key, &self.core.label)?;
        match state.pending.last_mut() {
            Some(group) if group.done.is_none() => {
                group.allocations.push(allocation);
                group.bytes += size;
            }
            _ => state.pending.push(PendingGroup {
                allocations: vec![allocation],
                bytes: size,
                done: None,
            }),
        }
        Ok(())
    }

    /// Per-frame upkeep for deferred frees: seals the frees made since the last call
    /// (they retire when the work submitted so far completes) and returns every group
    /// whose work has completed to the allocator; also maintains the arena's staging
    /// when it is the arena's own ([`crate::Staging::maintain`]; a shared staging is
    /// maintained by its owner). Does not block. Returns the number of allocations
    /// retired.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// assert_eq!(arena.maintain(), 0); // nothing pending
    /// ```
    pub fn maintain(&self) -> usize {
        {
            let mut state = self.state.lock();
            if let Some(group) = state.pending.last_mut().filter(|g| g.done.is_none()) {
                let done = Arc::new(AtomicBool::new(false));
                let flag = done.clone();
                group.done = Some(done);
                self.core
                    .queue
                    .on_submitted_work_done(move || flag.store(true, Ordering::Release));
            }
        }
        // Let wgpu run completed callbacks; the arena's own staging does its frame too.
        if self.owns_staging {
            self.staging.maintain();
        } else {
            let _ = self.core.device.poll(wgpu::PollType::Poll);
        }
        self.state.lock().retire_finished()
    }
}

impl State {
    /// Returns sealed groups whose GPU work has finished to the allocator.
    pub(crate) fn retire_finished(&mut self) -> usize {
        let mut retired = 0;
        let mut index = 0;
        while index < self.pending.len() {
            let finished = self.pending[index]
                .done
                .as_ref()
                .is_some_and(|d| d.load(Ordering::Acquire));
            if finished {
                let group = self.pending.remove(index);
                for allocation in group.allocations {
                    self.allocator.free(allocation);
                    retired += 1;
                }
            } else {
                index += 1;
            }
        }
        retired
    }
}
