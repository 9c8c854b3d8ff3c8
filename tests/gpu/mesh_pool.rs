//! GPU tests of `MeshPool`: pictures drawn from the pool equal pictures drawn with one
//! buffer per mesh, and churn with growth keeps every mesh's data and draw correct.

use std::collections::HashMap;

use gpu_arena::SlabId;
use gpu_arena::headless::Headless;
use gpu_arena::mesh_pool::{DrawPath, MeshHandle, MeshPool, MeshPoolDescriptor};
use gpu_suballoc::coverage;
use gpu_suballoc::readback::differing_pixels;
use gpu_suballoc::scene::{self, ColorVertex, Mesh, Renderer};
use gpu_suballoc::{Rng, on_every_adapter};

const SIZE: u32 = 192;

fn pool(gpu: &Headless, desc: MeshPoolDescriptor<'_>) -> MeshPool<ColorVertex, u32> {
    MeshPool::new(&gpu.device, &gpu.queue, &desc).expect("pool")
}

/// The reference picture: every mesh in its own vertex and index buffer.
fn render_per_mesh_buffers(gpu: &Headless, renderer: &Renderer, meshes: &[&Mesh]) -> Vec<u8> {
    renderer.render_per_mesh_buffers(&gpu.device, &gpu.queue, meshes.iter().map(|m| m.parts()))
}

#[test]
fn pooled_indirect_draw_is_pixel_identical_to_one_buffer_per_mesh() {
    on_every_adapter(|gpu| {
        let meshes = scene::generate_meshes(150, 42);
        let pool = pool(
            gpu,
            MeshPoolDescriptor {
                draw: DrawPath::for_adapter(&gpu.adapter),
                initial_vertex_bytes: 4096,
                ..Default::default()
            },
        );
        for m in &meshes {
            pool.insert(&m.vertices, &m.indices).unwrap();
        }
        let renderer = Renderer::new(&gpu.device, SIZE, SIZE);
        pool.commit_now().unwrap();
        let calls = renderer.render(&gpu.device, &gpu.queue, |pass| pool.draw(pass, 0).unwrap());
        if pool.uses_indirect() {
            assert_eq!(
                calls,
                pool.stats().slabs as u32,
                "one indirect call draws each slab"
            );
        }
        let pooled = renderer.read_pixels(&gpu.device, &gpu.queue);
        let reference = render_per_mesh_buffers(gpu, &renderer, &meshes.iter().collect::<Vec<_>>());
        assert!(
            reference.chunks(4).any(|p| p[0] > 40),
            "the reference picture is not empty"
        );
        assert_eq!(
            differing_pixels(&pooled, &reference),
            0,
            "tolerance: pixel-identical"
        );
        let cover = coverage::coverage(&meshes, SIZE, SIZE);
        let background = [pooled[0], pooled[1], pooled[2], pooled[3]];
        assert_eq!(
            cover[0],
            coverage::Cover::Outside,
            "the corner is background"
        );
        assert_eq!(
            coverage::disagreements(&pooled, &cover, background),
            (0, 0),
            "the CPU reference agrees on every pixel it decides"
        );
    });
}

#[test]
fn fallback_draw_each_is_pixel_identical_too() {
    on_every_adapter(|gpu| {
        let meshes = scene::generate_meshes(60, 9);
        let pool = pool(
            gpu,
            MeshPoolDescriptor {
                draw: DrawPath::PerMesh,
                ..Default::default()
            },
        );
        for m in &meshes {
            pool.insert(&m.vertices, &m.indices).unwrap();
        }
        let renderer = Renderer::new(&gpu.device, SIZE, SIZE);
        pool.commit_now().unwrap();
        assert_eq!(
            renderer.render(&gpu.device, &gpu.queue, |pass| pool.draw(pass, 0).unwrap()),
            60
        );
        let pooled = renderer.read_pixels(&gpu.device, &gpu.queue);
        let reference = render_per_mesh_buffers(gpu, &renderer, &meshes.iter().collect::<Vec<_>>());
        assert_eq!(differing_pixels(&pooled, &reference), 0);
    });
}

/// The live meshes in the order the pool draws them: slab by slab, record by record.
fn in_draw_order<'a>(
    pool: &MeshPool<ColorVertex, u32>,
    live: &[(MeshHandle, usize)],
    meshes: &'a [Mesh],
) -> Vec<&'a Mesh> {
    let rank: HashMap<SlabId, usize> = pool
        .slabs()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(k, s)| (s.id, k))
        .collect();
    let mut ordered: Vec<_> = live
        .iter()
        .map(|(h, which)| {
            let d = pool.draw_args(*h).unwrap();
            ((rank[&d.slab], d.record), *which)
        })
        .collect();
    ordered.sort_unstable();
    ordered
        .into_iter()
        .map(|(_, which)| &meshes[which])
        .collect()
}

/// Checks every live mesh's data, its record on the GPU, and the picture.
fn check_pool(
    gpu: &Headless,
    pool: &MeshPool<ColorVertex, u32>,
    live: &[(MeshHandle, usize)],
    meshes: &[Mesh],
) {
    pool.commit_now().unwrap();
    assert_eq!(pool.len(), live.len());
    let mut records: HashMap<SlabId, Vec<wgpu::util::DrawIndexedIndirectArgs>> = HashMap::new();
    for slab in pool.slabs().unwrap() {
        records.insert(slab.id, pool.read_records(slab.id).unwrap());
    }
    assert_eq!(
        records.values().map(Vec::len).sum::<usize>(),
        live.len(),
        "exactly the live meshes are in the tables"
    );
    for (h, which) in live {
        let (vertices, indices) = pool.read_mesh(*h).unwrap();
        assert_eq!(vertices, meshes[*which].vertices);
        assert_eq!(indices, meshes[*which].indices);
        let d = pool.draw_args(*h).unwrap();
        let gpu_record = records[&d.slab][d.record as usize];
        assert_eq!(
            (
                gpu_record.first_index,
                gpu_record.base_vertex,
                gpu_record.index_count
            ),
            (d.args.first_index, d.args.base_vertex, d.args.index_count),
            "the GPU record matches"
        );
    }
    let renderer = Renderer::new(&gpu.device, SIZE, SIZE);
    pool.commit_now().unwrap();
    renderer.render(&gpu.device, &gpu.queue, |pass| pool.draw(pass, 0).unwrap());
    let pooled = renderer.read_pixels(&gpu.device, &gpu.queue);
    let reference = render_per_mesh_buffers(gpu, &renderer, &in_draw_order(pool, live, meshes));
    assert_eq!(differing_pixels(&pooled, &reference), 0);
}

#[test]
fn mesh_churn_with_growth_keeps_data_args_and_picture_correct() {
    on_every_adapter(|gpu| {
        let meshes = scene::generate_meshes(400, 5);
        let pool = pool(
            gpu,
            MeshPoolDescriptor {
                draw: DrawPath::for_adapter(&gpu.adapter),
                initial_vertex_bytes: 1024,
                initial_index_bytes: 512,
                initial_meshes: 16,
                // One slab that grows (more slabs would follow a full slab instead).
                max_slabs: 1,
                ..Default::default()
            },
        );
        let first = pool
            .insert(&meshes[0].vertices, &meshes[0].indices)
            .unwrap();
        let start = pool.generation();
        let mut rng = Rng(11);
        let mut live: Vec<(MeshHandle, usize)> = vec![(first, 0)];
        for step in 0..3000 {
            if live.len() < 2 || rng.below(100) < 55 {
                let which = rng.below(meshes.len() as u64) as usize;
                let m = &meshes[which];
                live.push((pool.insert(&m.vertices, &m.indices).unwrap(), which));
            } else {
                let k = 1 + rng.below(live.len() as u64 - 1) as usize;
                let (h, _) = live.swap_remove(k);
                pool.remove(h).unwrap();
                assert!(
                    pool.remove(h).is_err(),
                    "step {step}: stale mesh handle refused"
                );
            }
        }
        assert!(
            pool.displaced_since(start).contains(&first),
            "growth displaced the first mesh"
        );
        check_pool(gpu, &pool, &live, &meshes);
    });
}

#[test]
fn foreign_and_stale_mesh_handles_are_refused() {
    on_every_adapter(|gpu| {
        let one = pool(gpu, MeshPoolDescriptor::default());
        let two = pool(gpu, MeshPoolDescriptor::default());
        let tri = [ColorVertex {
            position: [0.0; 3],
            color: [1.0; 3],
        }; 3];
        let a = one.insert(&tri, &[0, 1, 2]).unwrap();
        let b = two.insert(&tri, &[0, 1, 2]).unwrap();
        assert!(two.remove(a).is_err());
        assert!(two.draw_args(a).is_err());
        one.remove(a).unwrap();
        let c = one.insert(&tri, &[2, 1, 0]).unwrap();
        assert!(
            one.draw_args(a).is_err(),
            "stale handle does not see the new tenant"
        );
        assert_eq!(one.draw_args(c).unwrap().args.index_count, 3);
        assert_eq!(two.draw_args(b).unwrap().args.index_count, 3);
    });
}

#[test]
fn empty_meshes_are_refused_without_leaking() {
    on_every_adapter(|gpu| {
        let pool = pool(gpu, MeshPoolDescriptor::default());
        let tri = [ColorVertex {
            position: [0.0; 3],
            color: [1.0; 3],
        }; 3];
        assert!(pool.insert(&tri, &[]).is_err());
        assert!(pool.insert(&[], &[0, 1, 2]).is_err());
        let stats = pool.stats();
        assert_eq!(
            (stats.meshes, stats.vertex_bytes, stats.index_bytes),
            (0, 0, 0)
        );
    });
}

#[test]
fn insert_batch_matches_single_inserts() {
    on_every_adapter(|gpu| {
        let meshes = scene::generate_meshes(50, 3);
        let pool = pool(
            gpu,
            MeshPoolDescriptor {
                initial_vertex_bytes: 256,
                ..Default::default()
            },
        );
        let list: Vec<_> = meshes.iter().map(|m| m.parts()).collect();
        let handles = pool.insert_batch(&list).unwrap();
        let live: Vec<_> = handles.iter().copied().zip(0..).collect();
        check_pool(gpu, &pool, &live, &meshes);
        let empty: [ColorVertex; 0] = [];
        let used = pool.stats();
        assert!(
            pool.insert_batch(&[
                (&meshes[0].vertices[..], &meshes[0].indices[..]),
                (&empty[..], &[0u32][..])
            ])
            .is_err()
        );
        assert_eq!(pool.stats(), used, "a failed batch leaves nothing behind");
    });
}

#[test]
fn a_cleared_pool_refills_to_the_same_picture() {
    on_every_adapter(|gpu| {
        let meshes = scene::generate_meshes(80, 12);
        let list: Vec<_> = meshes.iter().map(|m| m.parts()).collect();
        let pool = pool(
            gpu,
            MeshPoolDescriptor {
                draw: DrawPath::for_adapter(&gpu.adapter),
                ..Default::default()
            },
        );
        let first = pool.insert_batch(&list).unwrap();
        let renderer = Renderer::new(&gpu.device, 128, 128);
        pool.commit_now().unwrap();
        renderer.render(&gpu.device, &gpu.queue, |pass| pool.draw(pass, 0).unwrap());
        let before = renderer.read_pixels(&gpu.device, &gpu.queue);
        pool.clear();
        assert!(pool.is_empty() && pool.draw_args(first[0]).is_err());
        assert_eq!(pool.stats().vertex_bytes, 0);
        pool.insert_batch(&list).unwrap();
        pool.commit_now().unwrap();
        renderer.render(&gpu.device, &gpu.queue, |pass| pool.draw(pass, 0).unwrap());
        assert!(renderer.read_pixels(&gpu.device, &gpu.queue) == before);
    });
}
