//! The two-level bitmask that finds a non-empty bin in constant time.
//!
//! 256 bins are grouped into 32 "top" groups of 8 "leaf" bins. One bit per top group
//! says whether any of its leaves holds a free region, and one byte per group says
//! which leaves do. Finding the first non-empty bin at or after a given one is a
//! masked trailing-zero count in the leaf byte, or failing that in the top word and
//! then the chosen leaf byte: two `tzcnt` instructions, whatever the heap holds.

/// Number of top-level groups (one bit each in a `u32`).
pub const NUM_TOP_BINS: usize = 32;
/// Leaf bins per top group (one bit each in a `u8`).
pub const BINS_PER_LEAF: usize = 8;
/// Shift from a bin index to its top group.
pub const TOP_BINS_INDEX_SHIFT: u32 = 3;
/// Mask from a bin index to its leaf within the group.
pub const LEAF_BINS_INDEX_MASK: u32 = 7;
/// Total number of bins.
pub const NUM_LEAF_BINS: usize = NUM_TOP_BINS * BINS_PER_LEAF;

/// Which bins currently hold at least one free region.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BinMask {
    /// Bit `t` set: group `t` has a non-empty leaf.
    pub top: u32,
    /// Bit `l` of byte `t` set: bin `t * 8 + l` is non-empty.
    pub leaves: [u8; NUM_TOP_BINS],
}

impl BinMask {
    /// Marks `bin` as non-empty.
    #[inline]
    pub fn set(&mut self, bin: u32) {
        let top = (bin >> TOP_BINS_INDEX_SHIFT) as usize;
        self.leaves[top] |= 1 << (bin & LEAF_BINS_INDEX_MASK);
        self.top |= 1 << top;
    }

    /// Marks `bin` as empty.
    #[inline]
    pub fn clear(&mut self, bin: u32) {
        let top = (bin >> TOP_BINS_INDEX_SHIFT) as usize;
        self.leaves[top] &= !(1 << (bin & LEAF_BINS_INDEX_MASK));
        if self.leaves[top] == 0 {
            self.top &= !(1 << top);
        }
    }

    /// Whether `bin` holds a free region.
    #[inline]
    pub fn is_set(&self, bin: u32) -> bool {
        let top = (bin >> TOP_BINS_INDEX_SHIFT) as usize;
        top < NUM_TOP_BINS && self.leaves[top] & (1 << (bin & LEAF_BINS_INDEX_MASK)) != 0
    }

    /// The first non-empty bin with index `>= bin`.
    #[inline]
    pub fn first_at_or_after(&self, bin: u32) -> Option<u32> {
        let top = bin >> TOP_BINS_INDEX_SHIFT;
        if top as usize >= NUM_TOP_BINS {
            return None;
        }
        // Leaves of the same group at or after the requested leaf.
        let leaf_bits =
            u32::from(self.leaves[top as usize]) & (u32::MAX << (bin & LEAF_BINS_INDEX_MASK));
        if leaf_bits != 0 {
            return Some((top << TOP_BINS_INDEX_SHIFT) | leaf_bits.trailing_zeros());
        }
        // Any leaf of a later group fits; `checked_shl` keeps group 31 from overflowing.
        let later = self.top & u32::MAX.checked_shl(top + 1).unwrap_or(0);
        if later == 0 {
            return None;
        }
        let top = later.trailing_zeros();
        let leaf = u32::from(self.leaves[top as usize]).trailing_zeros();
        Some((top << TOP_BINS_INDEX_SHIFT) | leaf)
    }

    /// The last non-empty bin with index `< bin` (any bin when `bin` is past the last).
    #[inline]
    pub fn last_before(&self, bin: u32) -> Option<u32> {
        let top = bin >> TOP_BINS_INDEX_SHIFT;
        if top as usize >= NUM_TOP_BINS {
            return self.highest();
        }
        // Leaves of the same group below the requested leaf.
        let below = (1u32 << (bin & LEAF_BINS_INDEX_MASK)) - 1;
        let leaf_bits = u32::from(self.leaves[top as usize]) & below;
        if leaf_bits != 0 {
            return Some((top << TOP_BINS_INDEX_SHIFT) | (31 - leaf_bits.leading_zeros()));
        }
        let earlier = self.top & ((1u32 << top) - 1);
        if earlier == 0 {
            return None;
        }
        let top = 31 - earlier.leading_zeros();
        let leaf = 31 - u32::from(self.leaves[top as usize]).leading_zeros();
        Some((top << TOP_BINS_INDEX_SHIFT) | leaf)
    }

    /// The highest non-empty bin.
    #[inline]
    pub fn highest(&self) -> Option<u32> {
        if self.top == 0 {
            return None;
        }
        let top = 31 - self.top.leading_zeros();
        let leaf = 31 - u32::from(self.leaves[top as usize]).leading_zeros();
        Some((top << TOP_BINS_INDEX_SHIFT) | leaf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random masks (xorshift) against a plain scan of the 256 bits.
    #[test]
    fn searches_agree_with_a_linear_scan() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..2000 {
            let mut mask = BinMask::default();
            let mut set = [false; NUM_LEAF_BINS];
            let density = 1 + (state % 40);
            for (bin, slot) in set.iter_mut().enumerate() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                if state % 256 < density {
                    mask.set(bin as u32);
                    *slot = true;
                }
            }
            for bin in 0..=NUM_LEAF_BINS as u32 {
                let after = (bin..NUM_LEAF_BINS as u32).find(|&b| set[b as usize]);
                let before = (0..bin.min(NUM_LEAF_BINS as u32))
                    .rev()
                    .find(|&b| set[b as usize]);
                assert_eq!(mask.first_at_or_after(bin), after, "after {bin}");
                assert_eq!(mask.last_before(bin), before, "before {bin}");
            }
            assert_eq!(mask.highest(), mask.last_before(NUM_LEAF_BINS as u32));
        }
    }
}
