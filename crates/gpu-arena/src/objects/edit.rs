//! Adding, removing and updating objects: the two tables stay dense and in step
//! (swap-remove), every change is all-or-nothing, and the count of objects per slab
//! (the sizes of the culling regions) is kept as objects come and go.

use bytemuck::Pod;

use crate::error::{ArenaError, HandleKind, Limit};
use crate::mesh_pool::{IndexType, MeshHandle, MeshPool};
use crate::objects::{Bounds, CullRecord, ObjectHandle, ObjectPool, State};
use crate::{ArenaSlice, HandleId};

impl<T: Pod> ObjectPool<T> {
    /// Adds an object: `mesh` of `pool` drawn with `data` (what the vertex shader
    /// reads at `instance_index`), culled by `bounds` (world space). The pool is tied
    /// to the first mesh pool it is given.
    ///
    /// Time: O(1) amortised (the tables grow by doubling).
    ///
    /// # Errors
    /// The mesh pool's error for a stale or foreign mesh; [`ArenaError::ForeignHandle`]
    /// for a mesh of another mesh pool than the first; [`ArenaError::InvalidBounds`];
    /// [`ArenaError::OverLimit`] past the objects one argument buffer can bind
    /// (`max_storage_buffer_binding_size` / 20). Nothing changes then.
    ///
    /// ```
    /// # use gpu_arena::objects::{Bounds, ObjectPool};
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let meshes = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u32>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let mesh = meshes.insert(&[[0.0; 3]; 3], &[0, 1, 2]).unwrap();
    /// let objects = ObjectPool::<[f32; 4]>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// objects.insert(&meshes, mesh, Bounds::sphere([0.0; 3], 1.0), [1.0; 4]).unwrap();
    /// objects.insert(&meshes, mesh, Bounds::sphere([5.0; 3], 1.0), [0.5; 4]).unwrap();
    /// assert_eq!(objects.len(), 2);
    /// assert!(objects.insert(&meshes, mesh, Bounds::sphere([0.0; 3], -1.0), [0.0; 4]).is_err());
    /// ```
    pub fn insert<V: Pod, I: IndexType>(
        &self,
        pool: &MeshPool<V, I>,
        mesh: MeshHandle,
        bounds: Bounds,
        data: T,
    ) -> Result<ObjectHandle, ArenaError> {
        self.check_bounds(bounds)?;
        let mut guard = self.state.lock();
        let state = &mut *guard;
        self.check_pool(state, pool, Some(mesh))?;
        let count = state.owners.len() as u64;
        if count + 1 > u64::from(self.max_objects) {
            return Err(ArenaError::OverLimit {
                label: self.label.clone(),
                requested: count + 1,
                limit: u64::from(self.max_objects),
                what: Limit::MaxStorageBufferBindingSize,
            });
        }
        let draw = pool.draw_args(mesh)?;
        let record = CullRecord::new(bounds, Some((draw.slab.key.slot, draw.args)));
        let dense = state.data.push(data)?;
        if let Err(e) = state.records.push(record) {
            let _ = state.data.swap_remove(dense);
            return Err(e);
        }
        if state.pool.is_none() {
            state.pool = Some((pool.owner(), pool.layout_generation()));
        }
        let key = state.objects.insert(dense);
        state.owners.push(key);
        state.meshes.push(mesh);
        state.count_in(record.slab, 1);
        state.changes += 1;
        Ok(ObjectHandle { key })
    }

    /// Removes an object; the last object takes its place in the tables.
    ///
    /// Time: O(1).
    ///
    /// # Errors
    /// A stale or foreign handle; nothing changes then.
    ///
    /// ```
    /// # use gpu_arena::objects::{Bounds, ObjectPool};
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let meshes = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u32>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// # let mesh = meshes.insert(&[[0.0; 3]; 3], &[0, 1, 2]).unwrap();
    /// # let objects = ObjectPool::<u32>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let a = objects.insert(&meshes, mesh, Bounds::sphere([0.0; 3], 1.0), 1).unwrap();
    /// let b = objects.insert(&meshes, mesh, Bounds::sphere([0.0; 3], 1.0), 2).unwrap();
    /// objects.remove(a).unwrap();
    /// assert_eq!(objects.data(b).unwrap(), 2);
    /// ```
    pub fn remove(&self, object: ObjectHandle) -> Result<(), ArenaError> {
        let mut guard = self.state.lock();
        let state = &mut *guard;
        let dense = *state.objects.get(object.key, &self.label)?;
        let record = state.records.records()[dense as usize];
        state.data.swap_remove(dense)?;
        state.records.swap_remove(dense)?;
        state.owners.swap_remove(dense as usize);
        state.meshes.swap_remove(dense as usize);
        if let Some(&moved) = state.owners.get(dense as usize)
            && let Ok(slot) = state.objects.get_mut(moved, &self.label)
        {
            *slot = dense;
        }
        state.objects.remove(object.key, &self.label)?;
        if record.index_count > 0 {
            state.count_in(record.slab, -1);
        } else {
            // Its mesh was gone: the last refresh counted it as an orphan.
            state.orphans -= 1;
        }
        state.changes += 1;
        Ok(())
    }

    /// Replaces an object's data (lands at the next cull).
    ///
    /// # Errors
    /// A stale or foreign handle.
    ///
    /// ```
    /// # use gpu_arena::objects::{Bounds, ObjectPool};
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let meshes = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u32>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// # let mesh = meshes.insert(&[[0.0; 3]; 3], &[0, 1, 2]).unwrap();
    /// # let objects = ObjectPool::<u32>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let o = objects.insert(&meshes, mesh, Bounds::sphere([0.0; 3], 1.0), 1).unwrap();
    /// objects.set_data(o, 5).unwrap();
    /// assert_eq!(objects.data(o).unwrap(), 5);
    /// ```
    pub fn set_data(&self, object: ObjectHandle, data: T) -> Result<(), ArenaError> {
        let mut state = self.state.lock();
        let dense = *state.objects.get(object.key, &self.label)?;
        state.data.set(dense, data)?;
        state.changes += 1;
        Ok(())
    }

    /// Moves an object's bounds (for an object that moved).
    ///
    /// # Errors
    /// A stale or foreign handle, or [`ArenaError::InvalidBounds`].
    ///
    /// ```
    /// # use gpu_arena::objects::{Bounds, ObjectPool};
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let meshes = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u32>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// # let mesh = meshes.insert(&[[0.0; 3]; 3], &[0, 1, 2]).unwrap();
    /// # let objects = ObjectPool::<u32>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let o = objects.insert(&meshes, mesh, Bounds::sphere([0.0; 3], 1.0), 1).unwrap();
    /// objects.set_bounds(o, Bounds::sphere([2.0, 0.0, 0.0], 1.0)).unwrap();
    /// assert_eq!(objects.bounds(o).unwrap().center, [2.0, 0.0, 0.0]);
    /// ```
    pub fn set_bounds(&self, object: ObjectHandle, bounds: Bounds) -> Result<(), ArenaError> {
        self.check_bounds(bounds)?;
        let mut state = self.state.lock();
        let dense = *state.objects.get(object.key, &self.label)?;
        let record = CullRecord {
            bounds,
            ..state.records.records()[dense as usize]
        };
        state.records.set(dense, record)?;
        state.changes += 1;
        Ok(())
    }

    /// An object's data as last set.
    ///
    /// # Errors
    /// A stale or foreign handle.
    ///
    /// ```
    /// # use gpu_arena::objects::{Bounds, ObjectPool};
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let meshes = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u32>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// # let mesh = meshes.insert(&[[0.0; 3]; 3], &[0, 1, 2]).unwrap();
    /// # let objects = ObjectPool::<u32>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let o = objects.insert(&meshes, mesh, Bounds::sphere([0.0; 3], 1.0), 9).unwrap();
    /// assert_eq!(objects.data(o).unwrap(), 9);
    /// ```
    pub fn data(&self, object: ObjectHandle) -> Result<T, ArenaError> {
        let state = self.state.lock();
        let dense = *state.objects.get(object.key, &self.label)?;
        Ok(state.data.records()[dense as usize])
    }

    /// An object's bounds.
    ///
    /// # Errors
    /// A stale or foreign handle.
    ///
    /// ```
    /// # use gpu_arena::objects::{Bounds, ObjectPool};
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let meshes = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u32>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// # let mesh = meshes.insert(&[[0.0; 3]; 3], &[0, 1, 2]).unwrap();
    /// # let objects = ObjectPool::<u32>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let o = objects.insert(&meshes, mesh, Bounds::sphere([1.0; 3], 2.0), 0).unwrap();
    /// assert_eq!(objects.bounds(o).unwrap().radius, 2.0);
    /// ```
    pub fn bounds(&self, object: ObjectHandle) -> Result<Bounds, ArenaError> {
        let state = self.state.lock();
        let dense = *state.objects.get(object.key, &self.label)?;
        Ok(state.records.records()[dense as usize].bounds)
    }

    /// Objects in the pool.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// let objects = gpu_arena::objects::ObjectPool::<u32>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// assert_eq!(objects.len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.state.lock().owners.len()
    }

    /// Whether the pool holds no object.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// let objects = gpu_arena::objects::ObjectPool::<u32>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// assert!(objects.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The per-object data table as a storage binding for the caller's bind group:
    /// the buffer and the range that holds object `i` at element `i` (the
    /// `instance_index` of its draw). Rebuild the bind group when
    /// [`Self::data_generation`] changes (the table grew).
    ///
    /// # Errors
    /// None expected (the table is allocated bindable).
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// let objects = gpu_arena::objects::ObjectPool::<[f32; 4]>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let slice = objects.data_binding().unwrap();
    /// assert_eq!(slice.range.size, 1024 * 16);
    /// ```
    pub fn data_binding(&self) -> Result<ArenaSlice, ArenaError> {
        self.state.lock().data.binding()
    }

    /// Changes when the data table moves (its binding changes).
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// let objects = gpu_arena::objects::ObjectPool::<u32>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// assert_eq!(objects.data_generation(), objects.data_generation());
    /// ```
    pub fn data_generation(&self) -> u32 {
        self.state.lock().data.generation()
    }

    /// How the pool culls and draws (`Auto` resolved).
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// let objects = gpu_arena::objects::ObjectPool::<u32>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// assert_ne!(objects.path(), gpu_arena::objects::CullPath::Auto);
    /// ```
    pub fn path(&self) -> crate::objects::CullPath {
        self.path
    }

    /// The pool's label.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// let objects = gpu_arena::objects::ObjectPool::<u32>::new(&gpu.device, &gpu.queue, &gpu_arena::objects::ObjectPoolDescriptor { label: Some("trees"), ..Default::default() }).unwrap();
    /// assert_eq!(objects.label(), "trees");
    /// ```
    pub fn label(&self) -> &str {
        &self.label
    }

    fn check_bounds(&self, bounds: Bounds) -> Result<(), ArenaError> {
        let finite = bounds.center.iter().all(|c| c.is_finite()) && bounds.radius.is_finite();
        if finite && bounds.radius >= 0.0 {
            return Ok(());
        }
        Err(ArenaError::InvalidBounds {
            label: self.label.clone(),
            bounds: format!("centre {:?}, radius {}", bounds.center, bounds.radius),
        })
    }

    /// Refuses a mesh pool other than the one the objects draw from.
    pub(crate) fn check_pool<V: Pod, I: IndexType>(
        &self,
        state: &State<T>,
        pool: &MeshPool<V, I>,
        mesh: Option<MeshHandle>,
    ) -> Result<(), ArenaError> {
        match state.pool {
            Some((owner, _)) if owner != pool.owner() => Err(ArenaError::ForeignHandle {
                label: self.label.clone(),
                handle: mesh.map_or(
                    HandleId {
                        kind: HandleKind::MeshPool,
                        owner: pool.owner(),
                        slot: 0,
                        generation: 0,
                    },
                    MeshHandle::id,
                ),
                kind: HandleKind::MeshPool,
                owner,
            }),
            _ => Ok(()),
        }
    }
}

impl<T: Pod> State<T> {
    /// Adds `delta` objects to slab slot `slab`'s region.
    pub(crate) fn count_in(&mut self, slab: u32, delta: i32) {
        let slab = slab as usize;
        if self.slab_counts.len() <= slab {
            self.slab_counts.resize(slab + 1, 0);
        }
        self.slab_counts[slab] = self.slab_counts[slab].saturating_add_signed(delta);
    }
}

impl<T: Pod> ObjectPool<T> {
    /// Checks every invariant: the handles, the dense order and the data and cull
    /// tables agree (one entry each per object, each handle at its own index); the
    /// per-slab counts the culling regions are sized from, and the orphan count, are
    /// what the cull records say.
    ///
    /// Time: O(objects).
    ///
    /// # Errors
    /// [`offset_alloc::InvariantError`] naming the first broken invariant.
    ///
    /// ```
    /// # use gpu_arena::objects::{Bounds, ObjectPool};
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let meshes = gpu_arena::mesh_pool::MeshPool::<[f32; 3], u32>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// # let mesh = meshes.insert(&[[0.0; 3]; 3], &[0, 1, 2]).unwrap();
    /// let objects = ObjectPool::<u32>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let o = objects.insert(&meshes, mesh, Bounds::sphere([0.0; 3], 1.0), 7).unwrap();
    /// objects.validate().unwrap();
    /// objects.remove(o).unwrap();
    /// objects.validate().unwrap();
    /// ```
    pub fn validate(&self) -> Result<(), offset_alloc::InvariantError> {
        let state = self.state.lock();
        let label = &self.label;
        let fail = |message: String| Err(offset_alloc::InvariantError { message });
        let n = state.owners.len();
        let lengths = (
            state.objects.len(),
            state.meshes.len(),
            state.data.len() as usize,
            state.records.len() as usize,
        );
        if lengths != (n, n, n, n) {
            return fail(format!(
                "{label}: {n} owners but (handles, meshes, data, records) = {lengths:?}"
            ));
        }
        for (key, &dense) in state.objects.iter() {
            if state.owners.get(dense as usize) != Some(&key) {
                return fail(format!(
                    "{label}: {:?} is at index {dense}, which another object owns",
                    key.id(HandleKind::ObjectPool)
                ));
            }
        }
        let mut counts = vec![0u32; state.slab_counts.len()];
        let mut orphans = 0;
        for record in state.records.records() {
            if record.index_count == 0 {
                orphans += 1;
            } else if let Some(count) = counts.get_mut(record.slab as usize) {
                *count += 1;
            } else {
                return fail(format!(
                    "{label}: a record draws from slab slot {}, past the {} counted",
                    record.slab,
                    counts.len()
                ));
            }
        }
        if counts != state.slab_counts || orphans != state.orphans {
            return fail(format!(
                "{label}: the records hold {counts:?} per slab and {orphans} orphans; the pool counts {:?} and {}",
                state.slab_counts, state.orphans
            ));
        }
        Ok(())
    }
}
