//! GPU-driven drawing against the classic CPU loop, side by side in one run on the
//! adapter `WGPU_BACKEND` selects (run once with `vulkan` and once with `gl`):
//! 100,000 objects (100 coarse procedural meshes, each object with its own transform
//! and colour) over a field, seen by a camera inside it, into a 320x180 target with a
//! depth buffer.
//!
//! * `gpu_driven`: `ObjectPool::cull` (a compute pass over every object) and
//!   `ObjectPool::draw` (one counted multi-draw per slab, or one multi-draw over
//!   cleared regions where draw counts are missing).
//! * `cpu_culled`: a frustum test per object on the CPU, then per visible object its
//!   mesh's own vertex and index buffers bound and one `draw_indexed`.
//!
//! Each is timed twice: CPU time per frame (culling, encoding and submitting; the
//! GPU's work waited for outside the timing) and the whole frame (until the GPU is
//! done). `--test` runs one frame of each (CI's smoke run).

use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime};

use criterion::Criterion;
use gpu_arena::headless::Headless;
use gpu_arena::mesh_pool::{MeshPool, MeshPoolDescriptor};
use gpu_arena::objects::{CullPath, ObjectPool, ObjectPoolDescriptor};
use gpu_suballoc::estimates;
use gpu_suballoc::shapes::{self, Vertex3};
use gpu_suballoc::world::{self, Camera, CpuCulled, ObjectData, Placed, Renderer3d};

const OBJECTS: usize = 100_000;
const WIDTH: u32 = 320;
const HEIGHT: u32 = 180;

struct Bench {
    gpu: Headless,
    pool: MeshPool<Vertex3, u32>,
    objects: ObjectPool<ObjectData>,
    placed: Vec<Placed>,
    reference: CpuCulled,
    renderer: Renderer3d,
    camera: Camera,
    pooled_group: wgpu::BindGroup,
    reference_group: wgpu::BindGroup,
}

impl Bench {
    fn new(count: usize) -> Bench {
        let gpu = Headless::new(&Default::default())
            .unwrap_or_else(|e| panic!("GPU benchmarks need an adapter: {e}"));
        let meshes = shapes::generate_coarse(100, 7);
        let field = (count as f32).sqrt() * 3.0 + 20.0;
        let placed = world::scatter(&meshes, count, field, 8);
        let pool = MeshPool::new(&gpu.device, &gpu.queue, &MeshPoolDescriptor::default())
            .expect("mesh pool");
        let handles: Vec<_> = meshes
            .iter()
            .map(|m| pool.insert(&m.vertices, &m.indices).expect("insert"))
            .collect();
        pool.commit_now().expect("commit");
        let objects = ObjectPool::new(
            &gpu.device,
            &gpu.queue,
            &ObjectPoolDescriptor {
                label: Some("bench objects"),
                capacity: count as u32,
                path: CullPath::for_device(&gpu.device, &gpu.adapter),
            },
        )
        .expect("object pool");
        for p in &placed {
            objects
                .insert(&pool, handles[p.mesh], p.bounds, p.data)
                .expect("object");
        }
        let reference = CpuCulled::new(&gpu.device, &meshes, &placed);
        let renderer = Renderer3d::new(&gpu.device, WIDTH, HEIGHT);
        let data = objects.data_binding().expect("data binding");
        let pooled_group = renderer.bind_group(&gpu.device, data.binding());
        let reference_group =
            renderer.bind_group(&gpu.device, reference.data.as_entire_buffer_binding());
        Bench {
            camera: Camera::over_field(field, WIDTH as f32 / HEIGHT as f32),
            gpu,
            pool,
            objects,
            placed,
            reference,
            renderer,
            pooled_group,
            reference_group,
        }
    }

    /// One frame; returns (CPU time to submit, time until the GPU is done, draws).
    fn frame(&self, gpu_driven: bool) -> (Duration, Duration, u32) {
        let start = Instant::now();
        let frustum = self.camera.frustum();
        let mut encoder = self.gpu.device.create_command_encoder(&Default::default());
        let mut calls = 0;
        if gpu_driven {
            self.objects
                .cull(&mut encoder, &self.pool, &frustum)
                .expect("cull");
            self.renderer.record(
                &self.gpu.queue,
                &mut encoder,
                &self.camera,
                &self.pooled_group,
                |pass| calls = self.objects.draw(pass, &self.pool, 0).expect("draw"),
            );
        } else {
            self.renderer.record(
                &self.gpu.queue,
                &mut encoder,
                &self.camera,
                &self.reference_group,
                |pass| calls = self.reference.draw(pass, &self.placed, &frustum),
            );
        }
        let index = self.gpu.queue.submit([encoder.finish()]);
        let cpu = start.elapsed();
        self.gpu
            .device
            .poll(wgpu::PollType::Wait {
                submission_index: Some(index),
                timeout: None,
            })
            .expect("poll");
        (cpu, start.elapsed(), black_box(calls))
    }
}

fn main() {
    let started = SystemTime::now();
    let smoke = std::env::args().any(|a| a == "--test");
    let bench = Bench::new(if smoke { 2_000 } else { OBJECTS });
    let backend = format!("{:?}", bench.gpu.info.backend).to_lowercase();
    let (_, _, gpu_calls) = bench.frame(true);
    let (_, _, cpu_calls) = bench.frame(false);
    println!(
        "GPU-driven drawing on {} — {} objects: {} draw calls GPU-driven ({:?}), {} with CPU culling",
        bench.gpu.describe(),
        bench.placed.len(),
        gpu_calls,
        bench.objects.path(),
        cpu_calls
    );
    if smoke {
        assert!(gpu_calls >= 1 && cpu_calls > gpu_calls);
        return;
    }
    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(6));
    let mut group = c.benchmark_group(format!("objects-{backend}"));
    for (name, gpu_driven) in [("gpu_driven", true), ("cpu_culled", false)] {
        group.bench_function(format!("{name}_cpu_time"), |b| {
            b.iter_custom(|n| (0..n).map(|_| bench.frame(gpu_driven).0).sum())
        });
        group.bench_function(format!("{name}_frame"), |b| {
            b.iter_custom(|n| (0..n).map(|_| bench.frame(gpu_driven).1).sum())
        });
    }
    group.finish();
    c.final_summary();
    report(&backend, started);
}

/// Prints the ratios from criterion's estimates of this run.
fn report(backend: &str, since: SystemTime) {
    let get = |name: &str| estimates::mean_ns(&format!("objects-{backend}"), name, since);
    println!("== ratios on {backend} (means from this run) ==");
    for what in ["cpu_time", "frame"] {
        if let (Some(gpu), Some(cpu)) = (
            get(&format!("gpu_driven_{what}")),
            get(&format!("cpu_culled_{what}")),
        ) {
            println!(
                "{what:>8}: GPU-driven {:.3} ms, CPU-culled {:.3} ms: {:.1}x lower",
                gpu / 1e6,
                cpu / 1e6,
                cpu / gpu
            );
        }
    }
}
