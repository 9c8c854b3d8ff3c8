//! [`GpuTable`]: a table of `Pod` records the GPU reads, mirrored on the CPU.
//!
//! The records live in one bindable allocation of a `STORAGE | INDIRECT` arena, so
//! the same table can be bound in a compute pass (a culling pass rewriting draw
//! arguments, a shader walking an offset table) and read by indirect draws. Changes
//! go to the CPU mirror and mark index ranges dirty; [`GpuTable::flush`] merges them
//! and uploads each merged range once. Everything past the last record is kept zero
//! on the GPU, so a shader may read the whole binding. When the table outgrows its
//! allocation it moves to a larger one (written whole from the mirror) and its
//! generation changes: rebuild bind groups then.
//!
//! Mesh pools keep their draw records in one table per slab; bindless pools their
//! `(offset, len)` entries.

use std::marker::PhantomData;
use std::ops::Range;

use bytemuck::Pod;

use crate::arena::{Arena, ArenaSlice};
use crate::descriptor::ArenaDescriptor;
use crate::error::{ArenaError, Limit};
use crate::handle::ArenaHandle;
use crate::readback::Readback;

/// How a [`GpuTable`] is created. Every field has a default.
///
/// ```
/// let desc = gpu_arena::GpuTableDescriptor::default();
/// assert_eq!(desc.capacity, 256);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GpuTableDescriptor<'a> {
    /// Label of the table and its buffer. Default: `gpu table`.
    pub label: Option<&'a str>,
    /// Records the first allocation holds. Default: 256.
    pub capacity: u32,
    /// Most records the table may hold; also capped by the device's storage binding
    /// size (the table is bound whole) when `usage` has `STORAGE`. Default: `u32::MAX`.
    pub max_records: u32,
    /// Usage of the table's buffer (copies are added). Default: `STORAGE | INDIRECT`;
    /// without `STORAGE` the table works where storage buffers do not (WebGL2).
    pub usage: wgpu::BufferUsages,
}

impl Default for GpuTableDescriptor<'_> {
    fn default() -> Self {
        GpuTableDescriptor {
            label: None,
            capacity: 256,
            max_records: u32::MAX,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::INDIRECT,
        }
    }
}

/// Records of `T` on the GPU, mirrored on the CPU, in one bindable `STORAGE | INDIRECT`
/// allocation. Changes mark index ranges dirty; [`GpuTable::flush`] uploads each merged
/// range once. Everything past the last record is kept zero on the GPU. When the table
/// outgrows its allocation it moves (written whole from the mirror) and
/// [`GpuTable::generation`] changes: rebuild bind groups then.
///
/// ```
/// use gpu_arena::{GpuTable, GpuTableDescriptor};
/// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
/// let mut table: GpuTable<[u32; 2]> = GpuTable::new(&gpu.device, &gpu.queue, &GpuTableDescriptor::default()).unwrap();
/// table.push([1, 2]).unwrap();
/// table.push([3, 4]).unwrap();
/// table.set(0, [5, 6]).unwrap();
/// assert_eq!(table.flush().unwrap(), 1); // one merged upload
/// assert_eq!(table.read().unwrap(), [[5, 6], [3, 4]]);
/// ```
pub struct GpuTable<T: Pod> {
    arena: Arena,
    allocation: ArenaHandle,
    capacity: u32,
    max_records: u32,
    records: Vec<T>,
    /// Index ranges changed since the last flush (may reach past the last record:
    /// those indices are written as zeros).
    dirty: Vec<Range<u32>>,
    /// Bumped when the table moves to another allocation (the only time its arena
    /// can grow, so this also counts buffer replacements).
    moves: u32,
    _marker: PhantomData<fn() -> T>,
}

impl<T: Pod> GpuTable<T> {
    /// Creates an empty table with room for `desc.capacity` records (zeroed).
    ///
    /// # Errors
    /// [`ArenaError::Misaligned`] when `T`'s size is not a non-zero multiple of 4,
    /// [`ArenaError::OverLimit`] when a record is larger than a binding may be, or the
    /// arena errors of creating the buffer.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// let table = gpu_arena::GpuTable::<u32>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// assert!(table.is_empty() && table.capacity() >= 256);
    /// ```
    pub fn new(
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        desc: &GpuTableDescriptor<'_>,
    ) -> Result<Self, ArenaError> {
        let label = desc.label.unwrap_or("gpu table");
        let record = size_of::<T>() as u64;
        if record == 0 || !record.is_multiple_of(4) {
            return Err(ArenaError::Misaligned {
                label: label.to_owned(),
                value: record,
                required: 4,
                what: "record size (GPU tables hold records of a multiple of 4 bytes)",
            });
        }
        let limits = device.limits();
        let storage = desc.usage.contains(wgpu::BufferUsages::STORAGE);
        let binding = if storage {
            limits.max_storage_buffer_binding_size
        } else {
            u64::MAX
        }
        .min(limits.max_buffer_size / 2);
        let max_records = (binding / record)
            .min(u64::from(desc.max_records))
            .min(u64::from(u32::MAX)) as u32;
        if max_records == 0 {
            return Err(ArenaError::OverLimit {
                label: label.to_owned(),
                requested: record,
                limit: binding,
                what: if storage {
                    Limit::MaxStorageBufferBindingSize
                } else {
                    Limit::MaxBufferSize
                },
            });
        }
        let capacity = desc.capacity.clamp(1, max_records);
        let bytes = u64::from(capacity) * record;
        let arena = Arena::new(
            device,
            queue,
            &ArenaDescriptor {
                label: Some(label),
                usage: desc.usage,
                // Room for the old and the new allocation while the table moves.
                initial_size: (bytes * 2 + 256).min(limits.max_buffer_size),
                ..Default::default()
            },
        )?;
        let allocation = arena.alloc_bindable(bytes)?;
        arena.write(allocation, 0, &vec![0; bytes as usize])?;
        Ok(GpuTable {
            arena,
            allocation,
            capacity,
            max_records,
            records: Vec::new(),
            dirty: Vec::new(),
            moves: 0,
            _marker: PhantomData,
        })
    }

    /// Records in the table.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// let table = gpu_arena::GpuTable::<u32>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// assert_eq!(table.len(), 0);
    /// ```
    pub fn len(&self) -> u32 {
        self.records.len() as u32
    }

    /// Whether the table holds no record.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// let table = gpu_arena::GpuTable::<u32>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// assert!(table.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Records the current allocation holds.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// let table = gpu_arena::GpuTable::<u32>::new(&gpu.device, &gpu.queue, &gpu_arena::GpuTableDescriptor { capacity: 8, ..Default::default() }).unwrap();
    /// assert_eq!(table.capacity(), 8);
    /// ```
    pub fn capacity(&self) -> u32 {
        self.capacity
    }

    /// The most records the table may hold (the descriptor's `max_records`, or what
    /// one storage binding holds).
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// let table = gpu_arena::GpuTable::<u32>::new(&gpu.device, &gpu.queue, &gpu_arena::GpuTableDescriptor { max_records: 10, ..Default::default() }).unwrap();
    /// assert_eq!(table.max_records(), 10);
    /// ```
    pub fn max_records(&self) -> u32 {
        self.max_records
    }

    /// The CPU mirror.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// let mut table = gpu_arena::GpuTable::<u32>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// table.push(7).unwrap();
    /// assert_eq!(table.records(), [7]);
    /// ```
    pub fn records(&self) -> &[T] {
        &self.records
    }

    /// Appends a record; returns its index. Moves the table when it is full.
    ///
    /// # Errors
    /// [`ArenaError::OverLimit`] past [`Self::max_records`]; arena errors of moving.
    /// Nothing changes on error.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// let mut table = gpu_arena::GpuTable::<u32>::new(&gpu.device, &gpu.queue, &gpu_arena::GpuTableDescriptor { max_records: 1, ..Default::default() }).unwrap();
    /// assert_eq!(table.push(1).unwrap(), 0);
    /// assert!(table.push(2).is_err());
    /// ```
    pub fn push(&mut self, record: T) -> Result<u32, ArenaError> {
        Ok(self.extend(std::slice::from_ref(&record))?.start)
    }

    /// Appends records; returns their index range.
    ///
    /// # Errors
    /// As [`Self::push`].
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// let mut table = gpu_arena::GpuTable::<u32>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// assert_eq!(table.extend(&[1, 2, 3]).unwrap(), 0..3);
    /// ```
    pub fn extend(&mut self, records: &[T]) -> Result<Range<u32>, ArenaError> {
        let start = self.len();
        let end = u64::from(start) + records.len() as u64;
        self.reserve(end)?;
        self.records.extend_from_slice(records);
        self.mark(start..end as u32);
        Ok(start..end as u32)
    }

    /// Replaces record `index`.
    ///
    /// # Errors
    /// [`ArenaError::OutOfBounds`] for an index past the last record.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// let mut table = gpu_arena::GpuTable::<u32>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// table.push(1).unwrap();
    /// table.set(0, 9).unwrap();
    /// assert!(table.set(1, 9).is_err());
    /// ```
    pub fn set(&mut self, index: u32, record: T) -> Result<(), ArenaError> {
        let len = self.len();
        let Some(slot) = self.records.get_mut(index as usize) else {
            return Err(self.out_of_bounds(index, len));
        };
        *slot = record;
        self.mark(index..index + 1);
        Ok(())
    }

    /// Removes record `index`, moving the last record into its place (the index the
    /// moved record had is `len()` afterwards).
    ///
    /// # Errors
    /// [`ArenaError::OutOfBounds`] for an index past the last record.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// let mut table = gpu_arena::GpuTable::<u32>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// table.extend(&[1, 2, 3]).unwrap();
    /// assert_eq!(table.swap_remove(0).unwrap(), 1);
    /// assert_eq!(table.records(), [3, 2]);
    /// ```
    pub fn swap_remove(&mut self, index: u32) -> Result<T, ArenaError> {
        let len = self.len();
        if index >= len {
            return Err(self.out_of_bounds(index, len));
        }
        let removed = self.records.swap_remove(index as usize);
        // The hole gets the last record; the last index becomes zero again.
        self.mark(index..index + 1);
        self.mark(len - 1..len);
        Ok(removed)
    }

    /// Removes every record (zeroed on the GPU at the next flush).
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// let mut table = gpu_arena::GpuTable::<u32>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// table.push(1).unwrap();
    /// table.clear();
    /// assert!(table.is_empty());
    /// ```
    pub fn clear(&mut self) {
        let len = self.len();
        self.records.clear();
        self.mark(0..len);
    }

    /// Uploads every change since the last flush: dirty ranges are merged and each
    /// merged range is one `queue.write_buffer`. Returns the number of writes.
    ///
    /// # Errors
    /// Arena errors (none expected).
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// let mut table = gpu_arena::GpuTable::<u32>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// table.extend(&[1, 2, 3, 4]).unwrap();
    /// table.set(1, 5).unwrap();
    /// assert_eq!(table.flush().unwrap(), 1);
    /// assert_eq!(table.flush().unwrap(), 0); // nothing left
    /// ```
    pub fn flush(&mut self) -> Result<usize, ArenaError> {
        if self.dirty.is_empty() {
            return Ok(0);
        }
        self.dirty.sort_unstable_by_key(|r| r.start);
        let mut merged: Vec<Range<u32>> = Vec::with_capacity(self.dirty.len());
        for range in self.dirty.drain(..) {
            match merged.last_mut() {
                Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
                _ => merged.push(range),
            }
        }
        let record = size_of::<T>();
        let mut bytes = Vec::new();
        for range in &merged {
            bytes.clear();
            for index in range.clone() {
                match self.records.get(index as usize) {
                    Some(r) => bytes.extend_from_slice(bytemuck::bytes_of(r)),
                    None => bytes.resize(bytes.len() + record, 0),
                }
            }
            self.arena.write(
                self.allocation,
                u64::from(range.start) * record as u64,
                &bytes,
            )?;
        }
        Ok(merged.len())
    }

    /// The table as a storage binding (its size is the capacity; records past
    /// `len()` are zero once flushed).
    ///
    /// # Errors
    /// Arena errors (none expected).
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// let table = gpu_arena::GpuTable::<[u32; 4]>::new(&gpu.device, &gpu.queue, &gpu_arena::GpuTableDescriptor { capacity: 16, ..Default::default() }).unwrap();
    /// assert_eq!(table.binding().unwrap().range.size, 16 * 16);
    /// ```
    pub fn binding(&self) -> Result<ArenaSlice, ArenaError> {
        self.arena.binding(self.allocation)
    }

    /// Changes whenever the table's buffer or its place in it changes (a move, or the
    /// arena's growth): rebuild bind groups when it differs.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// let mut table = gpu_arena::GpuTable::<u32>::new(&gpu.device, &gpu.queue, &gpu_arena::GpuTableDescriptor { capacity: 1, ..Default::default() }).unwrap();
    /// let before = table.generation();
    /// table.extend(&[1, 2]).unwrap(); // outgrows one record
    /// assert_ne!(table.generation(), before);
    /// ```
    pub fn generation(&self) -> u32 {
        // The table's arena only grows when the table moves, so its moves count both.
        self.moves
    }

    /// Reads the records back from the GPU without blocking ([`Readback`]).
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// let mut table = gpu_arena::GpuTable::<u32>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// table.push(3).unwrap();
    /// table.flush().unwrap();
    /// assert_eq!(table.read_async().wait().unwrap(), [3]);
    /// ```
    pub fn read_async(&self) -> Readback<Vec<T>> {
        let records = self.records.len();
        self.arena.read_async(self.allocation).map(move |bytes| {
            bytes
                .chunks_exact(size_of::<T>())
                .take(records)
                .map(bytemuck::pod_read_unaligned)
                .collect()
        })
    }

    /// Reads the records back from the GPU (blocking; native only; for tests and
    /// debugging).
    ///
    /// # Errors
    /// [`ArenaError::Readback`].
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// let mut table = gpu_arena::GpuTable::<u32>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// table.push(3).unwrap();
    /// assert_eq!(table.read().unwrap(), [0], "not flushed yet: still zero on the GPU");
    /// table.flush().unwrap();
    /// assert_eq!(table.read().unwrap(), [3]);
    /// ```
    #[cfg(not(target_arch = "wasm32"))]
    pub fn read(&self) -> Result<Vec<T>, ArenaError> {
        self.read_async().wait()
    }

    /// Makes room for `total` records, moving the table to a larger allocation.
    fn reserve(&mut self, total: u64) -> Result<(), ArenaError> {
        if total <= u64::from(self.capacity) {
            return Ok(());
        }
        if total > u64::from(self.max_records) {
            return Err(ArenaError::OverLimit {
                label: self.arena.label().to_owned(),
                requested: total,
                limit: u64::from(self.max_records),
                what: Limit::MaxStorageBufferBindingSize,
            });
        }
        let capacity = (total as u32)
            .max(self.capacity.saturating_mul(2))
            .min(self.max_records);
        let record = size_of::<T>() as u64;
        let allocation = self.arena.alloc_bindable(u64::from(capacity) * record)?;
        // Written whole from the mirror: records, then zeros.
        let mut bytes = bytemuck::cast_slice::<T, u8>(&self.records).to_vec();
        bytes.resize((u64::from(capacity) * record) as usize, 0);
        if let Err(e) = self.arena.write(allocation, 0, &bytes) {
            let _ = self.arena.free(allocation);
            return Err(e);
        }
        let old = std::mem::replace(&mut self.allocation, allocation);
        let freed = self.arena.free(old);
        debug_assert!(freed.is_ok(), "{freed:?}");
        self.capacity = capacity;
        self.moves = self.moves.wrapping_add(1);
        self.dirty.clear();
        Ok(())
    }

    /// Marks `range` for the next flush.
    fn mark(&mut self, range: Range<u32>) {
        if !range.is_empty() {
            self.dirty.push(range);
        }
    }

    fn out_of_bounds(&self, index: u32, len: u32) -> ArenaError {
        let record = size_of::<T>() as u64;
        ArenaError::OutOfBounds {
            label: self.arena.label().to_owned(),
            handle: self.allocation.id(),
            offset: u64::from(index) * record,
            len: record,
            size: u64::from(len) * record,
        }
    }
}

impl<T: Pod> Drop for GpuTable<T> {
    /// Returns the table's allocation, so that its arena's leak report (see
    /// [`crate::Arena`]'s drop) only names what someone else forgot.
    fn drop(&mut self) {
        let _ = self.arena.free(self.allocation);
    }
}

impl<T: Pod> std::fmt::Debug for GpuTable<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuTable")
            .field("label", &self.arena.label())
            .field("len", &self.records.len())
            .field("capacity", &self.capacity)
            .finish()
    }
}
