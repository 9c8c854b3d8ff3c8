//! [`Arena`]: one large wgpu buffer, sub-allocated with `offset-alloc`.
//!
//! The allocator works in 4-byte units (`wgpu::COPY_BUFFER_ALIGNMENT`), so every
//! offset and size is copy-aligned and a `u32` allocator addresses 16 GiB. Handles
//! name slots of a table that holds each allocation's offset and size; only the arena
//! knows offsets, so data can later move without invalidating handles.
//!
//! Growth creates a larger buffer, records a copy of the whole old buffer into it and
//! submits that copy at once, then grows the allocator in place: every allocation
//! keeps its offset. `write_buffer` calls queued before the growth execute before the
//! copy (wgpu runs pending writes ahead of the next submission), and later writes go
//! to the new buffer and execute after it, so nothing is lost or overwritten. All of
//! this happens under the arena's lock, which also serialises writes against growth.

use std::sync::atomic::{AtomicU32, Ordering};

use offset_alloc::{AllocError, Allocator, AllocatorOptions};
use parking_lot::Mutex;

use crate::descriptor::ArenaDescriptor;
use crate::error::ArenaError;
use crate::handle::{ArenaHandle, ArenaRange};

/// Bytes per allocator unit: wgpu's copy alignment.
pub(crate) const UNIT: u64 = wgpu::COPY_BUFFER_ALIGNMENT;

static NEXT_ARENA_ID: AtomicU32 = AtomicU32::new(1);

pub(crate) fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Least common multiple, `None` on overflow.
pub(crate) fn lcm(a: u64, b: u64) -> Option<u64> {
    (a / gcd(a, b)).checked_mul(b)
}

/// One entry of the handle table.
#[derive(Clone, Debug)]
pub(crate) struct Slot {
    /// Bumped on every free, so handles to earlier lives are stale.
    pub generation: u32,
    /// The allocator's handle while live.
    pub allocation: Option<offset_alloc::Allocation>,
    /// Byte offset in the buffer.
    pub offset: u64,
    /// Reserved bytes (multiple of 4).
    pub size: u64,
    /// Requested bytes.
    pub len: u64,
    /// Alignment the allocation was made with (compaction keeps it).
    pub align: u64,
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
    pub buffer: wgpu::Buffer,
    pub capacity: u64,
    pub allocator: Allocator,
    pub slots: Vec<Slot>,
    pub free_slots: Vec<u32>,
    pub buffer_generation: u32,
    pub growth_count: u32,
    /// Deferred frees: sealed groups waiting for the GPU, then the open group.
    pub pending: Vec<PendingGroup>,
}

/// One large wgpu buffer handing out ranges: vertex, index, storage, indirect or
/// uniform data for many objects in one binding.
///
/// `Arena` is `Send + Sync`: allocation, free and writes may come from many threads.
///
/// ```
/// use gpu_arena::{Arena, ArenaDescriptor};
/// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
/// let arena = Arena::new(&gpu.device, &gpu.queue, &ArenaDescriptor {
///     label: Some("vertices"),
///     usage: wgpu::BufferUsages::VERTEX,
///     ..Default::default()
/// }).unwrap();
/// let triangle = arena.alloc_slice(&[[0.0f32, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]).unwrap();
/// assert_eq!(arena.elements(triangle).unwrap().count, 3);
/// assert_eq!(arena.read_slice(triangle).unwrap()[1], [1.0, 0.0, 0.0]);
/// ```
pub struct Arena {
    pub(crate) id: u32,
    pub(crate) label: String,
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    pub(crate) usage: wgpu::BufferUsages,
    pub(crate) max_size: u64,
    pub(crate) growth_factor: f64,
    pub(crate) min_alignment: u64,
    /// Alignment that makes a range bindable as storage / uniform in this arena.
    pub(crate) bind_alignment: u64,
    pub(crate) state: Mutex<State>,
    /// Persistent staging chunks for batched uploads (locked after `state`).
    pub(crate) belt: Mutex<wgpu::util::StagingBelt>,
    /// CPU-side bytes of the last batch, kept so the next batch reuses warm memory.
    pub(crate) scratch: Mutex<Vec<u8>>,
}

impl Arena {
    /// Creates an arena. The device and queue are kept (both are cheap handles):
    /// growth must create a buffer and submit a copy at the moment it happens.
    ///
    /// # Errors
    /// [`ArenaError::InvalidDescriptor`] for a zero size or alignment, a growth
    /// factor below 1 or an impossible allocation limit; [`ArenaError::OverLimit`]
    /// when the initial size exceeds the maximum or the device's `max_buffer_size`.
    ///
    /// ```
    /// use gpu_arena::{Arena, ArenaDescriptor, ArenaError};
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// let too_big = ArenaDescriptor { initial_size: 1 << 20, max_size: 1 << 10, ..Default::default() };
    /// assert!(matches!(Arena::new(&gpu.device, &gpu.queue, &too_big), Err(ArenaError::OverLimit { .. })));
    /// ```
    pub fn new(
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        desc: &ArenaDescriptor<'_>,
    ) -> Result<Arena, ArenaError> {
        let invalid = |reason: String| Err(ArenaError::InvalidDescriptor { reason });
        if desc.initial_size == 0 {
            return invalid("initial_size must be at least 1 byte".into());
        }
        if desc.min_alignment == 0 {
            return invalid("min_alignment must be at least 1".into());
        }
        if !(desc.growth_factor >= 1.0 && desc.growth_factor.is_finite()) {
            return invalid(format!(
                "growth_factor {} must be finite and at least 1.0",
                desc.growth_factor
            ));
        }
        let limits = device.limits();
        // The allocator addresses u32::MAX units of 4 bytes.
        let unit_limit = u64::from(u32::MAX) * UNIT;
        let (max_size, what) = [
            (desc.max_size, "max_size"),
            (limits.max_buffer_size, "max_buffer_size"),
            (unit_limit, "16 GiB allocator range"),
        ]
        .into_iter()
        .min_by_key(|(limit, _)| *limit)
        .unwrap_or((unit_limit, "16 GiB allocator range"));
        let max_size = max_size / UNIT * UNIT;
        let initial = desc.initial_size.div_ceil(UNIT) * UNIT;
        if initial > max_size {
            return Err(ArenaError::OverLimit {
                requested: desc.initial_size,
                limit: max_size,
                what,
            });
        }
        let min_alignment = lcm(desc.min_alignment, UNIT)
            .filter(|a| *a <= max_size.max(UNIT))
            .ok_or_else(|| ArenaError::InvalidDescriptor {
                reason: format!("min_alignment {} is too large", desc.min_alignment),
            })?;
        let mut bind_alignment = min_alignment;
        if desc.usage.contains(wgpu::BufferUsages::STORAGE) {
            bind_alignment = lcm(
                bind_alignment,
                u64::from(limits.min_storage_buffer_offset_alignment),
            )
            .unwrap_or(bind_alignment);
        }
        if desc.usage.contains(wgpu::BufferUsages::UNIFORM) {
            bind_alignment = lcm(
                bind_alignment,
                u64::from(limits.min_uniform_buffer_offset_alignment),
            )
            .unwrap_or(bind_alignment);
        }
        let options = AllocatorOptions {
            max_allocs: Some(desc.max_allocations),
            ..Default::default()
        };
        let allocator = Allocator::with_options((initial / UNIT) as u32, options).map_err(|e| {
            ArenaError::InvalidDescriptor {
                reason: format!("max_allocations: {e}"),
            }
        })?;
        let id = NEXT_ARENA_ID.fetch_add(1, Ordering::Relaxed);
        let label = desc
            .label
            .map_or_else(|| format!("arena #{id}"), str::to_owned);
        let usage = desc.usage | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST;
        let buffer = create_buffer(device, &label, initial, usage);
        Ok(Arena {
            id,
            label,
            device: device.clone(),
            queue: queue.clone(),
            usage,
            max_size,
            growth_factor: f64::from(desc.growth_factor),
            min_alignment,
            bind_alignment,
            state: Mutex::new(State {
                buffer,
                capacity: initial,
                allocator,
                slots: Vec::new(),
                free_slots: Vec::new(),
                buffer_generation: 0,
                growth_count: 0,
                pending: Vec::new(),
            }),
            belt: Mutex::new(wgpu::util::StagingBelt::new(
                device.clone(),
                desc.upload_chunk_size.max(UNIT),
            )),
            scratch: Mutex::new(Vec::new()),
        })
    }

    /// Reserves `bytes` (rounded up to 4) at the arena's alignment, growing the buffer
    /// when needed. The contents are unspecified until written.
    ///
    /// Time: O(1), plus a buffer copy when it grows.
    ///
    /// # Errors
    /// [`ArenaError::ZeroSize`], [`ArenaError::OverLimit`] (larger than the maximum
    /// size, or too many allocations), [`ArenaError::OutOfSpace`] when growth cannot help.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let h = arena.alloc(10).unwrap();
    /// assert_eq!(arena.range(h).unwrap().size, 12);
    /// ```
    pub fn alloc(&self, bytes: u64) -> Result<ArenaHandle, ArenaError> {
        self.alloc_aligned(bytes, 1)
    }

    /// Reserves `bytes` at an offset that can be bound as a storage or uniform buffer
    /// (the device's `min_storage_buffer_offset_alignment` /
    /// `min_uniform_buffer_offset_alignment`, as the arena's usage requires).
    ///
    /// # Errors
    /// As [`Self::alloc`].
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// use gpu_arena::{Arena, ArenaDescriptor};
    /// let arena = Arena::new(&gpu.device, &gpu.queue, &ArenaDescriptor { usage: wgpu::BufferUsages::STORAGE, ..Default::default() }).unwrap();
    /// let _pad = arena.alloc(4).unwrap();
    /// let h = arena.alloc_bindable(64).unwrap();
    /// assert_eq!(arena.range(h).unwrap().offset % u64::from(gpu.device.limits().min_storage_buffer_offset_alignment), 0);
    /// ```
    pub fn alloc_bindable(&self, bytes: u64) -> Result<ArenaHandle, ArenaError> {
        self.alloc_aligned(bytes, self.bind_alignment)
    }

    /// Reserves `bytes` at an offset that is a multiple of `align` (any non-zero
    /// value, combined with 4 and the arena's `min_alignment`), without wasting the
    /// padding: it stays free for other allocations.
    ///
    /// # Errors
    /// As [`Self::alloc`], plus [`ArenaError::Misaligned`] for `align == 0`.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let _a = arena.alloc(4).unwrap();
    /// let b = arena.alloc_aligned(24, 12).unwrap();
    /// assert_eq!(arena.range(b).unwrap().offset, 12);
    /// ```
    pub fn alloc_aligned(&self, bytes: u64, align: u64) -> Result<ArenaHandle, ArenaError> {
        if align == 0 {
            return Err(ArenaError::Misaligned {
                value: 0,
                required: 1,
                what: "alignment",
            });
        }
        if bytes == 0 {
            return Err(ArenaError::ZeroSize);
        }
        let size = bytes
            .checked_next_multiple_of(UNIT)
            .filter(|s| *s <= self.max_size);
        let Some(size) = size else {
            return Err(ArenaError::OverLimit {
                requested: bytes,
                limit: self.max_size,
                what: "max_size",
            });
        };
        let Some(align) = lcm(self.min_alignment, align).filter(|a| *a <= self.max_size) else {
            return Err(ArenaError::OverLimit {
                requested: align,
                limit: self.max_size,
                what: "alignment",
            });
        };
        let mut state = self.state.lock();
        let allocation = loop {
            match state
                .allocator
                .try_allocate_aligned((size / UNIT) as u32, (align / UNIT) as u32)
            {
                Ok(allocation) => break allocation,
                Err(AllocError::TooManyAllocations { max_allocs }) => {
                    return Err(ArenaError::OverLimit {
                        requested: u64::from(max_allocs) + 1,
                        limit: u64::from(max_allocs),
                        what: "max_allocations",
                    });
                }
                Err(_) => {
                    // Ranges whose deferred free the GPU has finished with come first.
                    if Self::retire_finished(&mut state) > 0 {
                        continue;
                    }
                    if !self.grow_for(&mut state, size, align) {
                        return Err(ArenaError::OutOfSpace {
                            requested: size,
                            available: u64::from(state.allocator.largest_free_region_exact())
                                * UNIT,
                            capacity: state.capacity,
                            max_size: self.max_size,
                        });
                    }
                }
            }
        };
        let slot = Slot {
            generation: 0,
            allocation: Some(allocation),
            offset: u64::from(allocation.offset) * UNIT,
            size,
            len: bytes,
            align,
        };
        Ok(Self::store(&mut state, self.id, slot))
    }

    /// Returns an allocation's range to the arena.
    ///
    /// Time: O(1).
    ///
    /// # Errors
    /// [`ArenaError::StaleHandle`] (double free) or [`ArenaError::ForeignHandle`];
    /// nothing changes then.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let h = arena.alloc(16).unwrap();
    /// arena.free(h).unwrap();
    /// assert!(matches!(arena.free(h), Err(gpu_arena::ArenaError::StaleHandle { .. })));
    /// ```
    pub fn free(&self, handle: impl Into<ArenaHandle>) -> Result<(), ArenaError> {
        let handle = handle.into();
        let mut state = self.state.lock();
        self.resolve(&state, handle)?;
        let slot = &mut state.slots[handle.slot as usize];
        let allocation = slot.allocation.take();
        slot.generation = slot.generation.wrapping_add(1);
        if let Some(allocation) = allocation {
            state.allocator.free(allocation);
        }
        state.free_slots.push(handle.slot);
        Ok(())
    }

    /// Frees every allocation at once (all handles become stale); the buffer and its
    /// capacity stay.
    ///
    /// Time: O(allocations).
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let h = arena.alloc(64).unwrap();
    /// arena.clear();
    /// assert!(arena.range(h).is_err());
    /// assert_eq!(arena.stats().live_allocations, 0);
    /// ```
    pub fn clear(&self) {
        let mut state = self.state.lock();
        let state = &mut *state;
        for (index, slot) in state.slots.iter_mut().enumerate() {
            if slot.allocation.take().is_some() {
                slot.generation = slot.generation.wrapping_add(1);
                state.free_slots.push(index as u32);
            }
        }
        // Handles of the allocator are dropped with the slots; reset takes a new
        // identity, so none of them could be honoured anyway.
        state.pending.clear();
        state.allocator.reset();
    }

    /// The byte range of a live allocation.
    ///
    /// # Errors
    /// [`ArenaError::StaleHandle`] or [`ArenaError::ForeignHandle`].
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let h = arena.alloc(5).unwrap();
    /// let r = arena.range(h).unwrap();
    /// assert_eq!((r.offset, r.size, r.len), (0, 8, 5));
    /// ```
    pub fn range(&self, handle: impl Into<ArenaHandle>) -> Result<ArenaRange, ArenaError> {
        let state = self.state.lock();
        let slot = self.resolve(&state, handle.into())?;
        Ok(ArenaRange {
            offset: slot.offset,
            size: slot.size,
            len: slot.len,
        })
    }

    /// The live slot a handle names.
    pub(crate) fn resolve<'s>(
        &self,
        state: &'s State,
        handle: ArenaHandle,
    ) -> Result<&'s Slot, ArenaError> {
        if handle.arena != self.id {
            return Err(ArenaError::ForeignHandle {
                handle,
                arena: self.id,
            });
        }
        match state.slots.get(handle.slot as usize) {
            Some(slot) if slot.generation == handle.generation && slot.allocation.is_some() => {
                Ok(slot)
            }
            _ => Err(ArenaError::StaleHandle { handle }),
        }
    }

    fn store(state: &mut State, arena: u32, mut slot: Slot) -> ArenaHandle {
        let index = match state.free_slots.pop() {
            Some(index) => {
                slot.generation = state.slots[index as usize].generation;
                state.slots[index as usize] = slot;
                index
            }
            None => {
                state.slots.push(slot);
                (state.slots.len() - 1) as u32
            }
        };
        ArenaHandle {
            arena,
            slot: index,
            generation: state.slots[index as usize].generation,
        }
    }

    /// Grows the buffer so that `size` bytes at alignment `align` fit; false when the
    /// maximum size is reached.
    fn grow_for(&self, state: &mut State, size: u64, align: u64) -> bool {
        // Growth only extends the last region: the request needs its aligned start
        // (from the free tail, or from the current end) plus its size.
        let tail_start = state
            .allocator
            .trailing_free_region()
            .map_or(state.capacity, |r| u64::from(r.offset) * UNIT);
        let needed = tail_start.next_multiple_of(align).saturating_add(size);
        if needed > self.max_size || state.capacity >= self.max_size {
            return false;
        }
        let by_factor = (state.capacity as f64 * self.growth_factor).ceil() as u64;
        let target = needed
            .max(by_factor)
            .min(self.max_size)
            .next_multiple_of(UNIT)
            .min(self.max_size);
        self.grow_to(state, target);
        true
    }

    /// Replaces the buffer by one of `new_capacity` bytes holding the same contents.
    pub(crate) fn grow_to(&self, state: &mut State, new_capacity: u64) {
        let new_buffer = create_buffer(&self.device, &self.label, new_capacity, self.usage);
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("gpu-arena growth copy"),
            });
        encoder.copy_buffer_to_buffer(&state.buffer, 0, &new_buffer, 0, state.capacity);
        self.queue.submit([encoder.finish()]);
        if let Err(e) = state.allocator.grow((new_capacity / UNIT) as u32) {
            unreachable!("capacities only grow: {e}");
        }
        log::debug!(
            "{}: grew from {} to {} bytes",
            self.label,
            state.capacity,
            new_capacity
        );
        state.buffer = new_buffer;
        state.capacity = new_capacity;
        state.buffer_generation = state.buffer_generation.wrapping_add(1);
        state.growth_count += 1;
    }
}

pub(crate) fn create_buffer(
    device: &wgpu::Device,
    label: &str,
    size: u64,
    usage: wgpu::BufferUsages,
) -> wgpu::Buffer {
    device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size,
        usage,
        mapped_at_creation: false,
    })
}
