//! The generic layer under the pools: a pool is a list of slabs, each a set of
//! buffers of its own, and data goes to the first slab with room.
//!
//! One buffer stops somewhere: at the pool's `max_slab_bytes`, the device's
//! `max_buffer_size`, or the binding size for buffers bound whole (WebGPU's defaults:
//! 256 MiB and 128 MiB). [`Slabs`] tries the shared slabs, newest first; when every
//! one is full it opens another, and a request too large to share a slab gets a
//! dedicated one. Each slab records the pool generation at which its buffers last
//! changed (growth, compaction, opening), so a pool can say which of its handles were
//! displaced since a given generation, as Bevy's mesh allocator does with
//! `meshes_displaced_by_slab_growth`. Slab identities are checked like any handle.

use crate::error::{ArenaError, HandleId, HandleKind, Limit};
use crate::slots::{Key, SlotMap};

/// A slab of a pool: check it with the pool that issued it.
///
/// ```
/// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
/// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
/// let mesh = pool.insert(&[[0.0; 3]; 3], &[0, 1, 2]).unwrap();
/// let slab = pool.draw_args(mesh).unwrap().slab;
/// assert_eq!(slab.id().kind, gpu_arena::HandleKind::Slab);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SlabId {
    pub(crate) key: Key,
}

impl SlabId {
    /// The slab as errors report it.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let pool = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u16>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// # let mesh = pool.insert(&[[0.0; 3]; 3], &[0, 1, 2]).unwrap();
    /// let slab = pool.draw_args(mesh).unwrap().slab;
    /// println!("{}", slab.id());
    /// ```
    pub fn id(self) -> HandleId {
        self.key.id(HandleKind::Slab)
    }
}

/// One slab and what the list knows of it.
pub(crate) struct Entry<S> {
    pub slab: S,
    /// Holds a single request too large to share a slab.
    pub dedicated: bool,
    /// Pool generation at which the slab's buffers last changed.
    pub changed_at: u64,
}

/// The slabs of one pool.
pub(crate) struct Slabs<S> {
    map: SlotMap<Entry<S>>,
    /// Shared slabs, oldest first (tried newest first).
    shared: Vec<Key>,
    /// The pool generation: bumped whenever any slab's buffers change.
    generation: u64,
    /// Most slabs the pool may hold (dedicated ones included).
    max_slabs: usize,
}

/// Whether `err` means "this slab has no room", so another slab may still take the
/// request: out of space, or over a limit on the size or count a buffer may have.
pub(crate) fn is_full(err: &ArenaError) -> bool {
    match err {
        ArenaError::OutOfSpace { .. } => true,
        ArenaError::OverLimit { what, .. } => matches!(
            what,
            Limit::MaxSize
                | Limit::MaxBufferSize
                | Limit::MaxStorageBufferBindingSize
                | Limit::MaxUniformBufferBindingSize
                | Limit::AllocatorRange
                | Limit::MaxAllocations
                | Limit::ElementIndex
        ),
        _ => false,
    }
}

impl<S> Slabs<S> {
    /// No slab yet, for the pool of identity `owner`.
    pub fn new(owner: u32, max_slabs: u32) -> Self {
        Slabs {
            map: SlotMap::new(HandleKind::Slab, owner),
            shared: Vec::new(),
            generation: 0,
            max_slabs: max_slabs.max(1) as usize,
        }
    }

    /// The pool generation.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Advances the pool generation (a mesh was inserted or moved); returns it.
    pub fn bump(&mut self) -> u64 {
        self.generation += 1;
        self.generation
    }

    /// Opens an empty slab (the first one of a pool).
    pub fn open(
        &mut self,
        label: &str,
        dedicated: bool,
        open: impl FnOnce() -> Result<S, ArenaError>,
    ) -> Result<SlabId, ArenaError> {
        let (id, ()) = self.open_with(label, dedicated, open, |_| Ok(()))?;
        if !dedicated {
            self.shared.push(id.key);
        }
        Ok(id)
    }

    /// Records that slab `id`'s buffers changed now; returns the new generation.
    pub fn touch(&mut self, id: SlabId) -> u64 {
        self.generation += 1;
        let generation = self.generation;
        if let Ok(entry) = self.map.get_mut(id.key, "") {
            entry.changed_at = generation;
        }
        generation
    }

    /// Places a request with `place` in the first shared slab that has room (newest
    /// first); when all are full, opens one with `open` (given the newest shared
    /// slab, if any) and places it there. A refusal that is not about room ends the
    /// search. On error no slab was added.
    pub fn place<R>(
        &mut self,
        label: &str,
        mut place: impl FnMut(&mut S) -> Result<R, ArenaError>,
        open: impl FnOnce(Option<&S>) -> Result<S, ArenaError>,
    ) -> Result<(SlabId, R), ArenaError> {
        let mut last_full = None;
        for &key in self.shared.iter().rev() {
            let Ok(entry) = self.map.get_mut(key, label) else {
                continue;
            };
            match place(&mut entry.slab) {
                Ok(r) => return Ok((SlabId { key }, r)),
                Err(e) if is_full(&e) => last_full = Some(e),
                Err(e) => return Err(e),
            }
        }
        if self.map.len() >= self.max_slabs {
            return Err(last_full.unwrap_or_else(|| self.too_many(label)));
        }
        let newest = self
            .shared
            .last()
            .and_then(|&key| self.map.get(key, label).ok())
            .map(|entry| &entry.slab);
        let slab = open(newest)?;
        let (id, r) = self.open_with(label, false, || Ok(slab), place)?;
        self.shared.push(id.key);
        Ok((id, r))
    }

    /// Whether another slab may be opened (`max_slabs` is not reached).
    pub fn can_open(&self) -> bool {
        self.map.len() < self.max_slabs
    }

    /// Opens a slab of its own for one request (too large to share one).
    pub fn place_dedicated<R>(
        &mut self,
        label: &str,
        place: impl FnOnce(&mut S) -> Result<R, ArenaError>,
        open: impl FnOnce() -> Result<S, ArenaError>,
    ) -> Result<(SlabId, R), ArenaError> {
        if self.map.len() >= self.max_slabs {
            return Err(self.too_many(label));
        }
        self.open_with(label, true, open, place)
    }

    /// Opens a slab and places the request in it; drops the slab if that fails.
    fn open_with<R>(
        &mut self,
        label: &str,
        dedicated: bool,
        open: impl FnOnce() -> Result<S, ArenaError>,
        place: impl FnOnce(&mut S) -> Result<R, ArenaError>,
    ) -> Result<(SlabId, R), ArenaError> {
        let mut slab = open()?;
        let r = place(&mut slab)?;
        self.generation += 1;
        let key = self.map.insert(Entry {
            slab,
            dedicated,
            changed_at: self.generation,
        });
        log::debug!(
            "{label}: opened slab {} ({} in all)",
            key.slot,
            self.map.len()
        );
        Ok((SlabId { key }, r))
    }

    fn too_many(&self, label: &str) -> ArenaError {
        ArenaError::OverLimit {
            label: label.to_owned(),
            requested: self.map.len() as u64 + 1,
            limit: self.max_slabs as u64,
            what: Limit::MaxSlabs,
        }
    }

    /// The slab `id` names.
    pub fn get(&self, id: SlabId, label: &str) -> Result<&Entry<S>, ArenaError> {
        self.map.get(id.key, label)
    }

    /// The slab `id` names, mutably.
    pub fn get_mut(&mut self, id: SlabId, label: &str) -> Result<&mut Entry<S>, ArenaError> {
        self.map.get_mut(id.key, label)
    }

    /// Drops slab `id` (its buffers are released once the GPU is done with them).
    pub fn remove(&mut self, id: SlabId, label: &str) -> Result<S, ArenaError> {
        let entry = self.map.remove(id.key, label)?;
        self.shared.retain(|k| *k != id.key);
        self.generation += 1;
        Ok(entry.slab)
    }

    /// Every slab, with its id.
    pub fn iter(&self) -> impl Iterator<Item = (SlabId, &Entry<S>)> + '_ {
        self.map.iter().map(|(key, e)| (SlabId { key }, e))
    }

    /// The ids of every slab.
    pub fn ids(&self) -> Vec<SlabId> {
        self.iter().map(|(id, _)| id).collect()
    }

    /// The ids of the shared slabs, oldest first.
    pub fn shared(&self) -> Vec<SlabId> {
        self.shared.iter().map(|&key| SlabId { key }).collect()
    }

    /// Number of slabs.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Drops every slab but the oldest shared one, and clears that with `clear`.
    pub fn clear(&mut self, clear: impl FnOnce(&mut S)) {
        let keep = self.shared.first().copied();
        for id in self.ids() {
            if Some(id.key) != keep {
                let _ = self.remove(id, "");
            }
        }
        if let Some(key) = keep
            && let Ok(entry) = self.map.get_mut(key, "")
        {
            clear(&mut entry.slab);
        }
    }
}
