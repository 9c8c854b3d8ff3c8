//! Uploads the way wgpu users work: staged per-mesh inserts landed by an explicit
//! commit (into the caller's encoder, merged into few copies, drawing refused
//! before), zero-copy writes, batches recorded into the caller's encoder, and staging
//! memory that stays under its bound through bursts.

use gpu_arena::headless::Headless;
use gpu_arena::mesh_pool::{MeshPool, MeshPoolDescriptor};
use gpu_arena::{Arena, ArenaDescriptor, ArenaError, Staging, StagingDescriptor};
use gpu_suballoc::readback::differing_pixels;
use gpu_suballoc::scene::{self, ColorVertex, Renderer};
use gpu_suballoc::{Rng, on_every_adapter};

fn pool(gpu: &Headless, desc: MeshPoolDescriptor<'_>) -> MeshPool<ColorVertex, u32> {
    MeshPool::new(&gpu.device, &gpu.queue, &desc).expect("pool")
}

#[test]
fn drawing_before_commit_is_refused_and_after_it_draws_everything() {
    on_every_adapter(|gpu| {
        let pool = pool(gpu, MeshPoolDescriptor::default());
        let meshes = scene::generate_meshes(30, 8);
        for m in &meshes {
            pool.insert(&m.vertices, &m.indices).unwrap();
        }
        let renderer = Renderer::new(&gpu.device, 96, 96);
        let mut refused = None;
        renderer.render(&gpu.device, &gpu.queue, |pass| {
            refused = Some(pool.draw(pass, 0));
            0
        });
        assert!(matches!(
            refused,
            Some(Err(ArenaError::Uncommitted { pending: 30, .. }))
        ));
        assert!(matches!(pool.slabs(), Err(ArenaError::Uncommitted { .. })));

        // Commit into the frame's own encoder, then draw in a pass after the copies.
        let view = renderer.texture.create_view(&Default::default());
        let mut encoder = gpu.device.create_command_encoder(&Default::default());
        let report = pool.commit(&mut encoder).unwrap();
        assert_eq!(report.meshes, 30);
        {
            let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: None,
                color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                    view: &view,
                    depth_slice: None,
                    resolve_target: None,
                    ops: wgpu::Operations {
                        load: wgpu::LoadOp::Clear(wgpu::Color {
                            r: 0.05,
                            g: 0.05,
                            b: 0.06,
                            a: 1.0,
                        }),
                        store: wgpu::StoreOp::Store,
                    },
                })],
                depth_stencil_attachment: None,
                timestamp_writes: None,
                occlusion_query_set: None,
                multiview_mask: None,
            });
            pass.set_pipeline(&renderer.pipeline);
            pool.draw(&mut pass, 0).unwrap();
        }
        gpu.queue.submit([encoder.finish()]);
        let pooled = renderer.read_pixels(&gpu.device, &gpu.queue);
        let expected = renderer.render_per_mesh_buffers(
            &gpu.device,
            &gpu.queue,
            meshes.iter().map(|m| m.parts()),
        );
        assert_eq!(differing_pixels(&pooled, &expected), 0);
    });
}

#[test]
fn per_mesh_inserts_land_in_two_merged_copies_per_slab() {
    on_every_adapter(|gpu| {
        // Staged (no direct writes into the fresh slab): what is tested is the merge.
        let pool = pool(
            gpu,
            MeshPoolDescriptor {
                direct_writes: false,
                ..Default::default()
            },
        );
        let meshes = scene::generate_meshes(200, 9);
        let handles: Vec<_> = meshes
            .iter()
            .map(|m| pool.insert(&m.vertices, &m.indices).unwrap())
            .collect();
        let report = pool.commit_now().unwrap();
        assert_eq!(report.meshes, 200);
        assert_eq!(
            report.copies, 2,
            "one vertex run and one index run: {report:?}"
        );
        for (h, m) in handles.iter().zip(&meshes) {
            assert_eq!(
                pool.read_mesh(*h).unwrap(),
                (m.vertices.clone(), m.indices.clone())
            );
        }
    });
}

#[test]
fn a_mesh_removed_before_commit_lands_nothing_and_its_range_serves_the_next() {
    on_every_adapter(|gpu| {
        let pool = pool(gpu, MeshPoolDescriptor::default());
        let meshes = scene::generate_meshes(3, 4);
        let a = pool
            .insert(&meshes[0].vertices, &meshes[0].indices)
            .unwrap();
        pool.remove(a).unwrap();
        // The freed range is taken at once by a mesh of the same size.
        let b = pool
            .insert(
                &meshes[0].vertices,
                &meshes[1].indices[..meshes[0].indices.len().min(meshes[1].indices.len())],
            )
            .unwrap();
        let c = pool
            .insert(&meshes[2].vertices, &meshes[2].indices)
            .unwrap();
        assert_eq!(pool.pending(), 2);
        pool.commit_now().unwrap();
        let (bv, bi) = pool.read_mesh(b).unwrap();
        assert_eq!(bv, meshes[0].vertices);
        assert_eq!(bi, meshes[1].indices[..bi.len()]);
        assert_eq!(pool.read_mesh(c).unwrap().0, meshes[2].vertices);
    });
}

#[test]
fn staged_data_lands_in_buffers_that_grew_before_the_commit() {
    on_every_adapter(|gpu| {
        let pool = pool(
            gpu,
            MeshPoolDescriptor {
                initial_vertex_bytes: 256,
                initial_index_bytes: 256,
                ..Default::default()
            },
        );
        let meshes = scene::generate_meshes(300, 12);
        let handles: Vec<_> = meshes
            .iter()
            .map(|m| pool.insert(&m.vertices, &m.indices).unwrap())
            .collect();
        assert!(
            pool.stats().capacity > 512,
            "the slab grew while inserts waited"
        );
        for (h, m) in handles.iter().zip(&meshes) {
            assert_eq!(pool.read_mesh(*h).unwrap().0, m.vertices);
        }
    });
}

#[test]
fn growing_a_fresh_pool_before_its_first_commit_copies_nothing() {
    on_every_adapter(|gpu| {
        let pool = pool(
            gpu,
            MeshPoolDescriptor {
                initial_vertex_bytes: 256,
                initial_index_bytes: 256,
                // With direct writes the first 256 bytes land in place, and are
                // copied once the slab outgrows them (tests/gpu/direct.rs).
                direct_writes: false,
                ..Default::default()
            },
        );
        let meshes = scene::generate_meshes(300, 13);
        let first: Vec<_> = meshes[..100]
            .iter()
            .map(|m| pool.insert(&m.vertices, &m.indices).unwrap())
            .collect();
        pool.commit_now().unwrap();
        let stats = pool.stats();
        assert!(stats.capacity > 512, "the slab grew: {stats:?}");
        assert_eq!(stats.growth_bytes_copied, 0, "nothing had landed to copy");
        // Growth after a commit copies what landed, and only that.
        let later: Vec<_> = meshes[100..]
            .iter()
            .map(|m| pool.insert(&m.vertices, &m.indices).unwrap())
            .collect();
        pool.commit_now().unwrap();
        let copied = pool.stats().growth_bytes_copied;
        assert!(
            copied > 0,
            "the committed meshes moved to the grown buffers"
        );
        assert!(
            copied <= stats.vertex_bytes + stats.index_bytes,
            "{copied} > what landed"
        );
        for (h, m) in first.iter().chain(&later).zip(&meshes) {
            assert_eq!(
                pool.read_mesh(*h).unwrap(),
                (m.vertices.clone(), m.indices.clone())
            );
        }
    });
}

#[test]
fn growth_between_a_recorded_commit_and_its_submission_loses_nothing() {
    on_every_adapter(|gpu| {
        let pool = pool(
            gpu,
            MeshPoolDescriptor {
                initial_vertex_bytes: 1024,
                initial_index_bytes: 1024,
                ..Default::default()
            },
        );
        let meshes = scene::generate_meshes(200, 14);
        let early = pool
            .insert(&meshes[0].vertices, &meshes[0].indices)
            .unwrap();
        let mut first = gpu.device.create_command_encoder(&Default::default());
        pool.commit(&mut first).unwrap();
        // The caller has not submitted `first` when the slab outgrows its buffers.
        let capacity = pool.stats().capacity;
        let later: Vec<_> = meshes[1..]
            .iter()
            .map(|m| pool.insert(&m.vertices, &m.indices).unwrap())
            .collect();
        assert!(pool.stats().capacity > capacity, "the slab grew");
        let mut second = gpu.device.create_command_encoder(&Default::default());
        pool.commit(&mut second).unwrap();
        gpu.queue.submit([first.finish(), second.finish()]);
        assert_eq!(
            pool.read_mesh(early).unwrap(),
            (meshes[0].vertices.clone(), meshes[0].indices.clone()),
            "the mesh committed into the first encoder survived the growth"
        );
        for (h, m) in later.iter().zip(&meshes[1..]) {
            assert_eq!(pool.read_mesh(*h).unwrap().0, m.vertices);
        }
    });
}

#[test]
fn a_mesh_written_in_place_equals_the_same_mesh_copied() {
    on_every_adapter(|gpu| {
        let pool = pool(gpu, MeshPoolDescriptor::default());
        let m = &scene::generate_meshes(1, 3)[0];
        let copied = pool.insert(&m.vertices, &m.indices).unwrap();
        let in_place = pool
            .insert_with(m.vertices.len(), m.indices.len(), |mut v, mut i| {
                v.write_iter(m.vertices.iter().copied());
                for (k, index) in m.indices.iter().enumerate() {
                    i.write(k, *index);
                }
            })
            .unwrap();
        assert_eq!(
            pool.read_mesh(copied).unwrap(),
            pool.read_mesh(in_place).unwrap()
        );
        assert!(matches!(
            pool.insert_with(0, 3, |_, _| {}),
            Err(ArenaError::ZeroSize)
        ));
    });
}

#[test]
fn a_batch_recorded_into_the_callers_encoder_lands_with_it() {
    on_every_adapter(|gpu| {
        let arena = Arena::new(&gpu.device, &gpu.queue, &ArenaDescriptor::default()).unwrap();
        let hs: Vec<_> = (0..50).map(|_| arena.alloc(100).unwrap()).collect();
        let mut encoder = gpu.device.create_command_encoder(&Default::default());
        let mut batch = arena.batch();
        for (k, h) in hs.iter().enumerate() {
            batch.write(*h, 0, &[k as u8; 100]).unwrap();
        }
        let report = batch.record(&mut encoder).unwrap();
        assert_eq!((report.writes, report.copies), (50, 1));
        assert_eq!(arena.read(hs[7]).unwrap(), [0; 100], "not submitted yet");
        gpu.queue.submit([encoder.finish()]);
        for (k, h) in hs.iter().enumerate() {
            assert_eq!(arena.read(*h).unwrap(), [k as u8; 100]);
        }
    });
}

#[test]
fn zero_copy_writes_follow_the_write_rules() {
    on_every_adapter(|gpu| {
        let arena = Arena::new(&gpu.device, &gpu.queue, &ArenaDescriptor::default()).unwrap();
        let h = arena.alloc(7).unwrap();
        let right = arena.alloc_slice(&[0xBBu8; 8]).unwrap();
        arena
            .write_with(h, 0, 7, |mut b| b.copy_from_slice(&[1, 2, 3, 4, 5, 6, 7]))
            .unwrap();
        assert_eq!(arena.read(h).unwrap(), [1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(
            arena.read(right).unwrap(),
            [0xBB; 8],
            "padding stays inside"
        );
        assert!(matches!(
            arena.write_with(h, 4, 8, |_| {}),
            Err(ArenaError::OutOfBounds { .. })
        ));
        let typed = arena.alloc_elements::<u32>(4).unwrap();
        arena
            .write_elements_with(typed, 1, 2, |mut w| w.copy_from_slice(&[8, 9]))
            .unwrap();
        assert_eq!(arena.read_slice(typed).unwrap()[1..3], [8, 9]);
    });
}

#[test]
fn a_thousand_bursty_frames_end_with_staging_under_its_cap_and_every_upload_right() {
    on_every_adapter(|gpu| {
        let cap = 256 << 10;
        let staging = Staging::new(
            &gpu.device,
            &StagingDescriptor {
                chunk_size: 64 << 10,
                max_free_bytes: cap,
                idle_frames: 10,
                ..Default::default()
            },
        );
        let arena = Arena::new(
            &gpu.device,
            &gpu.queue,
            &ArenaDescriptor {
                initial_size: 16 << 20,
                staging: Some(staging.clone()),
                ..Default::default()
            },
        )
        .unwrap();
        let big: Vec<_> = (0..128).map(|_| arena.alloc(64 << 10).unwrap()).collect();
        let small: Vec<_> = (0..64).map(|_| arena.alloc(1024).unwrap()).collect();
        let mut expected_small = vec![0u8; small.len()];
        let mut rng = Rng(77);
        let mut peak = 0;
        for frame in 0..1000u32 {
            let mut batch = arena.batch();
            if frame == 0 {
                // The burst: 8 MiB in one frame.
                for (k, h) in big.iter().enumerate() {
                    batch.write(*h, 0, &vec![k as u8; 64 << 10]).unwrap();
                }
            }
            for _ in 0..4 {
                let k = rng.below(small.len() as u64) as usize;
                let value = (frame % 251) as u8;
                batch.write(small[k], 0, &[value; 1024]).unwrap();
                expected_small[k] = value;
            }
            batch.submit().unwrap();
            peak = peak.max(staging.stats().bytes_live);
            staging.maintain();
        }
        gpu.device
            .poll(wgpu::PollType::wait_indefinitely())
            .unwrap();
        // Chunks that came back late (the GL backend maps them a few frames behind)
        // were used recently; once idle for `idle_frames` frames they go too.
        for _ in 0..=10 {
            staging.maintain();
        }
        let stats = staging.stats();
        assert!(peak >= 8 << 20, "the burst needed its chunks: {peak}");
        assert!(stats.bytes_live <= cap, "{stats:?}");
        assert!(stats.chunks_released > 0, "{stats:?}");
        for (k, h) in big.iter().enumerate() {
            assert_eq!(arena.read(*h).unwrap(), vec![k as u8; 64 << 10]);
        }
        for (k, h) in small.iter().enumerate() {
            assert_eq!(arena.read(*h).unwrap(), vec![expected_small[k]; 1024]);
        }
    });
}

#[test]
fn pools_sharing_one_staging_reuse_its_warm_chunks() {
    on_every_adapter(|gpu| {
        let staging = Staging::new(&gpu.device, &StagingDescriptor::default());
        let meshes = scene::generate_meshes(100, 6);
        let mut live_after_first = 0;
        for round in 0..5 {
            let pool = pool(
                gpu,
                MeshPoolDescriptor {
                    staging: Some(staging.clone()),
                    ..Default::default()
                },
            );
            for m in &meshes {
                pool.insert(&m.vertices, &m.indices).unwrap();
            }
            pool.commit_now().unwrap();
            gpu.device
                .poll(wgpu::PollType::wait_indefinitely())
                .unwrap();
            staging.maintain();
            if round == 0 {
                live_after_first = staging.stats().bytes_live;
            }
        }
        assert_eq!(
            staging.stats().bytes_live,
            live_after_first,
            "later pools staged into the first pool's chunks"
        );
    });
}
