//! [`BindlessPool`]: variable-size per-object records in one storage buffer, indexed
//! by a table of `(offset, len)` entries that shaders read.
//!
//! Objects keep their table index for life, so a shader (or an instance buffer) can
//! name an object by that index. Records are `u32` words in a storage arena bound
//! whole (so it never grows past the device's storage binding size); the table is one
//! bindable allocation of a second storage arena, always written in full (zero
//! entries past the last object), so one bind group and one dispatch or draw serve
//! every object. A removed object's entry becomes `len = 0`, which shaders skip.
//! Insert, update and remove keep the table in sync on the GPU, and each is
//! all-or-nothing: what can fail (allocations, table growth, uploads) happens first.

use bytemuck::{Pod, Zeroable};
use parking_lot::Mutex;

use crate::access::ArenaSlice;
use crate::arena::Arena;
use crate::descriptor::ArenaDescriptor;
use crate::error::{ArenaError, HandleId, HandleKind, Limit};
use crate::handle::ArenaHandle;
use crate::slots::{Key, SlotMap, next_owner};

/// Bytes of one table entry.
const ENTRY_BYTES: u64 = size_of::<TableEntry>() as u64;

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

/// How a [`BindlessPool`] is created. Every field has a default.
///
/// ```
/// let desc = gpu_arena::bindless::BindlessPoolDescriptor::default();
/// assert_eq!(desc.initial_objects, 1024);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct BindlessPoolDescriptor<'a> {
    /// Label of the pool, and prefix of its buffers' labels. Default: `bindless pool #N`.
    pub label: Option<&'a str>,
    /// Initial data buffer size, clamped to the most it may grow to. Default: 1 MiB.
    pub initial_data_bytes: u64,
    /// Initial table capacity in objects (clamped likewise). Default: 1024.
    pub initial_objects: u32,
    /// Most bytes the data buffer (and the table) may grow to; also capped by the
    /// device's `max_buffer_size` and `max_storage_buffer_binding_size`, since both
    /// are bound as storage. Default: the device limits.
    pub max_bytes: u64,
    /// Growth factor. Default: 2.0.
    pub growth_factor: f32,
}

impl Default for BindlessPoolDescriptor<'_> {
    fn default() -> Self {
        BindlessPoolDescriptor {
            label: None,
            initial_data_bytes: 1 << 20,
            initial_objects: 1024,
            max_bytes: u64::MAX,
            growth_factor: 2.0,
        }
    }
}

/// An object in a [`BindlessPool`]; [`ObjectId::index`] is its table index.
///
/// ```
/// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
/// # let pool = gpu_arena::bindless::BindlessPool::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
/// let id = pool.insert(&[1, 2, 3]).unwrap();
/// assert_eq!(id.index(), 0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ObjectId {
    key: Key,
}

impl ObjectId {
    /// The object's index in the table (what shaders use).
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let pool = gpu_arena::bindless::BindlessPool::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let a = pool.insert(&[1]).unwrap();
    /// let b = pool.insert(&[2]).unwrap();
    /// assert_eq!((a.index(), b.index()), (0, 1));
    /// ```
    pub fn index(&self) -> u32 {
        self.key.slot
    }

    /// The id as errors report it.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let pool = gpu_arena::bindless::BindlessPool::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let a = pool.insert(&[1]).unwrap();
    /// assert_eq!(a.id().kind, gpu_arena::HandleKind::BindlessPool);
    /// ```
    pub fn id(self) -> HandleId {
        self.key.id(HandleKind::BindlessPool)
    }
}

struct State {
    /// Each object's record allocation; its slot is its table index.
    objects: SlotMap<ArenaHandle>,
    /// The CPU mirror of the table: one entry per slot ever used.
    entries: Vec<TableEntry>,
    table: ArenaHandle,
    capacity: u32,
    table_generation: u32,
}

/// Variable-size records plus an offset table, served by one bind group.
///
/// ```
/// use gpu_arena::bindless::{BindlessPool, TableEntry};
/// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
/// let pool = BindlessPool::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
/// let a = pool.insert(&[10, 20]).unwrap();
/// let b = pool.insert(&[30, 40, 50]).unwrap();
/// assert_eq!(pool.entry(b).unwrap(), TableEntry { offset: 2, len: 3 });
/// pool.remove(a).unwrap();
/// assert_eq!(pool.read_table().unwrap()[0], TableEntry { offset: 0, len: 0 });
/// ```
pub struct BindlessPool {
    label: String,
    data: Arena,
    tables: Arena,
    state: Mutex<State>,
}

impl BindlessPool {
    /// Creates the pool: a storage arena for records (bound whole, so capped at the
    /// device's storage binding size) and one for the table.
    ///
    /// # Errors
    /// As [`Arena::new`].
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
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
        let limits = device.limits();
        let most = desc
            .max_bytes
            .min(limits.max_buffer_size)
            .min(limits.max_storage_buffer_binding_size)
            / 4
            * 4;
        let arena = |suffix: &str, initial_size: u64, bound_whole: bool| {
            let label = format!("{label} {suffix}");
            Arena::new(
                device,
                queue,
                &ArenaDescriptor {
                    label: Some(&label),
                    usage: wgpu::BufferUsages::STORAGE,
                    initial_size: initial_size.clamp(4, most.max(4)),
                    max_size: desc.max_bytes,
                    growth_factor: desc.growth_factor,
                    bound_whole,
                    ..Default::default()
                },
            )
        };
        let data = arena("records", desc.initial_data_bytes, true)?;
        let max_entries = (most / ENTRY_BYTES).min(u64::from(u32::MAX)) as u32;
        let capacity = desc.initial_objects.clamp(1, max_entries.max(1));
        let table_bytes = u64::from(capacity) * ENTRY_BYTES;
        let tables = arena(
            "table",
            table_bytes.saturating_mul(2).saturating_add(256),
            false,
        )?;
        let table = tables.alloc_bindable(table_bytes)?;
        tables.write(table, 0, &vec![0; table_bytes as usize])?;
        Ok(BindlessPool {
            data,
            tables,
            state: Mutex::new(State {
                objects: SlotMap::new(HandleKind::BindlessPool, owner),
                entries: Vec::new(),
                table,
                capacity,
                table_generation: 0,
            }),
            label,
        })
    }

    /// The pool's label (the descriptor's, or `bindless pool #N`).
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let pool = gpu_arena::bindless::BindlessPool::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// assert!(pool.label().starts_with("bindless pool #"));
    /// ```
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Stores a record and gives it a table index (a freed index is reused first).
    ///
    /// # Errors
    /// [`ArenaError::ZeroSize`] for an empty record; [`ArenaError::OverLimit`] when the
    /// table would outgrow the storage binding size; arena errors otherwise. Nothing
    /// changes on error.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let pool = gpu_arena::bindless::BindlessPool::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let id = pool.insert(&[7; 16]).unwrap();
    /// assert_eq!(pool.read(id).unwrap(), [7; 16]);
    /// ```
    pub fn insert(&self, record: &[u32]) -> Result<ObjectId, ArenaError> {
        let handle = self.store(record)?;
        let mut state = self.state.lock();
        let result = (|| {
            let entry = self.entry_for(handle)?;
            let index = state.objects.next_key().slot;
            self.reserve(&mut state, index + 1)?;
            self.write_entry(&state, index, entry)?;
            if index as usize == state.entries.len() {
                state.entries.push(entry);
            } else {
                state.entries[index as usize] = entry;
            }
            Ok(ObjectId {
                key: state.objects.insert(handle),
            })
        })();
        if result.is_err() {
            drop(state);
            let freed = self.data.free(handle);
            debug_assert!(freed.is_ok(), "{freed:?}");
        }
        result
    }

    /// Replaces an object's record, in place when the length is unchanged.
    ///
    /// # Errors
    /// A stale or foreign id, [`ArenaError::ZeroSize`], or arena errors; the old
    /// record stays in force on error.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
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
        let mut state = self.state.lock();
        let old = *state.objects.get(id.key, &self.label)?;
        if state.entries[id.index() as usize].len as usize == record.len() {
            return self.data.write(old, 0, bytemuck::cast_slice(record));
        }
        let handle = self.store(record)?;
        let written = self
            .entry_for(handle)
            .and_then(|entry| self.write_entry(&state, id.index(), entry).map(|()| entry));
        let entry = match written {
            Ok(entry) => entry,
            Err(e) => {
                let freed = self.data.free(handle);
                debug_assert!(freed.is_ok(), "{freed:?}");
                return Err(e);
            }
        };
        state.entries[id.index() as usize] = entry;
        if let Ok(slot) = state.objects.get_mut(id.key, &self.label) {
            *slot = handle;
        }
        drop(state);
        let freed = self.data.free(old);
        debug_assert!(freed.is_ok(), "{freed:?}");
        Ok(())
    }

    /// Removes an object; its table entry becomes `len = 0` and its index is reused.
    ///
    /// # Errors
    /// A stale or foreign id; nothing changes then.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let pool = gpu_arena::bindless::BindlessPool::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let id = pool.insert(&[1]).unwrap();
    /// pool.remove(id).unwrap();
    /// assert!(pool.remove(id).is_err());
    /// ```
    pub fn remove(&self, id: ObjectId) -> Result<(), ArenaError> {
        let mut state = self.state.lock();
        state.objects.get(id.key, &self.label)?;
        self.write_entry(&state, id.index(), TableEntry::default())?;
        let handle = state.objects.remove(id.key, &self.label)?;
        state.entries[id.index() as usize] = TableEntry::default();
        drop(state);
        let freed = self.data.free(handle);
        debug_assert!(freed.is_ok(), "{freed:?}");
        Ok(())
    }

    /// An object's table entry.
    ///
    /// # Errors
    /// A stale or foreign id.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let pool = gpu_arena::bindless::BindlessPool::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let id = pool.insert(&[1, 2, 3]).unwrap();
    /// assert_eq!(pool.entry(id).unwrap().len, 3);
    /// ```
    pub fn entry(&self, id: ObjectId) -> Result<TableEntry, ArenaError> {
        let state = self.state.lock();
        state.objects.get(id.key, &self.label)?;
        Ok(state.entries[id.index() as usize])
    }

    /// Reads an object's record back from the GPU.
    ///
    /// # Errors
    /// A stale or foreign id, or [`ArenaError::Readback`].
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let pool = gpu_arena::bindless::BindlessPool::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let id = pool.insert(&[9, 8]).unwrap();
    /// assert_eq!(pool.read(id).unwrap(), [9, 8]);
    /// ```
    pub fn read(&self, id: ObjectId) -> Result<Vec<u32>, ArenaError> {
        let handle = *self.state.lock().objects.get(id.key, &self.label)?;
        Ok(bytemuck::pod_collect_to_vec(&self.data.read(handle)?))
    }

    /// Reads the whole table back from the GPU (all `table_len()` entries).
    ///
    /// # Errors
    /// [`ArenaError::Readback`].
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let pool = gpu_arena::bindless::BindlessPool::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// pool.insert(&[1, 2]).unwrap();
    /// assert_eq!(pool.read_table().unwrap().len(), 1);
    /// ```
    pub fn read_table(&self) -> Result<Vec<TableEntry>, ArenaError> {
        let (table, len) = {
            let state = self.state.lock();
            (state.table, state.entries.len())
        };
        let mut entries: Vec<TableEntry> = bytemuck::pod_collect_to_vec(&self.tables.read(table)?);
        entries.truncate(len);
        Ok(entries)
    }

    /// Live objects.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
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
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let pool = gpu_arena::bindless::BindlessPool::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// assert!(pool.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Table entries in use (live or removed): dispatch this many invocations.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let pool = gpu_arena::bindless::BindlessPool::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let a = pool.insert(&[1]).unwrap();
    /// pool.insert(&[2]).unwrap();
    /// pool.remove(a).unwrap();
    /// assert_eq!((pool.len(), pool.table_len()), (1, 2));
    /// ```
    pub fn table_len(&self) -> u32 {
        self.state.lock().entries.len() as u32
    }

    /// The table as a storage binding (`array<Entry>`; its length is the capacity,
    /// entries past `table_len()` are zero).
    ///
    /// # Errors
    /// Arena errors (none expected).
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let pool = gpu_arena::bindless::BindlessPool::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let table = pool.table_slice().unwrap();
    /// assert_eq!(table.binding().size.unwrap().get(), 1024 * 8);
    /// ```
    pub fn table_slice(&self) -> Result<ArenaSlice, ArenaError> {
        let table = self.state.lock().table;
        self.tables.binding(table)
    }

    /// The record buffer (bind it whole as `array<u32>`: it never exceeds the device's
    /// `max_storage_buffer_binding_size`).
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let pool = gpu_arena::bindless::BindlessPool::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let buffer = pool.data_buffer();
    /// assert!(buffer.size() <= gpu.device.limits().max_storage_buffer_binding_size);
    /// ```
    pub fn data_buffer(&self) -> wgpu::Buffer {
        self.data.buffer()
    }

    /// Changes whenever the record buffer or the table binding is replaced: rebuild
    /// bind groups when it differs from the value they were built with.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let pool = gpu_arena::bindless::BindlessPool::new(&gpu.device, &gpu.queue, &gpu_arena::bindless::BindlessPoolDescriptor { initial_data_bytes: 16, ..Default::default() }).unwrap();
    /// let before = pool.generation();
    /// pool.insert(&[0; 64]).unwrap();
    /// assert_ne!(pool.generation(), before);
    /// ```
    pub fn generation(&self) -> u64 {
        let table_generation = self.state.lock().table_generation;
        (u64::from(self.data.buffer_generation()) << 32)
            | u64::from(
                self.tables
                    .buffer_generation()
                    .wrapping_add(table_generation),
            )
    }

    /// The record arena.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let pool = gpu_arena::bindless::BindlessPool::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// assert_eq!(pool.data_arena().stats().live_allocations, 0);
    /// ```
    pub fn data_arena(&self) -> &Arena {
        &self.data
    }

    /// Allocates and uploads a record; on error nothing stays allocated.
    fn store(&self, record: &[u32]) -> Result<ArenaHandle, ArenaError> {
        if record.is_empty() {
            return Err(ArenaError::ZeroSize);
        }
        let handle = self.data.alloc(record.len() as u64 * 4)?;
        if let Err(e) = self.data.write(handle, 0, bytemuck::cast_slice(record)) {
            let _ = self.data.free(handle);
            return Err(e);
        }
        Ok(handle)
    }

    fn entry_for(&self, handle: ArenaHandle) -> Result<TableEntry, ArenaError> {
        let range = self.data.range(handle)?;
        let overflow = |v: u64| ArenaError::OverLimit {
            label: self.label.clone(),
            requested: v,
            limit: u64::from(u32::MAX),
            what: Limit::ElementIndex,
        };
        Ok(TableEntry {
            offset: u32::try_from(range.offset / 4).map_err(|_| overflow(range.offset / 4))?,
            len: u32::try_from(range.len / 4).map_err(|_| overflow(range.len / 4))?,
        })
    }

    /// Moves the table to a larger allocation when `entries` exceed its capacity.
    fn reserve(&self, state: &mut State, entries: u32) -> Result<(), ArenaError> {
        if entries <= state.capacity {
            return Ok(());
        }
        let capacity = state.capacity.saturating_mul(2).max(entries);
        let table = self
            .tables
            .alloc_bindable(u64::from(capacity) * ENTRY_BYTES)?;
        let mut full = state.entries.clone();
        full.resize(capacity as usize, TableEntry::default());
        if let Err(e) = self.tables.write(table, 0, bytemuck::cast_slice(&full)) {
            let _ = self.tables.free(table);
            return Err(e);
        }
        let old = std::mem::replace(&mut state.table, table);
        let freed = self.tables.free(old);
        debug_assert!(freed.is_ok(), "{freed:?}");
        state.capacity = capacity;
        state.table_generation = state.table_generation.wrapping_add(1);
        Ok(())
    }

    fn write_entry(&self, state: &State, index: u32, entry: TableEntry) -> Result<(), ArenaError> {
        self.tables.write(
            state.table,
            u64::from(index) * ENTRY_BYTES,
            bytemuck::bytes_of(&entry),
        )
    }
}

impl Drop for BindlessPool {
    /// The pool owns its records: dropping it releases them without a leak report.
    fn drop(&mut self) {
        self.data.clear();
        self.tables.clear();
    }
}
