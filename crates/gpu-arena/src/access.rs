//! Uploads, typed allocations, buffer slices and bindings, and readback.

use std::marker::PhantomData;
use std::num::NonZeroU64;

use bytemuck::Pod;

use crate::arena::{Arena, State, UNIT};
use crate::error::{ArenaError, Limit};
use crate::handle::{ArenaHandle, ArenaRange, ElementRange, TypedHandle};

/// A snapshot of where an allocation lives: the buffer (a cheap clone), its byte
/// range and the buffer generation. It stays valid until the arena grows (or
/// compacts): compare `buffer_generation` with [`Arena::buffer_generation`].
///
/// ```
/// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
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
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
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
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
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
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let _one = arena.alloc_slice(&[0u8; 5]).unwrap();
    /// let verts = arena.alloc_slice(&[[0.5f32; 3]; 4]).unwrap(); // 12-byte stride
    /// assert_eq!(arena.elements(verts).unwrap(), gpu_arena::ElementRange { first: 1, count: 4 });
    /// ```
    pub fn alloc_slice<T: Pod>(&self, data: &[T]) -> Result<TypedHandle<T>, ArenaError> {
        let bytes: &[u8] = bytemuck::cast_slice(data);
        let element = size_of::<T>() as u64;
        let handle = self.alloc_aligned(bytes.len() as u64, element.max(1))?;
        if let Err(err) = self.write(handle, 0, bytes) {
            let _ = self.free(handle);
            return Err(err);
        }
        Ok(TypedHandle {
            raw: handle,
            _marker: PhantomData,
        })
    }

    /// Allocates room for `count` elements of `T` (aligned as [`Self::alloc_slice`])
    /// without uploading anything.
    ///
    /// # Errors
    /// As [`Arena::alloc`].
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let h = arena.alloc_elements::<[u32; 5]>(10).unwrap();
    /// assert_eq!(arena.elements(h).unwrap().count, 10);
    /// ```
    pub fn alloc_elements<T: Pod>(&self, count: u64) -> Result<TypedHandle<T>, ArenaError> {
        let element = size_of::<T>() as u64;
        let bytes = count
            .checked_mul(element)
            .ok_or_else(|| ArenaError::OverLimit {
                label: self.label.clone(),
                requested: count.saturating_mul(element),
                limit: self.max_size,
                what: self.max_size_limit,
            })?;
        let raw = self.alloc_aligned(bytes, element.max(1))?;
        Ok(TypedHandle {
            raw,
            _marker: PhantomData,
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
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
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
        let handle = handle.into();
        let state = self.state.lock();
        let (at, padded) = self.check_write(&state, handle, offset, data.len() as u64)?;
        if padded == data.len() as u64 {
            self.queue.write_buffer(&state.buffer, at, data);
        } else {
            // Ends the allocation: pad inside its reserved tail.
            let size = NonZeroU64::new(padded).unwrap_or(NonZeroU64::MIN);
            let Some(mut view) = self.queue.write_buffer_with(&state.buffer, at, size) else {
                return Err(ArenaError::Device {
                    label: self.label.clone(),
                    requested: padded,
                    reason: "queue.write_buffer_with refused the write".into(),
                });
            };
            view.slice(..data.len()).copy_from_slice(data);
            view.slice(data.len()..).fill(0);
        }
        Ok(())
    }

    /// Checks a write of `len` bytes at `offset` into `handle`'s allocation against the
    /// rules of [`Self::write`]; returns its byte offset in the buffer and its length
    /// padded to 4.
    pub(crate) fn check_write(
        &self,
        state: &State,
        handle: ArenaHandle,
        offset: u64,
        len: u64,
    ) -> Result<(u64, u64), ArenaError> {
        if len == 0 {
            return Err(ArenaError::ZeroSize);
        }
        if !offset.is_multiple_of(UNIT) {
            return Err(self.misaligned(offset, UNIT, "write offset"));
        }
        let slot = self.resolve(state, handle)?;
        let Some(end) = offset.checked_add(len).filter(|end| *end <= slot.len) else {
            return Err(ArenaError::OutOfBounds {
                label: self.label.clone(),
                handle: handle.id(),
                offset,
                len,
                size: slot.len,
            });
        };
        if !len.is_multiple_of(UNIT) && end != slot.len {
            return Err(self.misaligned(len, UNIT, "write length (not ending the allocation)"));
        }
        Ok((slot.offset + offset, len.next_multiple_of(UNIT)))
    }

    /// Writes elements at `first` (an element index within the allocation).
    ///
    /// # Errors
    /// As [`Self::write`].
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
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
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let _a = arena.alloc_slice(&[0u16; 3]).unwrap(); // 6 bytes, reserved 8
    /// let b = arena.alloc_slice(&[0u16; 6]).unwrap();
    /// assert_eq!(arena.elements(b).unwrap().first, 4);
    /// ```
    pub fn elements<T>(&self, handle: TypedHandle<T>) -> Result<ElementRange, ArenaError> {
        let range = self.range(handle.raw)?;
        let element = (size_of::<T>() as u64).max(1);
        let first = u32::try_from(range.offset / element);
        let count = u32::try_from(range.len / element);
        match (first, count) {
            (Ok(first), Ok(count)) => Ok(ElementRange { first, count }),
            _ => Err(ArenaError::OverLimit {
                label: self.label.clone(),
                requested: (range.offset + range.len) / element,
                limit: u64::from(u32::MAX),
                what: Limit::ElementIndex,
            }),
        }
    }

    /// The error for `value` not being a multiple of `required`.
    pub(crate) fn misaligned(&self, value: u64, required: u64, what: &'static str) -> ArenaError {
        ArenaError::Misaligned {
            label: self.label.clone(),
            value,
            required,
            what,
        }
    }

    /// A snapshot of the buffer and the allocation's range, for `set_vertex_buffer`,
    /// `set_index_buffer` or a bind group.
    ///
    /// # Errors
    /// A stale or foreign handle.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let h = arena.alloc(64).unwrap();
    /// assert_eq!(arena.slice(h).unwrap().range.size, 64);
    /// ```
    pub fn slice(&self, handle: impl Into<ArenaHandle>) -> Result<ArenaSlice, ArenaError> {
        let state = self.state.lock();
        let slot = self.resolve(&state, handle.into())?;
        Ok(ArenaSlice {
            buffer: state.buffer.clone(),
            range: slot.range(),
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
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
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
        if !slice.range.offset.is_multiple_of(self.bind_alignment) {
            return Err(self.misaligned(slice.range.offset, self.bind_alignment, "binding offset"));
        }
        self.check_binding_size(slice.range.size)?;
        Ok(slice)
    }

    /// The alignment [`Self::alloc_bindable`] uses.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// assert_eq!(arena.bind_alignment() % 4, 0);
    /// ```
    pub fn bind_alignment(&self) -> u64 {
        self.bind_alignment
    }

    /// The current buffer (a cheap clone). It changes when the arena grows.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// assert_eq!(arena.buffer().size(), 1 << 20);
    /// ```
    pub fn buffer(&self) -> wgpu::Buffer {
        self.state.lock().buffer.clone()
    }

    /// Bumped every time the buffer is replaced (growth): rebuild bind groups and
    /// re-bind vertex / index buffers when it changes.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let before = arena.buffer_generation();
    /// arena.alloc(4 << 20).unwrap(); // more than the initial 1 MiB
    /// assert_eq!(arena.buffer_generation(), before + 1);
    /// ```
    pub fn buffer_generation(&self) -> u32 {
        self.state.lock().buffer_generation
    }

    /// Copies an allocation's requested bytes back from the GPU (blocking: submits a
    /// copy, maps a staging buffer and waits). For tests and debugging.
    ///
    /// # Errors
    /// A stale or foreign handle, or [`ArenaError::Readback`].
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let h = arena.alloc_slice(b"hello").unwrap();
    /// assert_eq!(arena.read(h).unwrap(), b"hello");
    /// ```
    pub fn read(&self, handle: impl Into<ArenaHandle>) -> Result<Vec<u8>, ArenaError> {
        let (staging, len, submission) = {
            let state = self.state.lock();
            let slot = self.resolve(&state, handle.into())?;
            let (staging, submission) = self.copy_out(&state.buffer, slot.offset, slot.size);
            (staging, slot.len, submission)
        };
        read_back(&self.device, &staging, submission, len)
    }

    /// [`Self::read`] as elements of `T`.
    ///
    /// # Errors
    /// As [`Self::read`].
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let h = arena.alloc_slice(&[1.5f32, 2.5]).unwrap();
    /// assert_eq!(arena.read_slice(h).unwrap(), [1.5, 2.5]);
    /// ```
    pub fn read_slice<T: Pod>(&self, handle: TypedHandle<T>) -> Result<Vec<T>, ArenaError> {
        Ok(bytemuck::pod_collect_to_vec(&self.read(handle.raw)?))
    }

    /// Reads the whole buffer back (blocking), e.g. to check many allocations at once.
    ///
    /// # Errors
    /// [`ArenaError::Readback`].
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let h = arena.alloc_slice(&[9u8; 4]).unwrap();
    /// let all = arena.read_all().unwrap();
    /// let r = arena.range(h).unwrap();
    /// assert_eq!(&all[r.offset as usize..][..4], [9; 4]);
    /// ```
    pub fn read_all(&self) -> Result<Vec<u8>, ArenaError> {
        let (staging, len, submission) = {
            let state = self.state.lock();
            let (staging, submission) = self.copy_out(&state.buffer, 0, state.capacity);
            (staging, state.capacity, submission)
        };
        read_back(&self.device, &staging, submission, len)
    }

    /// Copies `size` bytes at `offset` of `buffer` into a new mappable staging buffer
    /// and submits the copy.
    fn copy_out(
        &self,
        buffer: &wgpu::Buffer,
        offset: u64,
        size: u64,
    ) -> (wgpu::Buffer, wgpu::SubmissionIndex) {
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("gpu-arena readback"),
            size,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("gpu-arena readback"),
            });
        encoder.copy_buffer_to_buffer(buffer, offset, &staging, 0, size);
        let submission = self.queue.submit([encoder.finish()]);
        (staging, submission)
    }
}

/// Maps `staging` once `submission` is done and returns its first `len` bytes.
pub(crate) fn read_back(
    device: &wgpu::Device,
    staging: &wgpu::Buffer,
    submission: wgpu::SubmissionIndex,
    len: u64,
) -> Result<Vec<u8>, ArenaError> {
    let (sender, receiver) = std::sync::mpsc::channel();
    staging
        .slice(..)
        .map_async(wgpu::MapMode::Read, move |result| {
            let _ = sender.send(result);
        });
    device
        .poll(wgpu::PollType::Wait {
            submission_index: Some(submission),
            timeout: None,
        })
        .map_err(|e| ArenaError::Readback {
            reason: e.to_string(),
        })?;
    match receiver.recv() {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            return Err(ArenaError::Readback {
                reason: e.to_string(),
            });
        }
        Err(e) => {
            return Err(ArenaError::Readback {
                reason: e.to_string(),
            });
        }
    }
    let bytes = {
        let view = staging
            .get_mapped_range(..)
            .map_err(|e| ArenaError::Readback {
                reason: format!("{e:?}"),
            })?;
        view[..len as usize].to_vec()
    };
    staging.unmap();
    Ok(bytes)
}
