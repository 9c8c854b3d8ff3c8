//! The main job's scene as one value, for the native example and the browser page
//! alike: procedural meshes (and models) packed into one `MeshPool`, objects placed in
//! an `ObjectPool`, culled on the GPU and drawn by a [`Renderer3d`]. Nothing here
//! blocks, so the same code runs in the browser.

use gpu_arena::ArenaError;
use gpu_arena::mesh_pool::{MeshHandle, MeshPool, MeshPoolDescriptor};
use gpu_arena::objects::{CullPath, CullReport, ObjectPool, ObjectPoolDescriptor};

use crate::shapes::{Mesh3, Vertex3};
use crate::world::{self, Camera, ObjectData, Renderer3d};

/// A packed scene and what draws it.
pub struct PackedScene {
    /// Every mesh, packed.
    pub pool: MeshPool<Vertex3, u32>,
    /// The handle of each mesh, in input order.
    pub handles: Vec<MeshHandle>,
    /// The placed objects.
    pub objects: ObjectPool<ObjectData>,
    /// The renderer (an offscreen colour and depth target).
    pub renderer: Renderer3d,
    /// The camera over the field.
    pub camera: Camera,
    /// The bind group of the objects' data, and the data generation it was made for.
    bind_group: Option<(u32, wgpu::BindGroup)>,
}

/// What one frame did.
#[derive(Clone, Copy, Debug)]
pub struct Frame {
    /// Draw calls recorded.
    pub calls: u32,
    /// The cull's report.
    pub cull: CullReport,
}

impl PackedScene {
    /// Packs `meshes` (inserted one by one and committed: the way users insert),
    /// places `objects` objects over `groups` (sets of meshes placed together, with
    /// their radius) and makes a `width` x `height` renderer. The culling path is
    /// `path` (e.g. `CullPath::for_device`).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        meshes: &[Mesh3],
        groups: &[(Vec<usize>, f32)],
        objects: usize,
        path: CullPath,
        (width, height): (u32, u32),
        seed: u64,
    ) -> Result<PackedScene, ArenaError> {
        let pool: MeshPool<Vertex3, u32> = MeshPool::new(
            device,
            queue,
            &MeshPoolDescriptor {
                label: Some("mesh_packing"),
                ..Default::default()
            },
        )?;
        let handles = meshes
            .iter()
            .map(|m| pool.insert(&m.vertices, &m.indices))
            .collect::<Result<Vec<_>, _>>()?;
        pool.commit_now()?; // lands every staged insert with a few merged copies
        let field = Self::field(objects);
        let placed = world::scatter_groups(groups, objects, field, seed + 1);
        let pool_of_objects = ObjectPool::new(
            device,
            queue,
            &ObjectPoolDescriptor {
                label: Some("mesh_packing objects"),
                capacity: placed.len() as u32,
                path,
            },
        )?;
        for p in &placed {
            pool_of_objects.insert(&pool, handles[p.mesh], p.bounds, p.data)?;
        }
        Ok(PackedScene {
            pool,
            handles,
            objects: pool_of_objects,
            renderer: Renderer3d::new(device, width, height),
            camera: Camera::over_field(field, width as f32 / height as f32),
            bind_group: None,
        })
    }

    /// The side of the square field `objects` objects are scattered over.
    pub fn field(objects: usize) -> f32 {
        (objects as f32).sqrt() * 3.0 + 20.0
    }

    /// Records one frame into `encoder`: the cull, then the pass that draws what it
    /// kept (one indirect call per slab where the device allows).
    pub fn record(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        encoder: &mut wgpu::CommandEncoder,
    ) -> Result<Frame, ArenaError> {
        let generation = self.objects.data_generation();
        if self
            .bind_group
            .as_ref()
            .is_none_or(|(g, _)| *g != generation)
        {
            let data = self.objects.data_binding()?;
            let group = self.renderer.bind_group(device, data.binding());
            self.bind_group = Some((generation, group));
        }
        let Some((_, group)) = &self.bind_group else {
            unreachable!("made above");
        };
        let cull = self
            .objects
            .cull(encoder, &self.pool, &self.camera.frustum())?;
        let mut drawn = Ok(0);
        let (objects, pool) = (&self.objects, &self.pool);
        self.renderer
            .record(queue, encoder, &self.camera, group, |pass| {
                drawn = objects.draw(pass, pool, 0);
            });
        Ok(Frame {
            calls: drawn?,
            cull,
        })
    }
}
