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

/// Deterministic xorshift64 for test data.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}
