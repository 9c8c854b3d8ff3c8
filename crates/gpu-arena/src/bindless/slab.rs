//! [`BindlessSlab`]: one record buffer (bound whole, so never past the storage binding
//! size) and its `(offset, len)` table. Objects keep their table index for life; a
//! removed object's entry becomes `len = 0` and its index is reused first.

use crate::arena::Arena;
use crate::bindless::TableEntry;
use crate::descriptor::ArenaDescriptor;
use crate::error::ArenaError;
use crate::gpu_table::{GpuTable, GpuTableDescriptor};
use crate::handle::ArenaHandle;

/// Sizes of a new slab.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SlabSizes {
    pub data_bytes: u64,
    pub objects: u32,
    pub max_bytes: u64,
    pub growth_factor: f32,
}

/// One slab of a bindless pool.
pub(crate) struct BindlessSlab {
    pub data: Arena,
    pub table: GpuTable<TableEntry>,
    /// Table indices of removed objects, reused first.
    free: Vec<u32>,
    /// The record buffer's and the table's generations when the pool last looked.
    seen: (u32, u32),
}

impl BindlessSlab {
    /// A slab with a record buffer and a table of `sizes`.
    pub fn open(
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        label: &str,
        sizes: SlabSizes,
    ) -> Result<Self, ArenaError> {
        let limits = device.limits();
        let most = sizes
            .max_bytes
            .min(limits.max_buffer_size)
            .min(limits.max_storage_buffer_binding_size)
            / 4
            * 4;
        let data = Arena::new(
            device,
            queue,
            &ArenaDescriptor {
                label: Some(&format!("{label} records")),
                usage: wgpu::BufferUsages::STORAGE,
                initial_size: sizes.data_bytes.clamp(4, most.max(4)),
                max_size: sizes.max_bytes,
                growth_factor: sizes.growth_factor,
                bound_whole: true,
                ..Default::default()
            },
        )?;
        let table = GpuTable::new(
            device,
            queue,
            &GpuTableDescriptor {
                label: Some(&format!("{label} table")),
                capacity: sizes.objects,
                max_records: (sizes.max_bytes / size_of::<TableEntry>() as u64)
                    .min(u64::from(u32::MAX)) as u32,
                ..Default::default()
            },
        )?;
        let seen = (data.buffer_generation(), table.generation());
        Ok(BindlessSlab {
            data,
            table,
            free: Vec::new(),
            seen,
        })
    }

    /// Stores a record and gives it a table index; all or nothing. Also says whether
    /// the slab's buffers changed (no lock taken: the placement carries it).
    pub fn place(&mut self, record: &[u32]) -> Result<(u32, ArenaHandle, bool), ArenaError> {
        let placed = self.data.place_slice(record)?;
        let entry = entry_of(placed.elements);
        let index = match self.free.last() {
            Some(&index) => self.table.set(index, entry).map(|()| index),
            None => self.table.push(entry),
        };
        let index = match index.and_then(|index| self.table.flush().map(|_| index)) {
            Ok(index) => index,
            Err(e) => {
                let freed = self.data.free(placed.handle);
                debug_assert!(freed.is_ok(), "{freed:?}");
                return Err(e);
            }
        };
        if self.free.last() == Some(&index) {
            self.free.pop();
        }
        let now = (placed.buffer_generation, self.table.generation());
        let changed = std::mem::replace(&mut self.seen, now) != now;
        Ok((index, placed.handle.raw(), changed))
    }

    /// Replaces the record at `index` (held in `old`); returns the new allocation.
    pub fn update(
        &mut self,
        index: u32,
        old: ArenaHandle,
        record: &[u32],
    ) -> Result<ArenaHandle, ArenaError> {
        if self.table.records()[index as usize].len as usize == record.len() {
            self.data.write(old, 0, bytemuck::cast_slice(record))?;
            return Ok(old);
        }
        let placed = self.data.place_slice(record)?;
        let written = self
            .table
            .set(index, entry_of(placed.elements))
            .and_then(|()| self.table.flush());
        if let Err(e) = written {
            let freed = self.data.free(placed.handle);
            debug_assert!(freed.is_ok(), "{freed:?}");
            return Err(e);
        }
        let freed = self.data.free(old);
        debug_assert!(freed.is_ok(), "{freed:?}");
        Ok(placed.handle.raw())
    }

    /// Removes the object at `index` (held in `record`): its entry becomes empty.
    pub fn remove(&mut self, index: u32, record: ArenaHandle) -> Result<(), ArenaError> {
        self.table.set(index, TableEntry::default())?;
        self.table.flush()?;
        self.free.push(index);
        let freed = self.data.free(record);
        debug_assert!(freed.is_ok(), "{freed:?}");
        Ok(())
    }

    /// Live objects in the slab.
    pub fn live(&self) -> u32 {
        self.table.len() - self.free.len() as u32
    }

    /// Whether the record buffer or the table's binding changed since the last call.
    pub fn buffers_changed(&mut self) -> bool {
        let now = (self.data.buffer_generation(), self.table.generation());
        std::mem::replace(&mut self.seen, now) != now
    }
}

impl Drop for BindlessSlab {
    /// The slab owns its records: dropping it releases them without a leak report.
    fn drop(&mut self) {
        self.data.clear();
    }
}

/// The table entry of a record whose words are `elements` of the record buffer.
fn entry_of(elements: crate::ElementRange) -> TableEntry {
    TableEntry {
        offset: elements.first,
        len: elements.count,
    }
}

impl BindlessSlab {
    /// Checks the slab against `live`, the table index and record of each of its
    /// objects: the record arena's invariants; each live entry says where its record
    /// is; every other index is free (`len = 0`) and listed once in the free list.
    pub fn validate(
        &self,
        label: &str,
        live: &[(u32, ArenaHandle)],
    ) -> Result<(), offset_alloc::InvariantError> {
        let fail = |message: String| offset_alloc::InvariantError { message };
        self.data.validate()?;
        let table = self.table.records();
        let mut seen = vec![false; table.len()];
        for &(index, record) in live {
            let range = self
                .data
                .range(record)
                .map_err(|e| fail(format!("{label}: entry {index}'s record is gone: {e}")))?;
            let entry = table.get(index as usize).copied();
            let expected = TableEntry {
                offset: (range.offset / 4) as u32,
                len: (range.len / 4) as u32,
            };
            if entry != Some(expected) {
                return Err(fail(format!(
                    "{label}: entry {index} is {entry:?}, its record is at {expected:?}"
                )));
            }
            seen[index as usize] = true;
        }
        for &index in &self.free {
            let slot = seen.get_mut(index as usize);
            match slot {
                Some(taken) if !*taken && table[index as usize].len == 0 => *taken = true,
                _ => {
                    return Err(fail(format!(
                        "{label}: free index {index} is live, listed twice, past the table or not empty"
                    )));
                }
            }
        }
        if let Some(index) = seen.iter().position(|&s| !s) {
            return Err(fail(format!(
                "{label}: entry {index} is neither live nor free"
            )));
        }
        Ok(())
    }
}
