//! The 2D scene shared by the examples, the GPU tests and the benchmarks: a generator
//! of varied meshes laid out on a grid, an offscreen renderer for `shaders/mesh.wgsl`,
//! pixel readback and PNG output.

use std::path::Path;

use bytemuck::{Pod, Zeroable};

use crate::readback;
use crate::rng::Rng;

/// The vertex format of `shaders/mesh.wgsl`: clip-space position and colour.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
pub struct ColorVertex {
    /// Clip-space position.
    pub position: [f32; 3],
    /// Linear RGB.
    pub color: [f32; 3],
}

/// One generated mesh.
pub struct Mesh {
    /// Its vertices.
    pub vertices: Vec<ColorVertex>,
    /// Its triangle list.
    pub indices: Vec<u32>,
}

impl Mesh {
    /// Its vertices and indices as slices, the way pools and reference buffers take
    /// them (`meshes.iter().map(|m| m.parts())`).
    pub fn parts(&self) -> (&[ColorVertex], &[u32]) {
        (&self.vertices, &self.indices)
    }
}

/// `count` meshes of four kinds (polygons, stars, rings, grids) with varied vertex
/// and index counts, each placed in its own cell of a square grid over clip space.
pub fn generate_meshes(count: usize, seed: u64) -> Vec<Mesh> {
    let mut rng = Rng(seed | 1);
    let cols = (count as f32).sqrt().ceil().max(1.0) as usize;
    let cell = 2.0 / cols as f32;
    (0..count)
        .map(|i| {
            let (cx, cy) = (
                -1.0 + cell * ((i % cols) as f32 + 0.5),
                1.0 - cell * ((i / cols) as f32 + 0.5),
            );
            let radius = cell * 0.45;
            let base = [
                0.2 + 0.8 * rng.unit(),
                0.2 + 0.8 * rng.unit(),
                0.2 + 0.8 * rng.unit(),
            ];
            let depth = 0.5;
            let at = |x: f32, y: f32, shade: f32| ColorVertex {
                position: [cx + x * radius, cy + y * radius, depth],
                color: [base[0] * shade, base[1] * shade, base[2] * shade],
            };
            let mut vertices = Vec::new();
            let mut indices = Vec::new();
            match rng.below(4) {
                0 | 1 => {
                    // Regular polygon or star: a centre plus a rim, as a triangle fan.
                    let star = rng.below(2) == 1;
                    let sides = 3 + rng.below(if star { 12 } else { 40 }) as u32;
                    let rim = if star { sides * 2 } else { sides };
                    vertices.push(at(0.0, 0.0, 1.0));
                    for k in 0..rim {
                        let a = k as f32 / rim as f32 * std::f32::consts::TAU;
                        let r = if star && k % 2 == 1 { 0.45 } else { 1.0 };
                        vertices.push(at(a.cos() * r, a.sin() * r, 0.6));
                    }
                    for k in 0..rim {
                        indices.extend([0, 1 + k, 1 + (k + 1) % rim]);
                    }
                }
                2 => {
                    // Ring: inner and outer circles joined by quads.
                    let segments = 6 + rng.below(40) as u32;
                    let inner = 0.3 + 0.4 * rng.unit();
                    for k in 0..segments {
                        let a = k as f32 / segments as f32 * std::f32::consts::TAU;
                        vertices.push(at(a.cos(), a.sin(), 1.0));
                        vertices.push(at(a.cos() * inner, a.sin() * inner, 0.5));
                    }
                    for k in 0..segments {
                        let (o0, i0, o1, i1) = (
                            2 * k,
                            2 * k + 1,
                            2 * ((k + 1) % segments),
                            2 * ((k + 1) % segments) + 1,
                        );
                        indices.extend([o0, i0, o1, o1, i0, i1]);
                    }
                }
                _ => {
                    // Grid of quads with a shading gradient.
                    let (w, h) = (1 + rng.below(12) as u32, 1 + rng.below(12) as u32);
                    for y in 0..=h {
                        for x in 0..=w {
                            let (u, v) = (x as f32 / w as f32, y as f32 / h as f32);
                            vertices.push(at(u * 1.6 - 0.8, v * 1.6 - 0.8, 0.4 + 0.6 * u));
                        }
                    }
                    for y in 0..h {
                        for x in 0..w {
                            let a = y * (w + 1) + x;
                            indices.extend([a, a + 1, a + w + 1, a + 1, a + w + 2, a + w + 1]);
                        }
                    }
                }
            }
            Mesh { vertices, indices }
        })
        .collect()
}

/// Offscreen target plus the pipeline of `shaders/mesh.wgsl`.
pub struct Renderer {
    /// The pipeline of `shaders/mesh.wgsl`.
    pub pipeline: wgpu::RenderPipeline,
    /// The render target.
    pub texture: wgpu::Texture,
    /// Target width in pixels.
    pub width: u32,
    /// Target height in pixels.
    pub height: u32,
}

/// The render target's format.
pub const FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;

impl Renderer {
    /// A renderer for [`ColorVertex`] meshes into a `width` x `height` target.
    pub fn new(device: &wgpu::Device, width: u32, height: u32) -> Renderer {
        Renderer::with_vertex_stride(device, width, height, size_of::<ColorVertex>() as u64)
    }

    /// As [`Renderer::new`], for vertices that start with a `ColorVertex` but are
    /// `stride` bytes long (the benchmark's 32-byte vertices).
    pub fn with_vertex_stride(
        device: &wgpu::Device,
        width: u32,
        height: u32,
        stride: u64,
    ) -> Renderer {
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("mesh.wgsl"),
            source: wgpu::ShaderSource::Wgsl(include_str!("../../shaders/mesh.wgsl").into()),
        });
        let pipeline = device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
            label: Some("mesh pool"),
            layout: None,
            vertex: wgpu::VertexState {
                module: &module,
                entry_point: Some("vs_main"),
                compilation_options: Default::default(),
                buffers: &[Some(wgpu::VertexBufferLayout {
                    array_stride: stride,
                    step_mode: wgpu::VertexStepMode::Vertex,
                    attributes: &wgpu::vertex_attr_array![0 => Float32x3, 1 => Float32x3],
                })],
            },
            primitive: wgpu::PrimitiveState::default(),
            depth_stencil: None,
            multisample: wgpu::MultisampleState::default(),
            fragment: Some(wgpu::FragmentState {
                module: &module,
                entry_point: Some("fs_main"),
                compilation_options: Default::default(),
                targets: &[Some(FORMAT.into())],
            }),
            multiview_mask: None,
            cache: None,
        });
        let texture = device.create_texture(&wgpu::TextureDescriptor {
            label: Some("offscreen"),
            size: wgpu::Extent3d {
                width,
                height,
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: FORMAT,
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
            view_formats: &[],
        });
        Renderer {
            pipeline,
            texture,
            width,
            height,
        }
    }

    /// Clears to dark grey, sets the pipeline, lets `draw` record draws, submits.
    /// Returns what `draw` returned (the number of draw calls).
    pub fn render(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        draw: impl FnOnce(&mut wgpu::RenderPass<'_>) -> u32,
    ) -> u32 {
        let view = self.texture.create_view(&Default::default());
        let mut encoder = device.create_command_encoder(&Default::default());
        let calls;
        {
            let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("meshes"),
                color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                    view: &view,
                    depth_slice: None,
                    resolve_target: None,
                    ops: wgpu::Operations {
                        load: wgpu::LoadOp::Clear(wgpu::Color {
                            r: 0.05,
                            g: 0.05,
                            b: 0.06,
                            a: 1.0,
                        }),
                        store: wgpu::StoreOp::Store,
                    },
                })],
                depth_stencil_attachment: None,
                timestamp_writes: None,
                occlusion_query_set: None,
                multiview_mask: None,
            });
            pass.set_pipeline(&self.pipeline);
            calls = draw(&mut pass);
        }
        queue.submit([encoder.finish()]);
        calls
    }

    /// The picture as tightly packed RGBA8 rows (blocking readback; native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn read_pixels(&self, device: &wgpu::Device, queue: &wgpu::Queue) -> Vec<u8> {
        readback::texture_rgba8(device, queue, &self.texture, self.width, self.height)
    }

    /// The reference picture: `meshes` drawn each from a vertex and an index buffer
    /// of its own ([`crate::reference::PerMeshBuffers`]), read back (native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn render_per_mesh_buffers<'a, V: Pod + 'a>(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        meshes: impl IntoIterator<Item = (&'a [V], &'a [u32])>,
    ) -> Vec<u8> {
        let reference = crate::reference::PerMeshBuffers::new(device, meshes);
        self.render(device, queue, |pass| reference.draw(pass));
        self.read_pixels(device, queue)
    }

    /// Asserts that `pool` draws (`MeshPool::draw`, instance 0) the very picture that
    /// `meshes` drawn each from buffers of their own make (native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn assert_pool_draws_like_per_mesh_buffers(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        pool: &gpu_arena::mesh_pool::MeshPool<ColorVertex, u32>,
        meshes: &[Mesh],
    ) {
        self.render(device, queue, |pass| pool.draw(pass, 0).unwrap());
        let pooled = self.read_pixels(device, queue);
        let expected =
            self.render_per_mesh_buffers(device, queue, meshes.iter().map(|m| m.parts()));
        assert_eq!(
            readback::differing_pixels(&pooled, &expected),
            0,
            "pool vs per-mesh buffers"
        );
    }

    /// The picture as tightly packed RGBA8 rows, read back without blocking.
    pub fn read_pixels_async(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
    ) -> gpu_arena::Readback<Vec<u8>> {
        readback::texture_rgba8_async(device, queue, &self.texture, self.width, self.height)
    }
}

/// Writes RGBA8 pixels as a PNG file.
pub fn write_png(
    path: &Path,
    width: u32,
    height: u32,
    rgba: &[u8],
) -> Result<(), Box<dyn std::error::Error>> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut encoder = png::Encoder::new(file, width, height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgba)?;
    writer.finish()?;
    Ok(())
}
