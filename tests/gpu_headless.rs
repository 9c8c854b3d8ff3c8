//! The headless helper: it picks a real adapter, and fails loudly when none matches.

mod common;

use gpu_arena::headless::{Headless, HeadlessDescriptor, HeadlessError};

#[test]
fn no_matching_adapter_fails_with_what_to_install() {
    let desc = HeadlessDescriptor {
        adapter_name: Some("no such adapter 1f3c".into()),
        ..Default::default()
    };
    let err = Headless::new(&desc)
        .err()
        .expect("no adapter can match that name");
    assert!(matches!(err, HeadlessError::NoAdapter { .. }));
    let message = err.to_string();
    assert!(
        message.contains("mesa-vulkan-drivers") && message.contains("WGPU_BACKEND=gl"),
        "{message}"
    );
}

#[test]
fn adapter_name_filter_selects_the_named_adapter() {
    let name = common::gpu().info.name.clone();
    let part = name
        .split_whitespace()
        .next()
        .unwrap_or(&name)
        .to_uppercase(); // case-insensitive
    let gpu = Headless::new(&HeadlessDescriptor {
        adapter_name: Some(part),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(gpu.info.name, name);
}

#[test]
fn the_chosen_adapter_runs_work() {
    let gpu = common::gpu();
    let buffer = gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: None,
        size: 16,
        usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
        mapped_at_creation: false,
    });
    gpu.queue.write_buffer(&buffer, 0, &[42; 16]);
    let index = gpu.queue.submit([]);
    buffer
        .slice(..)
        .map_async(wgpu::MapMode::Read, |r| r.unwrap());
    gpu.device
        .poll(wgpu::PollType::Wait {
            submission_index: Some(index),
            timeout: None,
        })
        .unwrap();
    assert_eq!(buffer.get_mapped_range(..).unwrap().to_vec(), [42; 16]);
}
