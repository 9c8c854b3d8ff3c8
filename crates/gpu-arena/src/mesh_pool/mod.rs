//! [`MeshPool`]: meshes packed into slabs of shared vertex and index buffers, each
//! drawn with one `multi_draw_indexed_indirect`.
//!
//! A pool is a list of slabs (the layer under every pool, see [`crate::SlabId`]): each slab
//! is one vertex arena, one index arena and a [`crate::GpuTable`] of
//! `DrawIndexedIndirectArgs`, one per mesh, dense (removing a mesh moves the last
//! record into its place). A mesh lives wholly in one slab, so `base_vertex` and
//! `first_index` are exact element offsets in that slab's buffers (or, in a pool
//! that rebases its indices for WebGL2, `base_vertex` is 0 and the stored indices
//! carry the offset: [`MeshPoolDescriptor::rebase_indices`]). When the newest
//! slab is full (its `max_slab_bytes`, the device's `max_buffer_size`), the next
//! shared slab with room takes the mesh, or a new one opens; a mesh of at least
//! `dedicated_bytes` gets a slab of its own. [`MeshPool::draw`] issues one indirect
//! call per slab, or one `draw_indexed` per mesh where indirect draws do not work or
//! cost more ([`DrawPath`]). The record tables are bindable storage, so a culling
//! pass can rewrite them ([`MeshPool::slabs`]).
//!
//! Every operation is all-or-nothing: everything that can fail (allocations, table
//! growth, staging) happens before the pool records the change. Each insert takes
//! the pool's lock and each arena's once and stages its vertices and indices into
//! shared staging chunks; [`MeshPool::commit`] lands them with merged copies and
//! flushes the draw records.
//!
//! One pool serves one vertex layout (its vertex type `V`); keep one pool per layout.

mod commit;
mod compact;
mod draw;
mod insert;
mod readback;
mod slab;
mod types;
mod validate;

pub use commit::CommitReport;
pub use compact::PoolCompaction;
pub use draw::{DrawPath, IndirectSupport};
pub use types::{IndexType, MeshDraw, MeshHandle, MeshPoolDescriptor, MeshPoolStats, MeshSlabView};

use bytemuck::Pod;
use parking_lot::Mutex;
use wgpu::util::DrawIndexedIndirectArgs;

use crate::error::{ArenaError, HandleKind};
use crate::handle::TypedHandle;
use crate::slab::{SlabId, Slabs};
use crate::slots::{SlotMap, next_owner};
use crate::staging::{Staging, StagingDescriptor};
use commit::Pending;

use slab::{MeshSlab, SlabSizes};

/// One mesh: where it is and what it owns.
pub(crate) struct MeshEntry<V, I> {
    slab: SlabId,
    /// Index of its record in the slab's table.
    dense: u32,
    vertices: TypedHandle<V>,
    indices: TypedHandle<I>,
    /// Pool generation when it was inserted, and when it last moved.
    inserted_at: u64,
    moved_at: u64,
    /// The commit epoch when its data was staged (waiting while it is the current one).
    staged_at: u64,
}

pub(crate) struct PoolState<V: Pod, I: IndexType> {
    pub(crate) meshes: SlotMap<MeshEntry<V, I>>,
    pub(crate) slabs: Slabs<MeshSlab<V, I>>,
    /// Inserts staged since the last commit.
    pub(crate) pending: Pending,
    /// Bumped when meshes move (compaction) or go (remove, clear): see
    /// [`MeshPool::layout_generation`].
    pub(crate) layout: u64,
}

/// Meshes packed into slabs of shared buffers, drawn with one indirect call per slab.
///
/// ```
/// use gpu_arena::mesh_pool::{MeshPool, MeshPoolDescriptor};
/// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
/// let pool: MeshPool<[f32; 3], u32> = MeshPool::new(&gpu.device, &gpu.queue, &MeshPoolDescriptor::default()).unwrap();
/// let _first = pool.insert(&[[0.0, 0.0, 0.0]; 4], &[0, 1, 2, 2, 3, 0]).unwrap();
/// let second = pool.insert(&[[1.0, 0.0, 0.0]; 3], &[0, 1, 2]).unwrap();
/// let args = pool.draw_args(second).unwrap().args;
/// assert_eq!((args.base_vertex, args.first_index, args.index_count), (4, 6, 3));
/// ```
pub struct MeshPool<V: Pod, I: IndexType> {
    label: String,
    /// The owner identity in the pool's handles.
    owner: u32,
    device: wgpu::Device,
    queue: wgpu::Queue,
    /// Sizes of a new shared slab.
    shared: SlabSizes,
    /// The device's `max_buffer_size` (a dedicated slab's limit).
    max_buffer_size: u64,
    dedicated_bytes: u64,
    /// Whether [`Self::draw`] issues indirect calls.
    indirect_draw: bool,
    /// Staging memory of inserts and of the slabs' arenas.
    staging: Staging,
    /// Whether the pool made its staging (then [`Self::maintain`] maintains it).
    owns_staging: bool,
    state: Mutex<PoolState<V, I>>,
}

impl<V: Pod, I: IndexType> MeshPool<V, I> {
    /// Creates a pool and its first slab. [`Self::draw`] follows `desc.draw`.
    ///
    /// # Errors
    /// As [`crate::Arena::new`].
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 2], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// assert!(pool.is_empty());
    /// ```
    pub fn new(
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        desc: &MeshPoolDescriptor<'_>,
    ) -> Result<Self, ArenaError> {
        let owner = next_owner();
        let label = desc
            .label
            .map_or_else(|| format!("mesh pool #{owner}"), str::to_owned);
        // WebGL2 has no base vertex (wgpu panics on a draw that uses one): rebase there.
        let rebase = desc.rebase_indices
            || (cfg!(target_arch = "wasm32") && device.adapter_info().backend == wgpu::Backend::Gl);
        let shared = SlabSizes {
            vertex_bytes: desc.initial_vertex_bytes,
            index_bytes: desc.initial_index_bytes,
            max_bytes: desc.max_slab_bytes.min(device.limits().max_buffer_size),
            records: desc.initial_meshes.max(16),
            growth_factor: desc.growth_factor,
            rebase,
            max_vertices: if rebase { I::MAX_VERTICES } else { u64::MAX },
            direct: desc.direct_writes,
        };
        let staging = desc.staging.clone().unwrap_or_else(|| {
            Staging::new(
                device,
                &StagingDescriptor {
                    label: Some(&format!("{label} staging")),
                    ..Default::default()
                },
            )
        });
        let mut slabs = Slabs::new(owner, desc.max_slabs);
        slabs.open(&label, false, || {
            MeshSlab::open(device, queue, &format!("{label} slab 0"), shared, &staging)
        })?;
        Ok(MeshPool {
            device: device.clone(),
            queue: queue.clone(),
            shared,
            max_buffer_size: device.limits().max_buffer_size,
            dedicated_bytes: desc.dedicated_bytes,
            indirect_draw: desc.draw.indirect_on(device),
            state: Mutex::new(PoolState {
                meshes: SlotMap::new(HandleKind::MeshPool, owner),
                slabs,
                pending: Pending::new(&staging, 1),
                layout: 0,
            }),
            owner,
            owns_staging: desc.staging.is_none(),
            staging,
            label,
        })
    }

    /// The pool's label (the descriptor's, or `mesh pool #N`).
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 2], u16>::new(&gpu.device, &gpu.queue, &gpu_arena::mesh_pool::MeshPoolDescriptor { label: Some("props"), ..Default::default() }).unwrap();
    /// assert_eq!(pool.label(), "props");
    /// ```
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Removes a mesh: frees its ranges, moves the last draw record of its slab into
    /// its place, and drops the slab if it was the mesh's own (or an empty shared slab
    /// beside others).
    ///
    /// Time: O(1).
    ///
    /// # Errors
    /// [`ArenaError::StaleHandle`] / [`ArenaError::ForeignHandle`] naming the pool;
    /// nothing changes then.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let a = pool.insert(&[[0.0; 3]; 3], &[0, 1, 2]).unwrap();
    /// let b = pool.insert(&[[1.0; 3]; 3], &[2, 1, 0]).unwrap();
    /// pool.remove(a).unwrap();
    /// assert_eq!(pool.len(), 1);
    /// assert_eq!(pool.draw_args(b).unwrap().args.index_count, 3);
    /// ```
    pub fn remove(&self, mesh: MeshHandle) -> Result<(), ArenaError> {
        let mut guard = self.state.lock();
        let state = &mut *guard;
        let entry = state.meshes.get(mesh.key, &self.label)?;
        let (slab_id, dense, v, i) = (entry.slab, entry.dense, entry.vertices, entry.indices);
        // A mesh still waiting for its commit no longer does (its copies are skipped).
        let waiting = entry.staged_at == state.pending.epoch;
        let slab = state.slabs.get_mut(slab_id, &self.label)?;
        let moved = slab.slab.remove(dense, v, i)?;
        let (now_empty, dedicated) = (slab.slab.len() == 0, slab.dedicated);
        if let Some(moved) = moved
            && let Ok(moved) = state.meshes.get_mut(moved, &self.label)
        {
            moved.dense = dense;
        }
        state.meshes.remove(mesh.key, &self.label)?;
        state.layout += 1;
        if waiting {
            state.pending.meshes -= 1;
        }
        if now_empty && (dedicated || state.slabs.shared().len() > 1) {
            state.slabs.remove(slab_id, &self.label)?;
        }
        Ok(())
    }

    /// Removes every mesh at once (all mesh handles become stale). The oldest shared
    /// slab keeps its capacity, staging memory and record table, so refilling the
    /// pool (say, for the next level) reuses warm memory; the other slabs are
    /// dropped. With direct writes (see [`MeshPoolDescriptor::direct_writes`]) the
    /// slab is fresh again: the refill's first insert lets go of the old vertex and
    /// index buffers first (so that their memory, once the GPU is done with them,
    /// can hold the new ones) and writes in place into new ones; while the GPU
    /// still uses the old buffers, or a bind group of yours holds them, both exist.
    /// A buffer over 16 MiB is replaced only when the refill is expected to fill at
    /// least half of it (a batch says how much; otherwise the fill before the clear
    /// counts). Elsewhere the refill is staged into the old buffers.
    ///
    /// Time: O(meshes).
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let m = pool.insert(&[[0.0; 3]; 3], &[0, 1, 2]).unwrap();
    /// pool.clear();
    /// assert!(pool.is_empty() && pool.draw_args(m).is_err());
    /// ```
    pub fn clear(&self) {
        let mut state = self.state.lock();
        state.meshes.clear();
        state.layout += 1;
        state.slabs.clear(MeshSlab::clear);
        let epoch = state.pending.epoch + 1;
        state.pending = Pending::new(&self.staging, epoch);
    }

    /// Where a mesh is drawn from: its slab, record index and draw record.
    ///
    /// # Errors
    /// A stale or foreign handle.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u32>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let m = pool.insert(&[[0.0; 3]; 3], &[0, 1, 2]).unwrap();
    /// assert_eq!(pool.draw_args(m).unwrap().args.instance_count, 1);
    /// ```
    pub fn draw_args(&self, mesh: MeshHandle) -> Result<MeshDraw, ArenaError> {
        let state = self.state.lock();
        let entry = state.meshes.get(mesh.key, &self.label)?;
        let slab = state.slabs.get(entry.slab, &self.label)?;
        Ok(MeshDraw {
            slab: entry.slab,
            record: entry.dense,
            args: slab.slab.records.records()[entry.dense as usize],
        })
    }

    /// Changes whenever a mesh's draw arguments may have changed: a mesh moved
    /// (compaction) or went (`remove`, `clear`). Inserts and growth leave it alone.
    /// What keeps draw arguments of its own (an [`crate::objects::ObjectPool`])
    /// re-reads them when it changes.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let before = pool.layout_generation();
    /// let m = pool.insert(&[[0.0; 3]; 3], &[0, 1, 2]).unwrap();
    /// assert_eq!(pool.layout_generation(), before);
    /// pool.remove(m).unwrap();
    /// assert_ne!(pool.layout_generation(), before);
    /// ```
    pub fn layout_generation(&self) -> u64 {
        self.state.lock().layout
    }

    /// The pool's identity (the owner in its handles).
    pub(crate) fn owner(&self) -> u32 {
        self.owner
    }

    /// The slab slot and draw record of each mesh under one lock (`None` for stale
    /// handles), with the layout generation they belong to.
    pub(crate) fn resolve_meshes(
        &self,
        meshes: impl Iterator<Item = MeshHandle>,
    ) -> (u64, Vec<Option<(u32, DrawIndexedIndirectArgs)>>) {
        let state = self.state.lock();
        let resolved = meshes
            .map(|mesh| {
                let entry = state.meshes.get(mesh.key, &self.label).ok()?;
                let slab = state.slabs.get(entry.slab, &self.label).ok()?;
                Some((
                    entry.slab.key.slot,
                    slab.slab.records.records()[entry.dense as usize],
                ))
            })
            .collect();
        (state.layout, resolved)
    }

    /// Number of meshes.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// assert_eq!(pool.len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.state.lock().meshes.len()
    }

    /// Whether the pool holds no mesh.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// assert!(pool.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether [`Self::draw`] issues one indirect call per slab (else one
    /// `draw_indexed` per mesh).
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// println!("indirect: {}", pool.uses_indirect());
    /// ```
    pub fn uses_indirect(&self) -> bool {
        self.indirect_draw
    }

    /// Whether the pool stores indices rebased, drawing with base vertex 0
    /// ([`MeshPoolDescriptor::rebase_indices`], or forced on WebGL2).
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// let desc = gpu_arena::mesh_pool::MeshPoolDescriptor { rebase_indices: true, ..Default::default() };
    /// let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &desc).unwrap();
    /// assert!(pool.rebases_indices());
    /// ```
    pub fn rebases_indices(&self) -> bool {
        self.shared.rebase
    }

    /// Draws every mesh: for each slab, binds its vertex buffer to `vertex_slot` and
    /// its index buffer, then issues one `multi_draw_indexed_indirect`, or one
    /// `draw_indexed` per mesh ([`DrawPath`]). Returns the number of draw calls. The
    /// pipeline and bind groups are the caller's.
    ///
    /// # Errors
    /// [`ArenaError::Uncommitted`] while inserted meshes wait for [`Self::commit`]
    /// (nothing is drawn then).
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// # let texture = gpu.device.create_texture(&wgpu::TextureDescriptor { label: None, size: wgpu::Extent3d { width: 4, height: 4, depth_or_array_layers: 1 }, mip_level_count: 1, sample_count: 1, dimension: wgpu::TextureDimension::D2, format: wgpu::TextureFormat::Rgba8Unorm, usage: wgpu::TextureUsages::RENDER_ATTACHMENT, view_formats: &[] });
    /// # let view = texture.create_view(&Default::default());
    /// # let mut encoder = gpu.device.create_command_encoder(&Default::default());
    /// # let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor { label: None, color_attachments: &[Some(wgpu::RenderPassColorAttachment { view: &view, depth_slice: None, resolve_target: None, ops: Default::default() })], depth_stencil_attachment: None, timestamp_writes: None, occlusion_query_set: None, multiview_mask: None });
    /// // with a pipeline set:
    /// let calls = pool.draw(&mut pass, 0).unwrap();
    /// assert_eq!(calls, 0); // an empty pool draws nothing
    /// ```
    pub fn draw(
        &self,
        pass: &mut wgpu::RenderPass<'_>,
        vertex_slot: u32,
    ) -> Result<u32, ArenaError> {
        let state = self.state.lock();
        self.refuse_uncommitted(&state)?;
        Ok(state
            .slabs
            .iter()
            .map(|(_, e)| draw::draw_slab(&e.slab, pass, vertex_slot, self.indirect_draw))
            .sum())
    }

    /// One `draw_indexed` per mesh, each slab's buffers bound once, whatever the pool's
    /// [`DrawPath`]. Returns the number of calls.
    ///
    /// # Errors
    /// As [`Self::draw`].
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// # let texture = gpu.device.create_texture(&wgpu::TextureDescriptor { label: None, size: wgpu::Extent3d { width: 4, height: 4, depth_or_array_layers: 1 }, mip_level_count: 1, sample_count: 1, dimension: wgpu::TextureDimension::D2, format: wgpu::TextureFormat::Rgba8Unorm, usage: wgpu::TextureUsages::RENDER_ATTACHMENT, view_formats: &[] });
    /// # let view = texture.create_view(&Default::default());
    /// # let mut encoder = gpu.device.create_command_encoder(&Default::default());
    /// # let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor { label: None, color_attachments: &[Some(wgpu::RenderPassColorAttachment { view: &view, depth_slice: None, resolve_target: None, ops: Default::default() })], depth_stencil_attachment: None, timestamp_writes: None, occlusion_query_set: None, multiview_mask: None });
    /// assert_eq!(pool.draw_each(&mut pass, 0).unwrap(), 0); // one call per mesh, none yet
    /// ```
    pub fn draw_each(
        &self,
        pass: &mut wgpu::RenderPass<'_>,
        vertex_slot: u32,
    ) -> Result<u32, ArenaError> {
        let state = self.state.lock();
        self.refuse_uncommitted(&state)?;
        Ok(state
            .slabs
            .iter()
            .map(|(_, e)| draw::draw_slab(&e.slab, pass, vertex_slot, false))
            .sum())
    }

    /// The pool generation: it changes whenever a mesh is inserted or moved, or any
    /// slab's buffers are replaced (growth, compaction) or a slab opens or closes.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let before = pool.generation();
    /// pool.insert(&[[0.0; 3]; 3], &[0, 1, 2]).unwrap();
    /// assert!(pool.generation() > before);
    /// ```
    pub fn generation(&self) -> u64 {
        self.state.lock().slabs.generation()
    }

    /// The meshes that existed at pool generation `generation` and were displaced
    /// since: their slab's buffers were replaced (growth, which lands at the
    /// [`Self::commit`] after the inserts that need it, or compaction) or they moved
    /// (compaction, to another slab). Re-bind their buffers or patch what you keep of
    /// their draw records. (Bevy's `meshes_displaced_by_slab_growth`.)
    ///
    /// Time: O(meshes).
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &gpu_arena::mesh_pool::MeshPoolDescriptor { initial_vertex_bytes: 64, ..Default::default() }).unwrap();
    /// let early = pool.insert(&[[0.0; 3]; 3], &[0, 1, 2]).unwrap();
    /// pool.commit_now().unwrap(); // committed, a full slab grows (see `direct_writes`)
    /// let before = pool.generation();
    /// pool.insert(&[[0.0; 3]; 100], &[0, 1, 2]).unwrap(); // outgrows 64 bytes
    /// assert!(pool.displaced_since(before).is_empty()); // the buffer grows at the commit
    /// pool.commit_now().unwrap();
    /// assert_eq!(pool.displaced_since(before), [early]);
    /// ```
    pub fn displaced_since(&self, generation: u64) -> Vec<MeshHandle> {
        let state = self.state.lock();
        state
            .meshes
            .iter()
            .filter(|(_, m)| {
                m.inserted_at <= generation
                    && (m.moved_at > generation
                        || state
                            .slabs
                            .get(m.slab, &self.label)
                            .is_ok_and(|s| s.changed_at > generation))
            })
            .map(|(key, _)| MeshHandle { key })
            .collect()
    }

    /// Every slab's buffers and record table, for drawing the pool yourself or running
    /// a pass that rewrites the draw records (culling).
    ///
    /// # Errors
    /// [`ArenaError::Uncommitted`] while inserted meshes wait for [`Self::commit`].
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// pool.insert(&[[0.0; 3]; 3], &[0, 1, 2]).unwrap();
    /// assert!(pool.slabs().is_err(), "not committed yet");
    /// pool.commit_now().unwrap();
    /// let slabs = pool.slabs().unwrap();
    /// assert_eq!((slabs.len(), slabs[0].record_count), (1, 1));
    /// ```
    pub fn slabs(&self) -> Result<Vec<MeshSlabView>, ArenaError> {
        let state = self.state.lock();
        self.refuse_uncommitted(&state)?;
        Ok(state
            .slabs
            .iter()
            .filter_map(|(id, e)| {
                Some(MeshSlabView {
                    id,
                    vertex_buffer: e.slab.vertices.buffer(),
                    index_buffer: e.slab.indices.buffer(),
                    records: e.slab.records.binding().ok()?,
                    record_count: e.slab.len(),
                    dedicated: e.dedicated,
                    changed_at: e.changed_at,
                })
            })
            .collect())
    }

    /// Counters summed over the slabs.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// assert_eq!(pool.stats().slabs, 1);
    /// ```
    pub fn stats(&self) -> MeshPoolStats {
        let state = self.state.lock();
        let mut stats = MeshPoolStats {
            meshes: state.meshes.len(),
            ..Default::default()
        };
        for (_, e) in state.slabs.iter() {
            let (v, i) = (e.slab.vertices.stats(), e.slab.indices.stats());
            stats.slabs += 1;
            stats.dedicated_slabs += usize::from(e.dedicated);
            stats.vertex_bytes += v.used;
            stats.index_bytes += i.used;
            stats.capacity += v.capacity + i.capacity;
            stats.growth_bytes_copied += v.growth_bytes_copied + i.growth_bytes_copied;
        }
        stats
    }
}
