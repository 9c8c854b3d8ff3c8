//! Extension: growing an allocator, both its managed range ([`Allocator::grow`], in
//! place: the end region widens or a new one is appended) and its node storage
//! ([`Allocator::reserve`], so that later calls need not allocate).

use crate::allocator::Allocator;
use crate::error::{GrowError, ReserveError};
use crate::node::{Node, NodeIndex};

impl<NI: NodeIndex> Allocator<NI> {
    /// Extension: allocates node storage for `allocations` live allocations (capped at
    /// `max_allocs`) now, so that `allocate`, `free` and `grow` do not call the global
    /// allocator while at most that many are live. [`crate::NodeStorage::Preallocated`] does
    /// this for `max_allocs` at construction.
    ///
    /// Time: O(nodes reserved).
    ///
    /// # Errors
    /// [`ReserveError`] when the memory cannot be had; nothing changes then.
    ///
    /// ```
    /// use offset_alloc::Allocator;
    /// let mut allocator: Allocator = Allocator::new(1 << 20);
    /// allocator.reserve(10_000).unwrap();
    /// assert!(allocator.node_capacity() >= 20_001);
    /// ```
    pub fn reserve(&mut self, allocations: u32) -> Result<(), ReserveError> {
        let live = u64::from(allocations.min(self.max_allocs));
        let nodes = (2 * live + 1).min(u64::from(Self::NODE_LIMIT));
        let error = ReserveError {
            nodes,
            bytes: nodes * core::mem::size_of::<Node<NI>>() as u64,
        };
        let total = usize::try_from(nodes).map_err(|_| error)?;
        let words = total.div_ceil(64);
        self.nodes
            .try_reserve_exact(total.saturating_sub(self.nodes.len()))
            .map_err(|_| error)?;
        self.used
            .try_reserve_exact(words.saturating_sub(self.used.len()))
            .map_err(|_| error)?;
        Ok(())
    }

    /// Extension: how many metadata nodes the allocator holds storage for (in use,
    /// spare, or reserved and not yet touched).
    ///
    /// ```
    /// use offset_alloc::Allocator;
    /// let allocator: Allocator = Allocator::new(1 << 20);
    /// assert!(allocator.node_capacity() >= 1); // lazy: one node for the whole range
    /// ```
    pub fn node_capacity(&self) -> usize {
        self.nodes.capacity()
    }

    /// Extension: enlarges the managed range to `new_size` units in place. Every live
    /// allocation keeps its offset; a free region at the end grows (and moves to the
    /// bin of its new size), otherwise a new free region is added after the last
    /// allocation.
    ///
    /// Time: O(1).
    ///
    /// # Errors
    /// [`GrowError::Shrink`] when `new_size` is below the current size;
    /// [`GrowError::NodeSpaceExhausted`] when a new end region needs a node and none
    /// is left (only past [`Self::GUARANTEED_ALLOCS`]). Nothing changes then.
    ///
    /// ```
    /// use offset_alloc::Allocator;
    /// let mut allocator: Allocator = Allocator::new(100);
    /// let a = allocator.allocate(100).unwrap();
    /// allocator.grow(300).unwrap();
    /// assert_eq!(allocator.allocate(200).unwrap().offset, 100);
    /// assert!(allocator.is_live(a));
    /// ```
    pub fn grow(&mut self, new_size: u32) -> Result<(), GrowError> {
        if new_size < self.size {
            return Err(GrowError::Shrink {
                current: self.size,
                requested: new_size,
            });
        }
        let extra = new_size - self.size;
        if extra == 0 {
            return Ok(());
        }
        let tail = self.tail;
        if tail != NI::NONE && !self.is_used(tail) {
            self.unbin(tail);
            let size = self.nodes[tail.to_usize()].size + extra;
            self.nodes[tail.to_usize()].size = size;
            self.bin_insert(tail, size);
        } else {
            if !self.nodes_available(1) {
                return Err(GrowError::NodeSpaceExhausted {
                    node_limit: Self::NODE_LIMIT,
                });
            }
            let region = self.new_region(self.size, extra, tail, NI::NONE);
            if tail != NI::NONE {
                self.nodes[tail.to_usize()].next = region;
            }
            self.tail = region;
            self.bin_insert(region, extra);
        }
        self.size = new_size;
        Ok(())
    }
}
