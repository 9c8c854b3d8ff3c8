//! Inserting meshes. Every insert reserves its ranges and its draw record at once and
//! stages its data into the pool's warm staging memory; [`MeshPool::commit`] later
//! lands all staged inserts with few copies (adjacent ranges merge). Into a slab
//! buffer that holds nothing yet, and where the device allows it, the data is written
//! in place instead ([`crate::arena::mapped`]). Inserts one at a time, from a closure
//! that writes straight into staging (or mapped) memory, or in batches; all are
//! all-or-nothing, across slabs.

use bytemuck::Pod;

use crate::arena::Growth;
use crate::arena::mapped::DirectWrites;
use crate::error::ArenaError;
use crate::handle::ArenaHandle;
use crate::mesh_pool::commit::{Pending, PendingCopy};
use crate::mesh_pool::slab::{MeshSlab, Placed, SlabSizes};
use crate::mesh_pool::{IndexType, MeshEntry, MeshHandle, MeshPool, PoolState};
use crate::slab::SlabId;
use crate::staging::{ElementWriter, StagedRange, StagingWriter};

/// `insert_batch` places this many meshes, then writes them, and so on: their
/// bookkeeping is done before the copies stream through the caches (which would
/// evict it), and stays in cache until the writes. Placing a whole batch before
/// writing any of it ran as fast on lavapipe, but on llvmpipe it left the staging
/// chunks, allocated after everything else, at the top of the heap, where glibc
/// returned them to the system at each pool's drop and the next pool's staging
/// faulted its pages in anew (about 70 ms per pack instead of 46).
const BATCH_STEP: usize = 128;

impl<V: Pod, I: IndexType> MeshPool<V, I> {
    /// Adds a mesh to the first slab with room (a new one when all are full, one of
    /// its own when it is large). Its data is staged: it lands on the GPU at the next
    /// [`Self::commit`], and drawing before that is refused.
    ///
    /// Time: O(1) amortised when the newest slab has room; O(slabs) when it is full.
    /// A slab that outgrows its vertex or index buffer only widens its address range
    /// here: the larger buffer is created and filled at the next commit, recorded
    /// into the commit's encoder. (A slab written in place that fills before its
    /// first commit is followed by a new slab instead: see
    /// [`MeshPoolDescriptor::direct_writes`](crate::mesh_pool::MeshPoolDescriptor::direct_writes).)
    /// The only work an insert submits on its own is the copy of a growing
    /// draw-record table (written through the queue).
    ///
    /// # Errors
    /// [`ArenaError::ZeroSize`] for no vertices or indices; [`ArenaError::OverLimit`]
    /// when the mesh is larger than any buffer may be, or the pool's `max_slabs` is
    /// reached; arena errors otherwise. On error nothing is left allocated or staged
    /// and the pool is unchanged.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let tri = pool.insert(&[[0.0; 3], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], &[0, 1, 2]).unwrap();
    /// assert_eq!((pool.len(), pool.pending()), (1, 1));
    /// pool.commit_now().unwrap();
    /// assert_eq!(pool.pending(), 0);
    /// # let _ = tri;
    /// ```
    pub fn insert(&self, vertices: &[V], indices: &[I]) -> Result<MeshHandle, ArenaError> {
        self.insert_with(vertices.len(), indices.len(), |mut v, mut i| {
            v.copy_from_slice(vertices);
            i.copy_from_slice(indices);
        })
    }

    /// [`Self::insert`] of a mesh of `vertex_count` vertices and `index_count` indices
    /// that `fill` writes straight into staging memory: generated data need not be
    /// built in a `Vec` first. Every element must be written.
    ///
    /// # Errors
    /// As [`Self::insert`].
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let fan = pool.insert_with(5, 9, |mut v, mut i| {
    ///     v.write(0, [0.0; 3]);
    ///     for k in 1..5 {
    ///         let a = k as f32 * std::f32::consts::FRAC_PI_2;
    ///         v.write(k, [a.cos(), a.sin(), 0.0]);
    ///     }
    ///     i.copy_from_slice(&[0, 1, 2, 0, 2, 3, 0, 3, 4]);
    /// }).unwrap();
    /// assert_eq!(pool.read_mesh(fan).unwrap().1, [0, 1, 2, 0, 2, 3, 0, 3, 4]);
    /// ```
    pub fn insert_with(
        &self,
        vertex_count: usize,
        index_count: usize,
        fill: impl FnOnce(ElementWriter<'_, V>, ElementWriter<'_, I>),
    ) -> Result<MeshHandle, ArenaError> {
        if vertex_count == 0 || index_count == 0 {
            return Err(ArenaError::ZeroSize);
        }
        let mut guard = self.state.lock();
        let state = &mut *guard;
        let owner = state.meshes.next_key();
        let label = &self.label;
        let reserve = |slab: &mut MeshSlab<V, I>, growth| {
            slab.reserve(vertex_count, index_count, owner, label, growth, true)
        };
        let (vertex_bytes, index_bytes) =
            (vertex_count * size_of::<V>(), index_count * size_of::<I>());
        let slabs_before = state.slabs.len();
        let (slab, placed) = self.place(state, vertex_bytes, index_bytes, reserve)?;
        let PoolState { slabs, pending, .. } = &mut *state;
        let written = slabs.get(slab, &self.label).and_then(|entry| {
            let mut writes = entry.slab.direct_writes();
            write_mesh(
                &mut writes,
                pending,
                slab,
                &placed,
                self.shared.rebase,
                fill,
            )
        });
        if let Err(e) = written {
            let opened = state.slabs.len() > slabs_before;
            self.unplace(state, &[(slab, placed)], None);
            if opened {
                let _ = state.slabs.remove(slab, &self.label);
            }
            return Err(e);
        }
        Ok(self.register(state, slab, placed))
    }

    /// A new slab of `sizes`, the pool's slab number `number`.
    fn open_slab(&self, number: usize, sizes: SlabSizes) -> Result<MeshSlab<V, I>, ArenaError> {
        MeshSlab::open(
            &self.device,
            &self.queue,
            &format!("{} slab {number}", self.label),
            sizes,
            &self.staging,
        )
    }

    /// Runs `place` in the slab a mesh of these sizes belongs to: a dedicated one when
    /// it is large, else the first shared slab with room (or a new one).
    ///
    /// A shared slab written in place and not yet committed does not grow (growing
    /// it would copy its data into a new buffer on the GPU): while the pool may open
    /// slabs, the next one is opened instead, its buffers the growth factor times
    /// what the full slab's held, and written in place too. Past `max_slabs` such a
    /// slab grows as any other.
    fn place(
        &self,
        state: &mut PoolState<V, I>,
        vertex_bytes: usize,
        index_bytes: usize,
        mut place: impl FnMut(&mut MeshSlab<V, I>, Growth) -> Result<Placed<V, I>, ArenaError>,
    ) -> Result<(SlabId, Placed<V, I>), ArenaError> {
        let slab_number = state.slabs.len();
        let open = |sizes| self.open_slab(slab_number, sizes);
        // Large meshes, and meshes no shared slab could hold, get a slab of their own.
        let biggest = vertex_bytes.max(index_bytes) as u64;
        let large = biggest >= self.dedicated_bytes || biggest > self.shared.max_bytes;
        let (slab, placed) = if large {
            let sizes = SlabSizes {
                vertex_bytes: (vertex_bytes as u64).next_multiple_of(4),
                index_bytes: (index_bytes as u64).next_multiple_of(4),
                max_bytes: self.max_buffer_size,
                records: 1,
                growth_factor: 1.0,
                rebase: self.shared.rebase,
                // A dedicated slab's mesh starts at vertex 0: rebasing adds nothing.
                max_vertices: u64::MAX,
                direct: self.shared.direct,
            };
            state.slabs.place_dedicated(
                &self.label,
                |slab| place(slab, Growth::Always),
                || open(sizes),
            )
        } else {
            let growth = if self.shared.direct && state.slabs.can_open() {
                Growth::NotWhileMapped
            } else {
                Growth::Always
            };
            state.slabs.place(
                &self.label,
                |slab| place(slab, growth),
                |newest| {
                    let spill = newest.and_then(|full| self.shared.spilling_from(full));
                    open(spill.unwrap_or(self.shared))
                },
            )
        }?;
        // A placement that changed its slab's buffers displaces the slab's other
        // meshes.
        if placed.changed {
            state.slabs.touch(slab);
        }
        Ok((slab, placed))
    }

    /// Gives a placed mesh its handle.
    fn register(
        &self,
        state: &mut PoolState<V, I>,
        slab: SlabId,
        placed: Placed<V, I>,
    ) -> MeshHandle {
        let generation = state.slabs.bump();
        let key = state.meshes.insert(MeshEntry {
            slab,
            dense: placed.dense,
            vertices: placed.vertices,
            indices: placed.indices,
            inserted_at: generation,
            moved_at: generation,
            staged_at: state.pending.epoch,
        });
        MeshHandle { key }
    }

    /// Adds many meshes at once: the newest slab is first grown to hold them all (one
    /// growth instead of several; where it is being written in place and lacks room,
    /// a slab sized for the batch is opened instead), every range is reserved (across
    /// slabs), and all the data is staged; [`Self::commit`] lands it. The fast way to
    /// fill a pool.
    ///
    /// # Errors
    /// As [`Self::insert`]; on error nothing stays allocated or staged, no slab is
    /// added and the pool is unchanged.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let quad = ([[0.0f32; 3]; 4], [0u16, 1, 2, 2, 3, 0]);
    /// let tri = ([[1.0f32; 3]; 3], [0u16, 1, 2]);
    /// let meshes = pool.insert_batch(&[(&quad.0[..], &quad.1[..]), (&tri.0[..], &tri.1[..])]).unwrap();
    /// assert_eq!(pool.draw_args(meshes[1]).unwrap().args.first_index, 6);
    /// ```
    pub fn insert_batch(&self, meshes: &[(&[V], &[I])]) -> Result<Vec<MeshHandle>, ArenaError> {
        if meshes.iter().any(|(v, i)| v.is_empty() || i.is_empty()) {
            return Err(ArenaError::ZeroSize);
        }
        let mut guard = self.state.lock();
        let state = &mut *guard;
        // Before presizing: a slab it opens goes too if the batch fails.
        let slabs_before = state.slabs.ids();
        self.presize(state, meshes);
        let before = state.pending.mark();
        // Meshes are placed [`BATCH_STEP`] at a time (the first placement into a fresh
        // buffer maps it), then written, one lock per run of meshes in the same slab:
        // the copies stream without bookkeeping between them.
        let mut placed: Vec<(SlabId, Placed<V, I>)> = Vec::with_capacity(meshes.len());
        let mut result = Ok(());
        'steps: for step in meshes.chunks(BATCH_STEP) {
            let first = placed.len();
            for (vertices, indices) in step {
                // Keys are predicted in order: registration below inserts in this order.
                let owner = state.meshes.key_after(placed.len());
                let label = &self.label;
                let reserve = |slab: &mut MeshSlab<V, I>, growth| {
                    slab.reserve(vertices.len(), indices.len(), owner, label, growth, true)
                };
                let (vb, ib) = (size_of_val(*vertices), size_of_val(*indices));
                match self.place(state, vb, ib, reserve) {
                    Ok(p) => placed.push(p),
                    Err(e) => {
                        result = Err(e);
                        break 'steps;
                    }
                }
            }
            result = self.write_batch(state, &placed[first..], step);
            if result.is_err() {
                break;
            }
        }
        if let Err(e) = result {
            state.pending.roll_back(before);
            self.unplace(state, &placed, Some(&slabs_before));
            return Err(e);
        }
        Ok(placed
            .into_iter()
            .map(|(slab, p)| self.register(state, slab, p))
            .collect())
    }

    /// Writes the data of a placed batch (`placed[k]` holds `meshes[k]`), taking
    /// each slab's locks once per run of its meshes.
    fn write_batch(
        &self,
        state: &mut PoolState<V, I>,
        placed: &[(SlabId, Placed<V, I>)],
        meshes: &[(&[V], &[I])],
    ) -> Result<(), ArenaError> {
        let PoolState { slabs, pending, .. } = state;
        let mut meshes = meshes.iter();
        for run in placed.chunk_by(|a, b| a.0 == b.0) {
            let slab = run[0].0;
            let entry = slabs.get(slab, &self.label)?;
            let mut writes = entry.slab.direct_writes();
            for ((_, p), (vertices, indices)) in run.iter().zip(meshes.by_ref()) {
                let fill = |mut v: ElementWriter<'_, V>, mut i: ElementWriter<'_, I>| {
                    v.copy_from_slice(vertices);
                    i.copy_from_slice(indices);
                };
                write_mesh(&mut writes, pending, slab, p, self.shared.rebase, fill)?;
            }
        }
        Ok(())
    }

    /// Grows the newest shared slab's arenas once to hold as much of a batch as they
    /// may, so that placing it does not grow them step by step (each growth copies).
    /// A newest slab written in place that has no room for the batch is not grown
    /// (that would stage the batch and copy the slab on the GPU): while the pool may
    /// open slabs, a new one sized for the batch is opened instead, written in place.
    fn presize(&self, state: &mut PoolState<V, I>, meshes: &[(&[V], &[I])]) {
        let vertex_bytes: u64 = meshes
            .iter()
            .map(|(v, _)| (size_of_val(*v) as u64).next_multiple_of(4))
            .sum();
        let index_bytes: u64 = meshes
            .iter()
            .map(|(_, i)| (size_of_val(*i) as u64).next_multiple_of(4))
            .sum();
        let Some(mut newest) = state.slabs.shared().last().copied() else {
            return;
        };
        if self.shared.direct
            && state.slabs.can_open()
            && let Ok(entry) = state.slabs.get(newest, &self.label)
            && entry.slab.lacks_mapped_room(vertex_bytes, index_bytes)
        {
            let sizes = SlabSizes {
                vertex_bytes: vertex_bytes.max(self.shared.vertex_bytes),
                index_bytes: index_bytes.max(self.shared.index_bytes),
                ..self.shared
            };
            let number = state.slabs.len();
            // Best effort: if the slab cannot be opened, the newest grows as before.
            if let Ok(id) = state
                .slabs
                .open(&self.label, false, || self.open_slab(number, sizes))
            {
                newest = id;
            }
        }
        if let Ok(entry) = state.slabs.get_mut(newest, &self.label) {
            // Best effort: a slab that cannot grow that far takes what it can.
            let _ = entry.slab.vertices.reserve(vertex_bytes);
            let _ = entry.slab.indices.reserve(index_bytes);
            entry.slab.vertices.expect_writes(vertex_bytes);
            entry.slab.indices.expect_writes(index_bytes);
            if entry.slab.buffers_changed() {
                state.slabs.touch(newest);
            }
        }
    }

    /// Undoes placements (newest first), and drops the slabs opened since `slabs_before`.
    pub(crate) fn unplace(
        &self,
        state: &mut PoolState<V, I>,
        placed: &[(SlabId, Placed<V, I>)],
        slabs_before: Option<&[SlabId]>,
    ) {
        for (slab, p) in placed.iter().rev() {
            if let Ok(entry) = state.slabs.get_mut(*slab, &self.label) {
                entry.slab.unplace_last(p);
            }
        }
        if let Some(before) = slabs_before {
            for id in state.slabs.ids() {
                if !before.contains(&id) {
                    let _ = state.slabs.remove(id, &self.label);
                }
            }
        }
    }
}

/// Writes a placed mesh's data with `fill`: straight into its slab's buffers where
/// they are mapped for it ([`crate::arena::mapped`]), else staged (vertices and
/// indices each into their own staged range), noting the copies that will land it.
/// `writes` holds the slab's vertex and index arenas' locks; indices are rebased by
/// the mesh's first vertex when `rebase`.
fn write_mesh<V: Pod, I: IndexType>(
    writes: &mut (DirectWrites<'_>, DirectWrites<'_>),
    pending: &mut Pending,
    slab: SlabId,
    placed: &Placed<V, I>,
    rebase: bool,
    fill: impl FnOnce(ElementWriter<'_, V>, ElementWriter<'_, I>),
) -> Result<(), ArenaError> {
    let (vertices, indices) = (placed.vertices.raw(), placed.indices.raw());
    let (vr, ir) = (placed.vertex_range, placed.index_range);
    let (vertex_writes, index_writes) = writes;
    let vertex_direct = vertex_writes.bytes(vertices, vr);
    let index_direct = index_writes.bytes(indices, ir);
    let (vertex_view, vertex_staged) = view_or_stage(vertex_direct, &mut pending.vertices, vr.len)?;
    let (index_view, index_staged) = view_or_stage(index_direct, &mut pending.indices, ir.len)?;
    let in_place =
        vertex_staged.as_ref().map_or(vr.len, |_| 0) + index_staged.as_ref().map_or(ir.len, |_| 0);
    let index_writer = if rebase {
        ElementWriter::adjusted(index_view, placed.first_vertex, I::rebased)
    } else {
        ElementWriter::new(index_view)
    };
    fill(ElementWriter::new(vertex_view), index_writer);
    let copy = |handle: ArenaHandle, range: StagedRange| PendingCopy {
        slab,
        handle,
        source: range.buffer,
        offset: range.offset,
        size: range.size,
    };
    pending
        .vertex_copies
        .extend(vertex_staged.map(|range| copy(vertices, range)));
    pending
        .index_copies
        .extend(index_staged.map(|range| copy(indices, range)));
    pending.in_place_bytes += in_place;
    pending.meshes += 1;
    Ok(())
}

/// The bytes to write `len` bytes into: the mapped ones when there are (`direct`),
/// else a range staged through `writer` (returned too, for the copy that lands it).
fn view_or_stage<'a>(
    direct: Option<wgpu::WriteOnly<'a, [u8]>>,
    writer: &'a mut StagingWriter,
    len: u64,
) -> Result<(wgpu::WriteOnly<'a, [u8]>, Option<StagedRange>), ArenaError> {
    match direct {
        Some(view) => Ok((view, None)),
        None => {
            let (range, view) = writer.stage_view(len)?;
            Ok((view, Some(range)))
        }
    }
}
