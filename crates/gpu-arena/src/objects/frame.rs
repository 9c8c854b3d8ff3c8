//! The per-frame pair: [`ObjectPool::cull`] (into the caller's encoder) and
//! [`ObjectPool::draw`] (into the caller's render pass), and
//! [`ObjectPool::read_visible`], which reads the GPU's answer back for tests.

use bytemuck::Pod;

use crate::error::ArenaError;
use crate::mesh_pool::{IndexType, MeshPool};
use crate::objects::cull::{ARGS_BYTES, CameraUniform, SlabRegion};
use crate::objects::{CullPath, CullRecord, CullReport, Frustum, ObjectHandle, ObjectPool, State};
use crate::readback::{self, Readback};

impl<T: Pod> ObjectPool<T> {
    /// Culls every object against `frustum`. On the GPU paths, records into
    /// `encoder` the upload of the camera and a compute pass that writes the visible
    /// objects' draw arguments (compacted per slab) and counts; on the CPU path,
    /// tests the bounds here. Changed object data and bounds are written too.
    /// Record the render pass that calls [`Self::draw`] after this, before the next
    /// cull (the arguments buffer holds one cull's answer).
    ///
    /// When the mesh pool's [`MeshPool::layout_generation`] changed (meshes moved or
    /// went), every object's draw arguments are re-read first: O(objects), once.
    /// Otherwise the CPU work is O(slabs) on the GPU paths.
    ///
    /// # Errors
    /// [`ArenaError::ForeignHandle`] for another mesh pool than the objects'; device
    /// errors when a buffer cannot grow.
    ///
    /// ```
    /// # use gpu_arena::objects::{Bounds, Frustum, ObjectPool};
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let meshes = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u32>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// # let mesh = meshes.insert(&[[0.0; 3]; 3], &[0, 1, 2]).unwrap();
    /// # let objects = ObjectPool::<u32>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// # objects.insert(&meshes, mesh, Bounds::sphere([0.0, 0.0, 0.5], 0.1), 0).unwrap();
    /// let identity = [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]];
    /// let mut encoder = gpu.device.create_command_encoder(&Default::default());
    /// let report = objects.cull(&mut encoder, &meshes, &Frustum::from_view_projection(identity)).unwrap();
    /// assert_eq!(report.objects, 1);
    /// gpu.queue.submit([encoder.finish()]);
    /// ```
    pub fn cull<V: Pod, I: IndexType>(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        pool: &MeshPool<V, I>,
        frustum: &Frustum,
    ) -> Result<CullReport, ArenaError> {
        self.staging.maintain();
        let mut guard = self.state.lock();
        let state = &mut *guard;
        self.check_pool(state, pool, None)?;
        let layout = pool.layout_generation();
        if state.pool.is_some_and(|(_, seen)| seen != layout) {
            self.refresh(state, pool)?;
        }
        let objects = state.owners.len() as u32;
        let mut base = 0;
        state.regions = state
            .slab_counts
            .iter()
            .map(|&capacity| {
                let region = SlabRegion { base, capacity };
                base += capacity;
                region
            })
            .collect();
        state.data.flush()?;
        state.records.flush()?;
        let slabs = state.regions.iter().filter(|r| r.capacity > 0).count() as u32;
        let mut report = CullReport {
            objects,
            slabs,
            orphans: state.orphans,
            ..Default::default()
        };
        if let Some(culler) = state.culler.as_mut() {
            let regions = state.regions.len() as u64;
            culler.reserve(&self.device, &self.label, u64::from(objects), regions)?;
            if !state.regions.is_empty() {
                self.queue
                    .write_buffer(&culler.regions, 0, bytemuck::cast_slice(&state.regions));
            }
            let camera = CameraUniform {
                frustum: *frustum,
                object_count: objects,
                _pad: [0; 3],
            };
            let mut writer = self.staging.writer();
            let staged = writer.stage_bytes(bytemuck::bytes_of(&camera))?;
            encoder.copy_buffer_to_buffer(
                &staged.buffer,
                staged.offset,
                &culler.camera,
                0,
                staged.size,
            );
            writer.close(encoder);
            let table = state.records.binding()?;
            report.workgroups = culler.record(
                &self.device,
                encoder,
                (&table.buffer, table.range.offset, table.range.size),
                objects,
                state.regions.len() as u32,
                matches!(self.path, CullPath::ZeroInstances(_)),
            )?;
        } else {
            let records = state.records.records();
            state.visible = records
                .iter()
                .enumerate()
                .filter(|(_, r)| r.index_count > 0 && frustum.contains(&r.bounds))
                .map(|(k, r)| (r.slab, k as u32))
                .collect();
            state.visible.sort_by_key(|&(slab, _)| slab);
            report.visible_on_cpu = Some(state.visible.len() as u32);
        }
        state.changes = 0;
        state.culled_layout = Some(layout);
        Ok(report)
    }

    /// Draws what the last [`Self::cull`] found visible: per slab with objects, binds
    /// the slab's vertex buffer (at `vertex_slot`) and index buffer, then one
    /// `multi_draw_indexed_indirect_count` (or `multi_draw_indexed_indirect` over
    /// the slab's region), or one `draw_indexed` per visible object on the CPU path.
    /// Each draw's `first_instance` is its object's index in the data table. Returns
    /// the draw calls issued.
    ///
    /// # Errors
    /// [`ArenaError::NotCulled`] when objects, or the mesh pool's layout, changed
    /// since that cull; [`ArenaError::Uncommitted`] while the mesh pool has inserts
    /// waiting; [`ArenaError::ForeignHandle`] for another mesh pool.
    ///
    /// ```no_run
    /// # fn frame(objects: &gpu_arena::objects::ObjectPool<u32>, meshes: &gpu_arena::mesh_pool::MeshPool<[f32; 3], u32>, pass: &mut wgpu::RenderPass<'_>) {
    /// // with the pipeline and the bind group of objects.data_binding() set:
    /// let calls = objects.draw(pass, meshes, 0).unwrap();
    /// # let _ = calls;
    /// # }
    /// ```
    pub fn draw<V: Pod, I: IndexType>(
        &self,
        pass: &mut wgpu::RenderPass<'_>,
        pool: &MeshPool<V, I>,
        vertex_slot: u32,
    ) -> Result<u32, ArenaError> {
        let state = self.state.lock();
        self.check_pool(&state, pool, None)?;
        if state.changes > 0 || state.culled_layout != Some(pool.layout_generation()) {
            return Err(ArenaError::NotCulled {
                label: self.label.clone(),
                changes: state.changes,
            });
        }
        let mut calls = 0;
        for view in pool.slabs()? {
            let slot = view.id.key.slot;
            let Some(&region) = state.regions.get(slot as usize) else {
                continue;
            };
            if region.capacity == 0 {
                continue;
            }
            pass.set_vertex_buffer(vertex_slot, view.vertex_buffer.slice(..));
            pass.set_index_buffer(view.index_buffer.slice(..), I::FORMAT);
            calls += self.draw_slab(&state, pass, slot, region);
        }
        Ok(calls)
    }

    fn draw_slab(
        &self,
        state: &State<T>,
        pass: &mut wgpu::RenderPass<'_>,
        slot: u32,
        region: SlabRegion,
    ) -> u32 {
        let offset = u64::from(region.base) * ARGS_BYTES;
        match (self.path, state.culler.as_ref()) {
            (CullPath::Counted(_), Some(culler)) => {
                pass.multi_draw_indexed_indirect_count(
                    &culler.args,
                    offset,
                    &culler.counts,
                    u64::from(slot) * 4,
                    region.capacity,
                );
                1
            }
            (CullPath::ZeroInstances(_), Some(culler)) => {
                pass.multi_draw_indexed_indirect(&culler.args, offset, region.capacity);
                1
            }
            _ => {
                let records = state.records.records();
                let start = state.visible.partition_point(|&(s, _)| s < slot);
                let mut calls = 0;
                for &(_, k) in state.visible[start..]
                    .iter()
                    .take_while(|&&(s, _)| s == slot)
                {
                    let r: &CullRecord = &records[k as usize];
                    pass.draw_indexed(
                        r.first_index..r.first_index + r.index_count,
                        r.base_vertex,
                        k..k + 1,
                    );
                    calls += 1;
                }
                calls
            }
        }
    }

    /// The objects the last cull found visible, read back from the GPU without
    /// blocking ([`Readback`]), or taken from the CPU path's answer. Submit the cull's
    /// encoder first (the copy is submitted by this call, after it).
    ///
    /// ```
    /// # use gpu_arena::objects::{Bounds, Frustum, ObjectPool};
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let meshes = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u32>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// # let mesh = meshes.insert(&[[0.0; 3]; 3], &[0, 1, 2]).unwrap();
    /// # let objects = ObjectPool::<u32>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let seen = objects.insert(&meshes, mesh, Bounds::sphere([0.0, 0.0, 0.5], 0.1), 0).unwrap();
    /// let identity = [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]];
    /// let mut encoder = gpu.device.create_command_encoder(&Default::default());
    /// objects.cull(&mut encoder, &meshes, &Frustum::from_view_projection(identity)).unwrap();
    /// gpu.queue.submit([encoder.finish()]);
    /// assert_eq!(objects.read_visible_async().wait().unwrap(), [seen]);
    /// ```
    pub fn read_visible_async(&self) -> Readback<Vec<ObjectHandle>> {
        let state = self.state.lock();
        let owners = state.owners.clone();
        let to_handles = move |mut dense: Vec<u32>| -> Vec<ObjectHandle> {
            dense.sort_unstable();
            dense
                .into_iter()
                .filter_map(|k| owners.get(k as usize))
                .map(|&key| ObjectHandle { key })
                .collect()
        };
        let Some(culler) = state.culler.as_ref() else {
            return Readback::ready(to_handles(state.visible.iter().map(|&(_, k)| k).collect()));
        };
        let objects = state.owners.len() as u64;
        let slots = state.regions.len() as u64;
        let (args_bytes, count_bytes) = (objects * ARGS_BYTES, slots * 4);
        if args_bytes == 0 || count_bytes == 0 {
            return Readback::ready(Vec::new());
        }
        let staging = readback::staging_buffer(&self.device, args_bytes + count_bytes);
        let mut encoder = self.device.create_command_encoder(&Default::default());
        encoder.copy_buffer_to_buffer(&culler.args, 0, &staging, 0, args_bytes);
        encoder.copy_buffer_to_buffer(&culler.counts, 0, &staging, args_bytes, count_bytes);
        let regions: Vec<(u32, u32)> = state.regions.iter().map(|r| (r.base, r.capacity)).collect();
        Readback::submit(
            &self.device,
            &self.queue,
            encoder,
            staging,
            args_bytes + count_bytes,
            move |bytes| {
                let words: Vec<u32> = bytemuck::pod_collect_to_vec(bytes);
                let (args, counts) = words.split_at((objects * 5) as usize);
                let mut found = Vec::new();
                for (&(base, capacity), &count) in regions.iter().zip(counts) {
                    for slot in 0..count.min(capacity) {
                        let draw = &args[((base + slot) * 5) as usize..][..5];
                        if draw[1] > 0 {
                            found.push(draw[4]);
                        }
                    }
                }
                to_handles(found)
            },
        )
    }

    /// The objects the last cull found visible (blocking: waits for
    /// [`Self::read_visible_async`]; for tests and tools; native only).
    ///
    /// # Errors
    /// [`ArenaError::Readback`].
    ///
    /// ```
    /// # use gpu_arena::objects::{Bounds, Frustum, ObjectPool};
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let meshes = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u32>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// # let mesh = meshes.insert(&[[0.0; 3]; 3], &[0, 1, 2]).unwrap();
    /// # let objects = ObjectPool::<u32>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let seen = objects.insert(&meshes, mesh, Bounds::sphere([0.0, 0.0, 0.5], 0.1), 0).unwrap();
    /// objects.insert(&meshes, mesh, Bounds::sphere([0.0, 0.0, -5.0], 0.1), 1).unwrap(); // behind
    /// let identity = [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]];
    /// let mut encoder = gpu.device.create_command_encoder(&Default::default());
    /// objects.cull(&mut encoder, &meshes, &Frustum::from_view_projection(identity)).unwrap();
    /// gpu.queue.submit([encoder.finish()]);
    /// assert_eq!(objects.read_visible().unwrap(), [seen]);
    /// ```
    #[cfg(not(target_arch = "wasm32"))]
    pub fn read_visible(&self) -> Result<Vec<ObjectHandle>, ArenaError> {
        self.read_visible_async().wait()
    }

    /// Re-reads every object's draw arguments after the mesh pool's layout changed;
    /// objects whose mesh is gone draw nothing from now on.
    fn refresh<V: Pod, I: IndexType>(
        &self,
        state: &mut State<T>,
        pool: &MeshPool<V, I>,
    ) -> Result<(), ArenaError> {
        let (layout, resolved) = pool.resolve_meshes(state.meshes.iter().copied());
        state.slab_counts.clear();
        state.orphans = 0;
        for (k, resolved) in resolved.into_iter().enumerate() {
            let bounds = state.records.records()[k].bounds;
            let record = CullRecord::new(bounds, resolved);
            if record != state.records.records()[k] {
                state.records.set(k as u32, record)?;
            }
            if record.index_count > 0 {
                state.count_in(record.slab, 1);
            } else {
                state.orphans += 1;
            }
        }
        if let Some((owner, _)) = state.pool {
            state.pool = Some((owner, layout));
        }
        Ok(())
    }
}
