//! The smallest complete test of a compute shader on a machine without a GPU: copy it
//! into your project as a template.
//!
//! It opens a headless device (honouring `WGPU_BACKEND` / `WGPU_ADAPTER_NAME`; on CI
//! install Mesa's `mesa-vulkan-drivers`, or use llvmpipe with `WGPU_BACKEND=gl`),
//! uploads input into an arena, runs `shaders/double.wgsl`, reads the result back and
//! compares it with the CPU. It exits non-zero on any mismatch, and fails (never
//! skips) when no adapter exists.
//!
//! ```sh
//! WGPU_BACKEND=vulkan cargo run --example headless_compute
//! ```

use gpu_arena::headless::Headless;
use gpu_arena::{Arena, ArenaDescriptor};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();

    // 1. A device without a window. The error says what to install if there is none.
    let gpu = Headless::new(&Default::default())?;

    // 2. Input in a storage arena, at an offset the device can bind.
    let arena = Arena::new(
        &gpu.device,
        &gpu.queue,
        &ArenaDescriptor {
            label: Some("values"),
            usage: wgpu::BufferUsages::STORAGE,
            ..Default::default()
        },
    )?;
    let input: Vec<u32> = (0..4096).collect();
    let values = arena.alloc_bindable(input.len() as u64 * 4)?;
    arena.write(values, 0, bytemuck::cast_slice(&input))?;

    // 3. The kernel: values[i] = values[i] * 2 + 1.
    let module = gpu
        .device
        .create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("double"),
            source: wgpu::ShaderSource::Wgsl(include_str!("../shaders/double.wgsl").into()),
        });
    let pipeline = gpu
        .device
        .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some("double"),
            layout: None,
            module: &module,
            entry_point: Some("main"),
            compilation_options: Default::default(),
            cache: None,
        });
    let slice = arena.binding(values)?;
    let bind_group = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: None,
        layout: &pipeline.get_bind_group_layout(0),
        entries: &[wgpu::BindGroupEntry {
            binding: 0,
            resource: wgpu::BindingResource::Buffer(slice.binding()),
        }],
    });
    let mut encoder = gpu.device.create_command_encoder(&Default::default());
    {
        let mut pass = encoder.begin_compute_pass(&Default::default());
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind_group, &[]);
        pass.dispatch_workgroups((input.len() as u32).div_ceil(64), 1, 1);
    }
    gpu.queue.submit([encoder.finish()]);

    // 4. Read back and compare with the CPU.
    let output: Vec<u32> = bytemuck::pod_collect_to_vec(&arena.read(values)?);
    let expected: Vec<u32> = input.iter().map(|x| x * 2 + 1).collect();
    if output != expected {
        let first = output
            .iter()
            .zip(&expected)
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        return Err(format!(
            "mismatch at {first}: GPU {} vs CPU {}",
            output[first], expected[first]
        )
        .into());
    }
    println!(
        "OK on {}: {} values doubled plus one",
        gpu.describe(),
        output.len()
    );
    arena.free(values)?; // an arena dropped with live allocations logs a leak report
    Ok(())
}
