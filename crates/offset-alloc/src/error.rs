//! Typed errors: each says what was asked and what was available.

use core::fmt;

/// Why an allocation request failed.
///
/// ```
/// use offset_alloc::{AllocError, Allocator};
/// let mut a: Allocator = Allocator::new(100);
/// let _x = a.allocate(60).unwrap();
/// match a.try_allocate(50) {
///     Err(AllocError::OutOfSpace { requested, largest_free, .. }) => {
///         assert_eq!((requested, largest_free), (50, 40));
///     }
///     other => panic!("unexpected {other:?}"),
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AllocError {
    /// No free region can hold the request right now (freeing or growing may help).
    OutOfSpace {
        /// Units asked for.
        requested: u32,
        /// Alignment asked for, in units (1 when none).
        align: u32,
        /// Exact size of the largest free region.
        largest_free: u32,
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
    /// Every one of the `max_allocs` allocations is live: no metadata node is left.
    TooManyAllocations {
        /// The limit the allocator was built with.
        max_allocs: u32,
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
                largest_free,
                total_free,
            } => write!(
                f,
                "out of space: requested {requested} units (alignment {align}), largest free region is {largest_free} units, {total_free} units free in total"
            ),
            AllocError::TooLarge { requested, size } => write!(
                f,
                "request of {requested} units is larger than the whole allocator ({size} units)"
            ),
            AllocError::TooManyAllocations { max_allocs } => {
                write!(
                    f,
                    "no metadata node left: all {max_allocs} allocations are live"
                )
            }
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
/// let err = Allocator::<u16>::with_options(1024, AllocatorOptions { max_allocs: Some(40_000), ..Default::default() });
/// assert_eq!(err.unwrap_err(), ConfigError::MaxAllocsTooLarge { requested: 40_000, limit: 32_767 });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// `max_allocs` was zero: no allocation could ever be made.
    ZeroMaxAllocs,
    /// `max_allocs` needs more nodes (`2 * max_allocs + 1`) than the index type names.
    MaxAllocsTooLarge {
        /// The `max_allocs` asked for.
        requested: u32,
        /// The largest `max_allocs` the node index type supports.
        limit: u32,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ConfigError::ZeroMaxAllocs => write!(f, "max_allocs must be at least 1"),
            ConfigError::MaxAllocsTooLarge { requested, limit } => write!(
                f,
                "max_allocs {requested} is more than this node index type supports ({limit}: each allocation may need two nodes)"
            ),
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
}

impl fmt::Display for GrowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            GrowError::Shrink { current, requested } => write!(
                f,
                "cannot grow to {requested} units: the allocator already manages {current}"
            ),
        }
    }
}

impl core::error::Error for GrowError {}

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
        write!(f, "allocator invariant broken: {}", self.message)
    }
}

impl core::error::Error for InvariantError {}
