//! GPU test of `BindlessPool`: one dispatch of `shaders/bindless_walk.wgsl` over the
//! offset table matches a CPU computation for every object, after churn and growth.

use gpu_arena::bindless::{BindlessPool, BindlessPoolDescriptor, ObjectId, TableEntry};
use std::collections::{HashMap, HashSet};

use gpu_arena::SlabId;
use gpu_arena::headless::Headless;
use gpu_suballoc::{Rng, bindless_walk, on_every_adapter};

fn run_walk(gpu: &Headless, pool: &BindlessPool) -> bindless_walk::WalkResults {
    bindless_walk::run(&gpu.device, &gpu.queue, pool).expect("bindless walk")
}

/// Random inserts, resizes and removals of records up to `max_words` words.
fn churn(
    pool: &BindlessPool,
    seed: u64,
    steps: usize,
    max_words: u64,
) -> Vec<(ObjectId, Vec<u32>)> {
    let mut rng = Rng(seed);
    let mut live: Vec<(ObjectId, Vec<u32>)> = Vec::new();
    let record = |rng: &mut Rng| -> Vec<u32> {
        (0..1 + rng.below(max_words))
            .map(|_| rng.next_u64() as u32)
            .collect()
    };
    for _ in 0..steps {
        match rng.below(10) {
            0..=4 => {
                let r = record(&mut rng);
                live.push((pool.insert(&r).unwrap(), r));
            }
            5..=6 if !live.is_empty() => {
                let k = rng.below(live.len() as u64) as usize;
                let r = if rng.below(2) == 0 {
                    record(&mut rng)
                } else {
                    vec![rng.next_u64() as u32; live[k].1.len()]
                };
                // A record that no longer fits its slab is refused, and the old stays.
                match pool.update(live[k].0, &r) {
                    Ok(()) => live[k].1 = r,
                    Err(_) => assert_eq!(pool.read(live[k].0).unwrap(), live[k].1),
                }
            }
            7..=9 if !live.is_empty() => {
                let (id, _) = live.swap_remove(rng.below(live.len() as u64) as usize);
                pool.remove(id).unwrap();
                assert!(pool.entry(id).is_err());
            }
            _ => {}
        }
    }
    assert_eq!(pool.len(), live.len());
    live
}

#[test]
fn one_dispatch_over_the_table_matches_the_cpu_after_churn_and_growth() {
    on_every_adapter(|gpu| {
        let pool = BindlessPool::new(
            &gpu.device,
            &gpu.queue,
            &BindlessPoolDescriptor {
                initial_data_bytes: 256,
                initial_objects: 8,
                ..Default::default()
            },
        )
        .unwrap();
        let start = pool.generation();
        let live = churn(&pool, 99, 3000, 40);
        assert_ne!(pool.generation(), start, "data and table grew");
        check_walk(gpu, &pool, &live);
    });
}

#[test]
fn a_bindless_pool_across_slabs_matches_the_cpu_in_a_compute_pass() {
    on_every_adapter(|gpu| {
        let small = crate::limits::small_device(gpu);
        let pool = BindlessPool::new(&small.device, &small.queue, &Default::default()).unwrap();
        // About 1 MiB of records against 64 KiB storage bindings: many slabs.
        let live = churn(&pool, 5, 6000, 200);
        let slabs = pool.slabs();
        assert!(slabs.len() >= 8, "{} slabs", slabs.len());
        for slab in &slabs {
            assert!(slab.data.size() <= 64 << 10);
            assert!(slab.table.range.size <= 64 << 10);
        }
        check_walk(&small, &pool, &live);
    });
}

/// One dispatch per slab matches the CPU for every table entry (0 where removed), and
/// the GPU tables and records agree with the pool.
pub fn check_walk(gpu: &Headless, pool: &BindlessPool, live: &[(ObjectId, Vec<u32>)]) {
    let results = run_walk(gpu, pool);
    let mut expected: HashMap<SlabId, Vec<u32>> = pool
        .slabs()
        .iter()
        .map(|s| (s.id, vec![0u32; s.table_len as usize]))
        .collect();
    for (id, r) in live {
        expected.get_mut(&id.slab()).expect("the object's slab")[id.index() as usize] =
            bindless_walk::hash(r);
    }
    assert_eq!(results.0, expected);
    let tables: HashMap<SlabId, Vec<TableEntry>> = pool
        .slabs()
        .iter()
        .map(|s| (s.id, pool.read_table(s.id).unwrap()))
        .collect();
    for (id, r) in live {
        assert_eq!(
            tables[&id.slab()][id.index() as usize],
            pool.entry(*id).unwrap()
        );
        assert_eq!(&pool.read(*id).unwrap(), r);
    }
    let live_at: HashSet<(SlabId, u32)> =
        live.iter().map(|(id, _)| (id.slab(), id.index())).collect();
    for (slab, table) in &tables {
        for (i, e) in table.iter().enumerate() {
            if !live_at.contains(&(*slab, i as u32)) {
                assert_eq!(
                    *e,
                    TableEntry::default(),
                    "removed object {i} has an empty entry"
                );
            }
        }
    }
}

#[test]
fn removed_indices_are_reused_and_stale_ids_refused() {
    on_every_adapter(|gpu| {
        let pool = BindlessPool::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
        let a = pool.insert(&[1, 2]).unwrap();
        let _b = pool.insert(&[3]).unwrap();
        pool.remove(a).unwrap();
        let c = pool.insert(&[4, 5, 6]).unwrap();
        assert_eq!(c.index(), a.index());
        assert!(pool.update(a, &[9]).is_err());
        assert!(pool.read(a).is_err());
        assert_eq!(pool.read(c).unwrap(), [4, 5, 6]);
        assert!(pool.insert(&[]).is_err());
    });
}
