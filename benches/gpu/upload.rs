//! `upload/*`: 64 MiB as 16,384 writes of 4 KiB through an `UploadBatch` (borrowed
//! and copied), through `Arena::write` and `write_with`, against memcpy in the same
//! frame loop and in a tight loop.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use gpu_arena::headless::Headless;
use gpu_arena::{Arena, ArenaDescriptor};

use super::wait;

const UPLOAD_WRITES: usize = 16_384;

const UPLOAD_CHUNK: usize = 4096;

/// `upload/*`: 64 MiB as 16,384 writes of 4 KiB, batched and not, against memcpy.
pub(super) fn bench_upload(c: &mut Criterion, gpu: &Headless, backend: &str) {
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
