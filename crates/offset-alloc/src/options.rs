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
    /// indices (as the original), 32,767 for `u16` (the most that type can serve).
    /// Node storage grows on demand, so a large limit costs nothing up front.
    pub max_allocs: Option<u32>,
    /// Charging policy. Default: [`Rounding::Exact`].
    pub rounding: Rounding,
}
