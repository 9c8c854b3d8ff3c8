//! [`BindlessPool`]: variable-size per-object records in one storage buffer, indexed
//! by a table of `(offset, len)` entries that shaders read.
//!
//! Objects keep their table index for life, so a shader (or an instance buffer) can
//! name an object by that index. Records are `u32` words in a storage arena; the table
//! is one bindable allocation of a second storage arena, always written in full (zero
//! entries past the last object), so one bind group and one dispatch or draw serve
//! every object. A removed object's entry becomes `len = 0`, which shaders skip.
//! Insert, update and remove keep the table in sync on the GPU.

use std::sync::atomic::{AtomicU32, Ordering};

use bytemuck::{Pod, Zeroable};
use parking_lot::Mutex;

use crate::access::ArenaSlice;
use crate::arena::Arena;
use crate::descriptor::ArenaDescriptor;
use crate::error::ArenaError;
use crate::handle::ArenaHandle;

static NEXT_POOL_ID: AtomicU32 = AtomicU32::new(1);

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
    /// Label prefix. Default: `"bindless pool"`.
    pub label: Option<&'a str>,
    /// Initial data buffer size. Default: 1 MiB.
    pub initial_data_bytes: u64,
    /// Initial table capacity in objects. Default: 1024.
    pub initial_objects: u32,
    /// Most bytes the data buffer may grow to. Default: device limit.
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
    pool: u32,
    index: u32,
    generation: u32,
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
        self.index
    }
}

struct State {
    entries: Vec<TableEntry>,
    records: Vec<Option<ArenaHandle>>,
    generations: Vec<u32>,
    free: Vec<u32>,
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
    id: u32,
    data: Arena,
    tables: Arena,
    state: Mutex<State>,
}

impl BindlessPool {
    /// Creates the pool: a storage arena for records and one for the table.
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
        let label = desc.label.unwrap_or("bindless pool");
        let capacity = desc.initial_objects.max(1);
        let arena = |suffix: &str, initial_size: u64| {
            let label = format!("{label} {suffix}");
            Arena::new(
                device,
                queue,
                &ArenaDescriptor {
                    label: Some(&label),
                    usage: wgpu::BufferUsages::STORAGE,
                    initial_size,
                    max_size: desc.max_bytes,
                    growth_factor: desc.growth_factor,
                    ..Default::default()
                },
            )
        };
        let data = arena("records", desc.initial_data_bytes)?;
        let table_bytes = u64::from(capacity) * 8;
        let tables = arena("table", table_bytes * 2 + 256)?;
        let table = tables.alloc_bindable(table_bytes)?;
        tables.write(table, 0, &vec![0; table_bytes as usize])?;
        Ok(BindlessPool {
            id: NEXT_POOL_ID.fetch_add(1, Ordering::Relaxed),
            data,
            tables,
            state: Mutex::new(State {
                entries: Vec::new(),
                records: Vec::new(),
                generations: Vec::new(),
                free: Vec::new(),
                table,
                capacity,
                table_generation: 0,
            }),
        })
    }

    /// Stores a record and gives it a table index (a freed index is reused first).
    ///
    /// # Errors
    /// [`ArenaError::ZeroSize`] for an empty record; arena errors otherwise.
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
        let index = match state.free.pop() {
            Some(index) => index,
            None => {
                state.entries.push(TableEntry::default());
                state.records.push(None);
                state.generations.push(0);
                (state.entries.len() - 1) as u32
            }
        };
        if let Err(e) = self.reserve(&mut state) {
            state.free.push(index);
            drop(state);
            let _ = self.data.free(handle);
            return Err(e);
        }
        state.records[index as usize] = Some(handle);
        self.set_entry(&mut state, index, self.entry_for(handle)?)?;
        Ok(ObjectId {
            pool: self.id,
            index,
            generation: state.generations[index as usize],
        })
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
        let old = self.check(&state, id)?;
        if state.entries[id.index as usize].len as usize == record.len() {
            return self.data.write(old, 0, bytemuck::cast_slice(record));
        }
        let handle = self.store(record)?;
        state.records[id.index as usize] = Some(handle);
        self.set_entry(&mut state, id.index, self.entry_for(handle)?)?;
        drop(state);
        self.data.free(old)
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
        let handle = self.check(&state, id)?;
        state.records[id.index as usize] = None;
        state.generations[id.index as usize] = state.generations[id.index as usize].wrapping_add(1);
        state.free.push(id.index);
        self.set_entry(&mut state, id.index, TableEntry::default())?;
        drop(state);
        self.data.free(handle)
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
        self.check(&state, id)?;
        Ok(state.entries[id.index as usize])
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
        let handle = {
            let state = self.state.lock();
            self.check(&state, id)?
        };
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
        let state = self.state.lock();
        state.entries.len() - state.free.len()
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

    /// The record buffer (bind it whole as `array<u32>`).
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// # let pool = gpu_arena::bindless::BindlessPool::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// assert!(pool.data_buffer().size() >= 1 << 20);
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
            requested: v,
            limit: u64::from(u32::MAX),
            what: "record word index",
        };
        Ok(TableEntry {
            offset: u32::try_from(range.offset / 4).map_err(|_| overflow(range.offset / 4))?,
            len: u32::try_from(range.len / 4).map_err(|_| overflow(range.len / 4))?,
        })
    }

    fn check(&self, state: &State, id: ObjectId) -> Result<ArenaHandle, ArenaError> {
        let as_handle = ArenaHandle {
            arena: id.pool,
            slot: id.index,
            generation: id.generation,
        };
        if id.pool != self.id {
            return Err(ArenaError::ForeignHandle {
                handle: as_handle,
                arena: self.id,
            });
        }
        match (
            state.generations.get(id.index as usize),
            state.records.get(id.index as usize),
        ) {
            (Some(g), Some(Some(handle))) if *g == id.generation => Ok(*handle),
            _ => Err(ArenaError::StaleHandle { handle: as_handle }),
        }
    }

    /// Moves the table to a larger allocation when an index reaches its capacity.
    fn reserve(&self, state: &mut State) -> Result<(), ArenaError> {
        if (state.entries.len() as u32) <= state.capacity {
            return Ok(());
        }
        let capacity = state.capacity.saturating_mul(2);
        let table = self.tables.alloc_bindable(u64::from(capacity) * 8)?;
        let mut full = state.entries.clone();
        full.resize(capacity as usize, TableEntry::default());
        if let Err(e) = self.tables.write(table, 0, bytemuck::cast_slice(&full)) {
            let _ = self.tables.free(table);
            return Err(e);
        }
        self.tables.free(state.table)?;
        state.table = table;
        state.capacity = capacity;
        state.table_generation = state.table_generation.wrapping_add(1);
        Ok(())
    }

    fn set_entry(
        &self,
        state: &mut State,
        index: u32,
        entry: TableEntry,
    ) -> Result<(), ArenaError> {
        state.entries[index as usize] = entry;
        self.tables.write(
            state.table,
            u64::from(index) * 8,
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
