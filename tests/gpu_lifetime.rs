//! GPU tests of batched uploads, deferred frees and compaction.

mod common;

use common::{Rng, gpu, scene};
use gpu_arena::mesh_pool::{MeshPool, MeshPoolDescriptor, supports_multi_draw};
use gpu_arena::{Arena, ArenaDescriptor, ArenaError, ArenaHandle};
use scene::{ColorVertex, Renderer};

fn arena(desc: ArenaDescriptor<'_>) -> Arena {
    let gpu = gpu();
    Arena::new(&gpu.device, &gpu.queue, &desc).expect("arena")
}

fn bytes_of(arena: &Arena, all: &[u8], h: ArenaHandle) -> Vec<u8> {
    let r = arena.range(h).unwrap();
    all[r.offset as usize..(r.offset + r.len) as usize].to_vec()
}

// ---- batched uploads -------------------------------------------------------

#[test]
fn batched_writes_give_the_same_contents_as_individual_writes() {
    let one = arena(ArenaDescriptor::default());
    let two = arena(ArenaDescriptor::default());
    let mut rng = Rng(5);
    let sizes: Vec<u64> = (0..300).map(|_| 1 + rng.below(300)).collect();
    let a: Vec<_> = sizes.iter().map(|s| one.alloc(*s).unwrap()).collect();
    let b: Vec<_> = sizes.iter().map(|s| two.alloc(*s).unwrap()).collect();
    let mut batch = two.batch();
    for _ in 0..2000 {
        let k = rng.below(sizes.len() as u64) as usize;
        let len = sizes[k];
        // Whole allocations (odd lengths padded inside) or aligned word ranges.
        let (offset, data) = if rng.below(2) == 0 {
            (0, (0..len).map(|_| rng.next() as u8).collect::<Vec<u8>>())
        } else if len >= 4 {
            let words = len / 4;
            let at = 4 * rng.below(words);
            let n = 4 * (1 + rng.below((len - at) / 4));
            (at, (0..n).map(|_| rng.next() as u8).collect())
        } else {
            continue;
        };
        one.write(a[k], offset, &data).unwrap();
        batch.write(b[k], offset, &data).unwrap();
    }
    let report = batch.submit().unwrap();
    assert!(report.copies < report.writes, "{report:?}");
    let (all_one, all_two) = (one.read_all().unwrap(), two.read_all().unwrap());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(bytes_of(&one, &all_one, *x), bytes_of(&two, &all_two, *y));
    }
}

#[test]
fn adjacent_writes_become_one_copy_and_gaps_are_not_bridged() {
    let arena = arena(ArenaDescriptor::default());
    let hs: Vec<_> = (0..64).map(|_| arena.alloc(256).unwrap()).collect();
    let mut batch = arena.batch();
    for (i, h) in hs.iter().enumerate().rev() {
        batch.write(*h, 0, &[i as u8; 256]).unwrap(); // out of order: sorted at submit
    }
    assert_eq!(batch.submit().unwrap().copies, 1);
    let mut batch = arena.batch();
    for (i, h) in hs.iter().enumerate().step_by(2) {
        batch.write(*h, 0, &[100 + i as u8; 256]).unwrap();
    }
    assert_eq!(
        batch.submit().unwrap().copies,
        32,
        "every other allocation: no merging over gaps"
    );
    for (i, h) in hs.iter().enumerate() {
        let expected = if i % 2 == 0 { 100 + i as u8 } else { i as u8 };
        assert_eq!(
            arena.read(*h).unwrap(),
            vec![expected; 256],
            "allocation {i}"
        );
    }
}

#[test]
fn a_batch_lands_correctly_when_the_arena_grows_before_submit() {
    let arena = arena(ArenaDescriptor {
        initial_size: 256,
        ..Default::default()
    });
    let first = arena.alloc_slice(&[1u8; 64]).unwrap();
    let mut batch = arena.batch();
    batch.write(first.raw(), 0, &[9; 64]).unwrap();
    let grown = arena.alloc_slice(&[2u8; 4096]).unwrap(); // grows the buffer
    assert!(arena.stats().growth_count > 0);
    batch.write(grown.raw(), 4092, &[3; 4]).unwrap();
    batch.submit().unwrap();
    assert_eq!(arena.read(first).unwrap(), [9; 64]);
    let g = arena.read(grown).unwrap();
    assert_eq!((g[0], g[4091], g[4092]), (2, 2, 3));
}

#[test]
fn overlapping_writes_in_one_batch_apply_in_order() {
    let arena = arena(ArenaDescriptor::default());
    let h = arena.alloc(16).unwrap();
    let mut batch = arena.batch();
    batch.write(h, 0, &[1; 16]).unwrap();
    batch.write(h, 4, &[2; 8]).unwrap();
    batch.write(h, 8, &[3; 4]).unwrap();
    batch.submit().unwrap();
    assert_eq!(
        arena.read(h).unwrap(),
        [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 1, 1, 1, 1]
    );
}

#[test]
fn a_batch_with_a_freed_handle_uploads_nothing() {
    let arena = arena(ArenaDescriptor::default());
    let a = arena.alloc_slice(&[0u8; 8]).unwrap();
    let b = arena.alloc_slice(&[0u8; 8]).unwrap();
    let mut batch = arena.batch();
    batch.write(a.raw(), 0, &[1; 8]).unwrap();
    batch.write(b.raw(), 0, &[2; 8]).unwrap();
    arena.free(b).unwrap();
    assert!(matches!(
        batch.submit(),
        Err(ArenaError::StaleHandle { .. })
    ));
    assert_eq!(arena.read(a).unwrap(), [0; 8]);
}

// ---- deferred frees --------------------------------------------------------

/// Records (without submitting) a copy of `h` into a readback buffer.
fn record_readback(arena: &Arena, h: ArenaHandle) -> (wgpu::CommandBuffer, wgpu::Buffer) {
    let gpu = gpu();
    let r = arena.range(h).unwrap();
    let readback = gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("recorded readback"),
        size: r.size,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut encoder = gpu.device.create_command_encoder(&Default::default());
    encoder.copy_buffer_to_buffer(&arena.buffer(), r.offset, &readback, 0, r.size);
    (encoder.finish(), readback)
}

fn map(buffer: &wgpu::Buffer) -> Vec<u8> {
    let gpu = gpu();
    buffer
        .slice(..)
        .map_async(wgpu::MapMode::Read, |r| r.unwrap());
    gpu.device
        .poll(wgpu::PollType::wait_indefinitely())
        .unwrap();
    buffer.get_mapped_range(..).unwrap().to_vec()
}

#[test]
fn a_command_buffer_submitted_after_a_deferred_free_reads_the_old_data() {
    let gpu = gpu();
    let arena = arena(ArenaDescriptor::default());
    let old = arena.alloc_slice(&[0xAAu8; 256]).unwrap().raw();
    let (commands, readback) = record_readback(&arena, old);
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
        map(&readback),
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
}

#[test]
fn an_immediate_free_lets_a_pending_command_buffer_see_new_data() {
    // The hazard that free_deferred prevents: write_buffer lands before the next
    // submitted command buffer, so the recorded copy reads the new tenant's data.
    let gpu = gpu();
    let arena = arena(ArenaDescriptor::default());
    let old = arena.alloc_slice(&[0xAAu8; 256]).unwrap().raw();
    let (commands, readback) = record_readback(&arena, old);
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
    assert_eq!(map(&readback), vec![0x55; 256]);
}

#[test]
fn a_deferred_free_refuses_stale_handles_and_counts_pending_bytes() {
    let arena = arena(ArenaDescriptor::default());
    let h = arena.alloc(100).unwrap();
    arena.free_deferred(h).unwrap();
    assert!(matches!(
        arena.free_deferred(h),
        Err(ArenaError::StaleHandle { .. })
    ));
    assert!(matches!(arena.free(h), Err(ArenaError::StaleHandle { .. })));
    let stats = arena.stats();
    assert_eq!((stats.pending_free, stats.live_allocations), (100, 0));
}

// ---- compaction ------------------------------------------------------------

/// Random alloc/free churn; returns the live handles with their data and alignment.
fn churn(arena: &Arena, seed: u64, mixed_alignment: bool) -> Vec<(ArenaHandle, Vec<u8>, u64)> {
    let mut rng = Rng(seed);
    let mut live: Vec<(ArenaHandle, Vec<u8>, u64)> = Vec::new();
    for _ in 0..600 {
        if live.is_empty() || rng.below(3) != 0 {
            let len = 1 + rng.below(200) as usize;
            let data: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            let align = if mixed_alignment {
                1 + rng.below(40)
            } else {
                4
            };
            let h = arena.alloc_aligned(len as u64, align).unwrap();
            arena.write(h, 0, &data).unwrap();
            live.push((h, data, align));
        } else {
            let (h, _, _) = live.swap_remove(rng.below(live.len() as u64) as usize);
            arena.free(h).unwrap();
        }
    }
    live
}

/// Checks contents, unchanged sizes and the reported moves after a compaction.
fn check_after_compaction(
    arena: &Arena,
    live: &[(ArenaHandle, Vec<u8>, u64)],
    before: &[gpu_arena::ArenaRange],
    report: &gpu_arena::CompactionReport,
) {
    for ((h, data, align), old) in live.iter().zip(before) {
        assert_eq!(
            &arena.read(*h).unwrap(),
            data,
            "contents survive, handle unchanged"
        );
        let now = arena.range(*h).unwrap();
        assert_eq!(now.size, old.size);
        assert_eq!(now.offset % align, 0, "alignment kept");
        match report.moves.iter().find(|m| m.handle == *h) {
            Some(m) => assert_eq!((m.old_offset, m.new_offset), (old.offset, now.offset)),
            None => assert_eq!(now.offset, old.offset),
        }
    }
    assert_eq!(
        report.bytes_moved,
        report.moves.iter().map(|m| m.size).sum::<u64>()
    );
}

#[test]
fn full_compaction_keeps_every_allocation_and_reaches_contiguity_one() {
    let arena = arena(ArenaDescriptor {
        initial_size: 1 << 16,
        ..Default::default()
    });
    let live = churn(&arena, 21, false);
    let before: Vec<_> = live
        .iter()
        .map(|(h, _, _)| arena.range(*h).unwrap())
        .collect();
    let stats = arena.stats();
    assert!(stats.contiguity() < 1.0, "fragmented first: {stats}");
    let report = arena.compact(None).unwrap();
    assert!(report.complete);
    assert_eq!(report.buffer_generation, stats.buffer_generation + 1);
    assert_eq!(arena.stats().contiguity(), 1.0, "{}", arena.stats());
    check_after_compaction(&arena, &live, &before, &report);
}

#[test]
fn compaction_with_mixed_alignments_keeps_contents_and_alignments() {
    // Packing in offset order keeps each allocation's alignment, so small padding
    // holes can remain between allocations of unrelated alignments (12, 20, 36...).
    let arena = arena(ArenaDescriptor {
        initial_size: 1 << 16,
        ..Default::default()
    });
    let live = churn(&arena, 22, true);
    let before: Vec<_> = live
        .iter()
        .map(|(h, _, _)| arena.range(*h).unwrap())
        .collect();
    let contiguity = arena.stats().contiguity();
    let report = arena.compact(None).unwrap();
    check_after_compaction(&arena, &live, &before, &report);
    let after = arena.stats();
    assert!(
        after.contiguity() > contiguity && after.contiguity() > 0.9,
        "{contiguity} -> {after}"
    );
}

#[test]
fn typed_allocations_keep_their_alignment_through_compaction() {
    let arena = arena(ArenaDescriptor::default());
    let pad = arena.alloc(4).unwrap();
    let v = arena.alloc_slice(&[[1.0f32; 3]; 5]).unwrap(); // 12-byte stride
    arena.free(pad).unwrap();
    arena.compact(None).unwrap();
    let r = arena.range(v).unwrap();
    assert_eq!(r.offset % 12, 0);
    assert_eq!(u64::from(arena.elements(v).unwrap().first) * 12, r.offset);
    assert_eq!(arena.read_slice(v).unwrap(), [[1.0; 3]; 5]);
}

#[test]
fn compaction_with_a_budget_moves_at_most_the_budget_and_finishes_later() {
    let arena = arena(ArenaDescriptor::default());
    let hs: Vec<_> = (0..40u8)
        .map(|i| arena.alloc_slice(&[i; 1000]).unwrap())
        .collect();
    for h in hs.iter().step_by(2) {
        arena.free(*h).unwrap();
    }
    let mut calls = 0;
    loop {
        let report = arena.compact(Some(3000)).unwrap();
        assert!(report.bytes_moved <= 3000, "{report:?}");
        calls += 1;
        if report.complete {
            break;
        }
        assert!(calls < 50, "compaction makes progress");
    }
    assert!(calls > 1, "the budget split the work");
    assert_eq!(arena.stats().contiguity(), 1.0);
    for (i, h) in hs.iter().enumerate().skip(1).step_by(2) {
        assert_eq!(arena.read(*h).unwrap(), vec![i as u8; 1000]);
    }
}

#[test]
fn mesh_pool_compaction_keeps_drawing_identical() {
    let gpu = gpu();
    let meshes = scene::generate_meshes(120, 77);
    let pool: MeshPool<ColorVertex, u32> = MeshPool::new(
        &gpu.device,
        &gpu.queue,
        &MeshPoolDescriptor {
            multi_draw: supports_multi_draw(&gpu.adapter),
            ..Default::default()
        },
    )
    .unwrap();
    let handles = pool
        .insert_batch(
            &meshes
                .iter()
                .map(|m| (&m.vertices[..], &m.indices[..]))
                .collect::<Vec<_>>(),
        )
        .unwrap();
    for h in handles.iter().step_by(3) {
        pool.remove(*h).unwrap();
    }
    let renderer = Renderer::new(&gpu.device, 160, 160);
    renderer.render(&gpu.device, &gpu.queue, |pass| pool.draw(pass, 0));
    let before = renderer.read_pixels(&gpu.device, &gpu.queue);
    let report = pool.compact(None).unwrap();
    assert!(report.meshes_moved > 0 && report.vertex.complete && report.index.complete);
    assert_eq!(pool.vertex_arena().stats().contiguity(), 1.0);
    renderer.render(&gpu.device, &gpu.queue, |pass| pool.draw(pass, 0));
    let after = renderer.read_pixels(&gpu.device, &gpu.queue);
    assert!(before == after, "the picture is unchanged by compaction");
    let records = pool.read_records().unwrap();
    for (k, h) in handles.iter().enumerate().filter(|(k, _)| k % 3 != 0) {
        let (v, i) = pool.ranges(*h).unwrap();
        assert_eq!(
            pool.vertex_arena().read_slice(v).unwrap(),
            meshes[k].vertices
        );
        assert_eq!(pool.index_arena().read_slice(i).unwrap(), meshes[k].indices);
        let args = pool.draw_args(*h).unwrap();
        assert!(
            records
                .iter()
                .any(|r| r.first_index == args.first_index && r.base_vertex == args.base_vertex)
        );
    }
}

#[test]
fn insert_batch_matches_single_inserts() {
    let gpu = gpu();
    let meshes = scene::generate_meshes(50, 3);
    let pool: MeshPool<ColorVertex, u32> = MeshPool::new(
        &gpu.device,
        &gpu.queue,
        &MeshPoolDescriptor {
            initial_vertex_bytes: 256,
            ..Default::default()
        },
    )
    .unwrap();
    let handles = pool
        .insert_batch(
            &meshes
                .iter()
                .map(|m| (&m.vertices[..], &m.indices[..]))
                .collect::<Vec<_>>(),
        )
        .unwrap();
    assert_eq!(pool.len(), 50);
    for (h, m) in handles.iter().zip(&meshes) {
        let (v, i) = pool.ranges(*h).unwrap();
        assert_eq!(pool.vertex_arena().read_slice(v).unwrap(), m.vertices);
        assert_eq!(pool.index_arena().read_slice(i).unwrap(), m.indices);
    }
    let empty: [ColorVertex; 0] = [];
    assert!(
        pool.insert_batch(&[
            (&meshes[0].vertices[..], &meshes[0].indices[..]),
            (&empty[..], &[0u32][..])
        ])
        .is_err()
    );
    assert_eq!(pool.len(), 50, "a failed batch leaves nothing behind");
    assert_eq!(pool.vertex_arena().stats().live_allocations, 50);
}

#[test]
fn borrowed_and_copied_writes_mix_with_padding_and_overlaps() {
    let arena = arena(ArenaDescriptor::default());
    let a = arena.alloc(7).unwrap();
    let b = arena.alloc(16).unwrap();
    let odd = vec![5u8; 7];
    let words = vec![6u8; 16];
    let mut batch = arena.batch();
    batch.write_borrowed(a, 0, &odd).unwrap(); // odd length, padded inside
    batch.write_borrowed(b, 0, &words).unwrap();
    batch.write(b, 4, &[9; 8]).unwrap(); // overlaps the borrowed write: later wins
    assert!(batch.write_borrowed(b, 2, &words[..4]).is_err());
    let report = batch.submit().unwrap();
    assert_eq!(report.copies, 1, "a and b are adjacent: one interval");
    assert_eq!(arena.read(a).unwrap(), odd);
    assert_eq!(
        arena.read(b).unwrap(),
        [6, 6, 6, 6, 9, 9, 9, 9, 9, 9, 9, 9, 6, 6, 6, 6]
    );
}

#[test]
fn a_cleared_pool_refills_to_the_same_picture() {
    let gpu = gpu();
    let meshes = scene::generate_meshes(80, 12);
    let list: Vec<_> = meshes
        .iter()
        .map(|m| (&m.vertices[..], &m.indices[..]))
        .collect();
    let pool: MeshPool<ColorVertex, u32> = MeshPool::new(
        &gpu.device,
        &gpu.queue,
        &MeshPoolDescriptor {
            multi_draw: supports_multi_draw(&gpu.adapter),
            ..Default::default()
        },
    )
    .unwrap();
    let first = pool.insert_batch(&list).unwrap();
    let renderer = Renderer::new(&gpu.device, 128, 128);
    renderer.render(&gpu.device, &gpu.queue, |pass| pool.draw(pass, 0));
    let before = renderer.read_pixels(&gpu.device, &gpu.queue);
    pool.clear();
    assert!(pool.is_empty() && pool.draw_args(first[0]).is_err());
    assert_eq!(pool.vertex_arena().stats().live_allocations, 0);
    pool.insert_batch(&list).unwrap();
    renderer.render(&gpu.device, &gpu.queue, |pass| pool.draw(pass, 0));
    assert!(renderer.read_pixels(&gpu.device, &gpu.queue) == before);
}
