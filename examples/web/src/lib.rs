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
