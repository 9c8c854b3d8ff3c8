//! [`ObjectPool`]: instances of a mesh pool's meshes, each with per-object data of the
//! caller's type (a transform, a colour, any `Pod`) and world-space bounds, culled
//! against a camera and drawn GPU-driven.
//!
//! An object is a mesh plus one entry of two [`GpuTable`]s kept in step: the caller's
//! data (bound by the vertex shader, which finds its object at `instance_index`) and
//! a cull record (bounds and the mesh's draw arguments). Many objects may share a
//! mesh. Each frame, [`ObjectPool::cull`] records a compute pass
//! (the crate's `shaders/cull.wgsl`) that tests every object's bounds and writes the draw
//! arguments of the visible ones, compacted per slab, with a count per slab; and
//! [`ObjectPool::draw`] issues one indirect multi-draw per slab. Where the device
//! cannot draw that way, the same calls cull on the CPU and draw each visible object
//! directly ([`CullPath`]). Per-frame CPU work is O(slabs), not O(objects), on the
//! GPU paths.
//!
//! ```
//! use gpu_arena::mesh_pool::MeshPool;
//! use gpu_arena::objects::{Bounds, Frustum, ObjectPool};
//! # let gpu = gpu_arena::headless::Headless::shared().unwrap();
//! let meshes = MeshPool::<[f32; 3], u32>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
//! let tri = meshes.insert(&[[0.0; 3], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], &[0, 1, 2]).unwrap();
//! meshes.commit_now().unwrap();
//! let objects = ObjectPool::<[f32; 4]>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
//! let near = objects.insert(&meshes, tri, Bounds::sphere([0.0, 0.0, 0.5], 0.5), [1.0; 4]).unwrap();
//! let far = objects.insert(&meshes, tri, Bounds::sphere([9.0, 0.0, 0.5], 0.5), [0.5; 4]).unwrap();
//! let identity = [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]];
//! let mut encoder = gpu.device.create_command_encoder(&Default::default());
//! objects.cull(&mut encoder, &meshes, &Frustum::from_view_projection(identity)).unwrap();
//! gpu.queue.submit([encoder.finish()]);
//! assert_eq!(objects.read_visible().unwrap(), [near]);
//! # let _ = far;
//! ```

mod cull;
mod edit;
mod frame;
mod frustum;

use bytemuck::{Pod, Zeroable};
use parking_lot::Mutex;

pub use cull::{CountSupport, CullPath, FirstInstanceSupport};
pub use frustum::{Bounds, Frustum};

use crate::error::{ArenaError, HandleKind};
use crate::gpu_table::{GpuTable, GpuTableDescriptor};
use crate::mesh_pool::MeshHandle;
use crate::slots::{Key, SlotMap, next_owner};
use crate::{HandleId, Staging, StagingDescriptor};
use cull::{ARGS_BYTES, Culler, SlabRegion};

/// How an [`ObjectPool`] is made.
///
/// ```
/// let desc = gpu_arena::objects::ObjectPoolDescriptor { label: Some("props"), ..Default::default() };
/// assert_eq!(desc.capacity, 1024);
/// ```
#[derive(Clone, Debug)]
pub struct ObjectPoolDescriptor<'a> {
    /// Label of the pool and its buffers. Default: `object pool #N`.
    pub label: Option<&'a str>,
    /// Objects the tables hold before they first grow. Default: 1024.
    pub capacity: u32,
    /// How to cull and draw. Default: [`CullPath::Auto`].
    pub path: CullPath,
}

impl Default for ObjectPoolDescriptor<'_> {
    fn default() -> Self {
        ObjectPoolDescriptor {
            label: None,
            capacity: 1024,
            path: CullPath::Auto,
        }
    }
}

/// An object of an [`ObjectPool`]: a small `Copy` handle checked on every use.
///
/// ```
/// # use gpu_arena::objects::{Bounds, ObjectPool};
/// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
/// # let meshes = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u32>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
/// # let mesh = meshes.insert(&[[0.0; 3]; 3], &[0, 1, 2]).unwrap();
/// let objects = ObjectPool::<u32>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
/// let o = objects.insert(&meshes, mesh, Bounds::sphere([0.0; 3], 1.0), 7).unwrap();
/// objects.remove(o).unwrap();
/// assert!(objects.remove(o).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ObjectHandle {
    key: Key,
}

impl ObjectHandle {
    /// The handle as errors report it.
    ///
    /// ```
    /// # use gpu_arena::objects::{Bounds, ObjectPool};
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let meshes = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u32>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// # let mesh = meshes.insert(&[[0.0; 3]; 3], &[0, 1, 2]).unwrap();
    /// # let objects = ObjectPool::<u32>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let o = objects.insert(&meshes, mesh, Bounds::sphere([0.0; 3], 1.0), 7).unwrap();
    /// assert_eq!(o.id().kind, gpu_arena::HandleKind::ObjectPool);
    /// ```
    pub fn id(self) -> HandleId {
        self.key.id(HandleKind::ObjectPool)
    }
}

/// What [`ObjectPool::cull`] did.
///
/// ```
/// let report = gpu_arena::objects::CullReport::default();
/// assert_eq!((report.objects, report.workgroups), (0, 0));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CullReport {
    /// Objects tested.
    pub objects: u32,
    /// Workgroups dispatched (0 on the CPU path).
    pub workgroups: u32,
    /// Objects found visible, on the CPU path (the GPU's answer stays on the GPU;
    /// [`ObjectPool::read_visible`] reads it back).
    pub visible_on_cpu: Option<u32>,
    /// Objects whose mesh was removed from the mesh pool: they draw nothing.
    pub orphans: u32,
    /// Slabs with objects (each gets one draw call on the GPU paths).
    pub slabs: u32,
}

/// The cull record of one object: `CullRecord` of the crate's `shaders/cull.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
struct CullRecord {
    bounds: Bounds,
    index_count: u32,
    first_index: u32,
    base_vertex: i32,
    slab: u32,
}

impl CullRecord {
    fn new(bounds: Bounds, resolved: Option<(u32, wgpu::util::DrawIndexedIndirectArgs)>) -> Self {
        match resolved {
            Some((slab, args)) => CullRecord {
                bounds,
                index_count: args.index_count,
                first_index: args.first_index,
                base_vertex: args.base_vertex,
                slab,
            },
            None => CullRecord {
                bounds,
                ..Default::default()
            },
        }
    }
}

pub(crate) struct State<T: Pod> {
    objects: SlotMap<u32>,
    /// Dense index → key and mesh (the tables are dense in the same order).
    owners: Vec<Key>,
    meshes: Vec<MeshHandle>,
    data: GpuTable<T>,
    records: GpuTable<CullRecord>,
    /// The mesh pool the objects draw from, and its layout generation the records
    /// were resolved at.
    pool: Option<(u32, u64)>,
    /// Objects per slab slot (those with a mesh): the culling regions' sizes.
    slab_counts: Vec<u32>,
    /// Objects whose mesh is gone (they draw nothing).
    orphans: u32,
    /// Changes since the last cull.
    changes: usize,
    /// The regions of the last cull, per slab slot; its layout generation.
    regions: Vec<SlabRegion>,
    culled_layout: Option<u64>,
    /// Visible objects (slab slot, dense index) of the last CPU cull.
    visible: Vec<(u32, u32)>,
    culler: Option<Culler>,
}

/// Objects drawn from one [`crate::mesh_pool::MeshPool`], culled and drawn
/// GPU-driven; see the module.
///
/// ```
/// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
/// let objects = gpu_arena::objects::ObjectPool::<[f32; 4]>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
/// assert_eq!(objects.len(), 0);
/// ```
pub struct ObjectPool<T: Pod> {
    label: String,
    device: wgpu::Device,
    queue: wgpu::Queue,
    path: CullPath,
    /// Carries each cull's camera into the caller's encoder (so that every cull sees
    /// its own, even several in one submission).
    staging: Staging,
    /// Objects the argument buffer can be bound for.
    max_objects: u32,
    state: Mutex<State<T>>,
}

impl<T: Pod> ObjectPool<T> {
    /// An empty pool; `desc.path` resolved for `device`.
    ///
    /// # Errors
    /// [`ArenaError::Device`] when a buffer is refused.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// let objects = gpu_arena::objects::ObjectPool::<[f32; 16]>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// assert!(objects.is_empty());
    /// ```
    pub fn new(
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        desc: &ObjectPoolDescriptor<'_>,
    ) -> Result<Self, ArenaError> {
        let owner = next_owner();
        let label = desc
            .label
            .map_or_else(|| format!("object pool #{owner}"), str::to_owned);
        let path = desc.path.resolve(device);
        let (data_label, records_label) =
            (format!("{label} data"), format!("{label} cull records"));
        let table = |label| GpuTableDescriptor {
            label: Some(label),
            capacity: desc.capacity.max(1),
            ..Default::default()
        };
        let data = GpuTable::new(device, queue, &table(&data_label))?;
        let records = GpuTable::new(device, queue, &table(&records_label))?;
        let limits = device.limits();
        let args_cap = limits
            .max_storage_buffer_binding_size
            .min(limits.max_buffer_size);
        let culler = if path.on_gpu() {
            Some(Culler::new(device, &label)?)
        } else {
            None
        };
        Ok(ObjectPool {
            staging: Staging::new(
                device,
                &StagingDescriptor {
                    label: Some(&format!("{label} camera staging")),
                    chunk_size: 4096,
                    max_free_bytes: 64 << 10,
                    ..Default::default()
                },
            ),
            max_objects: (args_cap / ARGS_BYTES).min(u64::from(u32::MAX)) as u32,
            state: Mutex::new(State {
                objects: SlotMap::new(HandleKind::ObjectPool, owner),
                owners: Vec::new(),
                meshes: Vec::new(),
                data,
                records,
                pool: None,
                slab_counts: Vec::new(),
                orphans: 0,
                changes: 0,
                regions: Vec::new(),
                culled_layout: None,
                visible: Vec::new(),
                culler,
            }),
            device: device.clone(),
            queue: queue.clone(),
            path,
            label,
        })
    }
}
