//! Writes, typed allocations, element ranges, buffer slices and bindings.

use std::marker::PhantomData;
use std::num::NonZeroU64;

use bytemuck::Pod;

use crate::arena::Arena;
use crate::arena::state::{Growth, State};
use crate::error::{ArenaError, Limit};
use crate::handle::{ArenaHandle, ArenaRange, ElementRange, TypedHandle, TypedPlacement};
use crate::slots::Key;
use crate::staging::ElementWriter;

/// A snapshot of where an allocation lives: the buffer (a cheap clone), its byte
/// range and the buffer generation. It stays valid until the arena grows (or
/// compacts): compare `buffer_generation` with [`Arena::buffer_generation`].
///
/// ```
/// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
/// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
/// let h = arena.alloc_slice(&[1.0f32; 9]).unwrap();
/// let s = arena.slice(h).unwrap();
/// assert_eq!(s.slice().size(), 36);
/// ```
#[derive(Clone, Debug)]
pub struct ArenaSlice {
    /// The arena's buffer at the time of the call.
    pub buffer: wgpu::Buffer,
    /// The allocation's bytes in it.
    pub range: ArenaRange,
    /// The buffer generation this snapshot belongs to.
    pub buffer_generation: u32,
}

impl ArenaSlice {
    /// The requested bytes as a `wgpu::BufferSlice`, for `set_vertex_buffer` and
    /// `set_index_buffer`.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let s = arena.slice(arena.alloc_slice(&[0u16; 3]).unwrap()).unwrap();
    /// assert_eq!(s.slice().offset(), 0);
    /// ```
    pub fn slice(&self) -> wgpu::BufferSlice<'_> {
        self.buffer
            .slice(self.range.offset..self.range.offset + self.range.len)
    }

    /// The reserved bytes as a `wgpu::BufferBinding` for a bind group entry. Use
    /// [`Arena::binding`] to get one that is checked against the device's offset
    /// alignment.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let s = arena.slice(arena.alloc(10).unwrap()).unwrap();
    /// assert_eq!(s.binding().size.unwrap().get(), 12);
    /// ```
    pub fn binding(&self) -> wgpu::BufferBinding<'_> {
        wgpu::BufferBinding {
            buffer: &self.buffer,
            offset: self.range.offset,
            size: NonZeroU64::new(self.range.size),
        }
    }
}

impl Arena {
    /// Allocates room for `data` aligned to its element size (and to 4), and uploads
    /// it with `queue.write_buffer`. The offset is a multiple of `size_of::<T>()`, so
    /// [`Self::elements`] gives exact first-element indices for any stride (12, 20...).
    ///
    /// # Errors
    /// As [`Arena::alloc`]; [`ArenaError::ZeroSize`] for an empty slice.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let _one = arena.alloc_slice(&[0u8; 5]).unwrap();
    /// let verts = arena.alloc_slice(&[[0.5f32; 3]; 4]).unwrap(); // 12-byte stride
    /// assert_eq!(arena.elements(verts).unwrap(), gpu_arena::ElementRange { first: 1, count: 4 });
    /// ```
    pub fn alloc_slice<T: Pod>(&self, data: &[T]) -> Result<TypedHandle<T>, ArenaError> {
        Ok(self.place_slice(data)?.handle)
    }

    /// [`Self::alloc_slice`] that returns where the data landed (byte and element
    /// ranges) with its handle; the allocation and the upload take one lock.
    ///
    /// # Errors
    /// As [`Self::alloc_slice`]; nothing stays allocated on error.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let _a = arena.alloc(8).unwrap();
    /// let placed = arena.place_slice(&[[0.5f32; 3]; 4]).unwrap(); // 12-byte stride
    /// assert_eq!((placed.elements.first, placed.elements.count), (1, 4));
    /// ```
    pub fn place_slice<T: Pod>(&self, data: &[T]) -> Result<TypedPlacement<T>, ArenaError> {
        let bytes: &[u8] = bytemuck::cast_slice(data);
        let element = (size_of::<T>() as u64).max(1);
        let (size, align) = self.core.checked_request(bytes.len() as u64, element)?;
        let mut state = self.state.lock();
        let (key, range) = state.place(&self.core, size, align, bytes.len() as u64)?;
        self.typed_placement(&mut state, key, range, element, |state| {
            state.write_at(&self.core, range.offset, range.size, bytes)
        })
    }

    /// The typed placement of the allocation `key` just placed at `range`, in
    /// elements of `element` bytes, once `then` (a write, a mapping) has succeeded
    /// under the same lock; on an error the allocation is freed again.
    fn typed_placement<T: Pod>(
        &self,
        state: &mut State,
        key: Key,
        range: ArenaRange,
        element: u64,
        then: impl FnOnce(&mut State) -> Result<(), ArenaError>,
    ) -> Result<TypedPlacement<T>, ArenaError> {
        let handle = ArenaHandle { key };
        let placed = self
            .elements_at(range.offset, range.len, element)
            .and_then(|elements| {
                then(state)?;
                Ok(elements)
            });
        match placed {
            Ok(elements) => Ok(TypedPlacement {
                handle: TypedHandle {
                    raw: handle,
                    _marker: PhantomData,
                },
                range,
                elements,
                buffer_generation: state.buffer_generation,
            }),
            Err(e) => {
                let freed = state.free(&self.core, handle);
                debug_assert!(freed.is_ok(), "{freed:?}");
                Err(e)
            }
        }
    }

    /// The element range of `len` bytes of `element`-byte elements at byte `offset`:
    /// both must be nameable by `u32` element indices.
    fn elements_at(&self, offset: u64, len: u64, element: u64) -> Result<ElementRange, ArenaError> {
        match (
            u32::try_from(offset / element),
            u32::try_from(len / element),
        ) {
            (Ok(first), Ok(count)) => Ok(ElementRange { first, count }),
            _ => Err(self.core.over_limit(
                (offset + len) / element,
                Limit::ElementIndex,
                u64::from(u32::MAX),
            )),
        }
    }

    /// Allocates room for `count` elements of `T` (aligned as [`Self::alloc_slice`])
    /// without uploading anything.
    ///
    /// # Errors
    /// As [`Arena::alloc`].
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let h = arena.alloc_elements::<[u32; 5]>(10).unwrap();
    /// assert_eq!(arena.elements(h).unwrap().count, 10);
    /// ```
    pub fn alloc_elements<T: Pod>(&self, count: u64) -> Result<TypedHandle<T>, ArenaError> {
        Ok(self.place_elements::<T>(count)?.handle)
    }

    /// [`Self::alloc_elements`] that returns where the elements will be (byte and
    /// element ranges) with the handle, under the one lock it takes.
    ///
    /// # Errors
    /// As [`Arena::alloc`].
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let placed = arena.place_elements::<u16>(6).unwrap();
    /// assert_eq!((placed.elements.count, placed.range.len), (6, 12));
    /// ```
    pub fn place_elements<T: Pod>(&self, count: u64) -> Result<TypedPlacement<T>, ArenaError> {
        self.place_elements_with(count, Growth::Always, false)
    }

    /// [`Self::place_elements`], growing as `growth` allows; a refused growth is
    /// [`ArenaError::OutOfSpace`]. With `map_for_writes`, a direct arena whose
    /// buffer is fresh maps one for the writes that follow ([`Self::direct_writes`];
    /// the placement's buffer generation then tells).
    pub(crate) fn place_elements_with<T: Pod>(
        &self,
        count: u64,
        growth: Growth,
        map_for_writes: bool,
    ) -> Result<TypedPlacement<T>, ArenaError> {
        let element = (size_of::<T>() as u64).max(1);
        let bytes = count.checked_mul(element).ok_or_else(|| {
            self.core.over_limit(
                count.saturating_mul(element),
                self.core.max_size_limit,
                self.core.max_size,
            )
        })?;
        let (size, align) = self.core.checked_request(bytes, element)?;
        let mut state = self.state.lock();
        let (key, range) = state.place_with(&self.core, size, align, bytes, growth)?;
        self.typed_placement(&mut state, key, range, element, |state| {
            if map_for_writes {
                state.map_for_writes(&self.core, range.size);
            }
            Ok(())
        })
    }

    /// Writes `data` at `offset` bytes into an allocation with `queue.write_buffer`.
    ///
    /// The offset must be a multiple of 4, and so must the length unless the write
    /// ends exactly at the end of the allocation: the padding up to 4 bytes then
    /// falls in the allocation's own reserved tail, never on a neighbour or on data
    /// the caller wrote before.
    ///
    /// # Errors
    /// [`ArenaError::ZeroSize`], [`ArenaError::Misaligned`],
    /// [`ArenaError::OutOfBounds`], or a stale or foreign handle.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let h = arena.alloc(7).unwrap();
    /// arena.write(h, 0, &[1, 2, 3, 4]).unwrap();
    /// arena.write(h, 4, &[5, 6, 7]).unwrap(); // ends at the end: padded inside
    /// assert_eq!(arena.read(h).unwrap(), [1, 2, 3, 4, 5, 6, 7]);
    /// assert!(arena.write(h, 4, &[0; 4]).is_err()); // past the 7 bytes
    /// ```
    pub fn write(
        &self,
        handle: impl Into<ArenaHandle>,
        offset: u64,
        data: &[u8],
    ) -> Result<(), ArenaError> {
        let mut state = self.state.lock();
        let (at, padded) =
            state.check_write(&self.core, handle.into(), offset, data.len() as u64)?;
        state.write_at(&self.core, at, padded, data)
    }

    /// Writes `len` bytes at `offset` into an allocation, produced by `fill` straight
    /// into the queue's staging memory (`queue.write_buffer_with`): generated data need
    /// not be built in a `Vec` first. Same rules and visibility as [`Self::write`]; the
    /// view `fill` gets is `len` bytes long and must be written whole.
    ///
    /// # Errors
    /// As [`Self::write`].
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let h = arena.alloc(8).unwrap();
    /// arena.write_with(h, 0, 8, |bytes| bytes.write_iter(0..8u8)).unwrap();
    /// assert_eq!(arena.read(h).unwrap(), [0, 1, 2, 3, 4, 5, 6, 7]);
    /// ```
    pub fn write_with(
        &self,
        handle: impl Into<ArenaHandle>,
        offset: u64,
        len: u64,
        fill: impl FnOnce(wgpu::WriteOnly<'_, [u8]>),
    ) -> Result<(), ArenaError> {
        let mut state = self.state.lock();
        let (at, padded) = state.check_write(&self.core, handle.into(), offset, len)?;
        state.realize(&self.core, None)?;
        state.mark_written(at + padded);
        let size = std::num::NonZeroU64::new(padded).unwrap_or(std::num::NonZeroU64::MIN);
        let Some(mut view) = self.core.queue.write_buffer_with(&state.buffer, at, size) else {
            return Err(ArenaError::Device {
                label: self.core.label.clone(),
                requested: padded,
                reason: "queue.write_buffer_with refused the write".into(),
            });
        };
        let (data, mut padding) = view.slice(..).split_at(len as usize);
        fill(data);
        padding.fill(0);
        Ok(())
    }

    /// [`Self::write_with`] for `count` elements of `T` at element index `first`,
    /// written through an [`ElementWriter`] (wgpu exposes mapped memory as write-only
    /// bytes; the writer is the safe typed view of them).
    ///
    /// # Errors
    /// As [`Self::write`].
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let h = arena.alloc_elements::<[f32; 2]>(3).unwrap();
    /// arena.write_elements_with(h, 0, 3, |mut w| w.write_iter((0..3).map(|i| [i as f32; 2]))).unwrap();
    /// assert_eq!(arena.read_slice(h).unwrap(), [[0.0; 2], [1.0; 2], [2.0; 2]]);
    /// ```
    pub fn write_elements_with<T: Pod>(
        &self,
        handle: TypedHandle<T>,
        first: u64,
        count: u64,
        fill: impl FnOnce(ElementWriter<'_, T>),
    ) -> Result<(), ArenaError> {
        let element = size_of::<T>() as u64;
        self.write_with(handle.raw, first * element, count * element, |bytes| {
            fill(ElementWriter::new(bytes));
        })
    }

    /// Writes elements at `first` (an element index within the allocation).
    ///
    /// # Errors
    /// As [`Self::write`].
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let h = arena.alloc_slice(&[0u32; 4]).unwrap();
    /// arena.write_slice(h, 2, &[7u32, 8]).unwrap();
    /// assert_eq!(arena.read_slice(h).unwrap(), [0, 0, 7, 8]);
    /// ```
    pub fn write_slice<T: Pod>(
        &self,
        handle: TypedHandle<T>,
        first: u64,
        data: &[T],
    ) -> Result<(), ArenaError> {
        self.write(
            handle.raw,
            first * size_of::<T>() as u64,
            bytemuck::cast_slice(data),
        )
    }

    /// First element and element count of a typed allocation: `base_vertex` for
    /// vertices, `first_index` / `index_count` for indices.
    ///
    /// # Errors
    /// A stale or foreign handle.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let _a = arena.alloc_slice(&[0u16; 3]).unwrap(); // 6 bytes, reserved 8
    /// let b = arena.alloc_slice(&[0u16; 6]).unwrap();
    /// assert_eq!(arena.elements(b).unwrap().first, 4);
    /// ```
    pub fn elements<T>(&self, handle: TypedHandle<T>) -> Result<ElementRange, ArenaError> {
        let range = self.range(handle.raw)?;
        self.elements_at(range.offset, range.len, (size_of::<T>() as u64).max(1))
    }

    /// A snapshot of the buffer and the allocation's range, for `set_vertex_buffer`,
    /// `set_index_buffer` or a bind group.
    ///
    /// # Errors
    /// A stale or foreign handle.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let h = arena.alloc(64).unwrap();
    /// assert_eq!(arena.slice(h).unwrap().range.size, 64);
    /// ```
    pub fn slice(&self, handle: impl Into<ArenaHandle>) -> Result<ArenaSlice, ArenaError> {
        let mut state = self.state.lock();
        let range = state.resolve(&self.core, handle.into())?.range();
        Ok(ArenaSlice {
            buffer: state.buffer_now(&self.core)?.clone(),
            range,
            buffer_generation: state.buffer_generation,
        })
    }

    /// Like [`Self::slice`], checked for binding as a storage or uniform buffer: the
    /// offset must honour the device's offset alignment for the arena's usage, and the
    /// size its binding size limit (allocate with [`Self::alloc_bindable`]).
    ///
    /// # Errors
    /// [`ArenaError::Misaligned`], [`ArenaError::OverLimit`] naming the binding size
    /// limit, or a stale or foreign handle.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// use gpu_arena::{Arena, ArenaDescriptor};
    /// let arena = Arena::new(&gpu.device, &gpu.queue, &ArenaDescriptor { usage: wgpu::BufferUsages::STORAGE, ..Default::default() }).unwrap();
    /// let _a = arena.alloc(4).unwrap();
    /// let b = arena.alloc(4).unwrap();
    /// assert!(arena.binding(b).is_err()); // offset 4 cannot be bound as storage
    /// let c = arena.alloc_bindable(4).unwrap();
    /// let slice = arena.binding(c).unwrap();
    /// let _binding: wgpu::BufferBinding<'_> = slice.binding();
    /// ```
    pub fn binding(&self, handle: impl Into<ArenaHandle>) -> Result<ArenaSlice, ArenaError> {
        let slice = self.slice(handle)?;
        if !slice.range.offset.is_multiple_of(self.core.bind_alignment) {
            return Err(self.core.misaligned(
                slice.range.offset,
                self.core.bind_alignment,
                "binding offset",
            ));
        }
        self.core.check_binding_size(slice.range.size)?;
        Ok(slice)
    }

    /// The alignment [`Self::alloc_bindable`] uses.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// assert_eq!(arena.bind_alignment() % 4, 0);
    /// ```
    pub fn bind_alignment(&self) -> u64 {
        self.core.bind_alignment
    }

    /// The current buffer (a cheap clone). It changes when the arena grows.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// assert_eq!(arena.buffer().size(), 1 << 20);
    /// ```
    pub fn buffer(&self) -> wgpu::Buffer {
        let mut state = self.state.lock();
        // Only the pools' deferred arenas can have a growth waiting here, and they
        // realize it in their commit before any buffer is handed out.
        if let Err(e) = state.realize(&self.core, None) {
            log::error!(
                "{}: the grown buffer could not be created: {e}",
                self.core.label
            );
        }
        state.buffer.clone()
    }

    /// Bumped every time the buffer is replaced (growth): rebuild bind groups and
    /// re-bind vertex / index buffers when it changes.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let before = arena.buffer_generation();
    /// arena.alloc(4 << 20).unwrap(); // more than the initial 1 MiB
    /// assert_eq!(arena.buffer_generation(), before + 1);
    /// ```
    pub fn buffer_generation(&self) -> u32 {
        self.state.lock().buffer_generation
    }
}
