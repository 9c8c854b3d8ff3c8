//! GPU tests of arena storage bindings: sub-ranges bound for a compute shader, and
//! bindings the device's offset alignment refuses.

use gpu_arena::{ArenaDescriptor, ArenaError};
use gpu_suballoc::on_every_adapter;

use crate::arena::arena;

#[test]
fn storage_subranges_feed_a_compute_shader_that_writes_another_allocation() {
    on_every_adapter(|gpu| {
        let arena = arena(
            gpu,
            ArenaDescriptor {
                label: Some("storage"),
                usage: wgpu::BufferUsages::STORAGE,
                ..Default::default()
            },
        );
        let _misalign = arena.alloc(4).unwrap(); // make sure the next ranges need aligning
        let input: Vec<u32> = (0..1000).map(|i| i * 7 + 3).collect();
        let input_h = arena.alloc_bindable(4000).unwrap();
        arena
            .write(input_h, 0, bytemuck::cast_slice(&input))
            .unwrap();
        let output_h = arena.alloc_bindable(4000).unwrap();
        let align = u64::from(gpu.device.limits().min_storage_buffer_offset_alignment);
        for h in [input_h, output_h] {
            assert_eq!(arena.range(h).unwrap().offset % align, 0);
        }

        let module = gpu
            .device
            .create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some("arena_transform"),
                source: wgpu::ShaderSource::Wgsl(
                    include_str!("../../shaders/arena_transform.wgsl").into(),
                ),
            });
        let pipeline = gpu
            .device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some("arena_transform"),
                layout: None,
                module: &module,
                entry_point: Some("main"),
                compilation_options: Default::default(),
                cache: None,
            });
        let input_s = arena.binding(input_h).unwrap();
        let output_s = arena.binding(output_h).unwrap();
        let bind_group = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &pipeline.get_bind_group_layout(0),
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: wgpu::BindingResource::Buffer(input_s.binding()),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: wgpu::BindingResource::Buffer(output_s.binding()),
                },
            ],
        });
        let mut encoder = gpu.device.create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            pass.set_pipeline(&pipeline);
            pass.set_bind_group(0, &bind_group, &[]);
            pass.dispatch_workgroups(1000u32.div_ceil(64), 1, 1);
        }
        gpu.queue.submit([encoder.finish()]);
        let out: Vec<u32> = bytemuck::pod_collect_to_vec(&arena.read(output_h).unwrap());
        let reference: Vec<u32> = input.iter().map(|x| x * 3 + 1).collect();
        assert_eq!(out, reference);
        assert_eq!(
            bytemuck::cast_slice::<u8, u32>(&arena.read(input_h).unwrap()),
            input.as_slice(),
            "input untouched"
        );
    });
}

#[test]
fn unaligned_storage_binding_is_refused() {
    on_every_adapter(|gpu| {
        let arena = arena(
            gpu,
            ArenaDescriptor {
                usage: wgpu::BufferUsages::STORAGE,
                ..Default::default()
            },
        );
        let _a = arena.alloc(4).unwrap();
        let b = arena.alloc(4).unwrap();
        if arena.bind_alignment() > 4 {
            assert!(matches!(
                arena.binding(b),
                Err(ArenaError::Misaligned {
                    what: "binding offset",
                    ..
                })
            ));
        }
        assert!(arena.binding(arena.alloc_bindable(4).unwrap()).is_ok());
    });
}
