//! Sub-allocate large wgpu buffers.
//!
//! An [`Arena`] is one big vertex, index, storage, indirect or uniform buffer whose
//! ranges are handed out in O(1) by [`offset_alloc`] and uploaded with
//! `queue.write_buffer` at the allocated offsets. Handles are small `Copy` values
//! checked on every use; the arena grows (copying its contents) when a request does
//! not fit, and says so through [`Arena::buffer_generation`].
//!
//! * [`mesh_pool::MeshPool`]: meshes packed into one vertex and one index arena,
//!   drawn with a single `multi_draw_indexed_indirect`.
//! * [`bindless::BindlessPool`]: variable-size records plus an `(offset, len)` table
//!   that one dispatch or draw walks.
//! * [`UploadBatch`] ([`Arena::batch`]): many writes coalesced into few copies through
//!   a persistent staging belt.
//! * [`Arena::free_deferred`] with [`Arena::maintain`]: ranges reused only once the GPU
//!   is done with the work that may still read them.
//! * [`Arena::compact`]: defragmentation into a fresh buffer; handles stay valid and
//!   every move is reported.
//! * [`headless`]: a windowless device for tests and CI, and [`headless::Harness`],
//!   which runs a test body on every adapter found.
//!
//! Offsets and sizes are multiples of `wgpu::COPY_BUFFER_ALIGNMENT`; typed data is
//! aligned to its element size. Device limits are part of the layout: no buffer
//! exceeds `max_buffer_size`, no range handed out for binding exceeds the binding
//! size, and a limit that stops a request is named in its [`ArenaError`]. Every
//! method that takes a handle checks it and returns an [`ArenaError`] for stale or
//! foreign ones; every failed operation changes nothing.
//!
//! ```
//! use gpu_arena::{headless::Headless, Arena, ArenaDescriptor};
//!
//! let gpu = Headless::new(&Default::default())?;
//! let indices = Arena::new(&gpu.device, &gpu.queue, &ArenaDescriptor {
//!     label: Some("indices"),
//!     usage: wgpu::BufferUsages::INDEX,
//!     ..Default::default()
//! })?;
//! let quad = indices.alloc_slice(&[0u32, 1, 2, 2, 3, 0])?;
//! let range = indices.elements(quad)?; // first_index and index count for draw_indexed
//! assert_eq!(range.count, 6);
//! assert_eq!(indices.read_slice(quad)?, [0, 1, 2, 2, 3, 0]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod access;
mod arena;
pub mod bindless;
mod compact;
mod descriptor;
mod error;
mod handle;
pub mod headless;
mod lifetime;
pub mod mesh_pool;
mod slots;
mod stats;
mod upload;

pub use access::ArenaSlice;
pub use arena::Arena;
pub use compact::{CompactionReport, Move};
pub use descriptor::ArenaDescriptor;
pub use error::{ArenaError, HandleId, HandleKind, Limit};
pub use handle::{ArenaHandle, ArenaRange, ElementRange, TypedHandle};
pub use offset_alloc;
pub use stats::ArenaStats;
pub use upload::{UploadBatch, UploadReport};
