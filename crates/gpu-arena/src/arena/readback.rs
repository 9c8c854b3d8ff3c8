//! Readback: copying allocations (or the whole buffer) back from the GPU. Blocking:
//! for tests and debugging on native.

use bytemuck::Pod;

use crate::arena::Arena;
use crate::error::ArenaError;
use crate::handle::{ArenaHandle, TypedHandle};

impl Arena {
    /// Copies an allocation's requested bytes back from the GPU (blocking: submits a
    /// copy, maps a staging buffer and waits). For tests and debugging.
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
    pub fn read(&self, handle: impl Into<ArenaHandle>) -> Result<Vec<u8>, ArenaError> {
        let (staging, len, submission) = {
            let mut state = self.state.lock();
            let slot = state.resolve(&self.core, handle.into())?.clone();
            let buffer = state.buffer_now(&self.core)?;
            let (staging, submission) = self.copy_out(buffer, slot.offset, slot.size);
            (staging, slot.len, submission)
        };
        read_back(&self.core.device, &staging, submission, len)
    }

    /// [`Self::read`] as elements of `T`.
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
    pub fn read_slice<T: Pod>(&self, handle: TypedHandle<T>) -> Result<Vec<T>, ArenaError> {
        Ok(bytemuck::pod_collect_to_vec(&self.read(handle.raw)?))
    }

    /// Reads the whole buffer back (blocking), e.g. to check many allocations at once.
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
    pub fn read_all(&self) -> Result<Vec<u8>, ArenaError> {
        let (staging, len, submission) = {
            let mut state = self.state.lock();
            let capacity = state.capacity;
            let buffer = state.buffer_now(&self.core)?;
            let (staging, submission) = self.copy_out(buffer, 0, capacity);
            (staging, capacity, submission)
        };
        read_back(&self.core.device, &staging, submission, len)
    }

    /// Copies `size` bytes at `offset` of `buffer` into a new mappable staging buffer
    /// and submits the copy.
    fn copy_out(
        &self,
        buffer: &wgpu::Buffer,
        offset: u64,
        size: u64,
    ) -> (wgpu::Buffer, wgpu::SubmissionIndex) {
        let staging = self.core.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("gpu-arena readback"),
            size,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut encoder =
            self.core
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("gpu-arena readback"),
                });
        encoder.copy_buffer_to_buffer(buffer, offset, &staging, 0, size);
        let submission = self.core.queue.submit([encoder.finish()]);
        (staging, submission)
    }
}

/// Maps `staging` once `submission` is done and returns its first `len` bytes.
pub(crate) fn read_back(
    device: &wgpu::Device,
    staging: &wgpu::Buffer,
    submission: wgpu::SubmissionIndex,
    len: u64,
) -> Result<Vec<u8>, ArenaError> {
    let (sender, receiver) = std::sync::mpsc::channel();
    staging
        .slice(..)
        .map_async(wgpu::MapMode::Read, move |result| {
            let _ = sender.send(result);
        });
    device
        .poll(wgpu::PollType::Wait {
            submission_index: Some(submission),
            timeout: None,
        })
        .map_err(|e| ArenaError::Readback {
            reason: e.to_string(),
        })?;
    match receiver.recv() {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            return Err(ArenaError::Readback {
                reason: e.to_string(),
            });
        }
        Err(e) => {
            return Err(ArenaError::Readback {
                reason: e.to_string(),
            });
        }
    }
    let bytes = {
        let view = staging
            .get_mapped_range(..)
            .map_err(|e| ArenaError::Readback {
                reason: format!("{e:?}"),
            })?;
        view[..len as usize].to_vec()
    };
    staging.unmap();
    Ok(bytes)
}
