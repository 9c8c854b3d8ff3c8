//! GPU test of `BindlessPool`: one dispatch of `shaders/bindless_walk.wgsl` over the
//! offset table matches a CPU computation for every object, after churn and growth.

mod common;

use common::{Rng, gpu};
use gpu_arena::bindless::{BindlessPool, BindlessPoolDescriptor, ObjectId, TableEntry};

/// The shader's hash, on the CPU.
fn hash(record: &[u32]) -> u32 {
    record.iter().fold(0u32, |h, w| {
        h.wrapping_mul(31).wrapping_add(*w).wrapping_add(1)
    })
}

fn run_walk(pool: &BindlessPool) -> Vec<u32> {
    let gpu = gpu();
    let module = gpu
        .device
        .create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("bindless_walk"),
            source: wgpu::ShaderSource::Wgsl(include_str!("../shaders/bindless_walk.wgsl").into()),
        });
    let pipeline = gpu
        .device
        .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some("bindless_walk"),
            layout: None,
            module: &module,
            entry_point: Some("main"),
            compilation_options: Default::default(),
            cache: None,
        });
    let count = pool.table_len();
    let results = gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("results"),
        size: u64::from(count.max(1)) * 4,
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    });
    let readback = gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("results readback"),
        size: results.size(),
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let table = pool.table_slice().unwrap();
    let data = pool.data_buffer();
    let bind_group = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: None,
        layout: &pipeline.get_bind_group_layout(0),
        entries: &[
            wgpu::BindGroupEntry {
                binding: 0,
                resource: wgpu::BindingResource::Buffer(table.binding()),
            },
            wgpu::BindGroupEntry {
                binding: 1,
                resource: data.as_entire_binding(),
            },
            wgpu::BindGroupEntry {
                binding: 2,
                resource: results.as_entire_binding(),
            },
        ],
    });
    let mut encoder = gpu.device.create_command_encoder(&Default::default());
    {
        let mut pass = encoder.begin_compute_pass(&Default::default());
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind_group, &[]);
        pass.dispatch_workgroups(count.div_ceil(64), 1, 1);
    }
    encoder.copy_buffer_to_buffer(&results, 0, &readback, 0, results.size());
    let index = gpu.queue.submit([encoder.finish()]);
    readback
        .slice(..)
        .map_async(wgpu::MapMode::Read, |r| r.unwrap());
    gpu.device
        .poll(wgpu::PollType::Wait {
            submission_index: Some(index),
            timeout: None,
        })
        .unwrap();
    let out = bytemuck::pod_collect_to_vec(&readback.get_mapped_range(..).unwrap());
    out[..count as usize].to_vec()
}

#[test]
fn one_dispatch_over_the_table_matches_the_cpu_after_churn_and_growth() {
    let gpu = gpu();
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
    let record =
        |rng: &mut Rng| -> Vec<u32> { (0..1 + rng.below(40)).map(|_| rng.next() as u32).collect() };
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
                    vec![rng.next() as u32; live[k].1.len()]
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

    let results = run_walk(&pool);
    let mut expected = vec![0u32; pool.table_len() as usize];
    for (id, r) in &live {
        expected[id.index() as usize] = hash(r);
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
}

#[test]
fn removed_indices_are_reused_and_stale_ids_refused() {
    let gpu = gpu();
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
}
