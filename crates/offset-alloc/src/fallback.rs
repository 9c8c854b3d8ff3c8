//! Extension: the allocation paths that leave the O(1) hot path.
//!
//! Two situations take them. An allocator whose `max_allocs` exceeds what its node
//! index type can always serve (a `u16` allocator built with `with_max_allocs(size,
//! 65_533)`, as the 0.2.0 crate allows) must check, once it is past
//! [`Allocator::GUARANTEED_ALLOCS`] live allocations, that the nodes a split needs
//! exist before it changes anything. And a caller about to pay far more than a search
//! (an arena that would otherwise grow a GPU buffer) can ask for the exhaustive search,
//! which refuses only when no free region can hold the request. Neither is ever used
//! by `allocate`, `try_allocate` or their aligned forms below the guarantee.

use crate::allocator::Allocator;
use crate::error::AllocError;
use crate::handle::Allocation;
use crate::node::NodeIndex;
use crate::options::Rounding;
use crate::regions::sure_bin;
use crate::small_float;

impl<NI: NodeIndex> Allocator<NI> {
    /// Allocation off the hot path: a live count at or past `fast_limit` (the
    /// allocation limit, or the count past which nodes can run out).
    #[cold]
    #[inline(never)]
    pub(crate) fn allocate_checked(
        &mut self,
        size: u32,
        align: u32,
    ) -> Result<Allocation<NI>, AllocError> {
        if self.live >= self.max_allocs {
            return Err(AllocError::TooManyAllocations {
                max_allocs: self.max_allocs,
            });
        }
        if size == 0 {
            if self.live >= self.fast_limit && !self.nodes_available(1) {
                return Err(self.node_space_exhausted());
            }
            return Ok(self.allocate_detached());
        }
        match self.locate(size, align) {
            Some((node, pad)) => self.carve_checked(node, pad, size),
            None => Err(self.refusal(size, align)),
        }
    }

    /// Where [`Self::find_and_carve`] would allocate, without changing anything: the
    /// head of the first bin that certainly fits, else the probe's find.
    fn locate(&self, size: u32, align: u32) -> Option<(NI, u32)> {
        let sure_bin = sure_bin(size, align);
        match self.bins.first_at_or_after(sure_bin) {
            Some(bin) => {
                let node = self.bin_heads[bin as usize];
                let pad = crate::regions::padding(self.nodes[node.to_usize()].offset, align);
                Some((node, pad))
            }
            None => self.probe(size, align, sure_bin),
        }
    }

    /// Carves free region `node` (still binned) after checking that the nodes its
    /// split needs (front padding, remainder) can be had.
    fn carve_checked(
        &mut self,
        node: NI,
        pad: u32,
        size: u32,
    ) -> Result<Allocation<NI>, AllocError> {
        if self.live >= self.fast_limit {
            let total = self.nodes[node.to_usize()].size - pad;
            let charge = match self.rounding {
                Rounding::Exact => size,
                Rounding::BinSize => small_float::bin_rounded_size(size).min(total),
            };
            let needed = u32::from(pad > 0) + u32::from(total > charge);
            if !self.nodes_available(needed) {
                return Err(self.node_space_exhausted());
            }
        }
        self.unbin(node);
        Ok(self.split(node, pad, size))
    }

    /// Whether `n` (at most 2) more nodes can be taken: spare slots, or indices the
    /// node type has not used yet.
    pub(crate) fn nodes_available(&self, n: u32) -> bool {
        let fresh = Self::NODE_LIMIT - self.nodes.len() as u32;
        let mut have = fresh.min(n);
        let mut spare = self.spare;
        while have < n && spare != NI::NONE {
            have += 1;
            spare = self.nodes[spare.to_usize()].bin_next;
        }
        have >= n
    }

    fn node_space_exhausted(&self) -> AllocError {
        AllocError::NodeSpaceExhausted {
            live: self.live,
            node_limit: Self::NODE_LIMIT,
        }
    }

    /// Extension: [`Self::try_allocate`] that is refused only when no free region can
    /// hold `size` units. The O(1) search runs first; if it misses, every region of
    /// `size`'s round-down bin is checked.
    ///
    /// For callers about to pay far more than a search on a refusal, such as growing a
    /// GPU buffer. Never used by the O(1) methods.
    ///
    /// Time: O(1) when the O(1) search succeeds, else O(free regions in
    /// `bin::round_down(size)`'s bin).
    ///
    /// # Errors
    /// As [`Self::try_allocate`]; `OutOfSpace` now means no free region fits.
    ///
    /// ```
    /// use offset_alloc::{Allocator, AllocError};
    /// // A free region of 1,000 units behind eight of 970 in the same bin.
    /// let mut a: Allocator = Allocator::new(20_000);
    /// let big = a.allocate(1000).unwrap();
    /// a.allocate(1).unwrap();
    /// let small: Vec<_> = (0..8).map(|_| { let s = a.allocate(970).unwrap(); a.allocate(1).unwrap(); s }).collect();
    /// let rest = a.free_units();
    /// a.allocate(rest).unwrap();
    /// a.free(big);
    /// for s in small { a.free(s); }
    /// assert!(a.try_allocate(1000).is_err()); // the O(1) probe stops after 8 regions
    /// assert_eq!(a.try_allocate_exhaustive(1000).unwrap().offset, 0);
    /// assert!(matches!(a.try_allocate_exhaustive(1000), Err(AllocError::OutOfSpace { .. })));
    /// ```
    pub fn try_allocate_exhaustive(&mut self, size: u32) -> Result<Allocation<NI>, AllocError> {
        self.try_allocate_aligned_exhaustive(size, 1)
    }

    /// Extension: [`Self::try_allocate_aligned`] that is refused only when no free
    /// region can hold `size` units at a multiple of `align`. The O(1) search runs
    /// first; if it misses, every region in the bins from `bin::round_down(size)` up to
    /// (not including) `bin::round_up(size + align - 1)` is checked, lowest bin first.
    /// Regions below that range are too small, regions above it always fit.
    ///
    /// Time: O(1) when the O(1) search succeeds, else O(free regions in those bins).
    ///
    /// # Errors
    /// As [`Self::try_allocate_aligned`]; `OutOfSpace` now means no free region fits.
    ///
    /// ```
    /// use offset_alloc::Allocator;
    /// let mut a: Allocator = Allocator::new(4096 * 3);
    /// let _pin = a.allocate(1).unwrap();
    /// let b = a.try_allocate_aligned_exhaustive(4096, 4096).unwrap();
    /// assert_eq!(b.offset, 4096);
    /// ```
    pub fn try_allocate_aligned_exhaustive(
        &mut self,
        size: u32,
        align: u32,
    ) -> Result<Allocation<NI>, AllocError> {
        let refused = match self.try_allocate_aligned(size, align) {
            Err(refused @ AllocError::OutOfSpace { .. }) => refused,
            other => return other,
        };
        let sure_bin = sure_bin(size, align);
        let mut from = small_float::uint_to_float_round_down(size);
        while let Some(bin) = self.bins.first_at_or_after(from) {
            if bin >= sure_bin {
                break;
            }
            let mut candidate = self.bin_heads[bin as usize];
            while candidate != NI::NONE {
                if let Some(pad) = self.fits(candidate, size, align) {
                    return self.carve_checked(candidate, pad, size);
                }
                candidate = self.nodes[candidate.to_usize()].bin_next;
            }
            from = bin + 1;
        }
        Err(refused)
    }
}
