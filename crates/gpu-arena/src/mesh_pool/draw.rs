//! How a mesh pool draws: [`DrawPath`] (one indirect multi-draw per slab, or one
//! `draw_indexed` per mesh), and the per-slab draw calls themselves.

use bytemuck::Pod;

use crate::mesh_pool::IndexType;
use crate::mesh_pool::slab::MeshSlab;

/// Proof that an adapter executes indirect draws (`DownlevelFlags::INDIRECT_EXECUTION`),
/// obtained from [`DrawPath::for_adapter`]. It exists so that a pool can only be told
/// to draw indirectly where that works.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IndirectSupport(());

/// How [`crate::mesh_pool::MeshPool::draw`] issues its draws.
///
/// ```
/// use gpu_arena::mesh_pool::DrawPath;
/// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
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
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
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
    pub(crate) fn indirect_on(self, device: &wgpu::Device) -> bool {
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

/// Draws every mesh of `slab`: binds its buffers, then one indirect call over its
/// record table (`indirect`) or one `draw_indexed` per record. Returns the calls.
pub(crate) fn draw_slab<V: Pod, I: IndexType>(
    slab: &MeshSlab<V, I>,
    pass: &mut wgpu::RenderPass<'_>,
    vertex_slot: u32,
    indirect: bool,
) -> u32 {
    let count = slab.records.len();
    if count == 0 {
        return 0;
    }
    pass.set_vertex_buffer(vertex_slot, slab.vertices.buffer().slice(..));
    pass.set_index_buffer(slab.indices.buffer().slice(..), I::FORMAT);
    if indirect && let Ok(table) = slab.records.binding() {
        pass.multi_draw_indexed_indirect(&table.buffer, table.range.offset, count);
        return 1;
    }
    for r in slab.records.records() {
        pass.draw_indexed(
            r.first_index..r.first_index + r.index_count,
            r.base_vertex,
            r.first_instance..r.first_instance + r.instance_count,
        );
    }
    count
}
