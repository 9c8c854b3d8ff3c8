//! Handles: small `Copy` values naming an allocation by slot and generation.
//!
//! A handle holds no offset: the arena owns offsets and sizes, so data can move
//! (compaction) without invalidating handles. Every use checks the arena identity
//! and the slot's generation, so stale and foreign handles are refused.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;

use crate::error::{HandleId, HandleKind};
use crate::slots::Key;

/// An untyped allocation in an [`crate::Arena`].
///
/// ```
/// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
/// use gpu_arena::{Arena, ArenaDescriptor};
/// let arena = Arena::new(&gpu.device, &gpu.queue, &ArenaDescriptor::default()).unwrap();
/// let a = arena.alloc(100).unwrap();
/// let b = a; // handles are Copy
/// assert_eq!(a, b);
/// arena.free(a).unwrap();
/// assert!(arena.free(b).is_err()); // stale
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ArenaHandle {
    /// The issuing arena's identity, the slot and its generation.
    pub(crate) key: Key,
}

impl ArenaHandle {
    /// The handle as errors report it.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let h = arena.alloc(4).unwrap();
    /// assert_eq!(h.id().kind, gpu_arena::HandleKind::Arena);
    /// ```
    pub fn id(self) -> HandleId {
        self.key.id(HandleKind::Arena)
    }
}

/// An allocation holding elements of `T`, from [`crate::Arena::alloc_slice`]. Its
/// offset is a multiple of `size_of::<T>()`, so [`crate::Arena::elements`] gives
/// exact `base_vertex` / `first_index` values.
///
/// ```
/// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
/// use gpu_arena::{Arena, ArenaDescriptor};
/// let arena = Arena::new(&gpu.device, &gpu.queue, &ArenaDescriptor::default()).unwrap();
/// let h = arena.alloc_slice(&[1u32, 2, 3]).unwrap();
/// assert_eq!(arena.elements(h).unwrap().count, 3);
/// ```
pub struct TypedHandle<T> {
    pub(crate) raw: ArenaHandle,
    pub(crate) _marker: PhantomData<fn() -> T>,
}

impl<T> TypedHandle<T> {
    /// The untyped handle.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let typed = arena.alloc_slice(&[0u16; 6]).unwrap();
    /// arena.free(typed.raw()).unwrap();
    /// ```
    pub fn raw(self) -> ArenaHandle {
        self.raw
    }
}

impl<T> From<TypedHandle<T>> for ArenaHandle {
    fn from(typed: TypedHandle<T>) -> Self {
        typed.raw
    }
}

impl<T> Clone for TypedHandle<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for TypedHandle<T> {}
impl<T> PartialEq for TypedHandle<T> {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}
impl<T> Eq for TypedHandle<T> {}
impl<T> Hash for TypedHandle<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.raw.hash(state)
    }
}
impl<T> fmt::Debug for TypedHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "TypedHandle<{}>({:?})",
            std::any::type_name::<T>(),
            self.raw
        )
    }
}

/// A byte range of the arena's buffer, from [`crate::Arena::range`].
///
/// ```
/// let r = gpu_arena::ArenaRange { offset: 256, size: 64, len: 60 };
/// assert_eq!(r.end(), 320);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ArenaRange {
    /// Byte offset in the buffer (a multiple of 4 and of the allocation's alignment).
    pub offset: u64,
    /// Bytes reserved (the request rounded up to a multiple of 4).
    pub size: u64,
    /// Bytes requested.
    pub len: u64,
}

impl ArenaRange {
    /// One past the last reserved byte.
    ///
    /// ```
    /// assert_eq!(gpu_arena::ArenaRange { offset: 4, size: 8, len: 5 }.end(), 12);
    /// ```
    pub fn end(&self) -> u64 {
        self.offset + self.size
    }
}

/// Element range of a typed allocation: exactly the `base_vertex` (or `first_index`)
/// and the vertex (or index) count of a draw call.
///
/// ```
/// let e = gpu_arena::ElementRange { first: 10, count: 3 };
/// assert_eq!(e.range(), 10..13);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ElementRange {
    /// Index of the first element in the whole buffer.
    pub first: u32,
    /// Number of elements.
    pub count: u32,
}

impl ElementRange {
    /// `first..first + count`, as `draw_indexed` takes it.
    ///
    /// ```
    /// assert_eq!(gpu_arena::ElementRange { first: 0, count: 6 }.range(), 0..6);
    /// ```
    pub fn range(&self) -> std::ops::Range<u32> {
        self.first..self.first + self.count
    }
}

/// Where an allocation landed, returned with its handle so the caller never asks
/// again under a second lock.
///
/// ```
/// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
/// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
/// let placed = arena.place(10, 1).unwrap();
/// assert_eq!(placed.range, arena.range(placed.handle).unwrap());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Placement {
    /// The allocation.
    pub handle: ArenaHandle,
    /// Its bytes in the buffer.
    pub range: ArenaRange,
    /// The generation of the buffer it is in (see [`crate::Arena::buffer_generation`]):
    /// it differs from an earlier one when this allocation made the arena grow.
    pub buffer_generation: u32,
}

/// Where a typed allocation landed: its handle, byte range and element range (the
/// `base_vertex` / `first_index` and count of a draw), together.
///
/// ```
/// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
/// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
/// let placed = arena.place_slice(&[1u32, 2, 3]).unwrap();
/// assert_eq!(placed.elements.count, 3);
/// assert_eq!(u64::from(placed.elements.first) * 4, placed.range.offset);
/// ```
pub struct TypedPlacement<T> {
    /// The allocation.
    pub handle: TypedHandle<T>,
    /// Its bytes in the buffer.
    pub range: ArenaRange,
    /// Its elements in the buffer.
    pub elements: ElementRange,
    /// The generation of the buffer it is in.
    pub buffer_generation: u32,
}

impl<T> Clone for TypedPlacement<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for TypedPlacement<T> {}
impl<T> fmt::Debug for TypedPlacement<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TypedPlacement")
            .field("handle", &self.handle)
            .field("range", &self.range)
            .field("elements", &self.elements)
            .field("buffer_generation", &self.buffer_generation)
            .finish()
    }
}
