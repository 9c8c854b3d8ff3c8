//! [`State`]: everything behind an arena's lock (the buffer, the allocator, the slots
//! of live allocations, deferred frees), and the one place that allocates, grows and
//! resolves handles.
//!
//! A request first takes the allocator's O(1) path. Only when that misses does the
//! arena pay for more: it retires deferred frees the GPU is done with, then runs the
//! allocator's exhaustive search, and grows the buffer only when no free range can
//! hold the request. Growth creates a larger buffer (inside error scopes, so a device
//! that runs out of memory yields an error and leaves the arena as it was), records
//! a copy of the used prefix of the old buffer into it and submits that copy at once,
//! then grows the allocator in place: every allocation keeps its offset.
//! `write_buffer` calls queued before the growth execute before the copy (wgpu runs
//! pending writes ahead of the next submission), and later writes go to the new
//! buffer and execute after it, so nothing is lost or overwritten.
//!
//! A *deferred* arena (a pool's slab) grows only its address range at allocation
//! time; [`State::realize`] replaces the buffer when it is next needed, recording the
//! copy into the owner's encoder ahead of the owner's own copies, and copies only the
//! bytes ever written through the arena. Many growths between two commits then cost
//! one buffer and one copy, a fresh slab's growth copies nothing, and allocation
//! never submits work.

use offset_alloc::{AllocError, Allocator};

use crate::arena::core::{Core, UNIT};
use crate::error::{ArenaError, Limit};
use crate::handle::{ArenaHandle, ArenaRange};
use crate::slots::{Key, SlotMap};

/// When a placement that no free range holds may grow the arena.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Growth {
    /// Whenever it must.
    Always,
    /// Not while a buffer is mapped for direct writes (`arena::mapped`): growing
    /// then means a GPU copy into a new, larger buffer, where an owner that can
    /// open another buffer (a pool's next slab) writes it in place instead.
    NotWhileMapped,
}

/// One live allocation.
#[derive(Clone, Debug)]
pub(crate) struct Slot {
    /// The allocator's handle.
    pub allocation: offset_alloc::Allocation,
    /// Byte offset in the buffer.
    pub offset: u64,
    /// Reserved bytes (multiple of 4).
    pub size: u64,
    /// Requested bytes.
    pub len: u64,
    /// Alignment the allocation was made with (compaction keeps it).
    pub align: u64,
}

impl Slot {
    /// The slot's byte range.
    pub fn range(&self) -> ArenaRange {
        ArenaRange {
            offset: self.offset,
            size: self.size,
            len: self.len,
        }
    }
}

/// Ranges freed with `free_deferred`, waiting for the GPU.
pub(crate) struct PendingGroup {
    pub allocations: Vec<offset_alloc::Allocation>,
    pub bytes: u64,
    /// Set by `on_submitted_work_done` once the work submitted before the group was
    /// sealed has finished; `None` while the group is still open.
    pub done: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
}

/// Everything behind the arena's lock.
pub(crate) struct State {
    /// The buffer; smaller than `capacity` while a deferred growth waits.
    pub buffer: wgpu::Buffer,
    pub capacity: u64,
    /// Deferred arenas: end of the bytes ever written through the arena (what
    /// realizing a growth must copy).
    pub written_end: u64,
    /// Direct arenas: the whole buffer, mapped since its creation, while the owner
    /// writes into it ([`crate::arena::mapped`]); `None` once unmapped.
    pub mapped: Option<wgpu::BufferViewMut>,
    /// Nothing was ever written into the buffer, by any path: a direct arena may
    /// still replace it by a mapped one.
    pub fresh: bool,
    /// Direct arenas: the bytes the writes into a fresh buffer are expected to cover
    /// (what the arena held before its last clear, or what a batch announced), which
    /// decides whether a large buffer is worth mapping ([`crate::arena::mapped`]).
    pub expected_fill: u64,
    pub allocator: Allocator,
    pub slots: SlotMap<Slot>,
    pub buffer_generation: u32,
    pub growth_count: u32,
    pub growth_bytes_copied: u64,
    /// Deferred frees: sealed groups waiting for the GPU, then the open group.
    pub pending: Vec<PendingGroup>,
}

impl State {
    /// Bytes of deferred frees not yet returned to the allocator.
    pub fn pending_bytes(&self) -> u64 {
        self.pending.iter().map(|g| g.bytes).sum()
    }

    /// End of the last allocation (or pending free): what growth must copy.
    pub fn used_end(&self) -> u64 {
        self.allocator
            .trailing_free_region()
            .map_or(self.capacity, |r| u64::from(r.offset) * UNIT)
    }

    /// The live slot a handle names.
    pub fn resolve(&self, core: &Core, handle: ArenaHandle) -> Result<&Slot, ArenaError> {
        self.slots.get(handle.key, &core.label)
    }

    /// Reserves `size` bytes at `align` (both checked by [`Core::checked_request`]) for
    /// a request of `len` bytes, growing only when no free range can hold them, and
    /// records the slot; returns its key and range. On error nothing has changed.
    pub fn place(
        &mut self,
        core: &Core,
        size: u64,
        align: u64,
        len: u64,
    ) -> Result<(Key, ArenaRange), ArenaError> {
        self.place_with(core, size, align, len, Growth::Always)
    }

    /// [`Self::place`], growing as `growth` allows.
    pub fn place_with(
        &mut self,
        core: &Core,
        size: u64,
        align: u64,
        len: u64,
        growth: Growth,
    ) -> Result<(Key, ArenaRange), ArenaError> {
        let allocation = self.allocate(core, size, align, growth)?;
        let slot = Slot {
            allocation,
            offset: u64::from(allocation.offset) * UNIT,
            size,
            len,
            align,
        };
        let range = slot.range();
        Ok((self.slots.insert(slot), range))
    }

    /// Frees the allocation `handle` names.
    pub fn free(&mut self, core: &Core, handle: ArenaHandle) -> Result<(), ArenaError> {
        let slot = self.slots.remove(handle.key, &core.label)?;
        self.allocator.free(slot.allocation);
        Ok(())
    }

    /// Room for `size` bytes at `align`, growing only when nothing free holds them
    /// (and `growth` allows it).
    fn allocate(
        &mut self,
        core: &Core,
        size: u64,
        align: u64,
        growth: Growth,
    ) -> Result<offset_alloc::Allocation, ArenaError> {
        let (units, align_units) = ((size / UNIT) as u32, (align / UNIT) as u32);
        match self.allocator.try_allocate_aligned(units, align_units) {
            Ok(allocation) => return Ok(allocation),
            Err(AllocError::TooManyAllocations { max_allocs }) => {
                return Err(core.over_limit(
                    u64::from(max_allocs) + 1,
                    Limit::MaxAllocations,
                    u64::from(max_allocs),
                ));
            }
            Err(_) => {}
        }
        // Before paying for growth: ranges whose deferred free the GPU has finished
        // with, then every free range that may fit (the O(1) probe is bounded).
        self.retire_finished();
        if let Ok(allocation) = self
            .allocator
            .try_allocate_aligned_exhaustive(units, align_units)
        {
            return Ok(allocation);
        }
        if growth == Growth::NotWhileMapped && self.mapped.is_some() {
            return Err(self.out_of_space(core, size, align));
        }
        self.grow_for(core, size, align)?;
        // The new tail holds the request by construction.
        self.allocator
            .try_allocate_aligned_exhaustive(units, align_units)
            .map_err(|_| self.out_of_space(core, size, align))
    }

    /// The error for a request no free range holds and growth cannot help.
    pub fn out_of_space(&self, core: &Core, size: u64, align: u64) -> ArenaError {
        ArenaError::OutOfSpace {
            label: core.label.clone(),
            requested: size,
            align,
            available: u64::from(self.allocator.largest_free_region_exact()) * UNIT,
            capacity: self.capacity,
            max_size: core.max_size,
            limit: core.max_size_limit,
            pending_free: self.pending_bytes(),
        }
    }

    /// Grows the buffer so that `size` bytes at alignment `align` fit at its end.
    fn grow_for(&mut self, core: &Core, size: u64, align: u64) -> Result<(), ArenaError> {
        // Growth only extends the last region: the request needs its aligned start
        // (from the free tail, or from the current end) plus its size.
        let needed = self.used_end().next_multiple_of(align).saturating_add(size);
        if needed > core.max_size {
            return Err(self.out_of_space(core, size, align));
        }
        let by_factor = (self.capacity as f64 * core.growth_factor).ceil() as u64;
        let target = needed
            .max(by_factor)
            .next_multiple_of(UNIT)
            .min(core.max_size);
        debug_assert!(target >= needed && target > self.capacity);
        self.grow_to(core, target)
    }

    /// Replaces the buffer by one of `new_capacity` bytes holding the same contents;
    /// on a device error nothing changes.
    ///
    /// A deferred arena only widens its address range here (no buffer, no copy).
    pub fn grow_to(&mut self, core: &Core, new_capacity: u64) -> Result<(), ArenaError> {
        if !core.deferred {
            let new_buffer = core.create_buffer(new_capacity)?;
            let used = self.used_end();
            self.swap_buffer(core, new_buffer, used, None);
        }
        if let Err(e) = self.allocator.grow((new_capacity / UNIT) as u32) {
            unreachable!("capacities only grow, and a u32 allocator has nodes to spare: {e}");
        }
        self.capacity = new_capacity;
        self.growth_count += 1;
        Ok(())
    }

    /// Gives a deferred arena the buffer its capacity calls for, copying the bytes
    /// written so far: the copy is recorded into `encoder` when given (ordered before
    /// what the caller records next), else submitted at once. Returns whether the
    /// buffer was replaced. On a device error nothing changes (the growth still waits).
    pub fn realize(
        &mut self,
        core: &Core,
        encoder: Option<&mut wgpu::CommandEncoder>,
    ) -> Result<bool, ArenaError> {
        // Every path that hands the buffer to the GPU comes through here: a buffer
        // still mapped for direct writes is unmapped first (its data lands now).
        self.unmap();
        match self.prepare_realize(core)? {
            Some(buffer) => {
                self.finish_realize(core, buffer, encoder);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// The fallible half of [`Self::realize`]: the new buffer, if one is due.
    pub fn prepare_realize(&self, core: &Core) -> Result<Option<wgpu::Buffer>, ArenaError> {
        if self.buffer.size() >= self.capacity {
            return Ok(None);
        }
        core.create_buffer(self.capacity).map(Some)
    }

    /// The infallible half of [`Self::realize`]: copies what was written into `buffer`
    /// and swaps it in.
    pub fn finish_realize(
        &mut self,
        core: &Core,
        buffer: wgpu::Buffer,
        encoder: Option<&mut wgpu::CommandEncoder>,
    ) {
        let written = self.written_end.min(self.used_end());
        self.swap_buffer(core, buffer, written, encoder);
    }

    /// [`Self::realize`] with a submission of its own, returning the buffer.
    pub fn buffer_now(&mut self, core: &Core) -> Result<&wgpu::Buffer, ArenaError> {
        self.realize(core, None)?;
        Ok(&self.buffer)
    }

    /// Notes that bytes up to `end` are written (what a deferred growth must copy).
    pub fn mark_written(&mut self, end: u64) {
        self.written_end = self.written_end.max(end);
        self.fresh = false;
    }

    /// Swaps in `new_buffer`, holding the first `copy` bytes of the old one.
    fn swap_buffer(
        &mut self,
        core: &Core,
        new_buffer: wgpu::Buffer,
        copy: u64,
        encoder: Option<&mut wgpu::CommandEncoder>,
    ) {
        self.unmap();
        if copy > 0 {
            match encoder {
                Some(encoder) => {
                    encoder.copy_buffer_to_buffer(&self.buffer, 0, &new_buffer, 0, copy);
                }
                None => {
                    let mut encoder =
                        core.device
                            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                                label: Some("gpu-arena growth copy"),
                            });
                    encoder.copy_buffer_to_buffer(&self.buffer, 0, &new_buffer, 0, copy);
                    core.queue.submit([encoder.finish()]);
                }
            }
        }
        log::debug!(
            "{}: buffer grew from {} to {} bytes (copied {copy})",
            core.label,
            self.buffer.size(),
            new_buffer.size(),
        );
        self.buffer = new_buffer;
        self.buffer_generation = self.buffer_generation.wrapping_add(1);
        self.growth_bytes_copied += copy;
    }

    /// Checks a write of `len` bytes at `offset` into `handle`'s allocation against the
    /// rules of [`crate::Arena::write`]; returns its byte offset in the buffer and its
    /// length padded to 4.
    pub fn check_write(
        &self,
        core: &Core,
        handle: ArenaHandle,
        offset: u64,
        len: u64,
    ) -> Result<(u64, u64), ArenaError> {
        if len == 0 {
            return Err(ArenaError::ZeroSize);
        }
        if !offset.is_multiple_of(UNIT) {
            return Err(core.misaligned(offset, UNIT, "write offset"));
        }
        let slot = self.resolve(core, handle)?;
        let Some(end) = offset.checked_add(len).filter(|end| *end <= slot.len) else {
            return Err(ArenaError::OutOfBounds {
                label: core.label.clone(),
                handle: handle.id(),
                offset,
                len,
                size: slot.len,
            });
        };
        if !len.is_multiple_of(UNIT) && end != slot.len {
            return Err(core.misaligned(len, UNIT, "write length (not ending the allocation)"));
        }
        Ok((slot.offset + offset, len.next_multiple_of(UNIT)))
    }

    /// Writes `data` at buffer offset `at`, padding with zeros to `padded` bytes (the
    /// padding lies in the allocation's own reserved tail).
    pub fn write_at(
        &mut self,
        core: &Core,
        at: u64,
        padded: u64,
        data: &[u8],
    ) -> Result<(), ArenaError> {
        self.realize(core, None)?;
        self.mark_written(at + padded);
        let buffer = &self.buffer;
        if padded == data.len() as u64 {
            core.queue.write_buffer(buffer, at, data);
            return Ok(());
        }
        let size = std::num::NonZeroU64::new(padded).unwrap_or(std::num::NonZeroU64::MIN);
        let Some(mut view) = core.queue.write_buffer_with(buffer, at, size) else {
            return Err(ArenaError::Device {
                label: core.label.clone(),
                requested: padded,
                reason: "queue.write_buffer_with refused the write".into(),
            });
        };
        view.slice(..data.len()).copy_from_slice(data);
        view.slice(data.len()..).fill(0);
        Ok(())
    }
}
