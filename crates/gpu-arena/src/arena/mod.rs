//! [`Arena`]: one large wgpu buffer, sub-allocated with `offset-alloc`.
//!
//! The allocator works in 4-byte units (`wgpu::COPY_BUFFER_ALIGNMENT`), so every
//! offset and size is copy-aligned and a `u32` allocator addresses 16 GiB. Handles
//! name slots of a table ([`crate::slots`]) that holds each allocation's offset and
//! size; only the arena knows offsets, so data can later move without invalidating
//! handles.
//!
//! The arena is built from its fixed configuration ([`core::Core`]) and the state
//! behind its lock ([`state::State`], which allocates, grows and resolves). Each
//! public method locks once and asks the state; the submodules add writes and
//! readback, batched uploads, deferred frees, compaction and statistics.

mod access;
mod compact;
pub(crate) mod core;
mod lifetime;
pub(crate) mod mapped;
pub(crate) mod readback;
pub(crate) mod state;
mod stats;
mod upload;
mod validate;

pub use access::ArenaSlice;
pub(crate) use compact::Planned;
pub use compact::{CompactionReport, Move};
pub(crate) use state::Growth;
pub use stats::ArenaStats;
pub use upload::{UploadBatch, UploadReport};

use offset_alloc::{Allocator, AllocatorOptions};
use parking_lot::Mutex;

use crate::descriptor::ArenaDescriptor;
use crate::error::{ArenaError, HandleKind, Limit};
use crate::handle::{ArenaHandle, ArenaRange, Placement};
use crate::slots::{SlotMap, next_owner};
use crate::staging::{Staging, StagingDescriptor};
use core::{Core, UNIT, binding_limit, lcm, try_create_buffer};
use state::State;

/// One large wgpu buffer handing out ranges: vertex, index, storage, indirect or
/// uniform data for many objects in one binding.
///
/// `Arena` is `Send + Sync`: allocation, free and writes may come from many threads.
///
/// ```
/// use gpu_arena::{Arena, ArenaDescriptor};
/// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
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
    /// What the arena was created with.
    pub(crate) core: Core,
    pub(crate) state: Mutex<State>,
    /// Staging memory for batched uploads (the descriptor's, or the arena's own).
    pub(crate) staging: Staging,
    /// Whether the arena created its staging (then [`Arena::maintain`] maintains it).
    pub(crate) owns_staging: bool,
    /// CPU-side bytes of the last batch, kept so the next batch reuses warm memory.
    pub(crate) scratch: Mutex<Vec<u8>>,
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
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// let too_big = ArenaDescriptor { initial_size: 1 << 20, max_size: 1 << 10, ..Default::default() };
    /// assert!(matches!(Arena::new(&gpu.device, &gpu.queue, &too_big), Err(ArenaError::OverLimit { what: Limit::MaxSize, .. })));
    /// ```
    pub fn new(
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        desc: &ArenaDescriptor<'_>,
    ) -> Result<Arena, ArenaError> {
        Arena::new_with(device, queue, desc, false)
    }

    /// [`Self::new`]; with `placeholder`, the buffer starts at 4 bytes (a deferred
    /// arena's first use creates the real one at its capacity).
    fn new_with(
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        desc: &ArenaDescriptor<'_>,
        placeholder: bool,
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
        let staging = desc.staging.clone().unwrap_or_else(|| {
            Staging::new(
                device,
                &StagingDescriptor {
                    label: Some(&label),
                    chunk_size: desc.upload_chunk_size,
                    ..Default::default()
                },
            )
        });
        let first = if placeholder { UNIT } else { initial };
        let buffer = try_create_buffer(device, &label, first, usage).map_err(|reason| {
            ArenaError::Device {
                label: label.clone(),
                requested: initial,
                reason,
            }
        })?;
        Ok(Arena {
            core: Core {
                label,
                device: device.clone(),
                queue: queue.clone(),
                usage,
                max_size,
                max_size_limit,
                growth_factor: f64::from(desc.growth_factor),
                min_alignment,
                bind_alignment,
                binding_limit,
                deferred: false,
                direct: false,
            },
            state: Mutex::new(State {
                buffer,
                capacity: initial,
                written_end: 0,
                mapped: None,
                fresh: true,
                expected_fill: 0,
                allocator,
                slots: SlotMap::new(HandleKind::Arena, id),
                buffer_generation: 0,
                growth_count: 0,
                growth_bytes_copied: 0,
                pending: Vec::new(),
            }),
            staging: staging.clone(),
            owns_staging: desc.staging.is_none(),
            scratch: Mutex::new(Vec::new()),
        })
    }

    /// [`Self::new`] with deferred growth (see [`state`]): for owners that write only
    /// through the arena and realize growth into their encoder before any use. With
    /// `direct`, and where the device has `Features::MAPPABLE_PRIMARY_BUFFERS`, the
    /// owner's first writes may go straight into a buffer mapped at creation
    /// ([`mapped`]).
    pub(crate) fn new_deferred(
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        desc: &ArenaDescriptor<'_>,
        direct: bool,
    ) -> Result<Arena, ArenaError> {
        // A direct arena's first placement for writing maps a buffer of its whole
        // capacity; until then a placeholder stands in (a first use before any
        // write realizes the real buffer, as for any deferred growth).
        let direct = direct
            && device
                .features()
                .contains(wgpu::Features::MAPPABLE_PRIMARY_BUFFERS);
        let mut arena = Arena::new_with(device, queue, desc, direct)?;
        arena.core.deferred = true;
        arena.core.direct = direct;
        Ok(arena)
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
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let h = arena.alloc(10).unwrap();
    /// assert_eq!(arena.range(h).unwrap().size, 12);
    /// ```
    pub fn alloc(&self, bytes: u64) -> Result<ArenaHandle, ArenaError> {
        Ok(self.place(bytes, 1)?.handle)
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
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// use gpu_arena::{Arena, ArenaDescriptor, ArenaError, Limit};
    /// let arena = Arena::new(&gpu.device, &gpu.queue, &ArenaDescriptor { usage: wgpu::BufferUsages::STORAGE, ..Default::default() }).unwrap();
    /// let _pad = arena.alloc(4).unwrap();
    /// let h = arena.alloc_bindable(64).unwrap();
    /// assert_eq!(arena.range(h).unwrap().offset % u64::from(gpu.device.limits().min_storage_buffer_offset_alignment), 0);
    /// let too_big = gpu.device.limits().max_storage_buffer_binding_size + 4;
    /// assert!(matches!(arena.alloc_bindable(too_big), Err(ArenaError::OverLimit { what: Limit::MaxStorageBufferBindingSize, .. })));
    /// ```
    pub fn alloc_bindable(&self, bytes: u64) -> Result<ArenaHandle, ArenaError> {
        self.core.check_binding_size(bytes.next_multiple_of(UNIT))?;
        Ok(self.place(bytes, self.core.bind_alignment)?.handle)
    }

    /// Reserves `bytes` at an offset that is a multiple of `align` (any non-zero
    /// value, combined with 4 and the arena's `min_alignment`), without wasting the
    /// padding: it stays free for other allocations.
    ///
    /// # Errors
    /// As [`Self::alloc`], plus [`ArenaError::ZeroAlignment`].
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let _a = arena.alloc(4).unwrap();
    /// let b = arena.alloc_aligned(24, 12).unwrap();
    /// assert_eq!(arena.range(b).unwrap().offset, 12);
    /// ```
    pub fn alloc_aligned(&self, bytes: u64, align: u64) -> Result<ArenaHandle, ArenaError> {
        Ok(self.place(bytes, align)?.handle)
    }

    /// [`Self::alloc_aligned`] that returns where the allocation landed with its
    /// handle, under the one lock it takes.
    ///
    /// # Errors
    /// As [`Self::alloc_aligned`].
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let _a = arena.alloc(4).unwrap();
    /// let placed = arena.place(24, 12).unwrap();
    /// assert_eq!((placed.range.offset, placed.range.size), (12, 24));
    /// ```
    pub fn place(&self, bytes: u64, align: u64) -> Result<Placement, ArenaError> {
        let (size, align) = self.core.checked_request(bytes, align)?;
        let mut state = self.state.lock();
        let (key, range) = state.place(&self.core, size, align, bytes)?;
        Ok(Placement {
            handle: ArenaHandle { key },
            range,
            buffer_generation: state.buffer_generation,
        })
    }

    /// Grows the buffer once, if needed, so that `bytes` more fit at its end: a caller
    /// about to allocate that much (a batch) pays one growth instead of several, each
    /// of which copies. Grows to at most the arena's `max_size`.
    ///
    /// # Errors
    /// [`ArenaError::Device`] when the device refuses the larger buffer; the arena is
    /// unchanged then.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &gpu_arena::ArenaDescriptor { initial_size: 1024, ..Default::default() }).unwrap();
    /// arena.reserve(1 << 20).unwrap();
    /// assert!(arena.stats().capacity >= 1 << 20);
    /// for _ in 0..256 { arena.alloc(4096).unwrap(); }
    /// assert_eq!(arena.stats().growth_count, 1);
    /// ```
    pub fn reserve(&self, bytes: u64) -> Result<(), ArenaError> {
        let mut state = self.state.lock();
        let tail = state.capacity - state.used_end();
        if tail >= bytes || state.capacity >= self.core.max_size {
            return Ok(());
        }
        let by_factor = (state.capacity as f64 * self.core.growth_factor).ceil() as u64;
        let target = state
            .used_end()
            .saturating_add(bytes)
            .max(by_factor)
            .next_multiple_of(UNIT)
            .min(self.core.max_size);
        state.grow_to(&self.core, target)
    }

    /// Whether a buffer of the arena is mapped for direct writes ([`mapped`]).
    pub(crate) fn is_mapped(&self) -> bool {
        self.state.lock().mapped.is_some()
    }

    /// Direct arenas: the owner is about to write `bytes` in one go (a batch), which
    /// decides whether a large fresh buffer is worth mapping ([`mapped`]).
    pub(crate) fn expect_writes(&self, bytes: u64) {
        if self.core.direct {
            self.state.lock().expected_fill = bytes;
        }
    }

    /// Notes that the owner recorded a copy into `handle`'s allocation: a later
    /// deferred growth copies it along, and a direct arena no longer counts as fresh.
    pub(crate) fn note_written(&self, handle: ArenaHandle) -> Result<(), ArenaError> {
        let mut state = self.state.lock();
        let slot = state.resolve(&self.core, handle)?;
        let end = slot.offset + slot.size;
        state.mark_written(end);
        Ok(())
    }

    /// For an owner about to record copies into `encoder`: realizes a waiting growth
    /// into it, then returns the buffer and the byte offset of each handle (`None` for
    /// stale ones), under one lock, noting the resolved ranges as written. Also says
    /// whether the buffer was replaced.
    pub(crate) fn resolve_for_copies(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        handles: impl Iterator<Item = ArenaHandle>,
    ) -> Result<(wgpu::Buffer, Vec<Option<u64>>, bool), ArenaError> {
        let mut state = self.state.lock();
        let replaced = state.realize(&self.core, Some(encoder))?;
        let mut end = 0;
        let offsets = handles
            .map(|h| {
                let slot = state.resolve(&self.core, h).ok()?;
                end = end.max(slot.offset + slot.size);
                Some(slot.offset)
            })
            .collect();
        state.mark_written(end);
        Ok((state.buffer.clone(), offsets, replaced))
    }

    /// The buffer a waiting deferred growth needs, created (the fallible half of
    /// landing it; nothing changes).
    pub(crate) fn prepare_growth(&self) -> Result<Option<wgpu::Buffer>, ArenaError> {
        self.state.lock().prepare_realize(&self.core)
    }

    /// Lands a deferred growth into `buffer` (from [`Self::prepare_growth`]), the copy
    /// recorded into `encoder`.
    pub(crate) fn finish_growth(&self, buffer: wgpu::Buffer, encoder: &mut wgpu::CommandEncoder) {
        self.state
            .lock()
            .finish_realize(&self.core, buffer, Some(encoder));
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
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let h = arena.alloc(16).unwrap();
    /// arena.free(h).unwrap();
    /// assert!(matches!(arena.free(h), Err(gpu_arena::ArenaError::StaleHandle { .. })));
    /// ```
    pub fn free(&self, handle: impl Into<ArenaHandle>) -> Result<(), ArenaError> {
        self.state.lock().free(&self.core, handle.into())
    }

    /// Frees every allocation at once (all handles become stale); the buffer and its
    /// capacity stay.
    ///
    /// Time: O(allocations).
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let h = arena.alloc(64).unwrap();
    /// arena.clear();
    /// assert!(arena.range(h).is_err());
    /// assert_eq!(arena.stats().live_allocations, 0);
    /// ```
    pub fn clear(&self) {
        let mut state = self.state.lock();
        let filled = state.used_end();
        // The allocator's handles go with the slots; `reset` takes a new identity, so
        // none of them could be honoured anyway.
        state.slots.clear();
        state.pending.clear();
        state.allocator.reset();
        // Nothing is live: a growth copies nothing, and a direct arena (a pool's)
        // may take a new mapped buffer at its next write ([`mapped`]).
        state.written_end = 0;
        if self.core.direct && state.mapped.is_none() {
            state.fresh = true;
            // A refill is expected to be like the fill it replaces.
            state.expected_fill = filled;
        }
    }

    /// The byte range of a live allocation.
    ///
    /// # Errors
    /// [`ArenaError::StaleHandle`] or [`ArenaError::ForeignHandle`].
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let h = arena.alloc(5).unwrap();
    /// let r = arena.range(h).unwrap();
    /// assert_eq!((r.offset, r.size, r.len), (0, 8, 5));
    /// ```
    pub fn range(&self, handle: impl Into<ArenaHandle>) -> Result<ArenaRange, ArenaError> {
        let state = self.state.lock();
        Ok(state.resolve(&self.core, handle.into())?.range())
    }

    /// The label given in the descriptor (or `arena #N`).
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &gpu_arena::ArenaDescriptor { label: Some("idx"), ..Default::default() }).unwrap();
    /// assert_eq!(arena.label(), "idx");
    /// ```
    pub fn label(&self) -> &str {
        &self.core.label
    }

    /// The staging memory batched uploads go through.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// assert_eq!(arena.staging().stats().bytes_staged, 0);
    /// ```
    pub fn staging(&self) -> &Staging {
        &self.staging
    }

    /// The largest size the buffer may grow to, and which limit that is.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &gpu_arena::ArenaDescriptor { max_size: 1 << 20, ..Default::default() }).unwrap();
    /// assert_eq!(arena.max_size(), (1 << 20, gpu_arena::Limit::MaxSize));
    /// ```
    pub fn max_size(&self) -> (u64, Limit) {
        (self.core.max_size, self.core.max_size_limit)
    }
}
