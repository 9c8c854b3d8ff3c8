//! GPU tests of `MeshPoolDescriptor::rebase_indices`, the WebGL2 option: indices are
//! stored moved up by their mesh's first vertex, so every draw has base vertex 0.
//! Forced on the native adapters here; pictures must equal one buffer per mesh.

use gpu_arena::ArenaError;
use gpu_arena::headless::Headless;
use gpu_arena::mesh_pool::{DrawPath, IndexType, MeshHandle, MeshPool, MeshPoolDescriptor};
use gpu_suballoc::on_every_adapter;
use gpu_suballoc::readback::differing_pixels;
use gpu_suballoc::reference;
use gpu_suballoc::scene::{self, ColorVertex, Mesh, Renderer};

const SIZE: u32 = 192;

fn rebased<I: IndexType>(gpu: &Headless, desc: MeshPoolDescriptor<'_>) -> MeshPool<ColorVertex, I> {
    MeshPool::new(
        &gpu.device,
        &gpu.queue,
        &MeshPoolDescriptor {
            rebase_indices: true,
            ..desc
        },
    )
    .expect("pool")
}

/// Inserts every mesh (indices converted to `I`), commits; the handles.
fn fill<I: IndexType>(
    pool: &MeshPool<ColorVertex, I>,
    meshes: &[Mesh],
    convert: fn(u32) -> I,
) -> Vec<MeshHandle> {
    let handles = meshes
        .iter()
        .map(|m| {
            let indices: Vec<I> = m.indices.iter().map(|&i| convert(i)).collect();
            pool.insert(&m.vertices, &indices).unwrap()
        })
        .collect();
    pool.commit_now().unwrap();
    handles
}

/// The pool's picture and the one-buffer-per-mesh picture of `meshes`.
fn pictures<I: IndexType>(
    gpu: &Headless,
    pool: &MeshPool<ColorVertex, I>,
    meshes: &[Mesh],
) -> (Vec<u8>, Vec<u8>) {
    let renderer = Renderer::new(&gpu.device, SIZE, SIZE);
    let meshes: Vec<&Mesh> = meshes.iter().collect();
    pollster::block_on(reference::pool_and_reference(
        &gpu.device,
        &gpu.queue,
        &renderer,
        pool,
        &meshes,
    ))
    .unwrap()
}

#[test]
fn a_rebased_pool_draws_with_base_vertex_zero_and_the_same_picture() {
    on_every_adapter(|gpu| {
        let meshes = scene::generate_meshes(150, 42);
        for draw in [DrawPath::for_adapter(&gpu.adapter), DrawPath::PerMesh] {
            let pool = rebased::<u32>(
                gpu,
                MeshPoolDescriptor {
                    draw,
                    initial_vertex_bytes: 4096,
                    max_slab_bytes: 64 << 10,
                    ..Default::default()
                },
            );
            let handles = fill(&pool, &meshes, |i| i);
            assert!(pool.stats().slabs > 1, "several slabs");
            for h in &handles {
                assert_eq!(pool.draw_args(*h).unwrap().args.base_vertex, 0);
            }
            for slab in pool.slabs().unwrap() {
                assert!(
                    pool.read_records(slab.id)
                        .unwrap()
                        .iter()
                        .all(|r| r.base_vertex == 0)
                );
            }
            let (pooled, reference) = pictures(gpu, &pool, &meshes);
            assert!(
                reference.chunks(4).any(|p| p[0] > 40),
                "the reference picture is not empty"
            );
            assert_eq!(differing_pixels(&pooled, &reference), 0, "{draw:?}");
        }
    });
}

#[test]
fn rebased_indices_are_stored_moved_up_by_the_meshs_first_vertex() {
    on_every_adapter(|gpu| {
        let meshes = scene::generate_meshes(40, 5);
        let pool = rebased::<u32>(gpu, MeshPoolDescriptor::default());
        let handles = fill(&pool, &meshes, |i| i);
        let mut shifts = Vec::new();
        for (h, m) in handles.iter().zip(&meshes) {
            let (vertices, stored) = pool.read_mesh(*h).unwrap();
            assert_eq!(vertices, m.vertices);
            let shift = stored[0] - m.indices[0];
            assert!(
                stored.iter().zip(&m.indices).all(|(s, i)| s - i == shift),
                "every index moved by the same first vertex"
            );
            shifts.push(shift);
        }
        shifts.sort_unstable();
        shifts.dedup();
        assert_eq!(
            shifts.len(),
            meshes.len(),
            "each mesh has its own first vertex"
        );
    });
}

#[test]
fn insert_with_rebases_what_the_closure_writes() {
    on_every_adapter(|gpu| {
        let pool = rebased::<u16>(gpu, MeshPoolDescriptor::default());
        let v = ColorVertex {
            position: [0.0; 3],
            color: [1.0; 3],
        };
        pool.insert(&[v; 7], &[0, 1, 2]).unwrap();
        let second = pool
            .insert_with(3, 3, |mut vertices, mut indices| {
                vertices.write_iter([v; 3]);
                indices.write(0, 2);
                indices.write(1, 1);
                indices.write(2, 0);
            })
            .unwrap();
        let (_, stored) = pool.read_mesh(second).unwrap();
        let first = stored[2];
        assert!(
            first >= 7,
            "after the first mesh's seven vertices: {stored:?}"
        );
        assert_eq!(stored, [first + 2, first + 1, first]);
    });
}

#[test]
fn a_rebased_u16_pool_keeps_each_slab_below_65536_vertices() {
    on_every_adapter(|gpu| {
        let meshes = scene::generate_meshes(2500, 9);
        let total: usize = meshes.iter().map(|m| m.vertices.len()).sum();
        assert!(
            total > 1 << 16,
            "the meshes need more than one u16 slab ({total} vertices)"
        );
        let pool = rebased::<u16>(gpu, MeshPoolDescriptor::default());
        fill(&pool, &meshes, |i| u16::try_from(i).unwrap());
        let slabs = pool.slabs().unwrap();
        assert!(slabs.len() > 1, "{} slabs", slabs.len());
        for slab in &slabs {
            let vertices = slab.vertex_buffer.size() / size_of::<ColorVertex>() as u64;
            assert!(
                vertices <= 1 << 16,
                "slab {:?} holds {vertices} vertices",
                slab.id
            );
        }
        let (pooled, reference) = pictures(gpu, &pool, &meshes);
        assert_eq!(differing_pixels(&pooled, &reference), 0);
    });
}

#[test]
fn compaction_of_a_rebased_pool_is_refused_and_changes_nothing() {
    on_every_adapter(|gpu| {
        let meshes = scene::generate_meshes(30, 3);
        let pool = rebased::<u32>(gpu, MeshPoolDescriptor::default());
        let handles = fill(&pool, &meshes, |i| i);
        for h in handles.iter().step_by(2) {
            pool.remove(*h).unwrap();
        }
        let before = pool.stats();
        let err = pool.compact(None).unwrap_err();
        assert!(matches!(err, ArenaError::CompactionRefused { .. }), "{err}");
        assert!(err.to_string().contains("rebase"), "{err}");
        assert_eq!(pool.stats(), before);
        for (h, m) in handles.iter().zip(&meshes).skip(1).step_by(2) {
            assert_eq!(pool.read_mesh(*h).unwrap().0, m.vertices);
        }
    });
}
