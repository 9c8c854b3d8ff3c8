//! Every GPU test, in one binary with one device per adapter for the whole run
//! (`gpu_suballoc::harness`). Each test runs on every adapter found (lavapipe and
//! llvmpipe on a machine without a GPU) and reads its results back.
//!
//! `GPU_ARENA_LIMITS=webgpu` opens the devices with wgpu's default (WebGPU) limits;
//! CI runs the suite once that way too.

mod arena;
mod arena_binding;
mod arena_growth;
mod bindless;
mod compaction;
mod deferred;
mod direct;
mod headless;
mod leak_report;
mod limits;
mod limits_pools;
mod mesh_pool;
mod models;
mod objects;
mod properties;
mod readback;
mod rebase;
mod slabs;
mod staging;
mod upload;
