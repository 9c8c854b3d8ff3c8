//! [`ArenaDescriptor`]: how an arena's buffer is created and grows.

use crate::staging::Staging;

/// Describes an [`crate::Arena`], in the style of `wgpu::BufferDescriptor`.
///
/// ```
/// use gpu_arena::ArenaDescriptor;
/// let desc = ArenaDescriptor {
///     label: Some("mesh vertices"),
///     usage: wgpu::BufferUsages::VERTEX,
///     initial_size: 64 << 20,
///     ..Default::default()
/// };
/// assert_eq!(desc.growth_factor, 2.0);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ArenaDescriptor<'a> {
    /// Debug label of the buffer (also used in log messages). Default: `None`.
    pub label: Option<&'a str>,
    /// What the buffer is for: `VERTEX`, `INDEX`, `STORAGE`, `INDIRECT`, `UNIFORM` or any
    /// mix. `COPY_SRC | COPY_DST` are always added (uploads, growth, readback).
    /// Default: `VERTEX`.
    pub usage: wgpu::BufferUsages,
    /// Bytes allocated up front (rounded up to 4). Default: 1 MiB.
    pub initial_size: u64,
    /// The most the buffer may grow to; capped by the device's `max_buffer_size` (and
    /// binding size, with `bound_whole`). Default: `u64::MAX` (the device limits).
    pub max_size: u64,
    /// Factor by which the buffer grows when a request does not fit (at least 1.0;
    /// the new size always fits the request). Default: 2.0. Higher values grow less
    /// often but may reserve more memory than needed.
    pub growth_factor: f32,
    /// Alignment in bytes of every allocation (any non-zero value; combined with 4).
    /// Default: 4 (`wgpu::COPY_BUFFER_ALIGNMENT`).
    pub min_alignment: u64,
    /// Most allocations live at once. Default: 131,072.
    pub max_allocations: u32,
    /// Size of the staging chunks that batched uploads ([`crate::UploadBatch`]) use
    /// and re-use across frames, when the arena makes its own staging; a larger batch
    /// gets a chunk of its own size. Capped at the device's `max_buffer_size`.
    /// Default: 4 MiB.
    pub upload_chunk_size: u64,
    /// Staging memory to share with other arenas and pools (warm chunks, one bound).
    /// Default: `None` (the arena makes its own).
    pub staging: Option<Staging>,
    /// The buffer is bound whole as one storage or uniform binding (an `array<u32>`
    /// of records, say): its size is then capped at the device's
    /// `max_storage_buffer_binding_size` / `max_uniform_buffer_binding_size`, so the
    /// binding is always valid. Default: false (ranges are bound, or none is).
    pub bound_whole: bool,
}

impl Default for ArenaDescriptor<'_> {
    fn default() -> Self {
        ArenaDescriptor {
            label: None,
            usage: wgpu::BufferUsages::VERTEX,
            initial_size: 1 << 20,
            max_size: u64::MAX,
            growth_factor: 2.0,
            min_alignment: wgpu::COPY_BUFFER_ALIGNMENT,
            max_allocations: 128 * 1024,
            upload_chunk_size: 4 << 20,
            staging: None,
            bound_whole: false,
        }
    }
}
