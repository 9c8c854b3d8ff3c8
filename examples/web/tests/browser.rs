//! The browser tests: gpu-arena compiled to wasm and run in headless Chromium through
//! WebGPU (`bash .ci/web test`), on devices opened with WebGPU's default limits, or
//! smaller ones. Every readback is awaited; nothing blocks. With no WebGPU adapter
//! every test fails with what the browser needs.
#![cfg(target_arch = "wasm32")]

use gpu_arena::bindless::{BindlessPool, BindlessPoolDescriptor};
use gpu_arena::headless::{DeviceLimits, Headless, HeadlessDescriptor};
use gpu_arena::mesh_pool::{DrawPath, MeshPool, MeshPoolDescriptor};
use gpu_arena::{Arena, ArenaDescriptor, TypedHandle};
use gpu_suballoc::coverage;
use gpu_suballoc::readback::differing_pixels;
use gpu_suballoc::reference;
use gpu_suballoc::scene::{self, ColorVertex, Renderer};
use gpu_suballoc::{Rng, bindless_walk};
use mesh_packing_web::Present;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// A WebGPU device with `limits`; fails (never skips) without an adapter.
async fn gpu(limits: DeviceLimits) -> Headless {
    match Headless::new_async(&HeadlessDescriptor {
        label: "browser test",
        limits,
        ..Default::default()
    })
    .await
    {
        Ok(gpu) => gpu,
        Err(e) => panic!("browser tests need a WebGPU adapter: {e}"),
    }
}

#[wasm_bindgen_test]
async fn the_browser_gives_a_webgpu_device_with_webgpu_default_limits() {
    let gpu = gpu(DeviceLimits::WebGpuDefault).await;
    assert_eq!(
        gpu.info.backend,
        wgpu::Backend::BrowserWebGpu,
        "{}",
        gpu.describe()
    );
    assert!(gpu.device.limits().max_buffer_size <= 256 << 20);
    assert!(gpu.device.limits().max_storage_buffer_binding_size <= 128 << 20);
}

#[wasm_bindgen_test]
async fn arena_data_round_trips_through_an_awaited_readback() {
    let gpu = gpu(DeviceLimits::WebGpuDefault).await;
    let arena = Arena::new(&gpu.device, &gpu.queue, &ArenaDescriptor::default()).unwrap();
    let data: Vec<u32> = (0..10_000).map(|i| i * 7).collect();
    let h = arena.alloc_slice(&data).unwrap();
    assert_eq!(arena.read_slice_async(h).await.unwrap(), data);
}

#[wasm_bindgen_test]
async fn a_growing_arena_keeps_every_allocation() {
    let gpu = gpu(DeviceLimits::WebGpuDefault).await;
    let arena = Arena::new(
        &gpu.device,
        &gpu.queue,
        &ArenaDescriptor {
            initial_size: 1024,
            ..Default::default()
        },
    )
    .unwrap();
    let first_buffer = arena.buffer_generation();
    let chunks: Vec<(TypedHandle<u32>, Vec<u32>)> = (0..64u32)
        .map(|k| {
            let data: Vec<u32> = (0..100 + k * 13).map(|i| i ^ (k << 16)).collect();
            (arena.alloc_slice(&data).unwrap(), data)
        })
        .collect();
    assert_ne!(arena.buffer_generation(), first_buffer, "the arena grew");
    for (h, data) in &chunks {
        assert_eq!(&arena.read_slice_async(*h).await.unwrap(), data);
    }
}

#[wasm_bindgen_test]
async fn a_compute_pass_over_a_bindless_pool_matches_the_cpu() {
    let gpu = gpu(DeviceLimits::WebGpuDefault).await;
    let pool = BindlessPool::new(
        &gpu.device,
        &gpu.queue,
        &BindlessPoolDescriptor {
            initial_data_bytes: 4096,
            max_slab_bytes: 64 << 10,
            ..Default::default()
        },
    )
    .unwrap();
    let mut rng = Rng(7);
    let mut live = Vec::new();
    for _ in 0..600 {
        let record: Vec<u32> = (0..1 + rng.below(60))
            .map(|_| rng.next_u64() as u32)
            .collect();
        live.push((pool.insert(&record).unwrap(), record));
    }
    for (id, _) in live.drain(..200) {
        pool.remove(id).unwrap();
    }
    assert!(pool.slabs().len() > 1, "the records span several slabs");
    let results = bindless_walk::run_async(&gpu.device, &gpu.queue, &pool)
        .await
        .unwrap();
    for (id, record) in &live {
        assert_eq!(results.of(*id), Some(bindless_walk::hash(record)));
        assert_eq!(&pool.read_async(*id).await.unwrap(), record);
    }
}

/// Draws 150 meshes from a pool and from one buffer per mesh; both pictures and the
/// pool's slab count.
async fn pooled_and_reference(
    gpu: &Headless,
    desc: MeshPoolDescriptor<'_>,
) -> (Vec<u8>, Vec<u8>, usize) {
    let meshes = scene::generate_meshes(150, 42);
    let pool = MeshPool::<ColorVertex, u32>::new(&gpu.device, &gpu.queue, &desc).unwrap();
    for m in &meshes {
        pool.insert(&m.vertices, &m.indices).unwrap();
    }
    let renderer = Renderer::new(&gpu.device, 192, 192);
    let all: Vec<&scene::Mesh> = meshes.iter().collect();
    let (pooled, expected) =
        reference::pool_and_reference(&gpu.device, &gpu.queue, &renderer, &pool, &all)
            .await
            .unwrap();
    (pooled, expected, pool.stats().slabs)
}

#[wasm_bindgen_test]
async fn a_mesh_pool_render_is_pixel_identical_to_one_buffer_per_mesh() {
    let gpu = gpu(DeviceLimits::WebGpuDefault).await;
    let (pooled, expected, _) = pooled_and_reference(
        &gpu,
        MeshPoolDescriptor {
            draw: DrawPath::for_adapter(&gpu.adapter),
            ..Default::default()
        },
    )
    .await;
    assert!(
        expected.chunks(4).any(|p| p[0] > 40),
        "the reference picture is not empty"
    );
    assert_eq!(differing_pixels(&pooled, &expected), 0);
    let cover = coverage::coverage(&scene::generate_meshes(150, 42), 192, 192);
    let background = [pooled[0], pooled[1], pooled[2], pooled[3]];
    assert_eq!(coverage::disagreements(&pooled, &cover, background), (0, 0));
}

#[wasm_bindgen_test]
async fn a_mesh_pool_split_into_small_slabs_draws_the_same_picture() {
    let gpu = gpu(DeviceLimits::WebGpuDefault).await;
    let (pooled, expected, slabs) = pooled_and_reference(
        &gpu,
        MeshPoolDescriptor {
            initial_vertex_bytes: 4096,
            initial_index_bytes: 4096,
            max_slab_bytes: 32 << 10,
            ..Default::default()
        },
    )
    .await;
    assert!(slabs > 2, "{slabs} slabs");
    assert_eq!(differing_pixels(&pooled, &expected), 0);
}

#[wasm_bindgen_test]
async fn the_page_draws_the_packed_scene_into_a_canvas_as_the_gpu_pictured_it() {
    let document = web_sys::window().unwrap().document().unwrap();
    let canvas: web_sys::HtmlCanvasElement = document
        .create_element("canvas")
        .unwrap()
        .dyn_into()
        .unwrap();
    canvas.set_width(320);
    canvas.set_height(180);
    document.body().unwrap().append_child(&canvas).unwrap();
    let report = mesh_packing_web::draw_into_canvas(canvas, 60, 3000, Present::Canvas2d)
        .await
        .unwrap();
    assert!(report.visible > 100 && report.visible < 3000, "{report:?}");
    assert!(report.drawn_pixels > 320 * 180 / 10, "{report:?}");
    assert_eq!(report.canvas_mismatch, 0, "{report:?}");
}

/// A device on the browser's WebGL2 (through wgpu's GL backend and a fresh canvas).
async fn webgl2() -> (wgpu::Adapter, wgpu::Device, wgpu::Queue) {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    desc.backends = wgpu::Backends::GL;
    let instance = wgpu::Instance::new(desc);
    let document = web_sys::window().unwrap().document().unwrap();
    let canvas: web_sys::HtmlCanvasElement = document
        .create_element("canvas")
        .unwrap()
        .dyn_into()
        .unwrap();
    let surface = instance
        .create_surface(wgpu::SurfaceTarget::Canvas(canvas))
        .expect("a WebGL2 canvas");
    let adapter = instance
        .request_adapter(&wgpu::RequestAdapterOptions {
            compatible_surface: Some(&surface),
            ..Default::default()
        })
        .await
        .expect("the browser gives no WebGL2 adapter");
    let (device, queue) = adapter
        .request_device(&wgpu::DeviceDescriptor {
            label: Some("browser test (WebGL2)"),
            required_limits: wgpu::Limits::downlevel_webgl2_defaults()
                .using_resolution(adapter.limits()),
            ..Default::default()
        })
        .await
        .expect("a WebGL2 device");
    (adapter, device, queue)
}

#[wasm_bindgen_test]
async fn on_webgl2_a_pool_rebases_its_indices_and_draws_the_same_picture() {
    let (adapter, device, queue) = webgl2().await;
    assert_eq!(adapter.get_info().backend, wgpu::Backend::Gl);
    assert!(
        MeshPoolDescriptor::needs_rebased_indices(&adapter),
        "WebGL2 has no base vertex"
    );
    let meshes = scene::generate_meshes(150, 42);
    // Not asked for: a pool on WebGL2 rebases by itself (a base vertex would panic).
    let pool = MeshPool::<ColorVertex, u16>::new(
        &device,
        &queue,
        &MeshPoolDescriptor {
            draw: DrawPath::for_adapter(&adapter),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(pool.rebases_indices());
    for m in &meshes {
        let indices: Vec<u16> = m.indices.iter().map(|&i| i as u16).collect();
        pool.insert(&m.vertices, &indices).unwrap();
    }
    let renderer = Renderer::new(&device, 192, 192);
    let all: Vec<&scene::Mesh> = meshes.iter().collect();
    let (pooled, expected) = reference::pool_and_reference(&device, &queue, &renderer, &pool, &all)
        .await
        .unwrap();
    assert!(
        expected.chunks(4).any(|p| p[0] > 40),
        "the reference picture is not empty"
    );
    assert_eq!(differing_pixels(&pooled, &expected), 0);
    let cover = coverage::coverage(&meshes, 192, 192);
    let background = [pooled[0], pooled[1], pooled[2], pooled[3]];
    assert_eq!(coverage::disagreements(&pooled, &cover, background), (0, 0));
}

#[wasm_bindgen_test]
async fn on_webgl2_pools_that_need_storage_buffers_refuse_with_a_typed_error() {
    let (_adapter, device, queue) = webgl2().await;
    assert_eq!(device.limits().max_storage_buffer_binding_size, 0);
    let storage = |e: gpu_arena::ArenaError| {
        assert!(
            matches!(
                e,
                gpu_arena::ArenaError::OverLimit {
                    what: gpu_arena::Limit::MaxStorageBufferBindingSize,
                    limit: 0,
                    ..
                }
            ),
            "{e}"
        );
    };
    storage(
        BindlessPool::new(&device, &queue, &Default::default())
            .err()
            .unwrap(),
    );
    storage(
        gpu_arena::objects::ObjectPool::<[f32; 4]>::new(&device, &queue, &Default::default())
            .err()
            .unwrap(),
    );
}

#[wasm_bindgen_test]
async fn a_bindless_pool_past_the_storage_binding_limit_spreads_over_slabs_within_it() {
    let gpu = gpu(DeviceLimits::WebGpuDefault).await;
    let binding = gpu.device.limits().max_storage_buffer_binding_size;
    let pool = BindlessPool::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    // 1 MiB records, 8 MiB more in all than one storage binding may hold.
    let words = (1 << 20) / 4;
    let count = binding / (1 << 20) + 8;
    let ids: Vec<_> = (0..count as u32)
        .map(|k| pool.insert(&vec![k; words]).unwrap())
        .collect();
    let slabs = pool.slabs();
    assert!(slabs.len() > 1, "{} slabs for {count} MiB", slabs.len());
    for slab in &slabs {
        assert!(
            slab.data.size() <= binding,
            "{} > {binding}",
            slab.data.size()
        );
    }
    for &k in &[0, count as usize / 2, count as usize - 1] {
        let record = pool.read_async(ids[k]).await.unwrap();
        assert_eq!(record.len(), words);
        assert!(record.iter().all(|&w| w == k as u32));
    }
}

#[wasm_bindgen_test]
async fn a_mesh_pool_past_the_buffer_size_limit_spreads_over_slabs_within_it() {
    let gpu = gpu(DeviceLimits::WebGpuDefault).await;
    let max = gpu.device.limits().max_buffer_size;
    let pool =
        MeshPool::<[f32; 4], u32>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    // 2 MiB of vertices per mesh, 8 MiB more in all than one buffer may hold.
    let vertices = (2 << 20) / 16;
    let count = max / (2 << 20) + 4;
    let meshes: Vec<_> = (0..count as u32)
        .map(|k| {
            let mesh = pool
                .insert(&vec![[k as f32; 4]; vertices], &[0, 1, k % 7 + 2])
                .unwrap();
            if k % 16 == 15 {
                pool.commit_now().unwrap(); // keeps the staged bytes bounded
            }
            mesh
        })
        .collect();
    pool.commit_now().unwrap();
    let slabs = pool.slabs().unwrap();
    assert!(
        slabs.len() > 1,
        "{} slabs for {} MiB",
        slabs.len(),
        count * 2
    );
    for slab in &slabs {
        assert!(
            slab.vertex_buffer.size() <= max,
            "{} > {max}",
            slab.vertex_buffer.size()
        );
    }
    for &k in &[0, count as usize / 2, count as usize - 1] {
        let (v, i) = pool.read_mesh_async(meshes[k]).await.unwrap();
        assert_eq!(v.len(), vertices);
        assert!(v.iter().all(|&x| x == [k as f32; 4]));
        assert_eq!(i, [0, 1, k as u32 % 7 + 2]);
    }
}
