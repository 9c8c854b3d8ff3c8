//! [`AllocatorOptions`]: the knobs chosen when an allocator is built.

/// How much of the managed range an allocation is charged.
///
/// ```
/// use offset_alloc::{Allocator, AllocatorOptions, Rounding};
/// let opts = AllocatorOptions { rounding: Rounding::BinSize, ..Default::default() };
/// let mut a: Allocator = Allocator::with_options(1 << 20, opts).unwrap();
/// let x = a.allocate(1000).unwrap();
/// assert_eq!(a.allocation_size(x), 1024); // charged its bin's size
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Rounding {
    /// Charge exactly the requested units (the original behaviour). Best packing;
    /// under long same-size churn the fallback probe keeps holes reusable.
    #[default]
    Exact,
    /// Charge the lower bound of the request's round-up bin (up to 12.5% more).
    /// A freed allocation then leaves a hole exactly where the next request of the
    /// same size looks first, trading up to 12.5% space for steadier reuse.
    BinSize,
}

/// When node storage (the metadata records, outside the managed range) is allocated.
///
/// ```
/// use offset_alloc::{Allocator, AllocatorOptions, NodeStorage};
/// let opts = AllocatorOptions { max_allocs: Some(1000), node_storage: NodeStorage::Preallocated, ..Default::default() };
/// let a: Allocator = Allocator::with_options(1 << 20, opts).unwrap();
/// assert!(a.node_capacity() >= 2 * 1000 + 1); // every node it can ever need
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum NodeStorage {
    /// Grow node storage on demand, inside `allocate` (amortised O(1), but an
    /// `allocate` may call the global allocator). Construction is O(1) and a large
    /// `max_allocs` costs nothing until used.
    #[default]
    Lazy,
    /// Allocate storage for every node `max_allocs` live allocations can need
    /// (`2 * max_allocs + 1`, capped by the index type) at construction. After
    /// that, `allocate`, `free`, `grow` and `reset` never call the global allocator:
    /// the hard real-time setting. Costs 32 bytes per node (24 with `u16`) up front.
    Preallocated,
}

/// Options for [`crate::Allocator::with_options`], in the style of wgpu descriptors.
///
/// ```
/// use offset_alloc::{Allocator, AllocatorOptions};
/// let a: Allocator = Allocator::with_options(4096, AllocatorOptions { max_allocs: Some(16), ..Default::default() }).unwrap();
/// assert_eq!(a.max_allocs(), 16);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct AllocatorOptions {
    /// Most allocations live at once. Default (`None`): 131,072 for `u32` node
    /// indices (as the original), 32,767 for `u16` (the most that type can always
    /// serve). Values up to [`crate::Allocator::MAX_ALLOCS_LIMIT`] are accepted, as by
    /// the 0.2.0 crate; past [`crate::Allocator::GUARANTEED_ALLOCS`], allocations are
    /// served until the node index space runs out
    /// ([`crate::AllocError::NodeSpaceExhausted`]).
    pub max_allocs: Option<u32>,
    /// Charging policy. Default: [`Rounding::Exact`].
    pub rounding: Rounding,
    /// When node storage is allocated. Default: [`NodeStorage::Lazy`].
    pub node_storage: NodeStorage,
}
