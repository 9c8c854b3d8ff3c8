//! Node indices and the per-region metadata record.
//!
//! Every region of the managed range, used or free, is a [`Node`] kept in a `Vec`
//! outside that range. Nodes link to their neighbours by offset (to merge on free)
//! and, when free, to the other regions of their bin (to pop in O(1)). Links are
//! node indices of type `NI` (`u32` or `u16`) with `NI::MAX` meaning "none", so a
//! `u16` allocator spends 24 bytes per node and a `u32` one 32.

use core::fmt::Debug;
use core::hash::Hash;

mod sealed {
    /// Keeps [`super::NodeIndex`] implementable only here and carries the sentinel.
    pub trait Sealed: Copy + Eq {
        /// The "no node" link value (`MAX` of the type).
        const NONE: Self;
    }
}

pub(crate) use sealed::Sealed;

/// The integer type that names metadata nodes: `u32` (the default) or `u16`.
///
/// `u16` halves the link size but caps the allocator at 65,535 nodes, which is
/// 32,767 live allocations (each allocation may need a free neighbour node).
/// Offsets and sizes are `u32` whichever type is chosen.
///
/// ```
/// use offset_alloc::{Allocator, NodeIndex};
/// assert_eq!(<u16 as NodeIndex>::MAX, 65_535);
/// let mut small: Allocator<u16> = Allocator::new(1 << 20);
/// let a = small.allocate(70_000).unwrap();
/// let b = small.allocate(10).unwrap();
/// assert_eq!(b.offset, 70_000); // offsets are never truncated to the index type
/// # small.free(a); small.free(b);
/// ```
pub trait NodeIndex: Sealed + Default + Debug + Hash + Send + Sync + 'static {
    /// The largest value of the type; it is reserved as the "no node" link.
    const MAX: u32;

    /// Converts from `u32`, truncating values the type cannot hold.
    ///
    /// ```
    /// use offset_alloc::NodeIndex;
    /// assert_eq!(<u16 as NodeIndex>::from_u32(7), 7u16);
    /// ```
    fn from_u32(val: u32) -> Self;

    /// Converts to `usize` for indexing.
    ///
    /// ```
    /// use offset_alloc::NodeIndex;
    /// assert_eq!(NodeIndex::to_usize(9u32), 9usize);
    /// ```
    fn to_usize(self) -> usize;
}

impl Sealed for u32 {
    const NONE: Self = u32::MAX;
}
impl NodeIndex for u32 {
    const MAX: u32 = u32::MAX;
    #[inline]
    fn from_u32(val: u32) -> Self {
        val
    }
    #[inline]
    fn to_usize(self) -> usize {
        self as usize
    }
}

impl Sealed for u16 {
    const NONE: Self = u16::MAX;
}
impl NodeIndex for u16 {
    const MAX: u32 = u16::MAX as u32;
    #[inline]
    fn from_u32(val: u32) -> Self {
        val as u16
    }
    #[inline]
    fn to_usize(self) -> usize {
        self as usize
    }
}

/// Bit 0 of [`Node::tag`]: the region is allocated.
pub(crate) const USED: u32 = 1;
/// Step between generations in [`Node::tag`] (the generation lives above the used bit).
pub(crate) const GENERATION_STEP: u32 = 2;

/// One region of the managed range, or a spare slot.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub(crate) struct Node<NI> {
    /// First unit of the region.
    pub offset: u32,
    /// Units in the region; 0 only for a zero-size allocation, which has no range.
    pub size: u32,
    /// Previous free region of the same bin (free nodes only).
    pub bin_prev: NI,
    /// Next free region of the same bin, or the next spare slot.
    pub bin_next: NI,
    /// Region just below this one.
    pub prev: NI,
    /// Region just above this one.
    pub next: NI,
    /// `generation << 1 | used`; a handle stores the tag it was issued with.
    pub tag: u32,
    /// The bin a free region is filed in (its size rounded down), kept so that
    /// unlinking never recomputes it. Fills what would be padding.
    pub bin: u8,
}

impl<NI: NodeIndex> Node<NI> {
    /// A free region with no links.
    #[inline]
    pub fn free(offset: u32, size: u32, tag: u32) -> Self {
        Node {
            offset,
            size,
            bin_prev: NI::NONE,
            bin_next: NI::NONE,
            prev: NI::NONE,
            next: NI::NONE,
            tag: tag & !USED,
            bin: 0,
        }
    }

    /// Whether the region is allocated.
    #[inline]
    pub fn is_used(&self) -> bool {
        self.tag & USED != 0
    }
}
