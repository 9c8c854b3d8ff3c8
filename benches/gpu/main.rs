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
//!   the breakdowns whose name contains it; `--count-refills N` refills the reused pool
//!   N times, one insert per mesh, and stops, for
//!   `benches/instructions.sh inserts` to count the instructions per insert).
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
//! After criterion, the ratios are printed from criterion's own estimates. The
//! workloads live in one module each; this file holds the shared meshes and helpers.

mod compact;
mod draw;
mod pack;
mod upload;

use std::time::{Duration, SystemTime};

use criterion::Criterion;
use gpu_arena::headless::Headless;
use gpu_arena::mesh_pool::{DrawPath, MeshPool, MeshPoolDescriptor};
use gpu_suballoc::Rng;
use gpu_suballoc::estimates;
use gpu_suballoc::reference::PerMeshBuffers;

type Vertex = [f32; 8]; // 32 bytes

/// The workload: each mesh's vertices and indices.
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

/// The meshes as `insert_batch` takes them.
fn list(m: &Meshes) -> Vec<(&[Vertex], &[u32])> {
    m.vertices
        .iter()
        .zip(&m.indices)
        .map(|(v, i)| (&v[..], &i[..]))
        .collect()
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
    let arg_after = |flag: &str| {
        let args: Vec<String> = std::env::args().collect();
        let at = args.iter().position(|a| a == flag)?;
        args.get(at + 1)?.parse::<usize>().ok()
    };
    if let Some(runs) = arg_after("--count-refills") {
        pack::count_refills(&gpu, &packed, runs);
        return; // for callgrind (benches/instructions.sh inserts)
    }
    pack::phases(&gpu, &packed);
    if std::env::args().any(|a| a == "--phases") {
        return; // the phase breakdown alone (for profilers)
    }

    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1));
    pack::bench_pack(&mut c, &gpu, &backend, &packed);
    draw::bench_draw(&mut c, &gpu, &backend, &drawn);
    upload::bench_upload(&mut c, &gpu, &backend);
    let moved_mib = compact::bench_compact(&mut c, &gpu, &backend);
    c.final_summary();
    report(&backend, moved_mib, started);
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
