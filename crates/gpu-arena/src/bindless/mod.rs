//! [`BindlessPool`]: variable-size per-object records in storage buffers, indexed by
//! tables of `(offset, len)` entries that shaders read.
//!
//! A pool is a list of slabs (see [`crate::SlabId`]): each is a record buffer bound whole
//! (so it never grows past the device's storage binding size) and a
//! [`crate::GpuTable`] of entries. When the newest slab is full the next one with
//! room takes the record, or a new one opens. An object keeps its slab and its table
//! index for life ([`ObjectId::slab`], [`ObjectId::index`]), so a shader or an
//! instance buffer can name it by that index; bind each slab ([`BindlessPool::slabs`])
//! and dispatch or draw over its table. Tables are kept zero past their last entry,
//! and a removed object's entry becomes `len = 0`, which shaders skip. Insert, update
//! and remove keep the tables in sync on the GPU, and each is all-or-nothing.

mod slab;

use bytemuck::{Pod, Zeroable};
use parking_lot::Mutex;

use crate::arena::ArenaSlice;
use crate::error::{ArenaError, HandleId, HandleKind};
use crate::handle::ArenaHandle;
use crate::readback::Readback;
use crate::slab::{SlabId, Slabs};
use crate::slots::{Key, SlotMap, next_owner};
use slab::{BindlessSlab, SlabSizes};

/// One table entry, as WGSL sees it: `struct Entry { offset: u32, len: u32 }`, both
/// in `u32` words of the data buffer.
///
/// ```
/// let e = gpu_arena::bindless::TableEntry { offset: 64, len: 3 };
/// assert_eq!(bytemuck::bytes_of(&e).len(), 8);
/// ```
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Pod, Zeroable)]
pub struct TableEntry {
    /// First word of the record in the data buffer.
    pub offset: u32,
    /// Words in the record (0: no object).
    pub len: u32,
}

/// How a [`BindlessPool`] and its slabs are created. Every field has a default.
///
/// ```
/// let desc = gpu_arena::bindless::BindlessPoolDescriptor::default();
/// assert_eq!(desc.initial_objects, 1024);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct BindlessPoolDescriptor<'a> {
    /// Label of the pool, and prefix of its buffers' labels. Default: `bindless pool #N`.
    pub label: Option<&'a str>,
    /// Initial record buffer size of a slab, clamped to what a slab may be. Default:
    /// 1 MiB.
    pub initial_data_bytes: u64,
    /// Initial table capacity of a slab, in objects. Default: 1024.
    pub initial_objects: u32,
    /// Most bytes a slab's record buffer (and its table) may grow to; also capped by
    /// the device's `max_buffer_size` and `max_storage_buffer_binding_size`, since
    /// both are bound as storage. Default: the device limits.
    pub max_slab_bytes: u64,
    /// Most slabs; past it inserts are refused. Default: no limit.
    pub max_slabs: u32,
    /// Growth factor. Default: 2.0.
    pub growth_factor: f32,
}

impl Default for BindlessPoolDescriptor<'_> {
    fn default() -> Self {
        BindlessPoolDescriptor {
            label: None,
            initial_data_bytes: 1 << 20,
            initial_objects: 1024,
            max_slab_bytes: u64::MAX,
            max_slabs: u32::MAX,
            growth_factor: 2.0,
        }
    }
}

/// An object in a [`BindlessPool`]: its slab and table index, and a checked key.
///
/// ```
/// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
/// # let pool = gpu_arena::bindless::BindlessPool::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
/// let id = pool.insert(&[1, 2, 3]).unwrap();
/// assert_eq!(id.index(), 0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ObjectId {
    key: Key,
    slab: SlabId,
    index: u32,
}

impl ObjectId {
    /// The object's index in its slab's table (what shaders use).
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::bindless::BindlessPool::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let a = pool.insert(&[1]).unwrap();
    /// let b = pool.insert(&[2]).unwrap();
    /// assert_eq!((a.index(), b.index()), (0, 1));
    /// ```
    pub fn index(&self) -> u32 {
        self.index
    }

    /// The slab holding the object (bind that slab to reach it).
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::bindless::BindlessPool::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let a = pool.insert(&[1]).unwrap();
    /// assert_eq!(a.slab(), pool.slabs()[0].id);
    /// ```
    pub fn slab(&self) -> SlabId {
        self.slab
    }

    /// The id as errors report it.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::bindless::BindlessPool::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let a = pool.insert(&[1]).unwrap();
    /// assert_eq!(a.id().kind, gpu_arena::HandleKind::BindlessPool);
    /// ```
    pub fn id(self) -> HandleId {
        self.key.id(HandleKind::BindlessPool)
    }
}

/// One slab's buffers, for a bind group: the record buffer (bind whole as
/// `array<u32>`) and the table (`array<Entry>`).
#[derive(Clone, Debug)]
pub struct BindlessSlabView {
    /// The slab.
    pub id: SlabId,
    /// The record buffer; never larger than `max_storage_buffer_binding_size`.
    pub data: wgpu::Buffer,
    /// The table as a storage binding (its length is the capacity, zero past
    /// `table_len`).
    pub table: ArenaSlice,
    /// Table entries in use (live or removed): dispatch this many invocations.
    pub table_len: u32,
    /// Live objects.
    pub live: u32,
    /// Pool generation at which the slab's buffers last changed (rebuild its bind
    /// group when it is newer than yours).
    pub changed_at: u64,
}

/// One object: its record and where its entry is.
struct ObjectEntry {
    slab: SlabId,
    index: u32,
    record: ArenaHandle,
}

struct State {
    objects: SlotMap<ObjectEntry>,
    slabs: Slabs<BindlessSlab>,
}

/// Variable-size records plus offset tables, one bind group per slab.
///
/// ```
/// use gpu_arena::bindless::{BindlessPool, TableEntry};
/// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
/// let pool = BindlessPool::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
/// let a = pool.insert(&[10, 20]).unwrap();
/// let b = pool.insert(&[30, 40, 50]).unwrap();
/// assert_eq!(pool.entry(b).unwrap(), TableEntry { offset: 2, len: 3 });
/// pool.remove(a).unwrap();
/// assert_eq!(pool.read_table(a.slab()).unwrap()[0], TableEntry { offset: 0, len: 0 });
/// ```
pub struct BindlessPool {
    label: String,
    device: wgpu::Device,
    queue: wgpu::Queue,
    sizes: SlabSizes,
    state: Mutex<State>,
}

impl BindlessPool {
    /// Creates the pool and its first slab.
    ///
    /// # Errors
    /// As [`crate::Arena::new`].
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// let pool = gpu_arena::bindless::BindlessPool::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// assert_eq!(pool.len(), 0);
    /// ```
    pub fn new(
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        desc: &BindlessPoolDescriptor<'_>,
    ) -> Result<Self, ArenaError> {
        let owner = next_owner();
        let label = desc
            .label
            .map_or_else(|| format!("bindless pool #{owner}"), str::to_owned);
        let sizes = SlabSizes {
            data_bytes: desc.initial_data_bytes,
            objects: desc.initial_objects.max(1),
            max_bytes: desc.max_slab_bytes,
            growth_factor: desc.growth_factor,
        };
        let mut slabs = Slabs::new(owner, desc.max_slabs);
        slabs.open(&label, false, || {
            BindlessSlab::open(device, queue, &format!("{label} slab 0"), sizes)
        })?;
        Ok(BindlessPool {
            device: device.clone(),
            queue: queue.clone(),
            sizes,
            state: Mutex::new(State {
                objects: SlotMap::new(HandleKind::BindlessPool, owner),
                slabs,
            }),
            label,
        })
    }

    /// The pool's label (the descriptor's, or `bindless pool #N`).
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::bindless::BindlessPool::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// assert!(pool.label().starts_with("bindless pool #"));
    /// ```
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Stores a record in the first slab with room (a new one when all are full) and
    /// gives it a table index there (a freed index is reused first).
    ///
    /// # Errors
    /// [`ArenaError::ZeroSize`] for an empty record; [`ArenaError::OverLimit`] for a
    /// record larger than a slab may be, or past `max_slabs`; arena errors otherwise.
    /// Nothing changes on error.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::bindless::BindlessPool::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let id = pool.insert(&[7; 16]).unwrap();
    /// assert_eq!(pool.read(id).unwrap(), [7; 16]);
    /// ```
    pub fn insert(&self, record: &[u32]) -> Result<ObjectId, ArenaError> {
        if record.is_empty() {
            return Err(ArenaError::ZeroSize);
        }
        let mut guard = self.state.lock();
        let state = &mut *guard;
        let number = state.slabs.len();
        let (slab, (index, handle, changed)) = state.slabs.place(
            &self.label,
            |slab| slab.place(record),
            |_| {
                BindlessSlab::open(
                    &self.device,
                    &self.queue,
                    &format!("{} slab {number}", self.label),
                    self.sizes,
                )
            },
        )?;
        if changed {
            state.slabs.touch(slab);
        }
        let key = state.objects.insert(ObjectEntry {
            slab,
            index,
            record: handle,
        });
        Ok(ObjectId { key, slab, index })
    }

    /// Records that slab `slab`'s record buffer was replaced, if it was.
    fn note_changes(&self, state: &mut State, slab: SlabId) {
        let changed = state
            .slabs
            .get_mut(slab, &self.label)
            .is_ok_and(|e| e.slab.buffers_changed());
        if changed {
            state.slabs.touch(slab);
        }
    }

    /// Replaces an object's record, in place when the length is unchanged. It stays in
    /// its slab: a record that no longer fits there is refused.
    ///
    /// # Errors
    /// A stale or foreign id, [`ArenaError::ZeroSize`], or arena errors; the old
    /// record stays in force on error.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::bindless::BindlessPool::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let id = pool.insert(&[1, 2]).unwrap();
    /// pool.update(id, &[3, 4, 5]).unwrap();
    /// assert_eq!(pool.read(id).unwrap(), [3, 4, 5]);
    /// assert_eq!(pool.entry(id).unwrap().len, 3);
    /// ```
    pub fn update(&self, id: ObjectId, record: &[u32]) -> Result<(), ArenaError> {
        if record.is_empty() {
            return Err(ArenaError::ZeroSize);
        }
        let mut guard = self.state.lock();
        let state = &mut *guard;
        let entry = state.objects.get(id.key, &self.label)?;
        let (slab, index, old) = (entry.slab, entry.index, entry.record);
        let handle = state
            .slabs
            .get_mut(slab, &self.label)?
            .slab
            .update(index, old, record)?;
        self.note_changes(state, slab);
        state.objects.get_mut(id.key, &self.label)?.record = handle;
        Ok(())
    }

    /// Removes an object; its table entry becomes `len = 0` and its index is reused.
    ///
    /// # Errors
    /// A stale or foreign id; nothing changes then.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::bindless::BindlessPool::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let id = pool.insert(&[1]).unwrap();
    /// pool.remove(id).unwrap();
    /// assert!(pool.remove(id).is_err());
    /// ```
    pub fn remove(&self, id: ObjectId) -> Result<(), ArenaError> {
        let mut guard = self.state.lock();
        let state = &mut *guard;
        let entry = state.objects.get(id.key, &self.label)?;
        let (slab, index, record) = (entry.slab, entry.index, entry.record);
        state
            .slabs
            .get_mut(slab, &self.label)?
            .slab
            .remove(index, record)?;
        state.objects.remove(id.key, &self.label)?;
        Ok(())
    }

    /// An object's table entry (word offset and length in its slab's record buffer).
    ///
    /// # Errors
    /// A stale or foreign id.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::bindless::BindlessPool::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let id = pool.insert(&[1, 2, 3]).unwrap();
    /// assert_eq!(pool.entry(id).unwrap().len, 3);
    /// ```
    pub fn entry(&self, id: ObjectId) -> Result<TableEntry, ArenaError> {
        let state = self.state.lock();
        let entry = state.objects.get(id.key, &self.label)?;
        let slab = &state.slabs.get(entry.slab, &self.label)?.slab;
        Ok(slab.table.records()[entry.index as usize])
    }

    /// Reads an object's record back from the GPU without blocking ([`Readback`]); a
    /// stale or foreign id makes it fail with that error.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::bindless::BindlessPool::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let id = pool.insert(&[9, 8]).unwrap();
    /// assert_eq!(pool.read_async(id).wait().unwrap(), [9, 8]);
    /// ```
    pub fn read_async(&self, id: ObjectId) -> Readback<Vec<u32>> {
        let state = self.state.lock();
        let found = state
            .objects
            .get(id.key, &self.label)
            .and_then(|entry| Ok((state.slabs.get(entry.slab, &self.label)?, entry.record)));
        match found {
            Ok((slab, record)) => slab
                .slab
                .data
                .read_async(record)
                .map(|bytes| bytemuck::pod_collect_to_vec(&bytes)),
            Err(e) => Readback::failed(e),
        }
    }

    /// Reads a slab's table back from the GPU (all `table_len` entries) without
    /// blocking.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::bindless::BindlessPool::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let id = pool.insert(&[1, 2]).unwrap();
    /// assert_eq!(pool.read_table_async(id.slab()).wait().unwrap().len(), 1);
    /// ```
    pub fn read_table_async(&self, slab: SlabId) -> Readback<Vec<TableEntry>> {
        let state = self.state.lock();
        match state.slabs.get(slab, &self.label) {
            Ok(slab) => slab.slab.table.read_async(),
            Err(e) => Readback::failed(e),
        }
    }

    /// Reads an object's record back from the GPU (blocking; native only; tests and
    /// debugging).
    ///
    /// # Errors
    /// A stale or foreign id, or [`ArenaError::Readback`].
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::bindless::BindlessPool::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let id = pool.insert(&[9, 8]).unwrap();
    /// assert_eq!(pool.read(id).unwrap(), [9, 8]);
    /// ```
    #[cfg(not(target_arch = "wasm32"))]
    pub fn read(&self, id: ObjectId) -> Result<Vec<u32>, ArenaError> {
        self.read_async(id).wait()
    }

    /// Reads a slab's table back from the GPU (blocking; native only).
    ///
    /// # Errors
    /// A stale slab id, or [`ArenaError::Readback`].
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::bindless::BindlessPool::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let id = pool.insert(&[1, 2]).unwrap();
    /// assert_eq!(pool.read_table(id.slab()).unwrap().len(), 1);
    /// ```
    #[cfg(not(target_arch = "wasm32"))]
    pub fn read_table(&self, slab: SlabId) -> Result<Vec<TableEntry>, ArenaError> {
        self.read_table_async(slab).wait()
    }

    /// Checks every invariant: each slab's record arena ([`crate::Arena::validate`]),
    /// each live object's table entry pointing at its record, and every other table
    /// index free (`len = 0`) and listed once for reuse; every object's slab exists.
    ///
    /// Time: O(objects + allocations · log allocations).
    ///
    /// # Errors
    /// [`offset_alloc::InvariantError`] naming the first broken invariant.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::bindless::BindlessPool::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let id = pool.insert(&[1, 2]).unwrap();
    /// pool.validate().unwrap();
    /// pool.remove(id).unwrap();
    /// pool.validate().unwrap();
    /// ```
    pub fn validate(&self) -> Result<(), offset_alloc::InvariantError> {
        let state = self.state.lock();
        let mut per_slab: std::collections::HashMap<SlabId, Vec<(u32, ArenaHandle)>> =
            std::collections::HashMap::new();
        for (key, entry) in state.objects.iter() {
            if state.slabs.get(entry.slab, &self.label).is_err() {
                return Err(offset_alloc::InvariantError {
                    message: format!(
                        "{}: {:?} is in a slab the pool does not hold",
                        self.label,
                        key.id(HandleKind::BindlessPool)
                    ),
                });
            }
            per_slab
                .entry(entry.slab)
                .or_default()
                .push((entry.index, entry.record));
        }
        for (id, slab) in state.slabs.iter() {
            let live = per_slab.remove(&id).unwrap_or_default();
            slab.slab.validate(&self.label, &live)?;
        }
        Ok(())
    }

    /// Live objects.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::bindless::BindlessPool::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// pool.insert(&[1]).unwrap();
    /// assert_eq!(pool.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.state.lock().objects.len()
    }

    /// Whether no object is live.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::bindless::BindlessPool::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// assert!(pool.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every slab's buffers, for one bind group (and one dispatch) per slab.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::bindless::BindlessPool::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let a = pool.insert(&[1]).unwrap();
    /// pool.insert(&[2]).unwrap();
    /// pool.remove(a).unwrap();
    /// let slab = &pool.slabs()[0];
    /// assert_eq!((slab.live, slab.table_len), (1, 2));
    /// assert!(slab.data.size() <= gpu.device.limits().max_storage_buffer_binding_size);
    /// ```
    pub fn slabs(&self) -> Vec<BindlessSlabView> {
        let state = self.state.lock();
        state
            .slabs
            .iter()
            .filter_map(|(id, e)| {
                Some(BindlessSlabView {
                    id,
                    data: e.slab.data.buffer(),
                    table: e.slab.table.binding().ok()?,
                    table_len: e.slab.table.len(),
                    live: e.slab.live(),
                    changed_at: e.changed_at,
                })
            })
            .collect()
    }

    /// The pool generation: it changes whenever a slab opens or a slab's record buffer
    /// is replaced. Compare a slab's `changed_at` with the generation your bind group
    /// was built at.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::bindless::BindlessPool::new(&gpu.device, &gpu.queue, &gpu_arena::bindless::BindlessPoolDescriptor { initial_data_bytes: 16, ..Default::default() }).unwrap();
    /// let before = pool.generation();
    /// pool.insert(&[0; 64]).unwrap(); // outgrows 16 bytes
    /// assert!(pool.generation() > before);
    /// ```
    pub fn generation(&self) -> u64 {
        self.state.lock().slabs.generation()
    }
}
