//! Extension: [`Allocator::with_layout`] builds an allocator whose allocations sit at
//! chosen offsets, in O(n). Compaction uses it: decide where every allocation goes,
//! then rebuild the metadata in one pass instead of replaying allocations.

use alloc::vec::Vec;
use core::fmt;

use crate::allocator::Allocator;
use crate::error::ConfigError;
use crate::handle::Allocation;
use crate::node::{GENERATION_STEP, NodeIndex, USED};
use crate::options::AllocatorOptions;

/// Why [`Allocator::with_layout`] refused a layout.
///
/// ```
/// use offset_alloc::{Allocator, LayoutError};
/// let err = Allocator::<u32>::with_layout(100, Default::default(), &[(0, 10), (5, 10)]).unwrap_err();
/// assert_eq!(err, LayoutError::Overlap { index: 1, offset: 5, previous_end: 10 });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayoutError {
    /// Range `index` starts before the previous one ends (ranges must be sorted).
    Overlap {
        /// Position in the input.
        index: usize,
        /// Its offset.
        offset: u32,
        /// Where the previous range ends.
        previous_end: u64,
    },
    /// Range `index` ends past the allocator's size.
    OutOfBounds {
        /// Position in the input.
        index: usize,
        /// Where it ends.
        end: u64,
        /// The allocator's size.
        size: u32,
    },
    /// Range `index` has size zero.
    ZeroSize {
        /// Position in the input.
        index: usize,
    },
    /// More ranges than `max_allocs`.
    TooMany {
        /// Ranges given.
        count: usize,
        /// The limit.
        max_allocs: u32,
    },
    /// The ranges and the gaps between them need more metadata nodes than the node
    /// index type names (only past `Allocator::GUARANTEED_ALLOCS`).
    TooManyNodes {
        /// Nodes the layout needs.
        needed: u64,
        /// Nodes the index type names.
        limit: u32,
    },
    /// The options were invalid.
    Config(ConfigError),
}

impl fmt::Display for LayoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            LayoutError::Overlap {
                index,
                offset,
                previous_end,
            } => {
                write!(
                    f,
                    "range {index} at offset {offset} overlaps the previous range ending at {previous_end}"
                )
            }
            LayoutError::OutOfBounds { index, end, size } => {
                write!(
                    f,
                    "range {index} ends at {end}, past the allocator size {size}"
                )
            }
            LayoutError::ZeroSize { index } => write!(f, "range {index} has size 0"),
            LayoutError::TooMany { count, max_allocs } => {
                write!(f, "{count} ranges exceed max_allocs {max_allocs}")
            }
            LayoutError::TooManyNodes { needed, limit } => {
                write!(
                    f,
                    "the layout needs {needed} metadata nodes, the index type names {limit}"
                )
            }
            LayoutError::Config(e) => write!(f, "{e}"),
        }
    }
}

impl core::error::Error for LayoutError {}

impl<NI: NodeIndex> Allocator<NI> {
    /// Extension: an allocator of `size` units whose live allocations are exactly
    /// `ranges` (`(offset, size)` pairs sorted by offset, non-overlapping, non-empty,
    /// in bounds). Returns the handles in input order; the gaps become free regions.
    ///
    /// Time: O(ranges).
    ///
    /// # Errors
    /// [`LayoutError`] naming the first offending range.
    ///
    /// ```
    /// use offset_alloc::{Allocator, FreeRegion};
    /// let (a, handles) = Allocator::<u32>::with_layout(100, Default::default(), &[(0, 10), (40, 20)]).unwrap();
    /// assert_eq!(handles[1].offset, 40);
    /// assert_eq!(a.free_regions().collect::<Vec<_>>(), [FreeRegion { offset: 10, size: 30 }, FreeRegion { offset: 60, size: 40 }]);
    /// a.validate().unwrap();
    /// ```
    pub fn with_layout(
        size: u32,
        options: AllocatorOptions,
        ranges: &[(u32, u32)],
    ) -> Result<(Self, Vec<Allocation<NI>>), LayoutError> {
        let mut allocator = Self::with_options(0, options).map_err(LayoutError::Config)?;
        if ranges.len() > allocator.max_allocs as usize {
            return Err(LayoutError::TooMany {
                count: ranges.len(),
                max_allocs: allocator.max_allocs,
            });
        }
        let mut cursor = 0u64;
        let mut nodes = 0u64;
        for (index, &(offset, len)) in ranges.iter().enumerate() {
            if len == 0 {
                return Err(LayoutError::ZeroSize { index });
            }
            if u64::from(offset) < cursor {
                return Err(LayoutError::Overlap {
                    index,
                    offset,
                    previous_end: cursor,
                });
            }
            nodes += 1 + u64::from(u64::from(offset) > cursor);
            cursor = u64::from(offset) + u64::from(len);
            if cursor > u64::from(size) {
                return Err(LayoutError::OutOfBounds {
                    index,
                    end: cursor,
                    size,
                });
            }
        }
        nodes += u64::from(cursor < u64::from(size));
        if nodes > u64::from(Self::NODE_LIMIT) {
            return Err(LayoutError::TooManyNodes {
                needed: nodes,
                limit: Self::NODE_LIMIT,
            });
        }
        // Valid: lay the chain out front to back.
        allocator.size = size;
        let mut handles = Vec::with_capacity(ranges.len());
        let mut cursor = 0u32;
        for &(offset, len) in ranges {
            if offset > cursor {
                allocator.append_region(cursor, offset - cursor);
            }
            let node = allocator.append_region(offset, len);
            allocator.unbin(node);
            let slot = &mut allocator.nodes[node.to_usize()];
            let tag = (slot.tag | USED).wrapping_add(GENERATION_STEP);
            slot.tag = tag;
            allocator.mark_used(node);
            allocator.live += 1;
            allocator.used_storage += len;
            handles.push(Allocation::new(offset, node, tag, allocator.salt));
            cursor = offset + len;
        }
        if cursor < size {
            allocator.append_region(cursor, size - cursor);
        }
        Ok((allocator, handles))
    }

    /// Appends a free region after the current tail and bins it.
    fn append_region(&mut self, offset: u32, len: u32) -> NI {
        let tail = self.tail;
        let node = self.new_region(offset, len, tail, NI::NONE);
        if tail != NI::NONE {
            self.nodes[tail.to_usize()].next = node;
        }
        self.tail = node;
        self.bin_insert(node, len);
        node
    }
}
