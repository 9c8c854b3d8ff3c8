//! GPU tests of `Readback`, the non-blocking reads every arena and pool offers: what a
//! read sees, how its future completes on native, and how it fails.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use gpu_arena::bindless::BindlessPool;
use gpu_arena::mesh_pool::MeshPool;
use gpu_arena::{Arena, ArenaError, GpuTable};
use gpu_suballoc::on_every_adapter;

/// Counts wake-ups.
struct Counter(AtomicUsize);

impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Polls `future` with a waker that only counts, at most `polls` times; the output
/// and the number of polls it took.
fn drive<F: Future>(future: F, polls: usize) -> (Option<F::Output>, usize) {
    let counter = Arc::new(Counter(AtomicUsize::new(0)));
    let waker = Waker::from(Arc::clone(&counter));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    for n in 1..=polls {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return (Some(out), n);
        }
        assert!(
            counter.0.load(Ordering::SeqCst) >= n,
            "a pending readback on native must ask to be polled again"
        );
    }
    (None, polls)
}

#[test]
fn a_readback_sees_the_writes_made_before_it_and_not_those_after() {
    on_every_adapter(|gpu| {
        let arena = Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
        let h = arena.alloc_slice(&[1u32; 64]).unwrap();
        let before = arena.read_slice_async(h);
        arena.write_slice(h, 0, &[2u32; 64]).unwrap();
        let after = arena.read_slice_async(h);
        assert_eq!(before.wait().unwrap(), [1; 64]);
        assert_eq!(after.wait().unwrap(), [2; 64]);
    });
}

#[test]
fn an_awaited_readback_completes_without_anyone_polling_the_device() {
    on_every_adapter(|gpu| {
        let arena = Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
        let data: Vec<u32> = (0..1 << 16).collect();
        let h = arena.alloc_slice(&data).unwrap();
        let (out, _polls) = drive(arena.read_slice_async(h), 10_000_000);
        assert_eq!(out.expect("readback never completed").unwrap(), data);
    });
}

#[test]
fn every_reader_has_an_async_form_that_matches_its_blocking_one() {
    on_every_adapter(|gpu| {
        let (device, queue) = (&gpu.device, &gpu.queue);
        let arena = Arena::new(device, queue, &Default::default()).unwrap();
        let h = arena.alloc_slice(b"gpu-arena").unwrap();
        assert_eq!(
            pollster::block_on(arena.read_async(h)).unwrap(),
            arena.read(h).unwrap()
        );
        assert_eq!(
            pollster::block_on(arena.read_all_async()).unwrap(),
            arena.read_all().unwrap()
        );

        let mut table = GpuTable::<[u32; 2]>::new(device, queue, &Default::default()).unwrap();
        table.push([4, 5]).unwrap();
        table.flush().unwrap();
        assert_eq!(pollster::block_on(table.read_async()).unwrap(), [[4, 5]]);

        let bindless = BindlessPool::new(device, queue, &Default::default()).unwrap();
        let id = bindless.insert(&[7, 8, 9]).unwrap();
        assert_eq!(
            pollster::block_on(bindless.read_async(id)).unwrap(),
            [7, 8, 9]
        );
        assert_eq!(
            pollster::block_on(bindless.read_table_async(id.slab())).unwrap(),
            bindless.read_table(id.slab()).unwrap()
        );

        let meshes = MeshPool::<[f32; 2], u16>::new(device, queue, &Default::default()).unwrap();
        let m = meshes
            .insert(&[[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]], &[2, 1, 0])
            .unwrap();
        assert_eq!(
            pollster::block_on(meshes.read_mesh_async(m)).unwrap(),
            (vec![[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]], vec![2, 1, 0])
        );
        let slab = meshes.draw_args(m).unwrap().slab;
        let records = pollster::block_on(meshes.read_records_async(slab)).unwrap();
        assert_eq!(
            bytemuck::cast_slice::<_, u32>(&records),
            bytemuck::cast_slice::<_, u32>(&meshes.read_records(slab).unwrap())
        );
    });
}

#[test]
fn a_readback_of_a_stale_handle_fails_with_the_handles_error() {
    on_every_adapter(|gpu| {
        let arena = Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
        let h = arena.alloc_slice(&[3u8; 8]).unwrap();
        arena.free(h).unwrap();
        let err = arena.read_async(h).wait().unwrap_err();
        assert!(matches!(err, ArenaError::StaleHandle { .. }), "{err}");
        assert_eq!(
            pollster::block_on(arena.read_async(h)).unwrap_err(),
            err,
            "awaited or waited on, the same error"
        );
    });
}

#[test]
fn a_readback_longer_than_its_staging_buffer_fails_with_both_sizes() {
    on_every_adapter(|gpu| {
        let staging = gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: None,
            size: 16,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let encoder = gpu.device.create_command_encoder(&Default::default());
        let err =
            gpu_arena::Readback::submit(&gpu.device, &gpu.queue, encoder, staging, 32, |b| b.len())
                .wait()
                .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("32") && text.contains("16"), "{text}");
    });
}
