//! One dispatch of `shaders/bindless_walk.wgsl` over a bindless pool's whole table,
//! and the same hash on the CPU (the `bindless_pool` example and the GPU tests).

use gpu_arena::bindless::BindlessPool;

use crate::readback;

/// What the shader computes for one record.
pub fn hash(record: &[u32]) -> u32 {
    record.iter().fold(0u32, |h, w| {
        h.wrapping_mul(31).wrapping_add(*w).wrapping_add(1)
    })
}

/// Runs the walk over every table entry and returns one result per entry
/// (0 for removed objects).
pub fn run(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    pool: &BindlessPool,
) -> Result<Vec<u32>, Box<dyn std::error::Error>> {
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
    let count = pool.table_len();
    let results = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("results"),
        size: u64::from(count.max(1)) * 4,
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    });
    let staging = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("results readback"),
        size: results.size(),
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let table = pool.table_slice()?;
    let data = pool.data_buffer();
    let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("bindless"),
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
    let mut encoder = device.create_command_encoder(&Default::default());
    {
        let mut pass = encoder.begin_compute_pass(&Default::default());
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind_group, &[]);
        pass.dispatch_workgroups(count.div_ceil(64), 1, 1);
    }
    encoder.copy_buffer_to_buffer(&results, 0, &staging, 0, results.size());
    queue.submit([encoder.finish()]);
    let out: Vec<u32> = bytemuck::pod_collect_to_vec(&readback::map(device, &staging));
    Ok(out[..count as usize].to_vec())
}
