//! Run by the GPU test `a_device_out_of_memory_during_growth_is_a_typed_error...`:
//! opens a device on every adapter, then limits this process's address space (with
//! util-linux's `prlimit`) to what it uses plus 512 MiB, and grows an arena past
//! that. The growth's buffer cannot be had: the arena must return
//! `ArenaError::Device` and stay as it was. Exits non-zero on failure.

use gpu_arena::headless::{DeviceLimits, ExpectedFailure, Harness, HeadlessDescriptor};
use gpu_arena::{Arena, ArenaDescriptor, ArenaError};

fn vm_size() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmSize:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmSize");
    kib * 1024
}

fn main() {
    // The adapters' own limits whatever GPU_ARENA_LIMITS says: the growth needs 1 GiB.
    let harness = Harness::new(&HeadlessDescriptor {
        limits: DeviceLimits::Adapter,
        label: "oom probe",
        ..Default::default()
    })
    .unwrap_or_else(|e| panic!("the probe needs an adapter: {e}"));
    let limit = vm_size() + (512 << 20);
    let limited = std::process::Command::new("prlimit")
        .arg(format!("--as={limit}"))
        .arg("--pid")
        .arg(std::process::id().to_string())
        .status()
        .expect("prlimit (util-linux) limits the address space");
    assert!(limited.success(), "prlimit failed: {limited}");
    let lazy_gl = ExpectedFailure {
        backend: Some(wgpu::Backend::Gl),
        adapter: Some("llvmpipe"),
        reason: "llvmpipe's GL buffers take no address space until touched: no out-of-memory",
    };
    let report = harness.run("growth out of memory", &[lazy_gl], |gpu| {
        let arena = Arena::new(
            &gpu.device,
            &gpu.queue,
            &ArenaDescriptor {
                label: Some("oom"),
                initial_size: 1 << 20,
                ..Default::default()
            },
        )
        .expect("arena");
        let kept = arena.alloc_slice(&[5u8; 1000]).expect("a small allocation");
        let before = arena.stats();
        match arena.alloc(1 << 30) {
            Err(ArenaError::Device {
                label, requested, ..
            }) => {
                assert_eq!(label, "oom");
                assert!(requested > 1 << 30);
            }
            other => panic!("expected a device error, got {other:?}"),
        }
        assert_eq!(arena.stats(), before, "the arena is unchanged");
        assert_eq!(arena.read(kept).expect("readback"), [5; 1000]);
    });
    print!("{report}");
    std::process::exit(if report.is_ok() { 0 } else { 1 });
}
