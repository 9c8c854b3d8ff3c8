//! Typed errors: each says what was asked and what was available.

use core::fmt;

/// Why an allocation request failed.
///
/// Building the error is O(1): it carries the bin bounds of the largest free region,
/// not its exact size (which [`crate::Allocator::largest_free_region_exact`] gives in
/// O(regions in the highest bin)).
///
/// ```
/// use offset_alloc::{AllocError, Allocator};
/// let mut a: Allocator = Allocator::new(100);
/// let _x = a.allocate(60).unwrap();
/// match a.try_allocate(50) {
///     Err(AllocError::OutOfSpace { requested, largest_free_at_least, largest_free_at_most, .. }) => {
///         assert_eq!(requested, 50);
///         assert_eq!((largest_free_at_least, largest_free_at_most), (40, 40));
///     }
///     other => panic!("unexpected {other:?}"),
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AllocError {
    /// No free region was found for the request (freeing or growing may help). The
    /// O(1) methods probe a bounded number of regions, so one of them may still fit:
    /// [`crate::Allocator::try_allocate_exhaustive`] refuses only when none does.
    OutOfSpace {
        /// Units asked for.
        requested: u32,
        /// Alignment asked for, in units (1 when none).
        align: u32,
        /// The largest free region holds at least this many units: the lower bound
        /// of the highest non-empty bin (what
        /// [`crate::StorageReport::largest_free_region`] reports). 0 when nothing is free.
        largest_free_at_least: u32,
        /// ... and at most this many: one below the next bin's lower bound, capped
        /// by `total_free`.
        largest_free_at_most: u32,
        /// Total free units, possibly in several regions.
        total_free: u32,
    },
    /// The request is larger than the whole managed range: it can never succeed
    /// without [`crate::Allocator::grow`]. (Sizes are `u32`, so a request can never
    /// exceed the 32-bit bin range; requests above the last bin are served by the
    /// fallback probe rather than refused as the original does.)
    TooLarge {
        /// Units asked for.
        requested: u32,
        /// Units managed by the allocator.
        size: u32,
    },
    /// Every one of the `max_allocs` allocations is live.
    TooManyAllocations {
        /// The limit the allocator was built with.
        max_allocs: u32,
    },
    /// The node index type cannot name another metadata node. Only an allocator whose
    /// `max_allocs` exceeds [`crate::Allocator::GUARANTEED_ALLOCS`] meets this (a `u16`
    /// allocator built with `with_max_allocs(size, 65_533)`, as the 0.2.0 crate allows):
    /// it serves allocations for as long as its node space lasts.
    NodeSpaceExhausted {
        /// Allocations live now.
        live: u32,
        /// Nodes the index type can name (65,535 for `u16`).
        node_limit: u32,
    },
    /// An alignment of zero was requested.
    ZeroAlignment,
}

impl fmt::Display for AllocError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            AllocError::OutOfSpace {
                requested,
                align,
                largest_free_at_least,
                largest_free_at_most,
                total_free,
            } => write!(
                f,
                "out of space: requested {requested} units (alignment {align}), the largest free region holds {largest_free_at_least} to {largest_free_at_most} units, {total_free} units free in total"
            ),
            AllocError::TooLarge { requested, size } => write!(
                f,
                "request of {requested} units is larger than the whole allocator ({size} units)"
            ),
            AllocError::TooManyAllocations { max_allocs } => {
                write!(f, "all {max_allocs} allocations (max_allocs) are live")
            }
            AllocError::NodeSpaceExhausted { live, node_limit } => write!(
                f,
                "no metadata node left: the index type names {node_limit} nodes and {live} allocations are live"
            ),
            AllocError::ZeroAlignment => write!(f, "alignment must be at least 1"),
        }
    }
}

impl core::error::Error for AllocError {}

/// Why a handle was refused by [`crate::Allocator::try_free`].
///
/// ```
/// use offset_alloc::{Allocator, FreeError};
/// let mut a: Allocator = Allocator::new(100);
/// let x = a.allocate(10).unwrap();
/// a.free(x);
/// assert!(matches!(a.try_free(x), Err(FreeError::Stale { offset: 0, .. })));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FreeError {
    /// The handle was not issued by this allocator in its current life: it came
    /// from another allocator, or from before a `reset` or a relayout.
    Foreign {
        /// Identity of the allocator it was given to.
        allocator: u32,
    },
    /// The allocation was already freed (its node is free or reused since).
    Stale {
        /// Offset the handle was issued with.
        offset: u32,
        /// Generation the handle was issued with.
        generation: u32,
    },
}

impl fmt::Display for FreeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            FreeError::Foreign { allocator } => write!(
                f,
                "handle was not issued by allocator #{allocator} (it comes from another allocator, or predates a reset)"
            ),
            FreeError::Stale { offset, generation } => write!(
                f,
                "stale handle: the allocation at offset {offset} (generation {generation}) was already freed"
            ),
        }
    }
}

impl core::error::Error for FreeError {}

/// Why allocator options were rejected.
///
/// ```
/// use offset_alloc::{Allocator, AllocatorOptions, ConfigError};
/// let err = Allocator::<u16>::with_options(1024, AllocatorOptions { max_allocs: Some(65_534), ..Default::default() });
/// assert_eq!(err.unwrap_err(), ConfigError::MaxAllocsTooLarge { requested: 65_534, limit: 65_533 });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// `max_allocs` was zero: no allocation could ever be made.
    ZeroMaxAllocs,
    /// `max_allocs` is above [`crate::Allocator::MAX_ALLOCS_LIMIT`] (the 0.2.0 crate's
    /// bound: `max_allocs < NodeIndex::MAX - 1`).
    MaxAllocsTooLarge {
        /// The `max_allocs` asked for.
        requested: u32,
        /// The largest `max_allocs` the node index type accepts.
        limit: u32,
    },
    /// [`crate::NodeStorage::Preallocated`] could not allocate its node storage.
    OutOfMemory(ReserveError),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ConfigError::ZeroMaxAllocs => write!(f, "max_allocs must be at least 1"),
            ConfigError::MaxAllocsTooLarge { requested, limit } => write!(
                f,
                "max_allocs {requested} is more than this node index type accepts ({limit})"
            ),
            ConfigError::OutOfMemory(e) => write!(f, "preallocating node storage: {e}"),
        }
    }
}

impl core::error::Error for ConfigError {}

/// Why [`crate::Allocator::grow`] refused a new size.
///
/// ```
/// use offset_alloc::{Allocator, GrowError};
/// let mut a: Allocator = Allocator::new(100);
/// assert_eq!(a.grow(50), Err(GrowError::Shrink { current: 100, requested: 50 }));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrowError {
    /// The new size is smaller than the current one; growth never moves or drops data.
    Shrink {
        /// Units managed now.
        current: u32,
        /// Units asked for.
        requested: u32,
    },
    /// The new free region at the end needs a metadata node and the index type names
    /// no more (see [`AllocError::NodeSpaceExhausted`]); nothing changed.
    NodeSpaceExhausted {
        /// Nodes the index type can name.
        node_limit: u32,
    },
}

impl fmt::Display for GrowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            GrowError::Shrink { current, requested } => write!(
                f,
                "cannot grow to {requested} units: the allocator already manages {current}"
            ),
            GrowError::NodeSpaceExhausted { node_limit } => write!(
                f,
                "cannot grow: the new free region needs a metadata node and all {node_limit} are in use"
            ),
        }
    }
}

impl core::error::Error for GrowError {}

/// Node storage could not be allocated ([`crate::Allocator::reserve`],
/// [`crate::NodeStorage::Preallocated`]).
///
/// ```
/// use offset_alloc::Allocator;
/// let mut a: Allocator = Allocator::new(100);
/// a.reserve(16).unwrap();
/// assert!(a.node_capacity() >= 33);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReserveError {
    /// Nodes asked for in total.
    pub nodes: u64,
    /// Bytes that would take.
    pub bytes: u64,
}

impl fmt::Display for ReserveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot allocate storage for {} metadata nodes ({} bytes)",
            self.nodes, self.bytes
        )
    }
}

impl core::error::Error for ReserveError {}

/// A broken internal invariant found by [`crate::Allocator::validate`].
///
/// ```
/// use offset_alloc::Allocator;
/// let a: Allocator = Allocator::new(100);
/// assert!(a.validate().is_ok());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvariantError {
    /// What is wrong, with the node and numbers involved.
    pub message: alloc::string::String,
}

impl fmt::Display for InvariantError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invariant broken: {}", self.message)
    }
}

impl core::error::Error for InvariantError {}
