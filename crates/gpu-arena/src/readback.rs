//! [`Readback`]: GPU data copied back to the CPU without blocking, the one way every
//! reader in the crate (arenas, tables, pools) gets its bytes.
//!
//! A read records its copy into a fresh `MAP_READ` buffer and submits it when it is
//! asked for, so it sees all work submitted before it; the returned future maps the
//! buffer with `map_async` and is woken by the map callback. Nothing here waits: in
//! the browser the callback comes from the event loop, and an `await` is all it takes.
//! On native, wgpu runs map callbacks only inside `Device::poll`: there the future
//! polls the device, without waiting, each time it is polled, and until the copy is
//! done asks to be polled again, so it completes under any executor (`pollster`,
//! `tokio`) without blocking the thread, at the price of re-polling its task. On
//! WebGL2 the same polling is driven from a zero-delay timer, since its fences change
//! only between the browser's tasks. To wait without spinning, [`Readback::wait`]
//! (native only) waits for the copy's submission and then returns the bytes; the
//! blocking `read*` methods of the arenas and pools
//! are that wait on top of their `read*_async` forms.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use parking_lot::Mutex;

use crate::error::ArenaError;

/// What the map callback leaves for the future.
#[derive(Default)]
struct Mapping {
    /// The callback's answer, once it ran.
    result: Option<Result<(), wgpu::BufferAsyncError>>,
    /// Who to wake when it does.
    waker: Option<Waker>,
}

/// Turns the mapped bytes into the reader's value.
type Decode<T> = Box<dyn FnOnce(&[u8]) -> T + Send>;

/// A readback in flight: a future of the bytes (decoded into `T`) that a copy left in
/// a mappable buffer. Dropping it abandons the read.
///
/// ```
/// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
/// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
/// let h = arena.alloc_slice(&[1u32, 2, 3]).unwrap();
/// let pending = arena.read_slice_async(h); // copy submitted now, nothing waited on
/// // On the web: `pending.await`. On native, poll the device, or wait:
/// assert_eq!(pending.wait().unwrap(), [1, 2, 3]);
/// ```
#[must_use = "a readback does nothing unless awaited or waited on"]
pub struct Readback<T> {
    /// Where the read stands.
    stage: Stage<T>,
}

/// The states of a [`Readback`].
enum Stage<T> {
    /// Failed before any copy was made (a stale handle, say).
    Failed(ArenaError),
    /// Answered without the GPU (nothing to copy).
    Ready(T),
    /// A copy was submitted and the buffer is being mapped.
    Mapping(InFlight<T>),
    /// Already returned its value.
    Done,
}

/// A submitted copy and its map request.
struct InFlight<T> {
    device: wgpu::Device,
    /// The device's backend (on the web, WebGL2 needs polling from a timer).
    #[cfg(target_arch = "wasm32")]
    backend: wgpu::Backend,
    staging: wgpu::Buffer,
    submission: wgpu::SubmissionIndex,
    /// Bytes of `staging` that hold the answer.
    len: u64,
    mapping: Arc<Mutex<Mapping>>,
    decode: Decode<T>,
}

impl<T> Readback<T> {
    /// A readback that fails with `error` (nothing was copied).
    pub(crate) fn failed(error: ArenaError) -> Self {
        Readback {
            stage: Stage::Failed(error),
        }
    }

    /// A readback whose answer is known without the GPU.
    pub(crate) fn ready(value: T) -> Self {
        Readback {
            stage: Stage::Ready(value),
        }
    }

    /// Submits `encoder` (holding copies into `staging`, which must be `MAP_READ |
    /// COPY_DST`) and starts mapping `staging`; the answer is its first `len` bytes,
    /// decoded by `decode`. For reading back what your own passes wrote.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// use wgpu::util::DeviceExt;
    /// let source = gpu.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
    ///     label: None, contents: &[1, 2, 3, 4], usage: wgpu::BufferUsages::COPY_SRC,
    /// });
    /// let staging = gpu.device.create_buffer(&wgpu::BufferDescriptor {
    ///     label: None, size: 4, mapped_at_creation: false,
    ///     usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
    /// });
    /// let mut encoder = gpu.device.create_command_encoder(&Default::default());
    /// encoder.copy_buffer_to_buffer(&source, 0, &staging, 0, 4);
    /// let sum = gpu_arena::Readback::submit(&gpu.device, &gpu.queue, encoder, staging, 4,
    ///     |bytes| bytes.iter().map(|&b| u32::from(b)).sum::<u32>());
    /// assert_eq!(sum.wait().unwrap(), 10);
    /// ```
    pub fn submit(
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        encoder: wgpu::CommandEncoder,
        staging: wgpu::Buffer,
        len: u64,
        decode: impl FnOnce(&[u8]) -> T + Send + 'static,
    ) -> Self {
        if len > staging.size() {
            return Self::failed(ArenaError::Readback {
                reason: format!(
                    "asked for {len} bytes of a {}-byte staging buffer",
                    staging.size()
                ),
            });
        }
        let submission = queue.submit([encoder.finish()]);
        let mapping = Arc::new(Mutex::new(Mapping::default()));
        let callback = Arc::clone(&mapping);
        staging
            .slice(..)
            .map_async(wgpu::MapMode::Read, move |result| {
                let waker = {
                    let mut mapping = callback.lock();
                    mapping.result = Some(result);
                    mapping.waker.take()
                };
                if let Some(waker) = waker {
                    waker.wake();
                }
            });
        Readback {
            stage: Stage::Mapping(InFlight {
                device: device.clone(),
                #[cfg(target_arch = "wasm32")]
                backend: device.adapter_info().backend,
                staging,
                submission,
                len,
                mapping,
                decode: Box::new(decode),
            }),
        }
    }

    /// One copy of `size` bytes at `offset` of `source` into a fresh staging buffer,
    /// submitted now; the answer is `decode` of those bytes.
    pub(crate) fn copy(
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        source: &wgpu::Buffer,
        offset: u64,
        size: u64,
        decode: impl FnOnce(&[u8]) -> T + Send + 'static,
    ) -> Self {
        let staging = staging_buffer(device, size);
        let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("gpu-arena readback"),
        });
        encoder.copy_buffer_to_buffer(source, offset, &staging, 0, size);
        Self::submit(device, queue, encoder, staging, size, decode)
    }

    /// Applies `f` to the answer once it arrives.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let h = arena.alloc_slice(b"abc").unwrap();
    /// let len = arena.read_async(h).map(|bytes| bytes.len());
    /// assert_eq!(len.wait().unwrap(), 3);
    /// ```
    pub fn map<U>(self, f: impl FnOnce(T) -> U + Send + 'static) -> Readback<U>
    where
        T: 'static,
    {
        let stage = match self.stage {
            Stage::Failed(e) => Stage::Failed(e),
            Stage::Ready(value) => Stage::Ready(f(value)),
            Stage::Done => Stage::Done,
            Stage::Mapping(flight) => {
                let decode = flight.decode;
                Stage::Mapping(InFlight {
                    device: flight.device,
                    #[cfg(target_arch = "wasm32")]
                    backend: flight.backend,
                    staging: flight.staging,
                    submission: flight.submission,
                    len: flight.len,
                    mapping: flight.mapping,
                    decode: Box::new(move |bytes| f(decode(bytes))),
                })
            }
        };
        Readback { stage }
    }

    /// Whether the answer is there (polling the device once, without waiting, on
    /// native): a later poll or `await` returns at once.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let h = arena.alloc_slice(&[5u8; 4]).unwrap();
    /// let pending = arena.read_async(h);
    /// gpu.device.poll(wgpu::PollType::wait_indefinitely()).unwrap();
    /// assert!(pending.is_ready());
    /// ```
    pub fn is_ready(&self) -> bool {
        match &self.stage {
            Stage::Mapping(flight) => {
                let _ = flight.device.poll(wgpu::PollType::Poll);
                flight.mapping.lock().result.is_some()
            }
            _ => true,
        }
    }

    /// Waits for the copy and returns the answer (blocking; native only: the browser
    /// never lets a wait return, there `await` the readback instead).
    ///
    /// # Errors
    /// What the read failed with, or [`ArenaError::Readback`] when waiting or mapping
    /// failed.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let h = arena.alloc_slice(&[7u16; 2]).unwrap();
    /// assert_eq!(arena.read_slice_async(h).wait().unwrap(), [7, 7]);
    /// ```
    #[cfg(not(target_arch = "wasm32"))]
    pub fn wait(self) -> Result<T, ArenaError> {
        if let Stage::Mapping(flight) = &self.stage {
            flight
                .device
                .poll(wgpu::PollType::Wait {
                    submission_index: Some(flight.submission.clone()),
                    timeout: None,
                })
                .map_err(|e| ArenaError::Readback {
                    reason: e.to_string(),
                })?;
        }
        pollster::block_on(self)
    }
}

impl<T> Unpin for Readback<T> {}

impl<T> Future for Readback<T> {
    type Output = Result<T, ArenaError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Stage::Mapping(flight) = &this.stage {
            let mut mapping = flight.mapping.lock();
            if mapping.result.is_none() {
                mapping.waker = Some(cx.waker().clone());
                drop(mapping);
                // Native: map callbacks run only inside poll; this one never waits.
                let _ = flight.device.poll(wgpu::PollType::Poll);
                if flight.mapping.lock().result.is_none() {
                    // Nothing on native would wake the task: ask to be polled again.
                    // The browser's WebGPU wakes it from the map callback; WebGL2's
                    // fences change only between tasks, so poll again from a timer.
                    #[cfg(not(target_arch = "wasm32"))]
                    cx.waker().wake_by_ref();
                    #[cfg(target_arch = "wasm32")]
                    if flight.backend == wgpu::Backend::Gl {
                        wake_later(cx.waker().clone());
                    }
                    return Poll::Pending;
                }
            }
        }
        Poll::Ready(match std::mem::replace(&mut this.stage, Stage::Done) {
            Stage::Failed(e) => Err(e),
            Stage::Ready(value) => Ok(value),
            Stage::Done => Err(ArenaError::Readback {
                reason: "the readback was already awaited".into(),
            }),
            Stage::Mapping(flight) => flight.finish(),
        })
    }
}

impl<T> InFlight<T> {
    /// Decodes the mapped bytes and unmaps (the map callback has run).
    fn finish(self) -> Result<T, ArenaError> {
        let result = self.mapping.lock().result.take();
        match result {
            Some(Ok(())) => {}
            Some(Err(e)) => {
                return Err(ArenaError::Readback {
                    reason: e.to_string(),
                });
            }
            None => {
                return Err(ArenaError::Readback {
                    reason: "the map callback never ran".into(),
                });
            }
        }
        let value = {
            let view = self
                .staging
                .get_mapped_range(..)
                .map_err(|e| ArenaError::Readback {
                    reason: format!("{e:?}"),
                })?;
            (self.decode)(&view[..self.len as usize])
        };
        self.staging.unmap();
        Ok(value)
    }
}

/// A fresh `MAP_READ | COPY_DST` buffer of at least `size` bytes.
pub(crate) fn staging_buffer(device: &wgpu::Device, size: u64) -> wgpu::Buffer {
    device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("gpu-arena readback"),
        size: size
            .max(wgpu::COPY_BUFFER_ALIGNMENT)
            .next_multiple_of(wgpu::COPY_BUFFER_ALIGNMENT),
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    })
}

/// Wakes `waker` from a zero-delay `setTimeout`, after the browser's current task.
#[cfg(target_arch = "wasm32")]
fn wake_later(waker: Waker) {
    use wasm_bindgen::{JsCast, JsValue, closure::Closure};
    let global = js_sys::global();
    let set_timeout = js_sys::Reflect::get(&global, &JsValue::from_str("setTimeout"))
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    match set_timeout {
        Some(set_timeout) => {
            let wake = Closure::once_into_js(move || waker.wake());
            let _ = set_timeout.call2(&global, &wake, &JsValue::from(0));
        }
        None => waker.wake(),
    }
}
