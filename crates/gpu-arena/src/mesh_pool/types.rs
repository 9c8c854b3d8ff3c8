//! The mesh pool's public value types: index types, the descriptor, handles, and
//! what lookups and reports return.

use bytemuck::Pod;
use wgpu::util::DrawIndexedIndirectArgs;

use crate::arena::ArenaSlice;
use crate::error::{HandleId, HandleKind};
use crate::mesh_pool::DrawPath;
use crate::slab::SlabId;
use crate::slots::Key;
use crate::staging::Staging;

/// An index type a pool can use: `u16` or `u32`.
///
/// ```
/// use gpu_arena::mesh_pool::IndexType;
/// assert_eq!(<u16 as IndexType>::FORMAT, wgpu::IndexFormat::Uint16);
/// ```
pub trait IndexType: Pod + sealed::Sealed {
    /// The matching wgpu index format.
    const FORMAT: wgpu::IndexFormat;
    /// Vertices one draw can address without a base vertex (65,536 for `u16`).
    const MAX_VERTICES: u64;
    /// The index moved up by `base` vertices (for pools that rebase indices).
    #[doc(hidden)]
    fn rebased(self, base: u32) -> Self;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for u16 {}
    impl Sealed for u32 {}
}

impl IndexType for u16 {
    const FORMAT: wgpu::IndexFormat = wgpu::IndexFormat::Uint16;
    const MAX_VERTICES: u64 = 1 << 16;
    fn rebased(self, base: u32) -> Self {
        // The slab holds fewer than 65,536 vertices, so a valid index stays in range.
        (u32::from(self) + base) as u16
    }
}
impl IndexType for u32 {
    const FORMAT: wgpu::IndexFormat = wgpu::IndexFormat::Uint32;
    const MAX_VERTICES: u64 = 1 << 32;
    fn rebased(self, base: u32) -> Self {
        self.wrapping_add(base)
    }
}

/// How a [`crate::mesh_pool::MeshPool`] and its slabs are created. Every field has a default.
///
/// ```
/// let desc = gpu_arena::mesh_pool::MeshPoolDescriptor { label: Some("terrain"), ..Default::default() };
/// assert_eq!(desc.initial_vertex_bytes, 4 << 20);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct MeshPoolDescriptor<'a> {
    /// Label of the pool, and prefix of its buffers' labels. Default: `mesh pool #N`.
    pub label: Option<&'a str>,
    /// Initial vertex buffer size of a shared slab (clamped to what a slab may be).
    /// Default: 4 MiB.
    pub initial_vertex_bytes: u64,
    /// Initial index buffer size of a shared slab (clamped likewise). Default: 1 MiB.
    pub initial_index_bytes: u64,
    /// Initial room for draw records in a shared slab. Default: 1024.
    pub initial_meshes: u32,
    /// Most bytes a shared slab's vertex or index buffer may grow to; also capped by
    /// the device's `max_buffer_size`. When the newest slab is full the pool opens
    /// another. Default: the device limit.
    pub max_slab_bytes: u64,
    /// Most slabs the pool may hold, dedicated ones included; past it inserts are
    /// refused (or, into a slab written in place, grow it: see `direct_writes`).
    /// Default: no limit.
    pub max_slabs: u32,
    /// A mesh whose vertices or indices take at least this many bytes (or more than a
    /// shared slab may hold) gets a slab of its own, sized exactly for it and dropped
    /// with it. Default: 32 MiB.
    pub dedicated_bytes: u64,
    /// Growth factor of the arenas. Default: 2.0.
    pub growth_factor: f32,
    /// How [`crate::mesh_pool::MeshPool::draw`] draws. Default: [`DrawPath::Auto`].
    pub draw: DrawPath,
    /// Store every index already moved up by its mesh's first vertex in the slab, so
    /// draws need no base vertex (every record's `base_vertex` is 0): for adapters
    /// without `DownlevelFlags::BASE_VERTEX`, such as WebGL2 (see
    /// [`MeshPoolDescriptor::needs_rebased_indices`]). A `u16` pool then keeps each
    /// shared slab below 65,536 vertices; indices read back are the stored, rebased
    /// ones; and [`crate::mesh_pool::MeshPool::compact`] is refused (moving vertices
    /// would need every index rewritten). Forced on for WebGL2 devices, where a
    /// draw with a base vertex cannot work; elsewhere set it from
    /// [`MeshPoolDescriptor::needs_rebased_indices`]. Default: false.
    pub rebase_indices: bool,
    /// Staging memory to share with other pools and arenas (warm chunks, one bound).
    /// Default: `None` (the pool makes its own, maintained by its `maintain`).
    pub staging: Option<Staging>,
    /// Where the device has `Features::MAPPABLE_PRIMARY_BUFFERS` enabled, inserts
    /// into a slab buffer that holds nothing yet (a new pool's, a new slab's, a
    /// large mesh's own, a cleared pool's: see
    /// [`crate::mesh_pool::MeshPool::clear`]) are written straight into a buffer
    /// that replaces it, created mapped at the slab's whole size: one copy instead
    /// of two, and no GPU copy. wgpu zeroes such a buffer on the CPU, so one over
    /// 16 MiB is mapped only when the writes expected fill at least half of it (the
    /// batch, the first insert, or after `clear` the fill it replaces). Everything
    /// else is staged. A shared slab written this way that fills up before its
    /// first commit does not grow (that would copy it into a new buffer on the
    /// GPU): the pool opens the next slab instead, each buffer `growth_factor`
    /// times what the full slab's held (at least the initial sizes, at most 16 MiB),
    /// written in place too. So a new pool filled one insert at a time, past its
    /// initial sizes, ends with a few slabs rather than one (a draw call each);
    /// [`crate::mesh_pool::MeshPool::insert_batch`] sizes one slab for the whole
    /// batch instead, and once `max_slabs` is reached the newest slab grows as any
    /// other. On software and unified-memory adapters this is the fast way to fill a
    /// new pool; on a discrete GPU the feature puts such buffers in slower
    /// host-visible memory, so do not enable it there ([`crate::headless`] enables
    /// it only on CPU and integrated adapters). Nothing changes where the device
    /// lacks the feature (WebGPU, WebGL2, wgpu's GL backend). Default: true.
    pub direct_writes: bool,
}

impl Default for MeshPoolDescriptor<'_> {
    fn default() -> Self {
        MeshPoolDescriptor {
            label: None,
            initial_vertex_bytes: 4 << 20,
            initial_index_bytes: 1 << 20,
            initial_meshes: 1024,
            max_slab_bytes: u64::MAX,
            max_slabs: u32::MAX,
            dedicated_bytes: 32 << 20,
            growth_factor: 2.0,
            draw: DrawPath::Auto,
            rebase_indices: false,
            staging: None,
            direct_writes: true,
        }
    }
}

impl MeshPoolDescriptor<'_> {
    /// Whether pools on `adapter` need [`MeshPoolDescriptor::rebase_indices`]: true
    /// where it lacks `DownlevelFlags::BASE_VERTEX` (WebGL2).
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// use gpu_arena::mesh_pool::MeshPoolDescriptor;
    /// let desc = MeshPoolDescriptor {
    ///     rebase_indices: MeshPoolDescriptor::needs_rebased_indices(&gpu.adapter),
    ///     ..Default::default()
    /// };
    /// # let _ = desc;
    /// ```
    pub fn needs_rebased_indices(adapter: &wgpu::Adapter) -> bool {
        !adapter
            .get_downlevel_capabilities()
            .flags
            .contains(wgpu::DownlevelFlags::BASE_VERTEX)
    }
}

/// A mesh in a [`crate::mesh_pool::MeshPool`]: a small `Copy` handle checked on every use. It stays
/// valid when its mesh moves (growth, compaction, another slab).
///
/// ```
/// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
/// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
/// let mesh = pool.insert(&[[0.0; 3]; 3], &[0, 1, 2]).unwrap();
/// pool.remove(mesh).unwrap();
/// assert!(pool.remove(mesh).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MeshHandle {
    pub(crate) key: Key,
}

impl MeshHandle {
    /// The handle as errors report it.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let mesh = pool.insert(&[[0.0; 3]; 3], &[0, 1, 2]).unwrap();
    /// assert_eq!(mesh.id().kind, gpu_arena::HandleKind::MeshPool);
    /// ```
    pub fn id(self) -> HandleId {
        self.key.id(HandleKind::MeshPool)
    }
}

/// Where a mesh is drawn from: its slab, its record's index in the slab's table and
/// the record itself (`first_index`, `index_count`, `base_vertex` in the slab's
/// buffers).
///
/// ```
/// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
/// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
/// let mesh = pool.insert(&[[0.0; 3]; 3], &[0, 1, 2]).unwrap();
/// let draw = pool.draw_args(mesh).unwrap();
/// assert_eq!((draw.record, draw.args.index_count), (0, 3));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct MeshDraw {
    /// The slab holding the mesh.
    pub slab: SlabId,
    /// Index of the mesh's record in the slab's table.
    pub record: u32,
    /// The record.
    pub args: DrawIndexedIndirectArgs,
}

/// One slab's buffers, for drawing it (or culling into its table) yourself.
#[derive(Clone, Debug)]
pub struct MeshSlabView {
    /// The slab.
    pub id: SlabId,
    /// Its vertex buffer (bind whole: `base_vertex` is relative to its start).
    pub vertex_buffer: wgpu::Buffer,
    /// Its index buffer (bind whole).
    pub index_buffer: wgpu::Buffer,
    /// Its table of draw records, bindable as storage (`STORAGE | INDIRECT`): the
    /// argument of `multi_draw_indexed_indirect`.
    pub records: ArenaSlice,
    /// Records (meshes) in the table.
    pub record_count: u32,
    /// Whether the slab holds one large mesh of its own.
    pub dedicated: bool,
    /// Pool generation at which the slab's buffers last changed.
    pub changed_at: u64,
}

/// Counters of a [`crate::mesh_pool::MeshPool`], summed over its slabs.
///
/// ```
/// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
/// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
/// pool.insert(&[[0.0; 3]; 3], &[0, 1, 2]).unwrap();
/// let stats = pool.stats();
/// assert_eq!((stats.meshes, stats.slabs, stats.vertex_bytes), (1, 1, 36));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MeshPoolStats {
    /// Meshes.
    pub meshes: usize,
    /// Slabs, dedicated ones included.
    pub slabs: usize,
    /// Slabs holding one large mesh each.
    pub dedicated_slabs: usize,
    /// Vertex bytes reserved by meshes.
    pub vertex_bytes: u64,
    /// Index bytes reserved by meshes.
    pub index_bytes: u64,
    /// Bytes of every vertex and index buffer (their address range: a growth waiting
    /// for the next commit counts).
    pub capacity: u64,
    /// Bytes growth has copied from old vertex and index buffers into new ones. Growth
    /// lands at the commit, once however often the slab grew since the last one, and
    /// copies only data committed before: filling a fresh pool copies nothing, except
    /// that with direct writes the meshes written in place into a slab's first buffer
    /// are copied once if the slab outgrows it before the commit.
    pub growth_bytes_copied: u64,
}
