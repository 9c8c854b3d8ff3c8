//! The allocator proper: Sebastian Aaltonen's O(1) algorithm and our extensions.
//!
//! Free regions sit in 256 bins by their size rounded *down* on the small-float scale
//! ([`crate::small_float`]); a request rounds its size *up* and takes the head of the
//! first non-empty bin at or above that ([`crate::bins`]), splitting off the remainder
//! as a new free region. Freeing merges with free neighbours and pushes the result at
//! the head of its bin. These steps, and their order, are the original's, so offsets
//! match the `offset-allocator` crate decision for decision.
//!
//! Extensions, each marked `Extension:` below: a bounded probe of the round-down bins
//! when the original search fails (no false out-of-memory), alignment whose padding
//! returns to the free lists, in-place growth, checked handles, detached zero-size
//! allocations, an optional round-up-to-bin charging policy, and node storage that
//! grows on demand (or is allocated up front) up to `2 * max_allocs + 1` nodes (enough
//! for every allocation and a free region between each pair). The paths off the O(1)
//! hot path (node-space checks, the exhaustive search) live in [`crate::fallback`].

mod growth;

use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};

use crate::bins::{BinMask, NUM_LEAF_BINS};
use crate::error::{AllocError, ConfigError, FreeError};
use crate::handle::Allocation;
use crate::node::{Node, NodeIndex, USED};
use crate::options::{AllocatorOptions, NodeStorage, Rounding};

/// Extension: nodes inspected in the round-down bins before a request is refused.
/// Eight keeps the worst case bounded (O(1)) and finds a just-freed hole at once.
pub(crate) const MAX_PROBES: u32 = 8;

/// Default live-allocation limit, as in the original (`128 * 1024`).
const DEFAULT_MAX_ALLOCS: u32 = 128 * 1024;

/// Source of allocator identities, from which the salt mixed into handles is derived.
static NEXT_ALLOCATOR_ID: AtomicU32 = AtomicU32::new(1);

/// A fresh identity.
#[cfg(target_has_atomic = "32")]
fn next_allocator_id() -> u32 {
    NEXT_ALLOCATOR_ID.fetch_add(1, Ordering::Relaxed)
}

/// A fresh identity, on targets without atomic read-modify-write (`thumbv6m-none-eabi`
/// and other cores without compare-and-swap): a plain load and store. Two allocators
/// built at the same moment from an interrupt and the code it interrupted may share
/// an identity; that only weakens the detection of *foreign* handles between those
/// two (stale and double frees are still caught exactly, by generation).
#[cfg(not(target_has_atomic = "32"))]
fn next_allocator_id() -> u32 {
    let id = NEXT_ALLOCATOR_ID.load(Ordering::Relaxed);
    NEXT_ALLOCATOR_ID.store(id.wrapping_add(1), Ordering::Relaxed);
    id
}

/// The salt of allocator `id`: a multiplicative hash (odd multiplier, so distinct
/// identities give distinct products) with bit 0 cleared, so that a salted tag
/// keeps its used bit and is never zero.
fn salt_of(id: u32) -> u32 {
    id.wrapping_mul(0x9E37_79B9).rotate_left(16) & !1
}

/// The panic of [`Allocator::free`], kept out of line so the hot path stays small.
#[cold]
#[inline(never)]
fn free_failed(err: FreeError) -> ! {
    panic!("offset_alloc::Allocator::free: {err}");
}

/// An allocator that manages a contiguous range of `size` units and hands out
/// sub-ranges of it in O(1), keeping all metadata outside the range.
///
/// A drop-in for `offset_allocator::Allocator` (0.2.0): the same methods return the
/// same offsets, with checked handles, alignment, growth and typed errors added.
///
/// ```
/// use offset_alloc::Allocator;
/// let mut allocator: Allocator = Allocator::new(1 << 20);
/// let a = allocator.allocate(1337).unwrap();
/// let b = allocator.allocate(64).unwrap();
/// assert_eq!((a.offset, b.offset), (0, 1337));
/// allocator.free(a);
/// allocator.free(b);
/// assert_eq!(allocator.storage_report().total_free_space, 1 << 20);
/// ```
pub struct Allocator<NI = u32>
where
    NI: NodeIndex,
{
    pub(crate) size: u32,
    pub(crate) max_allocs: u32,
    /// `min(max_allocs, GUARANTEED_ALLOCS)`: below this many live allocations the node
    /// space cannot run out, so the hot path tests only this one counter.
    pub(crate) fast_limit: u32,
    /// Units charged to live allocations; the free units are `size - used_storage`
    /// (regions tile the range), so only allocating and freeing update it.
    pub(crate) used_storage: u32,
    pub(crate) live: u32,
    pub(crate) rounding: Rounding,
    pub(crate) id: u32,
    /// Mixed into every handle's check word (see [`crate::handle`]); derived from `id`.
    pub(crate) salt: u32,
    pub(crate) bins: BinMask,
    pub(crate) bin_heads: [NI; NUM_LEAF_BINS],
    pub(crate) nodes: Vec<Node<NI>>,
    /// One bit per node, set while it is allocated: a dense copy of the tags' used
    /// bits so `free` can test its neighbours without loading their records.
    pub(crate) used: Vec<u64>,
    /// Head of the list of spare node slots (linked through `bin_next`).
    pub(crate) spare: NI,
    /// The region with the highest offset (`NONE` when `size == 0`).
    pub(crate) tail: NI,
}

impl<NI: NodeIndex> Allocator<NI> {
    /// The most live allocations this node index type always serves: `2 * n + 1`
    /// nodes (each allocation plus a free region between each pair) must be nameable,
    /// one value being reserved as "none" (32,767 for `u16`).
    ///
    /// ```
    /// use offset_alloc::Allocator;
    /// assert_eq!(Allocator::<u16>::GUARANTEED_ALLOCS, 32_767);
    /// ```
    pub const GUARANTEED_ALLOCS: u32 = (NI::MAX - 1) / 2;

    /// The largest `max_allocs` accepted: the 0.2.0 crate's bound
    /// (`max_allocs < NodeIndex::MAX - 1`, so 65,533 for `u16`). Past
    /// [`Self::GUARANTEED_ALLOCS`] an allocator serves allocations for as long as its
    /// node space lasts and then refuses with [`AllocError::NodeSpaceExhausted`].
    ///
    /// ```
    /// use offset_alloc::Allocator;
    /// assert_eq!(Allocator::<u16>::MAX_ALLOCS_LIMIT, 65_533);
    /// let mut a: Allocator<u16> = Allocator::with_max_allocs(1 << 20, 65_533);
    /// let live: Vec<_> = (0..40_000).map(|_| a.allocate(4).unwrap()).collect();
    /// assert_eq!(a.allocation_count(), 40_000);
    /// # drop(live);
    /// ```
    pub const MAX_ALLOCS_LIMIT: u32 = NI::MAX - 2;

    /// Nodes the index type can name (`NodeIndex::MAX` is reserved as "none").
    pub(crate) const NODE_LIMIT: u32 = NI::MAX;

    /// Creates an allocator managing `size` units with the default allocation limit
    /// (131,072 for `u32` indices, 32,767 for `u16`).
    ///
    /// Time: O(1); no per-node storage is allocated until it is needed.
    ///
    /// ```
    /// use offset_alloc::Allocator;
    /// let allocator: Allocator<u16> = Allocator::new(1 << 30); // the 0.2.0 crate panics here
    /// assert_eq!(allocator.max_allocs(), 32_767);
    /// ```
    pub fn new(size: u32) -> Self {
        match Self::with_options(size, AllocatorOptions::default()) {
            Ok(allocator) => allocator,
            Err(err) => unreachable!("default options are valid: {err}"),
        }
    }

    /// Creates an allocator managing `size` units that serves up to `max_allocs` live
    /// allocations.
    ///
    /// Every value the 0.2.0 crate accepts is accepted (up to
    /// [`Self::MAX_ALLOCS_LIMIT`]); up to [`Self::GUARANTEED_ALLOCS`] exactly
    /// `max_allocs` live allocations are served whatever the pattern.
    ///
    /// # Panics
    /// If `max_allocs` is 0 or above [`Self::MAX_ALLOCS_LIMIT`]; use
    /// [`Self::with_options`] for a `Result` instead.
    ///
    /// Time: O(1).
    ///
    /// ```
    /// use offset_alloc::Allocator;
    /// let mut allocator: Allocator = Allocator::with_max_allocs(36864, 2);
    /// let a = allocator.allocate(100).unwrap();
    /// let b = allocator.allocate(100).unwrap();
    /// assert!(allocator.allocate(100).is_none()); // exactly two live allocations
    /// # allocator.free(a); allocator.free(b);
    /// ```
    pub fn with_max_allocs(size: u32, max_allocs: u32) -> Self {
        let options = AllocatorOptions {
            max_allocs: Some(max_allocs),
            ..Default::default()
        };
        match Self::with_options(size, options) {
            Ok(allocator) => allocator,
            Err(err) => {
                panic!("offset_alloc::Allocator::with_max_allocs({size}, {max_allocs}): {err}")
            }
        }
    }

    /// Creates an allocator from [`AllocatorOptions`].
    ///
    /// Time: O(1), or O(nodes) with [`NodeStorage::Preallocated`].
    ///
    /// # Errors
    /// [`ConfigError`] when `max_allocs` is 0 or above [`Self::MAX_ALLOCS_LIMIT`], or
    /// when preallocated node storage cannot be allocated.
    ///
    /// ```
    /// use offset_alloc::{Allocator, AllocatorOptions, ConfigError};
    /// let bad = Allocator::<u32>::with_options(64, AllocatorOptions { max_allocs: Some(0), ..Default::default() });
    /// assert_eq!(bad.unwrap_err(), ConfigError::ZeroMaxAllocs);
    /// ```
    pub fn with_options(size: u32, options: AllocatorOptions) -> Result<Self, ConfigError> {
        let max_allocs = match options.max_allocs {
            None => DEFAULT_MAX_ALLOCS.min(Self::GUARANTEED_ALLOCS),
            Some(0) => return Err(ConfigError::ZeroMaxAllocs),
            Some(n) if n > Self::MAX_ALLOCS_LIMIT => {
                return Err(ConfigError::MaxAllocsTooLarge {
                    requested: n,
                    limit: Self::MAX_ALLOCS_LIMIT,
                });
            }
            Some(n) => n,
        };
        let mut allocator = Allocator {
            size,
            max_allocs,
            fast_limit: max_allocs.min(Self::GUARANTEED_ALLOCS),
            used_storage: 0,
            live: 0,
            rounding: options.rounding,
            id: 0,
            salt: 0,
            bins: BinMask::default(),
            bin_heads: [NI::NONE; NUM_LEAF_BINS],
            nodes: Vec::new(),
            used: Vec::new(),
            spare: NI::NONE,
            tail: NI::NONE,
        };
        if options.node_storage == NodeStorage::Preallocated {
            allocator
                .reserve(max_allocs)
                .map_err(ConfigError::OutOfMemory)?;
        }
        allocator.reset();
        Ok(allocator)
    }

    /// Frees every allocation at once. Handles issued before are refused afterwards
    /// (the allocator takes a new identity). Node storage keeps its capacity.
    ///
    /// Time: O(1) plus dropping node records.
    ///
    /// ```
    /// use offset_alloc::Allocator;
    /// let mut allocator: Allocator = Allocator::new(100);
    /// let a = allocator.allocate(10).unwrap();
    /// allocator.reset();
    /// assert!(allocator.try_free(a).is_err());
    /// assert_eq!(allocator.allocate(100).unwrap().offset, 0);
    /// ```
    pub fn reset(&mut self) {
        self.id = next_allocator_id();
        self.salt = salt_of(self.id);
        self.used_storage = 0;
        self.live = 0;
        self.bins = BinMask::default();
        self.bin_heads = [NI::NONE; NUM_LEAF_BINS];
        self.nodes.clear();
        self.used.clear();
        self.spare = NI::NONE;
        self.tail = NI::NONE;
        if self.size > 0 {
            let whole = self.new_region(0, self.size, NI::NONE, NI::NONE);
            self.tail = whole;
            self.bin_insert(whole, self.size);
        }
    }

    /// Allocates `size` units; `None` when it cannot. Same decisions as the original
    /// whenever the original succeeds; where its bin search would fail but a free
    /// region fits (a region of 513 units for a request of 513), this one succeeds.
    ///
    /// A zero-size allocation takes no space (offset 0) but is a live handle.
    ///
    /// Time: O(1).
    ///
    /// ```
    /// use offset_alloc::Allocator;
    /// let mut allocator: Allocator = Allocator::new(513);
    /// assert!(allocator.allocate(513).is_some()); // offset-allocator 0.2.0 says None
    /// ```
    // Always inlined: the hot path is short (the probe, alignment and zero-size
    // paths are out of line), and a call costs it about 10% in churn.
    #[inline(always)]
    pub fn allocate(&mut self, size: u32) -> Option<Allocation<NI>> {
        // Not `try_allocate(size).ok()`: building the error's `Result` and converting
        // it costs a store-forwarding stall on every call.
        if size == 0 || self.live >= self.fast_limit {
            return self.allocate_checked(size, 1).ok();
        }
        self.find_and_carve(size, 1)
    }

    /// Allocates `size` units, saying why when it cannot.
    ///
    /// Time: O(1), refusals included (the error carries bin bounds, not a walk).
    ///
    /// # Errors
    /// [`AllocError::TooManyAllocations`], [`AllocError::TooLarge`],
    /// [`AllocError::OutOfSpace`] with the sizes involved, or
    /// [`AllocError::NodeSpaceExhausted`] (only past [`Self::GUARANTEED_ALLOCS`]).
    ///
    /// ```
    /// use offset_alloc::{AllocError, Allocator};
    /// let mut allocator: Allocator = Allocator::new(100);
    /// assert_eq!(allocator.try_allocate(101), Err(AllocError::TooLarge { requested: 101, size: 100 }));
    /// ```
    #[inline]
    pub fn try_allocate(&mut self, size: u32) -> Result<Allocation<NI>, AllocError> {
        if self.live >= self.fast_limit {
            return self.allocate_checked(size, 1);
        }
        if size == 0 {
            return Ok(self.allocate_detached());
        }
        match self.find_and_carve(size, 1) {
            Some(allocation) => Ok(allocation),
            None => Err(self.refusal(size, 1)),
        }
    }

    /// Extension: allocates `size` units at an offset that is a multiple of `align`
    /// (any non-zero alignment, e.g. a vertex stride of 12). Padding in front of the
    /// allocation stays a free region of its own, so alignment wastes nothing once
    /// a neighbour is freed or reused.
    ///
    /// The guarantee: the request succeeds whenever some free region lies in a bin
    /// whose every region holds `size + align - 1` units (at or above
    /// `bin::round_up(size + align - 1)`): such a region fits whatever its offset, and
    /// this is where the search looks first. Otherwise it probes at most 8 regions
    /// that may fit, from the highest bin below that one (the regions with the most
    /// room for padding) down to `bin::round_down(size)`, each bin from its head. So
    /// it can be refused while a region further down some bin would fit;
    /// [`Self::try_allocate_aligned_exhaustive`] is never refused then.
    ///
    /// Time: O(1) (one bin search plus at most 8 probed nodes).
    ///
    /// ```
    /// use offset_alloc::Allocator;
    /// let mut allocator: Allocator = Allocator::new(1000);
    /// let _a = allocator.allocate(5).unwrap();
    /// let b = allocator.allocate_aligned(24, 12).unwrap();
    /// assert_eq!(b.offset, 12);
    /// assert_eq!(allocator.allocate(7).unwrap().offset, 5); // the padding is reusable
    /// ```
    #[inline]
    pub fn allocate_aligned(&mut self, size: u32, align: u32) -> Option<Allocation<NI>> {
        self.try_allocate_aligned(size, align).ok()
    }

    /// Extension: [`Self::allocate_aligned`] that says why it failed.
    ///
    /// Time: O(1), refusals included.
    ///
    /// # Errors
    /// As [`Self::try_allocate`], plus [`AllocError::ZeroAlignment`].
    ///
    /// ```
    /// use offset_alloc::{AllocError, Allocator};
    /// let mut allocator: Allocator = Allocator::new(1000);
    /// assert_eq!(allocator.try_allocate_aligned(8, 0), Err(AllocError::ZeroAlignment));
    /// assert_eq!(allocator.try_allocate_aligned(8, 256).unwrap().offset, 0);
    /// ```
    pub fn try_allocate_aligned(
        &mut self,
        size: u32,
        align: u32,
    ) -> Result<Allocation<NI>, AllocError> {
        if align == 0 {
            return Err(AllocError::ZeroAlignment);
        }
        if align == 1 {
            return self.try_allocate(size);
        }
        if self.live >= self.fast_limit {
            return self.allocate_checked(size, align);
        }
        if size == 0 {
            return Ok(self.allocate_detached());
        }
        match self.find_and_carve(size, align) {
            Some(allocation) => Ok(allocation),
            None => Err(self.refusal(size, align)),
        }
    }

    /// Returns an allocation's units to the free lists, merging with free neighbours.
    ///
    /// # Panics
    /// If the handle is stale (already freed), or from another allocator or from
    /// before a [`Self::reset`]; nothing is changed in that case. Use
    /// [`Self::try_free`] for a `Result`.
    ///
    /// Time: O(1).
    ///
    /// ```
    /// use offset_alloc::Allocator;
    /// let mut allocator: Allocator = Allocator::new(100);
    /// let a = allocator.allocate(100).unwrap();
    /// allocator.free(a);
    /// assert!(allocator.is_empty());
    /// ```
    // Always inlined, as `allocate`.
    #[inline(always)]
    pub fn free(&mut self, allocation: Allocation<NI>) {
        match self.check(allocation) {
            Ok(node_index) => self.free_node(node_index),
            Err(err) => free_failed(err),
        }
    }

    /// Extension: frees an allocation, refusing stale, double and foreign handles.
    ///
    /// Time: O(1).
    ///
    /// # Errors
    /// [`FreeError::Stale`] or [`FreeError::Foreign`]; the allocator is unchanged.
    ///
    /// ```
    /// use offset_alloc::{Allocator, FreeError};
    /// let mut one: Allocator = Allocator::new(100);
    /// let mut two: Allocator = Allocator::new(100);
    /// let a = one.allocate(10).unwrap();
    /// assert!(matches!(two.try_free(a), Err(FreeError::Foreign { .. })));
    /// assert_eq!(one.try_free(a), Ok(()));
    /// ```
    pub fn try_free(&mut self, allocation: Allocation<NI>) -> Result<(), FreeError> {
        let node_index = self.check(allocation)?;
        self.free_node(node_index);
        Ok(())
    }

    /// Frees live node `node_index`, merging with free neighbours.
    #[inline(always)]
    fn free_node(&mut self, node_index: NI) {
        self.live -= 1;
        let i = node_index.to_usize();
        let Node {
            mut offset,
            mut size,
            mut prev,
            mut next,
            tag,
            ..
        } = self.nodes[i];
        self.clear_used(node_index);
        self.used_storage -= size;
        // Merge with a free region below, then one above (the original's order;
        // unlinking never reorders the rest of a bin, so either order gives the same
        // offsets). The node being freed becomes the merged region, so a used
        // neighbour's link to it stays valid untouched.
        let merge_below = prev != NI::NONE && !self.is_used(prev);
        if merge_below {
            let below = self.nodes[prev.to_usize()];
            self.unbin(prev);
            self.release(prev);
            offset = below.offset;
            size += below.size;
            prev = below.prev;
            // Relink here rather than after both merges: testing the decision a
            // second time costs a branch miss whenever it was the unlikely one.
            if prev != NI::NONE {
                self.nodes[prev.to_usize()].next = node_index;
            }
        }
        let merge_above = next != NI::NONE && !self.is_used(next);
        if merge_above {
            let above = self.nodes[next.to_usize()];
            self.unbin(next);
            self.release(next);
            size += above.size;
            next = above.next;
            if next != NI::NONE {
                self.nodes[next.to_usize()].prev = node_index;
            } else {
                self.tail = node_index;
            }
        } else if size == 0 {
            // Extension: a zero-size allocation has no range and no neighbours (so
            // neither merge happened); nothing to bin. Tested only here, where no
            // merge above made the size non-zero, to keep it off the other paths.
            self.nodes[i].tag = tag & !USED;
            self.release(node_index);
            return;
        }
        let node = &mut self.nodes[i];
        node.offset = offset;
        node.size = size;
        node.prev = prev;
        node.next = next;
        node.tag = tag & !USED;
        self.bin_insert(node_index, size);
    }

    /// The units charged to an allocation: its requested size, or its bin size under
    /// [`Rounding::BinSize`]. 0 for a stale or foreign handle.
    ///
    /// Time: O(1).
    ///
    /// ```
    /// use offset_alloc::Allocator;
    /// let mut allocator: Allocator = Allocator::new(100);
    /// let a = allocator.allocate(42).unwrap();
    /// assert_eq!(allocator.allocation_size(a), 42);
    /// allocator.free(a);
    /// assert_eq!(allocator.allocation_size(a), 0);
    /// ```
    pub fn allocation_size(&self, allocation: Allocation<NI>) -> u32 {
        match self.check(allocation) {
            Ok(node) => self.nodes[node.to_usize()].size,
            Err(_) => 0,
        }
    }

    /// Extension: whether `allocation` is live in this allocator.
    ///
    /// Time: O(1).
    ///
    /// ```
    /// use offset_alloc::Allocator;
    /// let mut allocator: Allocator = Allocator::new(100);
    /// let a = allocator.allocate(1).unwrap();
    /// assert!(allocator.is_live(a));
    /// allocator.free(a);
    /// assert!(!allocator.is_live(a));
    /// ```
    pub fn is_live(&self, allocation: Allocation<NI>) -> bool {
        self.check(allocation).is_ok()
    }

    /// This allocator's identity, stamped into every handle it issues (it changes on
    /// [`Self::reset`]).
    ///
    /// ```
    /// use offset_alloc::Allocator;
    /// let one: Allocator = Allocator::new(1);
    /// let two: Allocator = Allocator::new(1);
    /// assert_ne!(one.id(), two.id());
    /// ```
    pub fn id(&self) -> u32 {
        self.id
    }
}
