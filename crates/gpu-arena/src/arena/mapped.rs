//! Direct writes: a pool's slab arena on a device with
//! `Features::MAPPABLE_PRIMARY_BUFFERS` (software and unified-memory adapters) may
//! take its data straight into its buffer, with no staging copy and no GPU copy.
//!
//! Only a *fresh* buffer qualifies, one that nothing was ever written into: the
//! first placement made for writing (an insert's, [`State::map_for_writes`])
//! replaces it by a buffer of the arena's whole capacity created mapped
//! (`MAP_WRITE` added to its usage), and writes that fall inside that buffer go
//! into the mapping through [`DirectWrites`], which holds the arena's lock for a
//! run of them (a batch places up to 128 meshes, then writes them in one stream).
//! A buffer mapped at creation cannot be in use by the GPU, so nothing waits and
//! nothing can race. Every path that gives the buffer to the GPU goes through
//! [`State::realize`], which unmaps it first: from then on the data is in the
//! buffer, and later writes take the staged path. Ranges past the mapped buffer
//! (the arena grew meanwhile) are staged too, and land after the growth copy; an
//! owner that can open another buffer instead (a mesh pool's next slab) places with
//! `Growth::NotWhileMapped`, which refuses that growth.
//! An arena that was written never maps that buffer again: mapping an existing
//! buffer means waiting for the GPU, and a caller may still hold it in a bind group,
//! which a mapped buffer would turn into a validation error. Writes after removals
//! are staged into it. Clearing the arena (a pool's `clear`) makes it fresh again:
//! the next placement for writing first swaps the old buffer for a placeholder, so
//! that its memory, once the GPU is done with it, can hold the new mapped buffer
//! (warm pages, not a page fault per 4 KiB), then maps a new buffer as above.
//! Whoever still holds the old buffer keeps a valid buffer with its old bytes.
//!
//! wgpu zeroes a buffer mapped at creation on the CPU, all of it. So a fresh buffer
//! larger than [`MAP_ANY_SIZE_UP_TO`] is mapped only when the writes expected cover
//! at least half of it: the first placement itself, a batch announced with
//! [`Arena::expect_writes`], or, after a clear, what the arena held before it (a
//! refill is expected to be like the fill it replaces). Otherwise the buffer stays
//! and the writes are staged.

use parking_lot::MutexGuard;

use crate::arena::Arena;
use crate::arena::core::{Core, UNIT, try_create_buffer, try_create_buffer_mapped};
use crate::arena::state::State;
use crate::handle::{ArenaHandle, ArenaRange};

/// Fresh buffers up to this size are always mapped for direct writes (zeroing them
/// costs a few milliseconds at most); larger ones only when the writes expected
/// (a batch's, or the fill before a clear) cover at least half.
pub(crate) const MAP_ANY_SIZE_UP_TO: u64 = 16 << 20;

impl State {
    /// Direct arenas: before the first write into a fresh buffer (of `first` bytes,
    /// just placed), replaces the buffer by one of the arena's capacity mapped at
    /// creation, when that is worth it ([`Self::worth_mapping`]); the buffer
    /// generation then moves. Does nothing once the buffer is mapped or was written.
    pub(crate) fn map_for_writes(&mut self, core: &Core, first: u64) {
        if core.direct && self.mapped.is_none() && self.fresh {
            if self.worth_mapping(first) {
                self.map_fresh(core);
            } else {
                self.fresh = false;
            }
        }
    }

    /// The mapped bytes `offset..offset + len` of an allocation reserving `reserved`
    /// bytes, when the range lies in the mapped buffer (zeroing the padding past
    /// `len`). `None`: stage the write instead.
    fn direct_view(
        &mut self,
        offset: u64,
        len: u64,
        reserved: u64,
    ) -> Option<wgpu::WriteOnly<'_, [u8]>> {
        if offset + reserved > self.buffer.size() {
            return None;
        }
        let view = self.mapped.as_mut()?;
        self.written_end = self.written_end.max(offset + reserved);
        let (start, end) = (offset as usize, (offset + len) as usize);
        if reserved > len {
            // The allocation's padding: the buffer is zeroed already, but a hole
            // reused after a removal may hold an earlier mesh's bytes.
            view.slice(end..(offset + reserved) as usize).fill(0);
        }
        Some(view.slice(start..end))
    }

    /// Whether to map a fresh buffer for a first write of `first` bytes: wgpu zeroes
    /// a buffer mapped at creation on the CPU, so a large one is mapped only when the
    /// writes expected cover at least half of it.
    fn worth_mapping(&self, first: u64) -> bool {
        self.capacity <= MAP_ANY_SIZE_UP_TO
            || self.expected_fill.max(first).saturating_mul(2) >= self.capacity
    }

    /// Replaces the fresh buffer by one of the arena's capacity, mapped at creation.
    /// A device that refuses it leaves the arena without a mapping (writes are
    /// staged). Each buffer swapped in moves the buffer generation.
    fn map_fresh(&mut self, core: &Core) {
        self.fresh = false;
        if self.buffer.size() > UNIT {
            // A real buffer (a cleared arena's, or one realized for a GPU use before
            // any write) goes first: once the GPU is done with it (and no bind group
            // of the caller's holds it), its memory is free for the new one, whose
            // pages are then warm rather than faulted in anew.
            match try_create_buffer(&core.device, &core.label, UNIT, core.usage) {
                Ok(placeholder) => self.buffer = placeholder,
                Err(reason) => {
                    log::warn!("{}: no placeholder, staging instead: {reason}", core.label);
                    return;
                }
            }
            self.buffer_generation = self.buffer_generation.wrapping_add(1);
        }
        let usage = core.usage | wgpu::BufferUsages::MAP_WRITE;
        let buffer = match create_mapped(core, self.capacity, usage) {
            Ok(buffer) => buffer,
            Err(reason) => {
                log::warn!(
                    "{}: no mapped buffer, staging instead: {reason}",
                    core.label
                );
                return;
            }
        };
        let Ok(view) = buffer.slice(..).get_mapped_range_mut() else {
            return;
        };
        self.buffer = buffer;
        self.buffer_generation = self.buffer_generation.wrapping_add(1);
        self.mapped = Some(view);
    }

    /// Ends direct writes: the mapped buffer's data lands (no-op when none is mapped).
    pub fn unmap(&mut self) {
        if self.mapped.take().is_some() {
            self.buffer.unmap();
        }
    }
}

/// The buffer of a fresh arena, created mapped; a device may refuse it.
fn create_mapped(
    core: &Core,
    size: u64,
    usage: wgpu::BufferUsages,
) -> Result<wgpu::Buffer, String> {
    #[cfg(test)]
    if REFUSE_MAPPED.with(std::cell::Cell::get) {
        return Err("refused by the test".into());
    }
    try_create_buffer_mapped(&core.device, &core.label, size, usage)
}

/// An arena's lock, held while an owner writes a run of allocations placed earlier
/// (one lock for a whole batch, not one per write).
pub(crate) struct DirectWrites<'a> {
    core: &'a Core,
    state: MutexGuard<'a, State>,
}

impl DirectWrites<'_> {
    /// The mapped bytes of the allocation `handle` at `range` (its requested
    /// `range.len`), when the write can go there directly; `None`: stage it.
    /// `range` is the one its placement returned: the caller (a pool, under its own
    /// lock since the placement) vouches that `handle` is live, which debug builds
    /// check.
    pub fn bytes(
        &mut self,
        handle: ArenaHandle,
        range: ArenaRange,
    ) -> Option<wgpu::WriteOnly<'_, [u8]>> {
        debug_assert_eq!(
            self.state
                .resolve(self.core, handle)
                .map(|slot| slot.range()),
            Ok(range)
        );
        self.state.direct_view(range.offset, range.len, range.size)
    }
}

impl Arena {
    /// Takes the lock for direct writes into allocations placed with
    /// [`Arena::place_elements_with`]'s `map_for_writes`.
    pub(crate) fn direct_writes(&self) -> DirectWrites<'_> {
        DirectWrites {
            core: &self.core,
            state: self.state.lock(),
        }
    }

    /// Ends direct writes into this arena (see [`State::unmap`]).
    pub(crate) fn unmap(&self) {
        self.state.lock().unmap();
    }
}

#[cfg(test)]
thread_local! {
    /// Tests: makes this thread's mapped-buffer creations fail, as a device that
    /// refuses them would.
    static REFUSE_MAPPED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

// The test waits for readbacks, which only native code may do.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::REFUSE_MAPPED;
    use crate::headless::Headless;
    use crate::mesh_pool::{MeshPool, MeshPoolDescriptor};

    fn mesh(seed: u32) -> (Vec<[u32; 4]>, Vec<u32>) {
        let vertices = (0..40).map(|k| [seed, k, k * 2, k * 3]).collect();
        let indices = (0..60).map(|k| k % 40).collect();
        (vertices, indices)
    }

    #[test]
    fn a_refused_mapped_buffer_falls_back_to_staging_new_and_cleared() {
        let gpu = Headless::shared().expect("a GPU adapter (install mesa-vulkan-drivers)");
        let direct = gpu
            .device
            .features()
            .contains(wgpu::Features::MAPPABLE_PRIMARY_BUFFERS);
        if gpu.info.backend == wgpu::Backend::Vulkan
            && gpu.info.device_type == wgpu::DeviceType::Cpu
        {
            assert!(
                direct,
                "lavapipe writes in place, so the fallback is exercised"
            );
        }
        let pool =
            MeshPool::<[u32; 4], u32>::new(&gpu.device, &gpu.queue, &MeshPoolDescriptor::default())
                .unwrap();
        REFUSE_MAPPED.with(|r| r.set(true));
        // A new pool: its placeholder stays, the insert is staged, the commit creates
        // the buffer.
        let (v, i) = mesh(1);
        let first = pool.insert(&v, &i).unwrap();
        pool.validate().unwrap();
        let report = pool.commit_now().unwrap();
        assert_eq!((report.in_place_bytes, report.copies), (0, 2), "{report:?}");
        assert_eq!(pool.read_mesh(first).unwrap(), (v, i));
        // A cleared pool: the old buffer is let go of first, then the mapped one is
        // refused: staged again, into a buffer the commit creates.
        pool.clear();
        let (v, i) = mesh(2);
        let second = pool.insert(&v, &i).unwrap();
        pool.validate().unwrap();
        let report = pool.commit_now().unwrap();
        pool.validate().unwrap();
        assert_eq!(report.in_place_bytes, 0, "{report:?}");
        assert_eq!(pool.read_mesh(second).unwrap(), (v, i));
        // Allowed again, the next refill goes in place where the device allows it.
        REFUSE_MAPPED.with(|r| r.set(false));
        pool.clear();
        let (v, i) = mesh(3);
        let third = pool.insert(&v, &i).unwrap();
        let report = pool.commit_now().unwrap();
        let expected = if direct {
            (v.len() * 16 + i.len() * 4) as u64
        } else {
            0
        };
        assert_eq!(report.in_place_bytes, expected, "{report:?}");
        assert_eq!(pool.read_mesh(third).unwrap(), (v, i));
    }
}
