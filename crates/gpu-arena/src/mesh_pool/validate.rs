//! [`MeshPool::validate`]: an invariant walker over a pool's slabs and meshes, for
//! property tests and fuzzing.

use bytemuck::Pod;
use offset_alloc::InvariantError;

use crate::error::HandleKind;
use crate::mesh_pool::{IndexType, MeshPool};

macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(InvariantError { message: format!($($msg)+) });
        }
    };
}

impl<V: Pod, I: IndexType> MeshPool<V, I> {
    /// Checks every invariant: each slab's arenas ([`crate::Arena::validate`]); each
    /// slab's records are exactly its meshes, one each, in dense order; each mesh's
    /// record draws its own ranges (`first_index`, `index_count`, and `base_vertex`:
    /// the first vertex, or 0 when indices are rebased); a rebasing `u16` pool's
    /// shared slabs address fewer than 65,536 vertices; staged meshes are live ones.
    ///
    /// Time: O(meshes + allocations · log allocations).
    ///
    /// # Errors
    /// [`InvariantError`] naming the first broken invariant.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let m = pool.insert(&[[0.0; 3]; 3], &[0, 1, 2]).unwrap();
    /// pool.validate().unwrap();
    /// pool.remove(m).unwrap();
    /// pool.validate().unwrap();
    /// ```
    pub fn validate(&self) -> Result<(), InvariantError> {
        let state = self.state.lock();
        let label = &self.label;
        let mut records = 0usize;
        for (id, entry) in state.slabs.iter() {
            let slab = &entry.slab;
            slab.vertices.validate()?;
            slab.indices.validate()?;
            let table = slab.records.records();
            ensure!(
                table.len() == slab.owners.len(),
                "{label}: slab {id:?} has {} records and {} owners",
                table.len(),
                slab.owners.len()
            );
            records += table.len();
            for (dense, &owner) in slab.owners.iter().enumerate() {
                let mesh = state.meshes.get(owner, label).map_err(|e| InvariantError {
                    message: format!("{label}: slab {id:?} record {dense} has no mesh: {e}"),
                })?;
                ensure!(
                    mesh.slab == id && mesh.dense as usize == dense,
                    "{label}: slab {id:?} record {dense} belongs to a mesh at {:?} record {}",
                    mesh.slab,
                    mesh.dense
                );
                let vertices =
                    slab.vertices
                        .elements(mesh.vertices)
                        .map_err(|e| InvariantError {
                            message: format!("{label}: a mesh's vertices are gone: {e}"),
                        })?;
                let indices = slab
                    .indices
                    .elements(mesh.indices)
                    .map_err(|e| InvariantError {
                        message: format!("{label}: a mesh's indices are gone: {e}"),
                    })?;
                let r = table[dense];
                let base = if slab.rebase {
                    0
                } else {
                    i64::from(vertices.first)
                };
                ensure!(
                    (r.first_index, r.index_count, i64::from(r.base_vertex))
                        == (indices.first, indices.count, base)
                        && (r.instance_count, r.first_instance) == (1, 0),
                    "{label}: the record of {:?} draws {r:?}; its ranges are vertices {vertices:?}, indices {indices:?}",
                    owner.id(HandleKind::MeshPool)
                );
                if slab.rebase && !entry.dedicated {
                    ensure!(
                        u64::from(vertices.first) + u64::from(vertices.count) <= I::MAX_VERTICES,
                        "{label}: a rebased mesh ends at vertex {} past {}",
                        u64::from(vertices.first) + u64::from(vertices.count),
                        I::MAX_VERTICES
                    );
                }
            }
        }
        ensure!(
            records == state.meshes.len(),
            "{label}: {} meshes but {records} records",
            state.meshes.len()
        );
        ensure!(
            state.pending.meshes <= state.meshes.len(),
            "{label}: {} meshes staged but {} live",
            state.pending.meshes,
            state.meshes.len()
        );
        Ok(())
    }
}
