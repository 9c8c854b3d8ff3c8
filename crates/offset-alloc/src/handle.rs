//! [`Allocation`]: the small `Copy` handle an allocator hands out.
//!
//! Besides the public `offset` (as in the `offset-allocator` crate), a handle holds one
//! 64-bit key: the metadata node it names, and a check word that is the tag
//! (generation and used bit) the node had when the handle was issued, mixed with a
//! salt derived from the issuing allocator's identity. Every use recomputes the check
//! word, so a stale, double or foreign free is refused instead of releasing whatever
//! now lives in that node.
//!
//! Two fields, a `u32` and a `u64`, are on purpose: Rust passes and returns such a
//! struct in two registers, where a struct of four `u32`s travels through memory.
//! That saves a store and a reload on every call of `allocate` and `free` that the
//! compiler does not inline.

use core::marker::PhantomData;
use core::num::NonZeroU64;

use crate::node::NodeIndex;

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
    /// Node index in the low 32 bits; `tag ^ salt` in the high 32 bits. The tag of a
    /// used node is odd and the salt even, so the key is never zero, which gives
    /// `Option<Allocation>` a niche.
    key: NonZeroU64,
    node_type: PhantomData<NI>,
}

impl<NI: NodeIndex> Allocation<NI> {
    /// A handle for node `metadata`, whose (used, so odd) tag is `tag`, issued by the
    /// allocator whose salt (even) is `salt`.
    #[inline(always)]
    pub(crate) fn new(offset: u32, metadata: NI, tag: u32, salt: u32) -> Self {
        debug_assert!((tag ^ salt) & 1 == 1, "a used tag is odd and a salt even");
        // Bit 32 (the check word's lowest) is set already; saying so lets the compiler
        // drop the zero test.
        let key = (metadata.to_usize() as u64) | (u64::from(tag ^ salt) << 32) | (1 << 32);
        Allocation {
            offset,
            key: NonZeroU64::new(key).unwrap_or(NonZeroU64::MIN),
            node_type: PhantomData,
        }
    }

    /// The node holding this allocation's metadata.
    #[inline(always)]
    pub(crate) fn metadata(&self) -> NI {
        NI::from_u32(self.key.get() as u32)
    }

    /// The check word: the node's tag when issued, mixed with the issuer's salt.
    #[inline(always)]
    pub(crate) fn check_word(&self) -> u32 {
        (self.key.get() >> 32) as u32
    }
}
