//! Deferred frees: a range freed with `free_deferred` is reused only after the GPU
//! has finished the work that may still read it.

use gpu_arena::headless::Headless;
use gpu_arena::{Arena, ArenaDescriptor, ArenaError, ArenaHandle};
use gpu_suballoc::{on_every_adapter, readback};

fn arena(gpu: &Headless, desc: ArenaDescriptor<'_>) -> Arena {
    Arena::new(&gpu.device, &gpu.queue, &desc).expect("arena")
}

/// Records (without submitting) a copy of `h` into a readback buffer.
fn record_readback(
    gpu: &Headless,
    arena: &Arena,
    h: ArenaHandle,
) -> (wgpu::CommandBuffer, wgpu::Buffer) {
    let r = arena.range(h).unwrap();
    let staging = gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("recorded readback"),
        size: r.size,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut encoder = gpu.device.create_command_encoder(&Default::default());
    encoder.copy_buffer_to_buffer(&arena.buffer(), r.offset, &staging, 0, r.size);
    (encoder.finish(), staging)
}

#[test]
fn a_command_buffer_submitted_after_a_deferred_free_reads_the_old_data() {
    on_every_adapter(|gpu| {
        let arena = arena(gpu, ArenaDescriptor::default());
        let old = arena.alloc_slice(&[0xAAu8; 256]).unwrap().raw();
        let (commands, staging) = record_readback(gpu, &arena, old);
        let old_range = arena.range(old).unwrap();

        arena.free_deferred(old).unwrap();
        let new = arena.alloc(256).unwrap();
        assert_ne!(
            arena.range(new).unwrap().offset,
            old_range.offset,
            "the range is not reused yet"
        );
        arena.write(new, 0, &[0x55; 256]).unwrap();

        gpu.queue.submit([commands]);
        // Seals the free with the work submitted so far; on a synchronous backend (GL)
        // that work may already be done and the range retired right here.
        let retired_early = arena.maintain();
        assert_eq!(
            readback::map(&gpu.device, &gpu.queue, &staging),
            vec![0xAA; 256],
            "the recorded copy saw the old data"
        );

        // Once that work is done, maintain has retired the range.
        gpu.device
            .poll(wgpu::PollType::wait_indefinitely())
            .unwrap();
        assert_eq!(retired_early + arena.maintain(), 1);
        assert_eq!(arena.stats().pending_free, 0);
        let again = arena.alloc(256).unwrap();
        assert_eq!(
            arena.range(again).unwrap().offset,
            old_range.offset,
            "then it is reused"
        );
    });
}

#[test]
fn an_immediate_free_lets_a_pending_command_buffer_see_new_data() {
    on_every_adapter(|gpu| {
        // The hazard that free_deferred prevents: write_buffer lands before the next
        // submitted command buffer, so the recorded copy reads the new tenant's data.
        let arena = arena(gpu, ArenaDescriptor::default());
        let old = arena.alloc_slice(&[0xAAu8; 256]).unwrap().raw();
        let (commands, staging) = record_readback(gpu, &arena, old);
        let old_offset = arena.range(old).unwrap().offset;
        arena.free(old).unwrap();
        let new = arena.alloc(256).unwrap();
        assert_eq!(
            arena.range(new).unwrap().offset,
            old_offset,
            "immediately reused"
        );
        arena.write(new, 0, &[0x55; 256]).unwrap();
        gpu.queue.submit([commands]);
        assert_eq!(
            readback::map(&gpu.device, &gpu.queue, &staging),
            vec![0x55; 256]
        );
    });
}

#[test]
fn a_deferred_free_refuses_stale_handles_and_counts_pending_bytes() {
    on_every_adapter(|gpu| {
        let arena = arena(gpu, ArenaDescriptor::default());
        let h = arena.alloc(100).unwrap();
        arena.free_deferred(h).unwrap();
        assert!(matches!(
            arena.free_deferred(h),
            Err(ArenaError::StaleHandle { .. })
        ));
        assert!(matches!(arena.free(h), Err(ArenaError::StaleHandle { .. })));
        let stats = arena.stats();
        assert_eq!((stats.pending_free, stats.live_allocations), (100, 0));
    });
}
