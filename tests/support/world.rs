//! The 3D scene shared by the main job, the GPU-driven drawing tests and the
//! benchmark: objects (a mesh, a transform and a colour) scattered over a field, a
//! perspective camera, and a renderer for `shaders/scene.wgsl` with a depth buffer
//! and simple lighting that reads each object's data at `instance_index`.

use bytemuck::{Pod, Zeroable};
use glam::{Mat4, Quat, Vec3};
use gpu_arena::objects::{Bounds, Frustum};

use crate::readback;
use crate::rng::Rng;
use crate::shapes::{Mesh3, Vertex3};

/// Per-object data (`Object` of `shaders/scene.wgsl`): model matrix and colour.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
pub struct ObjectData {
    /// Object to world, column-major.
    pub model: [[f32; 4]; 4],
    /// Linear RGB, alpha unused.
    pub color: [f32; 4],
}

/// One placed object.
#[derive(Clone, Copy, Debug)]
pub struct Placed {
    /// Index of its mesh.
    pub mesh: usize,
    /// Its data.
    pub data: ObjectData,
    /// Its world-space bounds.
    pub bounds: Bounds,
}

/// `count` objects over `meshes`, scattered on a square field of side `field`
/// around the origin (y up), with random rotations, sizes and colours.
pub fn scatter(meshes: &[Mesh3], count: usize, field: f32, seed: u64) -> Vec<Placed> {
    let groups: Vec<(Vec<usize>, f32)> = meshes
        .iter()
        .enumerate()
        .map(|(k, m)| (vec![k], m.radius))
        .collect();
    scatter_groups(&groups, count, field, seed)
}

/// As [`scatter`], over groups of meshes placed together (a model's primitives): each
/// of the `count` placements puts one object per mesh of its group, all with the
/// same transform and bounds (the group's radius, scaled).
pub fn scatter_groups(
    groups: &[(Vec<usize>, f32)],
    count: usize,
    field: f32,
    seed: u64,
) -> Vec<Placed> {
    let mut rng = Rng(seed | 1);
    let mut placed = Vec::with_capacity(count);
    for _ in 0..count {
        let (meshes, radius) = &groups[rng.below(groups.len() as u64) as usize];
        let scale = 0.4 + 1.2 * rng.unit();
        let position = Vec3::new(
            (rng.unit() - 0.5) * field,
            scale * (0.5 + 2.0 * rng.unit()),
            (rng.unit() - 0.5) * field,
        );
        let axis =
            Vec3::new(rng.unit() - 0.5, rng.unit() - 0.5, rng.unit() - 0.5).normalize_or(Vec3::Y);
        let rotation = Quat::from_axis_angle(axis, rng.unit() * std::f32::consts::TAU);
        let model = Mat4::from_scale_rotation_translation(Vec3::splat(scale), rotation, position);
        let color = [
            0.25 + 0.75 * rng.unit(),
            0.25 + 0.75 * rng.unit(),
            0.25 + 0.75 * rng.unit(),
            1.0,
        ];
        for &mesh in meshes {
            placed.push(Placed {
                mesh,
                data: ObjectData {
                    model: model.to_cols_array_2d(),
                    color,
                },
                bounds: Bounds::sphere(position.to_array(), radius * scale),
            });
        }
    }
    placed
}

/// A camera above the field looking across it.
#[derive(Clone, Copy, Debug)]
pub struct Camera {
    /// World to clip.
    pub view_projection: Mat4,
}

impl Camera {
    /// Looking from `eye` at `target`, vertical field of view `fov_y` (radians).
    pub fn looking(eye: Vec3, target: Vec3, fov_y: f32, aspect: f32, far: f32) -> Camera {
        // wgpu's clip space is Direct3D's: depth 0..1, y up.
        let view = glam::camera::rh::view::look_at_mat4(eye, target, Vec3::Y);
        let projection = glam::camera::rh::proj::directx::perspective(fov_y, aspect, 0.1, far);
        Camera {
            view_projection: projection * view,
        }
    }

    /// The default view of a field of side `field`: from inside it, a little above,
    /// looking along it (what lies behind and beside the camera is culled).
    pub fn over_field(field: f32, aspect: f32) -> Camera {
        let eye = Vec3::new(field * 0.05, field * 0.04 + 3.0, field * 0.2);
        let target = Vec3::new(-field * 0.05, 0.0, -field * 0.3);
        Camera::looking(eye, target, 1.0, aspect, field * 1.5)
    }

    /// Its frustum.
    pub fn frustum(&self) -> Frustum {
        Frustum::from_view_projection(self.view_projection.to_cols_array_2d())
    }
}

/// `Camera` of `shaders/scene.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct CameraUniform {
    view_projection: [[f32; 4]; 4],
    light: [f32; 4],
}

/// The render target's format.
pub const FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;
const DEPTH: wgpu::TextureFormat = wgpu::TextureFormat::Depth32Float;

/// Renders objects of [`Vertex3`] meshes into an offscreen colour + depth target.
pub struct Renderer3d {
    pipeline: wgpu::RenderPipeline,
    layout: wgpu::BindGroupLayout,
    camera: wgpu::Buffer,
    color: wgpu::Texture,
    depth: wgpu::Texture,
    /// Target width in pixels.
    pub width: u32,
    /// Target height in pixels.
    pub height: u32,
}

impl Renderer3d {
    /// A renderer into a `width` x `height` target.
    pub fn new(device: &wgpu::Device, width: u32, height: u32) -> Renderer3d {
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("scene.wgsl"),
            source: wgpu::ShaderSource::Wgsl(include_str!("../../shaders/scene.wgsl").into()),
        });
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("scene"),
            entries: &[
                wgpu::BindGroupLayoutEntry {
                    binding: 0,
                    visibility: wgpu::ShaderStages::VERTEX_FRAGMENT,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: false,
                        min_binding_size: None,
                    },
                    count: None,
                },
                wgpu::BindGroupLayoutEntry {
                    binding: 1,
                    visibility: wgpu::ShaderStages::VERTEX,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Storage { read_only: true },
                        has_dynamic_offset: false,
                        min_binding_size: None,
                    },
                    count: None,
                },
            ],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("scene"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let pipeline = device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
            label: Some("scene"),
            layout: Some(&pipeline_layout),
            vertex: wgpu::VertexState {
                module: &module,
                entry_point: Some("vs_main"),
                compilation_options: Default::default(),
                buffers: &[Some(wgpu::VertexBufferLayout {
                    array_stride: size_of::<Vertex3>() as u64,
                    step_mode: wgpu::VertexStepMode::Vertex,
                    attributes: &wgpu::vertex_attr_array![0 => Float32x3, 1 => Float32x3],
                })],
            },
            primitive: wgpu::PrimitiveState::default(),
            depth_stencil: Some(wgpu::DepthStencilState {
                format: DEPTH,
                depth_write_enabled: Some(true),
                depth_compare: Some(wgpu::CompareFunction::Less),
                stencil: Default::default(),
                bias: Default::default(),
            }),
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
        let target = |format, usage, label| {
            device.create_texture(&wgpu::TextureDescriptor {
                label: Some(label),
                size: wgpu::Extent3d {
                    width,
                    height,
                    depth_or_array_layers: 1,
                },
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D2,
                format,
                usage,
                view_formats: &[],
            })
        };
        let attachment = wgpu::TextureUsages::RENDER_ATTACHMENT;
        Renderer3d {
            pipeline,
            layout,
            camera: device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("scene camera"),
                size: size_of::<CameraUniform>() as u64,
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            }),
            color: target(
                FORMAT,
                attachment | wgpu::TextureUsages::COPY_SRC,
                "scene colour",
            ),
            depth: target(DEPTH, attachment, "scene depth"),
            width,
            height,
        }
    }

    /// The colour target (`RENDER_ATTACHMENT | COPY_SRC`, [`FORMAT`]).
    pub fn color(&self) -> &wgpu::Texture {
        &self.color
    }

    /// The bind group for `objects`, a storage binding of [`ObjectData`] by object
    /// index (an `ObjectPool`'s `data_binding()`, or a plain buffer).
    pub fn bind_group(
        &self,
        device: &wgpu::Device,
        objects: wgpu::BufferBinding<'_>,
    ) -> wgpu::BindGroup {
        device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("scene"),
            layout: &self.layout,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: self.camera.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: wgpu::BindingResource::Buffer(objects),
                },
            ],
        })
    }

    /// Records a pass that clears the target, then lets `draw` draw with the
    /// pipeline and `bind_group` set. The camera is written through the queue (it
    /// lands before `encoder`'s submission).
    pub fn record(
        &self,
        queue: &wgpu::Queue,
        encoder: &mut wgpu::CommandEncoder,
        camera: &Camera,
        bind_group: &wgpu::BindGroup,
        draw: impl FnOnce(&mut wgpu::RenderPass<'_>),
    ) {
        let light = Vec3::new(-0.4, -1.0, -0.3).normalize();
        let uniform = CameraUniform {
            view_projection: camera.view_projection.to_cols_array_2d(),
            light: [light.x, light.y, light.z, 0.0],
        };
        queue.write_buffer(&self.camera, 0, bytemuck::bytes_of(&uniform));
        let color = self.color.create_view(&Default::default());
        let depth = self.depth.create_view(&Default::default());
        let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
            label: Some("scene"),
            color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                view: &color,
                depth_slice: None,
                resolve_target: None,
                ops: wgpu::Operations {
                    load: wgpu::LoadOp::Clear(wgpu::Color {
                        r: 0.55,
                        g: 0.65,
                        b: 0.78,
                        a: 1.0,
                    }),
                    store: wgpu::StoreOp::Store,
                },
            })],
            depth_stencil_attachment: Some(wgpu::RenderPassDepthStencilAttachment {
                view: &depth,
                depth_ops: Some(wgpu::Operations {
                    load: wgpu::LoadOp::Clear(1.0),
                    store: wgpu::StoreOp::Discard,
                }),
                stencil_ops: None,
            }),
            timestamp_writes: None,
            occlusion_query_set: None,
            multiview_mask: None,
        });
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, bind_group, &[]);
        draw(&mut pass);
    }

    /// The picture as tightly packed RGBA8 rows (blocking readback; native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn read_pixels(&self, device: &wgpu::Device, queue: &wgpu::Queue) -> Vec<u8> {
        readback::texture_rgba8(device, queue, &self.color, self.width, self.height)
    }

    /// The picture as tightly packed RGBA8 rows, read back without blocking.
    pub fn read_pixels_async(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
    ) -> gpu_arena::Readback<Vec<u8>> {
        readback::texture_rgba8_async(device, queue, &self.color, self.width, self.height)
    }
}

/// CPU culling and one vertex and index buffer per object's mesh: the way without a
/// pool, and the reference GPU-driven renders are compared with.
pub struct CpuCulled {
    /// One vertex buffer, index buffer and index count per mesh.
    pub meshes: crate::reference::PerMeshBuffers,
    /// The objects' data, by object index.
    pub data: wgpu::Buffer,
}

impl CpuCulled {
    /// Uploads every mesh and every object's data.
    pub fn new(device: &wgpu::Device, meshes: &[Mesh3], objects: &[Placed]) -> CpuCulled {
        use wgpu::util::DeviceExt;
        let data: Vec<ObjectData> = objects.iter().map(|o| o.data).collect();
        CpuCulled {
            meshes: crate::reference::PerMeshBuffers::new(
                device,
                meshes.iter().map(|m| (&m.vertices[..], &m.indices[..])),
            ),
            data: device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("object data"),
                contents: bytemuck::cast_slice(&data),
                usage: wgpu::BufferUsages::STORAGE,
            }),
        }
    }

    /// Tests every object against `frustum` and draws each visible one with its
    /// mesh's buffers bound; returns the draw calls.
    pub fn draw(
        &self,
        pass: &mut wgpu::RenderPass<'_>,
        objects: &[Placed],
        frustum: &Frustum,
    ) -> u32 {
        let mut calls = 0;
        for (k, o) in objects.iter().enumerate() {
            if !frustum.contains(&o.bounds) {
                continue;
            }
            let (vertices, indices, count) = &self.meshes.buffers[o.mesh];
            pass.set_vertex_buffer(0, vertices.slice(..));
            pass.set_index_buffer(indices.slice(..), wgpu::IndexFormat::Uint32);
            pass.draw_indexed(0..*count, 0, k as u32..k as u32 + 1);
            calls += 1;
        }
        calls
    }
}
