//! The pool's per-frame step: inserts stage their data; [`MeshPool::commit`] records
//! the copies that land it into the caller's encoder (adjacent ranges merged into
//! one copy), flushes the draw records, and closes the staging chunks, which come
//! back for reuse once that encoder's work is done. Drawing while staged inserts wait
//! is refused, so a draw never reads a mesh whose data has not landed.

use bytemuck::Pod;

use crate::error::ArenaError;
use crate::handle::ArenaHandle;
use crate::mesh_pool::{IndexType, MeshPool, PoolState};
use crate::slab::SlabId;
use crate::staging::StagingWriter;

/// A staged range waiting to be copied into a slab's arena.
pub(crate) struct PendingCopy {
    pub slab: SlabId,
    /// The allocation it lands in (skipped if freed meanwhile).
    pub handle: ArenaHandle,
    /// The staging chunk and the bytes in it.
    pub source: wgpu::Buffer,
    pub offset: u64,
    pub size: u64,
}

/// Inserts staged since the last commit.
pub(crate) struct Pending {
    /// Vertices and indices stage through writers of their own, so that the data of
    /// consecutive inserts is contiguous and their copies merge.
    pub vertices: StagingWriter,
    pub indices: StagingWriter,
    pub vertex_copies: Vec<PendingCopy>,
    pub index_copies: Vec<PendingCopy>,
    /// Meshes whose data waits.
    pub meshes: usize,
    /// Bytes written straight into mapped slab buffers since the last commit.
    pub in_place_bytes: u64,
    /// Bumped by every commit: a mesh staged at the current epoch is waiting.
    pub epoch: u64,
}

/// What [`Pending::mark`] records.
pub(crate) struct PendingMark {
    vertex_copies: usize,
    index_copies: usize,
    meshes: usize,
    in_place_bytes: u64,
}

impl Pending {
    /// Nothing staged, at `epoch`.
    pub fn new(staging: &crate::Staging, epoch: u64) -> Self {
        Pending {
            vertices: staging.writer(),
            indices: staging.writer(),
            vertex_copies: Vec::new(),
            index_copies: Vec::new(),
            meshes: 0,
            in_place_bytes: 0,
            epoch,
        }
    }

    /// Where the pending work stands: what a failed batch rolls back to.
    pub fn mark(&self) -> PendingMark {
        PendingMark {
            vertex_copies: self.vertex_copies.len(),
            index_copies: self.index_copies.len(),
            meshes: self.meshes,
            in_place_bytes: self.in_place_bytes,
        }
    }

    /// Forgets what was noted since `mark` (the staged bytes stay unused in their
    /// chunks; nothing copies them).
    pub fn roll_back(&mut self, mark: PendingMark) {
        self.vertex_copies.truncate(mark.vertex_copies);
        self.index_copies.truncate(mark.index_copies);
        self.meshes = mark.meshes;
        self.in_place_bytes = mark.in_place_bytes;
    }
}

/// What [`MeshPool::commit`] recorded.
///
/// ```
/// let report = gpu_arena::mesh_pool::CommitReport::default();
/// assert_eq!((report.meshes, report.copies, report.in_place_bytes), (0, 0, 0));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CommitReport {
    /// Meshes whose data landed.
    pub meshes: usize,
    /// Buffer copies recorded (adjacent ranges merge into one).
    pub copies: usize,
    /// Bytes copied.
    pub bytes: u64,
    /// Bytes written straight into mapped slab buffers since the last commit (see
    /// [`crate::mesh_pool::MeshPoolDescriptor::direct_writes`]), meshes removed
    /// meanwhile included: they needed no copy, and landed as the buffers were
    /// unmapped (by this commit, or by an earlier draw or buffer access).
    pub in_place_bytes: u64,
}

impl<V: Pod, I: IndexType> MeshPool<V, I> {
    /// Lands every staged insert: records the copies into `encoder` (merging adjacent
    /// ranges), writes the changed draw records (`queue.write_buffer`, which runs
    /// before the next submission) and closes the staging chunks. Submit `encoder`
    /// before (or with) any work that draws these meshes, and record the pass that
    /// draws them after these copies.
    ///
    /// Vertex and index buffers that grew since the last commit are replaced first,
    /// in `encoder`, copying only data landed by earlier commits. Submit the encoders
    /// you commit into in the order you committed into them: a later one's growth
    /// copy reads what an earlier one wrote.
    ///
    /// A device that cannot create a grown buffer yields [`ArenaError::Device`]; the
    /// staged inserts then stay waiting (remove some and commit again).
    ///
    /// # Errors
    /// [`ArenaError::Device`] when a grown buffer is refused; the staged inserts stay
    /// waiting then.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// pool.insert(&[[0.0; 3]; 3], &[0, 1, 2]).unwrap();
    /// pool.insert(&[[1.0; 3]; 3], &[0, 1, 2]).unwrap();
    /// let mut encoder = gpu.device.create_command_encoder(&Default::default());
    /// let report = pool.commit(&mut encoder).unwrap();
    /// assert_eq!(report.meshes, 2);
    /// // Vertices and indices: merged into two copies, or written in place (a fresh
    /// // slab, where the device has MAPPABLE_PRIMARY_BUFFERS) and copied not at all.
    /// assert!(report.copies == 2 || (report.copies, report.in_place_bytes) == (0, 84));
    /// gpu.queue.submit([encoder.finish()]);
    /// ```
    pub fn commit(&self, encoder: &mut wgpu::CommandEncoder) -> Result<CommitReport, ArenaError> {
        let mut guard = self.state.lock();
        self.commit_locked(&mut guard, encoder)
    }

    /// [`Self::commit`] into an encoder of the pool's own, submitted at once.
    ///
    /// # Errors
    /// As [`Self::commit`].
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// pool.insert(&[[0.0; 3]; 3], &[0, 1, 2]).unwrap();
    /// assert_eq!(pool.commit_now().unwrap().meshes, 1);
    /// ```
    pub fn commit_now(&self) -> Result<CommitReport, ArenaError> {
        let mut guard = self.state.lock();
        self.commit_now_locked(&mut guard)
    }

    pub(crate) fn commit_now_locked(
        &self,
        state: &mut PoolState<V, I>,
    ) -> Result<CommitReport, ArenaError> {
        let pending = &state.pending;
        if pending.meshes == 0
            && pending.vertex_copies.is_empty()
            && pending.index_copies.is_empty()
        {
            self.unmap_slabs(state)?;
            self.flush_records(state)?;
            return Ok(CommitReport::default());
        }
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("mesh pool commit"),
            });
        let report = self.commit_locked(state, &mut encoder)?;
        self.queue.submit([encoder.finish()]);
        Ok(report)
    }

    fn commit_locked(
        &self,
        state: &mut PoolState<V, I>,
        encoder: &mut wgpu::CommandEncoder,
    ) -> Result<CommitReport, ArenaError> {
        let mut report = CommitReport {
            meshes: state.pending.meshes,
            in_place_bytes: state.pending.in_place_bytes,
            ..Default::default()
        };
        // Data written in place lands as its buffers are unmapped, before any copy
        // (a growth copy reads it).
        self.unmap_slabs(state)?;
        // Growths deferred since the last commit land first, in this encoder: every
        // copy the caller recorded into earlier encoders runs before them.
        // Every new buffer is created before any is swapped in: a refusal changes
        // nothing and records nothing.
        let mut grown = Vec::new();
        for id in state.slabs.ids() {
            let slab = &state.slabs.get(id, &self.label)?.slab;
            let vertices = slab.vertices.prepare_growth()?;
            let indices = slab.indices.prepare_growth()?;
            if vertices.is_some() || indices.is_some() {
                grown.push((id, vertices, indices));
            }
        }
        for (id, vertices, indices) in grown {
            let slab = &state.slabs.get(id, &self.label)?.slab;
            if let Some(buffer) = vertices {
                slab.vertices.finish_growth(buffer, encoder);
            }
            if let Some(buffer) = indices {
                slab.indices.finish_growth(buffer, encoder);
            }
            state.slabs.touch(id);
        }
        // Each list is usually already grouped by slab (inserts go to the newest
        // one): checked before sorting.
        let vertex_copies = std::mem::take(&mut state.pending.vertex_copies);
        let index_copies = std::mem::take(&mut state.pending.index_copies);
        for (indices, mut copies) in [(false, vertex_copies), (true, index_copies)] {
            let slab_of = |c: &PendingCopy| c.slab.key.slot;
            if !copies.is_sorted_by_key(slab_of) {
                copies.sort_by_key(slab_of);
            }
            let mut start = 0;
            while start < copies.len() {
                let group = copies[start].slab;
                let end = start
                    + copies[start..]
                        .iter()
                        .take_while(|c| c.slab == group)
                        .count();
                let runs = self.record_group(state, indices, &copies[start..end], encoder)?;
                report.copies += runs.0;
                report.bytes += runs.1;
                start = end;
            }
        }
        self.flush_records(state)?;
        state.pending.vertices.close(encoder);
        state.pending.indices.close(encoder);
        state.pending.meshes = 0;
        state.pending.in_place_bytes = 0;
        state.pending.epoch += 1;
        Ok(report)
    }

    /// Records the copies into one slab arena: destinations resolved under one lock,
    /// sorted, and merged where both sides are contiguous. Returns (copies, bytes).
    fn record_group(
        &self,
        state: &PoolState<V, I>,
        indices: bool,
        copies: &[PendingCopy],
        encoder: &mut wgpu::CommandEncoder,
    ) -> Result<(usize, u64), ArenaError> {
        let Ok(entry) = state.slabs.get(copies[0].slab, &self.label) else {
            return Ok((0, 0)); // the slab was dropped: its meshes were removed
        };
        let arena = if indices {
            &entry.slab.indices
        } else {
            &entry.slab.vertices
        };
        let (target, offsets, _) =
            arena.resolve_for_copies(encoder, copies.iter().map(|c| c.handle))?;
        let mut placed: Vec<(u64, &PendingCopy)> = offsets
            .into_iter()
            .zip(copies)
            .filter_map(|(offset, c)| Some((offset?, c)))
            .collect();
        if !placed.is_sorted_by_key(|(to, _)| *to) {
            placed.sort_unstable_by_key(|(to, _)| *to);
        }
        let (mut count, mut bytes) = (0, 0);
        let mut k = 0;
        while k < placed.len() {
            let (to, first) = placed[k];
            let mut size = first.size;
            let mut next = k + 1;
            while next < placed.len() {
                let (to_next, c) = placed[next];
                let contiguous = to_next == to + size
                    && c.source == first.source
                    && c.offset == first.offset + size;
                if !contiguous {
                    break;
                }
                size += c.size;
                next += 1;
            }
            encoder.copy_buffer_to_buffer(&first.source, first.offset, &target, to, size);
            count += 1;
            bytes += size;
            k = next;
        }
        Ok((count, bytes))
    }

    /// Unmaps every slab buffer mapped for direct writes.
    fn unmap_slabs(&self, state: &PoolState<V, I>) -> Result<(), ArenaError> {
        for id in state.slabs.ids() {
            let slab = &state.slabs.get(id, &self.label)?.slab;
            slab.vertices.unmap();
            slab.indices.unmap();
        }
        Ok(())
    }

    /// Writes every slab's changed draw records.
    fn flush_records(&self, state: &mut PoolState<V, I>) -> Result<(), ArenaError> {
        for id in state.slabs.ids() {
            state.slabs.get_mut(id, &self.label)?.slab.records.flush()?;
        }
        Ok(())
    }

    /// Meshes inserted and not committed yet.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// assert_eq!(pool.pending(), 0);
    /// ```
    pub fn pending(&self) -> usize {
        self.state.lock().pending.meshes
    }

    /// Per-frame upkeep: maintains the pool's staging when it is the pool's own (a
    /// shared [`crate::Staging`] is maintained by its owner). Does not block.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// pool.maintain();
    /// ```
    pub fn maintain(&self) {
        if self.owns_staging {
            self.staging.maintain();
        }
    }

    /// The error for drawing (or exposing slabs) while inserts wait for a commit.
    pub(crate) fn refuse_uncommitted(&self, state: &PoolState<V, I>) -> Result<(), ArenaError> {
        match state.pending.meshes {
            0 => Ok(()),
            pending => Err(ArenaError::Uncommitted {
                label: self.label.clone(),
                pending,
            }),
        }
    }
}
