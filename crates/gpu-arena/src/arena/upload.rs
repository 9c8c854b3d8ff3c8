//! [`UploadBatch`]: many small writes to one arena, coalesced into few copies.
//!
//! Writes are checked and copied into the batch as they come. On [`UploadBatch::submit`]
//! they are resolved to buffer offsets (so growth or compaction in between is fine),
//! sorted, and every interval of touching or overlapping writes becomes one copy from
//! the arena's staging ([`crate::Staging`]: chunks re-used across frames once the GPU is
//! done with them, so steady-state uploads allocate no new staging memory). Overlaps
//! resolve in submission order (later writes win). Writes separated by a gap never
//! merge: bridging it would overwrite bytes the batch does not have.
//!
//! The copies are submitted in one command buffer at `submit`, after any
//! `queue.write_buffer` calls made before it, so a batch lands as if its writes had
//! been made one by one at that moment.

use std::ops::Range;

use bytemuck::Pod;

use crate::arena::Arena;
use crate::arena::core::UNIT;
use crate::error::ArenaError;
use crate::handle::{ArenaHandle, TypedHandle};

/// Where a pending write's bytes are.
enum Bytes<'a> {
    /// In `UploadBatch::data`, already padded to a multiple of 4.
    Copied(Range<usize>),
    /// The caller's slice, borrowed until submit (padded when staged).
    Borrowed(&'a [u8]),
}

struct PendingWrite<'a> {
    handle: ArenaHandle,
    /// Byte offset within the allocation.
    offset: u64,
    bytes: Bytes<'a>,
    /// Bytes the write covers in the buffer (padded to a multiple of 4).
    len: u64,
}

/// What [`UploadBatch::submit`] did.
///
/// ```
/// let r = gpu_arena::UploadReport { writes: 10, copies: 1, bytes: 40 };
/// assert_eq!(r.writes / r.copies, 10);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UploadReport {
    /// Writes in the batch.
    pub writes: usize,
    /// Buffer copies they became.
    pub copies: usize,
    /// Bytes uploaded (padding included).
    pub bytes: u64,
}

/// A set of writes to one arena, uploaded together. Made by [`Arena::batch`].
///
/// ```
/// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
/// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
/// let handles: Vec<_> = (0..100).map(|_| arena.alloc(64).unwrap()).collect();
/// let mut batch = arena.batch();
/// for (i, h) in handles.iter().enumerate() {
///     batch.write(*h, 0, &[i as u8; 64]).unwrap();
/// }
/// let report = batch.submit().unwrap();
/// assert_eq!((report.writes, report.copies), (100, 1)); // adjacent: one copy
/// assert_eq!(arena.read(handles[7]).unwrap(), [7; 64]);
/// ```
#[must_use = "a batch uploads nothing until submitted"]
pub struct UploadBatch<'a> {
    arena: &'a Arena,
    writes: Vec<PendingWrite<'a>>,
    data: Vec<u8>,
}

impl Arena {
    /// Starts a batch of writes to this arena.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let batch = arena.batch();
    /// assert!(batch.is_empty());
    /// # let _ = batch.submit();
    /// ```
    pub fn batch(&self) -> UploadBatch<'_> {
        // Reuse the previous batch's bytes: fresh memory would cost a page fault per
        // 4 KiB, more than the copy itself.
        let mut data = std::mem::take(&mut *self.scratch.lock());
        data.clear();
        UploadBatch {
            arena: self,
            writes: Vec::new(),
            data,
        }
    }
}

impl<'a> UploadBatch<'a> {
    /// Adds a write of `data` at `offset` bytes into an allocation, with the same
    /// rules as [`Arena::write`] (checked now; the data is copied into the batch).
    ///
    /// # Errors
    /// As [`Arena::write`]; a refused write is not added.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let h = arena.alloc(8).unwrap();
    /// let mut batch = arena.batch();
    /// assert!(batch.write(h, 4, &[0; 8]).is_err()); // out of bounds
    /// batch.write(h, 4, &[1, 2, 3, 4]).unwrap();
    /// batch.submit().unwrap();
    /// assert_eq!(arena.read(h).unwrap()[4..], [1, 2, 3, 4]);
    /// ```
    pub fn write(
        &mut self,
        handle: impl Into<ArenaHandle>,
        offset: u64,
        data: &[u8],
    ) -> Result<(), ArenaError> {
        let handle = handle.into();
        let len = self.check(handle, offset, data)?;
        let start = self.data.len();
        self.data.extend_from_slice(data);
        // Padding to 4 bytes falls inside the allocation's reserved tail.
        self.data.resize(start + len as usize, 0);
        self.writes.push(PendingWrite {
            handle,
            offset,
            bytes: Bytes::Copied(start..self.data.len()),
            len,
        });
        Ok(())
    }

    /// Like [`Self::write`] but without copying: the batch borrows `data` until it is
    /// submitted and copies it once, straight into staging memory. The fastest way
    /// to upload data that outlives the batch.
    ///
    /// # Errors
    /// As [`Arena::write`]; a refused write is not added.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let instances = vec![7u8; 4096];
    /// let h = arena.alloc(4096).unwrap();
    /// let mut batch = arena.batch();
    /// batch.write_borrowed(h, 0, &instances).unwrap();
    /// batch.submit().unwrap();
    /// assert_eq!(arena.read(h).unwrap(), instances);
    /// ```
    pub fn write_borrowed(
        &mut self,
        handle: impl Into<ArenaHandle>,
        offset: u64,
        data: &'a [u8],
    ) -> Result<(), ArenaError> {
        let handle = handle.into();
        let len = self.check(handle, offset, data)?;
        self.writes.push(PendingWrite {
            handle,
            offset,
            bytes: Bytes::Borrowed(data),
            len,
        });
        Ok(())
    }

    /// Checks a write against its allocation; returns its padded length.
    fn check(&self, handle: ArenaHandle, offset: u64, data: &[u8]) -> Result<u64, ArenaError> {
        let state = self.arena.state.lock();
        let (_, padded) = state.check_write(&self.arena.core, handle, offset, data.len() as u64)?;
        Ok(padded)
    }

    /// Adds a write of elements at element index `first`.
    ///
    /// # Errors
    /// As [`Self::write`].
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let h = arena.alloc_slice(&[0u32; 4]).unwrap();
    /// let mut batch = arena.batch();
    /// batch.write_slice(h, 1, &[5u32, 6]).unwrap();
    /// batch.submit().unwrap();
    /// assert_eq!(arena.read_slice(h).unwrap(), [0, 5, 6, 0]);
    /// ```
    pub fn write_slice<T: Pod>(
        &mut self,
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

    /// Writes in the batch.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// assert_eq!(arena.batch().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.writes.len()
    }

    /// Whether the batch holds no write.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// assert!(arena.batch().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }

    /// Uploads every write: adjacent writes become one copy each run, all in one
    /// submission. Nothing is uploaded if any handle was freed since it was added.
    ///
    /// # Errors
    /// [`ArenaError::StaleHandle`] (nothing uploaded).
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let a = arena.alloc(4).unwrap();
    /// let b = arena.alloc(4).unwrap();
    /// let mut batch = arena.batch();
    /// batch.write(a, 0, &[1; 4]).unwrap();
    /// batch.write(b, 0, &[2; 4]).unwrap();
    /// arena.free(a).unwrap();
    /// assert!(batch.submit().is_err());
    /// assert_ne!(arena.read(b).unwrap(), [2; 4]); // nothing was uploaded
    /// ```
    pub fn submit(self) -> Result<UploadReport, ArenaError> {
        if self.writes.is_empty() {
            return Ok(UploadReport::default());
        }
        let mut encoder =
            self.arena
                .core
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("gpu-arena batch"),
                });
        let queue = self.arena.core.queue.clone();
        let report = self.record(&mut encoder)?;
        queue.submit([encoder.finish()]);
        Ok(report)
    }

    /// Records every write into `encoder` instead of submitting: the copies land when
    /// the caller submits it (like `StagingBelt::write_buffer`). Write nothing else
    /// into these ranges in between; and if the arena grows before that submission,
    /// submit this encoder first (growth submits a copy of the old buffer at once).
    ///
    /// # Errors
    /// [`ArenaError::StaleHandle`] (nothing recorded), or a staging chunk the device
    /// refused.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let h = arena.alloc(8).unwrap();
    /// let mut encoder = gpu.device.create_command_encoder(&Default::default());
    /// let mut batch = arena.batch();
    /// batch.write(h, 0, &[5; 8]).unwrap();
    /// batch.record(&mut encoder).unwrap();
    /// gpu.queue.submit([encoder.finish()]);
    /// assert_eq!(arena.read(h).unwrap(), [5; 8]);
    /// ```
    pub fn record(self, encoder: &mut wgpu::CommandEncoder) -> Result<UploadReport, ArenaError> {
        // The bytes go back to the arena when `self` drops (see `Drop`).
        if self.writes.is_empty() {
            return Ok(UploadReport::default());
        }
        let arena = self.arena;
        let mut state = arena.state.lock();
        // Resolve every write first: all or nothing.
        let mut placed: Vec<(u64, &PendingWrite<'_>)> = Vec::with_capacity(self.writes.len());
        for w in &self.writes {
            let slot = state.resolve(&arena.core, w.handle)?;
            placed.push((slot.offset + w.offset, w));
        }
        // Merge touching or overlapping writes into disjoint intervals, never across a
        // gap. Writes are indexed by submission order, so overlaps resolve "later wins".
        let mut order: Vec<usize> = (0..placed.len()).collect();
        if !order.is_sorted_by_key(|&k| placed[k].0) {
            order.sort_by_key(|&k| (placed[k].0, k));
        }
        let mut intervals: Vec<Interval> = Vec::new();
        for k in order {
            let (at, w) = placed[k];
            let end = at + w.len;
            match intervals.last_mut() {
                Some(run) if at <= run.end => {
                    run.overlap |= at < run.end;
                    run.end = run.end.max(end);
                    run.members.push(k);
                }
                _ => intervals.push(Interval {
                    start: at,
                    end,
                    members: vec![k],
                    overlap: false,
                }),
            }
        }
        // A deferred growth lands first, in the same encoder.
        state.realize(&arena.core, Some(encoder))?;
        if let Some(last) = intervals.last() {
            state.mark_written(last.end.next_multiple_of(UNIT));
        }
        let mut writer = arena.staging.writer();
        let mut bytes = 0;
        for run in &mut intervals {
            let size = run.end - run.start;
            bytes += size;
            if run.overlap {
                // Later writes win: members in submission order.
                run.members.sort_unstable();
            }
            let staged = writer.stage(size, |mut view| {
                for &k in run.members.iter() {
                    let (at, w) = placed[k];
                    let from = (at - run.start) as usize;
                    let data = self.bytes(w);
                    view.slice(from..from + data.len()).copy_from_slice(data);
                    if (data.len() as u64) < w.len {
                        view.slice(from + data.len()..from + w.len as usize).fill(0);
                    }
                }
            })?;
            encoder.copy_buffer_to_buffer(
                &staged.buffer,
                staged.offset,
                &state.buffer,
                run.start,
                size,
            );
        }
        writer.close(encoder);
        Ok(UploadReport {
            writes: self.writes.len(),
            copies: intervals.len(),
            bytes,
        })
    }
}

/// Touching or overlapping writes that become one copy.
struct Interval {
    start: u64,
    end: u64,
    /// The writes, in destination order (submission order when they overlap).
    members: Vec<usize>,
    overlap: bool,
}

impl UploadBatch<'_> {
    /// A pending write's bytes (unpadded for borrowed writes; the image and the view
    /// are zero-filled past them).
    fn bytes<'s>(&'s self, w: &'s PendingWrite<'_>) -> &'s [u8] {
        match &w.bytes {
            Bytes::Copied(range) => &self.data[range.clone()],
            Bytes::Borrowed(data) => data,
        }
    }
}

impl Drop for UploadBatch<'_> {
    /// Hands the byte buffer back to the arena for the next batch.
    fn drop(&mut self) {
        let data = std::mem::take(&mut self.data);
        let mut scratch = self.arena.scratch.lock();
        if data.capacity() > scratch.capacity() {
            *scratch = data;
        }
    }
}
