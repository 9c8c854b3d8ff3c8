//! Compaction: live allocations packed into a fresh buffer, handles unchanged,
//! contents, alignments and reported moves exact; a mesh pool draws the same picture.

use gpu_arena::headless::Headless;
use gpu_arena::mesh_pool::{DrawPath, MeshPool, MeshPoolDescriptor};
use gpu_arena::{Arena, ArenaDescriptor, ArenaHandle};
use gpu_suballoc::scene::{self, ColorVertex, Renderer};
use gpu_suballoc::{Rng, on_every_adapter};

fn arena(gpu: &Headless, desc: ArenaDescriptor<'_>) -> Arena {
    Arena::new(&gpu.device, &gpu.queue, &desc).expect("arena")
}

/// Random alloc/free churn; returns the live handles with their data and alignment.
fn churn(arena: &Arena, seed: u64, mixed_alignment: bool) -> Vec<(ArenaHandle, Vec<u8>, u64)> {
    let mut rng = Rng(seed);
    let mut live: Vec<(ArenaHandle, Vec<u8>, u64)> = Vec::new();
    for _ in 0..600 {
        if live.is_empty() || rng.below(3) != 0 {
            let len = 1 + rng.below(200) as usize;
            let data: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
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
    on_every_adapter(|gpu| {
        let arena = arena(
            gpu,
            ArenaDescriptor {
                initial_size: 1 << 16,
                ..Default::default()
            },
        );
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
    });
}

#[test]
fn compaction_with_mixed_alignments_keeps_contents_and_alignments() {
    on_every_adapter(|gpu| {
        // Packing in offset order keeps each allocation's alignment, so small padding
        // holes can remain between allocations of unrelated alignments (12, 20, 36...).
        let arena = arena(
            gpu,
            ArenaDescriptor {
                initial_size: 1 << 16,
                ..Default::default()
            },
        );
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
    });
}

#[test]
fn typed_allocations_keep_their_alignment_through_compaction() {
    on_every_adapter(|gpu| {
        let arena = arena(gpu, ArenaDescriptor::default());
        let pad = arena.alloc(4).unwrap();
        let v = arena.alloc_slice(&[[1.0f32; 3]; 5]).unwrap(); // 12-byte stride
        arena.free(pad).unwrap();
        arena.compact(None).unwrap();
        let r = arena.range(v).unwrap();
        assert_eq!(r.offset % 12, 0);
        assert_eq!(u64::from(arena.elements(v).unwrap().first) * 12, r.offset);
        assert_eq!(arena.read_slice(v).unwrap(), [[1.0; 3]; 5]);
    });
}

#[test]
fn compaction_with_a_budget_moves_at_most_the_budget_and_finishes_later() {
    on_every_adapter(|gpu| {
        let arena = arena(gpu, ArenaDescriptor::default());
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
    });
}

#[test]
fn mesh_pool_compaction_keeps_drawing_identical() {
    on_every_adapter(|gpu| {
        let meshes = scene::generate_meshes(120, 77);
        let pool: MeshPool<ColorVertex, u32> = MeshPool::new(
            &gpu.device,
            &gpu.queue,
            &MeshPoolDescriptor {
                draw: DrawPath::for_adapter(&gpu.adapter),
                ..Default::default()
            },
        )
        .unwrap();
        let handles = pool
            .insert_batch(&meshes.iter().map(|m| m.parts()).collect::<Vec<_>>())
            .unwrap();
        for h in handles.iter().step_by(3) {
            pool.remove(*h).unwrap();
        }
        let renderer = Renderer::new(&gpu.device, 160, 160);
        pool.commit_now().unwrap();
        renderer.render(&gpu.device, &gpu.queue, |pass| pool.draw(pass, 0).unwrap());
        let before = renderer.read_pixels(&gpu.device, &gpu.queue);
        let before_generation = pool.generation();
        let report = pool.compact(None).unwrap();
        assert!(report.meshes_moved > 0 && report.complete, "{report:?}");
        let stats = pool.stats();
        assert_eq!(
            stats.vertex_bytes + stats.index_bytes,
            handles
                .iter()
                .enumerate()
                .filter(|(k, _)| k % 3 != 0)
                .map(|(k, _)| {
                    (size_of_val(&meshes[k].vertices[..]) + size_of_val(&meshes[k].indices[..]))
                        as u64
                })
                .sum::<u64>(),
            "packed: nothing but the live meshes"
        );
        pool.commit_now().unwrap();
        renderer.render(&gpu.device, &gpu.queue, |pass| pool.draw(pass, 0).unwrap());
        let after = renderer.read_pixels(&gpu.device, &gpu.queue);
        assert!(before == after, "the picture is unchanged by compaction");
        let displaced = pool.displaced_since(before_generation);
        for (k, h) in handles.iter().enumerate().filter(|(k, _)| k % 3 != 0) {
            let (vertices, indices) = pool.read_mesh(*h).unwrap();
            assert_eq!(vertices, meshes[k].vertices);
            assert_eq!(indices, meshes[k].indices);
            let d = pool.draw_args(*h).unwrap();
            let gpu_record = pool.read_records(d.slab).unwrap()[d.record as usize];
            assert_eq!(
                (gpu_record.first_index, gpu_record.base_vertex),
                (d.args.first_index, d.args.base_vertex)
            );
            assert!(
                displaced.contains(h),
                "the compacted slab displaced every mesh"
            );
        }
    });
}
