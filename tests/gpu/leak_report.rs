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

#[test]
fn pools_dropped_with_their_contents_report_no_leak() {
    on_every_adapter(|gpu| {
        let label = format!("leak-free-pool-{}", gpu.info.backend);
        let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u32>::new(
            &gpu.device,
            &gpu.queue,
            &gpu_arena::mesh_pool::MeshPoolDescriptor {
                label: Some(&label),
                ..Default::default()
            },
        )
        .unwrap();
        pool.insert(&[[0.0; 3]; 3], &[0, 1, 2]).unwrap();
        pool.commit_now().unwrap();
        drop(pool);
        let reports: Vec<_> = logged()
            .into_iter()
            .filter(|l| l.contains(&label))
            .collect();
        assert!(reports.is_empty(), "a pool owns its tables: {reports:?}");
    });
}
