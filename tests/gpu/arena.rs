//! GPU tests of `gpu-arena`: every test uploads data and reads it back from a real
//! adapter (lavapipe or llvmpipe on CI).

use std::collections::HashMap;

use bytemuck::{Pod, Zeroable};
use gpu_arena::headless::Headless;
use gpu_arena::{Arena, ArenaDescriptor, ArenaError, ArenaHandle};
use gpu_suballoc::{Rng, on_every_adapter};

/// An arena on `gpu` (the other arena test modules use it too).
pub(crate) fn arena(gpu: &Headless, desc: ArenaDescriptor<'_>) -> Arena {
    Arena::new(&gpu.device, &gpu.queue, &desc).expect("arena")
}

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
struct Vertex12 {
    position: [f32; 3],
}

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
struct Vertex20 {
    position: [f32; 3],
    uv: [f32; 2],
}

#[test]
fn typed_uploads_with_odd_strides_land_at_exact_element_offsets() {
    on_every_adapter(|gpu| {
        let arena = arena(
            gpu,
            ArenaDescriptor {
                label: Some("strides"),
                ..Default::default()
            },
        );
        let mut rng = Rng(1);
        let mut v12 = Vec::new();
        let mut v20 = Vec::new();
        let mut bytes = Vec::new();
        let mut shorts = Vec::new();
        for i in 0..60 {
            let n = 1 + rng.below(40) as usize;
            let a: Vec<Vertex12> = (0..n)
                .map(|k| Vertex12 {
                    position: [i as f32, k as f32, 0.5],
                })
                .collect();
            let b: Vec<Vertex20> = (0..n)
                .map(|k| Vertex20 {
                    position: [k as f32, i as f32, 1.0],
                    uv: [0.25, k as f32],
                })
                .collect();
            let c_len = 1 + rng.below(13) as usize;
            let c = rng.bytes(c_len); // odd byte lengths
            let d: Vec<u16> = (0..(1 + rng.below(9)))
                .map(|k| (k * 7 + i) as u16)
                .collect();
            v12.push((arena.alloc_slice(&a).unwrap(), a));
            v20.push((arena.alloc_slice(&b).unwrap(), b));
            bytes.push((arena.alloc_slice(&c).unwrap(), c));
            shorts.push((arena.alloc_slice(&d).unwrap(), d));
        }
        for (h, data) in &v12 {
            let e = arena.elements(*h).unwrap();
            assert_eq!(
                u64::from(e.first) * 12,
                arena.range(*h).unwrap().offset,
                "base_vertex is exact"
            );
            assert_eq!(e.count as usize, data.len());
            assert_eq!(&arena.read_slice(*h).unwrap(), data);
        }
        for (h, data) in &v20 {
            assert_eq!(
                u64::from(arena.elements(*h).unwrap().first) * 20,
                arena.range(*h).unwrap().offset
            );
            assert_eq!(&arena.read_slice(*h).unwrap(), data);
        }
        for (h, data) in &bytes {
            assert_eq!(&arena.read(*h).unwrap(), data);
        }
        for (h, data) in &shorts {
            assert_eq!(
                u64::from(arena.elements(*h).unwrap().first) * 2,
                arena.range(*h).unwrap().offset
            );
            assert_eq!(&arena.read_slice(*h).unwrap(), data);
        }
    });
}

#[test]
fn odd_length_padding_never_touches_neighbours() {
    on_every_adapter(|gpu| {
        let arena = arena(gpu, ArenaDescriptor::default());
        let left = arena.alloc_slice(&[0xAAu8; 8]).unwrap();
        let odd = arena.alloc(5).unwrap();
        let right = arena.alloc_slice(&[0xBBu8; 8]).unwrap();
        assert_eq!(
            arena.range(odd).unwrap().end(),
            arena.range(right).unwrap().offset,
            "packed tightly"
        );
        arena.write(odd, 0, &[1, 2, 3, 4, 5]).unwrap();
        arena.write(odd, 4, &[9]).unwrap(); // a 1-byte write at the end, padded inside
        assert_eq!(arena.read(left).unwrap(), [0xAA; 8]);
        assert_eq!(arena.read(odd).unwrap(), [1, 2, 3, 4, 9]);
        assert_eq!(arena.read(right).unwrap(), [0xBB; 8]);
    });
}

#[test]
fn odd_length_write_in_the_middle_is_refused() {
    on_every_adapter(|gpu| {
        let arena = arena(gpu, ArenaDescriptor::default());
        let h = arena.alloc_slice(&[7u8; 12]).unwrap();
        assert!(matches!(
            arena.write(h, 0, &[1, 2, 3]),
            Err(ArenaError::Misaligned {
                value: 3,
                required: 4,
                ..
            })
        ));
        assert!(matches!(
            arena.write(h, 2, &[1, 2, 3, 4]),
            Err(ArenaError::Misaligned { value: 2, .. })
        ));
        assert_eq!(
            arena.read(h).unwrap(),
            [7; 12],
            "refused writes change nothing"
        );
    });
}

#[test]
fn writes_out_of_bounds_are_refused() {
    on_every_adapter(|gpu| {
        let arena = arena(gpu, ArenaDescriptor::default());
        let a = arena.alloc_slice(&[1u32; 4]).unwrap();
        let b = arena.alloc_slice(&[2u32; 4]).unwrap();
        let err = arena.write(a.raw(), 12, &[0; 8]).unwrap_err();
        assert_eq!(
            err,
            ArenaError::OutOfBounds {
                label: arena.label().to_owned(),
                handle: a.raw().id(),
                offset: 12,
                len: 8,
                size: 16
            }
        );
        assert!(arena.write(a.raw(), u64::MAX - 3, &[0; 4]).is_err());
        assert_eq!(arena.read_slice(a).unwrap(), [1; 4]);
        assert_eq!(arena.read_slice(b).unwrap(), [2; 4]);
    });
}

#[test]
fn zero_sizes_are_refused() {
    on_every_adapter(|gpu| {
        let arena = arena(gpu, ArenaDescriptor::default());
        assert_eq!(arena.alloc(0), Err(ArenaError::ZeroSize));
        assert_eq!(
            arena.alloc_slice::<u32>(&[]).unwrap_err(),
            ArenaError::ZeroSize
        );
        let h = arena.alloc(4).unwrap();
        assert_eq!(arena.write(h, 0, &[]), Err(ArenaError::ZeroSize));
    });
}

#[test]
fn stale_double_and_foreign_frees_are_refused_without_damage() {
    on_every_adapter(|gpu| {
        let one = arena(gpu, ArenaDescriptor::default());
        let two = arena(gpu, ArenaDescriptor::default());
        let a = one.alloc_slice(&[1u32; 16]).unwrap();
        let b = two.alloc_slice(&[2u32; 16]).unwrap();
        assert!(matches!(two.free(a), Err(ArenaError::ForeignHandle { .. })));
        one.free(a).unwrap();
        assert!(matches!(one.free(a), Err(ArenaError::StaleHandle { .. })));
        let c = one.alloc_slice(&[3u32; 16]).unwrap(); // reuses a's slot and range
        assert_eq!(c.raw().clone(), c.raw());
        assert!(
            matches!(one.free(a), Err(ArenaError::StaleHandle { .. })),
            "stale handle cannot free the new tenant"
        );
        assert!(matches!(
            one.write(a.raw(), 0, &[0; 4]),
            Err(ArenaError::StaleHandle { .. })
        ));
        assert_eq!(one.read_slice(c).unwrap(), [3; 16]);
        assert_eq!(two.read_slice(b).unwrap(), [2; 16]);
    });
}

#[test]
fn too_many_allocations_is_a_typed_error() {
    on_every_adapter(|gpu| {
        let arena = arena(
            gpu,
            ArenaDescriptor {
                max_allocations: 3,
                ..Default::default()
            },
        );
        let _kept: Vec<_> = (0..3).map(|_| arena.alloc(4).unwrap()).collect();
        assert!(matches!(
            arena.alloc(4),
            Err(ArenaError::OverLimit {
                what: gpu_arena::Limit::MaxAllocations,
                limit: 3,
                ..
            })
        ));
    });
}

#[test]
fn invalid_descriptors_are_refused() {
    on_every_adapter(|gpu| {
        for desc in [
            ArenaDescriptor {
                initial_size: 0,
                ..Default::default()
            },
            ArenaDescriptor {
                growth_factor: 0.5,
                ..Default::default()
            },
            ArenaDescriptor {
                growth_factor: f32::NAN,
                ..Default::default()
            },
            ArenaDescriptor {
                max_allocations: 0,
                ..Default::default()
            },
        ] {
            assert!(
                matches!(
                    Arena::new(&gpu.device, &gpu.queue, &desc),
                    Err(ArenaError::InvalidDescriptor { .. })
                ),
                "{desc:?}"
            );
        }
    });
}

#[test]
fn concurrent_alloc_write_free_from_threads_reads_back_intact() {
    on_every_adapter(|gpu| {
        let arena = arena(
            gpu,
            ArenaDescriptor {
                label: Some("threads"),
                initial_size: 1024,
                ..Default::default()
            },
        );
        let results: Vec<Vec<(ArenaHandle, Vec<u8>)>> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..4u64)
                .map(|t| {
                    let arena = &arena;
                    s.spawn(move || {
                        let mut rng = Rng(100 + t);
                        let mut mine: Vec<(ArenaHandle, Vec<u8>)> = Vec::new();
                        for _ in 0..400 {
                            match rng.below(3) {
                                0 | 1 => {
                                    let len = 4 * (1 + rng.below(64) as usize);
                                    let data = rng.bytes(len);
                                    let h = arena.alloc(data.len() as u64).unwrap();
                                    arena.write(h, 0, &data).unwrap();
                                    mine.push((h, data));
                                }
                                _ if !mine.is_empty() => {
                                    let (h, _) =
                                        mine.swap_remove(rng.below(mine.len() as u64) as usize);
                                    arena.free(h).unwrap();
                                }
                                _ => {}
                            }
                        }
                        mine
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        let all = arena.read_all().unwrap();
        for (h, data) in results.iter().flatten() {
            let r = arena.range(*h).unwrap();
            assert_eq!(
                &all[r.offset as usize..(r.offset + r.len) as usize],
                data.as_slice()
            );
        }
        assert_eq!(
            arena.stats().live_allocations as usize,
            results.iter().map(Vec::len).sum::<usize>()
        );
    });
}

#[test]
fn randomized_churn_matches_a_cpu_shadow_byte_for_byte() {
    on_every_adapter(|gpu| {
        let arena = arena(
            gpu,
            ArenaDescriptor {
                label: Some("churn"),
                initial_size: 4096,
                ..Default::default()
            },
        );
        let mut rng = Rng(0xC0FFEE);
        let mut shadow: HashMap<ArenaHandle, Vec<u8>> = HashMap::new();
        let mut handles: Vec<ArenaHandle> = Vec::new();
        for step in 0..4000 {
            match rng.below(10) {
                0..=4 => {
                    let len = 1 + rng.below(700) as usize;
                    let data = rng.bytes(len);
                    let h = if rng.below(2) == 0 {
                        arena.alloc_slice(&data).unwrap().raw()
                    } else {
                        let h = arena.alloc_aligned(len as u64, 1 + rng.below(24)).unwrap();
                        arena.write(h, 0, &data).unwrap();
                        h
                    };
                    handles.push(h);
                    shadow.insert(h, data);
                }
                5..=6 if !handles.is_empty() => {
                    let h = handles[rng.below(handles.len() as u64) as usize];
                    let data = shadow.get_mut(&h).unwrap();
                    let words = data.len() / 4;
                    if words > 0 {
                        let at = 4 * rng.below(words as u64) as usize;
                        let patch_len = 4 * (1 + rng.below(((words * 4 - at) / 4) as u64) as usize);
                        let patch = rng.bytes(patch_len);
                        data[at..at + patch.len()].copy_from_slice(&patch);
                        arena.write(h, at as u64, &patch).unwrap();
                    }
                }
                7..=9 if !handles.is_empty() => {
                    let h = handles.swap_remove(rng.below(handles.len() as u64) as usize);
                    shadow.remove(&h);
                    arena.free(h).unwrap();
                    assert!(arena.free(h).is_err(), "step {step}: double free refused");
                }
                _ => {}
            }
        }
        let stats = arena.stats();
        assert!(stats.growth_count > 0, "{stats}");
        let all = arena.read_all().unwrap();
        for (h, data) in &shadow {
            let r = arena.range(*h).unwrap();
            assert_eq!(
                &all[r.offset as usize..(r.offset + r.len) as usize],
                data.as_slice(),
                "{h:?}"
            );
        }
        for h in handles.iter().take(50) {
            assert_eq!(&arena.read(*h).unwrap(), &shadow[h]);
        }
    });
}

#[test]
fn stats_and_report_describe_the_arena() {
    on_every_adapter(|gpu| {
        let arena = arena(
            gpu,
            ArenaDescriptor {
                label: Some("report"),
                initial_size: 1024,
                ..Default::default()
            },
        );
        let a = arena.alloc(100).unwrap();
        let _b = arena.alloc(200).unwrap();
        arena.free(a).unwrap();
        let stats = arena.stats();
        assert_eq!(
            (
                stats.capacity,
                stats.used,
                stats.free,
                stats.live_allocations
            ),
            (1024, 200, 824, 1)
        );
        assert_eq!(stats.largest_free_region, 724);
        let text = format!("{stats}");
        assert!(text.contains("200 / 1024"), "{text}");
        assert!(format!("{arena:?}").contains("report"));
    });
}

#[test]
fn arenas_and_pools_can_be_shared_across_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<Arena>();
    shared::<gpu_arena::mesh_pool::MeshPool<Vertex12, u32>>();
    shared::<gpu_arena::bindless::BindlessPool>();
    // And the handles are small Copy values.
    assert!(size_of::<ArenaHandle>() <= 12);
}
