//! GPU tests of `MeshPool`: pictures drawn from the pool equal pictures drawn with one
//! buffer per mesh, and churn with growth keeps every mesh's data and draw correct.

mod common;

use std::collections::HashMap;

use common::{Rng, gpu, scene};
use gpu_arena::mesh_pool::{MeshHandle, MeshPool, MeshPoolDescriptor, supports_multi_draw};
use scene::{ColorVertex, Mesh, Renderer};
use wgpu::util::DeviceExt;

const SIZE: u32 = 192;

fn pool(desc: MeshPoolDescriptor<'_>) -> MeshPool<ColorVertex, u32> {
    let gpu = gpu();
    MeshPool::new(&gpu.device, &gpu.queue, &desc).expect("pool")
}

/// The reference: every mesh in its own vertex and index buffer, one draw each.
fn render_per_mesh_buffers(renderer: &Renderer, meshes: &[&Mesh]) -> Vec<u8> {
    let gpu = gpu();
    let buffers: Vec<_> = meshes
        .iter()
        .map(|m| {
            let v = gpu
                .device
                .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: None,
                    contents: bytemuck::cast_slice(&m.vertices),
                    usage: wgpu::BufferUsages::VERTEX,
                });
            let i = gpu
                .device
                .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: None,
                    contents: bytemuck::cast_slice(&m.indices),
                    usage: wgpu::BufferUsages::INDEX,
                });
            (v, i, m.indices.len() as u32)
        })
        .collect();
    renderer.render(&gpu.device, &gpu.queue, |pass| {
        for (v, i, n) in &buffers {
            pass.set_vertex_buffer(0, v.slice(..));
            pass.set_index_buffer(i.slice(..), wgpu::IndexFormat::Uint32);
            pass.draw_indexed(0..*n, 0, 0..1);
        }
        buffers.len() as u32
    });
    renderer.read_pixels(&gpu.device, &gpu.queue)
}

fn differing_pixels(a: &[u8], b: &[u8]) -> usize {
    a.chunks(4).zip(b.chunks(4)).filter(|(x, y)| x != y).count()
}

#[test]
fn pooled_indirect_draw_is_pixel_identical_to_one_buffer_per_mesh() {
    let gpu = gpu();
    let meshes = scene::generate_meshes(150, 42);
    let pool = pool(MeshPoolDescriptor {
        multi_draw: supports_multi_draw(&gpu.adapter),
        initial_vertex_bytes: 4096,
        ..Default::default()
    });
    for m in &meshes {
        pool.insert(&m.vertices, &m.indices).unwrap();
    }
    let renderer = Renderer::new(&gpu.device, SIZE, SIZE);
    let calls = renderer.render(&gpu.device, &gpu.queue, |pass| pool.draw(pass, 0));
    if pool.uses_multi_draw() {
        assert_eq!(calls, 1, "one indirect call draws the whole pool");
    }
    let pooled = renderer.read_pixels(&gpu.device, &gpu.queue);
    let reference = render_per_mesh_buffers(&renderer, &meshes.iter().collect::<Vec<_>>());
    assert!(
        reference.chunks(4).any(|p| p[0] > 40),
        "the reference picture is not empty"
    );
    assert_eq!(
        differing_pixels(&pooled, &reference),
        0,
        "tolerance: pixel-identical"
    );
}

#[test]
fn fallback_draw_each_is_pixel_identical_too() {
    let gpu = gpu();
    let meshes = scene::generate_meshes(60, 9);
    let pool = pool(MeshPoolDescriptor {
        multi_draw: false,
        ..Default::default()
    });
    for m in &meshes {
        pool.insert(&m.vertices, &m.indices).unwrap();
    }
    let renderer = Renderer::new(&gpu.device, SIZE, SIZE);
    assert_eq!(
        renderer.render(&gpu.device, &gpu.queue, |pass| pool.draw(pass, 0)),
        60
    );
    let pooled = renderer.read_pixels(&gpu.device, &gpu.queue);
    let reference = render_per_mesh_buffers(&renderer, &meshes.iter().collect::<Vec<_>>());
    assert_eq!(differing_pixels(&pooled, &reference), 0);
}

#[test]
fn mesh_churn_with_growth_keeps_data_args_and_picture_correct() {
    let gpu = gpu();
    let meshes = scene::generate_meshes(400, 5);
    let pool = pool(MeshPoolDescriptor {
        multi_draw: supports_multi_draw(&gpu.adapter),
        initial_vertex_bytes: 1024,
        initial_index_bytes: 512,
        initial_meshes: 16,
        ..Default::default()
    });
    let start = pool.generations();
    let mut rng = Rng(11);
    let mut live: Vec<(MeshHandle, usize)> = Vec::new();
    for step in 0..3000 {
        if live.is_empty() || rng.below(100) < 55 {
            let which = rng.below(meshes.len() as u64) as usize;
            let m = &meshes[which];
            live.push((pool.insert(&m.vertices, &m.indices).unwrap(), which));
        } else {
            let (h, _) = live.swap_remove(rng.below(live.len() as u64) as usize);
            pool.remove(h).unwrap();
            assert!(
                pool.remove(h).is_err(),
                "step {step}: stale mesh handle refused"
            );
        }
    }
    assert_eq!(pool.len(), live.len());
    let changed = pool.generations().changed_since(&start);
    assert!(
        changed.vertex && changed.index && changed.indirect,
        "growth reported: {changed:?}"
    );

    // Every remaining mesh's data reads back as its source, and its record points at it.
    let records = pool.read_records().unwrap();
    let by_args: HashMap<(u32, i32), u32> = records
        .iter()
        .map(|r| ((r.first_index, r.base_vertex), r.index_count))
        .collect();
    assert_eq!(
        records.len(),
        live.len(),
        "exactly the live meshes are in the table"
    );
    for (h, which) in &live {
        let (v, i) = pool.ranges(*h).unwrap();
        assert_eq!(
            pool.vertex_arena().read_slice(v).unwrap(),
            meshes[*which].vertices
        );
        assert_eq!(
            pool.index_arena().read_slice(i).unwrap(),
            meshes[*which].indices
        );
        let args = pool.draw_args(*h).unwrap();
        assert_eq!(
            args.base_vertex as u32,
            pool.vertex_arena().elements(v).unwrap().first
        );
        assert_eq!(
            args.first_index,
            pool.index_arena().elements(i).unwrap().first
        );
        assert_eq!(
            by_args.get(&(args.first_index, args.base_vertex)),
            Some(&args.index_count),
            "GPU record matches"
        );
    }

    // Drawing after churn shows exactly the live meshes (same order as the record table).
    let renderer = Renderer::new(&gpu.device, SIZE, SIZE);
    renderer.render(&gpu.device, &gpu.queue, |pass| pool.draw(pass, 0));
    let pooled = renderer.read_pixels(&gpu.device, &gpu.queue);
    let mut ordered: Vec<&Mesh> = Vec::new();
    let lookup: HashMap<(u32, i32), usize> = live
        .iter()
        .map(|(h, which)| {
            let a = pool.draw_args(*h).unwrap();
            ((a.first_index, a.base_vertex), *which)
        })
        .collect();
    for r in &records {
        ordered.push(&meshes[lookup[&(r.first_index, r.base_vertex)]]);
    }
    let reference = render_per_mesh_buffers(&renderer, &ordered);
    assert_eq!(differing_pixels(&pooled, &reference), 0);
}

#[test]
fn foreign_and_stale_mesh_handles_are_refused() {
    let one = pool(MeshPoolDescriptor::default());
    let two = pool(MeshPoolDescriptor::default());
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
    assert_eq!(one.draw_args(c).unwrap().index_count, 3);
    assert_eq!(two.draw_args(b).unwrap().index_count, 3);
}

#[test]
fn empty_meshes_are_refused_without_leaking() {
    let pool = pool(MeshPoolDescriptor::default());
    let tri = [ColorVertex {
        position: [0.0; 3],
        color: [1.0; 3],
    }; 3];
    assert!(pool.insert(&tri, &[]).is_err());
    assert!(pool.insert(&[], &[0, 1, 2]).is_err());
    assert_eq!(pool.vertex_arena().stats().live_allocations, 0);
    assert_eq!(pool.index_arena().stats().live_allocations, 0);
    assert!(pool.is_empty());
}
