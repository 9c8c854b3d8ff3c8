//! One dispatch of `shaders/bindless_walk.wgsl` per slab of a bindless pool, over the
//! slab's whole table, and the same hash on the CPU (the `bindless_pool` example and
//! the GPU tests).

use std::collections::HashMap;

use gpu_arena::SlabId;
use gpu_arena::bindless::{BindlessPool, ObjectId};

use crate::readback;

/// What the shader computes for one record.
pub fn hash(record: &[u32]) -> u32 {
    record.iter().fold(0u32, |h, w| {
        h.wrapping_mul(31).wrapping_add(*w).wrapping_add(1)
    })
}

/// The walk's results: one value per table entry of each slab (0 for removed objects).
pub struct WalkResults(pub HashMap<SlabId, Vec<u32>>);

impl WalkResults {
    /// The result for object `id`.
    pub fn of(&self, id: ObjectId) -> Option<u32> {
        self.0.get(&id.slab())?.get(id.index() as usize).copied()
    }

    /// Table entries walked, over all slabs.
    pub fn entries(&self) -> usize {
        self.0.values().map(Vec::len).sum()
    }
}

/// Runs the walk: one bind group and one dispatch per slab (blocking; native only).
#[cfg(not(target_arch = "wasm32"))]
pub fn run(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    pool: &BindlessPool,
) -> Result<WalkResults, Box<dyn std::error::Error>> {
    pollster::block_on(run_async(device, queue, pool))
}

/// Runs the walk and reads its results back without blocking.
pub async fn run_async(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    pool: &BindlessPool,
) -> Result<WalkResults, Box<dyn std::error::Error>> {
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("bindless_walk"),
        source: wgpu::ShaderSource::Wgsl(include_str!("../../shaders/bindless_walk.wgsl").into()),
    });
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some("bindless_walk"),
        layout: None,
        module: &module,
        entry_point: Some("main"),
        compilation_options: Default::default(),
        cache: None,
    });
    let mut results = HashMap::new();
    for slab in pool.slabs() {
        let count = slab.table_len;
        let out = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("results"),
            size: u64::from(count.max(1)) * 4,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("bindless slab"),
            layout: &pipeline.get_bind_group_layout(0),
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: wgpu::BindingResource::Buffer(slab.table.binding()),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: slab.data.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 2,
                    resource: out.as_entire_binding(),
                },
            ],
        });
        let mut encoder = device.create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            pass.set_pipeline(&pipeline);
            pass.set_bind_group(0, &bind_group, &[]);
            pass.dispatch_workgroups(count.div_ceil(64), 1, 1);
        }
        queue.submit([encoder.finish()]);
        let bytes = readback::copy_async(device, queue, &out, 0, out.size()).await?;
        let values: Vec<u32> = bytemuck::pod_collect_to_vec(&bytes);
        results.insert(slab.id, values[..count as usize].to_vec());
    }
    Ok(WalkResults(results))
}
