//! GPU tests of direct writes (`MeshPoolDescriptor::direct_writes`): where the device
//! has `MAPPABLE_PRIMARY_BUFFERS` (lavapipe here), inserts into a slab buffer that
//! holds nothing yet go straight into it, mapped at creation; everything else is
//! staged. Either way every mesh reads back and draws as inserted, and nothing that
//! touches a mapped buffer raises a validation error (wgpu's default handler panics).

use gpu_arena::headless::Headless;
use gpu_arena::mesh_pool::{DrawPath, MeshPool, MeshPoolDescriptor};
use gpu_suballoc::on_every_adapter;
use gpu_suballoc::readback::copy_and_map;
use gpu_suballoc::scene::{self, ColorVertex, Mesh, Renderer};

/// Whether pools on `gpu` write in place. Lavapipe must: otherwise the direct path
/// would go untested on CI without anyone noticing.
fn writes_in_place(gpu: &Headless) -> bool {
    let direct = gpu
        .device
        .features()
        .contains(wgpu::Features::MAPPABLE_PRIMARY_BUFFERS);
    if gpu.info.backend == wgpu::Backend::Vulkan && gpu.info.device_type == wgpu::DeviceType::Cpu {
        assert!(
            direct,
            "the headless device enables MAPPABLE_PRIMARY_BUFFERS on lavapipe"
        );
    }
    direct
}

fn pool(gpu: &Headless, desc: MeshPoolDescriptor<'_>) -> MeshPool<ColorVertex, u32> {
    MeshPool::new(&gpu.device, &gpu.queue, &desc).expect("pool")
}

fn list(meshes: &[Mesh]) -> Vec<(&[ColorVertex], &[u32])> {
    meshes.iter().map(|m| m.parts()).collect()
}

fn bytes(meshes: &[Mesh]) -> u64 {
    meshes
        .iter()
        .map(|m| (size_of_val(&m.vertices[..]) + size_of_val(&m.indices[..])) as u64)
        .sum()
}

/// A pool descriptor whose first slab is small (4 KiB of vertices, 1 KiB of
/// indices): a few meshes fill it.
fn small_slabs() -> MeshPoolDescriptor<'static> {
    MeshPoolDescriptor {
        initial_vertex_bytes: 4096,
        initial_index_bytes: 1024,
        ..Default::default()
    }
}

/// [`check_reads`], then the pool's picture against a buffer per mesh.
fn check_reads_and_picture(
    gpu: &Headless,
    pool: &MeshPool<ColorVertex, u32>,
    handles: &[gpu_arena::mesh_pool::MeshHandle],
    meshes: &[Mesh],
) {
    check_reads(pool, handles, meshes);
    Renderer::new(&gpu.device, 128, 128).assert_pool_draws_like_per_mesh_buffers(
        &gpu.device,
        &gpu.queue,
        pool,
        meshes,
    );
}

/// Inserts `meshes` one at a time, validating the pool after each; their handles.
fn insert_each(
    pool: &MeshPool<ColorVertex, u32>,
    meshes: &[Mesh],
) -> Vec<gpu_arena::mesh_pool::MeshHandle> {
    meshes
        .iter()
        .map(|m| {
            let h = pool.insert(&m.vertices, &m.indices).unwrap();
            pool.validate().unwrap();
            h
        })
        .collect()
}

fn check_reads(
    pool: &MeshPool<ColorVertex, u32>,
    handles: &[gpu_arena::mesh_pool::MeshHandle],
    meshes: &[Mesh],
) {
    for (h, m) in handles.iter().zip(meshes) {
        let (v, i) = pool.read_mesh(*h).unwrap();
        assert!(
            v == m.vertices && i == m.indices,
            "a mesh reads back as inserted"
        );
    }
}

#[test]
fn a_new_pools_batch_lands_in_place_with_no_copy() {
    on_every_adapter(|gpu| {
        let meshes = scene::generate_meshes(120, 5);
        let pool = pool(gpu, MeshPoolDescriptor::default());
        let handles = pool.insert_batch(&list(&meshes)).unwrap();
        pool.validate().unwrap();
        let report = pool.commit_now().unwrap();
        if writes_in_place(gpu) {
            assert_eq!(report.in_place_bytes, bytes(&meshes), "every byte in place");
            assert_eq!(report.copies, 0, "nothing to copy");
        } else {
            assert_eq!(report.in_place_bytes, 0);
            assert!(report.copies > 0);
        }
        pool.validate().unwrap();
        check_reads(&pool, &handles, &meshes);
    });
}

#[test]
fn direct_writes_off_stages_everything() {
    on_every_adapter(|gpu| {
        let meshes = scene::generate_meshes(40, 6);
        let pool = pool(
            gpu,
            MeshPoolDescriptor {
                direct_writes: false,
                ..Default::default()
            },
        );
        let handles = pool.insert_batch(&list(&meshes)).unwrap();
        let report = pool.commit_now().unwrap();
        assert_eq!(report.in_place_bytes, 0);
        assert_eq!(report.bytes, bytes(&meshes), "all of it copied");
        check_reads(&pool, &handles, &meshes);
    });
}

#[test]
fn inserts_past_the_mapped_buffer_are_staged_and_land_after_its_growth() {
    on_every_adapter(|gpu| {
        let meshes = scene::generate_meshes(150, 8);
        let pool = pool(
            gpu,
            MeshPoolDescriptor {
                draw: DrawPath::for_adapter(&gpu.adapter),
                // No second slab to spill into: the mapped slab grows.
                max_slabs: 1,
                ..small_slabs()
            },
        );
        let handles = insert_each(&pool, &meshes);
        let report = pool.commit_now().unwrap();
        assert_eq!(pool.stats().slabs, 1, "one slab, grown");
        if writes_in_place(gpu) {
            assert!(
                report.in_place_bytes > 0 && report.in_place_bytes < bytes(&meshes),
                "the first meshes in place, the rest staged: {report:?}"
            );
        }
        assert_eq!(report.in_place_bytes + report.bytes, bytes(&meshes));
        assert!(pool.stats().growth_bytes_copied > 0 || !writes_in_place(gpu));
        pool.validate().unwrap();
        check_reads_and_picture(gpu, &pool, &handles, &meshes);
    });
}

#[test]
fn a_used_slab_that_grows_stages_its_new_meshes_and_keeps_the_old_ones() {
    on_every_adapter(|gpu| {
        let meshes = scene::generate_meshes(160, 14);
        let pool = pool(
            gpu,
            MeshPoolDescriptor {
                initial_vertex_bytes: 2048,
                initial_index_bytes: 512,
                ..Default::default()
            },
        );
        let first: Vec<_> = meshes[..10]
            .iter()
            .map(|m| pool.insert(&m.vertices, &m.indices).unwrap())
            .collect();
        pool.commit_now().unwrap();
        // The slab's buffers are in use now; these outgrow them.
        let mut later: Vec<_> = meshes[10..]
            .iter()
            .map(|m| pool.insert(&m.vertices, &m.indices).unwrap())
            .collect();
        // Some of them go before the commit: their kept bytes must be skipped.
        for h in later.drain(40..60) {
            pool.remove(h).unwrap();
        }
        pool.validate().unwrap();
        let report = pool.commit_now().unwrap();
        pool.validate().unwrap();
        // The slab's buffer was written: nothing maps it again, and the grown
        // buffer gets the new meshes by staged copies after the growth copy.
        assert_eq!(report.in_place_bytes, 0, "{report:?}");
        assert!(report.copies > 0);
        let live = meshes[..50].iter().chain(&meshes[70..]);
        for (h, m) in first.iter().chain(&later).zip(live) {
            let (v, i) = pool.read_mesh(*h).unwrap();
            assert!(
                v == m.vertices && i == m.indices,
                "a mesh reads back as inserted"
            );
        }
        assert!(
            pool.stats().growth_bytes_copied > 0,
            "the first meshes were copied"
        );
    });
}

/// Vertex and index buffer sizes of a pool's slabs, oldest first.
fn slab_sizes<V: bytemuck::Pod, I: gpu_arena::mesh_pool::IndexType>(
    pool: &MeshPool<V, I>,
) -> Vec<(u64, u64)> {
    pool.slabs()
        .unwrap()
        .iter()
        .map(|s| (s.vertex_buffer.size(), s.index_buffer.size()))
        .collect()
}

#[test]
fn a_slab_written_in_place_that_fills_before_its_commit_is_followed_by_a_larger_one() {
    on_every_adapter(|gpu| {
        let meshes = scene::generate_meshes(150, 8);
        let pool = pool(
            gpu,
            MeshPoolDescriptor {
                draw: DrawPath::for_adapter(&gpu.adapter),
                ..small_slabs()
            },
        );
        let handles = insert_each(&pool, &meshes);
        let report = pool.commit_now().unwrap();
        pool.validate().unwrap();
        let sizes = slab_sizes(&pool);
        if writes_in_place(gpu) {
            assert_eq!(report.in_place_bytes, bytes(&meshes), "every byte in place");
            assert_eq!(report.copies, 0, "nothing staged: {report:?}");
            assert_eq!(pool.stats().growth_bytes_copied, 0, "no slab grew");
            assert!(sizes.len() > 2, "{sizes:?}");
            for pair in sizes.windows(2) {
                let ((v0, i0), (v1, i1)) = (pair[0], pair[1]);
                assert!(
                    v1 >= 4096 && i1 >= 1024 && v1 + i1 > v0 + i0,
                    "each slab larger than the last, none under the initial sizes: {sizes:?}"
                );
            }
        } else {
            assert_eq!(sizes.len(), 1, "staged: one slab, grown");
        }
        check_reads_and_picture(gpu, &pool, &handles, &meshes);
    });
}

#[test]
fn compaction_merges_the_slabs_a_one_at_a_time_fill_spilled_into() {
    on_every_adapter(|gpu| {
        let meshes = scene::generate_meshes(150, 12);
        let pool = pool(gpu, small_slabs());
        let handles = insert_each(&pool, &meshes);
        pool.commit_now().unwrap();
        let spilled = pool.stats().slabs;
        assert!(spilled > 1 || !writes_in_place(gpu), "{spilled} slabs");
        let report = pool.compact(None).unwrap();
        pool.validate().unwrap();
        assert_eq!(pool.stats().slabs, 1, "{report:?}");
        assert_eq!(report.slabs_dropped, spilled - 1);
        check_reads(&pool, &handles, &meshes);
    });
}

#[test]
fn a_batch_too_large_for_a_slab_written_in_place_gets_a_slab_of_its_size() {
    on_every_adapter(|gpu| {
        let meshes = scene::generate_meshes(160, 21);
        let pool = pool(gpu, small_slabs());
        let mut handles = insert_each(&pool, &meshes[..2]);
        handles.extend(pool.insert_batch(&list(&meshes[2..])).unwrap());
        pool.validate().unwrap();
        let report = pool.commit_now().unwrap();
        if writes_in_place(gpu) {
            assert_eq!(report.in_place_bytes, bytes(&meshes), "{report:?}");
            assert_eq!(pool.stats().growth_bytes_copied, 0, "nothing grew");
            let sizes = slab_sizes(&pool);
            assert_eq!(
                sizes.len(),
                2,
                "the first slab, and one for the batch: {sizes:?}"
            );
            let batch_vertices: u64 = meshes[2..]
                .iter()
                .map(|m| size_of_val(&m.vertices[..]) as u64)
                .sum();
            assert!(
                sizes.iter().any(|&(v, _)| v >= batch_vertices),
                "a slab holds the whole batch: {sizes:?}"
            );
        }
        check_reads_and_picture(gpu, &pool, &handles, &meshes);
    });
}

#[test]
fn a_slab_that_follows_a_full_one_is_at_most_16_mib() {
    on_every_adapter(|gpu| {
        if !writes_in_place(gpu) {
            return;
        }
        let pool = MeshPool::<[u32; 4], u32>::new(
            &gpu.device,
            &gpu.queue,
            &MeshPoolDescriptor {
                initial_vertex_bytes: 64 << 10,
                initial_index_bytes: 64 << 10,
                growth_factor: 1000.0,
                ..Default::default()
            },
        )
        .unwrap();
        // Four meshes of 1,024 16-byte vertices fill the first vertex buffer exactly.
        let vertices: Vec<[u32; 4]> = (0..1024).map(|k| [k, 1, 2, 3]).collect();
        let indices: Vec<u32> = (0..1024).collect();
        let mut handles = Vec::new();
        for _ in 0..5 {
            handles.push(pool.insert(&vertices, &indices).unwrap());
        }
        pool.validate().unwrap();
        let report = pool.commit_now().unwrap();
        assert_eq!(report.copies, 0, "{report:?}");
        // The vertex buffer filled (64 KiB, 1000 times larger would be 62.5 MiB): the
        // next one is 16 MiB. The index buffer held 16 KiB: the next holds 1000 times
        // that, just under the cap.
        assert_eq!(
            slab_sizes(&pool),
            [(64 << 10, 64 << 10), (16 << 20, 16_384_000)],
        );
        for h in handles {
            assert_eq!(
                pool.read_mesh(h).unwrap(),
                (vertices.clone(), indices.clone())
            );
        }
    });
}

#[test]
fn a_cleared_pool_of_several_slabs_is_refilled_in_place_into_slabs_of_the_same_sizes() {
    on_every_adapter(|gpu| {
        let meshes = scene::generate_meshes(150, 9);
        let pool = pool(gpu, small_slabs());
        for m in &meshes {
            pool.insert(&m.vertices, &m.indices).unwrap();
        }
        pool.commit_now().unwrap();
        let mut before = slab_sizes(&pool);
        before.sort_unstable();
        // The clear keeps the first slab; the refill opens the others again.
        pool.clear();
        let handles = insert_each(&pool, &meshes);
        pool.validate().unwrap();
        let report = pool.commit_now().unwrap();
        let mut after = slab_sizes(&pool);
        after.sort_unstable();
        assert_eq!(after, before, "slabs of the same sizes");
        if writes_in_place(gpu) {
            assert_eq!(report.in_place_bytes, bytes(&meshes), "{report:?}");
        }
        pool.validate().unwrap();
        check_reads(&pool, &handles, &meshes);
    });
}

#[test]
fn a_cleared_pool_is_refilled_in_place_into_new_buffers() {
    on_every_adapter(|gpu| {
        let meshes = scene::generate_meshes(60, 9);
        let pool = pool(gpu, MeshPoolDescriptor::default());
        pool.insert_batch(&list(&meshes)).unwrap();
        pool.commit_now().unwrap();
        let before = pool.slabs().unwrap()[0].clone();
        let old = before.vertex_buffer.clone();
        let old_bytes = copy_and_map(&gpu.device, &gpu.queue, &old, 0, 256);
        pool.clear();
        let refill = scene::generate_meshes(60, 19);
        let handles = pool.insert_batch(&list(&refill)).unwrap();
        pool.validate().unwrap();
        let report = pool.commit_now().unwrap();
        pool.validate().unwrap();
        let after = pool.slabs().unwrap()[0].clone();
        let new = after.vertex_buffer.clone();
        if writes_in_place(gpu) {
            assert_eq!(report.in_place_bytes, bytes(&refill), "{report:?}");
            assert_eq!(report.copies, 0, "{report:?}");
            assert!(new != old, "the refill went into a new buffer");
            assert!(
                after.changed_at > before.changed_at,
                "the slab view says its buffers changed"
            );
            // A caller still holding the old buffer may go on using it: the pool
            // let go of it, it did not destroy it, and its bytes are as they were.
            assert_eq!(
                copy_and_map(&gpu.device, &gpu.queue, &old, 0, 256),
                old_bytes
            );
        } else {
            assert_eq!(report.in_place_bytes, 0, "{report:?}");
            assert!(new == old, "staged into the warm buffer");
        }
        check_reads(&pool, &handles, &refill);
    });
}

#[test]
fn a_pool_emptied_by_removals_stages_into_its_existing_buffers() {
    on_every_adapter(|gpu| {
        let meshes = scene::generate_meshes(60, 9);
        let pool = pool(gpu, MeshPoolDescriptor::default());
        let first = pool.insert_batch(&list(&meshes)).unwrap();
        pool.commit_now().unwrap();
        let buffer = pool.slabs().unwrap()[0].vertex_buffer.clone();
        for h in first {
            pool.remove(h).unwrap();
        }
        let handles = pool.insert_batch(&list(&meshes)).unwrap();
        let report = pool.commit_now().unwrap();
        assert_eq!(
            report.in_place_bytes, 0,
            "a written buffer is never mapped again"
        );
        assert!(
            pool.slabs().unwrap()[0].vertex_buffer == buffer,
            "no new buffer: only `clear` gives one"
        );
        check_reads(&pool, &handles, &meshes);
    });
}

#[test]
fn clearing_before_the_commit_keeps_writing_into_the_mapped_buffer() {
    on_every_adapter(|gpu| {
        let meshes = scene::generate_meshes(20, 12);
        let pool = pool(gpu, MeshPoolDescriptor::default());
        pool.insert_batch(&list(&meshes[..10])).unwrap();
        pool.clear();
        pool.validate().unwrap();
        let handles = pool.insert_batch(&list(&meshes[10..])).unwrap();
        let report = pool.commit_now().unwrap();
        pool.validate().unwrap();
        if writes_in_place(gpu) {
            assert_eq!(report.in_place_bytes, bytes(&meshes[10..]), "{report:?}");
        }
        check_reads(&pool, &handles, &meshes[10..]);
    });
}

/// A pool whose vertex buffer (32 MiB) is too large to be mapped for any write:
/// zeroing it would cost more than a small write saves.
fn large_pool(gpu: &Headless) -> MeshPool<[u32; 4], u32> {
    MeshPool::new(
        &gpu.device,
        &gpu.queue,
        &MeshPoolDescriptor {
            initial_vertex_bytes: 32 << 20,
            initial_index_bytes: 1 << 20,
            ..Default::default()
        },
    )
    .expect("pool")
}

/// `count` meshes of `vertices` 16-byte vertices and one triangle each.
fn wide_meshes(count: u32, vertices: u32) -> Vec<(Vec<[u32; 4]>, Vec<u32>)> {
    (0..count)
        .map(|m| {
            let v = (0..vertices).map(|k| [m, k, 7, 9]).collect();
            (v, vec![0, 1, vertices - 1])
        })
        .collect()
}

fn wide_list(meshes: &[(Vec<[u32; 4]>, Vec<u32>)]) -> Vec<(&[[u32; 4]], &[u32])> {
    meshes.iter().map(|(v, i)| (&v[..], &i[..])).collect()
}

/// Fills a large pool's vertex buffer to 20 of its 32 MiB, commits and clears it;
/// returns the vertex buffer the fill used.
fn fill_and_clear(pool: &MeshPool<[u32; 4], u32>) -> wgpu::Buffer {
    let full = wide_meshes(20, 65_536);
    pool.insert_batch(&wide_list(&full)).unwrap();
    pool.commit_now().unwrap();
    let buffer = pool.slabs().unwrap()[0].vertex_buffer.clone();
    pool.clear();
    buffer
}

#[test]
fn a_large_new_pools_first_small_insert_is_staged() {
    on_every_adapter(|gpu| {
        let pool = large_pool(gpu);
        let small = wide_meshes(1, 100);
        let h = pool.insert(&small[0].0, &small[0].1).unwrap();
        let report = pool.commit_now().unwrap();
        // Only the 1 MiB index buffer is worth mapping for 12 bytes of indices.
        let expected = if writes_in_place(gpu) { 12 } else { 0 };
        assert_eq!(report.in_place_bytes, expected, "{report:?}");
        assert_eq!(pool.read_mesh(h).unwrap(), small[0]);
    });
}

#[test]
fn a_large_cleared_pool_refilled_with_a_small_batch_keeps_its_vertex_buffer() {
    on_every_adapter(|gpu| {
        let pool = large_pool(gpu);
        let old = fill_and_clear(&pool);
        let small = wide_meshes(2, 100);
        let handles = pool.insert_batch(&wide_list(&small)).unwrap();
        let report = pool.commit_now().unwrap();
        pool.validate().unwrap();
        assert!(
            pool.slabs().unwrap()[0].vertex_buffer == old,
            "3,200 bytes are staged, not worth zeroing 32 MiB"
        );
        let expected = if writes_in_place(gpu) { 24 } else { 0 };
        assert_eq!(report.in_place_bytes, expected, "{report:?}");
        for (h, m) in handles.iter().zip(&small) {
            assert_eq!(&pool.read_mesh(*h).unwrap(), m);
        }
    });
}

#[test]
fn a_large_cleared_pool_refilled_one_mesh_at_a_time_goes_in_place_like_its_last_fill() {
    on_every_adapter(|gpu| {
        let pool = large_pool(gpu);
        let old = fill_and_clear(&pool);
        let refill = wide_meshes(3, 1000);
        let handles: Vec<_> = refill
            .iter()
            .map(|(v, i)| pool.insert(v, i).unwrap())
            .collect();
        let report = pool.commit_now().unwrap();
        pool.validate().unwrap();
        if writes_in_place(gpu) {
            // The last fill covered 20 of 32 MiB: a refill is expected to be alike.
            assert_eq!(report.in_place_bytes, 3 * (16_000 + 12), "{report:?}");
            assert!(pool.slabs().unwrap()[0].vertex_buffer != old);
        } else {
            assert_eq!(report.in_place_bytes, 0, "{report:?}");
        }
        for (h, m) in handles.iter().zip(&refill) {
            assert_eq!(&pool.read_mesh(*h).unwrap(), m);
        }
    });
}

#[test]
fn a_failed_batch_counts_nothing_in_the_next_commit() {
    on_every_adapter(|gpu| {
        let meshes = scene::generate_meshes(200, 4);
        let pool = pool(
            gpu,
            MeshPoolDescriptor {
                initial_vertex_bytes: 1 << 16,
                initial_index_bytes: 1 << 12,
                max_slab_bytes: 1 << 16,
                max_slabs: 1,
                ..Default::default()
            },
        );
        // The first meshes fit (and go in place where the device allows it); the
        // batch as a whole does not, so it is refused and none of it counts.
        assert!(pool.insert_batch(&list(&meshes)).is_err());
        assert_eq!(pool.pending(), 0);
        let h = pool
            .insert(&meshes[0].vertices, &meshes[0].indices)
            .unwrap();
        let report = pool.commit_now().unwrap();
        pool.validate().unwrap();
        assert_eq!(report.meshes, 1, "{report:?}");
        assert_eq!(
            report.in_place_bytes + report.bytes,
            bytes(&meshes[..1]),
            "{report:?}"
        );
        check_reads(&pool, &[h], &meshes[..1]);
    });
}

#[test]
fn a_large_meshs_own_slab_is_written_in_place() {
    on_every_adapter(|gpu| {
        let meshes = scene::generate_meshes(3, 10);
        let pool = pool(
            gpu,
            MeshPoolDescriptor {
                dedicated_bytes: 64,
                ..Default::default()
            },
        );
        let handles = insert_each(&pool, &meshes);
        assert_eq!(pool.stats().dedicated_slabs, 3);
        let report = pool.commit_now().unwrap();
        if writes_in_place(gpu) {
            assert_eq!(report.in_place_bytes, bytes(&meshes));
        }
        check_reads(&pool, &handles, &meshes);
    });
}

#[test]
fn a_batch_alternating_between_shared_and_own_slabs_writes_every_mesh_in_place() {
    on_every_adapter(|gpu| {
        // More meshes than `insert_batch` places before writing (128), about half of
        // them large enough for a slab of their own: the batch's placements
        // alternate between slabs (each run written in turn).
        let meshes = scene::generate_meshes(300, 12);
        let mut sizes: Vec<u64> = meshes
            .iter()
            .map(|m| size_of_val(&m.vertices[..]) as u64)
            .collect();
        sizes.sort_unstable();
        let pool = pool(
            gpu,
            MeshPoolDescriptor {
                dedicated_bytes: sizes[sizes.len() / 2],
                ..Default::default()
            },
        );
        let handles = pool.insert_batch(&list(&meshes)).unwrap();
        pool.validate().unwrap();
        let dedicated = pool.stats().dedicated_slabs;
        assert!(
            (75..225).contains(&dedicated),
            "about half the meshes have their own slab: {dedicated}"
        );
        let report = pool.commit_now().unwrap();
        if writes_in_place(gpu) {
            assert_eq!(report.in_place_bytes, bytes(&meshes), "{report:?}");
            assert_eq!(report.copies, 0, "{report:?}");
        }
        check_reads_and_picture(gpu, &pool, &handles, &meshes);
    });
}

#[test]
fn drawing_after_removing_every_pending_mesh_unmaps_first() {
    on_every_adapter(|gpu| {
        let meshes = scene::generate_meshes(4, 11);
        let pool = pool(
            gpu,
            MeshPoolDescriptor {
                draw: DrawPath::for_adapter(&gpu.adapter),
                ..Default::default()
            },
        );
        let handles = insert_each(&pool, &meshes);
        for h in handles {
            pool.remove(h).unwrap();
        }
        assert_eq!(pool.pending(), 0, "nothing waits: drawing is allowed");
        // The slab's buffer may still be mapped: binding it must unmap it, or the
        // submission would be a validation error.
        let renderer = Renderer::new(&gpu.device, 32, 32);
        renderer.render(&gpu.device, &gpu.queue, |pass| pool.draw(pass, 0).unwrap());
        let slabs = pool.slabs().unwrap();
        let mut encoder = gpu.device.create_command_encoder(&Default::default());
        encoder.clear_buffer(&slabs[0].vertex_buffer, 0, None);
        gpu.queue.submit([encoder.finish()]);
        pool.validate().unwrap();
        // Later inserts are staged into the now unmapped buffer, and read back.
        let h = pool
            .insert(&meshes[0].vertices, &meshes[0].indices)
            .unwrap();
        let report = pool.commit_now().unwrap();
        assert_eq!(report.bytes, bytes(&meshes[..1]), "staged: {report:?}");
        let removed = if writes_in_place(gpu) {
            bytes(&meshes)
        } else {
            0
        };
        assert_eq!(
            report.in_place_bytes, removed,
            "the removed meshes' bytes count"
        );
        check_reads(&pool, &[h], &meshes[..1]);
    });
}
