//! Shared set-up for the GPU tests: one headless device per test binary.
//!
//! There is no skipping: without an adapter every GPU test fails with the helper's
//! message, which says what to install.

#![allow(dead_code)]

use std::sync::OnceLock;

use gpu_arena::headless::{Headless, HeadlessDescriptor};

/// The shared device (created on first use; `WGPU_BACKEND` picks the backend).
pub fn gpu() -> &'static Headless {
    static GPU: OnceLock<Headless> = OnceLock::new();
    GPU.get_or_init(|| {
        let _ = env_logger::builder().is_test(true).try_init();
        match Headless::new(&HeadlessDescriptor {
            label: "gpu tests",
            ..Default::default()
        }) {
            Ok(gpu) => {
                eprintln!("GPU tests on {}", gpu.describe());
                gpu
            }
            Err(err) => panic!("GPU tests need an adapter: {err}"),
        }
    })
}

/// The scene generator, offscreen renderer and deterministic RNG shared with the examples.
#[path = "../../examples/common/scene.rs"]
pub mod scene;

#[allow(unused_imports)] // not every test binary uses it
pub use scene::Rng;
