//! Dropping an arena with live allocations logs a leak report through `log`.
//! (Its own test binary: it installs a capturing logger.)

use std::sync::Mutex;

use gpu_arena::headless::Headless;
use gpu_arena::{Arena, ArenaDescriptor};

static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Warn
    }
    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            LINES.lock().unwrap().push(record.args().to_string());
        }
    }
    fn flush(&self) {}
}

static LOGGER: Capture = Capture;

#[test]
fn dropping_an_arena_with_live_allocations_logs_a_leak_report() {
    log::set_logger(&LOGGER).unwrap();
    log::set_max_level(log::LevelFilter::Warn);
    let gpu = Headless::new(&Default::default())
        .unwrap_or_else(|e| panic!("GPU tests need an adapter: {e}"));

    let clean = Arena::new(
        &gpu.device,
        &gpu.queue,
        &ArenaDescriptor {
            label: Some("clean"),
            ..Default::default()
        },
    )
    .unwrap();
    let h = clean.alloc(8).unwrap();
    clean.free(h).unwrap();
    drop(clean);
    assert!(
        LINES.lock().unwrap().iter().all(|l| !l.contains("clean")),
        "no report without leaks"
    );

    let leaky = Arena::new(
        &gpu.device,
        &gpu.queue,
        &ArenaDescriptor {
            label: Some("leaky"),
            ..Default::default()
        },
    )
    .unwrap();
    leaky.alloc(100).unwrap();
    leaky.alloc(28).unwrap();
    drop(leaky);
    let lines = LINES.lock().unwrap();
    let report = lines
        .iter()
        .find(|l| l.contains("leaky"))
        .expect("a leak report");
    assert!(
        report.contains("2 live allocations") && report.contains("128 bytes"),
        "{report}"
    );
}
