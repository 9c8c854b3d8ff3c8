//! The edges: no false refusals, growth that always reaches a fit, binding limits as
//! part of the layout, devices opened with deliberately small limits, device errors
//! during growth, all-or-nothing pool operations, and errors that tell the truth.

use gpu_arena::bindless::{BindlessPool, BindlessPoolDescriptor, ObjectId};
use gpu_arena::headless::{DeviceLimits, Headless, HeadlessDescriptor};
use gpu_arena::mesh_pool::{DrawPath, MeshPool, MeshPoolDescriptor};
use gpu_arena::{Arena, ArenaDescriptor, ArenaError, ArenaHandle, HandleKind, Limit};
use gpu_suballoc::scene::{self, ColorVertex};
use gpu_suballoc::{Rng, bindless_walk, on_every_adapter};

/// A device on `gpu`'s adapter whose limits are `gpu`'s with 1 MiB buffers and 64 KiB
/// storage bindings.
pub fn small_device(gpu: &Headless) -> Headless {
    Headless::new(&HeadlessDescriptor {
        backends: Some(gpu.info.backend.into()),
        adapter_name: Some(gpu.info.name.clone()),
        limits: DeviceLimits::FromAdapter(|adapter| wgpu::Limits {
            max_buffer_size: 1 << 20,
            max_storage_buffer_binding_size: 64 << 10,
            ..adapter.clone()
        }),
        label: "small limits",
        ..Default::default()
    })
    .expect("a device with small limits")
}

fn arena(gpu: &Headless, desc: ArenaDescriptor<'_>) -> Arena {
    Arena::new(&gpu.device, &gpu.queue, &desc).expect("arena")
}

/// A 4 KiB arena whose 140-byte free tail was binned before ten 132-byte holes were
/// freed: the holes sit in front of the tail in the same bin, so the allocator's
/// bounded probe gives up on a 140-byte request that the tail holds.
fn tail_behind_holes(gpu: &Headless, max_size: u64, growth_factor: f32) -> (Arena, ArenaHandle) {
    let arena = arena(
        gpu,
        ArenaDescriptor {
            label: Some("tail behind holes"),
            initial_size: 4096,
            max_size,
            growth_factor,
            ..Default::default()
        },
    );
    let holes: Vec<_> = (0..10)
        .map(|_| {
            let hole = arena.alloc(132).unwrap();
            arena.alloc(4).unwrap();
            hole
        })
        .collect();
    let filler = arena.alloc_slice(&[7u8; 4096 - 1360 - 140]).unwrap();
    for hole in holes {
        arena.free(hole).unwrap();
    }
    (arena, filler.raw())
}

#[test]
fn a_request_the_free_tail_holds_is_served_without_growing() {
    on_every_adapter(|gpu| {
        for max_size in [4096, 1 << 20] {
            let (arena, filler) = tail_behind_holes(gpu, max_size, 2.0);
            let generation = arena.buffer_generation();
            let h = arena.alloc(140).expect("the 140-byte tail fits");
            assert_eq!(arena.range(h).unwrap().offset, 4096 - 140);
            assert_eq!(arena.buffer_generation(), generation, "no needless growth");
            assert_eq!(arena.stats().growth_count, 0);
            assert_eq!(arena.read(filler).unwrap(), vec![7; 2596]);
        }
    });
}

#[test]
fn growth_factor_one_reaches_a_size_that_fits() {
    on_every_adapter(|gpu| {
        let (arena, filler) = tail_behind_holes(gpu, 1 << 20, 1.0);
        arena.alloc(140).expect("fits without growth");
        // Now nothing is free but the holes: a request larger than all of them grows
        // the buffer exactly as far as it needs, once.
        let big = arena.alloc(1000).expect("growth reaches a fit");
        let stats = arena.stats();
        assert_eq!(stats.growth_count, 1, "{stats}");
        assert_eq!(stats.capacity, 4096 + 1000, "{stats}");
        assert_eq!(arena.range(big).unwrap().offset, 4096);
        assert_eq!(arena.read(filler).unwrap(), vec![7; 2596]);
    });
}

#[test]
fn growth_copies_only_the_used_prefix() {
    on_every_adapter(|gpu| {
        let arena = arena(
            gpu,
            ArenaDescriptor {
                initial_size: 1 << 20,
                ..Default::default()
            },
        );
        let kept = arena.alloc_slice(&[3u8; 100]).unwrap();
        arena.alloc(2 << 20).unwrap();
        let stats = arena.stats();
        assert_eq!(stats.growth_count, 1);
        assert_eq!(
            stats.growth_bytes_copied, 100,
            "not the whole 1 MiB: {stats}"
        );
        assert_eq!(arena.read(kept).unwrap(), [3; 100]);
    });
}

#[test]
fn an_arena_fills_to_the_device_buffer_limit_refuses_cleanly_and_keeps_every_byte() {
    on_every_adapter(|gpu| {
        let small = small_device(gpu);
        let arena = arena(
            &small,
            ArenaDescriptor {
                label: Some("fill"),
                initial_size: 4096,
                ..Default::default()
            },
        );
        let mut rng = Rng(31);
        let mut stored = Vec::new();
        let err = loop {
            let len = 4 * (1 + rng.below(2000) as usize);
            let data = rng.bytes(len);
            match arena.alloc_slice(&data) {
                Ok(h) => stored.push((h, data)),
                Err(e) => break e,
            }
        };
        match &err {
            ArenaError::OutOfSpace {
                label,
                capacity,
                max_size,
                limit,
                ..
            } => {
                assert_eq!(label, "fill");
                assert_eq!((*capacity, *max_size), (1 << 20, 1 << 20));
                assert_eq!(*limit, Limit::MaxBufferSize);
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(err.to_string().contains("max_buffer_size"), "{err}");
        let all = arena.read_all().unwrap();
        for (h, data) in &stored {
            let r = arena.range(*h).unwrap();
            assert_eq!(&all[r.offset as usize..][..data.len()], data.as_slice());
        }
        assert!(matches!(
            arena.alloc(2 << 20),
            Err(ArenaError::OverLimit {
                what: Limit::MaxBufferSize,
                limit: 1048576,
                ..
            })
        ));
    });
}

#[test]
fn over_limit_names_the_limit_that_applies_with_its_value() {
    on_every_adapter(|gpu| {
        let small = small_device(gpu);
        let capped = arena(
            &small,
            ArenaDescriptor {
                max_size: 8192,
                ..ArenaDescriptor {
                    initial_size: 4096,
                    ..Default::default()
                }
            },
        );
        assert!(matches!(
            capped.alloc(10_000),
            Err(ArenaError::OverLimit {
                what: Limit::MaxSize,
                limit: 8192,
                ..
            })
        ));
        let uncapped = arena(
            &small,
            ArenaDescriptor {
                initial_size: 4096,
                ..Default::default()
            },
        );
        assert!(matches!(
            uncapped.alloc(10 << 20),
            Err(ArenaError::OverLimit {
                what: Limit::MaxBufferSize,
                limit: 1048576,
                ..
            })
        ));
        let too_big = Arena::new(
            &small.device,
            &small.queue,
            &ArenaDescriptor {
                initial_size: 2 << 20,
                ..Default::default()
            },
        );
        assert!(matches!(
            too_big,
            Err(ArenaError::OverLimit {
                what: Limit::MaxBufferSize,
                ..
            })
        ));
    });
}

#[test]
fn bindable_ranges_never_exceed_the_storage_binding_size() {
    on_every_adapter(|gpu| {
        let small = small_device(gpu);
        let arena = arena(
            &small,
            ArenaDescriptor {
                label: Some("storage"),
                usage: wgpu::BufferUsages::STORAGE,
                initial_size: 256 << 10,
                ..Default::default()
            },
        );
        let err = arena.alloc_bindable((64 << 10) + 4).unwrap_err();
        assert_eq!(
            err,
            ArenaError::OverLimit {
                label: "storage".into(),
                requested: (64 << 10) + 4,
                limit: 64 << 10,
                what: Limit::MaxStorageBufferBindingSize,
            }
        );
        assert_eq!(arena.stats().live_allocations, 0, "nothing allocated");
        // A plain allocation may be larger, but cannot be handed out for binding.
        let large = arena.alloc(128 << 10).unwrap();
        assert!(matches!(
            arena.binding(large),
            Err(ArenaError::OverLimit {
                what: Limit::MaxStorageBufferBindingSize,
                ..
            })
        ));
        // At the limit it binds, and a compute pass can use it.
        let exact = arena.alloc_bindable(64 << 10).unwrap();
        let slice = arena.binding(exact).unwrap();
        assert_eq!(slice.range.size, 64 << 10);
    });
}

#[test]
fn a_buffer_bound_whole_is_capped_at_the_binding_size() {
    on_every_adapter(|gpu| {
        let small = small_device(gpu);
        let whole = arena(
            &small,
            ArenaDescriptor {
                usage: wgpu::BufferUsages::STORAGE,
                initial_size: 4096,
                bound_whole: true,
                ..Default::default()
            },
        );
        let mut kept = Vec::new();
        let err = loop {
            match whole.alloc(8192) {
                Ok(h) => kept.push(h),
                Err(e) => break e,
            }
        };
        assert!(
            matches!(
                err,
                ArenaError::OutOfSpace {
                    max_size: 65536,
                    limit: Limit::MaxStorageBufferBindingSize,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(whole.buffer().size(), 64 << 10);
        assert_eq!(kept.len(), 8);
    });
}

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
        let list: Vec<_> = meshes[..50]
            .iter()
            .map(|m| (&m.vertices[..], &m.indices[..]))
            .collect();
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
        let list: Vec<_> = meshes[..count / 2]
            .iter()
            .map(|m| (&m.vertices[..], &m.indices[..]))
            .collect();
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

#[test]
fn pool_handle_errors_name_the_pool_and_its_kind() {
    on_every_adapter(|gpu| {
        let desc = |label| MeshPoolDescriptor {
            label: Some(label),
            ..Default::default()
        };
        let one: MeshPool<ColorVertex, u32> =
            MeshPool::new(&gpu.device, &gpu.queue, &desc("one")).unwrap();
        let two: MeshPool<ColorVertex, u32> =
            MeshPool::new(&gpu.device, &gpu.queue, &desc("two")).unwrap();
        let m = &scene::generate_meshes(1, 1)[0];
        let a = one.insert(&m.vertices, &m.indices).unwrap();
        match two.draw_args(a) {
            Err(ArenaError::ForeignHandle {
                label,
                handle,
                kind,
                ..
            }) => {
                assert_eq!(label, "two");
                assert_eq!(
                    (handle.kind, kind),
                    (HandleKind::MeshPool, HandleKind::MeshPool)
                );
            }
            other => panic!("unexpected {other:?}"),
        }
        one.remove(a).unwrap();
        let err = one.remove(a).unwrap_err();
        assert!(
            matches!(&err, ArenaError::StaleHandle { handle, .. } if handle.kind == HandleKind::MeshPool)
        );
        let text = err.to_string();
        assert!(text.starts_with("one: stale handle mesh pool #"), "{text}");
        assert!(!text.contains("arena"), "{text}");
    });
}

#[test]
fn out_of_space_counts_bytes_waiting_in_deferred_frees() {
    on_every_adapter(|gpu| {
        let arena = arena(
            gpu,
            ArenaDescriptor {
                initial_size: 4096,
                max_size: 4096,
                ..Default::default()
            },
        );
        let a = arena.alloc(2048).unwrap();
        let _b = arena.alloc(2048).unwrap();
        arena.free_deferred(a).unwrap();
        match arena.alloc(1024) {
            Err(ArenaError::OutOfSpace { pending_free, .. }) => assert_eq!(pending_free, 2048),
            other => panic!("unexpected {other:?}"),
        }
        let text = arena.alloc(1024).unwrap_err().to_string();
        assert!(text.contains("2048 bytes of deferred frees"), "{text}");
    });
}

#[test]
fn zero_alignment_has_its_own_error() {
    on_every_adapter(|gpu| {
        let arena = arena(gpu, ArenaDescriptor::default());
        assert_eq!(arena.alloc_aligned(4, 0), Err(ArenaError::ZeroAlignment));
        let desc = ArenaDescriptor {
            min_alignment: 0,
            ..Default::default()
        };
        assert!(matches!(
            Arena::new(&gpu.device, &gpu.queue, &desc),
            Err(ArenaError::ZeroAlignment)
        ));
    });
}

#[test]
fn mappable_usages_are_refused_before_the_device_sees_them() {
    on_every_adapter(|gpu| {
        for usage in [wgpu::BufferUsages::MAP_READ, wgpu::BufferUsages::MAP_WRITE] {
            let desc = ArenaDescriptor {
                usage: usage | wgpu::BufferUsages::VERTEX,
                ..Default::default()
            };
            assert!(matches!(
                Arena::new(&gpu.device, &gpu.queue, &desc),
                Err(ArenaError::InvalidDescriptor { .. })
            ));
        }
    });
}

#[test]
fn a_device_out_of_memory_during_growth_is_a_typed_error_and_changes_nothing() {
    // The growth runs in a process of its own whose address space is limited, so
    // the larger buffer cannot be had (see tests/support/oom_probe.rs).
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_oom-probe"))
        .output()
        .expect("run the out-of-memory probe");
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    eprintln!("{text}");
    assert!(output.status.success(), "{text}");
    assert!(text.contains("  ok      growth out of memory"), "{text}");
}
