//! [`MeshPool`]: many meshes packed into one vertex arena and one index arena, drawn
//! with a single `multi_draw_indexed_indirect`.
//!
//! Each mesh's vertices and indices are typed allocations, so `base_vertex` and
//! `first_index` are exact element offsets. The draw records live in a dense table of
//! `DrawIndexedIndirectArgs` (one allocation in an indirect arena, mirrored on the
//! CPU): removing a mesh moves the last record into its place, so the first `len()`
//! records are always exactly the live meshes and one indirect call draws them all.
//! Where indirect draws do not work (or cost more, as on GL), [`MeshPool::draw`]
//! issues one `draw_indexed` per mesh with the same buffers bound once
//! ([`DrawPath`]).
//!
//! Every operation is all-or-nothing: everything that can fail (allocations, the
//! record table's growth, uploads) happens before the pool records the change.
//!
//! One pool serves one vertex layout (its vertex type `V`); keep one pool per layout.

use std::marker::PhantomData;

use bytemuck::Pod;
use parking_lot::Mutex;
use wgpu::util::DrawIndexedIndirectArgs;

use crate::arena::Arena;
use crate::compact::{CompactionReport, Planned};
use crate::descriptor::ArenaDescriptor;
use crate::error::{ArenaError, HandleId, HandleKind, Limit};
use crate::handle::{ArenaHandle, TypedHandle};
use crate::slots::{Key, SlotMap, next_owner};

/// Bytes of one indirect draw record.
const ARGS_BYTES: u64 = size_of::<DrawIndexedIndirectArgs>() as u64;

/// An index type a pool can use: `u16` or `u32`.
///
/// ```
/// use gpu_arena::mesh_pool::IndexType;
/// assert_eq!(<u16 as IndexType>::FORMAT, wgpu::IndexFormat::Uint16);
/// ```
pub trait IndexType: Pod + sealed::Sealed {
    /// The matching wgpu index format.
    const FORMAT: wgpu::IndexFormat;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for u16 {}
    impl Sealed for u32 {}
}

impl IndexType for u16 {
    const FORMAT: wgpu::IndexFormat = wgpu::IndexFormat::Uint16;
}
impl IndexType for u32 {
    const FORMAT: wgpu::IndexFormat = wgpu::IndexFormat::Uint32;
}

/// Proof that an adapter executes indirect draws (`DownlevelFlags::INDIRECT_EXECUTION`),
/// obtained from [`DrawPath::for_adapter`]. It exists so that a pool can only be told
/// to draw indirectly where that works.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IndirectSupport(());

/// How [`MeshPool::draw`] issues its draws.
///
/// ```
/// use gpu_arena::mesh_pool::DrawPath;
/// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
/// let path = DrawPath::for_adapter(&gpu.adapter);
/// assert!(matches!(path, DrawPath::Indirect(_) | DrawPath::PerMesh));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum DrawPath {
    /// Decided by the device's backend: one indirect multi-draw on Vulkan, Metal, DX12
    /// and WebGPU (which always execute indirect draws), one `draw_indexed` per mesh
    /// on GL (where some devices cannot, and where wgpu emulates an indirect
    /// multi-draw as one GL draw per mesh anyway, so the direct calls cost less).
    #[default]
    Auto,
    /// One `multi_draw_indexed_indirect` for every mesh; see [`DrawPath::for_adapter`].
    Indirect(IndirectSupport),
    /// One `draw_indexed` per mesh, buffers bound once; works everywhere.
    PerMesh,
}

impl DrawPath {
    /// `Indirect` where `adapter` has `DownlevelFlags::INDIRECT_EXECUTION` (needed when
    /// the GPU writes the draw arguments, even on GL), else `PerMesh`.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// let path = gpu_arena::mesh_pool::DrawPath::for_adapter(&gpu.adapter);
    /// # let _ = path;
    /// ```
    pub fn for_adapter(adapter: &wgpu::Adapter) -> DrawPath {
        let flags = adapter.get_downlevel_capabilities().flags;
        if flags.contains(wgpu::DownlevelFlags::INDIRECT_EXECUTION) {
            DrawPath::Indirect(IndirectSupport(()))
        } else {
            DrawPath::PerMesh
        }
    }

    /// Whether this path draws indirectly on `device`.
    fn indirect_on(self, device: &wgpu::Device) -> bool {
        match self {
            DrawPath::Indirect(_) => true,
            DrawPath::PerMesh => false,
            DrawPath::Auto => matches!(
                device.adapter_info().backend,
                wgpu::Backend::Vulkan
                    | wgpu::Backend::Metal
                    | wgpu::Backend::Dx12
                    | wgpu::Backend::BrowserWebGpu
            ),
        }
    }
}

/// How a [`MeshPool`]'s arenas are created. Every field has a default.
///
/// ```
/// let desc = gpu_arena::mesh_pool::MeshPoolDescriptor { label: Some("terrain"), ..Default::default() };
/// assert_eq!(desc.initial_vertex_bytes, 4 << 20);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct MeshPoolDescriptor<'a> {
    /// Label of the pool, and prefix of its buffers' labels. Default: `mesh pool #N`.
    pub label: Option<&'a str>,
    /// Initial vertex buffer size (clamped to `max_bytes` and the device's
    /// `max_buffer_size`). Default: 4 MiB.
    pub initial_vertex_bytes: u64,
    /// Initial index buffer size (clamped likewise). Default: 1 MiB.
    pub initial_index_bytes: u64,
    /// Initial room for draw records (meshes). Default: 1024.
    pub initial_meshes: u32,
    /// Most bytes either buffer may grow to (capped by the device). Default: device limit.
    pub max_bytes: u64,
    /// Growth factor of all three arenas. Default: 2.0.
    pub growth_factor: f32,
    /// How [`MeshPool::draw`] draws. Default: [`DrawPath::Auto`].
    pub draw: DrawPath,
}

impl Default for MeshPoolDescriptor<'_> {
    fn default() -> Self {
        MeshPoolDescriptor {
            label: None,
            initial_vertex_bytes: 4 << 20,
            initial_index_bytes: 1 << 20,
            initial_meshes: 1024,
            max_bytes: u64::MAX,
            growth_factor: 2.0,
            draw: DrawPath::Auto,
        }
    }
}

/// A mesh in a [`MeshPool`]: a small `Copy` handle checked on every use.
///
/// ```
/// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
/// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
/// let mesh = pool.insert(&[[0.0; 3]; 3], &[0, 1, 2]).unwrap();
/// pool.remove(mesh).unwrap();
/// assert!(pool.remove(mesh).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MeshHandle {
    key: Key,
}

impl MeshHandle {
    /// The handle as errors report it.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let mesh = pool.insert(&[[0.0; 3]; 3], &[0, 1, 2]).unwrap();
    /// assert_eq!(mesh.id().kind, gpu_arena::HandleKind::MeshPool);
    /// ```
    pub fn id(self) -> HandleId {
        self.key.id(HandleKind::MeshPool)
    }
}

/// What [`MeshPool::compact`] did.
///
/// ```
/// let c = gpu_arena::mesh_pool::PoolCompaction::default();
/// assert_eq!(c.meshes_moved, 0);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PoolCompaction {
    /// The vertex arena's report.
    pub vertex: CompactionReport,
    /// The index arena's report.
    pub index: CompactionReport,
    /// Meshes whose draw record changed.
    pub meshes_moved: usize,
}

/// Which of a pool's buffers were replaced (re-bind them, rebuild bind groups).
///
/// ```
/// let g = gpu_arena::mesh_pool::PoolGenerations { vertex: 1, index: 0, indirect: 0 };
/// let changed = g.changed_since(&Default::default());
/// assert!(changed.vertex && !changed.index && !changed.indirect);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PoolGenerations {
    /// Vertex buffer generation.
    pub vertex: u32,
    /// Index buffer generation.
    pub index: u32,
    /// Indirect (draw record) buffer generation.
    pub indirect: u32,
}

/// Result of [`PoolGenerations::changed_since`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ChangedBuffers {
    /// The vertex buffer was replaced.
    pub vertex: bool,
    /// The index buffer was replaced.
    pub index: bool,
    /// The indirect buffer was replaced (or the record table moved).
    pub indirect: bool,
}

impl PoolGenerations {
    /// Which buffers differ from an earlier snapshot.
    ///
    /// ```
    /// let g = gpu_arena::mesh_pool::PoolGenerations::default();
    /// assert_eq!(g.changed_since(&g), Default::default());
    /// ```
    pub fn changed_since(&self, earlier: &PoolGenerations) -> ChangedBuffers {
        ChangedBuffers {
            vertex: self.vertex != earlier.vertex,
            index: self.index != earlier.index,
            indirect: self.indirect != earlier.indirect,
        }
    }
}

/// One mesh: where its draw record is and what it owns.
struct MeshEntry<V, I> {
    /// Position in the dense record table.
    dense: u32,
    vertices: TypedHandle<V>,
    indices: TypedHandle<I>,
}

struct PoolState<V, I> {
    meshes: SlotMap<MeshEntry<V, I>>,
    /// Dense draw records and, for each, the mesh that owns it.
    records: Vec<DrawIndexedIndirectArgs>,
    owners: Vec<Key>,
    /// The table's allocation in the indirect arena and its capacity in records.
    table: ArenaHandle,
    table_capacity: u32,
    /// Bumped whenever the table allocation moves.
    table_generation: u32,
}

/// Meshes packed into shared vertex and index buffers, drawn with one indirect call.
///
/// ```
/// use gpu_arena::mesh_pool::{MeshPool, MeshPoolDescriptor};
/// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
/// let pool: MeshPool<[f32; 3], u32> = MeshPool::new(&gpu.device, &gpu.queue, &MeshPoolDescriptor::default()).unwrap();
/// let _first = pool.insert(&[[0.0, 0.0, 0.0]; 4], &[0, 1, 2, 2, 3, 0]).unwrap();
/// let second = pool.insert(&[[1.0, 0.0, 0.0]; 3], &[0, 1, 2]).unwrap();
/// let args = pool.draw_args(second).unwrap();
/// assert_eq!((args.base_vertex, args.first_index, args.index_count), (4, 6, 3));
/// ```
pub struct MeshPool<V: Pod, I: IndexType> {
    label: String,
    vertices: Arena,
    indices: Arena,
    indirect: Arena,
    /// Whether [`Self::draw`] issues one indirect multi-draw.
    indirect_draw: bool,
    state: Mutex<PoolState<V, I>>,
    _marker: PhantomData<fn() -> (V, I)>,
}

impl<V: Pod, I: IndexType> MeshPool<V, I> {
    /// Creates a pool with its three arenas. [`Self::draw`] follows `desc.draw`.
    ///
    /// # Errors
    /// As [`Arena::new`].
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
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
        let most = desc.max_bytes.min(device.limits().max_buffer_size);
        let arena = |suffix: &str, usage, initial_size: u64| {
            let label = format!("{label} {suffix}");
            Arena::new(
                device,
                queue,
                &ArenaDescriptor {
                    label: Some(&label),
                    usage,
                    initial_size: initial_size.min(most).max(1),
                    max_size: desc.max_bytes,
                    growth_factor: desc.growth_factor,
                    ..Default::default()
                },
            )
        };
        let vertices = arena(
            "vertices",
            wgpu::BufferUsages::VERTEX,
            desc.initial_vertex_bytes,
        )?;
        let indices = arena(
            "indices",
            wgpu::BufferUsages::INDEX,
            desc.initial_index_bytes,
        )?;
        let capacity = desc.initial_meshes.max(16);
        let indirect = arena(
            "draw records",
            wgpu::BufferUsages::INDIRECT,
            u64::from(capacity) * ARGS_BYTES * 2,
        )?;
        let table = indirect.alloc(u64::from(capacity) * ARGS_BYTES)?;
        Ok(MeshPool {
            vertices,
            indices,
            indirect,
            indirect_draw: desc.draw.indirect_on(device),
            state: Mutex::new(PoolState {
                meshes: SlotMap::new(HandleKind::MeshPool, owner),
                records: Vec::new(),
                owners: Vec::new(),
                table,
                table_capacity: capacity,
                table_generation: 0,
            }),
            label,
            _marker: PhantomData,
        })
    }

    /// The pool's label (the descriptor's, or `mesh pool #N`).
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 2], u16>::new(&gpu.device, &gpu.queue, &gpu_arena::mesh_pool::MeshPoolDescriptor { label: Some("props"), ..Default::default() }).unwrap();
    /// assert_eq!(pool.label(), "props");
    /// ```
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Uploads a mesh and records its draw.
    ///
    /// Time: O(1) amortised (a table or buffer growth copies).
    ///
    /// # Errors
    /// [`ArenaError::ZeroSize`] for no vertices or indices; arena errors otherwise.
    /// On error nothing is left allocated and the pool is unchanged.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let tri = pool.insert(&[[0.0; 3], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], &[0, 1, 2]).unwrap();
    /// assert_eq!(pool.len(), 1);
    /// # let _ = tri;
    /// ```
    pub fn insert(&self, vertices: &[V], indices: &[I]) -> Result<MeshHandle, ArenaError> {
        let index_count = self.index_count(indices.len())?;
        let v = self.vertices.alloc_slice(vertices)?;
        let i = match self.indices.alloc_slice(indices) {
            Ok(i) => i,
            Err(e) => {
                self.release(&[(v, None)]);
                return Err(e);
            }
        };
        let result = (|| {
            let args = self.args_for(v, i, index_count)?;
            let mut state = self.state.lock();
            self.reserve_records(&mut state, 1)?;
            let dense = state.records.len() as u32;
            self.indirect.write(
                state.table,
                u64::from(dense) * ARGS_BYTES,
                bytemuck::bytes_of(&args),
            )?;
            Ok(self.register(&mut state, v, i, args))
        })();
        if result.is_err() {
            self.release(&[(v, Some(i))]);
        }
        result
    }

    /// Uploads many meshes at once: every range is allocated first, then each arena
    /// receives one batched upload (adjacent ranges become single copies) and the draw
    /// records one write. The fast way to fill a pool.
    ///
    /// # Errors
    /// As [`Self::insert`]; on error nothing stays allocated and the pool is unchanged.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let quad = ([[0.0f32; 3]; 4], [0u16, 1, 2, 2, 3, 0]);
    /// let tri = ([[1.0f32; 3]; 3], [0u16, 1, 2]);
    /// let meshes = pool.insert_batch(&[(&quad.0[..], &quad.1[..]), (&tri.0[..], &tri.1[..])]).unwrap();
    /// assert_eq!(pool.draw_args(meshes[1]).unwrap().first_index, 6);
    /// ```
    pub fn insert_batch(&self, meshes: &[(&[V], &[I])]) -> Result<Vec<MeshHandle>, ArenaError> {
        let mut ranges: Vec<(TypedHandle<V>, Option<TypedHandle<I>>)> =
            Vec::with_capacity(meshes.len());
        let result = self.insert_batch_into(meshes, &mut ranges);
        if result.is_err() {
            self.release(&ranges);
        }
        result
    }

    /// [`Self::insert_batch`]'s work; every range it allocates is in `ranges`, so the
    /// caller can release them all on error.
    fn insert_batch_into(
        &self,
        meshes: &[(&[V], &[I])],
        ranges: &mut Vec<(TypedHandle<V>, Option<TypedHandle<I>>)>,
    ) -> Result<Vec<MeshHandle>, ArenaError> {
        let mut records = Vec::with_capacity(meshes.len());
        for (vertices, indices) in meshes {
            let index_count = self.index_count(indices.len())?;
            let v = self.vertices.alloc_elements::<V>(vertices.len() as u64)?;
            ranges.push((v, None));
            let i = self.indices.alloc_elements::<I>(indices.len() as u64)?;
            if let Some(last) = ranges.last_mut() {
                last.1 = Some(i);
            }
            records.push(self.args_for(v, i, index_count)?);
        }
        let mut vb = self.vertices.batch();
        let mut ib = self.indices.batch();
        for ((vertices, indices), (v, i)) in meshes.iter().zip(ranges.iter()) {
            vb.write_borrowed(v.raw(), 0, bytemuck::cast_slice(vertices))?;
            if let Some(i) = i {
                ib.write_borrowed(i.raw(), 0, bytemuck::cast_slice(indices))?;
            }
        }
        vb.submit()?;
        ib.submit()?;
        let mut state = self.state.lock();
        self.reserve_records(&mut state, records.len())?;
        if !records.is_empty() {
            let first = state.records.len() as u64;
            self.indirect.write(
                state.table,
                first * ARGS_BYTES,
                bytemuck::cast_slice(&records),
            )?;
        }
        let handles = ranges
            .iter()
            .zip(records)
            .filter_map(|((v, i), args)| Some(self.register(&mut state, *v, (*i)?, args)))
            .collect();
        ranges.clear(); // registered: the pool owns them now
        Ok(handles)
    }

    /// Frees ranges of a failed insert.
    fn release(&self, ranges: &[(TypedHandle<V>, Option<TypedHandle<I>>)]) {
        for (v, i) in ranges {
            let freed = self.vertices.free(*v);
            debug_assert!(freed.is_ok(), "{freed:?}");
            if let Some(i) = i {
                let freed = self.indices.free(*i);
                debug_assert!(freed.is_ok(), "{freed:?}");
            }
        }
    }

    /// `indices.len()` as a draw's index count.
    fn index_count(&self, len: usize) -> Result<u32, ArenaError> {
        u32::try_from(len).map_err(|_| ArenaError::OverLimit {
            label: self.label.clone(),
            requested: len as u64,
            limit: u64::from(u32::MAX),
            what: Limit::ElementIndex,
        })
    }

    /// The draw record of a mesh stored at `v` and `i`.
    fn args_for(
        &self,
        v: TypedHandle<V>,
        i: TypedHandle<I>,
        index_count: u32,
    ) -> Result<DrawIndexedIndirectArgs, ArenaError> {
        let (ve, ie) = (self.vertices.elements(v)?, self.indices.elements(i)?);
        let base_vertex = i32::try_from(ve.first).map_err(|_| ArenaError::OverLimit {
            label: self.label.clone(),
            requested: u64::from(ve.first),
            limit: i32::MAX as u64,
            what: Limit::ElementIndex,
        })?;
        Ok(DrawIndexedIndirectArgs {
            index_count,
            instance_count: 1,
            first_index: ie.first,
            base_vertex,
            first_instance: 0,
        })
    }

    /// Removes every mesh at once (all mesh handles become stale); buffers, staging
    /// memory and the record table stay allocated, so refilling the pool (say, for
    /// the next level) reuses warm memory.
    ///
    /// Time: O(meshes).
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let m = pool.insert(&[[0.0; 3]; 3], &[0, 1, 2]).unwrap();
    /// pool.clear();
    /// assert!(pool.is_empty() && pool.draw_args(m).is_err());
    /// ```
    pub fn clear(&self) {
        let mut state = self.state.lock();
        state.meshes.clear();
        state.records.clear();
        state.owners.clear();
        self.vertices.clear();
        self.indices.clear();
    }

    /// Compacts the vertex and index arenas (each moving at most `budget` bytes) and
    /// rewrites every draw record so it follows its mesh's new offsets. Both arenas
    /// are planned (their new buffers created) before either changes.
    ///
    /// # Errors
    /// As [`Arena::compact`]; nothing changes then.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let a = pool.insert(&[[0.0; 3]; 30], &[0; 30]).unwrap();
    /// let b = pool.insert(&[[1.0; 3]; 3], &[0, 1, 2]).unwrap();
    /// pool.remove(a).unwrap();
    /// let report = pool.compact(None).unwrap();
    /// assert_eq!(report.meshes_moved, 1);
    /// assert_eq!(pool.draw_args(b).unwrap().base_vertex, 0);
    /// ```
    pub fn compact(&self, budget: Option<u64>) -> Result<PoolCompaction, ArenaError> {
        let mut state = self.state.lock();
        let (vertex, index) = {
            let mut vs = self.vertices.state.lock();
            let mut is = self.indices.state.lock();
            let vertex_plan = self.vertices.plan_compaction(&vs, budget)?;
            let index_plan = self.indices.plan_compaction(&is, budget)?;
            let apply = |arena: &Arena, st: &mut crate::arena::State, plan| match plan {
                Planned::Work(plan) => arena.apply_compaction(st, plan),
                Planned::Nothing { complete } => CompactionReport {
                    complete,
                    buffer_generation: st.buffer_generation,
                    ..Default::default()
                },
            };
            (
                apply(&self.vertices, &mut vs, vertex_plan),
                apply(&self.indices, &mut is, index_plan),
            )
        };
        let mut meshes_moved = 0;
        for dense in 0..state.records.len() {
            let key = state.owners[dense];
            let Ok(entry) = state.meshes.get(key, &self.label) else {
                unreachable!("every record's owner is live");
            };
            let (v, i) = (entry.vertices, entry.indices);
            let args = self.args_for(v, i, state.records[dense].index_count)?;
            let record = &mut state.records[dense];
            if (record.base_vertex, record.first_index) != (args.base_vertex, args.first_index) {
                *record = args;
                meshes_moved += 1;
            }
        }
        if meshes_moved > 0 {
            self.indirect
                .write(state.table, 0, bytemuck::cast_slice(&state.records))?;
        }
        Ok(PoolCompaction {
            vertex,
            index,
            meshes_moved,
        })
    }

    /// Removes a mesh: frees its ranges and moves the last draw record into its place.
    ///
    /// Time: O(1).
    ///
    /// # Errors
    /// [`ArenaError::StaleHandle`] / [`ArenaError::ForeignHandle`] naming the pool;
    /// nothing changes then.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let a = pool.insert(&[[0.0; 3]; 3], &[0, 1, 2]).unwrap();
    /// let b = pool.insert(&[[1.0; 3]; 3], &[2, 1, 0]).unwrap();
    /// pool.remove(a).unwrap();
    /// assert_eq!(pool.len(), 1);
    /// assert_eq!(pool.draw_args(b).unwrap().index_count, 3);
    /// ```
    pub fn remove(&self, mesh: MeshHandle) -> Result<(), ArenaError> {
        let mut state = self.state.lock();
        let dense = state.meshes.get(mesh.key, &self.label)?.dense as usize;
        let last = state.records.len() - 1;
        if dense != last {
            // The last record moves into the hole: written before anything changes.
            self.indirect.write(
                state.table,
                dense as u64 * ARGS_BYTES,
                bytemuck::bytes_of(&state.records[last]),
            )?;
        }
        let Ok(entry) = state.meshes.remove(mesh.key, &self.label) else {
            unreachable!("checked live above");
        };
        state.records.swap_remove(dense);
        state.owners.swap_remove(dense);
        if dense != last {
            let moved = state.owners[dense];
            if let Ok(moved) = state.meshes.get_mut(moved, &self.label) {
                moved.dense = dense as u32;
            }
        }
        drop(state);
        self.release(&[(entry.vertices, Some(entry.indices))]);
        Ok(())
    }

    /// The mesh's draw record: `first_index`, `index_count` and `base_vertex` for
    /// `draw_indexed`, exactly as stored in the indirect buffer.
    ///
    /// # Errors
    /// A stale or foreign handle.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u32>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let m = pool.insert(&[[0.0; 3]; 3], &[0, 1, 2]).unwrap();
    /// assert_eq!(pool.draw_args(m).unwrap().instance_count, 1);
    /// ```
    pub fn draw_args(&self, mesh: MeshHandle) -> Result<DrawIndexedIndirectArgs, ArenaError> {
        let state = self.state.lock();
        let dense = state.meshes.get(mesh.key, &self.label)?.dense;
        Ok(state.records[dense as usize])
    }

    /// The mesh's vertex and index allocations (to read back or update in place).
    ///
    /// # Errors
    /// A stale or foreign handle.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let m = pool.insert(&[[0.5; 3]; 3], &[0, 1, 2]).unwrap();
    /// let (v, i) = pool.ranges(m).unwrap();
    /// assert_eq!(pool.vertex_arena().read_slice(v).unwrap(), [[0.5; 3]; 3]);
    /// assert_eq!(pool.index_arena().read_slice(i).unwrap(), [0, 1, 2]);
    /// ```
    pub fn ranges(&self, mesh: MeshHandle) -> Result<(TypedHandle<V>, TypedHandle<I>), ArenaError> {
        let state = self.state.lock();
        let entry = state.meshes.get(mesh.key, &self.label)?;
        Ok((entry.vertices, entry.indices))
    }

    /// Number of meshes.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// assert_eq!(pool.len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.state.lock().records.len()
    }

    /// Whether the pool holds no mesh.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// assert!(pool.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether [`Self::draw`] issues one indirect call (else one `draw_indexed` per mesh).
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// println!("indirect: {}", pool.uses_indirect());
    /// ```
    pub fn uses_indirect(&self) -> bool {
        self.indirect_draw
    }

    /// Draws every mesh: binds the vertex buffer to `vertex_slot` and the index buffer
    /// once, then issues one `multi_draw_indexed_indirect`, or one `draw_indexed` per
    /// mesh ([`DrawPath`]). Returns the number of draw calls issued. The pipeline and
    /// bind groups are the caller's.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// # let texture = gpu.device.create_texture(&wgpu::TextureDescriptor { label: None, size: wgpu::Extent3d { width: 4, height: 4, depth_or_array_layers: 1 }, mip_level_count: 1, sample_count: 1, dimension: wgpu::TextureDimension::D2, format: wgpu::TextureFormat::Rgba8Unorm, usage: wgpu::TextureUsages::RENDER_ATTACHMENT, view_formats: &[] });
    /// # let view = texture.create_view(&Default::default());
    /// # let mut encoder = gpu.device.create_command_encoder(&Default::default());
    /// # let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor { label: None, color_attachments: &[Some(wgpu::RenderPassColorAttachment { view: &view, depth_slice: None, resolve_target: None, ops: Default::default() })], depth_stencil_attachment: None, timestamp_writes: None, occlusion_query_set: None, multiview_mask: None });
    /// // with a pipeline set:
    /// let calls = pool.draw(&mut pass, 0);
    /// assert_eq!(calls, 0); // an empty pool draws nothing
    /// ```
    pub fn draw(&self, pass: &mut wgpu::RenderPass<'_>, vertex_slot: u32) -> u32 {
        if !self.indirect_draw {
            return self.draw_each(pass, vertex_slot);
        }
        let state = self.state.lock();
        let count = state.records.len() as u32;
        if count == 0 {
            return 0;
        }
        let Ok(table) = self.indirect.range(state.table) else {
            return 0;
        };
        pass.set_vertex_buffer(vertex_slot, self.vertices.buffer().slice(..));
        pass.set_index_buffer(self.indices.buffer().slice(..), I::FORMAT);
        pass.multi_draw_indexed_indirect(&self.indirect.buffer(), table.offset, count);
        1
    }

    /// One `draw_indexed` per mesh, buffers bound once, whatever the pool's
    /// [`DrawPath`]. Returns the number of calls.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// # let texture = gpu.device.create_texture(&wgpu::TextureDescriptor { label: None, size: wgpu::Extent3d { width: 4, height: 4, depth_or_array_layers: 1 }, mip_level_count: 1, sample_count: 1, dimension: wgpu::TextureDimension::D2, format: wgpu::TextureFormat::Rgba8Unorm, usage: wgpu::TextureUsages::RENDER_ATTACHMENT, view_formats: &[] });
    /// # let view = texture.create_view(&Default::default());
    /// # let mut encoder = gpu.device.create_command_encoder(&Default::default());
    /// # let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor { label: None, color_attachments: &[Some(wgpu::RenderPassColorAttachment { view: &view, depth_slice: None, resolve_target: None, ops: Default::default() })], depth_stencil_attachment: None, timestamp_writes: None, occlusion_query_set: None, multiview_mask: None });
    /// assert_eq!(pool.draw_each(&mut pass, 0), 0); // one call per mesh, none yet
    /// ```
    pub fn draw_each(&self, pass: &mut wgpu::RenderPass<'_>, vertex_slot: u32) -> u32 {
        let state = self.state.lock();
        if state.records.is_empty() {
            return 0;
        }
        pass.set_vertex_buffer(vertex_slot, self.vertices.buffer().slice(..));
        pass.set_index_buffer(self.indices.buffer().slice(..), I::FORMAT);
        for r in &state.records {
            pass.draw_indexed(
                r.first_index..r.first_index + r.index_count,
                r.base_vertex,
                0..1,
            );
        }
        state.records.len() as u32
    }

    /// Generations of the three buffers; compare snapshots with
    /// [`PoolGenerations::changed_since`] to learn which buffers were replaced.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &gpu_arena::mesh_pool::MeshPoolDescriptor { initial_vertex_bytes: 64, ..Default::default() }).unwrap();
    /// let before = pool.generations();
    /// pool.insert(&[[0.0; 3]; 100], &[0, 1, 2]).unwrap(); // outgrows 64 bytes
    /// assert!(pool.generations().changed_since(&before).vertex);
    /// ```
    pub fn generations(&self) -> PoolGenerations {
        let table_generation = self.state.lock().table_generation;
        PoolGenerations {
            vertex: self.vertices.buffer_generation(),
            index: self.indices.buffer_generation(),
            indirect: self
                .indirect
                .buffer_generation()
                .wrapping_add(table_generation),
        }
    }

    /// The vertex arena.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// assert_eq!(pool.vertex_arena().stats().live_allocations, 0);
    /// ```
    pub fn vertex_arena(&self) -> &Arena {
        &self.vertices
    }

    /// The index arena.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// assert_eq!(pool.index_arena().stats().live_allocations, 0);
    /// ```
    pub fn index_arena(&self) -> &Arena {
        &self.indices
    }

    /// The indirect arena holding the draw record table.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// assert_eq!(pool.indirect_arena().stats().live_allocations, 1); // the table
    /// ```
    pub fn indirect_arena(&self) -> &Arena {
        &self.indirect
    }

    /// Reads the draw record table back from the GPU (for tests and debugging).
    ///
    /// # Errors
    /// [`ArenaError::Readback`].
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let m = pool.insert(&[[0.0; 3]; 3], &[0, 1, 2]).unwrap();
    /// assert_eq!(pool.read_records().unwrap()[0].index_count, pool.draw_args(m).unwrap().index_count);
    /// ```
    pub fn read_records(&self) -> Result<Vec<DrawIndexedIndirectArgs>, ArenaError> {
        let (table, count) = {
            let state = self.state.lock();
            (state.table, state.records.len())
        };
        let bytes = self.indirect.read(table)?;
        Ok(bytes
            .chunks_exact(ARGS_BYTES as usize)
            .take(count)
            .map(|c| {
                let w: [u32; 5] = bytemuck::pod_read_unaligned(c);
                DrawIndexedIndirectArgs {
                    index_count: w[0],
                    instance_count: w[1],
                    first_index: w[2],
                    base_vertex: w[3] as i32,
                    first_instance: w[4],
                }
            })
            .collect())
    }

    /// Gives a mesh a slot and appends its draw record (already written to the GPU).
    fn register(
        &self,
        state: &mut PoolState<V, I>,
        vertices: TypedHandle<V>,
        indices: TypedHandle<I>,
        args: DrawIndexedIndirectArgs,
    ) -> MeshHandle {
        let dense = state.records.len() as u32;
        let key = state.meshes.insert(MeshEntry {
            dense,
            vertices,
            indices,
        });
        state.records.push(args);
        state.owners.push(key);
        MeshHandle { key }
    }

    /// Makes room for `extra` more records, moving the table to a larger allocation.
    fn reserve_records(&self, state: &mut PoolState<V, I>, extra: usize) -> Result<(), ArenaError> {
        let needed = state.records.len() + extra;
        if needed <= state.table_capacity as usize {
            return Ok(());
        }
        let capacity =
            u32::try_from(needed.max(state.table_capacity as usize * 2)).map_err(|_| {
                ArenaError::OverLimit {
                    label: self.label.clone(),
                    requested: needed as u64,
                    limit: u64::from(u32::MAX),
                    what: Limit::ElementIndex,
                }
            })?;
        let table = self.indirect.alloc(u64::from(capacity) * ARGS_BYTES)?;
        if !state.records.is_empty()
            && let Err(e) = self
                .indirect
                .write(table, 0, bytemuck::cast_slice(&state.records))
        {
            let _ = self.indirect.free(table);
            return Err(e);
        }
        let old = std::mem::replace(&mut state.table, table);
        let freed = self.indirect.free(old);
        debug_assert!(freed.is_ok(), "{freed:?}");
        state.table_capacity = capacity;
        state.table_generation = state.table_generation.wrapping_add(1);
        Ok(())
    }
}

impl<V: Pod, I: IndexType> Drop for MeshPool<V, I> {
    /// The pool owns its meshes: dropping it releases them without a leak report.
    fn drop(&mut self) {
        self.vertices.clear();
        self.indices.clear();
        self.indirect.clear();
    }
}
