//! Pools at the edges of the device's limits: a one-slab bindless or mesh pool on a
//! device with small limits fills to its caps and still walks and draws; a table or
//! index space that cannot grow refuses the insert and keeps nothing of it; the
//! default draw path works on every adapter.

use gpu_arena::bindless::{BindlessPool, BindlessPoolDescriptor, ObjectId};
use gpu_arena::mesh_pool::{DrawPath, MeshPool, MeshPoolDescriptor};
use gpu_arena::{ArenaError, Limit};
use gpu_suballoc::scene::{self, ColorVertex};
use gpu_suballoc::{Rng, bindless_walk, on_every_adapter};

use crate::limits::small_device;

#[test]
fn a_one_slab_bindless_pool_on_small_limits_fills_to_its_caps_and_walks_correctly() {
    on_every_adapter(|gpu| {
        let small = small_device(gpu);
        // The defaults ask for 1 MiB of records; the slab clamps to the 64 KiB binding.
        let pool = BindlessPool::new(
            &small.device,
            &small.queue,
            &BindlessPoolDescriptor {
                max_slabs: 1,
                ..Default::default()
            },
        )
        .unwrap();
        let table_len = |pool: &BindlessPool| pool.slabs()[0].table_len;
        let mut rng = Rng(8);
        let mut live: Vec<(ObjectId, Vec<u32>)> = Vec::new();
        let err = loop {
            let record: Vec<u32> = (0..1 + rng.below(60))
                .map(|_| rng.next_u64() as u32)
                .collect();
            let before = (pool.len(), table_len(&pool));
            match pool.insert(&record) {
                Ok(id) => live.push((id, record)),
                Err(e) => {
                    assert_eq!(
                        (pool.len(), table_len(&pool)),
                        before,
                        "a refusal changes nothing"
                    );
                    break e;
                }
            }
        };
        assert!(
            matches!(
                err,
                ArenaError::OutOfSpace {
                    limit: Limit::MaxStorageBufferBindingSize,
                    ..
                } | ArenaError::OverLimit {
                    what: Limit::MaxStorageBufferBindingSize,
                    ..
                }
            ),
            "{err}"
        );
        let slab = &pool.slabs()[0];
        assert!(slab.data.size() <= 64 << 10);
        assert!(slab.table.range.size <= 64 << 10);
        // Binding both as storage is valid (no validation panic) and the walk matches.
        let results = bindless_walk::run(&small.device, &small.queue, &pool).unwrap();
        for (id, record) in &live {
            assert_eq!(results.of(*id), Some(bindless_walk::hash(record)));
            assert_eq!(&pool.read(*id).unwrap(), record);
        }
    });
}

#[test]
fn a_bindless_table_that_cannot_grow_refuses_inserts_and_changes_nothing() {
    on_every_adapter(|gpu| {
        // One slab whose table may hold 4 KiB: 512 entries.
        let pool = BindlessPool::new(
            &gpu.device,
            &gpu.queue,
            &BindlessPoolDescriptor {
                label: Some("tiny table"),
                initial_objects: 256,
                max_slab_bytes: 4096,
                max_slabs: 1,
                ..Default::default()
            },
        )
        .unwrap();
        let mut live = Vec::new();
        let err = loop {
            match pool.insert(&[live.len() as u32]) {
                Ok(id) => live.push(id),
                Err(e) => break e,
            }
        };
        let counts = |pool: &BindlessPool| {
            let slab = &pool.slabs()[0];
            (pool.len(), slab.table_len, slab.live)
        };
        let before = counts(&pool);
        assert!(matches!(pool.insert(&[1, 2, 3]), Err(e) if e == err));
        assert_eq!(
            counts(&pool),
            before,
            "nothing allocated, no phantom table entry"
        );
        for (k, id) in live.iter().enumerate() {
            assert_eq!(pool.read(*id).unwrap(), [k as u32]);
        }
        // A failed update keeps the old record in force.
        let big = vec![9u32; 2000];
        assert!(pool.update(live[0], &big).is_err());
        assert_eq!(pool.read(live[0]).unwrap(), [0]);
        assert_eq!(pool.entry(live[0]).unwrap().len, 1);
    });
}

#[test]
fn a_mesh_pool_that_runs_out_of_index_space_keeps_nothing_of_the_failed_insert() {
    on_every_adapter(|gpu| {
        let meshes = scene::generate_meshes(200, 4);
        let pool: MeshPool<ColorVertex, u32> = MeshPool::new(
            &gpu.device,
            &gpu.queue,
            &MeshPoolDescriptor {
                label: Some("full"),
                initial_vertex_bytes: 1 << 16,
                initial_index_bytes: 1 << 12,
                max_slab_bytes: 1 << 16,
                max_slabs: 1,
                ..Default::default()
            },
        )
        .unwrap();
        let mut inserted = Vec::new();
        let mut refused = None;
        for (k, m) in meshes.iter().enumerate() {
            let before = pool.stats();
            match pool.insert(&m.vertices, &m.indices) {
                Ok(h) => inserted.push((h, k)),
                Err(e) => {
                    assert_eq!(pool.stats(), before, "{e}");
                    refused = Some(e);
                    break;
                }
            }
        }
        let err = refused.expect("the 64 KiB cap is reached");
        assert!(
            err.to_string().starts_with("full slab 0 "),
            "the arena's label: {err}"
        );
        // A batch that cannot fit leaves nothing either.
        let list: Vec<_> = meshes[..50].iter().map(|m| m.parts()).collect();
        let before = pool.stats();
        assert!(pool.insert_batch(&list).is_err());
        assert_eq!(pool.stats(), before);
        for (h, k) in &inserted {
            let (vertices, indices) = pool.read_mesh(*h).unwrap();
            assert_eq!(vertices, meshes[*k].vertices);
            assert_eq!(indices, meshes[*k].indices);
        }
    });
}

#[test]
fn a_one_slab_mesh_pool_on_small_limits_fills_to_its_caps_and_draws() {
    on_every_adapter(|gpu| {
        let small = small_device(gpu);
        let pool: MeshPool<ColorVertex, u32> = MeshPool::new(
            &small.device,
            &small.queue,
            &MeshPoolDescriptor {
                max_slabs: 1,
                ..Default::default()
            },
        )
        .unwrap();
        let meshes = scene::generate_meshes(4000, 6);
        let mut count = 0;
        for m in &meshes {
            if pool.insert(&m.vertices, &m.indices).is_err() {
                break;
            }
            count += 1;
        }
        assert!(count > 100 && count < meshes.len(), "{count}");
        pool.commit_now().unwrap();
        assert!(pool.slabs().unwrap()[0].vertex_buffer.size() <= 1 << 20);
        // Batched uploads stage through chunks that respect the limit too.
        pool.clear();
        let list: Vec<_> = meshes[..count / 2].iter().map(|m| m.parts()).collect();
        let handles = pool.insert_batch(&list).unwrap();
        assert_eq!(pool.read_mesh(handles[1]).unwrap().0, meshes[1].vertices);
        let renderer = scene::Renderer::new(&small.device, 64, 64);
        pool.commit_now().unwrap();
        let calls = renderer.render(&small.device, &small.queue, |pass| {
            pool.draw(pass, 0).unwrap()
        });
        assert!(calls >= 1);
    });
}

#[test]
fn the_default_draw_path_works_on_every_adapter() {
    on_every_adapter(|gpu| {
        let pool: MeshPool<ColorVertex, u32> =
            MeshPool::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
        let expected_indirect = gpu.info.backend != wgpu::Backend::Gl;
        assert_eq!(
            pool.uses_indirect(),
            expected_indirect,
            "{}",
            gpu.describe()
        );
        let meshes = scene::generate_meshes(10, 2);
        for m in &meshes {
            pool.insert(&m.vertices, &m.indices).unwrap();
        }
        let renderer = scene::Renderer::new(&gpu.device, 32, 32);
        pool.commit_now().unwrap();
        let calls = renderer.render(&gpu.device, &gpu.queue, |pass| pool.draw(pass, 0).unwrap());
        assert_eq!(calls, if expected_indirect { 1 } else { 10 });
        // The adapter's own answer is always safe too.
        let exact: MeshPool<ColorVertex, u32> = MeshPool::new(
            &gpu.device,
            &gpu.queue,
            &MeshPoolDescriptor {
                draw: DrawPath::for_adapter(&gpu.adapter),
                ..Default::default()
            },
        )
        .unwrap();
        exact
            .insert(&meshes[0].vertices, &meshes[0].indices)
            .unwrap();
        exact.commit_now().unwrap();
        renderer.render(&gpu.device, &gpu.queue, |pass| exact.draw(pass, 0).unwrap());
    });
}
