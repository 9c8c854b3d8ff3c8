//! GPU-driven drawing: objects (a mesh, per-object data, bounds) culled by
//! `crates/gpu-arena/shaders/cull.wgsl` into compacted draw arguments and drawn with one indirect
//! multi-draw per slab, on every path the device offers (counted, zero-instance,
//! CPU); checked against a CPU frustum test and against CPU culling with per-mesh
//! buffers, pixel for pixel.

use gpu_arena::ArenaError;
use gpu_arena::headless::{DeviceLimits, Headless, HeadlessDescriptor};
use gpu_arena::mesh_pool::{MeshHandle, MeshPool, MeshPoolDescriptor};
use gpu_arena::objects::{
    Bounds, CullPath, Frustum, ObjectHandle, ObjectPool, ObjectPoolDescriptor,
};
use gpu_suballoc::on_every_adapter;
use gpu_suballoc::readback::differing_pixels;
use gpu_suballoc::shapes::{self, Mesh3, Vertex3};
use gpu_suballoc::world::{self, Camera, CpuCulled, ObjectData, Placed, Renderer3d};

const FIELD: f32 = 120.0;

/// A scene: its meshes in a pool, its objects in an object pool on `path`.
struct Scene {
    meshes: Vec<Mesh3>,
    placed: Vec<Placed>,
    pool: MeshPool<Vertex3, u32>,
    handles: Vec<MeshHandle>,
    objects: ObjectPool<ObjectData>,
    ids: Vec<ObjectHandle>,
}

fn scene(gpu: &Headless, path: CullPath, meshes: usize, objects: usize, seed: u64) -> Scene {
    let meshes = shapes::generate(meshes, seed);
    let placed = world::scatter(&meshes, objects, FIELD, seed + 1);
    let pool = MeshPool::new(
        &gpu.device,
        &gpu.queue,
        &MeshPoolDescriptor {
            label: Some("objects test meshes"),
            // Small slabs: the scene spans several, so draws are per slab.
            max_slab_bytes: 256 << 10,
            ..Default::default()
        },
    )
    .unwrap();
    let handles: Vec<_> = meshes
        .iter()
        .map(|m| pool.insert(&m.vertices, &m.indices).unwrap())
        .collect();
    pool.commit_now().unwrap();
    let pool_objects = ObjectPool::new(
        &gpu.device,
        &gpu.queue,
        &ObjectPoolDescriptor {
            label: Some("objects test"),
            capacity: 64,
            path,
        },
    )
    .unwrap();
    let ids = placed
        .iter()
        .map(|p| {
            pool_objects
                .insert(&pool, handles[p.mesh], p.bounds, p.data)
                .unwrap()
        })
        .collect();
    Scene {
        meshes,
        placed,
        pool,
        handles,
        objects: pool_objects,
        ids,
    }
}

/// Every path `gpu` can run, the best first.
fn paths(gpu: &Headless) -> Vec<CullPath> {
    let best = CullPath::for_device(&gpu.device, &gpu.adapter);
    let mut paths = vec![best, best.without_count(), CullPath::Cpu];
    paths.dedup();
    paths
}

fn camera(aspect: f32) -> Camera {
    Camera::over_field(FIELD, aspect)
}

/// Objects a CPU frustum test keeps, and those too close to a plane to call.
fn cpu_visible(scene: &Scene, frustum: &Frustum) -> (Vec<ObjectHandle>, Vec<ObjectHandle>) {
    let mut clear = Vec::new();
    let mut close = Vec::new();
    for (p, id) in scene.placed.iter().zip(&scene.ids) {
        let margin = frustum.margin(&p.bounds);
        if margin.abs() < 1e-3 {
            close.push(*id);
        } else if margin > 0.0 {
            clear.push(*id);
        }
    }
    (clear, close)
}

fn cull(gpu: &Headless, scene: &Scene, frustum: &Frustum) -> Vec<ObjectHandle> {
    let mut encoder = gpu.device.create_command_encoder(&Default::default());
    scene
        .objects
        .cull(&mut encoder, &scene.pool, frustum)
        .unwrap();
    gpu.queue.submit([encoder.finish()]);
    scene.objects.read_visible().unwrap()
}

fn assert_same_set(found: &[ObjectHandle], clear: &[ObjectHandle], close: &[ObjectHandle]) {
    let mut found: Vec<_> = found
        .iter()
        .filter(|h| !close.contains(h))
        .copied()
        .collect();
    let mut clear = clear.to_vec();
    found.sort_by_key(|h| h.id().slot);
    clear.sort_by_key(|h| h.id().slot);
    assert_eq!(found.len(), clear.len(), "visible counts differ");
    assert_eq!(found, clear);
}

#[test]
fn the_visible_set_read_back_from_the_gpu_equals_a_cpu_frustum_test() {
    on_every_adapter(|gpu| {
        for path in paths(gpu) {
            let scene = scene(gpu, path, 40, 4000, 3);
            let frustum = camera(1.5).frustum();
            let (clear, close) = cpu_visible(&scene, &frustum);
            assert!(
                clear.len() > 100 && clear.len() < 3900,
                "the camera sees part of the field: {}",
                clear.len()
            );
            let found = cull(gpu, &scene, &frustum);
            assert_same_set(&found, &clear, &close);
        }
    });
}

/// Renders the scene GPU-driven (through the object pool) and with CPU culling and
/// per-mesh buffers; returns both pictures and the draw calls of each.
fn render_both(gpu: &Headless, scene: &Scene, skip: &[usize]) -> ((Vec<u8>, u32), (Vec<u8>, u32)) {
    let renderer = Renderer3d::new(&gpu.device, 160, 100);
    let camera = camera(1.6);
    let frustum = camera.frustum();
    let data = scene.objects.data_binding().unwrap();
    let group = renderer.bind_group(&gpu.device, data.binding());
    let mut encoder = gpu.device.create_command_encoder(&Default::default());
    scene
        .objects
        .cull(&mut encoder, &scene.pool, &frustum)
        .unwrap();
    let mut pooled_calls = 0;
    renderer.record(&gpu.queue, &mut encoder, &camera, &group, |pass| {
        pooled_calls = scene.objects.draw(pass, &scene.pool, 0).unwrap();
    });
    gpu.queue.submit([encoder.finish()]);
    let pooled = renderer.read_pixels(&gpu.device, &gpu.queue);

    let reference = CpuCulled::new(&gpu.device, &scene.meshes, &scene.placed);
    let group = renderer.bind_group(&gpu.device, reference.data.as_entire_buffer_binding());
    let mut encoder = gpu.device.create_command_encoder(&Default::default());
    let mut reference_calls = 0;
    renderer.record(&gpu.queue, &mut encoder, &camera, &group, |pass| {
        let kept: Vec<Placed> = scene
            .placed
            .iter()
            .enumerate()
            .map(|(k, p)| {
                let mut p = *p;
                if skip.contains(&k) {
                    p.bounds.center = [1e9; 3]; // outside every frustum
                }
                p
            })
            .collect();
        reference_calls = reference.draw(pass, &kept, &frustum);
    });
    gpu.queue.submit([encoder.finish()]);
    let expected = renderer.read_pixels(&gpu.device, &gpu.queue);
    ((pooled, pooled_calls), (expected, reference_calls))
}

#[test]
fn a_gpu_culled_render_is_pixel_identical_to_cpu_culling_with_per_mesh_buffers() {
    on_every_adapter(|gpu| {
        for path in paths(gpu) {
            let scene = scene(gpu, path, 30, 1500, 5);
            let ((pooled, calls), (expected, reference_calls)) = render_both(gpu, &scene, &[]);
            let sky = expected
                .chunks(4)
                .filter(|p| p[..3] == expected[..3])
                .count();
            assert!(sky < expected.len() / 4, "the picture shows objects");
            assert_eq!(differing_pixels(&pooled, &expected), 0, "{path:?}");
            let slabs = scene.pool.stats().slabs as u32;
            assert!(slabs >= 2, "the scene spans several slabs: {slabs}");
            if path.on_gpu() {
                assert!(
                    calls <= slabs,
                    "{calls} draw calls for {slabs} slabs ({path:?})"
                );
            } else {
                assert_eq!(calls, reference_calls, "one draw per visible object");
            }
        }
    });
}

#[test]
fn objects_follow_their_meshes_through_compaction_and_orphans_draw_nothing() {
    on_every_adapter(|gpu| {
        let path = CullPath::for_device(&gpu.device, &gpu.adapter);
        let scene = scene(gpu, path, 30, 1200, 7);
        // Remove every third mesh: its objects become orphans; the rest move.
        let removed: Vec<usize> = (0..scene.meshes.len()).step_by(3).collect();
        for &m in &removed {
            scene.pool.remove(scene.handles[m]).unwrap();
        }
        let compaction = scene.pool.compact(None).unwrap();
        assert!(compaction.meshes_moved > 0, "{compaction:?}");
        let orphans: Vec<usize> = scene
            .placed
            .iter()
            .enumerate()
            .filter(|(_, p)| removed.contains(&p.mesh))
            .map(|(k, _)| k)
            .collect();
        let mut encoder = gpu.device.create_command_encoder(&Default::default());
        let report = scene
            .objects
            .cull(&mut encoder, &scene.pool, &camera(1.6).frustum())
            .unwrap();
        gpu.queue.submit([encoder.finish()]);
        assert_eq!(report.orphans as usize, orphans.len());
        let ((pooled, _), (expected, _)) = render_both(gpu, &scene, &orphans);
        assert_eq!(differing_pixels(&pooled, &expected), 0);
    });
}

#[test]
fn removing_an_orphan_takes_it_out_of_the_orphan_count() {
    on_every_adapter(|gpu| {
        let meshes =
            MeshPool::<[f32; 3], u32>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
        let (a, b) = (
            meshes.insert(&[[0.0; 3]; 3], &[0, 1, 2]).unwrap(),
            meshes.insert(&[[1.0; 3]; 3], &[0, 1, 2]).unwrap(),
        );
        let objects = ObjectPool::<u32>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
        let at = Bounds::sphere([0.0, 0.0, 0.5], 0.1);
        let orphan = objects.insert(&meshes, a, at, 1).unwrap();
        objects.insert(&meshes, a, at, 2).unwrap();
        objects.insert(&meshes, b, at, 3).unwrap();
        meshes.remove(a).unwrap();
        let identity = Frustum::from_view_projection([
            [1.0, 0.0, 0.0, 0.0],
            [0.0, 1.0, 0.0, 0.0],
            [0.0, 0.0, 1.0, 0.0],
            [0.0, 0.0, 0.0, 1.0],
        ]);
        let cull = || {
            let mut encoder = gpu.device.create_command_encoder(&Default::default());
            let report = objects.cull(&mut encoder, &meshes, &identity).unwrap();
            gpu.queue.submit([encoder.finish()]);
            report
        };
        assert_eq!(cull().orphans, 2);
        objects.validate().unwrap();
        objects.remove(orphan).unwrap();
        objects.validate().unwrap();
        assert_eq!(cull().orphans, 1);
    });
}

#[test]
fn removed_objects_leave_the_others_their_data_and_their_visibility() {
    on_every_adapter(|gpu| {
        let path = CullPath::for_device(&gpu.device, &gpu.adapter);
        let mut scene = scene(gpu, path, 20, 600, 9);
        let mut k = 0;
        while k < scene.ids.len() {
            scene.objects.remove(scene.ids[k]).unwrap();
            scene.ids.remove(k);
            scene.placed.remove(k);
            k += 2;
        }
        for (id, p) in scene.ids.iter().zip(&scene.placed) {
            assert_eq!(scene.objects.data(*id).unwrap(), p.data);
        }
        let frustum = camera(1.5).frustum();
        let (clear, close) = cpu_visible(&scene, &frustum);
        assert_same_set(&cull(gpu, &scene, &frustum), &clear, &close);
    });
}

#[test]
fn drawing_after_a_change_without_a_new_cull_is_refused() {
    on_every_adapter(|gpu| {
        let path = CullPath::for_device(&gpu.device, &gpu.adapter);
        let scene = scene(gpu, path, 5, 20, 11);
        let renderer = Renderer3d::new(&gpu.device, 16, 16);
        let data = scene.objects.data_binding().unwrap();
        let group = renderer.bind_group(&gpu.device, data.binding());
        let camera = camera(1.0);
        let mut encoder = gpu.device.create_command_encoder(&Default::default());
        scene
            .objects
            .cull(&mut encoder, &scene.pool, &camera.frustum())
            .unwrap();
        scene
            .objects
            .set_bounds(scene.ids[0], Bounds::sphere([0.0; 3], 1.0))
            .unwrap();
        renderer.record(&gpu.queue, &mut encoder, &camera, &group, |pass| {
            let refused = scene.objects.draw(pass, &scene.pool, 0);
            assert!(
                matches!(refused, Err(ArenaError::NotCulled { changes: 1, .. })),
                "{refused:?}"
            );
        });
        gpu.queue.submit([encoder.finish()]);
    });
}

#[test]
fn objects_of_another_mesh_pool_and_bad_bounds_are_refused_and_change_nothing() {
    on_every_adapter(|gpu| {
        let scene = scene(gpu, CullPath::Cpu, 3, 10, 13);
        let other: MeshPool<Vertex3, u32> =
            MeshPool::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
        let m = &scene.meshes[0];
        let foreign = other.insert(&m.vertices, &m.indices).unwrap();
        let data = scene.placed[0].data;
        let refused = scene
            .objects
            .insert(&other, foreign, Bounds::sphere([0.0; 3], 1.0), data);
        assert!(
            matches!(refused, Err(ArenaError::ForeignHandle { .. })),
            "{refused:?}"
        );
        for bad in [
            Bounds::sphere([0.0; 3], -1.0),
            Bounds::sphere([f32::NAN, 0.0, 0.0], 1.0),
            Bounds::sphere([0.0; 3], f32::INFINITY),
        ] {
            let refused = scene
                .objects
                .insert(&scene.pool, scene.handles[0], bad, data);
            assert!(
                matches!(refused, Err(ArenaError::InvalidBounds { .. })),
                "{refused:?}"
            );
        }
        assert_eq!(scene.objects.len(), 10, "nothing was added");
    });
}

#[test]
fn culling_more_workgroups_than_one_dimension_holds_wraps_into_a_second() {
    on_every_adapter(|gpu| {
        let narrow = Headless::new(&HeadlessDescriptor {
            backends: Some(gpu.info.backend.into()),
            adapter_name: Some(gpu.info.name.clone()),
            limits: DeviceLimits::FromAdapter(|adapter| wgpu::Limits {
                max_compute_workgroups_per_dimension: 4,
                ..adapter.clone()
            }),
            label: "four workgroups per dimension",
            ..Default::default()
        })
        .unwrap();
        let path = CullPath::for_device(&narrow.device, &narrow.adapter);
        assert!(
            path.on_gpu(),
            "{} cannot cull on the GPU",
            narrow.describe()
        );
        // 700 objects need 11 workgroups of 64: 4 x 3 of them.
        let scene = scene(&narrow, path, 10, 700, 15);
        let frustum = camera(1.5).frustum();
        let (clear, close) = cpu_visible(&scene, &frustum);
        let mut encoder = narrow.device.create_command_encoder(&Default::default());
        let report = scene
            .objects
            .cull(&mut encoder, &scene.pool, &frustum)
            .unwrap();
        narrow.queue.submit([encoder.finish()]);
        assert_eq!(report.workgroups, 12);
        assert_same_set(&scene.objects.read_visible().unwrap(), &clear, &close);
    });
}
