#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

mod allocator;
mod bins;
mod error;
pub mod ext;
mod fallback;
mod handle;
mod layout;
mod node;
mod options;
mod regions;
mod report;
mod small_float;
mod validate;

pub use allocator::Allocator;
pub use error::{AllocError, ConfigError, FreeError, GrowError, InvariantError, ReserveError};
pub use handle::Allocation;
pub use layout::LayoutError;
pub use node::NodeIndex;
pub use options::{AllocatorOptions, NodeStorage, Rounding};
pub use report::{
    FreeRegion, LiveAllocation, StorageReport, StorageReportFull, StorageReportFullRegion,
};

/// Size-class arithmetic, exposed for tests and tools that reason about bins.
///
/// ```
/// use offset_alloc::bin;
/// assert_eq!(bin::round_up(118), 39);
/// assert_eq!(bin::round_down(118), 38);
/// assert_eq!(bin::lower_bound(39), 120);
/// ```
pub mod bin {
    use crate::small_float;

    /// Number of bins.
    pub const COUNT: usize = crate::bins::NUM_LEAF_BINS;

    /// The smallest bin whose every region fits `size` units.
    ///
    /// ```
    /// assert_eq!(offset_alloc::bin::round_up(1024), 64);
    /// ```
    pub fn round_up(size: u32) -> u32 {
        small_float::uint_to_float_round_up(size)
    }

    /// The bin a free region of `size` units is filed in.
    ///
    /// ```
    /// assert_eq!(offset_alloc::bin::round_down(1025), 64);
    /// ```
    pub fn round_down(size: u32) -> u32 {
        small_float::uint_to_float_round_down(size)
    }

    /// The smallest size filed in bin `bin` (saturating at `u32::MAX` past bin 239).
    ///
    /// ```
    /// assert_eq!(offset_alloc::bin::lower_bound(64), 1024);
    /// ```
    pub fn lower_bound(bin: u32) -> u32 {
        small_float::float_to_uint(bin)
    }
}
