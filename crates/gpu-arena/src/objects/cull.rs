//! How an [`crate::objects::ObjectPool`] culls and draws ([`CullPath`]), and the GPU
//! side of it: the pipeline of the crate's `shaders/cull.wgsl`, the buffers it writes (compacted
//! draw arguments and one count per slab) and the pass that fills them.
//!
//! Three paths, chosen from what the device can do:
//! * `Counted`: the shader appends visible objects' draws to their slab's region and
//!   counts them; one `multi_draw_indexed_indirect_count` per slab draws them.
//! * `ZeroInstances`: no draw-count support: the regions are cleared first, the shader
//!   appends as above, and one `multi_draw_indexed_indirect` per slab draws the whole
//!   region (slots past the visible ones have zero instances).
//! * `Cpu`: no indirect first instance (or no indirect execution): the pool tests
//!   the bounds on the CPU and issues one `draw_indexed` per visible object, whose
//!   `first_instance` every backend honours.

use bytemuck::{Pod, Zeroable};

use crate::arena::core::try_create_buffer;
use crate::error::ArenaError;
use crate::objects::Frustum;

/// Proof that a device draws indirectly with a non-zero `first_instance`
/// (`Features::INDIRECT_FIRST_INSTANCE` enabled, `DownlevelFlags::INDIRECT_EXECUTION`
/// present), from [`CullPath::for_device`].
///
/// ```
/// use gpu_arena::objects::CullPath;
/// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
/// if let CullPath::ZeroInstances(proof) = CullPath::for_device(&gpu.device, &gpu.adapter).without_count() {
///     let _ = CullPath::ZeroInstances(proof); // only a device that has it yields one
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FirstInstanceSupport(());

/// Proof that a device also has `Features::MULTI_DRAW_INDIRECT_COUNT` enabled, from
/// [`CullPath::for_device`].
///
/// ```
/// use gpu_arena::objects::CullPath;
/// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
/// let counted = matches!(CullPath::for_device(&gpu.device, &gpu.adapter), CullPath::Counted(_));
/// assert_eq!(counted, gpu.device.features().contains(wgpu::Features::MULTI_DRAW_INDIRECT_COUNT)
///     && gpu.device.features().contains(wgpu::Features::INDIRECT_FIRST_INSTANCE));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CountSupport(());

/// How an [`crate::objects::ObjectPool`] culls and draws.
///
/// ```
/// use gpu_arena::objects::CullPath;
/// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
/// let path = CullPath::for_device(&gpu.device, &gpu.adapter);
/// assert!(path.on_gpu() || path == CullPath::Cpu);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum CullPath {
    /// Decided from the device: as [`CullPath::for_device`], taking indirect
    /// execution for granted on Vulkan, Metal, DX12 and WebGPU, and not on GL (some
    /// GL ES devices lack it; pass `for_device` the adapter to find out).
    #[default]
    Auto,
    /// GPU culling, one counted multi-draw per slab.
    Counted(CountSupport),
    /// GPU culling, one multi-draw per slab over cleared regions.
    ZeroInstances(FirstInstanceSupport),
    /// CPU culling, one `draw_indexed` per visible object.
    Cpu,
}

impl CullPath {
    /// The best path `device` (opened from `adapter`) supports.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// let path = gpu_arena::objects::CullPath::for_device(&gpu.device, &gpu.adapter);
    /// # let _ = path;
    /// ```
    pub fn for_device(device: &wgpu::Device, adapter: &wgpu::Adapter) -> CullPath {
        let indirect = adapter
            .get_downlevel_capabilities()
            .flags
            .contains(wgpu::DownlevelFlags::INDIRECT_EXECUTION);
        Self::from_features(device.features(), indirect)
    }

    fn from_features(features: wgpu::Features, indirect: bool) -> CullPath {
        if !indirect || !features.contains(wgpu::Features::INDIRECT_FIRST_INSTANCE) {
            CullPath::Cpu
        } else if features.contains(wgpu::Features::MULTI_DRAW_INDIRECT_COUNT) {
            CullPath::Counted(CountSupport(()))
        } else {
            CullPath::ZeroInstances(FirstInstanceSupport(()))
        }
    }

    /// `Auto` resolved for `device`; other paths as they are.
    pub(crate) fn resolve(self, device: &wgpu::Device) -> CullPath {
        match self {
            CullPath::Auto => {
                let indirect = !matches!(device.adapter_info().backend, wgpu::Backend::Gl);
                Self::from_features(device.features(), indirect)
            }
            path => path,
        }
    }

    /// A path that culls on the GPU with what `self` proves, but without a draw count:
    /// `Counted` becomes `ZeroInstances` (to test that path where both work).
    ///
    /// ```
    /// use gpu_arena::objects::CullPath;
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// let path = CullPath::for_device(&gpu.device, &gpu.adapter).without_count();
    /// assert!(!matches!(path, CullPath::Counted(_)));
    /// ```
    pub fn without_count(self) -> CullPath {
        match self {
            CullPath::Counted(_) => CullPath::ZeroInstances(FirstInstanceSupport(())),
            path => path,
        }
    }

    /// Whether this path culls on the GPU.
    ///
    /// ```
    /// assert!(!gpu_arena::objects::CullPath::Cpu.on_gpu());
    /// ```
    pub fn on_gpu(self) -> bool {
        matches!(self, CullPath::Counted(_) | CullPath::ZeroInstances(_))
    }
}

/// `Camera` of the crate's `shaders/cull.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub(crate) struct CameraUniform {
    pub frustum: Frustum,
    pub object_count: u32,
    pub _pad: [u32; 3],
}

/// `SlabRegion` of the crate's `shaders/cull.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub(crate) struct SlabRegion {
    pub base: u32,
    pub capacity: u32,
}

/// Bytes of one `DrawIndexedIndirectArgs`.
pub(crate) const ARGS_BYTES: u64 = 20;

/// Objects per workgroup (the shader's `@workgroup_size`).
const WORKGROUP: u32 = 64;

/// The compute pipeline and its fixed-size buffers; the per-frame buffers grow.
pub(crate) struct Culler {
    pipeline: wgpu::ComputePipeline,
    layout: wgpu::BindGroupLayout,
    pub camera: wgpu::Buffer,
    /// Draw arguments, one slot per object, grouped by slab region.
    pub args: wgpu::Buffer,
    /// One draw count per slab region.
    pub counts: wgpu::Buffer,
    /// The regions (`SlabRegion` per slab slot).
    pub regions: wgpu::Buffer,
    /// The bind group, with the record table binding it was made for.
    bind_group: Option<(wgpu::BindGroup, wgpu::Buffer, u64, u64)>,
}

impl Culler {
    pub fn new(device: &wgpu::Device, label: &str) -> Result<Culler, ArenaError> {
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("gpu-arena cull"),
            source: wgpu::ShaderSource::Wgsl(include_str!("../../shaders/cull.wgsl").into()),
        });
        let storage = |binding, read_only| wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Storage { read_only },
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        };
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("gpu-arena cull"),
            entries: &[
                wgpu::BindGroupLayoutEntry {
                    binding: 0,
                    visibility: wgpu::ShaderStages::COMPUTE,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: false,
                        min_binding_size: None,
                    },
                    count: None,
                },
                storage(1, true),
                storage(2, true),
                storage(3, false),
                storage(4, false),
            ],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("gpu-arena cull"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some("gpu-arena cull"),
            layout: Some(&pipeline_layout),
            module: &module,
            entry_point: Some("cull"),
            compilation_options: Default::default(),
            cache: None,
        });
        let buffer = |what: &str, size: u64, usage| {
            try_create_buffer(device, &format!("{label} {what}"), size, usage).map_err(|reason| {
                ArenaError::Device {
                    label: label.to_owned(),
                    requested: size,
                    reason,
                }
            })
        };
        let copy = wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::COPY_SRC;
        let indirect = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::INDIRECT | copy;
        Ok(Culler {
            camera: buffer(
                "cull camera",
                size_of::<CameraUniform>() as u64,
                wgpu::BufferUsages::UNIFORM | copy,
            )?,
            args: buffer("draw arguments", 64 * ARGS_BYTES, indirect)?,
            counts: buffer("draw counts", 64, indirect)?,
            regions: buffer("slab regions", 64, wgpu::BufferUsages::STORAGE | copy)?,
            pipeline,
            layout,
            bind_group: None,
        })
    }

    /// Grows the argument, count and region buffers to hold `objects` draws and
    /// `slabs` regions (by doubling; contents are rewritten every frame).
    pub fn reserve(
        &mut self,
        device: &wgpu::Device,
        label: &str,
        objects: u64,
        slabs: u64,
    ) -> Result<(), ArenaError> {
        let grow = |buffer: &mut wgpu::Buffer, bytes: u64, what: &str| {
            if buffer.size() >= bytes {
                return Ok(false);
            }
            let size = bytes.next_power_of_two().max(buffer.size() * 2);
            let new = try_create_buffer(device, &format!("{label} {what}"), size, buffer.usage())
                .map_err(|reason| ArenaError::Device {
                label: label.to_owned(),
                requested: size,
                reason,
            })?;
            *buffer = new;
            Ok::<bool, ArenaError>(true)
        };
        let mut changed = grow(
            &mut self.args,
            objects.max(1) * ARGS_BYTES,
            "draw arguments",
        )?;
        changed |= grow(&mut self.counts, slabs.max(1) * 4, "draw counts")?;
        changed |= grow(
            &mut self.regions,
            slabs.max(1) * size_of::<SlabRegion>() as u64,
            "slab regions",
        )?;
        if changed {
            self.bind_group = None;
        }
        Ok(())
    }

    /// Records the culling pass over `objects` records into `encoder`: counts (and,
    /// without a draw count, the argument slots) cleared, then one invocation per
    /// object. `records` is the bound cull-record table.
    #[allow(clippy::too_many_arguments)]
    pub fn record(
        &mut self,
        device: &wgpu::Device,
        encoder: &mut wgpu::CommandEncoder,
        records: (&wgpu::Buffer, u64, u64),
        objects: u32,
        slabs: u32,
        clear_args: bool,
    ) -> Result<u32, ArenaError> {
        encoder.clear_buffer(&self.counts, 0, Some(u64::from(slabs.max(1)) * 4));
        if clear_args {
            encoder.clear_buffer(&self.args, 0, Some(u64::from(objects.max(1)) * ARGS_BYTES));
        }
        if objects == 0 {
            return Ok(0);
        }
        let (buffer, offset, size) = records;
        let stale = self
            .bind_group
            .as_ref()
            .is_none_or(|(_, b, o, s)| b != buffer || *o != offset || *s != size);
        if stale {
            let group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("gpu-arena cull"),
                layout: &self.layout,
                entries: &[
                    wgpu::BindGroupEntry {
                        binding: 0,
                        resource: self.camera.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 1,
                        resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                            buffer,
                            offset,
                            size: wgpu::BufferSize::new(size),
                        }),
                    },
                    wgpu::BindGroupEntry {
                        binding: 2,
                        resource: self.regions.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 3,
                        resource: self.args.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 4,
                        resource: self.counts.as_entire_binding(),
                    },
                ],
            });
            self.bind_group = Some((group, buffer.clone(), offset, size));
        }
        let Some((group, ..)) = &self.bind_group else {
            unreachable!("made above");
        };
        let (x, y) = dispatch_size(
            objects,
            device.limits().max_compute_workgroups_per_dimension,
        )
        .ok_or_else(|| ArenaError::OverLimit {
            label: "cull".into(),
            requested: u64::from(objects),
            limit: u64::from(WORKGROUP)
                * u64::from(device.limits().max_compute_workgroups_per_dimension).pow(2),
            what: crate::error::Limit::MaxComputeWorkgroups,
        })?;
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some("gpu-arena cull"),
            timestamp_writes: None,
        });
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, group, &[]);
        pass.dispatch_workgroups(x, y, 1);
        Ok(x * y)
    }
}

/// Workgroups `(x, y)` covering `objects` within `max` per dimension.
pub(crate) fn dispatch_size(objects: u32, max: u32) -> Option<(u32, u32)> {
    let groups = objects.div_ceil(WORKGROUP);
    if groups <= max {
        return Some((groups, 1));
    }
    let y = groups.div_ceil(max);
    (y <= max).then(|| (groups.div_ceil(y), y))
}

#[cfg(test)]
mod tests {
    use super::dispatch_size;

    #[test]
    fn dispatches_wrap_into_a_second_dimension_past_the_limit() {
        assert_eq!(dispatch_size(100, 65_535), Some((2, 1)));
        assert_eq!(dispatch_size(64 * 10, 4), Some((4, 3))); // 10 groups as 4 x 3 >= 10
        assert_eq!(dispatch_size(64 * 17, 4), None); // 17 groups do not fit in 4 x 4
    }
}
