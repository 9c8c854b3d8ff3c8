//! The GPU harness the tests share: one device per adapter for the whole test binary
//! (every adapter `WGPU_BACKEND` and `WGPU_ADAPTER_NAME` allow, with the limits
//! `GPU_ARENA_LIMITS` asks for), and warnings captured so tests can check what the
//! crates log.
//!
//! There is no skipping: without an adapter every GPU test fails with the message of
//! `gpu_arena::headless`, which says what to install.

use std::sync::{Mutex, OnceLock};

use gpu_arena::headless::{Harness, Headless, HeadlessDescriptor};

/// The shared harness (created on first use).
pub fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        install_logger();
        match Harness::new(&HeadlessDescriptor {
            label: "gpu tests",
            ..Default::default()
        }) {
            Ok(harness) => {
                for gpu in harness.adapters() {
                    eprintln!("GPU tests on {}", gpu.describe());
                }
                require_backends(&harness);
                harness
            }
            Err(err) => panic!("GPU tests need an adapter: {err}"),
        }
    })
}

/// `GPU_TESTS_BACKENDS=vulkan,gl` (as CI sets it) fails every GPU test unless an
/// adapter of each listed backend was found, so a missing driver cannot shrink the
/// run to one backend unnoticed.
fn require_backends(harness: &Harness) {
    let Ok(wanted) = std::env::var("GPU_TESTS_BACKENDS") else {
        return;
    };
    for name in wanted.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let found = harness
            .adapters()
            .iter()
            .any(|gpu| gpu.info.backend.to_str().eq_ignore_ascii_case(name));
        assert!(
            found,
            "GPU_TESTS_BACKENDS asks for a {name} adapter and none was found; \
             install Mesa's software drivers (bash .ci/setup)"
        );
    }
}

/// Runs `body` on every adapter and fails the calling test unless it passes on all.
/// The report names the test by its thread (libtest names test threads after them).
pub fn on_every_adapter(body: impl Fn(&Headless)) {
    let thread = std::thread::current();
    harness().check(thread.name().unwrap_or("gpu test"), &[], body);
}

/// Warnings and errors logged so far (by any test of this binary).
pub fn logged() -> Vec<String> {
    LINES.lock().map(|l| l.clone()).unwrap_or_default()
}

static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Keeps warnings for [`logged`] and prints them, as `env_logger` would.
struct Capture;

impl log::Log for Capture {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Warn
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            let line = format!("{}", record.args());
            eprintln!("[{} {}] {line}", record.level(), record.target());
            if let Ok(mut lines) = LINES.lock() {
                lines.push(line);
            }
        }
    }

    fn flush(&self) {}
}

fn install_logger() {
    static LOGGER: Capture = Capture;
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Warn);
    }
}
