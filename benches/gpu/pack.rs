//! `pack/*`: filling a pool, new and reused, per mesh and batched, against per-mesh
//! buffers; and the phase breakdown of where a fill's time goes.

use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion};
use gpu_arena::Staging;
use gpu_arena::headless::Headless;
use gpu_arena::mesh_pool::{MeshPool, MeshPoolDescriptor};

use super::{Meshes, Vertex, fill, list, pack, per_mesh_buffers, wait};

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
pub(super) fn bench_pack(c: &mut Criterion, gpu: &Headless, backend: &str, m: &Meshes) {
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
pub(super) fn phases(gpu: &Headless, m: &Meshes) {
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

/// `--count-refills N` (not criterion): the reused pool of `pack/reused_pool_*`
/// refilled N times, each a `clear`, one `insert` per mesh and a commit, with
/// [`counted_refill`] alone for callgrind to count (`benches/instructions.sh inserts`).
pub(super) fn count_refills(gpu: &Headless, m: &Meshes, runs: usize) {
    let pool = pack(gpu, m);
    for _ in 0..runs {
        counted_refill(&pool, m);
        pool.commit_now().expect("commit");
        wait(gpu);
        pool.maintain();
    }
    assert_eq!(pool.len(), m.vertices.len());
}

/// What `benches/instructions.sh inserts` counts: a cleared pool refilled one
/// `insert` per mesh (not the commit, nor the GPU's work).
#[inline(never)]
fn counted_refill(pool: &MeshPool<Vertex, u32>, m: &Meshes) {
    pool.clear();
    for (v, i) in m.vertices.iter().zip(&m.indices) {
        pool.insert(v, i).expect("insert");
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
