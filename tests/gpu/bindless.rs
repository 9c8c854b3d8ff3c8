//! GPU test of `BindlessPool`: one dispatch of `shaders/bindless_walk.wgsl` over the
//! offset table matches a CPU computation for every object, after churn and growth.

use gpu_arena::bindless::{BindlessPool, BindlessPoolDescriptor, ObjectId, TableEntry};
use gpu_arena::headless::Headless;
use gpu_suballoc::{Rng, bindless_walk, on_every_adapter};

fn run_walk(gpu: &Headless, pool: &BindlessPool) -> Vec<u32> {
    bindless_walk::run(&gpu.device, &gpu.queue, pool).expect("bindless walk")
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
        let mut rng = Rng(99);
        let mut live: Vec<(ObjectId, Vec<u32>)> = Vec::new();
        let record = |rng: &mut Rng| -> Vec<u32> {
            (0..1 + rng.below(40))
                .map(|_| rng.next_u64() as u32)
                .collect()
        };
        for _ in 0..3000 {
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
                    pool.update(live[k].0, &r).unwrap();
                    live[k].1 = r;
                }
                7..=9 if !live.is_empty() => {
                    let (id, _) = live.swap_remove(rng.below(live.len() as u64) as usize);
                    pool.remove(id).unwrap();
                    assert!(pool.entry(id).is_err());
                }
                _ => {}
            }
        }
        assert_ne!(pool.generation(), start, "data and table grew");
        assert_eq!(pool.len(), live.len());

        let results = run_walk(gpu, &pool);
        let mut expected = vec![0u32; pool.table_len() as usize];
        for (id, r) in &live {
            expected[id.index() as usize] = bindless_walk::hash(r);
        }
        assert_eq!(results, expected);

        // The GPU table agrees with the CPU entries, and records read back intact.
        let table = pool.read_table().unwrap();
        for (id, r) in &live {
            assert_eq!(table[id.index() as usize], pool.entry(*id).unwrap());
            assert_eq!(&pool.read(*id).unwrap(), r);
        }
        let live_indices: std::collections::HashSet<u32> =
            live.iter().map(|(id, _)| id.index()).collect();
        for (i, e) in table.iter().enumerate() {
            if !live_indices.contains(&(i as u32)) {
                assert_eq!(
                    *e,
                    TableEntry::default(),
                    "removed object {i} has an empty entry"
                );
            }
        }
    });
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
