//! The browser side: a WebGPU device (never a blocking call), the packed scene drawn
//! into a canvas, and the canvas compared with the GPU's picture.

use gpu_arena::headless::{DeviceLimits, Headless, HeadlessDescriptor};
use gpu_arena::objects::CullPath;
use gpu_suballoc::packed::PackedScene;
use gpu_suballoc::{readback, shapes};
use wasm_bindgen::prelude::*;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

/// What drawing the page found: the numbers the browser tests and the CI check read.
#[wasm_bindgen(getter_with_clone)]
#[derive(Clone, Debug)]
pub struct PageReport {
    /// The adapter, as `name (backend, type)`.
    pub adapter: String,
    /// Meshes packed.
    pub meshes: u32,
    /// Slabs the mesh pool used.
    pub slabs: u32,
    /// Objects placed.
    pub objects: u32,
    /// Objects the GPU cull kept.
    pub visible: u32,
    /// Draw calls recorded for the frame.
    pub calls: u32,
    /// Pixels of the GPU's picture that are not sky.
    pub drawn_pixels: u32,
    /// Pixels of the canvas (as a 2D canvas sees it) that differ from the GPU's
    /// picture by more than 2 in a channel.
    pub canvas_mismatch: u32,
    /// Canvas width and height.
    pub width: u32,
    /// Canvas height.
    pub height: u32,
}

fn js_error(what: &str, e: impl std::fmt::Display) -> JsValue {
    JsValue::from_str(&format!("{what}: {e}"))
}

/// Opens a WebGPU device with WebGPU's default limits.
pub(crate) async fn device() -> Result<Headless, JsValue> {
    Headless::new_async(&HeadlessDescriptor {
        label: "mesh_packing web",
        limits: DeviceLimits::WebGpuDefault,
        ..Default::default()
    })
    .await
    .map_err(|e| js_error("no WebGPU device", e))
    .inspect(|gpu| {
        gpu.device.set_device_lost_callback(|reason, message| {
            web_sys::console::error_1(&format!("device lost ({reason:?}): {message}").into());
        });
    })
}

/// How the picture reaches the canvas.
#[wasm_bindgen]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Present {
    /// The canvas is a WebGPU surface: the frame is copied into its texture and the
    /// browser presents it. What a real page does.
    WebGpu,
    /// The frame is read back and put into a 2D canvas. Headless Chromium with
    /// SwiftShader destroys the device when a WebGPU canvas is presented (seen with
    /// Chromium 156; plain JavaScript does the same), so the CI checks use this.
    Canvas2d,
}

/// Packs `meshes` procedural meshes, places `objects` objects, draws one culled frame
/// into `canvas` as `present` says and checks the canvas against the offscreen
/// picture read back from the GPU.
pub async fn draw_into_canvas(
    canvas: HtmlCanvasElement,
    meshes: u32,
    objects: u32,
    present: Present,
) -> Result<PageReport, JsValue> {
    let gpu = device().await?;
    let (width, height) = (canvas.width().max(1), canvas.height().max(1));
    let surface = match present {
        Present::WebGpu => Some(canvas_surface(&gpu, &canvas, width, height)?),
        Present::Canvas2d => None,
    };

    let generated = shapes::generate(meshes as usize, 1);
    let groups: Vec<(Vec<usize>, f32)> = generated
        .iter()
        .enumerate()
        .map(|(k, m)| (vec![k], m.radius))
        .collect();
    let mut scene = PackedScene::new(
        &gpu.device,
        &gpu.queue,
        &generated,
        &groups,
        objects as usize,
        CullPath::for_device(&gpu.device, &gpu.adapter),
        (width, height),
        1,
    )
    .map_err(|e| js_error("packing", e))?;

    let mut encoder = gpu.device.create_command_encoder(&Default::default());
    let done = scene
        .record(&gpu.device, &gpu.queue, &mut encoder)
        .map_err(|e| js_error("frame", e))?;
    let seen = match &surface {
        Some(surface) => {
            let frame = match surface.get_current_texture() {
                wgpu::CurrentSurfaceTexture::Success(frame)
                | wgpu::CurrentSurfaceTexture::Suboptimal(frame) => frame,
                other => return Err(js_error("canvas texture", format!("{other:?}"))),
            };
            encoder.copy_texture_to_texture(
                scene.renderer.color().as_image_copy(),
                frame.texture.as_image_copy(),
                wgpu::Extent3d {
                    width,
                    height,
                    depth_or_array_layers: 1,
                },
            );
            gpu.queue.submit([encoder.finish()]);
            // In this task the canvas still shows this frame's texture: copy it now.
            let seen = canvas_pixels(&canvas)?;
            gpu.queue.present(frame);
            Some(seen)
        }
        None => {
            gpu.queue.submit([encoder.finish()]);
            None
        }
    };

    let visible = scene
        .objects
        .read_visible_async()
        .await
        .map_err(|e| js_error("visible readback", e))?;
    let picture = scene
        .renderer
        .read_pixels_async(&gpu.device, &gpu.queue)
        .await
        .map_err(|e| js_error("picture readback", e))?;
    let seen = match seen {
        Some(seen) => seen,
        None => {
            put_pixels(&canvas, &picture, width, height)?;
            canvas_pixels(&canvas)?
        }
    };
    let sky = [picture[0], picture[1], picture[2], picture[3]];
    Ok(PageReport {
        adapter: gpu.describe(),
        meshes,
        slabs: scene.pool.stats().slabs as u32,
        objects,
        visible: visible.len() as u32,
        calls: done.calls,
        drawn_pixels: readback::differing_from(&picture, sky) as u32,
        canvas_mismatch: readback::differing_rgb(&seen, &picture, 2) as u32,
        width,
        height,
    })
}

/// `canvas` as a WebGPU surface of the renderer's format.
fn canvas_surface(
    gpu: &Headless,
    canvas: &HtmlCanvasElement,
    width: u32,
    height: u32,
) -> Result<wgpu::Surface<'static>, JsValue> {
    let surface = gpu
        .instance
        .create_surface(wgpu::SurfaceTarget::Canvas(canvas.clone()))
        .map_err(|e| js_error("canvas surface", e))?;
    let format = gpu_suballoc::world::FORMAT;
    let caps = surface.get_capabilities(&gpu.adapter);
    if !caps.formats.contains(&format) {
        return Err(js_error(
            "canvas",
            format!("{format:?} is not among {:?}", caps.formats),
        ));
    }
    surface.configure(
        &gpu.device,
        &wgpu::SurfaceConfiguration {
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_DST,
            format,
            width,
            height,
            present_mode: wgpu::PresentMode::Fifo,
            desired_maximum_frame_latency: 2,
            alpha_mode: wgpu::CompositeAlphaMode::Opaque,
            view_formats: vec![],
            color_space: Default::default(),
        },
    );
    Ok(surface)
}

/// Puts RGBA8 `pixels` into `canvas` through its 2D context.
fn put_pixels(
    canvas: &HtmlCanvasElement,
    pixels: &[u8],
    width: u32,
    height: u32,
) -> Result<(), JsValue> {
    let context: CanvasRenderingContext2d = canvas
        .get_context("2d")?
        .ok_or_else(|| JsValue::from_str("no 2d context"))?
        .dyn_into()?;
    let data = web_sys::ImageData::new_with_u8_clamped_array_and_sh(
        wasm_bindgen::Clamped(pixels),
        width,
        height,
    )?;
    context.put_image_data(&data, 0.0, 0.0)
}

/// The canvas's pixels as a 2D canvas sees them (`drawImage`, `getImageData`).
fn canvas_pixels(canvas: &HtmlCanvasElement) -> Result<Vec<u8>, JsValue> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| JsValue::from_str("no document"))?;
    let copy: HtmlCanvasElement = document.create_element("canvas")?.dyn_into()?;
    copy.set_width(canvas.width());
    copy.set_height(canvas.height());
    let context: CanvasRenderingContext2d = copy
        .get_context("2d")?
        .ok_or_else(|| JsValue::from_str("no 2d context"))?
        .dyn_into()?;
    context.draw_image_with_html_canvas_element(canvas, 0.0, 0.0)?;
    let data = context.get_image_data(
        0.0,
        0.0,
        f64::from(canvas.width()),
        f64::from(canvas.height()),
    )?;
    Ok(data.data().0)
}

/// The page's entry point: draws into the canvas with id `canvas_id` and returns the
/// report (the page also stores it as `window.meshPacking`).
#[wasm_bindgen]
pub async fn start(
    canvas_id: String,
    meshes: u32,
    objects: u32,
    present: Present,
) -> Result<PageReport, JsValue> {
    let canvas: HtmlCanvasElement = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(&canvas_id))
        .ok_or_else(|| JsValue::from_str(&format!("no element #{canvas_id}")))?
        .dyn_into()?;
    draw_into_canvas(canvas, meshes, objects, present).await
}
