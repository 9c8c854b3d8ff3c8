//! `compact/*`: full compaction of a 64 MiB arena with every other allocation freed,
//! GPU completion included.

use std::time::Duration;

use criterion::{BatchSize, Criterion};
use gpu_arena::headless::Headless;
use gpu_arena::{Arena, ArenaDescriptor};

use super::wait;

/// `compact/*`: full compaction of a 64 MiB arena with every other allocation freed;
/// returns the MiB moved.
pub(super) fn bench_compact(c: &mut Criterion, gpu: &Headless, backend: &str) -> f64 {
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
