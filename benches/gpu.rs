//! GPU benchmarks, side by side in one run on the adapter `WGPU_BACKEND` selects
//! (run once with `vulkan` and once with `gl` on a machine without a GPU):
//!
//! * `pack/*`: 10,000 small meshes (16..256 vertices of 32 bytes, u32 indices, about
//!   49.5 MiB) into a `MeshPool`: a new pool (defaults) with one `insert` per mesh (with
//!   its own staging, and with a warm staging shared across pools), a new pool with
//!   `insert_batch` (defaults, without direct writes into fresh buffers, and
//!   pre-sized), and a reused pool (`clear`, then
//!   `insert_batch` or per-mesh `insert`); versus one vertex and one index buffer per
//!   mesh with `create_buffer_init`. Commit, upload and GPU completion included. A
//!   printed breakdown gives where a new and a reused pool's time goes, phase by
//!   phase, with the page faults of a run on Linux (`--phases` prints only that, for
//!   profilers; `PHASE_RUNS=N` sets the runs and prints each, `PHASE_ONLY=text` keeps
//!   the breakdowns whose name contains it).
//! * `draw/*`: CPU time to encode and submit drawing 10,000 meshes of 24..512
//!   vertices: one
//!   `multi_draw_indexed_indirect` from the pool versus `draw_indexed` with its own
//!   buffer binds per mesh (GPU execution is waited for outside the timing).
//! * `upload/*`: 64 MiB as 16,384 writes of 4 KiB through an `UploadBatch`, borrowed
//!   (`write_borrowed`) and copied (`write`); CPU time to batch and submit, with the
//!   staging warm as in a frame loop; versus a plain `memcpy` of the same bytes in the
//!   same frame loop (the GPU's untimed 64 MiB copy between frames, as after a batch)
//!   and in a tight loop, and
//!   versus 16,384 `queue.write_buffer` calls. Generated data (a pattern computed per
//!   write) written in place with `Arena::write_with` versus built in a `Vec` first
//!   and written with `Arena::write`.
//! * `compact/*`: full compaction of a 64 MiB arena with every other allocation freed
//!   (GPU completion included); the report gives the cost per MiB moved.
//!
//! After criterion, the ratios are printed from criterion's own estimates.

use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime};

use criterion::{BatchSize, Criterion};
use gpu_arena::headless::Headless;
use gpu_arena::mesh_pool::{DrawPath, MeshPool, MeshPoolDescriptor};
use gpu_arena::{Arena, ArenaDescriptor, Staging};
use gpu_suballoc::estimates;
use gpu_suballoc::reference::PerMeshBuffers;
use gpu_suballoc::{Rng, scene};
use wgpu::util::DeviceExt;

type Vertex = [f32; 8]; // 32 bytes

struct Meshes {
    vertices: Vec<Vec<Vertex>>,
    indices: Vec<Vec<u32>>,
}

/// `count` meshes of `min..=max` vertices (and half as many indices again).
fn meshes(count: usize, min: u32, max: u32) -> Meshes {
    let mut rng = Rng(0x5EED);
    let mut vertices = Vec::with_capacity(count);
    let mut indices = Vec::with_capacity(count);
    for _ in 0..count {
        let n = min + rng.below(u64::from(max - min + 1)) as u32;
        // Tiny, off-screen triangles: the draws cost CPU encoding, not rasterisation.
        vertices.push(
            (0..n)
                .map(|k| [2.0 + k as f32 * 1e-3, 2.0, 0.5, 1.0, 0.0, 0.0, 0.0, 0.0])
                .collect(),
        );
        indices.push((0..n * 3 / 2).map(|k| (k * 7) % n).collect());
    }
    Meshes { vertices, indices }
}

fn wait(gpu: &Headless) {
    gpu.device
        .poll(wgpu::PollType::wait_indefinitely())
        .expect("poll");
}

/// A pool sized for `m` up front.
fn pool_desc(gpu: &Headless, m: &Meshes) -> MeshPoolDescriptor<'static> {
    MeshPoolDescriptor {
        label: Some("bench"),
        initial_vertex_bytes: m.vertices.iter().map(|v| v.len() as u64 * 32).sum(),
        initial_index_bytes: m.indices.iter().map(|i| i.len() as u64 * 4).sum(),
        initial_meshes: m.vertices.len() as u32,
        // The indirect path wherever it works (GL included), so it is what is timed.
        draw: DrawPath::for_adapter(&gpu.adapter),
        ..Default::default()
    }
}

fn pack(gpu: &Headless, m: &Meshes) -> MeshPool<Vertex, u32> {
    let pool = MeshPool::new(&gpu.device, &gpu.queue, &pool_desc(gpu, m)).expect("pool");
    fill(gpu, &pool, m);
    pool
}

/// Uploads every mesh with `insert_batch` and waits for the GPU.
fn fill(gpu: &Headless, pool: &MeshPool<Vertex, u32>, m: &Meshes) {
    pool.insert_batch(&list(m)).expect("insert_batch");
    pool.commit_now().expect("commit");
    wait(gpu);
}

/// The reference: one `create_buffer_init` per vertex and index array, uploaded.
fn per_mesh_buffers(gpu: &Headless, m: &Meshes) -> PerMeshBuffers {
    let buffers = PerMeshBuffers::new(
        &gpu.device,
        m.vertices
            .iter()
            .zip(&m.indices)
            .map(|(v, i)| (&v[..], &i[..])),
    );
    gpu.queue.submit([]);
    wait(gpu);
    buffers
}

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

const UPLOAD_WRITES: usize = 16_384;
const UPLOAD_CHUNK: usize = 4096;

fn main() {
    let started = SystemTime::now();
    let gpu = Headless::new(&Default::default())
        .unwrap_or_else(|e| panic!("GPU benchmarks need an adapter: {e}"));
    let backend = format!("{:?}", gpu.info.backend).to_lowercase();
    let smoke = std::env::args().any(|a| a == "--test");
    let count = if smoke { 200 } else { 10_000 };
    let packed = meshes(count, 16, 256);
    let drawn = meshes(count, 24, 512);
    let mib = |m: &Meshes| {
        (m.vertices.iter().map(|v| v.len() * 32).sum::<usize>()
            + m.indices.iter().map(|i| i.len() * 4).sum::<usize>()) as f64
            / (1 << 20) as f64
    };
    println!(
        "GPU benchmarks on {} — {count} meshes: {:.1} MiB to pack, {:.1} MiB to draw",
        gpu.describe(),
        mib(&packed),
        mib(&drawn)
    );
    if smoke {
        let pool = pack(&gpu, &packed);
        assert_eq!(pool.len(), count);
        return;
    }
    phases(&gpu, &packed);
    if std::env::args().any(|a| a == "--phases") {
        return; // the phase breakdown alone (for profilers)
    }

    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1));
    bench_pack(&mut c, &gpu, &backend, &packed);
    bench_draw(&mut c, &gpu, &backend, &drawn);
    bench_upload(&mut c, &gpu, &backend);
    let moved_mib = bench_compact(&mut c, &gpu, &backend);
    c.final_summary();
    report(&backend, moved_mib, started);
}

/// The meshes as `insert_batch` takes them.
fn list(m: &Meshes) -> Vec<(&[Vertex], &[u32])> {
    m.vertices
        .iter()
        .zip(&m.indices)
        .map(|(v, i)| (&v[..], &i[..]))
        .collect()
}

/// One `insert` per mesh, then the commit and the GPU's completion.
fn insert_each(gpu: &Headless, pool: &MeshPool<Vertex, u32>, m: &Meshes) {
    for (v, i) in m.vertices.iter().zip(&m.indices) {
        pool.insert(v, i).expect("insert");
    }
    pool.commit_now().expect("commit");
    wait(gpu);
}

/// A pool with default sizes (growing as it fills), sharing `staging` if given.
fn new_pool(gpu: &Headless, staging: Option<&Staging>) -> MeshPool<Vertex, u32> {
    new_pool_with(gpu, staging, true)
}

/// [`new_pool`], with or without direct writes into its fresh buffers.
fn new_pool_with(
    gpu: &Headless,
    staging: Option<&Staging>,
    direct_writes: bool,
) -> MeshPool<Vertex, u32> {
    MeshPool::new(
        &gpu.device,
        &gpu.queue,
        &MeshPoolDescriptor {
            staging: staging.cloned(),
            direct_writes,
            ..Default::default()
        },
    )
    .expect("pool")
}

/// `pack/*`: filling a pool, new and reused, per mesh and batched, against per-mesh
/// buffers.
fn bench_pack(c: &mut Criterion, gpu: &Headless, backend: &str, m: &Meshes) {
    let mut group = c.benchmark_group(format!("pack-{backend}"));
    group.measurement_time(Duration::from_secs(15));
    group.bench_function("per_mesh_buffers", |b| {
        b.iter_batched(|| (), |_| per_mesh_buffers(gpu, m), BatchSize::PerIteration)
    });
    group.bench_function("new_pool_insert", |b| {
        b.iter_batched(
            || (),
            |_| {
                let pool = new_pool(gpu, None);
                insert_each(gpu, &pool, m);
                pool
            },
            BatchSize::PerIteration,
        )
    });
    {
        // Dropped after its variant: its warm chunks stay out of the ones below.
        let shared = Staging::new(&gpu.device, &Default::default());
        group.bench_function("new_pool_insert_shared_staging", |b| {
            b.iter_batched(
                || (),
                |_| {
                    let pool = new_pool(gpu, Some(&shared));
                    insert_each(gpu, &pool, m);
                    shared.maintain();
                    pool
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.bench_function("new_pool_insert_batch", |b| {
        b.iter_batched(
            || (),
            |_| {
                let pool = new_pool(gpu, None);
                fill(gpu, &pool, m);
                pool
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function("new_pool_insert_batch_no_direct_writes", |b| {
        b.iter_batched(
            || (),
            |_| {
                let pool = new_pool_with(gpu, None, false);
                fill(gpu, &pool, m);
                pool
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function("new_pool_presized_insert_batch", |b| {
        b.iter_batched(|| (), |_| pack(gpu, m), BatchSize::PerIteration)
    });
    // A long-lived pool refilled (as for a level load): warm staging and buffers.
    let reused = pack(gpu, m);
    group.bench_function("reused_pool_insert_batch", |b| {
        b.iter(|| {
            reused.clear();
            fill(gpu, &reused, m);
            reused.maintain();
        })
    });
    group.bench_function("reused_pool_insert", |b| {
        b.iter(|| {
            reused.clear();
            insert_each(gpu, &reused, m);
            reused.maintain();
        })
    });
    group.finish();
}

/// Where a new pool's time goes (fastest of 5 runs per phase), filled one insert per
/// mesh and with one `insert_batch`: creating the pool, the inserts (allocation,
/// staging), the commit (buffers for the grown slabs, recording, submitting), the GPU.
fn phases(gpu: &Headless, m: &Meshes) {
    let each = |pool: &MeshPool<Vertex, u32>| {
        for (v, i) in m.vertices.iter().zip(&m.indices) {
            pool.insert(v, i).expect("insert");
        }
    };
    let batch = |pool: &MeshPool<Vertex, u32>| {
        pool.insert_batch(&list(m)).expect("insert_batch");
    };
    type Fill<'a> = &'a dyn Fn(&MeshPool<Vertex, u32>);
    let fills: [(&str, Fill<'_>); 2] = [("one insert per mesh", &each), ("insert_batch", &batch)];
    let reused = new_pool(gpu, None);
    // (name, fill, reused pool?, direct writes?)
    let variants = fills
        .iter()
        .map(|&(n, f)| (format!("new pool, {n}"), f, false, true))
        .chain(fills.iter().map(|&(n, f)| {
            (
                format!("new pool without direct writes, {n}"),
                f,
                false,
                false,
            )
        }))
        .chain(
            fills
                .iter()
                .map(|&(n, f)| (format!("reused pool, {n}"), f, true, true)),
        );
    for (name, fill, reuse, direct) in variants {
        if std::env::var("PHASE_ONLY").is_ok_and(|only| !name.contains(&only)) {
            continue;
        }
        let mut best = [f64::MAX; 4];
        let mut all = Vec::new();
        let mut fewest_faults = u64::MAX;
        let runs: usize = std::env::var("PHASE_RUNS").map_or(5, |v| v.parse().unwrap());
        for _ in 0..runs {
            let faults_before = minor_faults();
            let start = Instant::now();
            let fresh;
            let pool = if reuse {
                reused.clear();
                reused.maintain();
                &reused
            } else {
                fresh = new_pool_with(gpu, None, direct);
                &fresh
            };
            let created = start.elapsed().as_secs_f64();
            fill(pool);
            let inserted = start.elapsed().as_secs_f64();
            pool.commit_now().expect("commit");
            let committed = start.elapsed().as_secs_f64();
            wait(gpu);
            let done = start.elapsed().as_secs_f64();
            if let (Some(before), Some(after)) = (faults_before, minor_faults()) {
                fewest_faults = fewest_faults.min(after - before);
            }
            all.push((done * 1e3) as u32);
            for (b, t) in best.iter_mut().zip([
                created,
                inserted - created,
                committed - inserted,
                done - committed,
            ]) {
                *b = b.min(t * 1e3);
            }
        }
        println!(
            "{name}, by phase (fastest of {runs}, ms): create or clear {:.2}, insert {:.2}, commit {:.2}, GPU {:.2}",
            best[0], best[1], best[2], best[3]
        );
        if fewest_faults != u64::MAX {
            println!("  page faults (fewest in a run): {fewest_faults}");
        }
        if std::env::var("PHASE_RUNS").is_ok() {
            println!("  every run (ms): {all:?}");
        }
    }
}

/// Minor page faults of this process so far (Linux; `None` elsewhere): first touches
/// of fresh memory, by us, wgpu or the driver.
fn minor_faults() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name: state, ppid, pgrp, session, tty, tpgid, flags,
    // minflt.
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(7)?
        .parse()
        .ok()
}

/// `draw/*`: CPU time to encode and submit drawing every mesh, four ways.
fn bench_draw(c: &mut Criterion, gpu: &Headless, backend: &str, m: &Meshes) {
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

/// `upload/*`: 64 MiB as 16,384 writes of 4 KiB, batched and not, against memcpy.
fn bench_upload(c: &mut Criterion, gpu: &Headless, backend: &str) {
    let data: Vec<u8> = (0..UPLOAD_WRITES * UPLOAD_CHUNK)
        .map(|i| (i * 31) as u8)
        .collect();
    let arena = Arena::new(
        &gpu.device,
        &gpu.queue,
        &ArenaDescriptor {
            label: Some("upload"),
            usage: wgpu::BufferUsages::STORAGE,
            initial_size: (UPLOAD_WRITES * UPLOAD_CHUNK) as u64,
            upload_chunk_size: (UPLOAD_WRITES * UPLOAD_CHUNK) as u64,
            ..Default::default()
        },
    )
    .expect("arena");
    let handles: Vec<_> = (0..UPLOAD_WRITES)
        .map(|_| arena.alloc(UPLOAD_CHUNK as u64).expect("alloc"))
        .collect();
    let mut group = c.benchmark_group(format!("upload-{backend}"));
    group.throughput(criterion::Throughput::Bytes(data.len() as u64));
    group.measurement_time(Duration::from_secs(8));
    // Each frame: the timed work, then (untimed) the GPU's completion and `maintain`,
    // which recalls the staging chunks as a frame loop would.
    let frames = |n: u64, work: &mut dyn FnMut()| -> Duration {
        (0..n)
            .map(|_| {
                let start = Instant::now();
                work();
                let elapsed = start.elapsed();
                wait(gpu);
                arena.maintain();
                elapsed
            })
            .sum()
    };
    group.bench_function("batched_borrowed_16384x4KiB", |b| {
        b.iter_custom(|n| {
            frames(n, &mut || {
                let mut batch = arena.batch();
                for (h, chunk) in handles.iter().zip(data.chunks(UPLOAD_CHUNK)) {
                    batch.write_borrowed(*h, 0, chunk).expect("write");
                }
                black_box(batch.submit().expect("submit"));
            })
        })
    });
    group.bench_function("batched_16384x4KiB", |b| {
        b.iter_custom(|n| {
            frames(n, &mut || {
                let mut batch = arena.batch();
                for (h, chunk) in handles.iter().zip(data.chunks(UPLOAD_CHUNK)) {
                    batch.write(*h, 0, chunk).expect("write");
                }
                black_box(batch.submit().expect("submit"));
            })
        })
    });
    group.bench_function("write_buffer_16384x4KiB", |b| {
        b.iter_custom(|n| {
            frames(n, &mut || {
                for (h, chunk) in handles.iter().zip(data.chunks(UPLOAD_CHUNK)) {
                    arena.write(*h, 0, chunk).expect("write");
                }
                gpu.queue.submit([]);
            })
        })
    });
    // Generated data: a pattern computed per write, into a reused Vec then written,
    // or straight into the queue's staging memory.
    let pattern = |k: usize| (0..UPLOAD_CHUNK).map(move |j| (k * 31 + j) as u8);
    group.bench_function("generated_vec_then_write_16384x4KiB", |b| {
        let mut scratch = vec![0u8; UPLOAD_CHUNK];
        b.iter_custom(|n| {
            frames(n, &mut || {
                for (k, h) in handles.iter().enumerate() {
                    for (byte, value) in scratch.iter_mut().zip(pattern(k)) {
                        *byte = value;
                    }
                    arena.write(*h, 0, &scratch).expect("write");
                }
                gpu.queue.submit([]);
            })
        })
    });
    group.bench_function("generated_write_with_16384x4KiB", |b| {
        b.iter_custom(|n| {
            frames(n, &mut || {
                for (k, h) in handles.iter().enumerate() {
                    arena
                        .write_with(*h, 0, UPLOAD_CHUNK as u64, |bytes| {
                            bytes.write_iter(pattern(k))
                        })
                        .expect("write_with");
                }
                gpu.queue.submit([]);
            })
        })
    });
    // The baseline, in the same frame loop: a memcpy of the same bytes, timed, and
    // (untimed) the same 64 MiB buffer copy the GPU makes after a batch, so that
    // both run with the memory and caches the GPU's copy leaves behind.
    let mut copy = vec![0u8; data.len()];
    let gpu_side = gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("upload baseline"),
        size: data.len() as u64,
        usage: wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    group.bench_function("memcpy", |b| {
        b.iter_custom(|n| {
            (0..n)
                .map(|_| {
                    let start = Instant::now();
                    copy.copy_from_slice(black_box(&data));
                    black_box(&copy);
                    let elapsed = start.elapsed();
                    let mut encoder = gpu.device.create_command_encoder(&Default::default());
                    encoder.copy_buffer_to_buffer(&arena.buffer(), 0, &gpu_side, 0, None);
                    gpu.queue.submit([encoder.finish()]);
                    wait(gpu);
                    arena.maintain();
                    elapsed
                })
                .sum()
        })
    });
    // The same memcpy in a tight loop, nothing else running: the machine's best.
    group.bench_function("memcpy_hot_loop", |b| {
        b.iter(|| {
            copy.copy_from_slice(black_box(&data));
            black_box(&copy);
        })
    });
    group.finish();
}

/// `compact/*`: full compaction of a 64 MiB arena with every other allocation freed;
/// returns the MiB moved.
fn bench_compact(c: &mut Criterion, gpu: &Headless, backend: &str) -> f64 {
    let mut group = c.benchmark_group(format!("compact-{backend}"));
    group.measurement_time(Duration::from_secs(8));
    let mut moved = 0u64;
    group.bench_function("full_64MiB_half_freed", |b| {
        b.iter_batched(
            || {
                let arena = Arena::new(
                    &gpu.device,
                    &gpu.queue,
                    &ArenaDescriptor {
                        usage: wgpu::BufferUsages::STORAGE,
                        initial_size: 64 << 20,
                        ..Default::default()
                    },
                )
                .expect("arena");
                let hs: Vec<_> = (0..4096)
                    .map(|_| arena.alloc(16 << 10).expect("alloc"))
                    .collect();
                for h in hs.iter().step_by(2) {
                    arena.free(*h).expect("free");
                }
                wait(gpu);
                arena
            },
            |arena| {
                let report = arena.compact(None).expect("compact");
                wait(gpu);
                moved = report.bytes_moved;
                arena
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
    moved as f64 / (1 << 20) as f64
}

fn report(backend: &str, moved_mib: f64, since: SystemTime) {
    let get = |g: &str, n: &str| estimates::mean_ns(&format!("{g}-{backend}"), n, since);
    println!("\n== ratios on {backend} (means from this run) ==");
    if let Some(per) = get("pack", "per_mesh_buffers") {
        println!(
            "pack 10,000 meshes: per-mesh create_buffer_init {:.1} ms; speed-up of each pool variant:",
            per / 1e6
        );
        for name in [
            "new_pool_insert",
            "new_pool_insert_shared_staging",
            "new_pool_insert_batch",
            "new_pool_insert_batch_no_direct_writes",
            "new_pool_presized_insert_batch",
            "reused_pool_insert_batch",
            "reused_pool_insert",
        ] {
            if let Some(t) = get("pack", name) {
                println!("  {name:<32} {:>8.1} ms  {:>5.1}x", t / 1e6, per / t);
            }
        }
    }
    if let (Some(one), Some(pool_each), Some(each), Some(merged)) = (
        get("draw", "pool_one_indirect_call"),
        get("draw", "pool_draw_each"),
        get("draw", "per_mesh_draw_indexed"),
        get("draw", "merged_single_draw"),
    ) {
        println!(
            "draw 10,000 meshes (CPU encode+submit): indirect {:.3} ms, per-mesh {:.3} ms: {:.1}x faster; pool fallback (draw_each) {:.3} ms; floor (same triangles, one draw) {:.3} ms",
            one / 1e6,
            each / 1e6,
            each / one,
            pool_each / 1e6,
            merged / 1e6
        );
        println!(
            "  above the floor: indirect {:.3} ms, per-mesh {:.3} ms: {:.1}x less per-draw overhead",
            (one - merged) / 1e6,
            (each - merged) / 1e6,
            (each - merged) / (one - merged).max(1.0)
        );
    }
    if let (Some(borrowed), Some(copied), Some(memcpy), Some(plain)) = (
        get("upload", "batched_borrowed_16384x4KiB"),
        get("upload", "batched_16384x4KiB"),
        get("upload", "memcpy"),
        get("upload", "write_buffer_16384x4KiB"),
    ) {
        let gib = |ns: f64| (64.0 / 1024.0) / (ns / 1e9);
        println!(
            "upload 64 MiB as 16,384 x 4 KiB: batched borrowed {:.2} GiB/s ({:.2} of memcpy), batched copied {:.2} GiB/s ({:.2}), write_buffer {:.2} GiB/s ({:.2}), memcpy {:.2} GiB/s",
            gib(borrowed),
            memcpy / borrowed,
            gib(copied),
            memcpy / copied,
            gib(plain),
            memcpy / plain,
            gib(memcpy)
        );
        if let Some(hot) = get("upload", "memcpy_hot_loop") {
            println!(
                "  memcpy in a tight loop (nothing else running): {:.2} GiB/s; batched borrowed is {:.2} of that",
                gib(hot),
                hot / borrowed
            );
        }
    }
    if let (Some(vec_write), Some(with)) = (
        get("upload", "generated_vec_then_write_16384x4KiB"),
        get("upload", "generated_write_with_16384x4KiB"),
    ) {
        println!(
            "generated 64 MiB: built in a Vec then write {:.1} ms, write_with in place {:.1} ms ({:.2}x)",
            vec_write / 1e6,
            with / 1e6,
            vec_write / with
        );
    }
    if let Some(compact) = get("compact", "full_64MiB_half_freed") {
        println!(
            "compaction: {:.1} ms for {moved_mib:.1} MiB moved = {:.2} ms per MiB moved",
            compact / 1e6,
            compact / 1e6 / moved_mib
        );
    }
}
