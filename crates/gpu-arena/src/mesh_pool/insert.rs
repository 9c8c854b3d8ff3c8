//! Inserting meshes: one at a time (uploaded at once) or in batches (every range
//! reserved first, then one batched upload per slab and arena). Both are
//! all-or-nothing, across slabs.

use bytemuck::Pod;

use crate::error::ArenaError;
use crate::mesh_pool::slab::{MeshSlab, Placed, SlabSizes};
use crate::mesh_pool::{IndexType, MeshEntry, MeshHandle, MeshPool, PoolState};
use crate::slab::SlabId;

impl<V: Pod, I: IndexType> MeshPool<V, I> {
    /// Uploads a mesh into the first slab with room (a new one when all are full, one
    /// of its own when it is large) and records its draw.
    ///
    /// Time: O(1) amortised when the newest slab has room (growth copies); O(slabs)
    /// when it is full.
    ///
    /// # Errors
    /// [`ArenaError::ZeroSize`] for no vertices or indices; [`ArenaError::OverLimit`]
    /// when the mesh is larger than any buffer may be, or the pool's `max_slabs` is
    /// reached; arena errors otherwise. On error nothing is left allocated and the pool
    /// is unchanged.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let tri = pool.insert(&[[0.0; 3], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], &[0, 1, 2]).unwrap();
    /// assert_eq!(pool.len(), 1);
    /// # let _ = tri;
    /// ```
    pub fn insert(&self, vertices: &[V], indices: &[I]) -> Result<MeshHandle, ArenaError> {
        if vertices.is_empty() || indices.is_empty() {
            return Err(ArenaError::ZeroSize);
        }
        let mut guard = self.state.lock();
        let state = &mut *guard;
        let owner = state.meshes.next_key();
        let label = &self.label;
        let place = |slab: &mut MeshSlab<V, I>| {
            let placed = slab.place(vertices, indices, owner, label)?;
            if let Err(e) = slab.records.flush() {
                slab.unplace_last(&placed);
                return Err(e);
            }
            Ok(placed)
        };
        let (vertex_bytes, index_bytes) = (size_of_val(vertices), size_of_val(indices));
        let (slab, placed) = self.place(state, vertex_bytes, index_bytes, place)?;
        Ok(self.register(state, slab, placed))
    }

    /// Runs `place` in the slab a mesh of these sizes belongs to: a dedicated one when
    /// it is large, else the first shared slab with room (or a new one).
    fn place(
        &self,
        state: &mut PoolState<V, I>,
        vertex_bytes: usize,
        index_bytes: usize,
        place: impl FnMut(&mut MeshSlab<V, I>) -> Result<Placed<V, I>, ArenaError>,
    ) -> Result<(SlabId, Placed<V, I>), ArenaError> {
        let slab_number = state.slabs.len();
        let open = |sizes| {
            MeshSlab::open(
                &self.device,
                &self.queue,
                &format!("{} slab {slab_number}", self.label),
                sizes,
            )
        };
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
            };
            state
                .slabs
                .place_dedicated(&self.label, place, || open(sizes))
        } else {
            state.slabs.place(&self.label, place, || open(self.shared))
        }?;
        // A placement that grew its slab's buffers displaces the slab's other meshes.
        let grew = state
            .slabs
            .get_mut(slab, &self.label)
            .is_ok_and(|e| e.slab.placed_changed(&placed));
        if grew {
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
        });
        MeshHandle { key }
    }

    /// Uploads many meshes at once: every range is reserved first (across slabs),
    /// then each slab's arenas receive one batched upload (adjacent ranges become
    /// single copies) and its draw records one write. The fast way to fill a pool.
    ///
    /// # Errors
    /// As [`Self::insert`]; on error nothing stays allocated, no slab is added and the
    /// pool is unchanged.
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
        let slabs_before = state.slabs.ids();
        let mut placed: Vec<(SlabId, Placed<V, I>)> = Vec::with_capacity(meshes.len());
        let mut result = Ok(());
        for (k, (vertices, indices)) in meshes.iter().enumerate() {
            // Keys are predicted in order: registration below inserts in this order.
            let owner = state.meshes.key_after(k);
            let label = &self.label;
            let reserve = |slab: &mut MeshSlab<V, I>| {
                slab.reserve(vertices.len(), indices.len(), owner, label)
            };
            match self.place(
                state,
                size_of_val(*vertices),
                size_of_val(*indices),
                reserve,
            ) {
                Ok(p) => placed.push(p),
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        if result.is_ok() {
            result = self.upload_batch(state, meshes, &placed);
        }
        if let Err(e) = result {
            self.unplace(state, &placed, &slabs_before);
            return Err(e);
        }
        Ok(placed
            .into_iter()
            .map(|(slab, p)| self.register(state, slab, p))
            .collect())
    }

    /// Uploads the data of placed meshes, one batch per slab and arena, and flushes the
    /// slabs' records.
    fn upload_batch(
        &self,
        state: &mut PoolState<V, I>,
        meshes: &[(&[V], &[I])],
        placed: &[(SlabId, Placed<V, I>)],
    ) -> Result<(), ArenaError> {
        let mut slab_ids: Vec<SlabId> = placed.iter().map(|(s, _)| *s).collect();
        slab_ids.sort_unstable_by_key(|s| (s.key.slot, s.key.generation));
        slab_ids.dedup();
        for slab_id in slab_ids {
            let slab = &mut state.slabs.get_mut(slab_id, &self.label)?.slab;
            let mut vb = slab.vertices.batch();
            let mut ib = slab.indices.batch();
            for ((vertices, indices), (_, p)) in meshes
                .iter()
                .zip(placed)
                .filter(|(_, (s, _))| *s == slab_id)
            {
                vb.write_borrowed(p.vertices.raw(), 0, bytemuck::cast_slice(vertices))?;
                ib.write_borrowed(p.indices.raw(), 0, bytemuck::cast_slice(indices))?;
            }
            vb.submit()?;
            ib.submit()?;
            slab.records.flush()?;
        }
        Ok(())
    }

    /// Undoes the placements of a failed batch, newest first, and drops the slabs it
    /// opened.
    fn unplace(
        &self,
        state: &mut PoolState<V, I>,
        placed: &[(SlabId, Placed<V, I>)],
        slabs_before: &[SlabId],
    ) {
        for (slab, p) in placed.iter().rev() {
            if let Ok(entry) = state.slabs.get_mut(*slab, &self.label) {
                entry.slab.unplace_last(p);
                let _ = entry.slab.records.flush();
            }
        }
        for id in state.slabs.ids() {
            if !slabs_before.contains(&id) {
                let _ = state.slabs.remove(id, &self.label);
            }
        }
    }
}
