//! [`ArenaError`]: every way an arena or pool request can fail, with the numbers
//! involved, the limit that was hit, and the label of the arena or pool that refused.

use std::fmt;

/// Which limit a request ran into.
///
/// ```
/// use gpu_arena::Limit;
/// assert_eq!(Limit::MaxStorageBufferBindingSize.to_string(), "device limit max_storage_buffer_binding_size");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Limit {
    /// The descriptor's `max_size` (a pool's `max_bytes`).
    MaxSize,
    /// The device's `max_buffer_size`.
    MaxBufferSize,
    /// The device's `max_storage_buffer_binding_size` (storage ranges handed out for
    /// binding, and buffers bound whole).
    MaxStorageBufferBindingSize,
    /// The device's `max_uniform_buffer_binding_size`.
    MaxUniformBufferBindingSize,
    /// The 16 GiB (2^32 units of 4 bytes) one allocator addresses.
    AllocatorRange,
    /// The descriptor's `max_allocations`.
    MaxAllocations,
    /// A draw argument or table entry is a `u32` (`first_index`, `index_count`,
    /// a record's word offset) or an `i32` (`base_vertex`).
    ElementIndex,
    /// An alignment larger than the buffer can ever be.
    Alignment,
    /// A pool descriptor's `max_slabs`.
    MaxSlabs,
    /// The device's `max_compute_workgroups_per_dimension`, squared, times the
    /// culling shader's 64 objects per workgroup (`requested` counts objects).
    MaxComputeWorkgroups,
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Limit::MaxSize => "descriptor max_size",
            Limit::MaxBufferSize => "device limit max_buffer_size",
            Limit::MaxStorageBufferBindingSize => "device limit max_storage_buffer_binding_size",
            Limit::MaxUniformBufferBindingSize => "device limit max_uniform_buffer_binding_size",
            Limit::AllocatorRange => "16 GiB allocator range",
            Limit::MaxAllocations => "descriptor max_allocations",
            Limit::ElementIndex => "32-bit draw argument range",
            Limit::Alignment => "largest possible alignment",
            Limit::MaxSlabs => "descriptor max_slabs",
            Limit::MaxComputeWorkgroups => "device limit max_compute_workgroups_per_dimension",
        })
    }
}

/// What kind of owner issued a handle.
///
/// ```
/// assert_eq!(gpu_arena::HandleKind::MeshPool.to_string(), "mesh pool");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HandleKind {
    /// An [`crate::Arena`] allocation ([`crate::ArenaHandle`]).
    Arena,
    /// A mesh of a [`crate::mesh_pool::MeshPool`].
    MeshPool,
    /// An object of a [`crate::bindless::BindlessPool`].
    BindlessPool,
    /// A slab of a pool ([`crate::SlabId`]).
    Slab,
    /// An object of a [`crate::objects::ObjectPool`].
    ObjectPool,
}

impl fmt::Display for HandleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HandleKind::Arena => "arena",
            HandleKind::MeshPool => "mesh pool",
            HandleKind::BindlessPool => "bindless pool",
            HandleKind::Slab => "slab",
            HandleKind::ObjectPool => "object pool",
        })
    }
}

/// Any handle, as an error reports it: the kind and identity of its owner, its slot
/// and the generation it was issued with.
///
/// ```
/// use gpu_arena::{HandleId, HandleKind};
/// let id = HandleId { kind: HandleKind::MeshPool, owner: 3, slot: 5, generation: 2 };
/// assert_eq!(id.to_string(), "mesh pool #3 slot 5 (generation 2)");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HandleId {
    /// What issued the handle.
    pub kind: HandleKind,
    /// Identity of the arena or pool that issued it.
    pub owner: u32,
    /// Slot in the owner's table.
    pub slot: u32,
    /// Generation of the slot when issued.
    pub generation: u32,
}

impl fmt::Display for HandleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} #{} slot {} (generation {})",
            self.kind, self.owner, self.slot, self.generation
        )
    }
}

/// Why an arena or pool operation failed. A failed operation changes nothing: no
/// stored byte, allocation, handle or table entry.
///
/// Every variant that concerns an arena or pool carries its `label` (the
/// descriptor's, or `arena #N` / `mesh pool #N`).
///
/// ```
/// use gpu_arena::{ArenaError, Limit};
/// let err = ArenaError::OverLimit { label: "vertices".into(), requested: 2 << 20, limit: 1 << 20, what: Limit::MaxBufferSize };
/// assert_eq!(err.to_string(), "vertices: 2097152 bytes exceed the device limit max_buffer_size of 1048576");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArenaError {
    /// No free range can hold the request and the buffer cannot grow enough.
    OutOfSpace {
        /// The arena's label.
        label: String,
        /// Bytes asked for (after rounding to 4).
        requested: u64,
        /// Alignment asked for, in bytes.
        align: u64,
        /// The largest free range in bytes (exact).
        available: u64,
        /// Current buffer size in bytes.
        capacity: u64,
        /// The most the buffer may grow to.
        max_size: u64,
        /// Which limit `max_size` is.
        limit: Limit,
        /// Bytes freed with `free_deferred` that still wait for the GPU: they become
        /// free after a later `maintain()` finds that work done.
        pending_free: u64,
    },
    /// A size exceeds a limit of the device or of the descriptor.
    OverLimit {
        /// The arena's or pool's label.
        label: String,
        /// What was asked for (bytes, unless `what` counts something else).
        requested: u64,
        /// The limit's value.
        limit: u64,
        /// Which limit.
        what: Limit,
    },
    /// The handle was freed already (or its slot reused since).
    StaleHandle {
        /// The label of the arena or pool that refused it.
        label: String,
        /// The refused handle.
        handle: HandleId,
    },
    /// The handle was issued by another arena or pool (or by another kind of owner).
    ForeignHandle {
        /// The label of the arena or pool that refused it.
        label: String,
        /// The refused handle.
        handle: HandleId,
        /// What refused it.
        kind: HandleKind,
        /// Identity of the arena or pool that refused it.
        owner: u32,
    },
    /// A write (or read) reaches past the end of its allocation.
    OutOfBounds {
        /// The arena's label.
        label: String,
        /// The allocation accessed.
        handle: HandleId,
        /// Byte offset within the allocation where the access starts.
        offset: u64,
        /// Bytes accessed.
        len: u64,
        /// Bytes the allocation holds.
        size: u64,
    },
    /// An offset or length breaks wgpu's alignment rules.
    Misaligned {
        /// The arena's label.
        label: String,
        /// The offending value.
        value: u64,
        /// The alignment it must be a multiple of.
        required: u64,
        /// What was misaligned.
        what: &'static str,
    },
    /// An alignment of zero was asked for.
    ZeroAlignment,
    /// A zero-size allocation or write was asked for.
    ZeroSize,
    /// The descriptor is inconsistent.
    InvalidDescriptor {
        /// The label it would have had.
        label: String,
        /// What is wrong.
        reason: String,
    },
    /// The device refused to create a buffer (out of memory, or lost). The arena is
    /// unchanged.
    Device {
        /// The arena's label.
        label: String,
        /// Bytes of the buffer it tried to create.
        requested: u64,
        /// wgpu's message.
        reason: String,
    },
    /// Compaction could not rebuild the arena's layout; nothing moved.
    CompactionRefused {
        /// The arena's label.
        label: String,
        /// Why.
        reason: String,
    },
    /// The device cannot do what was asked (for example indirect draws where the
    /// adapter lacks `DownlevelFlags::INDIRECT_EXECUTION`).
    Unsupported {
        /// The pool's label.
        label: String,
        /// What is missing.
        what: &'static str,
    },
    /// A mesh pool was asked to draw (or show its slabs) while inserted meshes wait for
    /// [`crate::mesh_pool::MeshPool::commit`]: their data has not landed.
    Uncommitted {
        /// The pool's label.
        label: String,
        /// Meshes waiting.
        pending: usize,
    },
    /// An object pool was asked to draw after its objects, or the meshes they draw,
    /// changed since its last [`crate::objects::ObjectPool::cull`].
    NotCulled {
        /// The object pool's label.
        label: String,
        /// Object inserts, removals and updates since that cull (0 when only the
        /// mesh pool's layout changed).
        changes: usize,
    },
    /// Bounds that no frustum test can use (a negative or non-finite radius, or a
    /// non-finite centre).
    InvalidBounds {
        /// The object pool's label.
        label: String,
        /// Centre and radius as given (`centre [x, y, z], radius r`).
        bounds: String,
    },
    /// Mapping a readback buffer failed.
    Readback {
        /// wgpu's message.
        reason: String,
    },
}

impl fmt::Display for ArenaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArenaError::OutOfSpace {
                label,
                requested,
                align,
                available,
                capacity,
                max_size,
                limit,
                pending_free,
            } => {
                write!(
                    f,
                    "{label}: out of space: requested {requested} bytes at alignment {align}, largest free range is {available} bytes (buffer {capacity} bytes, at most {max_size} by the {limit})"
                )?;
                if *pending_free > 0 {
                    write!(
                        f,
                        "; {pending_free} bytes of deferred frees wait for the GPU (call maintain() once it is done)"
                    )?;
                }
                Ok(())
            }
            ArenaError::OverLimit {
                label,
                requested,
                limit,
                what,
            } => write!(f, "{label}: {requested} bytes exceed the {what} of {limit}"),
            ArenaError::StaleHandle { label, handle } => {
                write!(f, "{label}: stale handle {handle}: it was already freed")
            }
            ArenaError::ForeignHandle {
                label,
                handle,
                kind,
                owner,
            } => write!(
                f,
                "{label}: handle {handle} was not issued by this {kind} (#{owner})"
            ),
            ArenaError::OutOfBounds {
                label,
                handle,
                offset,
                len,
                size,
            } => write!(
                f,
                "{label}: access of {len} bytes at offset {offset} overruns {handle} of {size} bytes"
            ),
            ArenaError::Misaligned {
                label,
                value,
                required,
                what,
            } => write!(f, "{label}: {what} {value} is not a multiple of {required}"),
            ArenaError::ZeroAlignment => write!(f, "alignment must be at least 1"),
            ArenaError::ZeroSize => write!(f, "zero-size allocations and writes are not allowed"),
            ArenaError::InvalidDescriptor { label, reason } => {
                write!(f, "{label}: invalid descriptor: {reason}")
            }
            ArenaError::Device {
                label,
                requested,
                reason,
            } => write!(
                f,
                "{label}: the device could not create a buffer of {requested} bytes: {reason}"
            ),
            ArenaError::CompactionRefused { label, reason } => {
                write!(f, "{label}: compaction refused: {reason}")
            }
            ArenaError::Unsupported { label, what } => {
                write!(f, "{label}: the device does not support {what}")
            }
            ArenaError::Uncommitted { label, pending } => write!(
                f,
                "{label}: {pending} inserted meshes are not committed: call commit(encoder) or commit_now() before drawing"
            ),
            ArenaError::NotCulled { label, changes } => write!(
                f,
                "{label}: {changes} object changes (or moved meshes) since the last cull: call cull before draw"
            ),
            ArenaError::InvalidBounds { label, bounds } => write!(
                f,
                "{label}: bounds {bounds} must be finite with a radius of at least 0"
            ),
            ArenaError::Readback { reason } => write!(f, "readback failed: {reason}"),
        }
    }
}

impl std::error::Error for ArenaError {}
