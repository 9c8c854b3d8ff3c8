//! Compacting a mesh pool: each slab's arenas are packed (both planned before either
//! changes) and its draw records follow; then the emptiest shared slab is emptied into
//! the others when they have room, and dropped.

use bytemuck::Pod;

use crate::arena::{Arena, CompactionReport, Growth, Planned};
use crate::error::ArenaError;
use crate::mesh_pool::slab::{MeshSlab, Placed};
use crate::mesh_pool::{IndexType, MeshPool, PoolState};
use crate::slab::SlabId;
use crate::slots::Key;

/// What [`crate::mesh_pool::MeshPool::compact`] did.
///
/// ```
/// let c = gpu_arena::mesh_pool::PoolCompaction::default();
/// assert_eq!((c.meshes_moved, c.slabs_dropped), (0, 0));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PoolCompaction {
    /// Meshes whose draw record changed (moved within their slab, or to another).
    pub meshes_moved: usize,
    /// Bytes of vertex and index data moved.
    pub bytes_moved: u64,
    /// Slabs emptied into the others and dropped.
    pub slabs_dropped: usize,
    /// Whether every slab was packed (false when the budget ran out).
    pub complete: bool,
}

impl<V: Pod, I: IndexType> MeshPool<V, I> {
    /// Compacts the pool, moving at most `budget` bytes (`None`: no limit): each slab's
    /// vertex and index arenas are packed and its draw records rewritten; then, while
    /// the budget lasts, the shared slab holding the least data is emptied into the
    /// other shared slabs (without opening any) and dropped. Mesh handles stay valid;
    /// [`Self::displaced_since`] lists the meshes that moved. Staged inserts are
    /// committed first.
    ///
    /// # Errors
    /// As [`crate::Arena::compact`]; a slab whose compaction fails is left as it was
    /// (and so is everything after it). [`ArenaError::CompactionRefused`] in a pool
    /// with rebased indices ([`crate::mesh_pool::MeshPoolDescriptor::rebase_indices`]).
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let a = pool.insert(&[[0.0; 3]; 30], &[0; 30]).unwrap();
    /// let b = pool.insert(&[[1.0; 3]; 3], &[0, 1, 2]).unwrap();
    /// pool.remove(a).unwrap();
    /// let report = pool.compact(None).unwrap();
    /// assert_eq!(report.meshes_moved, 1);
    /// assert_eq!(pool.draw_args(b).unwrap().args.base_vertex, 0);
    /// ```
    pub fn compact(&self, budget: Option<u64>) -> Result<PoolCompaction, ArenaError> {
        if self.shared.rebase {
            return Err(ArenaError::CompactionRefused {
                label: self.label.clone(),
                reason: "its indices are rebased (MeshPoolDescriptor::rebase_indices): moving \
                         vertices would need every index rewritten"
                    .into(),
            });
        }
        let mut guard = self.state.lock();
        let state = &mut *guard;
        // Staged data lands first: compaction copies what the buffers hold.
        self.commit_now_locked(state)?;
        let mut left = budget.unwrap_or(u64::MAX);
        let mut report = PoolCompaction {
            complete: true,
            ..Default::default()
        };
        for slab_id in state.slabs.ids() {
            let (vertex, index) = self.compact_slab(state, slab_id, Some(left))?;
            let moved = vertex.bytes_moved + index.bytes_moved;
            left = left.saturating_sub(moved);
            report.bytes_moved += moved;
            report.complete &= vertex.complete && index.complete;
            if moved > 0 || !vertex.moves.is_empty() || !index.moves.is_empty() {
                report.meshes_moved += self.follow_moves(state, slab_id)?;
            }
        }
        while let Some((victim, bytes)) = self.emptiest_shared_slab(state) {
            if bytes > left {
                report.complete = false;
                break;
            }
            let Some(moved) = self.evacuate(state, victim)? else {
                break;
            };
            left -= bytes;
            report.bytes_moved += bytes;
            report.meshes_moved += moved;
            report.slabs_dropped += 1;
        }
        Ok(report)
    }

    /// Packs one slab's two arenas: both planned (buffers created) before either moves.
    fn compact_slab(
        &self,
        state: &mut PoolState<V, I>,
        slab_id: SlabId,
        budget: Option<u64>,
    ) -> Result<(CompactionReport, CompactionReport), ArenaError> {
        let slab = &state.slabs.get(slab_id, &self.label)?.slab;
        let mut vs = slab.vertices.state.lock();
        let mut is = slab.indices.state.lock();
        let vertex_plan = slab.vertices.plan_compaction(&mut vs, budget)?;
        let index_plan = slab.indices.plan_compaction(&mut is, budget)?;
        let apply = |arena: &Arena, st: &mut crate::arena::state::State, plan| match plan {
            Planned::Work(plan) => arena.apply_compaction(st, plan),
            Planned::Nothing { complete } => CompactionReport {
                complete,
                buffer_generation: st.buffer_generation,
                ..Default::default()
            },
        };
        Ok((
            apply(&slab.vertices, &mut vs, vertex_plan),
            apply(&slab.indices, &mut is, index_plan),
        ))
    }

    /// Rewrites a compacted slab's draw records from its meshes' new offsets; returns
    /// how many changed.
    fn follow_moves(
        &self,
        state: &mut PoolState<V, I>,
        slab_id: SlabId,
    ) -> Result<usize, ArenaError> {
        let generation = state.slabs.touch(slab_id);
        let slab = &mut state.slabs.get_mut(slab_id, &self.label)?.slab;
        let mut moved = 0;
        for dense in 0..slab.len() {
            let key = slab.owners[dense as usize];
            let Ok(mesh) = state.meshes.get_mut(key, &self.label) else {
                continue;
            };
            let old = slab.records.records()[dense as usize];
            let args =
                slab.current_args(&self.label, mesh.vertices, mesh.indices, old.index_count)?;
            if (old.base_vertex, old.first_index) != (args.base_vertex, args.first_index) {
                slab.records.set(dense, args)?;
                mesh.moved_at = generation;
                state.layout += 1;
                moved += 1;
            }
        }
        slab.records.flush()?;
        slab.buffers_changed();
        Ok(moved)
    }

    /// The shared slab holding the least data, if there are two or more, and the bytes
    /// emptying it would move.
    fn emptiest_shared_slab(&self, state: &PoolState<V, I>) -> Option<(SlabId, u64)> {
        let shared = state.slabs.shared();
        if shared.len() < 2 {
            return None;
        }
        shared
            .into_iter()
            .filter_map(|id| Some((id, state.slabs.get(id, &self.label).ok()?.slab.used_bytes())))
            .min_by_key(|(_, bytes)| *bytes)
    }

    /// Moves every mesh of slab `victim` into the other shared slabs (GPU copies) and
    /// drops it; returns the meshes moved, or `None` (nothing changed) when the others
    /// cannot hold them all without opening a slab.
    fn evacuate(
        &self,
        state: &mut PoolState<V, I>,
        victim: SlabId,
    ) -> Result<Option<usize>, ArenaError> {
        let owners = state.slabs.get(victim, &self.label)?.slab.owners.clone();
        let targets: Vec<SlabId> = state
            .slabs
            .shared()
            .into_iter()
            .filter(|s| *s != victim)
            .collect();
        // 1. Reserve room for every mesh in the others (they may grow); undo on failure.
        let mut placed: Vec<(Key, SlabId, Placed<V, I>)> = Vec::with_capacity(owners.len());
        for key in &owners {
            let mesh = state.meshes.get(*key, &self.label)?;
            let source = &state.slabs.get(victim, &self.label)?.slab;
            let vertex_count = source.vertices.elements(mesh.vertices)?.count as usize;
            let index_count = source.indices.elements(mesh.indices)?.count as usize;
            let mut found = None;
            for &target in targets.iter().rev() {
                let slab = &mut state.slabs.get_mut(target, &self.label)?.slab;
                if let Ok(p) = slab.reserve(
                    vertex_count,
                    index_count,
                    *key,
                    &self.label,
                    Growth::Always,
                    false,
                ) {
                    found = Some((target, p));
                    break;
                }
            }
            match found {
                Some((target, p)) => placed.push((*key, target, p)),
                None => {
                    for (_, target, p) in placed.iter().rev() {
                        if let Ok(e) = state.slabs.get_mut(*target, &self.label) {
                            e.slab.unplace_last(p);
                        }
                    }
                    return Ok(None);
                }
            }
        }
        // 2. Copy the data into the targets' (now final) buffers.
        let source = &state.slabs.get(victim, &self.label)?.slab;
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("mesh pool evacuation"),
            });
        for (key, target, p) in &placed {
            let mesh = state.meshes.get(*key, &self.label)?;
            let dest = &state.slabs.get(*target, &self.label)?.slab;
            copy(
                &mut encoder,
                &source.vertices,
                mesh.vertices.raw(),
                &dest.vertices,
                p.vertices.raw(),
            )?;
            copy(
                &mut encoder,
                &source.indices,
                mesh.indices.raw(),
                &dest.indices,
                p.indices.raw(),
            )?;
        }
        self.queue.submit([encoder.finish()]);
        // 3. Repoint the meshes, flush the targets' records, drop the victim.
        let generation = state.slabs.bump();
        for (key, target, p) in &placed {
            if let Ok(mesh) = state.meshes.get_mut(*key, &self.label) {
                mesh.slab = *target;
                mesh.dense = p.dense;
                mesh.vertices = p.vertices;
                mesh.indices = p.indices;
                mesh.moved_at = generation;
                state.layout += 1;
            }
        }
        for target in targets {
            let entry = state.slabs.get_mut(target, &self.label)?;
            entry.slab.records.flush()?;
            if entry.slab.buffers_changed() {
                state.slabs.touch(target);
            }
        }
        let dropped: MeshSlab<V, I> = state.slabs.remove(victim, &self.label)?;
        drop(dropped);
        Ok(Some(placed.len()))
    }
}

/// Records a copy of allocation `from` of `source` to allocation `to` of `dest`.
fn copy(
    encoder: &mut wgpu::CommandEncoder,
    source: &Arena,
    from: crate::ArenaHandle,
    dest: &Arena,
    to: crate::ArenaHandle,
) -> Result<(), ArenaError> {
    let (a, b) = (source.slice(from)?, dest.slice(to)?);
    encoder.copy_buffer_to_buffer(
        &a.buffer,
        a.range.offset,
        &b.buffer,
        b.range.offset,
        a.range.size,
    );
    // Growth of the target before the next commit must carry this mesh along.
    dest.note_written(to)
}
