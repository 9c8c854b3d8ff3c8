//! Sub-allocate large wgpu buffers.
//!
//! The crate is built in layers, the generic under the domain ones (as Bevy's
//! `SlabAllocator` sits under its `MeshAllocator`):
//!
//! * one generational slot map behind every handle (arena allocations, meshes,
//!   bindless objects, slabs): one identity space, every use checked, and errors that
//!   say what kind of owner issued a handle;
//! * [`Arena`]: one big vertex, index, storage, indirect or uniform buffer whose ranges
//!   are handed out in O(1) by [`offset_alloc`] and uploaded at the allocated offsets;
//!   it grows (copying the used prefix) only when no free range holds a request, and
//!   says so through [`Arena::buffer_generation`]. Allocation returns its placement
//!   ([`Placement`], [`TypedPlacement`]) under the one lock it takes;
//! * [`GpuTable`]: `Pod` records mirrored on the CPU in one bindable `STORAGE |
//!   INDIRECT` allocation, changes flushed once per merged range;
//! * slabs: a pool is a list of slabs of buffers; when one cannot grow (its maximum,
//!   the device's `max_buffer_size`, or the binding size of buffers bound whole) the
//!   next slab takes the data, or a new one opens ([`SlabId`]);
//! * [`mesh_pool::MeshPool`]: meshes in slabs of vertex and index arenas with a
//!   [`GpuTable`] of draw records each, drawn with one `multi_draw_indexed_indirect`
//!   per slab; large meshes get a slab of their own; displaced meshes are reported;
//!   inserts are staged and land at [`mesh_pool::MeshPool::commit`], into the
//!   caller's encoder, with the growth they caused (or, into a fresh slab where the
//!   device has `MAPPABLE_PRIMARY_BUFFERS`, are written in place);
//! * [`bindless::BindlessPool`]: variable-size records plus `(offset, len)` tables,
//!   one bind group and one dispatch per slab;
//! * [`objects::ObjectPool`]: instances of a mesh pool's meshes with per-object data
//!   and bounds, culled on the GPU into compacted indirect arguments and drawn with
//!   one counted multi-draw per slab (or the fallbacks the device needs).
//!
//! Around them: [`Staging`] (mapped chunks reused across frames, idle ones released
//! beyond a cap), [`UploadBatch`] ([`Arena::batch`]: many writes coalesced into few
//! copies, submitted or recorded into the caller's encoder), [`Arena::write_with`]
//! (zero-copy writes), [`Arena::free_deferred`] with
//! [`Arena::maintain`] (ranges reused only once the GPU is done with them),
//! compaction (arenas into fresh buffers, pools per slab, emptied slabs dropped;
//! handles stay valid, moves reported), [`Readback`] (every read's non-blocking
//! `*_async` form, a future over `map_async`: the crate never blocks in the browser;
//! the blocking reads are native-only waits on it), and [`headless`]: a windowless device for
//! tests and CI, [`headless::Headless::shared`] for one device per process, and
//! [`headless::Harness`], which runs a test body on every adapter found.
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

mod arena;
pub mod bindless;
mod descriptor;
mod error;
mod gpu_table;
mod handle;
pub mod headless;
pub mod mesh_pool;
pub mod objects;
mod readback;
mod slab;
mod slots;
mod staging;

pub use arena::{Arena, ArenaSlice, ArenaStats, CompactionReport, Move, UploadBatch, UploadReport};
pub use descriptor::ArenaDescriptor;
pub use error::{ArenaError, HandleId, HandleKind, Limit};
pub use gpu_table::{GpuTable, GpuTableDescriptor};
pub use handle::{ArenaHandle, ArenaRange, ElementRange, Placement, TypedHandle, TypedPlacement};
pub use offset_alloc;
pub use readback::Readback;
pub use slab::SlabId;
pub use staging::{
    ElementWriter, StagedRange, Staging, StagingDescriptor, StagingStats, StagingWriter,
};
