//! [`Allocator::validate`]: an invariant walker over every node.
//!
//! Property tests and fuzz targets call it after every operation so that corruption
//! is reported at the step that caused it, with the node and numbers involved.

use alloc::format;
use alloc::vec;

use crate::allocator::Allocator;
use crate::bins::{BINS_PER_LEAF, NUM_LEAF_BINS, NUM_TOP_BINS};
use crate::error::InvariantError;
use crate::node::NodeIndex;
use crate::small_float;

/// What a validation walk found a node to be.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Seen {
    Unseen,
    Region,
    Spare,
}

macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(InvariantError { message: format!($($msg)+) });
        }
    };
}

impl<NI: NodeIndex> Allocator<NI> {
    /// Walks every node and checks every invariant: regions tile `0..size` in order
    /// with symmetric neighbour links and non-zero sizes; no two free regions touch;
    /// each free region is listed exactly once, in the bin its size rounds down to,
    /// with symmetric bin links; the two-level bitmask matches the non-empty bins;
    /// the free total, live count, tail and node-count bound agree; every other node
    /// is a spare slot or a zero-size allocation.
    ///
    /// Time: O(nodes); allocates one byte per node.
    ///
    /// # Errors
    /// [`InvariantError`] naming the first broken invariant.
    ///
    /// ```
    /// use offset_alloc::Allocator;
    /// let mut allocator: Allocator = Allocator::new(1000);
    /// let a = allocator.allocate_aligned(10, 7).unwrap();
    /// allocator.validate().unwrap();
    /// allocator.free(a);
    /// allocator.validate().unwrap();
    /// ```
    pub fn validate(&self) -> Result<(), InvariantError> {
        let count = self.nodes.len();
        let mut seen = vec![Seen::Unseen; count];
        let limit = 2 * u64::from(self.max_allocs) + 1;
        ensure!(
            count as u64 <= limit,
            "{count} nodes exceed the bound 2 * max_allocs + 1 = {limit}"
        );

        ensure!(
            self.used.len() == count.div_ceil(64),
            "used bit set has {} words for {count} nodes",
            self.used.len()
        );
        for (i, n) in self.nodes.iter().enumerate() {
            let bit = self.used[i / 64] >> (i % 64) & 1 == 1;
            ensure!(
                bit == n.is_used(),
                "node {i}: used bit {bit} disagrees with its tag"
            );
        }

        // 1. The neighbour chain tiles 0..size.
        let mut expected_offset = 0u64;
        let mut free_total = 0u64;
        let mut free_regions = 0usize;
        let mut used_in_chain = 0u32;
        let mut prev = NI::NONE;
        let mut prev_free = false;
        let mut node = self.head();
        while node != NI::NONE {
            let i = node.to_usize();
            ensure!(i < count, "chain names node {i} of {count}");
            ensure!(
                seen[i] == Seen::Unseen,
                "node {i} appears twice in the chain"
            );
            seen[i] = Seen::Region;
            let n = &self.nodes[i];
            ensure!(
                n.prev == prev,
                "node {i}: prev link {:?} but reached from {:?}",
                n.prev,
                prev
            );
            ensure!(
                u64::from(n.offset) == expected_offset,
                "node {i} at offset {} but the previous region ends at {expected_offset}",
                n.offset
            );
            ensure!(
                n.size > 0,
                "node {i} at offset {} has size 0 inside the chain",
                n.offset
            );
            if n.is_used() {
                used_in_chain += 1;
                prev_free = false;
            } else {
                ensure!(
                    !prev_free,
                    "free regions touch at offset {} (node {i})",
                    n.offset
                );
                free_total += u64::from(n.size);
                free_regions += 1;
                prev_free = true;
            }
            expected_offset += u64::from(n.size);
            prev = node;
            node = n.next;
        }
        ensure!(
            expected_offset == u64::from(self.size),
            "regions end at {expected_offset}, size is {}",
            self.size
        );
        ensure!(
            prev == self.tail,
            "tail is {:?}, last region is {:?}",
            self.tail,
            prev
        );
        ensure!(
            free_total + u64::from(self.used_storage) == u64::from(self.size),
            "free regions sum to {free_total}, but {} units are charged to allocations of {}",
            self.used_storage,
            self.size
        );

        // 2. Bins list each free region once, in the right bin, and the mask agrees.
        let mut binned = 0usize;
        for bin in 0..NUM_LEAF_BINS {
            let mut prev = NI::NONE;
            let mut node = self.bin_heads[bin];
            ensure!(
                self.bins.is_set(bin as u32) == (node != NI::NONE),
                "bin {bin}: mask bit disagrees with its list"
            );
            while node != NI::NONE {
                let i = node.to_usize();
                ensure!(i < count, "bin {bin} names node {i} of {count}");
                ensure!(
                    seen[i] == Seen::Region,
                    "bin {bin} lists node {i}, which is not a region (or is listed twice)"
                );
                let n = &self.nodes[i];
                ensure!(!n.is_used(), "bin {bin} lists used node {i}");
                // A head's `bin_prev` is unused by design; every other one must link back.
                ensure!(
                    prev == NI::NONE || n.bin_prev == prev,
                    "node {i}: bin_prev {:?} but reached from {:?}",
                    n.bin_prev,
                    prev
                );
                let expected = small_float::uint_to_float_round_down(n.size) as usize;
                ensure!(
                    expected == bin,
                    "node {i} of size {} sits in bin {bin}, belongs in bin {expected}",
                    n.size
                );
                ensure!(
                    usize::from(n.bin) == bin,
                    "node {i} records bin {} but sits in bin {bin}",
                    n.bin
                );
                seen[i] = Seen::Spare; // mark as binned; reset below
                binned += 1;
                ensure!(
                    binned <= free_regions,
                    "bins hold more nodes than there are free regions"
                );
                prev = node;
                node = n.bin_next;
            }
        }
        ensure!(
            binned == free_regions,
            "{binned} nodes binned, {free_regions} free regions in the chain"
        );
        for (top, leaves) in self.bins.leaves.iter().enumerate() {
            ensure!(
                (self.bins.top >> top) & 1 == u32::from(*leaves != 0),
                "top bit {top} disagrees with its {BINS_PER_LEAF} leaf bits"
            );
        }
        ensure!(
            self.bins.top >> (NUM_TOP_BINS - 1) >> 1 == 0,
            "top mask has stray bits"
        );
        for s in seen.iter_mut() {
            if *s == Seen::Spare {
                *s = Seen::Region;
            }
        }

        // 3. Spare slots, then zero-size allocations account for every other node.
        let mut node = self.spare;
        while node != NI::NONE {
            let i = node.to_usize();
            ensure!(i < count, "spare list names node {i} of {count}");
            ensure!(
                seen[i] == Seen::Unseen,
                "spare node {i} is also a region or listed twice"
            );
            ensure!(!self.nodes[i].is_used(), "spare node {i} is marked used");
            seen[i] = Seen::Spare;
            node = self.nodes[i].bin_next;
        }
        let mut detached = 0u32;
        for (i, s) in seen.iter().enumerate() {
            if *s == Seen::Unseen {
                let n = &self.nodes[i];
                ensure!(
                    n.is_used() && n.size == 0,
                    "node {i} is neither a region, a spare slot nor a zero-size allocation"
                );
                detached += 1;
            }
        }
        ensure!(
            used_in_chain + detached == self.live,
            "{used_in_chain} used regions + {detached} zero-size allocations, but {} live",
            self.live
        );
        ensure!(
            self.live <= self.max_allocs,
            "{} live allocations exceed max_allocs {}",
            self.live,
            self.max_allocs
        );
        Ok(())
    }
}
