//! Dropping an arena with live allocations logs a leak report through `log`; the
//! test support captures warnings so the report can be checked.

use gpu_arena::{Arena, ArenaDescriptor};
use gpu_suballoc::{gpu::logged, on_every_adapter};

#[test]
fn dropping_an_arena_with_live_allocations_logs_a_leak_report() {
    on_every_adapter(|gpu| {
        let tag = format!("leak-check-{}", gpu.info.backend);
        let clean = Arena::new(
            &gpu.device,
            &gpu.queue,
            &ArenaDescriptor {
                label: Some(&format!("{tag} clean")),
                ..Default::default()
            },
        )
        .unwrap();
        let h = clean.alloc(8).unwrap();
        clean.free(h).unwrap();
        drop(clean);
        assert!(
            logged()
                .iter()
                .all(|l| !l.contains(&format!("{tag} clean"))),
            "no report without leaks"
        );

        let leaky = Arena::new(
            &gpu.device,
            &gpu.queue,
            &ArenaDescriptor {
                label: Some(&format!("{tag} leaky")),
                ..Default::default()
            },
        )
        .unwrap();
        leaky.alloc(100).unwrap();
        leaky.alloc(28).unwrap();
        drop(leaky);
        let lines = logged();
        let report = lines
            .iter()
            .find(|l| l.contains(&format!("{tag} leaky")))
            .expect("a leak report");
        assert!(
            report.contains("2 live allocations") && report.contains("128 bytes"),
            "{report}"
        );
    });
}
