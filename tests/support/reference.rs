//! The reference renderer: every mesh in a vertex and an index buffer of its own,
//! one `draw_indexed` each. Pool renders are compared with it pixel for pixel, and
//! the benchmarks time it as the way without a pool.

use bytemuck::Pod;
use wgpu::util::DeviceExt;

/// One vertex and one index buffer per mesh.
pub struct PerMeshBuffers {
    /// Each mesh's vertex buffer, index buffer and index count.
    pub buffers: Vec<(wgpu::Buffer, wgpu::Buffer, u32)>,
}

impl PerMeshBuffers {
    /// Uploads every mesh with `create_buffer_init`.
    pub fn new<'a, V: Pod + 'a>(
        device: &wgpu::Device,
        meshes: impl IntoIterator<Item = (&'a [V], &'a [u32])>,
    ) -> PerMeshBuffers {
        let buffers = meshes
            .into_iter()
            .map(|(vertices, indices)| {
                let init = |contents: &[u8], usage| {
                    device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                        label: None,
                        contents,
                        usage,
                    })
                };
                (
                    init(bytemuck::cast_slice(vertices), wgpu::BufferUsages::VERTEX),
                    init(bytemuck::cast_slice(indices), wgpu::BufferUsages::INDEX),
                    indices.len() as u32,
                )
            })
            .collect();
        PerMeshBuffers { buffers }
    }

    /// Binds each mesh's buffers and draws it; returns the number of draw calls.
    pub fn draw(&self, pass: &mut wgpu::RenderPass<'_>) -> u32 {
        for (vertices, indices, count) in &self.buffers {
            pass.set_vertex_buffer(0, vertices.slice(..));
            pass.set_index_buffer(indices.slice(..), wgpu::IndexFormat::Uint32);
            pass.draw_indexed(0..*count, 0, 0..1);
        }
        self.buffers.len() as u32
    }
}

/// Draws `pool` with `renderer`, then `meshes` with one buffer per mesh; both
/// pictures, read back without blocking (the pool's first, then the reference).
pub async fn pool_and_reference<I: gpu_arena::mesh_pool::IndexType>(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    renderer: &crate::scene::Renderer,
    pool: &gpu_arena::mesh_pool::MeshPool<crate::scene::ColorVertex, I>,
    meshes: &[&crate::scene::Mesh],
) -> Result<(Vec<u8>, Vec<u8>), gpu_arena::ArenaError> {
    pool.commit_now()?;
    let mut drawn = Ok(0);
    renderer.render(device, queue, |pass| {
        drawn = pool.draw(pass, 0);
        *drawn.as_ref().unwrap_or(&0)
    });
    drawn?;
    let pooled = renderer.read_pixels_async(device, queue).await?;
    let reference = PerMeshBuffers::new(device, meshes.iter().map(|m| m.parts()));
    renderer.render(device, queue, |pass| reference.draw(pass));
    let expected = renderer.read_pixels_async(device, queue).await?;
    Ok((pooled, expected))
}
