//! [`Arena`]: one large wgpu buffer, sub-allocated with `offset-alloc`.
//!
//! The allocator works in 4-byte units (`wgpu::COPY_BUFFER_ALIGNMENT`), so every
//! offset and size is copy-aligned and a `u32` allocator addresses 16 GiB. Handles
//! name slots of a table ([`crate::slots`]) that holds each allocation's offset and
//! size; only the arena knows offsets, so data can later move without invalidating
//! handles.
//!
//! A request first takes the allocator's O(1) path. Only when that misses does the
//! arena pay for more: it retires deferred frees the GPU is done with, then runs the
//! allocator's exhaustive search, and grows the buffer only when no free range can
//! hold the request. Growth creates a larger buffer (inside error scopes, so a
//! device that runs out of memory yields an error and leaves the arena as it was),
//! records a copy of the used prefix of the old buffer into it and submits that copy
//! at once, then grows the allocator in place: every allocation keeps its offset.
//! `write_buffer` calls queued before the growth execute before the copy (wgpu runs
//! pending writes ahead of the next submission), and later writes go to the new
//! buffer and execute after it, so nothing is lost or overwritten. All of this
//! happens under the arena's lock, which also serialises writes against growth.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use offset_alloc::{AllocError, Allocator, AllocatorOptions};
use parking_lot::Mutex;

use crate::descriptor::ArenaDescriptor;
use crate::error::{ArenaError, HandleKind, Limit};
use crate::handle::{ArenaHandle, ArenaRange};
use crate::slots::{SlotMap, next_owner};

/// Bytes per allocator unit: wgpu's copy alignment.
pub(crate) const UNIT: u64 = wgpu::COPY_BUFFER_ALIGNMENT;

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
}

/// Polls a future once: wgpu's error-scope futures are ready at once on native.
/// `None` when it is not (on the web, where the answer comes later).
pub(crate) fn ready_now<F: Future>(future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}

/// Creates a buffer inside error scopes: an out-of-memory, validation or internal
/// error comes back as `Err(message)` instead of reaching the device's uncaptured
/// error handler (which panics by default).
///
/// On the web the scopes' answers arrive later; there a failure is not seen here.
pub(crate) fn try_create_buffer(
    device: &wgpu::Device,
    label: &str,
    size: u64,
    usage: wgpu::BufferUsages,
) -> Result<wgpu::Buffer, String> {
    let oom = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
    let internal = device.push_error_scope(wgpu::ErrorFilter::Internal);
    let validation = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let buffer = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size,
        usage,
        mapped_at_creation: false,
    });
    let errors = [validation.pop(), internal.pop(), oom.pop()];
    match errors.into_iter().filter_map(ready_now).flatten().next() {
        Some(error) => {
            buffer.destroy();
            Err(error.to_string())
        }
        None => Ok(buffer),
    }
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
    pub(crate) label: String,
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    pub(crate) usage: wgpu::BufferUsages,
    /// The most the buffer may grow to, and which limit that is.
    pub(crate) max_size: u64,
    pub(crate) max_size_limit: Limit,
    pub(crate) growth_factor: f64,
    pub(crate) min_alignment: u64,
    /// Alignment that makes a range bindable as storage / uniform in this arena.
    pub(crate) bind_alignment: u64,
    /// The largest range that can be bound as storage / uniform, and which limit it is
    /// (`None` for arenas that are not bound: vertex, index, indirect).
    pub(crate) binding_limit: Option<(u64, Limit)>,
    pub(crate) state: Mutex<State>,
    /// Persistent staging chunks for batched uploads (locked after `state`).
    pub(crate) belt: Mutex<wgpu::util::StagingBelt>,
    /// CPU-side bytes of the last batch, kept so the next batch reuses warm memory.
    pub(crate) scratch: Mutex<Vec<u8>>,
}

/// The binding size limit of an arena of `usage`: the smaller of the storage and
/// uniform limits its usage can be bound as.
fn binding_limit(usage: wgpu::BufferUsages, limits: &wgpu::Limits) -> Option<(u64, Limit)> {
    let storage = usage.contains(wgpu::BufferUsages::STORAGE).then_some((
        limits.max_storage_buffer_binding_size,
        Limit::MaxStorageBufferBindingSize,
    ));
    let uniform = usage.contains(wgpu::BufferUsages::UNIFORM).then_some((
        limits.max_uniform_buffer_binding_size,
        Limit::MaxUniformBufferBindingSize,
    ));
    [storage, uniform]
        .into_iter()
        .flatten()
        .min_by_key(|(size, _)| *size)
        .map(|(size, limit)| (size / UNIT * UNIT, limit))
}

impl Arena {
    /// Creates an arena. The device and queue are kept (both are cheap handles):
    /// growth must create a buffer and submit a copy at the moment it happens.
    ///
    /// The buffer's most size is the smallest of the descriptor's `max_size`, the
    /// device's `max_buffer_size`, 16 GiB and, with `bound_whole`, the device's
    /// storage / uniform binding size.
    ///
    /// # Errors
    /// [`ArenaError::InvalidDescriptor`] for a zero size, a growth factor below 1, an
    /// impossible allocation limit or a usage that cannot be combined with the copies
    /// the arena makes (`MAP_READ`, `MAP_WRITE`); [`ArenaError::ZeroAlignment`];
    /// [`ArenaError::OverLimit`] when the initial size exceeds the most size (naming
    /// which limit); [`ArenaError::Device`] when the device refuses the buffer.
    ///
    /// ```
    /// use gpu_arena::{Arena, ArenaDescriptor, ArenaError, Limit};
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// let too_big = ArenaDescriptor { initial_size: 1 << 20, max_size: 1 << 10, ..Default::default() };
    /// assert!(matches!(Arena::new(&gpu.device, &gpu.queue, &too_big), Err(ArenaError::OverLimit { what: Limit::MaxSize, .. })));
    /// ```
    pub fn new(
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        desc: &ArenaDescriptor<'_>,
    ) -> Result<Arena, ArenaError> {
        let id = next_owner();
        let label = desc
            .label
            .map_or_else(|| format!("arena #{id}"), str::to_owned);
        let invalid = |reason: String| {
            Err(ArenaError::InvalidDescriptor {
                label: label.clone(),
                reason,
            })
        };
        if desc.initial_size == 0 {
            return invalid("initial_size must be at least 1 byte".into());
        }
        if desc.min_alignment == 0 {
            return Err(ArenaError::ZeroAlignment);
        }
        if !(desc.growth_factor >= 1.0 && desc.growth_factor.is_finite()) {
            return invalid(format!(
                "growth_factor {} must be finite and at least 1.0",
                desc.growth_factor
            ));
        }
        let mappable = wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::MAP_WRITE;
        if desc.usage.intersects(mappable) {
            return invalid(format!(
                "usage {:?} cannot be mapped: the arena adds COPY_SRC | COPY_DST for uploads, growth and readback",
                desc.usage
            ));
        }
        let limits = device.limits();
        let binding_limit = binding_limit(desc.usage, &limits);
        // The allocator addresses u32::MAX units of 4 bytes.
        let unit_limit = u64::from(u32::MAX) * UNIT;
        let whole = binding_limit.filter(|_| desc.bound_whole);
        let (max_size, max_size_limit) = [
            Some((desc.max_size, Limit::MaxSize)),
            Some((limits.max_buffer_size, Limit::MaxBufferSize)),
            Some((unit_limit, Limit::AllocatorRange)),
            whole,
        ]
        .into_iter()
        .flatten()
        .min_by_key(|(limit, _)| *limit)
        .unwrap_or((unit_limit, Limit::AllocatorRange));
        let max_size = max_size / UNIT * UNIT;
        let initial = desc.initial_size.div_ceil(UNIT) * UNIT;
        if initial > max_size {
            return Err(ArenaError::OverLimit {
                label,
                requested: desc.initial_size,
                limit: max_size,
                what: max_size_limit,
            });
        }
        let Some(min_alignment) = lcm(desc.min_alignment, UNIT).filter(|a| *a <= max_size) else {
            return Err(ArenaError::OverLimit {
                label,
                requested: desc.min_alignment,
                limit: max_size,
                what: Limit::Alignment,
            });
        };
        let mut bind_alignment = min_alignment;
        for (flag, offset_alignment) in [
            (
                wgpu::BufferUsages::STORAGE,
                limits.min_storage_buffer_offset_alignment,
            ),
            (
                wgpu::BufferUsages::UNIFORM,
                limits.min_uniform_buffer_offset_alignment,
            ),
        ] {
            if desc.usage.contains(flag) {
                bind_alignment =
                    lcm(bind_alignment, u64::from(offset_alignment)).unwrap_or(bind_alignment);
            }
        }
        let options = AllocatorOptions {
            max_allocs: Some(desc.max_allocations),
            ..Default::default()
        };
        let allocator = match Allocator::with_options((initial / UNIT) as u32, options) {
            Ok(allocator) => allocator,
            Err(e) => return invalid(format!("max_allocations: {e}")),
        };
        let usage = desc.usage | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST;
        let buffer = try_create_buffer(device, &label, initial, usage).map_err(|reason| {
            ArenaError::Device {
                label: label.clone(),
                requested: initial,
                reason,
            }
        })?;
        Ok(Arena {
            device: device.clone(),
            queue: queue.clone(),
            usage,
            max_size,
            max_size_limit,
            growth_factor: f64::from(desc.growth_factor),
            min_alignment,
            bind_alignment,
            binding_limit,
            state: Mutex::new(State {
                buffer,
                capacity: initial,
                allocator,
                slots: SlotMap::new(HandleKind::Arena, id),
                buffer_generation: 0,
                growth_count: 0,
                growth_bytes_copied: 0,
                pending: Vec::new(),
            }),
            // A staging chunk is a buffer too: never past the device's limit.
            belt: Mutex::new(wgpu::util::StagingBelt::new(
                device.clone(),
                desc.upload_chunk_size
                    .clamp(UNIT, limits.max_buffer_size / UNIT * UNIT),
            )),
            scratch: Mutex::new(Vec::new()),
            label,
        })
    }

    /// Reserves `bytes` (rounded up to 4) at the arena's alignment, growing the buffer
    /// only when no free range can hold them. The contents are unspecified until
    /// written.
    ///
    /// Time: O(1) when the allocator's O(1) search finds a range; before growing or
    /// refusing, the exhaustive search walks the free ranges of the bins that may fit;
    /// growth adds a buffer copy.
    ///
    /// # Errors
    /// [`ArenaError::ZeroSize`], [`ArenaError::OverLimit`] (larger than the most size,
    /// or too many allocations), [`ArenaError::OutOfSpace`] when no free range fits
    /// and growth cannot help, [`ArenaError::Device`] when growth's buffer is refused.
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
    /// `min_uniform_buffer_offset_alignment`, as the arena's usage requires), and no
    /// larger than the device lets one binding be.
    ///
    /// # Errors
    /// As [`Self::alloc`]; [`ArenaError::OverLimit`] naming the binding size limit when
    /// `bytes` exceeds it.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// use gpu_arena::{Arena, ArenaDescriptor, ArenaError, Limit};
    /// let arena = Arena::new(&gpu.device, &gpu.queue, &ArenaDescriptor { usage: wgpu::BufferUsages::STORAGE, ..Default::default() }).unwrap();
    /// let _pad = arena.alloc(4).unwrap();
    /// let h = arena.alloc_bindable(64).unwrap();
    /// assert_eq!(arena.range(h).unwrap().offset % u64::from(gpu.device.limits().min_storage_buffer_offset_alignment), 0);
    /// let too_big = gpu.device.limits().max_storage_buffer_binding_size + 4;
    /// assert!(matches!(arena.alloc_bindable(too_big), Err(ArenaError::OverLimit { what: Limit::MaxStorageBufferBindingSize, .. })));
    /// ```
    pub fn alloc_bindable(&self, bytes: u64) -> Result<ArenaHandle, ArenaError> {
        self.check_binding_size(bytes.next_multiple_of(UNIT))?;
        self.alloc_aligned(bytes, self.bind_alignment)
    }

    /// Refuses a range of `size` bytes that cannot be bound as this arena's usage.
    pub(crate) fn check_binding_size(&self, size: u64) -> Result<(), ArenaError> {
        match self.binding_limit {
            Some((limit, what)) if size > limit => Err(ArenaError::OverLimit {
                label: self.label.clone(),
                requested: size,
                limit,
                what,
            }),
            _ => Ok(()),
        }
    }

    /// Reserves `bytes` at an offset that is a multiple of `align` (any non-zero
    /// value, combined with 4 and the arena's `min_alignment`), without wasting the
    /// padding: it stays free for other allocations.
    ///
    /// # Errors
    /// As [`Self::alloc`], plus [`ArenaError::ZeroAlignment`].
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let _a = arena.alloc(4).unwrap();
    /// let b = arena.alloc_aligned(24, 12).unwrap();
    /// assert_eq!(arena.range(b).unwrap().offset, 12);
    /// ```
    pub fn alloc_aligned(&self, bytes: u64, align: u64) -> Result<ArenaHandle, ArenaError> {
        let (size, align) = self.checked_request(bytes, align)?;
        let mut state = self.state.lock();
        let allocation = self.allocate_in(&mut state, size, align)?;
        let slot = Slot {
            allocation,
            offset: u64::from(allocation.offset) * UNIT,
            size,
            len: bytes,
            align,
        };
        Ok(ArenaHandle {
            key: state.slots.insert(slot),
        })
    }

    /// A request's reserved size and alignment in bytes, checked against the limits.
    pub(crate) fn checked_request(&self, bytes: u64, align: u64) -> Result<(u64, u64), ArenaError> {
        if align == 0 {
            return Err(ArenaError::ZeroAlignment);
        }
        if bytes == 0 {
            return Err(ArenaError::ZeroSize);
        }
        let over = |requested, what, limit| ArenaError::OverLimit {
            label: self.label.clone(),
            requested,
            limit,
            what,
        };
        let size = bytes
            .checked_next_multiple_of(UNIT)
            .filter(|s| *s <= self.max_size)
            .ok_or_else(|| over(bytes, self.max_size_limit, self.max_size))?;
        let align = lcm(self.min_alignment, align)
            .filter(|a| *a <= self.max_size)
            .ok_or_else(|| over(align, Limit::Alignment, self.max_size))?;
        Ok((size, align))
    }

    /// Finds room for `size` bytes at `align` (both checked), growing only when no
    /// free range can hold them. On error nothing has changed.
    pub(crate) fn allocate_in(
        &self,
        state: &mut State,
        size: u64,
        align: u64,
    ) -> Result<offset_alloc::Allocation, ArenaError> {
        let (units, align_units) = ((size / UNIT) as u32, (align / UNIT) as u32);
        match state.allocator.try_allocate_aligned(units, align_units) {
            Ok(allocation) => return Ok(allocation),
            Err(AllocError::TooManyAllocations { max_allocs }) => {
                return Err(ArenaError::OverLimit {
                    label: self.label.clone(),
                    requested: u64::from(max_allocs) + 1,
                    limit: u64::from(max_allocs),
                    what: Limit::MaxAllocations,
                });
            }
            Err(_) => {}
        }
        // Before paying for growth: ranges whose deferred free the GPU has finished
        // with, then every free range that may fit (the O(1) probe is bounded).
        Self::retire_finished(state);
        if let Ok(allocation) = state
            .allocator
            .try_allocate_aligned_exhaustive(units, align_units)
        {
            return Ok(allocation);
        }
        self.grow_for(state, size, align)?;
        // The new tail holds the request by construction.
        state
            .allocator
            .try_allocate_aligned_exhaustive(units, align_units)
            .map_err(|_| self.out_of_space(state, size, align))
    }

    /// The error for a request no free range holds and growth cannot help.
    fn out_of_space(&self, state: &State, size: u64, align: u64) -> ArenaError {
        ArenaError::OutOfSpace {
            label: self.label.clone(),
            requested: size,
            align,
            available: u64::from(state.allocator.largest_free_region_exact()) * UNIT,
            capacity: state.capacity,
            max_size: self.max_size,
            limit: self.max_size_limit,
            pending_free: state.pending_bytes(),
        }
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
        let mut state = self.state.lock();
        let slot = state.slots.remove(handle.into().key, &self.label)?;
        state.allocator.free(slot.allocation);
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
        // The allocator's handles go with the slots; `reset` takes a new identity, so
        // none of them could be honoured anyway.
        state.slots.clear();
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
        Ok(slot.range())
    }

    /// The live slot a handle names.
    pub(crate) fn resolve<'s>(
        &self,
        state: &'s State,
        handle: ArenaHandle,
    ) -> Result<&'s Slot, ArenaError> {
        state.slots.get(handle.key, &self.label)
    }

    /// Grows the buffer so that `size` bytes at alignment `align` fit at its end.
    fn grow_for(&self, state: &mut State, size: u64, align: u64) -> Result<(), ArenaError> {
        // Growth only extends the last region: the request needs its aligned start
        // (from the free tail, or from the current end) plus its size.
        let needed = state
            .used_end()
            .next_multiple_of(align)
            .saturating_add(size);
        if needed > self.max_size {
            return Err(self.out_of_space(state, size, align));
        }
        let by_factor = (state.capacity as f64 * self.growth_factor).ceil() as u64;
        let target = needed
            .max(by_factor)
            .next_multiple_of(UNIT)
            .min(self.max_size);
        debug_assert!(target >= needed && target > state.capacity);
        self.grow_to(state, target)
    }

    /// Replaces the buffer by one of `new_capacity` bytes holding the same contents;
    /// on a device error nothing changes.
    pub(crate) fn grow_to(&self, state: &mut State, new_capacity: u64) -> Result<(), ArenaError> {
        let new_buffer = try_create_buffer(&self.device, &self.label, new_capacity, self.usage)
            .map_err(|reason| ArenaError::Device {
                label: self.label.clone(),
                requested: new_capacity,
                reason,
            })?;
        let used = state.used_end();
        if used > 0 {
            let mut encoder = self
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("gpu-arena growth copy"),
                });
            encoder.copy_buffer_to_buffer(&state.buffer, 0, &new_buffer, 0, used);
            self.queue.submit([encoder.finish()]);
        }
        if let Err(e) = state.allocator.grow((new_capacity / UNIT) as u32) {
            unreachable!("capacities only grow, and a u32 allocator has nodes to spare: {e}");
        }
        log::debug!(
            "{}: grew from {} to {} bytes (copied {used})",
            self.label,
            state.capacity,
            new_capacity
        );
        state.buffer = new_buffer;
        state.capacity = new_capacity;
        state.buffer_generation = state.buffer_generation.wrapping_add(1);
        state.growth_count += 1;
        state.growth_bytes_copied += used;
        Ok(())
    }
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
