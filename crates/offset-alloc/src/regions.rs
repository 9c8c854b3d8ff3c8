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

/// Units to skip from `offset` to reach a multiple of `align`.
#[inline]
fn padding(offset: u32, align: u32) -> u32 {
    match offset % align {
        0 => 0,
        r => align - r,
    }
}

impl<NI: NodeIndex> Allocator<NI> {
    /// Finds a free region for `size` units at alignment `align`: the node and the
    /// padding in front of the allocation.
    #[inline(always)]
    pub(crate) fn find(&self, size: u32, align: u32) -> Option<(NI, u32)> {
        // The original search: the first non-empty bin whose every region fits the
        // request plus worst-case padding.
        let sure = u64::from(size) + u64::from(align - 1);
        let sure_bin = match u32::try_from(sure) {
            Ok(sure) => small_float::uint_to_float_round_up(sure),
            Err(_) => NUM_LEAF_BINS as u32,
        };
        if let Some(bin) = self.bins.first_at_or_after(sure_bin) {
            let node = self.bin_heads[bin as usize];
            let pad = if align > 1 { padding(self.nodes[node.to_usize()].offset, align) } else { 0 };
            return Some((node, pad));
        }
        self.probe(size, align, sure_bin)
    }

    /// Extension: probes up to [`MAX_PROBES`] regions in the bins below `sure_bin`
    /// (starting at `size`'s round-down bin) for one that fits after all.
    #[inline(never)]
    pub(crate) fn probe(&self, size: u32, align: u32, sure_bin: u32) -> Option<(NI, u32)> {
        let mut budget = MAX_PROBES;
        let mut from = small_float::uint_to_float_round_down(size);
        while let Some(bin) = self.bins.first_at_or_after(from) {
            if bin >= sure_bin {
                break;
            }
            let mut candidate = self.bin_heads[bin as usize];
            while candidate != NI::NONE {
                if budget == 0 {
                    return None;
                }
                budget -= 1;
                let node = &self.nodes[candidate.to_usize()];
                let pad = padding(node.offset, align);
                if node.size >= size && node.size - size >= pad {
                    return Some((candidate, pad));
                }
                candidate = node.bin_next;
            }
            from = bin + 1;
        }
        None
    }

    /// Turns free region `node` into an allocation of `size` units after `pad` units
    /// of padding, returning the padding and the remainder to the free lists.
    #[inline(always)]
    pub(crate) fn carve(&mut self, node_index: NI, pad: u32, size: u32) -> Allocation<NI> {
        self.unbin(node_index);
        let i = node_index.to_usize();
        if pad > 0 {
            // Extension: the padding becomes a free region of its own. Its lower
            // neighbour is used (free regions never touch), so there is nothing to merge.
            let Node { offset, prev, .. } = self.nodes[i];
            let front = self.new_region(offset, pad, prev, node_index);
            if prev != NI::NONE {
                self.nodes[prev.to_usize()].next = front;
            }
            let node = &mut self.nodes[i];
            node.prev = front;
            node.offset += pad;
            node.size -= pad;
            self.bin_insert(front);
        }
        let Node { offset, size: total, next, tag, .. } = self.nodes[i];
        let charge = match self.rounding {
            Rounding::Exact => size,
            Rounding::BinSize => small_float::bin_rounded_size(size).min(total),
        };
        // Set the used bit and step the generation, so older handles no longer match.
        let tag = (tag | USED).wrapping_add(GENERATION_STEP);
        let node = &mut self.nodes[i];
        node.size = charge;
        node.tag = tag;
        let remainder = total - charge;
        if remainder > 0 {
            let rest = self.new_region(offset + charge, remainder, node_index, next);
            if next != NI::NONE {
                self.nodes[next.to_usize()].prev = rest;
            } else {
                self.tail = rest;
            }
            self.nodes[i].next = rest;
            self.bin_insert(rest);
        }
        self.live += 1;
        Allocation { offset, metadata: node_index, tag, allocator: self.id }
    }

    /// Extension: a zero-size allocation is a used node outside the neighbour chain,
    /// so it can neither split two free regions nor leave a zero-size free region.
    pub(crate) fn allocate_detached(&mut self) -> Allocation<NI> {
        let node_index = self.new_region(0, 0, NI::NONE, NI::NONE);
        let node = &mut self.nodes[node_index.to_usize()];
        let tag = (node.tag | USED).wrapping_add(GENERATION_STEP);
        node.tag = tag;
        self.live += 1;
        Allocation { offset: 0, metadata: node_index, tag, allocator: self.id }
    }

    /// The error for a request that found no region.
    #[cold]
    pub(crate) fn refusal(&self, size: u32, align: u32) -> AllocError {
        if size > self.size {
            return AllocError::TooLarge { requested: size, size: self.size };
        }
        AllocError::OutOfSpace {
            requested: size,
            align,
            largest_free: self.largest_free_region_exact(),
            total_free: self.free_storage,
        }
    }

    /// The node a handle names, if the handle is live in this allocator.
    #[inline]
    pub(crate) fn check(&self, allocation: Allocation<NI>) -> Result<NI, FreeError> {
        if allocation.allocator != self.id {
            return Err(FreeError::Foreign { handle_allocator: allocation.allocator, allocator: self.id });
        }
        match self.nodes.get(allocation.metadata.to_usize()) {
            Some(node) if node.tag == allocation.tag => Ok(allocation.metadata),
            _ => Err(FreeError::Stale { offset: allocation.offset, generation: allocation.generation() }),
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
            assert!(index < NI::MAX, "offset_alloc: node index space exhausted (invariant broken)");
            self.nodes.push(region);
            NI::from_u32(index)
        }
    }

    /// Returns a node slot to the spare list.
    #[inline(always)]
    pub(crate) fn release(&mut self, node_index: NI) {
        let slot = &mut self.nodes[node_index.to_usize()];
        slot.tag &= !USED;
        slot.bin_next = self.spare;
        self.spare = node_index;
    }

    /// Pushes free region `node` at the head of the bin its size rounds down to.
    #[inline(always)]
    pub(crate) fn bin_insert(&mut self, node_index: NI) {
        let size = self.nodes[node_index.to_usize()].size;
        let bin = small_float::uint_to_float_round_down(size);
        let head = self.bin_heads[bin as usize];
        if head == NI::NONE {
            self.bins.set(bin);
        } else {
            self.nodes[head.to_usize()].bin_prev = node_index;
        }
        let node = &mut self.nodes[node_index.to_usize()];
        node.bin_prev = NI::NONE;
        node.bin_next = head;
        self.bin_heads[bin as usize] = node_index;
        self.free_storage += size;
    }

    /// Unlinks free region `node` from its bin.
    #[inline(always)]
    pub(crate) fn unbin(&mut self, node_index: NI) {
        let Node { size, bin_prev, bin_next, .. } = self.nodes[node_index.to_usize()];
        if bin_prev != NI::NONE {
            self.nodes[bin_prev.to_usize()].bin_next = bin_next;
        } else {
            let bin = small_float::uint_to_float_round_down(size);
            self.bin_heads[bin as usize] = bin_next;
            if bin_next == NI::NONE {
                self.bins.clear(bin);
            }
        }
        if bin_next != NI::NONE {
            self.nodes[bin_next.to_usize()].bin_prev = bin_prev;
        }
        self.free_storage -= size;
    }
}
