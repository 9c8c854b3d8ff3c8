//! The edges: no false refusals, growth that always reaches a fit, binding limits as
//! part of the layout, devices opened with deliberately small limits, device errors
//! during growth, and errors that tell the truth. Pools at the device's limits are
//! in `limits_pools`.

use gpu_arena::headless::{DeviceLimits, Headless, HeadlessDescriptor};
use gpu_arena::mesh_pool::{MeshPool, MeshPoolDescriptor};
use gpu_arena::{Arena, ArenaDescriptor, ArenaError, ArenaHandle, HandleKind, Limit};
use gpu_suballoc::scene::{self, ColorVertex};
use gpu_suballoc::{Rng, on_every_adapter};

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
