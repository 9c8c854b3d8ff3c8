//! Reading a pool back from the GPU: a mesh's vertices and indices, a slab's draw
//! records. Each commits staged inserts first, so what comes back is what a draw
//! would read; the `_async` forms never block, the plain ones wait (native only).

use bytemuck::Pod;
use wgpu::util::DrawIndexedIndirectArgs;

use crate::error::ArenaError;
use crate::mesh_pool::{IndexType, MeshHandle, MeshPool, PoolState};
use crate::readback::{self, Readback};
use crate::slab::SlabId;

/// A mesh read back: its vertices and indices.
type MeshData<V, I> = (Vec<V>, Vec<I>);

impl<V: Pod, I: IndexType> MeshPool<V, I> {
    /// Reads a mesh's vertices and indices back from the GPU without blocking
    /// ([`Readback`]; one copy per array, one submission). Commits staged inserts first
    /// ([`Self::commit_now`]); a stale or foreign handle makes it fail with that error.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let m = pool.insert(&[[0.5; 3]; 3], &[0, 1, 2]).unwrap();
    /// assert_eq!(pool.read_mesh_async(m).wait().unwrap(), (vec![[0.5; 3]; 3], vec![0, 1, 2]));
    /// ```
    pub fn read_mesh_async(&self, mesh: MeshHandle) -> Readback<(Vec<V>, Vec<I>)> {
        let mut state = self.state.lock();
        match self.gather_mesh(&mut state, mesh) {
            Ok(readback) => readback,
            Err(e) => Readback::failed(e),
        }
    }

    /// [`Self::read_mesh_async`] under the pool's lock.
    fn gather_mesh(
        &self,
        state: &mut PoolState<V, I>,
        mesh: MeshHandle,
    ) -> Result<Readback<MeshData<V, I>>, ArenaError> {
        self.commit_now_locked(state)?;
        let entry = state.meshes.get(mesh.key, &self.label)?;
        let slab = &state.slabs.get(entry.slab, &self.label)?.slab;
        let vertices = slab.vertices.range(entry.vertices)?;
        let indices = slab.indices.range(entry.indices)?;
        let staging = readback::staging_buffer(&self.device, vertices.size + indices.size);
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("gpu-arena mesh readback"),
            });
        slab.vertices
            .copy_out(entry.vertices, &mut encoder, &staging, 0)?;
        slab.indices
            .copy_out(entry.indices, &mut encoder, &staging, vertices.size)?;
        let (vertex_len, index_at) = (vertices.len as usize, vertices.size as usize);
        let index_len = indices.len as usize;
        Ok(Readback::submit(
            &self.device,
            &self.queue,
            encoder,
            staging,
            vertices.size + indices.size,
            move |bytes| {
                (
                    bytemuck::pod_collect_to_vec(&bytes[..vertex_len]),
                    bytemuck::pod_collect_to_vec(&bytes[index_at..][..index_len]),
                )
            },
        ))
    }

    /// Reads a slab's draw records back from the GPU without blocking. Commits staged
    /// inserts first.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let m = pool.insert(&[[0.0; 3]; 3], &[0, 1, 2]).unwrap();
    /// let draw = pool.draw_args(m).unwrap();
    /// assert_eq!(pool.read_records_async(draw.slab).wait().unwrap()[0].index_count, 3);
    /// ```
    pub fn read_records_async(&self, slab: SlabId) -> Readback<Vec<DrawIndexedIndirectArgs>> {
        let mut state = self.state.lock();
        if let Err(e) = self.commit_now_locked(&mut state) {
            return Readback::failed(e);
        }
        match state.slabs.get(slab, &self.label) {
            Ok(slab) => slab.slab.records.read_async(),
            Err(e) => Readback::failed(e),
        }
    }

    /// Reads a mesh's vertices and indices back from the GPU (blocking; native only;
    /// for tests and debugging). Commits staged inserts first ([`Self::commit_now`]).
    ///
    /// # Errors
    /// A stale or foreign handle, or [`ArenaError::Readback`].
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let m = pool.insert(&[[0.5; 3]; 3], &[0, 1, 2]).unwrap();
    /// assert_eq!(pool.read_mesh(m).unwrap(), (vec![[0.5; 3]; 3], vec![0, 1, 2]));
    /// ```
    #[cfg(not(target_arch = "wasm32"))]
    pub fn read_mesh(&self, mesh: MeshHandle) -> Result<(Vec<V>, Vec<I>), ArenaError> {
        self.read_mesh_async(mesh).wait()
    }

    /// Reads a slab's draw records back from the GPU (blocking; native only; for tests
    /// and debugging). Commits staged inserts first.
    ///
    /// # Errors
    /// A stale slab id, or [`ArenaError::Readback`].
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let m = pool.insert(&[[0.0; 3]; 3], &[0, 1, 2]).unwrap();
    /// let draw = pool.draw_args(m).unwrap();
    /// assert_eq!(pool.read_records(draw.slab).unwrap()[0].index_count, 3);
    /// ```
    #[cfg(not(target_arch = "wasm32"))]
    pub fn read_records(&self, slab: SlabId) -> Result<Vec<DrawIndexedIndirectArgs>, ArenaError> {
        self.read_records_async(slab).wait()
    }
}
