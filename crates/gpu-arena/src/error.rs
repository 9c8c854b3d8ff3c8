//! [`ArenaError`]: every way an arena request can fail, with the numbers involved.

use std::fmt;

use crate::handle::ArenaHandle;

/// Why an arena operation failed. Nothing stored in the arena is changed by a
/// failed operation.
///
/// ```
/// use gpu_arena::ArenaError;
/// let err = ArenaError::OutOfSpace { requested: 64, available: 16, capacity: 128, max_size: 128 };
/// assert!(err.to_string().contains("64"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArenaError {
    /// The request does not fit and the buffer cannot grow enough (maximum size reached).
    OutOfSpace {
        /// Bytes asked for (after rounding to the arena's alignment).
        requested: u64,
        /// Largest free range in bytes.
        available: u64,
        /// Current buffer size in bytes.
        capacity: u64,
        /// The most the buffer may grow to.
        max_size: u64,
    },
    /// A size exceeds what the device (or the arena's descriptor) allows.
    OverLimit {
        /// Bytes asked for.
        requested: u64,
        /// The limit it exceeds.
        limit: u64,
        /// Which limit: `"max_buffer_size"`, `"max_size"`, `"max_allocations"`...
        what: &'static str,
    },
    /// The handle was freed already (or its slot reused).
    StaleHandle {
        /// The refused handle.
        handle: ArenaHandle,
    },
    /// The handle belongs to another arena.
    ForeignHandle {
        /// The refused handle.
        handle: ArenaHandle,
        /// Identity of the arena it was given to.
        arena: u32,
    },
    /// A write (or read) reaches past the end of its allocation.
    OutOfBounds {
        /// The allocation written to.
        handle: ArenaHandle,
        /// Byte offset within the allocation where the access starts.
        offset: u64,
        /// Bytes accessed.
        len: u64,
        /// Bytes the allocation holds.
        size: u64,
    },
    /// An offset or alignment breaks wgpu's alignment rules.
    Misaligned {
        /// The offending value.
        value: u64,
        /// The alignment it must be a multiple of.
        required: u64,
        /// What was misaligned.
        what: &'static str,
    },
    /// A zero-size allocation or write was asked for.
    ZeroSize,
    /// The descriptor is inconsistent.
    InvalidDescriptor {
        /// What is wrong.
        reason: String,
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
                requested,
                available,
                capacity,
                max_size,
            } => write!(
                f,
                "arena out of space: requested {requested} bytes, largest free range is {available} bytes (buffer {capacity} of at most {max_size} bytes)"
            ),
            ArenaError::OverLimit {
                requested,
                limit,
                what,
            } => {
                write!(f, "{requested} exceeds the {what} limit of {limit}")
            }
            ArenaError::StaleHandle { handle } => {
                write!(f, "stale handle {handle:?}: it was already freed")
            }
            ArenaError::ForeignHandle { handle, arena } => {
                write!(
                    f,
                    "handle {handle:?} belongs to arena #{}, not to arena #{arena}",
                    handle.arena
                )
            }
            ArenaError::OutOfBounds {
                handle,
                offset,
                len,
                size,
            } => write!(
                f,
                "access of {len} bytes at offset {offset} overruns allocation {handle:?} of {size} bytes"
            ),
            ArenaError::Misaligned {
                value,
                required,
                what,
            } => {
                write!(f, "{what} {value} is not a multiple of {required}")
            }
            ArenaError::ZeroSize => write!(f, "zero-size allocations and writes are not allowed"),
            ArenaError::InvalidDescriptor { reason } => {
                write!(f, "invalid arena descriptor: {reason}")
            }
            ArenaError::Readback { reason } => write!(f, "readback failed: {reason}"),
        }
    }
}

impl std::error::Error for ArenaError {}
