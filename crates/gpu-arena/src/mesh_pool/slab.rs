//! [`MeshSlab`]: one vertex arena, one index arena and the table of draw records of
//! the meshes they hold. A mesh lives wholly in one slab, so one bind of the slab's
//! buffers and one indirect call over its table draw all of them.

use bytemuck::Pod;
use wgpu::util::DrawIndexedIndirectArgs;

use crate::arena::mapped::{DirectWrites, MAP_ANY_SIZE_UP_TO};
use crate::arena::{Arena, Growth};
use crate::descriptor::ArenaDescriptor;
use crate::error::{ArenaError, Limit};
use crate::gpu_table::{GpuTable, GpuTableDescriptor};
use crate::handle::{ArenaRange, TypedHandle, TypedPlacement};
use crate::mesh_pool::IndexType;
use crate::slots::Key;
use crate::staging::Staging;

/// Sizes of a slab's buffers.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SlabSizes {
    pub vertex_bytes: u64,
    pub index_bytes: u64,
    /// Most bytes each buffer may grow to.
    pub max_bytes: u64,
    pub records: u32,
    pub growth_factor: f32,
    /// Indices are stored rebased: records draw with base vertex 0.
    pub rebase: bool,
    /// Most vertices the vertex buffer may hold (65,536 for rebased `u16` slabs).
    pub max_vertices: u64,
    /// Inserts may write straight into fresh mapped buffers (`arena::mapped`).
    pub direct: bool,
}

impl SlabSizes {
    /// The sizes of the slab opened when `full`, written in place and never
    /// committed, has no room left: each buffer `growth_factor` times what `full`'s
    /// holds (the one that filled grows by the factor, the other keeps its share),
    /// at least these initial sizes, and at most [`MAP_ANY_SIZE_UP_TO`] (so that the
    /// new buffers are mapped on their first write whatever it is) and `max_bytes`.
    /// `None` when `full` is not mapped (it grows instead).
    pub fn spilling_from<V: Pod, I: IndexType>(self, full: &MeshSlab<V, I>) -> Option<Self> {
        if !full.vertices.is_mapped() && !full.indices.is_mapped() {
            return None;
        }
        let factor = f64::from(self.growth_factor.max(1.0));
        let grown = |arena: &Arena, initial: u64| {
            ((arena.stats().used as f64 * factor) as u64)
                .max(initial)
                .min(MAP_ANY_SIZE_UP_TO)
                .min(self.max_bytes)
                .next_multiple_of(4)
        };
        Some(SlabSizes {
            vertex_bytes: grown(&full.vertices, self.vertex_bytes),
            index_bytes: grown(&full.indices, self.index_bytes),
            ..self
        })
    }
}

/// Where a mesh was placed in a slab.
pub(crate) struct Placed<V, I> {
    pub dense: u32,
    pub vertices: TypedHandle<V>,
    pub indices: TypedHandle<I>,
    /// The byte ranges of the two (what a direct write into them needs).
    pub vertex_range: ArenaRange,
    pub index_range: ArenaRange,
    /// The first vertex (what rebased indices are rebased by).
    pub first_vertex: u32,
    /// The placement changed the slab's buffers (grew them, mapped fresh ones for
    /// the writes, or grew the record table): the slab's other meshes are displaced.
    pub changed: bool,
}

/// One slab of a mesh pool.
pub(crate) struct MeshSlab<V: Pod, I: IndexType> {
    pub vertices: Arena,
    pub indices: Arena,
    /// One draw record per mesh, dense: the first `len()` are exactly the meshes.
    pub records: GpuTable<DrawIndexedIndirectArgs>,
    /// The mesh each record belongs to.
    pub owners: Vec<Key>,
    /// The arenas' buffer generations and the record table's when the pool last looked.
    seen: (u32, u32, u32),
    /// Indices are stored rebased (records draw with base vertex 0).
    pub rebase: bool,
    _marker: std::marker::PhantomData<fn() -> (V, I)>,
}

impl<V: Pod, I: IndexType> MeshSlab<V, I> {
    /// A slab with buffers of `sizes`.
    pub fn open(
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        label: &str,
        sizes: SlabSizes,
        staging: &Staging,
    ) -> Result<Self, ArenaError> {
        let most = sizes.max_bytes.min(device.limits().max_buffer_size);
        let arena = |suffix: &str, usage, initial: u64, max_size: u64| {
            let label = format!("{label} {suffix}");
            Arena::new_deferred(
                device,
                queue,
                &ArenaDescriptor {
                    label: Some(&label),
                    usage,
                    initial_size: initial.clamp(4, most.min(max_size).max(4)),
                    max_size,
                    growth_factor: sizes.growth_factor,
                    staging: Some(staging.clone()),
                    ..Default::default()
                },
                sizes.direct,
            )
        };
        let vertex_max = sizes
            .max_bytes
            .min(sizes.max_vertices.saturating_mul(size_of::<V>() as u64));
        let vertices = arena(
            "vertices",
            wgpu::BufferUsages::VERTEX,
            sizes.vertex_bytes,
            vertex_max,
        )?;
        let indices = arena(
            "indices",
            wgpu::BufferUsages::INDEX,
            sizes.index_bytes,
            sizes.max_bytes,
        )?;
        let records = GpuTable::new(
            device,
            queue,
            &GpuTableDescriptor {
                label: Some(&format!("{label} draw records")),
                capacity: sizes.records,
                // Bound as storage by GPU culling and drawn indirectly; where the
                // device has no storage buffers (WebGL2, which has no indirect draws
                // either) the records only mirror what per-mesh draws use.
                usage: if device.limits().max_storage_buffer_binding_size > 0 {
                    wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::INDIRECT
                } else {
                    wgpu::BufferUsages::empty()
                },
                ..Default::default()
            },
        )?;
        let seen = (
            vertices.buffer_generation(),
            indices.buffer_generation(),
            records.generation(),
        );
        Ok(MeshSlab {
            vertices,
            indices,
            records,
            owners: Vec::new(),
            seen,
            rebase: sizes.rebase,
            _marker: std::marker::PhantomData,
        })
    }

    /// Reserves room for a mesh of `vertex_count` and `index_count` elements, growing
    /// the buffers as `growth` allows, and appends its record (not flushed); the
    /// data is uploaded by the caller, in place where `map_for_writes` maps fresh
    /// buffers for it (an insert; a compaction's GPU copies do not want that).
    pub fn reserve(
        &mut self,
        vertex_count: usize,
        index_count: usize,
        owner: Key,
        label: &str,
        growth: Growth,
        map_for_writes: bool,
    ) -> Result<Placed<V, I>, ArenaError> {
        let v =
            self.vertices
                .place_elements_with::<V>(vertex_count as u64, growth, map_for_writes)?;
        let i =
            match self
                .indices
                .place_elements_with::<I>(index_count as u64, growth, map_for_writes)
            {
                Ok(i) => i,
                Err(e) => {
                    self.release(v.handle, None);
                    return Err(e);
                }
            };
        self.commit(v, i, owner, label).inspect_err(|_| {
            self.release(v.handle, Some(i.handle));
        })
    }

    /// Appends the draw record of a mesh placed at `v` and `i`.
    fn commit(
        &mut self,
        v: TypedPlacement<V>,
        i: TypedPlacement<I>,
        owner: Key,
        label: &str,
    ) -> Result<Placed<V, I>, ArenaError> {
        let args = draw_args(label, v, i, self.rebase)?;
        let dense = self.records.push(args)?;
        self.owners.push(owner);
        let now = (
            v.buffer_generation,
            i.buffer_generation,
            self.records.generation(),
        );
        Ok(Placed {
            dense,
            vertices: v.handle,
            indices: i.handle,
            vertex_range: v.range,
            index_range: i.range,
            first_vertex: v.elements.first,
            changed: std::mem::replace(&mut self.seen, now) != now,
        })
    }

    /// The locks for writing placed meshes' data into the two arenas (vertices
    /// first, always in this order).
    pub fn direct_writes(&self) -> (DirectWrites<'_>, DirectWrites<'_>) {
        (self.vertices.direct_writes(), self.indices.direct_writes())
    }

    /// Undoes [`Self::place`] / [`Self::reserve`] for the last record.
    pub fn unplace_last(&mut self, placed: &Placed<V, I>) {
        debug_assert_eq!(placed.dense + 1, self.records.len());
        let _ = self.records.swap_remove(placed.dense);
        self.owners.pop();
        self.release(placed.vertices, Some(placed.indices));
    }

    /// Frees a mesh's ranges.
    pub fn release(&self, vertices: TypedHandle<V>, indices: Option<TypedHandle<I>>) {
        let freed = self.vertices.free(vertices);
        debug_assert!(freed.is_ok(), "{freed:?}");
        if let Some(indices) = indices {
            let freed = self.indices.free(indices);
            debug_assert!(freed.is_ok(), "{freed:?}");
        }
    }

    /// Removes the record at `dense` (the last record moves into its place) and frees
    /// the mesh's ranges. Returns the owner of the moved record, if one moved.
    pub fn remove(
        &mut self,
        dense: u32,
        vertices: TypedHandle<V>,
        indices: TypedHandle<I>,
    ) -> Result<Option<Key>, ArenaError> {
        self.records.swap_remove(dense)?;
        self.owners.swap_remove(dense as usize);
        self.records.flush()?;
        self.release(vertices, Some(indices));
        Ok(self.owners.get(dense as usize).copied())
    }

    /// The draw record a mesh at `vertices` and `indices` has now (after compaction).
    pub fn current_args(
        &self,
        label: &str,
        vertices: TypedHandle<V>,
        indices: TypedHandle<I>,
        index_count: u32,
    ) -> Result<DrawIndexedIndirectArgs, ArenaError> {
        let (ve, ie) = (
            self.vertices.elements(vertices)?,
            self.indices.elements(indices)?,
        );
        Ok(DrawIndexedIndirectArgs {
            index_count,
            instance_count: 1,
            first_index: ie.first,
            base_vertex: if self.rebase {
                0
            } else {
                base_vertex(label, ve.first)?
            },
            first_instance: 0,
        })
    }

    /// Whether the arenas' buffers, or the record table's binding, changed since the
    /// last call.
    pub fn buffers_changed(&mut self) -> bool {
        let now = (
            self.vertices.buffer_generation(),
            self.indices.buffer_generation(),
            self.records.generation(),
        );
        std::mem::replace(&mut self.seen, now) != now
    }

    /// Whether a buffer of the slab that is written in place (mapped) lacks room for
    /// `vertex_bytes` (vertex buffer) or `index_bytes` (index buffer) more: it would
    /// have to grow.
    pub fn lacks_mapped_room(&self, vertex_bytes: u64, index_bytes: u64) -> bool {
        let lacks = |arena: &Arena, bytes: u64| {
            arena.is_mapped() && {
                let stats = arena.stats();
                stats.capacity - stats.used < bytes
            }
        };
        lacks(&self.vertices, vertex_bytes) || lacks(&self.indices, index_bytes)
    }

    /// Meshes in the slab.
    pub fn len(&self) -> u32 {
        self.records.len()
    }

    /// Bytes used in the two arenas.
    pub fn used_bytes(&self) -> u64 {
        self.vertices.stats().used + self.indices.stats().used
    }

    /// Empties the slab (buffers and table capacity stay).
    pub fn clear(&mut self) {
        self.records.clear();
        self.owners.clear();
        let _ = self.records.flush();
        self.vertices.clear();
        self.indices.clear();
    }
}

impl<V: Pod, I: IndexType> Drop for MeshSlab<V, I> {
    /// The slab owns its meshes' ranges: dropping it releases them without a leak
    /// report.
    fn drop(&mut self) {
        self.vertices.clear();
        self.indices.clear();
    }
}

/// The draw record of a mesh placed at `v` and `i`.
fn draw_args<V, I>(
    label: &str,
    v: TypedPlacement<V>,
    i: TypedPlacement<I>,
    rebase: bool,
) -> Result<DrawIndexedIndirectArgs, ArenaError> {
    Ok(DrawIndexedIndirectArgs {
        index_count: i.elements.count,
        instance_count: 1,
        first_index: i.elements.first,
        base_vertex: if rebase {
            0
        } else {
            base_vertex(label, v.elements.first)?
        },
        first_instance: 0,
    })
}

/// A first vertex as a draw's `i32` base vertex.
fn base_vertex(label: &str, first: u32) -> Result<i32, ArenaError> {
    i32::try_from(first).map_err(|_| ArenaError::OverLimit {
        label: label.to_owned(),
        requested: u64::from(first),
        limit: i32::MAX as u64,
        what: Limit::ElementIndex,
    })
}
