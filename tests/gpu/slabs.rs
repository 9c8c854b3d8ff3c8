//! Pools past one buffer: on a device with 1 MiB buffers, mesh pools spread over many
//! slabs, give large meshes their own, report displaced meshes, compact per slab and
//! drop emptied slabs, and draw pixel-identical to one buffer per mesh.

use bytemuck::{Pod, Zeroable};
use gpu_arena::headless::Headless;
use gpu_arena::mesh_pool::{DrawPath, MeshHandle, MeshPool, MeshPoolDescriptor};
use gpu_suballoc::readback::differing_pixels;
use gpu_suballoc::scene::{self, ColorVertex, Mesh, Renderer};
use gpu_suballoc::{Rng, on_every_adapter};

use crate::limits::small_device;

/// A `ColorVertex` padded to 96 bytes, so that megabytes of meshes stay few meshes.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
struct FatVertex {
    base: ColorVertex,
    pad: [f32; 18],
}

const STRIDE: u64 = size_of::<FatVertex>() as u64;

fn fat(mesh: &Mesh) -> Vec<FatVertex> {
    mesh.vertices
        .iter()
        .map(|v| FatVertex {
            base: *v,
            pad: [0.25; 18],
        })
        .collect()
}

/// `count` meshes and their fat vertices.
fn scene_of(count: usize, seed: u64) -> (Vec<Mesh>, Vec<Vec<FatVertex>>) {
    let meshes = scene::generate_meshes(count, seed);
    let fat = meshes.iter().map(fat).collect();
    (meshes, fat)
}

fn pool(gpu: &Headless, desc: MeshPoolDescriptor<'_>) -> MeshPool<FatVertex, u32> {
    MeshPool::new(&gpu.device, &gpu.queue, &desc).expect("pool")
}

/// The pool's picture and the same meshes drawn from one buffer each.
fn pictures(
    gpu: &Headless,
    pool: &MeshPool<FatVertex, u32>,
    live: &[usize],
    meshes: &[Mesh],
    fat: &[Vec<FatVertex>],
) -> (Vec<u8>, Vec<u8>) {
    let renderer = Renderer::with_vertex_stride(&gpu.device, 256, 256, STRIDE);
    pool.commit_now().unwrap();
    renderer.render(&gpu.device, &gpu.queue, |pass| pool.draw(pass, 0).unwrap());
    let pooled = renderer.read_pixels(&gpu.device, &gpu.queue);
    let reference = renderer.render_per_mesh_buffers(
        &gpu.device,
        &gpu.queue,
        live.iter().map(|&k| (&fat[k][..], &meshes[k].indices[..])),
    );
    (pooled, reference)
}

#[test]
fn twenty_mib_of_meshes_in_many_slabs_draw_pixel_identical_to_one_buffer_per_mesh() {
    on_every_adapter(|gpu| {
        let small = small_device(gpu);
        let (meshes, fat) = scene_of(5200, 17);
        let bytes: usize = meshes
            .iter()
            .zip(&fat)
            .map(|(m, f)| size_of_val(&f[..]) + size_of_val(&m.indices[..]))
            .sum();
        assert!(bytes >= 20 << 20, "{bytes} bytes of meshes");
        let pool = pool(
            &small,
            MeshPoolDescriptor {
                draw: DrawPath::for_adapter(&small.adapter),
                ..Default::default()
            },
        );
        let list: Vec<_> = meshes
            .iter()
            .zip(&fat)
            .map(|(m, f)| (&f[..], &m.indices[..]))
            .collect();
        // Half one by one, half in one batch: both spill into new slabs.
        let half = list.len() / 2;
        for (v, i) in &list[..half] {
            pool.insert(v, i).unwrap();
        }
        pool.insert_batch(&list[half..]).unwrap();
        pool.commit_now().unwrap();
        let stats = pool.stats();
        assert!(stats.slabs as u64 >= stats.vertex_bytes >> 20, "{stats:?}");
        for slab in pool.slabs().unwrap() {
            assert!(slab.vertex_buffer.size() <= 1 << 20);
            assert!(slab.index_buffer.size() <= 1 << 20);
        }
        let renderer = Renderer::with_vertex_stride(&small.device, 16, 16, STRIDE);
        pool.commit_now().unwrap();
        let calls = renderer.render(&small.device, &small.queue, |pass| {
            pool.draw(pass, 0).unwrap()
        });
        if pool.uses_indirect() {
            assert_eq!(calls as usize, stats.slabs, "one indirect call per slab");
        }
        let all: Vec<usize> = (0..meshes.len()).collect();
        let (pooled, reference) = pictures(&small, &pool, &all, &meshes, &fat);
        assert!(
            reference.chunks(4).any(|p| p[0] > 40),
            "not an empty picture"
        );
        assert_eq!(differing_pixels(&pooled, &reference), 0);
    });
}

#[test]
fn churn_across_slabs_with_compaction_keeps_every_mesh() {
    on_every_adapter(|gpu| {
        let small = small_device(gpu);
        let (meshes, fat) = scene_of(600, 23);
        let pool = pool(
            &small,
            MeshPoolDescriptor {
                initial_vertex_bytes: 64 << 10,
                initial_index_bytes: 16 << 10,
                max_slab_bytes: 256 << 10,
                ..Default::default()
            },
        );
        let mut rng = Rng(3);
        let mut live: Vec<(MeshHandle, usize)> = Vec::new();
        let mut dropped = 0;
        for round in 0..6 {
            for _ in 0..400 {
                if live.is_empty() || rng.below(100) < 60 {
                    let k = rng.below(meshes.len() as u64) as usize;
                    live.push((pool.insert(&fat[k], &meshes[k].indices).unwrap(), k));
                } else {
                    let (h, _) = live.swap_remove(rng.below(live.len() as u64) as usize);
                    pool.remove(h).unwrap();
                }
            }
            // Thin the pool out, then compact: slabs empty into each other.
            if round % 2 == 1 {
                live.retain(|(h, _)| rng.below(3) != 0 || pool.remove(*h).is_err());
            }
            let report = pool.compact(None).unwrap();
            assert!(report.complete, "{report:?}");
            dropped += report.slabs_dropped;
            for (h, k) in &live {
                let (v, i) = pool.read_mesh(*h).unwrap();
                assert_eq!(v, fat[*k], "round {round}");
                assert_eq!(i, meshes[*k].indices, "round {round}");
            }
        }
        assert!(dropped > 0, "compaction emptied and dropped slabs");
        let order: Vec<usize> = live.iter().map(|(_, k)| *k).collect();
        let (pooled, reference) = pictures(&small, &pool, &order, &meshes, &fat);
        assert_eq!(differing_pixels(&pooled, &reference), 0);
    });
}

#[test]
fn a_large_mesh_gets_a_slab_of_its_own_which_goes_with_it() {
    on_every_adapter(|gpu| {
        let pool = pool(
            gpu,
            MeshPoolDescriptor {
                dedicated_bytes: 64 << 10,
                ..Default::default()
            },
        );
        let (meshes, fat) = scene_of(4, 2);
        let small = pool.insert(&fat[0], &meshes[0].indices).unwrap();
        let big_vertices: Vec<FatVertex> = fat[1].iter().cycle().take(1000).copied().collect();
        let big = pool.insert(&big_vertices, &meshes[1].indices).unwrap();
        let stats = pool.stats();
        assert_eq!((stats.slabs, stats.dedicated_slabs), (2, 1));
        let (d_small, d_big) = (pool.draw_args(small).unwrap(), pool.draw_args(big).unwrap());
        assert_ne!(d_small.slab, d_big.slab);
        assert_eq!((d_big.args.base_vertex, d_big.args.first_index), (0, 0));
        assert_eq!(pool.read_mesh(big).unwrap().0, big_vertices);
        pool.remove(big).unwrap();
        assert_eq!(
            pool.stats().slabs,
            1,
            "the dedicated slab went with its mesh"
        );
    });
}

#[test]
fn displaced_meshes_are_those_whose_slab_changed() {
    on_every_adapter(|gpu| {
        let small = small_device(gpu);
        let (meshes, fat) = scene_of(400, 31);
        let pool = pool(
            &small,
            MeshPoolDescriptor {
                initial_vertex_bytes: 4 << 10,
                initial_index_bytes: 4 << 10,
                max_slab_bytes: 64 << 10,
                ..Default::default()
            },
        );
        let first = pool.insert(&fat[0], &meshes[0].indices).unwrap();
        // Committed, slab 0 grows when full (a slab written in place and not yet
        // committed would be followed by a new one instead).
        pool.commit_now().unwrap();
        let g1 = pool.generation();
        let mut later = Vec::new();
        let mut k = 1;
        while pool.stats().slabs < 3 {
            later.push(pool.insert(&fat[k], &meshes[k].indices).unwrap());
            k += 1;
        }
        pool.commit_now().unwrap(); // growth lands with the commit
        let displaced = pool.displaced_since(g1);
        assert!(displaced.contains(&first), "slab 0 grew after g1");
        assert!(
            later.iter().all(|h| !displaced.contains(h)),
            "meshes inserted after g1 were not displaced"
        );
        // A mesh into the newest slab, without growth, displaces nothing.
        let g2 = pool.generation();
        let tri = [FatVertex {
            base: ColorVertex {
                position: [0.0; 3],
                color: [1.0; 3],
            },
            pad: [0.0; 18],
        }; 3];
        pool.commit_now().unwrap();
        let before = pool.slabs().unwrap();
        pool.insert(&tri, &[0, 1, 2]).unwrap();
        pool.commit_now().unwrap();
        let grown = pool
            .slabs()
            .unwrap()
            .iter()
            .zip(&before)
            .any(|(a, b)| a.vertex_buffer.size() != b.vertex_buffer.size());
        if !grown {
            assert!(pool.displaced_since(g2).is_empty());
        }
        // Compaction of a thinned slab displaces what it moves.
        for h in later.iter().step_by(2) {
            pool.remove(*h).unwrap();
        }
        let g3 = pool.generation();
        let report = pool.compact(None).unwrap();
        assert!(report.meshes_moved > 0);
        assert!(pool.displaced_since(g3).len() >= report.meshes_moved);
    });
}
