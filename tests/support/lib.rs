//! Test support for this workspace, in one place (as wgpu's own test crate does): the
//! seeded generator, the scenes and their reference renderer, readback helpers, the
//! shared GPU harness and the bindless walk. The GPU tests (`tests/gpu`), the
//! benchmarks and the examples all use it; nothing here is part of the published
//! crates.

pub mod bindless_walk;
pub mod coverage;
pub mod estimates;
#[cfg(not(target_arch = "wasm32"))]
pub mod gpu;
pub mod models;
pub mod packed;
pub mod readback;
pub mod reference;
pub mod rng;
pub mod scene;
pub mod shapes;
pub mod world;

#[cfg(not(target_arch = "wasm32"))]
pub use gpu::{harness, on_every_adapter};
pub use rng::Rng;
