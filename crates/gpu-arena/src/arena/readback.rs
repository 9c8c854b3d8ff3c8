//! Readback: copying allocations (or the whole buffer) back from the GPU. The
//! `*_async` forms never block ([`Readback`]); the plain ones wait for them (native
//! only, for tests and debugging).

use bytemuck::Pod;

use crate::arena::Arena;
use crate::error::ArenaError;
use crate::handle::{ArenaHandle, TypedHandle};
use crate::readback::Readback;

impl Arena {
    /// Copies an allocation's requested bytes back from the GPU without blocking: the
    /// copy is submitted now (it sees every write made before the call), the bytes
    /// arrive with the returned future ([`Readback`]).
    ///
    /// A stale or foreign handle makes the readback fail with that error.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let h = arena.alloc_slice(b"hello").unwrap();
    /// let bytes = arena.read_async(h); // `bytes.await` in async code
    /// assert_eq!(bytes.wait().unwrap(), b"hello");
    /// ```
    pub fn read_async(&self, handle: impl Into<ArenaHandle>) -> Readback<Vec<u8>> {
        let mut state = self.state.lock();
        let slot = match state.resolve(&self.core, handle.into()) {
            Ok(slot) => slot.clone(),
            Err(e) => return Readback::failed(e),
        };
        let buffer = match state.buffer_now(&self.core) {
            Ok(buffer) => buffer,
            Err(e) => return Readback::failed(e),
        };
        let len = slot.len as usize;
        Readback::copy(
            &self.core.device,
            &self.core.queue,
            buffer,
            slot.offset,
            slot.size,
            move |bytes| bytes[..len].to_vec(),
        )
    }

    /// [`Self::read_async`] as elements of `T`.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let h = arena.alloc_slice(&[1.5f32, 2.5]).unwrap();
    /// assert_eq!(arena.read_slice_async(h).wait().unwrap(), [1.5, 2.5]);
    /// ```
    pub fn read_slice_async<T: Pod>(&self, handle: TypedHandle<T>) -> Readback<Vec<T>> {
        self.read_async(handle.raw)
            .map(|bytes| bytemuck::pod_collect_to_vec(&bytes))
    }

    /// Reads the whole buffer back without blocking, e.g. to check many allocations at
    /// once.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let h = arena.alloc_slice(&[9u8; 4]).unwrap();
    /// let all = arena.read_all_async().wait().unwrap();
    /// let r = arena.range(h).unwrap();
    /// assert_eq!(&all[r.offset as usize..][..4], [9; 4]);
    /// ```
    pub fn read_all_async(&self) -> Readback<Vec<u8>> {
        let mut state = self.state.lock();
        let capacity = state.capacity;
        match state.buffer_now(&self.core) {
            Ok(buffer) => Readback::copy(
                &self.core.device,
                &self.core.queue,
                buffer,
                0,
                capacity,
                |bytes| bytes.to_vec(),
            ),
            Err(e) => Readback::failed(e),
        }
    }

    /// Records a copy of the allocation's reserved bytes into `staging` at `at` (for
    /// readbacks that gather several allocations into one buffer).
    pub(crate) fn copy_out(
        &self,
        handle: impl Into<ArenaHandle>,
        encoder: &mut wgpu::CommandEncoder,
        staging: &wgpu::Buffer,
        at: u64,
    ) -> Result<(), ArenaError> {
        let mut state = self.state.lock();
        let slot = state.resolve(&self.core, handle.into())?.clone();
        let buffer = state.buffer_now(&self.core)?;
        encoder.copy_buffer_to_buffer(buffer, slot.offset, staging, at, slot.size);
        Ok(())
    }

    /// Copies an allocation's requested bytes back from the GPU (blocking: waits for
    /// [`Self::read_async`]; native only). For tests and debugging.
    ///
    /// # Errors
    /// A stale or foreign handle, or [`ArenaError::Readback`].
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let h = arena.alloc_slice(b"hello").unwrap();
    /// assert_eq!(arena.read(h).unwrap(), b"hello");
    /// ```
    #[cfg(not(target_arch = "wasm32"))]
    pub fn read(&self, handle: impl Into<ArenaHandle>) -> Result<Vec<u8>, ArenaError> {
        self.read_async(handle).wait()
    }

    /// [`Self::read`] as elements of `T` (blocking; native only).
    ///
    /// # Errors
    /// As [`Self::read`].
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let h = arena.alloc_slice(&[1.5f32, 2.5]).unwrap();
    /// assert_eq!(arena.read_slice(h).unwrap(), [1.5, 2.5]);
    /// ```
    #[cfg(not(target_arch = "wasm32"))]
    pub fn read_slice<T: Pod>(&self, handle: TypedHandle<T>) -> Result<Vec<T>, ArenaError> {
        self.read_slice_async(handle).wait()
    }

    /// Reads the whole buffer back (blocking; native only).
    ///
    /// # Errors
    /// [`ArenaError::Readback`].
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let h = arena.alloc_slice(&[9u8; 4]).unwrap();
    /// let all = arena.read_all().unwrap();
    /// let r = arena.range(h).unwrap();
    /// assert_eq!(&all[r.offset as usize..][..4], [9; 4]);
    /// ```
    #[cfg(not(target_arch = "wasm32"))]
    pub fn read_all(&self) -> Result<Vec<u8>, ArenaError> {
        self.read_all_async().wait()
    }
}
