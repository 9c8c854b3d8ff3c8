//! [`Staging`]: mapped upload memory shared by arenas, batches and pools, with a bound.
//!
//! Uploads are written (by copy, or in place through [`ElementWriter`]) into chunks of
//! `MAP_WRITE | COPY_SRC` buffers that stay mapped while they are written. Each
//! writer ([`StagingWriter`]: a batch, a pool's pending inserts) has chunks of its
//! own; when it has recorded its copies into an encoder it closes them: they are
//! unmapped, and `map_buffer_on_submit` maps them again once that encoder's work is
//! done, so a chunk is never written while the GPU may read it, and never mapped
//! before the encoder that reads it was submitted. Mapped chunks go back to one free
//! list shared by every writer (warm memory: no first-touch page faults).
//!
//! Unlike `wgpu::util::StagingBelt`, which never frees a chunk (wgpu issue #1441),
//! [`Staging::maintain`] (once per frame) releases free chunks that went unused for
//! `idle_frames` frames while the free chunks hold more than `max_free_bytes`.
//! [`Staging::stats`] reports what is staged, in flight and free.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use bytemuck::Pod;
use parking_lot::Mutex;

use crate::arena::core::try_create_buffer_mapped;
use crate::error::ArenaError;

mod element;
pub use element::ElementWriter;

/// How a [`Staging`] is created. Every field has a default.
///
/// ```
/// let desc = gpu_arena::StagingDescriptor::default();
/// assert_eq!((desc.chunk_size, desc.idle_frames), (4 << 20, 60));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StagingDescriptor<'a> {
    /// Label of the chunk buffers. Default: `staging`.
    pub label: Option<&'a str>,
    /// Bytes of a chunk; a larger write gets a chunk of its own size. Capped at the
    /// device's `max_buffer_size`. Default: 4 MiB.
    pub chunk_size: u64,
    /// Free chunks are kept up to this many bytes whatever their age. Default: 16 MiB.
    pub max_free_bytes: u64,
    /// Past `max_free_bytes`, a free chunk unused for this many frames
    /// ([`Staging::maintain`] calls) is released. Default: 60.
    pub idle_frames: u32,
}

impl Default for StagingDescriptor<'_> {
    fn default() -> Self {
        StagingDescriptor {
            label: None,
            chunk_size: 4 << 20,
            max_free_bytes: 16 << 20,
            idle_frames: 60,
        }
    }
}

/// What a [`Staging`] holds now, and has staged so far.
///
/// ```
/// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
/// let staging = gpu_arena::Staging::new(&gpu.device, &Default::default());
/// let stats = staging.stats();
/// assert_eq!((stats.chunks_free, stats.bytes_staged), (0, 0));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StagingStats {
    /// Bytes written into staging memory since creation.
    pub bytes_staged: u64,
    /// Chunks being written (held by writers).
    pub chunks_active: usize,
    /// Chunks closed and waiting for the GPU (unmapped until their work is done).
    pub chunks_in_flight: usize,
    /// Chunks mapped and ready to be written.
    pub chunks_free: usize,
    /// Bytes of every chunk the staging holds (active, in flight and free).
    pub bytes_live: u64,
    /// Bytes of the free chunks.
    pub bytes_free: u64,
    /// Chunks released by the idle policy since creation.
    pub chunks_released: u64,
}

/// A mapped chunk.
struct Chunk {
    buffer: wgpu::Buffer,
    /// The whole chunk, mapped for writing, while the chunk is active.
    view: Option<wgpu::BufferViewMut>,
    /// Next free byte.
    cursor: u64,
    /// Frame of the last use.
    last_used: u64,
}

impl Chunk {
    fn size(&self) -> u64 {
        self.buffer.size()
    }
}

/// A closed chunk: unmapped, to be mapped again after its encoder's work is done.
struct InFlight {
    buffer: wgpu::Buffer,
    /// 0 while waiting, 1 mapped, 2 mapping failed.
    state: Arc<AtomicU8>,
    last_used: u64,
}

struct Inner {
    free: Vec<Chunk>,
    in_flight: Vec<InFlight>,
    active: usize,
    frame: u64,
    stats: StagingStats,
}

struct Shared {
    device: wgpu::Device,
    label: String,
    chunk_size: u64,
    max_free_bytes: u64,
    idle_frames: u32,
    inner: Mutex<Inner>,
}

/// Upload memory shared by writers; see the [module docs](crate::Staging).
///
/// Cheap to clone: clones share the chunks. Give the same `Staging` to several arenas
/// and pools (through their descriptors) so they reuse one set of warm chunks.
///
/// ```
/// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
/// use gpu_arena::{Arena, ArenaDescriptor, Staging};
/// let staging = Staging::new(&gpu.device, &Default::default());
/// let arena = Arena::new(&gpu.device, &gpu.queue, &ArenaDescriptor { staging: Some(staging.clone()), ..Default::default() }).unwrap();
/// let h = arena.alloc(64).unwrap();
/// let mut batch = arena.batch();
/// batch.write(h, 0, &[1; 64]).unwrap();
/// batch.submit().unwrap();
/// assert_eq!(staging.stats().bytes_staged, 64);
/// ```
#[derive(Clone)]
pub struct Staging {
    shared: Arc<Shared>,
}

impl Staging {
    /// A staging with no chunk yet.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// let staging = gpu_arena::Staging::new(&gpu.device, &gpu_arena::StagingDescriptor { chunk_size: 1 << 16, ..Default::default() });
    /// assert_eq!(staging.stats().bytes_live, 0);
    /// ```
    // wgpu's handles are neither Send nor Sync on the web, which is single-threaded.
    #[cfg_attr(target_arch = "wasm32", allow(clippy::arc_with_non_send_sync))]
    pub fn new(device: &wgpu::Device, desc: &StagingDescriptor<'_>) -> Staging {
        let max = device.limits().max_buffer_size / 4 * 4;
        Staging {
            shared: Arc::new(Shared {
                device: device.clone(),
                label: desc.label.unwrap_or("staging").to_owned(),
                chunk_size: desc.chunk_size.clamp(4, max.max(4)).next_multiple_of(4),
                max_free_bytes: desc.max_free_bytes,
                idle_frames: desc.idle_frames,
                inner: Mutex::new(Inner {
                    free: Vec::new(),
                    in_flight: Vec::new(),
                    active: 0,
                    frame: 0,
                    stats: StagingStats::default(),
                }),
            }),
        }
    }

    /// A writer with chunks of its own, returned to this staging when it closes.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// let staging = gpu_arena::Staging::new(&gpu.device, &Default::default());
    /// let writer = staging.writer();
    /// # drop(writer);
    /// ```
    pub fn writer(&self) -> StagingWriter {
        StagingWriter {
            staging: self.clone(),
            chunks: Vec::new(),
        }
    }

    /// Once per frame: chunks whose GPU work is done become free again, and free
    /// chunks unused for `idle_frames` frames are released while the free chunks hold
    /// more than `max_free_bytes`. Does not block (it polls the device).
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// let staging = gpu_arena::Staging::new(&gpu.device, &Default::default());
    /// staging.maintain();
    /// ```
    pub fn maintain(&self) {
        let _ = self.shared.device.poll(wgpu::PollType::Poll);
        let mut inner = self.shared.inner.lock();
        inner.frame += 1;
        self.collect(&mut inner);
        let frame = inner.frame;
        let idle = u64::from(self.shared.idle_frames);
        // Oldest first; release while over the cap.
        inner.free.sort_unstable_by_key(|c| c.last_used);
        let mut free_bytes: u64 = inner.free.iter().map(Chunk::size).sum();
        let mut kept = Vec::with_capacity(inner.free.len());
        for chunk in std::mem::take(&mut inner.free) {
            if free_bytes > self.shared.max_free_bytes && chunk.last_used + idle < frame {
                free_bytes -= chunk.size();
                inner.stats.chunks_released += 1;
                inner.stats.bytes_live -= chunk.size();
                chunk.buffer.destroy();
            } else {
                kept.push(chunk);
            }
        }
        inner.free = kept;
    }

    /// Where the staging stands.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// let staging = gpu_arena::Staging::new(&gpu.device, &Default::default());
    /// assert_eq!(staging.stats().chunks_in_flight, 0);
    /// ```
    pub fn stats(&self) -> StagingStats {
        let mut inner = self.shared.inner.lock();
        self.collect(&mut inner);
        StagingStats {
            chunks_active: inner.active,
            chunks_in_flight: inner.in_flight.len(),
            chunks_free: inner.free.len(),
            bytes_free: inner.free.iter().map(Chunk::size).sum(),
            ..inner.stats
        }
    }

    /// Moves chunks whose mapping completed to the free list.
    fn collect(&self, inner: &mut Inner) {
        let mut waiting = Vec::with_capacity(inner.in_flight.len());
        for chunk in std::mem::take(&mut inner.in_flight) {
            match chunk.state.load(Ordering::Acquire) {
                0 => waiting.push(chunk),
                1 => {
                    let view = chunk.buffer.get_mapped_range_mut(..).ok();
                    inner.free.push(Chunk {
                        buffer: chunk.buffer,
                        view,
                        cursor: 0,
                        last_used: chunk.last_used,
                    });
                }
                _ => {
                    inner.stats.bytes_live -= chunk.buffer.size();
                    chunk.buffer.destroy();
                }
            }
        }
        inner.in_flight = waiting;
    }

    /// A free chunk of at least `size` bytes, or a new one.
    fn take(&self, size: u64) -> Result<Chunk, ArenaError> {
        let mut inner = self.shared.inner.lock();
        self.collect(&mut inner);
        let fits = inner
            .free
            .iter()
            .enumerate()
            .filter(|(_, c)| c.size() >= size && c.view.is_some())
            .min_by_key(|(_, c)| c.size())
            .map(|(k, _)| k);
        let chunk = match fits {
            Some(k) => inner.free.swap_remove(k),
            None => {
                drop(inner);
                let bytes = size.max(self.shared.chunk_size);
                let buffer = try_create_buffer_mapped(
                    &self.shared.device,
                    &self.shared.label,
                    bytes,
                    wgpu::BufferUsages::MAP_WRITE | wgpu::BufferUsages::COPY_SRC,
                )
                .map_err(|reason| ArenaError::Device {
                    label: self.shared.label.clone(),
                    requested: bytes,
                    reason,
                })?;
                let view = buffer.get_mapped_range_mut(..).ok();
                inner = self.shared.inner.lock();
                inner.stats.bytes_live += bytes;
                Chunk {
                    buffer,
                    view,
                    cursor: 0,
                    last_used: 0,
                }
            }
        };
        inner.active += 1;
        Ok(chunk)
    }

    /// Takes back a chunk nobody recorded a copy from (still mapped).
    fn give_back(&self, mut chunk: Chunk) {
        let mut inner = self.shared.inner.lock();
        inner.active -= 1;
        chunk.cursor = 0;
        chunk.last_used = inner.frame;
        inner.free.push(chunk);
    }
}

impl std::fmt::Debug for Staging {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Staging")
            .field("label", &self.shared.label)
            .field("stats", &self.stats())
            .finish()
    }
}

impl PartialEq for Staging {
    /// The same staging (clones of one another).
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

/// Where staged bytes are: copy `size` bytes from `buffer` at `offset`.
#[derive(Clone, Debug)]
pub struct StagedRange {
    /// The chunk.
    pub buffer: wgpu::Buffer,
    /// Byte offset in it (a multiple of 4).
    pub offset: u64,
    /// Bytes (a multiple of 4; padding is zero).
    pub size: u64,
}

/// One writer's chunks: stage bytes, record copies from them, then
/// [`close`](Self::close) into the encoder that holds the copies.
pub struct StagingWriter {
    staging: Staging,
    chunks: Vec<Chunk>,
}

impl StagingWriter {
    /// Stages `data`, padded with zeros to a multiple of 4.
    ///
    /// # Errors
    /// [`ArenaError::Device`] when a new chunk cannot be created.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// let staging = gpu_arena::Staging::new(&gpu.device, &Default::default());
    /// let mut writer = staging.writer();
    /// let range = writer.stage_bytes(&[1, 2, 3]).unwrap();
    /// assert_eq!(range.size, 4);
    /// ```
    pub fn stage_bytes(&mut self, data: &[u8]) -> Result<StagedRange, ArenaError> {
        self.stage(data.len() as u64, |mut bytes| {
            bytes.slice(..data.len()).copy_from_slice(data);
        })
    }

    /// Stages `len` bytes written by `fill` straight into mapped memory (the view it
    /// gets is `len` bytes; the padding to 4 is zeroed).
    ///
    /// # Errors
    /// [`ArenaError::Device`] when a new chunk cannot be created.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// let staging = gpu_arena::Staging::new(&gpu.device, &Default::default());
    /// let mut writer = staging.writer();
    /// let range = writer.stage(8, |mut bytes| bytes.fill(7)).unwrap();
    /// assert_eq!(range.size, 8);
    /// ```
    pub fn stage(
        &mut self,
        len: u64,
        fill: impl FnOnce(wgpu::WriteOnly<'_, [u8]>),
    ) -> Result<StagedRange, ArenaError> {
        let (range, view) = self.stage_view(len)?;
        fill(view);
        Ok(range)
    }

    /// Reserves `len` bytes (padding to 4 zeroed) and returns where they are with the
    /// view to write them through: two writers can hand out views at once (a mesh's
    /// vertices and indices).
    ///
    /// # Errors
    /// As [`Self::stage`].
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// let staging = gpu_arena::Staging::new(&gpu.device, &Default::default());
    /// let (mut a, mut b) = (staging.writer(), staging.writer());
    /// let (_, mut va) = a.stage_view(4).unwrap();
    /// let (_, mut vb) = b.stage_view(4).unwrap();
    /// va.copy_from_slice(&[1; 4]);
    /// vb.copy_from_slice(&[2; 4]);
    /// ```
    pub fn stage_view(
        &mut self,
        len: u64,
    ) -> Result<(StagedRange, wgpu::WriteOnly<'_, [u8]>), ArenaError> {
        let size = len.next_multiple_of(4).max(4);
        let fits = self
            .chunks
            .last()
            .is_some_and(|c| c.view.is_some() && c.size() - c.cursor >= size);
        if !fits {
            let chunk = self.staging.take(size)?;
            self.chunks.push(chunk);
        }
        let Some(chunk) = self.chunks.last_mut() else {
            unreachable!("a chunk was just taken");
        };
        let offset = chunk.cursor;
        chunk.cursor += size;
        let Some(view) = chunk.view.as_mut() else {
            unreachable!("active chunks are mapped");
        };
        self.staging.shared.inner.lock().stats.bytes_staged += len;
        let range = StagedRange {
            buffer: chunk.buffer.clone(),
            offset,
            size,
        };
        let bytes = view.slice(offset as usize..(offset + size) as usize);
        let (data, mut padding) = bytes.split_at(len as usize);
        padding.fill(0);
        Ok((range, data))
    }

    /// Stages `count` elements written by `fill` through an [`ElementWriter`].
    ///
    /// # Errors
    /// As [`Self::stage`].
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// let staging = gpu_arena::Staging::new(&gpu.device, &Default::default());
    /// let mut writer = staging.writer();
    /// let range = writer.stage_elements::<[f32; 3]>(2, |mut v| { v.write(0, [1.0; 3]); v.write(1, [2.0; 3]); }).unwrap();
    /// assert_eq!(range.size, 24);
    /// ```
    pub fn stage_elements<T: Pod>(
        &mut self,
        count: usize,
        fill: impl FnOnce(ElementWriter<'_, T>),
    ) -> Result<StagedRange, ArenaError> {
        self.stage((count * size_of::<T>()) as u64, |bytes| {
            fill(ElementWriter::new(bytes));
        })
    }

    /// Whether nothing is staged.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// let writer = gpu_arena::Staging::new(&gpu.device, &Default::default()).writer();
    /// assert!(writer.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.chunks.iter().all(|c| c.cursor == 0)
    }

    /// Closes the chunks written so far: call it once the copies from them are
    /// recorded into `encoder`. They are unmapped now, and mapped again (and free for
    /// any writer) once the work of `encoder`'s submission is done. An encoder that is
    /// never submitted keeps its chunks from coming back.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// let staging = gpu_arena::Staging::new(&gpu.device, &Default::default());
    /// let mut writer = staging.writer();
    /// let target = gpu.device.create_buffer(&wgpu::BufferDescriptor { label: None, size: 4, usage: wgpu::BufferUsages::COPY_DST, mapped_at_creation: false });
    /// let range = writer.stage_bytes(&[1, 2, 3, 4]).unwrap();
    /// let mut encoder = gpu.device.create_command_encoder(&Default::default());
    /// encoder.copy_buffer_to_buffer(&range.buffer, range.offset, &target, 0, range.size);
    /// writer.close(&encoder);
    /// gpu.queue.submit([encoder.finish()]);
    /// gpu.device.poll(wgpu::PollType::wait_indefinitely()).unwrap();
    /// assert_eq!(staging.stats().chunks_free, 1); // back and mapped
    /// ```
    pub fn close(&mut self, encoder: &wgpu::CommandEncoder) {
        let frame = self.staging.shared.inner.lock().frame;
        let mut closed = Vec::new();
        for mut chunk in self.chunks.drain(..) {
            if chunk.cursor == 0 {
                self.staging.give_back(chunk);
                continue;
            }
            chunk.view = None;
            chunk.buffer.unmap();
            let state = Arc::new(AtomicU8::new(0));
            let flag = state.clone();
            encoder.map_buffer_on_submit(&chunk.buffer, wgpu::MapMode::Write, .., move |r| {
                flag.store(if r.is_ok() { 1 } else { 2 }, Ordering::Release);
            });
            closed.push(InFlight {
                buffer: chunk.buffer,
                state,
                last_used: frame,
            });
        }
        let mut inner = self.staging.shared.inner.lock();
        inner.active -= closed.len();
        inner.in_flight.extend(closed);
    }
}

impl Drop for StagingWriter {
    /// Chunks never closed had no copy recorded from them: they go back as they are.
    fn drop(&mut self) {
        for chunk in self.chunks.drain(..) {
            self.staging.give_back(chunk);
        }
    }
}
