//! The main job in the browser: the packed scene of `examples/mesh_packing.rs`
//! (procedural meshes in one `MeshPool`, objects culled on the GPU by an
//! `ObjectPool`, one indirect draw per slab) drawn into a `<canvas>` through
//! WebGPU, on a device opened with WebGPU's default limits.
//!
//! `index.html` loads the module built by `bash .ci/web build` (wasm-bindgen's `web`
//! target, in `examples/web/pkg`) and calls `start`; the browser tests
//! (`tests/browser.rs`) call `draw_into_canvas` the same way (both wasm only). After drawing, the
//! page copies the canvas into a 2D canvas, in the same task as the submission, and
//! compares those pixels with the offscreen picture read back from the GPU: what the
//! user sees is what the pools drew.
//!
//! Everything here compiles on native too (so `cargo test --workspace` builds it),
//! but only the wasm build has an entry point.

#[cfg(target_arch = "wasm32")]
mod web;

#[cfg(target_arch = "wasm32")]
pub use web::{PageReport, Present, draw_into_canvas, start};

/// How many pixels of two RGBA8 pictures differ by more than `tolerance` in any
/// colour channel (alpha is ignored: a canvas is composited opaque).
///
/// ```
/// let a = [10, 20, 30, 255, 0, 0, 0, 255];
/// let b = [11, 20, 30, 0, 0, 9, 0, 255];
/// assert_eq!(mesh_packing_web::differing_rgb(&a, &b, 1), 1);
/// ```
pub fn differing_rgb(a: &[u8], b: &[u8], tolerance: u8) -> usize {
    a.chunks_exact(4)
        .zip(b.chunks_exact(4))
        .filter(|(x, y)| (0..3).any(|c| x[c].abs_diff(y[c]) > tolerance))
        .count()
}

/// Pixels of an RGBA8 picture brighter than the renderer's background (sky) in no
/// channel: a crude count of what was drawn, to tell an empty picture from a scene.
///
/// ```
/// let sky = [40, 50, 60, 255];
/// let picture = [40, 50, 60, 255, 200, 50, 60, 255];
/// assert_eq!(mesh_packing_web::differing_from(&picture, sky), 1);
/// ```
pub fn differing_from(picture: &[u8], background: [u8; 4]) -> usize {
    picture
        .chunks_exact(4)
        .filter(|p| (0..3).any(|c| p[c].abs_diff(background[c]) > 8))
        .count()
}
