//! The headless helper and the harness: they pick real adapters, fail loudly when
//! none matches, open devices with the limits asked for, and report per adapter.

use gpu_arena::headless::{
    DeviceLimits, ExpectedFailure, Harness, Headless, HeadlessDescriptor, HeadlessError, Outcome,
};
use gpu_suballoc::{harness, on_every_adapter, readback};

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
    assert!(
        matches!(Harness::new(&desc), Err(HeadlessError::NoAdapter { .. })),
        "the harness fails too, rather than running nothing"
    );
}

#[test]
fn adapter_name_filter_selects_the_named_adapter() {
    on_every_adapter(|gpu| {
        let name = gpu.info.name.clone();
        let part = name
            .split_whitespace()
            .next()
            .unwrap_or(&name)
            .to_uppercase(); // case-insensitive
        let found = Headless::new(&HeadlessDescriptor {
            adapter_name: Some(part),
            backends: Some(gpu.info.backend.into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(found.info.name, name);
    });
}

#[test]
fn every_adapter_runs_work() {
    on_every_adapter(|gpu| {
        let buffer = gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: None,
            size: 16,
            usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
            mapped_at_creation: false,
        });
        gpu.queue.write_buffer(&buffer, 0, &[42; 16]);
        gpu.queue.submit([]);
        assert_eq!(readback::map(&gpu.device, &gpu.queue, &buffer), [42; 16]);
    });
}

#[test]
fn webgpu_default_limits_open_a_device_with_wgpus_defaults() {
    on_every_adapter(|gpu| {
        let webgpu = Headless::new(&HeadlessDescriptor {
            backends: Some(gpu.info.backend.into()),
            adapter_name: Some(gpu.info.name.clone()),
            limits: DeviceLimits::WebGpuDefault,
            ..Default::default()
        })
        .unwrap();
        let limits = webgpu.device.limits();
        let defaults = wgpu::Limits::default();
        assert!(limits.max_buffer_size <= defaults.max_buffer_size);
        assert!(limits.max_storage_buffer_binding_size <= defaults.max_storage_buffer_binding_size);
        assert_eq!(
            limits,
            defaults.or_worse_values_from(&webgpu.adapter.limits())
        );
    });
}

#[test]
fn the_harness_reports_expected_failures_and_unexpected_passes() {
    let harness = harness();
    let first = &harness.adapters()[0].info;
    let quirk = ExpectedFailure {
        backend: Some(first.backend),
        adapter: Some("llvmpipe"),
        reason: "demonstration quirk",
    };
    // Fails exactly where the quirk says: every adapter's outcome is ok.
    let report = harness.run("fails where expected", &[quirk], |gpu| {
        assert!(!quirk.matches(&gpu.info), "the quirk");
    });
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.results.len(), harness.adapters().len());
    // Passes where the quirk says it fails: reported, and the test would fail.
    let report = harness.run("passes where expected to fail", &[quirk], |_| {});
    let matched = harness
        .adapters()
        .iter()
        .filter(|g| quirk.matches(&g.info))
        .count();
    let unexpected = report
        .results
        .iter()
        .filter(|(_, o)| *o == Outcome::UnexpectedPass("demonstration quirk"))
        .count();
    assert_eq!(unexpected, matched);
    assert_eq!(report.is_ok(), matched == 0, "{report}");
    // An unexpected failure names the adapter and the message.
    let report = harness.run("fails everywhere", &[], |_| panic!("boom"));
    assert!(!report.is_ok());
    assert!(report.to_string().contains("FAILED") && report.to_string().contains("boom"));
}
