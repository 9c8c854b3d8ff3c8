//! Introspection: storage reports (the original's), counters, and walks over live
//! allocations and free regions in offset order.

use core::fmt;
use core::mem::size_of;

use crate::allocator::Allocator;
use crate::bins::NUM_LEAF_BINS;
use crate::handle::Allocation;
use crate::node::{Node, NodeIndex};
use crate::options::Rounding;
use crate::small_float;

/// The amount of free space and the largest request that certainly fits.
///
/// ```
/// use offset_alloc::Allocator;
/// let allocator: Allocator = Allocator::new(1000);
/// let report = allocator.storage_report();
/// assert_eq!(report.total_free_space, 1000);
/// assert_eq!(report.largest_free_region, 960); // bin lower bound, as the original
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StorageReport {
    /// The amount of free space left.
    pub total_free_space: u32,
    /// The lower bound of the largest free region's bin (what the original reports).
    /// [`Allocator::largest_free_region_exact`] gives the exact size.
    pub largest_free_region: u32,
}

/// The number of free regions in each of the 256 bins.
///
/// ```
/// use offset_alloc::Allocator;
/// let allocator: Allocator = Allocator::new(1024);
/// let full = allocator.storage_report_full();
/// let bin = full.free_regions.iter().find(|r| r.count > 0).unwrap();
/// assert_eq!((bin.size, bin.count), (1024, 1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StorageReportFull {
    /// Each bin, in ascending size order.
    pub free_regions: [StorageReportFullRegion; NUM_LEAF_BINS],
}

impl Default for StorageReportFull {
    fn default() -> Self {
        StorageReportFull {
            free_regions: [StorageReportFullRegion::default(); NUM_LEAF_BINS],
        }
    }
}

/// One bin of a [`StorageReportFull`].
///
/// ```
/// use offset_alloc::StorageReportFullRegion;
/// let r = StorageReportFullRegion::default();
/// assert_eq!((r.size, r.count), (0, 0));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StorageReportFullRegion {
    /// The bin's lower bound in units (saturating at `u32::MAX` past bin 239).
    pub size: u32,
    /// The number of free regions in the bin.
    pub count: u32,
}

/// A free range of units, from [`Allocator::free_regions`].
///
/// ```
/// use offset_alloc::{Allocator, FreeRegion};
/// let allocator: Allocator = Allocator::new(64);
/// assert_eq!(allocator.free_regions().collect::<Vec<_>>(), [FreeRegion { offset: 0, size: 64 }]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FreeRegion {
    /// First free unit.
    pub offset: u32,
    /// Number of free units.
    pub size: u32,
}

/// A live allocation with its range, from [`Allocator::allocations`].
///
/// ```
/// use offset_alloc::Allocator;
/// let mut allocator: Allocator = Allocator::new(64);
/// let a = allocator.allocate(10).unwrap();
/// let live: Vec<_> = allocator.allocations().collect();
/// assert_eq!((live[0].allocation, live[0].offset, live[0].size), (a, 0, 10));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LiveAllocation<NI: NodeIndex = u32> {
    /// The handle, usable with [`Allocator::free`].
    pub allocation: Allocation<NI>,
    /// First unit.
    pub offset: u32,
    /// Units charged.
    pub size: u32,
}

/// Walks the neighbour chain in offset order; see [`Allocator::free_regions`] and
/// [`Allocator::allocations`].
struct Chain<'a, NI: NodeIndex> {
    allocator: &'a Allocator<NI>,
    next: NI,
}

impl<'a, NI: NodeIndex> Iterator for Chain<'a, NI> {
    type Item = (NI, &'a Node<NI>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.next == NI::NONE {
            return None;
        }
        let index = self.next;
        let node = &self.allocator.nodes[index.to_usize()];
        self.next = node.next;
        Some((index, node))
    }
}

impl<NI: NodeIndex> Allocator<NI> {
    /// Free space and the largest region's bin lower bound, as the original reports
    /// them: when no allocation can be made for lack of metadata (all `max_allocs`
    /// live) both are 0.
    ///
    /// Time: O(1).
    ///
    /// ```
    /// use offset_alloc::Allocator;
    /// let mut allocator: Allocator = Allocator::new(1 << 20);
    /// let _a = allocator.allocate(1000).unwrap();
    /// assert_eq!(allocator.storage_report().total_free_space, (1 << 20) - 1000);
    /// ```
    pub fn storage_report(&self) -> StorageReport {
        if self.live >= self.max_allocs {
            return StorageReport {
                total_free_space: 0,
                largest_free_region: 0,
            };
        }
        StorageReport {
            total_free_space: self.free_units(),
            largest_free_region: self.largest_free_region(),
        }
    }

    /// The number of free regions in every bin.
    ///
    /// Time: O(number of free regions).
    ///
    /// ```
    /// use offset_alloc::Allocator;
    /// let allocator: Allocator = Allocator::new(100);
    /// let total: u32 = allocator.storage_report_full().free_regions.iter().map(|r| r.count).sum();
    /// assert_eq!(total, 1);
    /// ```
    pub fn storage_report_full(&self) -> StorageReportFull {
        let mut report = StorageReportFull::default();
        for (bin, entry) in report.free_regions.iter_mut().enumerate() {
            let mut count = 0;
            let mut node = self.bin_heads[bin];
            while node != NI::NONE {
                count += 1;
                node = self.nodes[node.to_usize()].bin_next;
            }
            *entry = StorageReportFullRegion {
                size: small_float::float_to_uint(bin as u32),
                count,
            };
        }
        report
    }

    /// Units managed.
    ///
    /// ```
    /// use offset_alloc::Allocator;
    /// assert_eq!(Allocator::<u32>::new(77).size(), 77);
    /// ```
    pub fn size(&self) -> u32 {
        self.size
    }

    /// Whether no allocation is live.
    ///
    /// ```
    /// use offset_alloc::Allocator;
    /// assert!(Allocator::<u32>::new(77).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Number of live allocations (zero-size ones included).
    ///
    /// ```
    /// use offset_alloc::Allocator;
    /// let mut allocator: Allocator = Allocator::new(77);
    /// let _a = allocator.allocate(7).unwrap();
    /// assert_eq!(allocator.allocation_count(), 1);
    /// ```
    pub fn allocation_count(&self) -> u32 {
        self.live
    }

    /// The live-allocation limit.
    ///
    /// ```
    /// use offset_alloc::Allocator;
    /// assert_eq!(Allocator::<u32>::with_max_allocs(8, 3).max_allocs(), 3);
    /// ```
    pub fn max_allocs(&self) -> u32 {
        self.max_allocs
    }

    /// The charging policy chosen at construction.
    ///
    /// ```
    /// use offset_alloc::{Allocator, Rounding};
    /// assert_eq!(Allocator::<u32>::new(8).rounding(), Rounding::Exact);
    /// ```
    pub fn rounding(&self) -> Rounding {
        self.rounding
    }

    /// Units charged to live allocations.
    ///
    /// ```
    /// use offset_alloc::Allocator;
    /// let mut allocator: Allocator = Allocator::new(100);
    /// let _a = allocator.allocate(30).unwrap();
    /// assert_eq!((allocator.used_units(), allocator.free_units()), (30, 70));
    /// ```
    pub fn used_units(&self) -> u32 {
        self.used_storage
    }

    /// Free units, possibly spread over several regions.
    ///
    /// ```
    /// use offset_alloc::Allocator;
    /// assert_eq!(Allocator::<u32>::new(100).free_units(), 100);
    /// ```
    pub fn free_units(&self) -> u32 {
        self.size - self.used_storage
    }

    /// The lower bound of the largest free region's bin: a request of this size
    /// certainly succeeds (given a metadata node). 0 when nothing is free.
    ///
    /// Time: O(1).
    ///
    /// ```
    /// use offset_alloc::Allocator;
    /// assert_eq!(Allocator::<u32>::new(1000).largest_free_region(), 960);
    /// ```
    pub fn largest_free_region(&self) -> u32 {
        self.bins.highest().map_or(0, small_float::float_to_uint)
    }

    /// The exact size of the largest free region.
    ///
    /// Time: O(regions in the highest non-empty bin).
    ///
    /// ```
    /// use offset_alloc::Allocator;
    /// assert_eq!(Allocator::<u32>::new(1000).largest_free_region_exact(), 1000);
    /// ```
    pub fn largest_free_region_exact(&self) -> u32 {
        let Some(bin) = self.bins.highest() else {
            return 0;
        };
        let mut largest = 0;
        let mut node = self.bin_heads[bin as usize];
        while node != NI::NONE {
            let n = &self.nodes[node.to_usize()];
            largest = largest.max(n.size);
            node = n.bin_next;
        }
        largest
    }

    /// Extension: the free region that ends the managed range, if the last region is
    /// free: what [`Self::grow`] would extend.
    ///
    /// Time: O(1).
    ///
    /// ```
    /// use offset_alloc::{Allocator, FreeRegion};
    /// let mut allocator: Allocator = Allocator::new(100);
    /// let a = allocator.allocate(30).unwrap();
    /// assert_eq!(allocator.trailing_free_region(), Some(FreeRegion { offset: 30, size: 70 }));
    /// allocator.allocate(70).unwrap();
    /// assert_eq!(allocator.trailing_free_region(), None);
    /// # allocator.free(a);
    /// ```
    pub fn trailing_free_region(&self) -> Option<FreeRegion> {
        if self.tail == NI::NONE || self.is_used(self.tail) {
            return None;
        }
        let node = &self.nodes[self.tail.to_usize()];
        Some(FreeRegion {
            offset: node.offset,
            size: node.size,
        })
    }

    /// Heap bytes held for metadata (node records, spare capacity included) plus the
    /// allocator itself.
    ///
    /// ```
    /// use offset_alloc::Allocator;
    /// let small: Allocator = Allocator::new(1 << 30);
    /// assert!(small.metadata_bytes() < 2048); // nothing allocated per node up front
    /// ```
    pub fn metadata_bytes(&self) -> usize {
        size_of::<Self>() + self.nodes.capacity() * size_of::<Node<NI>>()
    }

    /// Bytes of one metadata node for this index type (32 for `u32`, 24 for `u16`).
    ///
    /// ```
    /// use offset_alloc::Allocator;
    /// assert_eq!(Allocator::<u32>::NODE_BYTES, 32);
    /// assert_eq!(Allocator::<u16>::NODE_BYTES, 24);
    /// ```
    pub const NODE_BYTES: usize = size_of::<Node<NI>>();

    /// Free regions in offset order.
    ///
    /// Time: O(nodes) for the whole walk.
    ///
    /// ```
    /// use offset_alloc::{Allocator, FreeRegion};
    /// let mut allocator: Allocator = Allocator::new(100);
    /// let a = allocator.allocate(10).unwrap();
    /// let _b = allocator.allocate(10).unwrap();
    /// allocator.free(a);
    /// let free: Vec<_> = allocator.free_regions().collect();
    /// assert_eq!(free, [FreeRegion { offset: 0, size: 10 }, FreeRegion { offset: 20, size: 80 }]);
    /// ```
    pub fn free_regions(&self) -> impl Iterator<Item = FreeRegion> + '_ {
        self.chain()
            .filter(|(_, node)| !node.is_used())
            .map(|(_, node)| FreeRegion {
                offset: node.offset,
                size: node.size,
            })
    }

    /// Live allocations in offset order. Zero-size allocations hold no range and are
    /// not listed (they are counted by [`Self::allocation_count`]).
    ///
    /// Time: O(nodes) for the whole walk.
    ///
    /// ```
    /// use offset_alloc::Allocator;
    /// let mut allocator: Allocator = Allocator::new(100);
    /// let _a = allocator.allocate(10).unwrap();
    /// let _b = allocator.allocate(20).unwrap();
    /// let sizes: Vec<u32> = allocator.allocations().map(|a| a.size).collect();
    /// assert_eq!(sizes, [10, 20]);
    /// ```
    pub fn allocations(&self) -> impl Iterator<Item = LiveAllocation<NI>> + '_ {
        let salt = self.salt;
        self.chain()
            .filter(|(_, node)| node.is_used())
            .map(move |(index, node)| LiveAllocation {
                allocation: Allocation::new(node.offset, index, node.tag, salt),
                offset: node.offset,
                size: node.size,
            })
    }

    /// The region at offset 0 (found by walking back from the tail).
    pub(crate) fn head(&self) -> NI {
        let mut node = self.tail;
        let mut steps = 0usize;
        while node != NI::NONE && steps <= self.nodes.len() {
            let prev = self.nodes[node.to_usize()].prev;
            if prev == NI::NONE {
                break;
            }
            node = prev;
            steps += 1;
        }
        node
    }

    fn chain(&self) -> Chain<'_, NI> {
        Chain {
            allocator: self,
            next: self.head(),
        }
    }
}

impl<NI: NodeIndex> fmt::Debug for Allocator<NI> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Allocator")
            .field("size", &self.size)
            .field("live", &self.live)
            .field("max_allocs", &self.max_allocs)
            .field("free", &self.free_units())
            .field("largest_free_region", &self.largest_free_region())
            .field("rounding", &self.rounding)
            .finish()
    }
}
