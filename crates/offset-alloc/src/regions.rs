//! Region bookkeeping behind [`crate::Allocator`]: bin lists, node slots, search and split.
//!
//! These are the original algorithm's inner steps (insert at bin head, unlink from a
//! bin, pop and split) plus our extensions to them: the bounded fallback probe, front
//! padding for alignment, detached zero-size allocations and a spare-slot list that
//! lets node storage grow on demand instead of being allocated up front.

use crate::allocator::{Allocator, MAX_PROBES};
use crate::bins::NUM_LEAF_BINS;
use crate::error::{AllocError, FreeError};
use crate::handle::Allocation;
use crate::node::{GENERATION_STEP, Node, NodeIndex, USED};
use crate::options::Rounding;
use crate::small_float;

/// The first bin whose every region holds `size` units at alignment `align` whatever
/// its offset (`size + align - 1` rounded up; past the last bin when that overflows).
#[inline(always)]
pub(crate) fn sure_bin(size: u32, align: u32) -> u32 {
    let sure = u64::from(size) + u64::from(align - 1);
    match u32::try_from(sure) {
        Ok(sure) => small_float::uint_to_float_round_up(sure),
        Err(_) => NUM_LEAF_BINS as u32,
    }
}

/// Units to skip from `offset` to reach a multiple of `align`.
#[inline]
pub(crate) fn padding(offset: u32, align: u32) -> u32 {
    match offset % align {
        0 => 0,
        r => align - r,
    }
}

impl<NI: NodeIndex> Allocator<NI> {
    /// Finds a free region for `size` units at alignment `align` and allocates it.
    /// `None` when no region was found.
    #[inline(always)]
    pub(crate) fn find_and_carve(&mut self, size: u32, align: u32) -> Option<Allocation<NI>> {
        // The original search: the first non-empty bin whose every region fits the
        // request plus worst-case padding; its head is taken.
        let sure_bin = sure_bin(size, align);
        if let Some(bin) = self.bins.first_at_or_after(sure_bin) {
            let node_index = self.pop_head(bin);
            let pad = if align > 1 {
                padding(self.nodes[node_index.to_usize()].offset, align)
            } else {
                0
            };
            return Some(self.split(node_index, pad, size));
        }
        let (node_index, pad) = self.probe(size, align, sure_bin)?;
        self.unbin(node_index);
        Some(self.split(node_index, pad, size))
    }

    /// Extension: probes up to [`MAX_PROBES`] regions in the bins below `sure_bin`,
    /// from the highest (the most room for padding) down to `size`'s round-down bin,
    /// for one that fits after all. Unaligned requests have one such bin, so their
    /// decisions do not depend on the order.
    #[inline(never)]
    pub(crate) fn probe(&self, size: u32, align: u32, sure_bin: u32) -> Option<(NI, u32)> {
        let mut budget = MAX_PROBES;
        let lowest = small_float::uint_to_float_round_down(size);
        let mut below = sure_bin;
        while let Some(bin) = self.bins.last_before(below) {
            if bin < lowest {
                break;
            }
            let mut candidate = self.bin_heads[bin as usize];
            while candidate != NI::NONE {
                if budget == 0 {
                    return None;
                }
                budget -= 1;
                if let Some(pad) = self.fits(candidate, size, align) {
                    return Some((candidate, pad));
                }
                candidate = self.nodes[candidate.to_usize()].bin_next;
            }
            below = bin;
        }
        None
    }

    /// The padding free region `node` needs to hold `size` units at `align`, if it
    /// holds them.
    #[inline]
    pub(crate) fn fits(&self, node: NI, size: u32, align: u32) -> Option<u32> {
        let node = &self.nodes[node.to_usize()];
        let pad = padding(node.offset, align);
        (node.size >= size && node.size - size >= pad).then_some(pad)
    }

    /// Unlinks and returns the head of non-empty bin `bin`.
    #[inline(always)]
    fn pop_head(&mut self, bin: u32) -> NI {
        let bin = bin as u8; // bins are 0..=255
        let node_index = self.bin_heads[usize::from(bin)];
        let node = &self.nodes[node_index.to_usize()];
        let next = node.bin_next;
        // The new head's `bin_prev` is left as is: a head's is never read (see `unbin`).
        self.bin_heads[usize::from(bin)] = next;
        if next == NI::NONE {
            self.bins.clear(u32::from(bin));
        }
        node_index
    }

    /// Turns free region `node` (already out of its bin) into an allocation of `size`
    /// units after `pad` units of padding, returning the padding and the remainder to
    /// the free lists.
    #[inline(always)]
    pub(crate) fn split(&mut self, node_index: NI, pad: u32, size: u32) -> Allocation<NI> {
        let i = node_index.to_usize();
        if pad > 0 {
            self.split_front(node_index, pad);
        }
        // The slot the remainder will take, known before it is taken, so the node's
        // `next` link is written in the same pass as the rest of it.
        let rest = if self.spare != NI::NONE {
            self.spare
        } else {
            NI::from_u32(self.nodes.len() as u32)
        };
        let node = &mut self.nodes[i];
        let Node {
            offset,
            size: total,
            next,
            tag,
            ..
        } = *node;
        let charge = match self.rounding {
            Rounding::Exact => size,
            Rounding::BinSize => small_float::bin_rounded_size(size).min(total),
        };
        // Set the used bit and step the generation, so older handles no longer match.
        // A free node's used bit is clear, so one addition does both.
        debug_assert!(tag & USED == 0);
        let tag = tag.wrapping_add(USED + GENERATION_STEP);
        node.size = charge;
        node.tag = tag;
        let remainder = total - charge;
        if remainder > 0 {
            node.next = rest;
        }
        self.set_used(node_index);
        if remainder > 0 {
            let taken = self.new_region(offset + charge, remainder, node_index, next);
            debug_assert!(taken == rest);
            if next != NI::NONE {
                self.nodes[next.to_usize()].prev = rest;
            } else {
                self.tail = rest;
            }
            self.bin_insert(rest, remainder);
        }
        self.live += 1;
        self.used_storage += charge;
        Allocation::new(offset, node_index, tag, self.salt)
    }

    /// Extension: splits `pad` units off the front of free region `node` as a free
    /// region of its own. Its lower neighbour is used (free regions never touch), so
    /// there is nothing to merge.
    #[cold]
    fn split_front(&mut self, node_index: NI, pad: u32) {
        let i = node_index.to_usize();
        let Node { offset, prev, .. } = self.nodes[i];
        let front = self.new_region(offset, pad, prev, node_index);
        if prev != NI::NONE {
            self.nodes[prev.to_usize()].next = front;
        }
        let node = &mut self.nodes[i];
        node.prev = front;
        node.offset += pad;
        node.size -= pad;
        self.bin_insert(front, pad);
    }

    /// Extension: a zero-size allocation is a used node outside the neighbour chain,
    /// so it can neither split two free regions nor leave a zero-size free region.
    pub(crate) fn allocate_detached(&mut self) -> Allocation<NI> {
        let node_index = self.new_region(0, 0, NI::NONE, NI::NONE);
        let node = &mut self.nodes[node_index.to_usize()];
        let tag = (node.tag | USED).wrapping_add(GENERATION_STEP);
        node.tag = tag;
        self.set_used(node_index);
        self.live += 1;
        Allocation::new(0, node_index, tag, self.salt)
    }

    /// The error for a request that found no region, in O(1): the largest free
    /// region is named by its bin's bounds, not measured.
    #[cold]
    pub(crate) fn refusal(&self, size: u32, align: u32) -> AllocError {
        if size > self.size {
            return AllocError::TooLarge {
                requested: size,
                size: self.size,
            };
        }
        let total_free = self.free_units();
        let (at_least, at_most) = match self.bins.highest() {
            None => (0, 0),
            Some(bin) => {
                let next = if bin < small_float::LAST_U32_BIN {
                    small_float::float_to_uint(bin + 1) - 1
                } else {
                    u32::MAX
                };
                (small_float::float_to_uint(bin), next.min(total_free))
            }
        };
        AllocError::OutOfSpace {
            requested: size,
            align,
            largest_free_at_least: at_least,
            largest_free_at_most: at_most,
            total_free,
        }
    }

    /// The node a handle names, if the handle is live in this allocator.
    ///
    /// The handle's check word, unsalted with this allocator's salt, must equal the
    /// node's current tag. Otherwise it is an error: `Stale` when it reads as a used
    /// tag of this node's current or an earlier generation (generations only grow;
    /// freeing clears the used bit), `Foreign` when it cannot be one (another
    /// allocator's salt, or a node this allocator does not have).
    #[inline]
    pub(crate) fn check(&self, allocation: Allocation<NI>) -> Result<NI, FreeError> {
        let index = allocation.metadata();
        let tag = allocation.check_word() ^ self.salt;
        match self.nodes.get(index.to_usize()) {
            Some(node) if node.tag == tag => Ok(index),
            found => Err(self.check_failed(allocation, tag, found.map(|node| node.tag))),
        }
    }

    /// The error for a handle that did not pass [`Self::check`].
    #[cold]
    fn check_failed(
        &self,
        allocation: Allocation<NI>,
        tag: u32,
        node_tag: Option<u32>,
    ) -> FreeError {
        match node_tag {
            Some(current)
                if tag & USED != 0 && tag / GENERATION_STEP <= current / GENERATION_STEP =>
            {
                FreeError::Stale {
                    offset: allocation.offset,
                    generation: tag / GENERATION_STEP,
                }
            }
            _ => FreeError::Foreign { allocator: self.id },
        }
    }

    /// Takes a spare slot (or a new one) for a free region with the given links.
    /// The slot keeps its generation so handles to its earlier lives stay stale.
    #[inline(always)]
    pub(crate) fn new_region(&mut self, offset: u32, size: u32, prev: NI, next: NI) -> NI {
        let mut region = Node::free(offset, size, 0);
        region.prev = prev;
        region.next = next;
        if self.spare != NI::NONE {
            let index = self.spare;
            let slot = &mut self.nodes[index.to_usize()];
            self.spare = slot.bin_next;
            region.tag = slot.tag & !USED;
            *slot = region;
            index
        } else {
            let index = self.nodes.len() as u32;
            // At most 2 * max_allocs + 1 nodes are ever live (see MAX_ALLOCS_LIMIT).
            assert!(
                index < NI::MAX,
                "offset_alloc: node index space exhausted (invariant broken)"
            );
            self.nodes.push(region);
            if index.is_multiple_of(64) {
                self.used.push(0);
            }
            NI::from_u32(index)
        }
    }

    /// Returns the slot of a free node (its used bit already clear) to the spare list.
    #[inline(always)]
    pub(crate) fn release(&mut self, node_index: NI) {
        let slot = &mut self.nodes[node_index.to_usize()];
        debug_assert!(!slot.is_used());
        slot.bin_next = self.spare;
        self.spare = node_index;
    }

    /// Pushes free region `node`, of `size` units, at the head of the bin its size
    /// rounds down to.
    #[inline(always)]
    pub(crate) fn bin_insert(&mut self, node_index: NI, size: u32) {
        let bin = small_float::uint_to_float_round_down(size) as u8; // bins are 0..=255
        let head = self.bin_heads[usize::from(bin)];
        if head == NI::NONE {
            self.bins.set(u32::from(bin));
        } else {
            self.nodes[head.to_usize()].bin_prev = node_index;
        }
        // The new head's own `bin_prev` is never read (see `unbin`).
        let node = &mut self.nodes[node_index.to_usize()];
        node.bin_next = head;
        node.bin = bin;
        self.bin_heads[usize::from(bin)] = node_index;
    }

    /// Unlinks free region `node` from its bin.
    ///
    /// A bin's head is recognised through `bin_heads` (a hot 1 KiB array), so a
    /// head's `bin_prev` is never read and need not be kept: popping a head does not
    /// touch the next region's record, which saves a cache miss per allocation.
    #[inline(always)]
    pub(crate) fn unbin(&mut self, node_index: NI) {
        let Node {
            bin_prev,
            bin_next,
            bin,
            ..
        } = self.nodes[node_index.to_usize()];
        if self.bin_heads[usize::from(bin)] == node_index {
            self.bin_heads[usize::from(bin)] = bin_next;
            if bin_next == NI::NONE {
                self.bins.clear(u32::from(bin));
            }
        } else {
            self.nodes[bin_prev.to_usize()].bin_next = bin_next;
            if bin_next != NI::NONE {
                self.nodes[bin_next.to_usize()].bin_prev = bin_prev;
            }
        }
    }

    /// Whether node `n` is allocated, from the dense bit set.
    #[inline(always)]
    pub(crate) fn is_used(&self, n: NI) -> bool {
        let i = n.to_usize();
        self.used[i / 64] & (1 << (i % 64)) != 0
    }

    /// Marks node `n` allocated in the dense bit set.
    pub(crate) fn mark_used(&mut self, n: NI) {
        self.set_used(n);
    }

    #[inline(always)]
    fn set_used(&mut self, n: NI) {
        let i = n.to_usize();
        self.used[i / 64] |= 1 << (i % 64);
    }

    #[inline(always)]
    pub(crate) fn clear_used(&mut self, n: NI) {
        let i = n.to_usize();
        self.used[i / 64] &= !(1 << (i % 64));
    }
}
