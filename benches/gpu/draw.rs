//! `draw/*`: CPU time to encode and submit drawing every mesh: the pool's indirect
//! call and its per-mesh fallback, per-mesh buffers, and the one-draw floor.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use gpu_arena::headless::Headless;
use gpu_suballoc::scene;
use wgpu::util::DeviceExt;

use super::{Meshes, pack, per_mesh_buffers, wait};

/// Every mesh in one vertex and one index buffer, indices rebased to the merged
/// vertex buffer: the geometry of all draws as a single draw.
fn merged_buffers(gpu: &Headless, m: &Meshes) -> (wgpu::Buffer, wgpu::Buffer, u32) {
    let mut base = 0u32;
    let mut indices = Vec::new();
    for (v, i) in m.vertices.iter().zip(&m.indices) {
        indices.extend(i.iter().map(|k| k + base));
        base += v.len() as u32;
    }
    let vertices = m.vertices.concat();
    let init = |contents: &[u8], usage| {
        gpu.device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: None,
                contents,
                usage,
            })
    };
    let vb = init(bytemuck::cast_slice(&vertices), wgpu::BufferUsages::VERTEX);
    let ib = init(bytemuck::cast_slice(&indices), wgpu::BufferUsages::INDEX);
    gpu.queue.submit([]);
    wait(gpu);
    (vb, ib, indices.len() as u32)
}

struct Target {
    pipeline: wgpu::RenderPipeline,
    view: wgpu::TextureView,
}

/// The examples' mesh pipeline for 32-byte vertices, and a 64 x 64 target.
fn target(gpu: &Headless) -> Target {
    let renderer = scene::Renderer::with_vertex_stride(&gpu.device, 64, 64, 32);
    Target {
        view: renderer.texture.create_view(&Default::default()),
        pipeline: renderer.pipeline,
    }
}

/// Encodes one pass with `draw` and submits it; returns the CPU time taken.
fn encode_and_submit(
    gpu: &Headless,
    t: &Target,
    draw: impl FnOnce(&mut wgpu::RenderPass<'_>),
) -> Duration {
    let start = Instant::now();
    let mut encoder = gpu.device.create_command_encoder(&Default::default());
    {
        let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
            label: None,
            color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                view: &t.view,
                depth_slice: None,
                resolve_target: None,
                ops: Default::default(),
            })],
            depth_stencil_attachment: None,
            timestamp_writes: None,
            occlusion_query_set: None,
            multiview_mask: None,
        });
        pass.set_pipeline(&t.pipeline);
        draw(&mut pass);
    }
    gpu.queue.submit([encoder.finish()]);
    let elapsed = start.elapsed();
    wait(gpu);
    elapsed
}

/// Total CPU time of `n` frames, each one pass drawn by `draw` and submitted.
fn frames(
    gpu: &Headless,
    t: &Target,
    n: u64,
    draw: impl Fn(&mut wgpu::RenderPass<'_>),
) -> Duration {
    (0..n).map(|_| encode_and_submit(gpu, t, &draw)).sum()
}

/// `draw/*`: CPU time to encode and submit drawing every mesh, four ways.
pub(super) fn bench_draw(c: &mut Criterion, gpu: &Headless, backend: &str, m: &Meshes) {
    let t = target(gpu);
    let pool = pack(gpu, m);
    let buffers = per_mesh_buffers(gpu, m);
    let mut group = c.benchmark_group(format!("draw-{backend}"));
    group.measurement_time(Duration::from_secs(8));
    group.bench_function("pool_one_indirect_call", |b| {
        b.iter_custom(|n| {
            frames(gpu, &t, n, |pass| {
                _ = black_box(pool.draw(pass, 0).expect("committed"))
            })
        })
    });
    // The pool's fallback path: buffers bound once, one `draw_indexed` per mesh.
    group.bench_function("pool_draw_each", |b| {
        b.iter_custom(|n| {
            frames(gpu, &t, n, |pass| {
                _ = black_box(pool.draw_each(pass, 0).expect("committed"))
            })
        })
    });
    // Reference floor: the same triangles in one draw over merged buffers (indices
    // rebased). What remains is the adapter's own per-vertex and per-triangle work;
    // on GL that runs inside `submit`, so it bounds every draw variant above.
    let (merged_v, merged_i, merged_count) = merged_buffers(gpu, m);
    group.bench_function("merged_single_draw", |b| {
        b.iter_custom(|n| {
            frames(gpu, &t, n, |pass| {
                pass.set_vertex_buffer(0, merged_v.slice(..));
                pass.set_index_buffer(merged_i.slice(..), wgpu::IndexFormat::Uint32);
                pass.draw_indexed(0..merged_count, 0, 0..1);
            })
        })
    });
    group.bench_function("per_mesh_draw_indexed", |b| {
        b.iter_custom(|n| frames(gpu, &t, n, |pass| _ = black_box(buffers.draw(pass))))
    });
    group.finish();
}
