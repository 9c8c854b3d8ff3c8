//! Fills a bindless storage pool with variable-size records, churns it (removes,
//! resizes, re-inserts), runs `shaders/bindless_walk.wgsl` over every object in one
//! dispatch, reads the results back and checks them against a CPU computation.
//!
//! ```sh
//! cargo run --release --example bindless_pool -- --objects 20000
//! ```

use std::process::ExitCode;

use clap::Parser;
use gpu_arena::bindless::{BindlessPool, BindlessPoolDescriptor, ObjectId};
use gpu_arena::headless::Headless;
use gpu_suballoc::{Rng, bindless_walk};

/// Run one compute pass over every object of a bindless pool and verify it.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Objects inserted before the churn.
    #[arg(long, default_value_t = 10_000)]
    objects: usize,
    /// Longest record, in u32 words.
    #[arg(long, default_value_t = 64)]
    max_words: u64,
    /// Seed of the record generator.
    #[arg(long, default_value_t = 3)]
    seed: u64,
}

fn main() -> Result<ExitCode, Box<dyn std::error::Error>> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let args = Args::parse();
    let gpu = Headless::new(&Default::default())?;
    println!("adapter   {}", gpu.describe());

    let pool = BindlessPool::new(
        &gpu.device,
        &gpu.queue,
        &BindlessPoolDescriptor {
            initial_objects: 256,
            ..Default::default()
        },
    )?;
    let mut rng = Rng(args.seed | 1);
    let max_words = args.max_words.max(1);
    let record = |rng: &mut Rng| -> Vec<u32> {
        (0..1 + rng.next_u64() % max_words)
            .map(|_| rng.next_u64() as u32)
            .collect()
    };
    let mut live: Vec<(ObjectId, Vec<u32>)> = Vec::new();
    for _ in 0..args.objects {
        let r = record(&mut rng);
        live.push((pool.insert(&r)?, r));
    }
    // Churn: remove a third, resize a third, insert a few more (reusing freed indices).
    let (mut removed, mut updated) = (0, 0);
    for k in (0..live.len()).rev() {
        match rng.next_u64() % 3 {
            0 => {
                let (id, _) = live.swap_remove(k);
                pool.remove(id)?;
                removed += 1;
            }
            1 => {
                let r = record(&mut rng);
                pool.update(live[k].0, &r)?;
                live[k].1 = r;
                updated += 1;
            }
            _ => {}
        }
    }
    for _ in 0..args.objects / 10 {
        let r = record(&mut rng);
        live.push((pool.insert(&r)?, r));
    }
    let slabs = pool.slabs();
    let entries: u32 = slabs.iter().map(|s| s.table_len).sum();
    println!(
        "objects   {} live in {} table entries over {} slab(s) ({removed} removed, {updated} resized)",
        pool.len(),
        entries,
        slabs.len()
    );

    let results = bindless_walk::run(&gpu.device, &gpu.queue, &pool)?;
    let mut wrong = 0;
    for (id, r) in &live {
        wrong += usize::from(results.of(*id) != Some(bindless_walk::hash(r)));
    }
    let count = results.entries();
    if wrong == 0 {
        println!(
            "result    OK: one dispatch per slab over {count} table entries matches the CPU for every object"
        );
        Ok(ExitCode::SUCCESS)
    } else {
        println!("result    MISMATCH: {wrong} of {count} objects differ from the CPU");
        Ok(ExitCode::FAILURE)
    }
}
