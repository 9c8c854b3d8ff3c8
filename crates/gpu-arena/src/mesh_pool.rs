//! [`MeshPool`]: many meshes packed into one vertex arena and one index arena, drawn
//! with a single `multi_draw_indexed_indirect`.
//!
//! Each mesh's vertices and indices are typed allocations, so `base_vertex` and
//! `first_index` are exact element offsets. The draw records live in a dense table of
//! `DrawIndexedIndirectArgs` (one allocation in an indirect arena, mirrored on the
//! CPU): removing a mesh moves the last record into its place, so the first `len()`
//! records are always exactly the live meshes and one indirect call draws them all.
//! Where the adapter lacks indirect execution, [`MeshPool::draw`] falls back to one
//! `draw_indexed` per mesh with the same buffers bound once.
//!
//! One pool serves one vertex layout (its vertex type `V`); keep one pool per layout.

use std::marker::PhantomData;
use std::sync::atomic::{AtomicU32, Ordering};

use bytemuck::Pod;
use parking_lot::Mutex;
use wgpu::util::DrawIndexedIndirectArgs;

use crate::arena::Arena;
use crate::compact::CompactionReport;
use crate::descriptor::ArenaDescriptor;
use crate::error::ArenaError;
use crate::handle::{ArenaHandle, TypedHandle};

static NEXT_POOL_ID: AtomicU32 = AtomicU32::new(1);

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

/// How a [`MeshPool`]'s arenas are created. Every field has a default.
///
/// ```
/// let desc = gpu_arena::mesh_pool::MeshPoolDescriptor { label: Some("terrain"), ..Default::default() };
/// assert_eq!(desc.initial_vertex_bytes, 4 << 20);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct MeshPoolDescriptor<'a> {
    /// Prefix of the buffers' labels. Default: `"mesh pool"`.
    pub label: Option<&'a str>,
    /// Initial vertex buffer size. Default: 4 MiB.
    pub initial_vertex_bytes: u64,
    /// Initial index buffer size. Default: 1 MiB.
    pub initial_index_bytes: u64,
    /// Initial room for draw records (meshes). Default: 1024.
    pub initial_meshes: u32,
    /// Most bytes either buffer may grow to (capped by the device). Default: device limit.
    pub max_bytes: u64,
    /// Growth factor of all three arenas. Default: 2.0.
    pub growth_factor: f32,
    /// Draw with one `multi_draw_indexed_indirect`; set it from
    /// [`supports_multi_draw`] for the adapter in use (false selects the per-mesh
    /// `draw_indexed` fallback). Default: true.
    pub multi_draw: bool,
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
            multi_draw: true,
        }
    }
}

/// Whether `adapter` can execute indirect draws (`DownlevelFlags::INDIRECT_EXECUTION`),
/// which [`MeshPool::draw`]'s single indirect call needs.
///
/// ```
/// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
/// let desc = gpu_arena::mesh_pool::MeshPoolDescriptor {
///     multi_draw: gpu_arena::mesh_pool::supports_multi_draw(&gpu.adapter),
///     ..Default::default()
/// };
/// # let _ = desc;
/// ```
pub fn supports_multi_draw(adapter: &wgpu::Adapter) -> bool {
    adapter
        .get_downlevel_capabilities()
        .flags
        .contains(wgpu::DownlevelFlags::INDIRECT_EXECUTION)
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
    pool: u32,
    slot: u32,
    generation: u32,
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

struct MeshSlot<V, I> {
    generation: u32,
    /// Position in the dense record table, or `None` when the slot is free.
    dense: Option<u32>,
    vertices: Option<TypedHandle<V>>,
    indices: Option<TypedHandle<I>>,
}

struct PoolState<V, I> {
    slots: Vec<MeshSlot<V, I>>,
    free_slots: Vec<u32>,
    /// Dense draw records and, for each, the slot that owns it.
    records: Vec<DrawIndexedIndirectArgs>,
    owners: Vec<u32>,
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
    id: u32,
    vertices: Arena,
    indices: Arena,
    indirect: Arena,
    multi_draw: bool,
    state: Mutex<PoolState<V, I>>,
    _marker: PhantomData<fn() -> (V, I)>,
}

impl<V: Pod, I: IndexType> MeshPool<V, I> {
    /// Creates a pool with its three arenas. [`Self::draw`] uses one indirect call
    /// when `desc.multi_draw` is set (see [`supports_multi_draw`]).
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
        let label = desc.label.unwrap_or("mesh pool");
        let arena = |suffix: &str, usage, initial_size| {
            let label = format!("{label} {suffix}");
            Arena::new(
                device,
                queue,
                &ArenaDescriptor {
                    label: Some(&label),
                    usage,
                    initial_size,
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
            id: NEXT_POOL_ID.fetch_add(1, Ordering::Relaxed),
            vertices,
            indices,
            indirect,
            multi_draw: desc.multi_draw,
            state: Mutex::new(PoolState {
                slots: Vec::new(),
                free_slots: Vec::new(),
                records: Vec::new(),
                owners: Vec::new(),
                table,
                table_capacity: capacity,
                table_generation: 0,
            }),
            _marker: PhantomData,
        })
    }

    /// Uploads a mesh and records its draw.
    ///
    /// Time: O(1) amortised (a table or buffer growth copies).
    ///
    /// # Errors
    /// [`ArenaError::ZeroSize`] for no vertices or indices; arena errors otherwise.
    /// On error nothing is left allocated.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let tri = pool.insert(&[[0.0; 3], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], &[0, 1, 2]).unwrap();
    /// assert_eq!(pool.len(), 1);
    /// # let _ = tri;
    /// ```
    pub fn insert(&self, vertices: &[V], indices: &[I]) -> Result<MeshHandle, ArenaError> {
        let index_count = u32::try_from(indices.len()).map_err(|_| ArenaError::OverLimit {
            requested: indices.len() as u64,
            limit: u64::from(u32::MAX),
            what: "index count",
        })?;
        let v = self.vertices.alloc_slice(vertices)?;
        let i = match self.indices.alloc_slice(indices) {
            Ok(i) => i,
            Err(e) => {
                let _ = self.vertices.free(v);
                return Err(e);
            }
        };
        let (Ok(ve), Ok(ie)) = (self.vertices.elements(v), self.indices.elements(i)) else {
            let _ = self.vertices.free(v);
            let _ = self.indices.free(i);
            return Err(ArenaError::OverLimit {
                requested: 0,
                limit: u64::from(i32::MAX as u32),
                what: "element index",
            });
        };
        let args = DrawIndexedIndirectArgs {
            index_count,
            instance_count: 1,
            first_index: ie.first,
            base_vertex: ve.first as i32,
            first_instance: 0,
        };
        let mut state = self.state.lock();
        if let Err(e) = self.reserve_record(&mut state) {
            drop(state);
            let _ = self.vertices.free(v);
            let _ = self.indices.free(i);
            return Err(e);
        }
        let mesh = self.register(&mut state, v, i, args);
        let dense = state.records.len() as u32 - 1;
        self.write_record(&state, dense)?;
        Ok(mesh)
    }

    /// Uploads many meshes at once: every range is allocated first, then each arena
    /// receives one batched upload (adjacent ranges become single copies) and the draw
    /// records one write. The fast way to fill a pool.
    ///
    /// # Errors
    /// As [`Self::insert`]; on error nothing stays allocated.
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
        let mut ranges: Vec<(TypedHandle<V>, TypedHandle<I>)> = Vec::with_capacity(meshes.len());
        let rollback = |ranges: &[(TypedHandle<V>, TypedHandle<I>)]| {
            for (v, i) in ranges {
                let _ = self.vertices.free(*v);
                let _ = self.indices.free(*i);
            }
        };
        let mut records = Vec::with_capacity(meshes.len());
        for (vertices, indices) in meshes {
            let index_count = u32::try_from(indices.len()).ok();
            let v = match self.vertices.alloc_elements::<V>(vertices.len() as u64) {
                Ok(v) => v,
                Err(e) => {
                    rollback(&ranges);
                    return Err(e);
                }
            };
            let i = match self.indices.alloc_elements::<I>(indices.len() as u64) {
                Ok(i) => i,
                Err(e) => {
                    let _ = self.vertices.free(v);
                    rollback(&ranges);
                    return Err(e);
                }
            };
            ranges.push((v, i));
            let (Ok(ve), Ok(ie), Some(index_count)) = (
                self.vertices.elements(v),
                self.indices.elements(i),
                index_count,
            ) else {
                rollback(&ranges);
                return Err(ArenaError::OverLimit {
                    requested: indices.len() as u64,
                    limit: u64::from(u32::MAX),
                    what: "index count",
                });
            };
            records.push(DrawIndexedIndirectArgs {
                index_count,
                instance_count: 1,
                first_index: ie.first,
                base_vertex: ve.first as i32,
                first_instance: 0,
            });
        }
        let upload = || -> Result<(), ArenaError> {
            let mut vb = self.vertices.batch();
            let mut ib = self.indices.batch();
            for ((vertices, indices), (v, i)) in meshes.iter().zip(&ranges) {
                vb.write_borrowed(v.raw(), 0, bytemuck::cast_slice(vertices))?;
                ib.write_borrowed(i.raw(), 0, bytemuck::cast_slice(indices))?;
            }
            vb.submit()?;
            ib.submit()?;
            Ok(())
        };
        if let Err(e) = upload() {
            rollback(&ranges);
            return Err(e);
        }
        let mut state = self.state.lock();
        let first_dense = state.records.len();
        let mut handles = Vec::with_capacity(meshes.len());
        for ((v, i), args) in ranges.iter().zip(records) {
            if let Err(e) = self.reserve_record(&mut state) {
                drop(state);
                for h in &handles {
                    let _ = self.remove(*h);
                }
                rollback(&ranges[handles.len()..]);
                return Err(e);
            }
            handles.push(self.register(&mut state, *v, *i, args));
        }
        let new_records = bytemuck::cast_slice(&state.records[first_dense..]).to_vec();
        if !new_records.is_empty() {
            self.indirect
                .write(state.table, first_dense as u64 * ARGS_BYTES, &new_records)?;
        }
        Ok(handles)
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
        let state = &mut *state;
        for (index, slot) in state.slots.iter_mut().enumerate() {
            if slot.dense.take().is_some() {
                slot.vertices = None;
                slot.indices = None;
                slot.generation = slot.generation.wrapping_add(1);
                state.free_slots.push(index as u32);
            }
        }
        state.records.clear();
        state.owners.clear();
        self.vertices.clear();
        self.indices.clear();
    }

    /// Compacts the vertex and index arenas (each moving at most `budget` bytes) and
    /// rewrites every draw record so it follows its mesh's new offsets.
    ///
    /// # Errors
    /// As [`Arena::compact`].
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
        let state = self.state.lock();
        let vertex = self.vertices.compact(budget)?;
        let index = self.indices.compact(budget)?;
        let mut state = state;
        let mut meshes_moved = 0;
        for dense in 0..state.records.len() {
            let slot = &state.slots[state.owners[dense] as usize];
            let (Some(v), Some(i)) = (slot.vertices, slot.indices) else {
                continue;
            };
            let (ve, ie) = (self.vertices.elements(v)?, self.indices.elements(i)?);
            let record = &mut state.records[dense];
            if record.base_vertex != ve.first as i32 || record.first_index != ie.first {
                record.base_vertex = ve.first as i32;
                record.first_index = ie.first;
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
    /// [`ArenaError::StaleHandle`] / [`ArenaError::ForeignHandle`] (as an arena handle
    /// naming the pool's slot); nothing changes then.
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
        let dense = self.check(&state, mesh)?;
        let entry = &mut state.slots[mesh.slot as usize];
        let (v, i) = (entry.vertices.take(), entry.indices.take());
        entry.dense = None;
        entry.generation = entry.generation.wrapping_add(1);
        state.free_slots.push(mesh.slot);
        state.records.swap_remove(dense as usize);
        state.owners.swap_remove(dense as usize);
        if (dense as usize) < state.records.len() {
            let moved = state.owners[dense as usize];
            state.slots[moved as usize].dense = Some(dense);
            self.write_record(&state, dense)?;
        }
        drop(state);
        if let Some(v) = v {
            self.vertices.free(v)?;
        }
        if let Some(i) = i {
            self.indices.free(i)?;
        }
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
        let dense = self.check(&state, mesh)?;
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
        self.check(&state, mesh)?;
        let entry = &state.slots[mesh.slot as usize];
        match (entry.vertices, entry.indices) {
            (Some(v), Some(i)) => Ok((v, i)),
            _ => Err(ArenaError::StaleHandle {
                handle: self.as_arena_handle(mesh),
            }),
        }
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
    /// println!("indirect: {}", pool.uses_multi_draw());
    /// ```
    pub fn uses_multi_draw(&self) -> bool {
        self.multi_draw
    }

    /// Draws every mesh: binds the vertex buffer to `vertex_slot` and the index buffer
    /// once, then issues one `multi_draw_indexed_indirect` (or the per-mesh fallback).
    /// Returns the number of draw calls issued. The pipeline and bind groups are the
    /// caller's.
    ///
    /// On wgpu's GL backend the indirect call is emulated as one GL draw per mesh,
    /// which costs slightly more than [`Self::draw_each`]; use the indirect path there
    /// only when the GPU writes the draw arguments (for example, culling in a compute
    /// pass).
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
        if self.multi_draw {
            self.draw_indirect(pass, vertex_slot)
        } else {
            self.draw_each(pass, vertex_slot)
        }
    }

    /// One `multi_draw_indexed_indirect` over the record table. Needs
    /// `DownlevelFlags::INDIRECT_EXECUTION`. Returns the number of calls (0 or 1).
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// # let texture = gpu.device.create_texture(&wgpu::TextureDescriptor { label: None, size: wgpu::Extent3d { width: 4, height: 4, depth_or_array_layers: 1 }, mip_level_count: 1, sample_count: 1, dimension: wgpu::TextureDimension::D2, format: wgpu::TextureFormat::Rgba8Unorm, usage: wgpu::TextureUsages::RENDER_ATTACHMENT, view_formats: &[] });
    /// # let view = texture.create_view(&Default::default());
    /// # let mut encoder = gpu.device.create_command_encoder(&Default::default());
    /// # let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor { label: None, color_attachments: &[Some(wgpu::RenderPassColorAttachment { view: &view, depth_slice: None, resolve_target: None, ops: Default::default() })], depth_stencil_attachment: None, timestamp_writes: None, occlusion_query_set: None, multiview_mask: None });
    /// assert_eq!(pool.draw_indirect(&mut pass, 0), 0); // nothing to draw yet
    /// ```
    pub fn draw_indirect(&self, pass: &mut wgpu::RenderPass<'_>, vertex_slot: u32) -> u32 {
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

    /// The fallback: one `draw_indexed` per mesh, buffers bound once. Returns the
    /// number of calls.
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

    /// Gives a mesh a slot and appends its draw record (not yet written to the GPU).
    fn register(
        &self,
        state: &mut PoolState<V, I>,
        v: TypedHandle<V>,
        i: TypedHandle<I>,
        args: DrawIndexedIndirectArgs,
    ) -> MeshHandle {
        let dense = state.records.len() as u32;
        let slot = match state.free_slots.pop() {
            Some(slot) => slot,
            None => {
                state.slots.push(MeshSlot {
                    generation: 0,
                    dense: None,
                    vertices: None,
                    indices: None,
                });
                (state.slots.len() - 1) as u32
            }
        };
        let entry = &mut state.slots[slot as usize];
        entry.dense = Some(dense);
        entry.vertices = Some(v);
        entry.indices = Some(i);
        let generation = entry.generation;
        state.records.push(args);
        state.owners.push(slot);
        MeshHandle {
            pool: self.id,
            slot,
            generation,
        }
    }

    fn check(&self, state: &PoolState<V, I>, mesh: MeshHandle) -> Result<u32, ArenaError> {
        if mesh.pool != self.id {
            return Err(ArenaError::ForeignHandle {
                handle: self.as_arena_handle(mesh),
                arena: self.id,
            });
        }
        match state.slots.get(mesh.slot as usize) {
            Some(slot) if slot.generation == mesh.generation => {
                slot.dense.ok_or(ArenaError::StaleHandle {
                    handle: self.as_arena_handle(mesh),
                })
            }
            _ => Err(ArenaError::StaleHandle {
                handle: self.as_arena_handle(mesh),
            }),
        }
    }

    fn as_arena_handle(&self, mesh: MeshHandle) -> ArenaHandle {
        ArenaHandle {
            arena: mesh.pool,
            slot: mesh.slot,
            generation: mesh.generation,
        }
    }

    /// Makes room for one more record, moving the table to a larger allocation.
    fn reserve_record(&self, state: &mut PoolState<V, I>) -> Result<(), ArenaError> {
        if (state.records.len() as u32) < state.table_capacity {
            return Ok(());
        }
        let capacity = state.table_capacity.saturating_mul(2);
        let table = self.indirect.alloc(u64::from(capacity) * ARGS_BYTES)?;
        if !state.records.is_empty() {
            self.indirect
                .write(table, 0, bytemuck::cast_slice(&state.records))?;
        }
        self.indirect.free(state.table)?;
        state.table = table;
        state.table_capacity = capacity;
        state.table_generation = state.table_generation.wrapping_add(1);
        Ok(())
    }

    fn write_record(&self, state: &PoolState<V, I>, dense: u32) -> Result<(), ArenaError> {
        let record = &state.records[dense as usize];
        self.indirect.write(
            state.table,
            u64::from(dense) * ARGS_BYTES,
            bytemuck::bytes_of(record),
        )
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
