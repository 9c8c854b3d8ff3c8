// GPU frustum culling for gpu-arena's ObjectPool (crates/gpu-arena/src/objects).
//
// One invocation per object: a bounding sphere outside any of the six frustum planes
// is culled; a visible object appends one DrawIndexedIndirectArgs to its slab's
// region of `args` (compacted with an atomic counter per slab) whose first_instance
// is the object's index, so the vertex shader finds the object's data at
// `instance_index`. The counters double as the draw counts of
// multi_draw_indexed_indirect_count; without that feature the pool clears `args`
// first and draws every slot of the region, the unused ones with zero instances.

struct Camera {
    // Inside when dot(plane.xyz, p) + plane.w >= 0 (normalised: w is a distance).
    planes: array<vec4<f32>, 6>,
    object_count: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

struct CullRecord {
    center: vec3<f32>,
    radius: f32,
    index_count: u32,   // 0: the object draws nothing (its mesh is gone)
    first_index: u32,
    base_vertex: i32,
    slab: u32,          // index into `slabs`
}

struct SlabRegion {
    base: u32,          // first slot of the slab's region in `args`
    capacity: u32,      // objects whose mesh lives in the slab
}

// DrawIndexedIndirectArgs, as five words.
struct DrawArgs {
    index_count: u32,
    instance_count: u32,
    first_index: u32,
    base_vertex: i32,
    first_instance: u32,
}

@group(0) @binding(0) var<uniform> camera: Camera;
@group(0) @binding(1) var<storage, read> records: array<CullRecord>;
@group(0) @binding(2) var<storage, read> slabs: array<SlabRegion>;
@group(0) @binding(3) var<storage, read_write> args: array<DrawArgs>;
@group(0) @binding(4) var<storage, read_write> counts: array<atomic<u32>>;

@compute @workgroup_size(64)
fn cull(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    // Dispatches past 65,535 workgroups wrap into y.
    let object = (group.y * groups.x + group.x) * 64u + lane;
    if object >= camera.object_count {
        return;
    }
    let r = records[object];
    if r.index_count == 0u {
        return;
    }
    for (var p = 0u; p < 6u; p++) {
        let plane = camera.planes[p];
        if dot(plane.xyz, r.center) + plane.w < -r.radius {
            return;
        }
    }
    let region = slabs[r.slab];
    let slot = atomicAdd(&counts[r.slab], 1u);
    if slot >= region.capacity {
        return; // cannot happen: the region holds every object of the slab
    }
    args[region.base + slot] = DrawArgs(r.index_count, 1u, r.first_index, r.base_vertex, object);
}
