//! [`Allocation`]: the small `Copy` handle an allocator hands out.
//!
//! Besides the public `offset` (as in the `offset-allocator` crate), a handle holds the
//! metadata node it names, the tag (generation and used bit) that node had when the
//! handle was issued, and the identity of the issuing allocator. Every use compares
//! the tag and the identity, so a stale, double or foreign free is refused instead of
//! releasing whatever now lives in that node.

use core::num::NonZeroU32;

use crate::node::{GENERATION_STEP, NodeIndex};

/// A single allocation: a range of units starting at `offset`.
///
/// ```
/// use offset_alloc::Allocator;
/// let mut allocator: Allocator = Allocator::new(1024);
/// let a = allocator.allocate(100).unwrap();
/// assert_eq!(a.offset, 0);
/// assert_eq!(allocator.allocation_size(a), 100);
/// allocator.free(a);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Allocation<NI = u32>
where
    NI: NodeIndex,
{
    /// The first unit of this allocation within the managed range.
    pub offset: u32,
    /// The node holding this allocation's metadata.
    pub(crate) metadata: NI,
    /// The node's tag when issued (`generation << 1 | 1`: never zero, which gives
    /// `Option<Allocation>` a niche, so it stays 16 bytes and returns in registers).
    pub(crate) tag: NonZeroU32,
    /// Identity of the issuing allocator.
    pub(crate) allocator: u32,
}

impl<NI: NodeIndex> Allocation<NI> {
    /// A handle for `node`, whose (used) tag is `tag`.
    #[inline(always)]
    pub(crate) fn new(offset: u32, metadata: NI, tag: u32, allocator: u32) -> Self {
        // A used node's tag has bit 0 set, so it is never zero.
        let tag = NonZeroU32::new(tag).unwrap_or(NonZeroU32::MIN);
        Allocation {
            offset,
            metadata,
            tag,
            allocator,
        }
    }

    /// The generation of the node when this handle was issued; it changes every
    /// time the node is handed out again.
    ///
    /// ```
    /// use offset_alloc::Allocator;
    /// let mut allocator: Allocator = Allocator::new(1024);
    /// let a = allocator.allocate(8).unwrap();
    /// allocator.free(a);
    /// let b = allocator.allocate(8).unwrap();
    /// assert_eq!(a.offset, b.offset);
    /// assert_ne!(a.generation(), b.generation()); // same place, different handle
    /// ```
    #[inline]
    pub fn generation(&self) -> u32 {
        self.tag.get() / GENERATION_STEP
    }

    /// The identity of the allocator that issued this handle.
    ///
    /// ```
    /// use offset_alloc::Allocator;
    /// let mut allocator: Allocator = Allocator::new(1024);
    /// let a = allocator.allocate(8).unwrap();
    /// assert_eq!(a.allocator_id(), allocator.id());
    /// ```
    #[inline]
    pub fn allocator_id(&self) -> u32 {
        self.allocator
    }
}
