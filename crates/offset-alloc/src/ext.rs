//! Helpers that the original C++ `OffsetAllocator` does not have, kept under the same
//! module name as in the `offset-allocator` crate so that code using it ports unchanged.

use crate::small_float;

/// The smallest allocator size that can hold one object of `needed_object_size` units
/// with the original bin search (the object's round-up bin lower bound).
///
/// With this crate's fallback probe an allocator of exactly `needed_object_size` units
/// also serves it; this function keeps the original answer so sizing code ports as is.
///
/// ```
/// use offset_alloc::{ext, Allocator};
/// let size = ext::min_allocator_size(1000);
/// assert_eq!(size, 1024);
/// let mut allocator: Allocator = Allocator::new(size);
/// assert!(allocator.allocate(1000).is_some());
/// ```
///
/// Time: O(1).
pub fn min_allocator_size(needed_object_size: u32) -> u32 {
    small_float::float_to_uint(small_float::uint_to_float_round_up(needed_object_size))
}
