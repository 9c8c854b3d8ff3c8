// Draws pooled meshes: positions are already in clip space (x, y in -1..1, z in 0..1),
// each vertex carries its colour. Used by the mesh_packing example and the
// pooled-versus-per-mesh image test.

struct VertexIn {
    @location(0) position: vec3<f32>,
    @location(1) color: vec3<f32>,
}

struct VertexOut {
    @builtin(position) clip: vec4<f32>,
    @location(0) color: vec3<f32>,
}

@vertex
fn vs_main(v: VertexIn) -> VertexOut {
    var out: VertexOut;
    out.clip = vec4<f32>(v.position, 1.0);
    out.color = v.color;
    return out;
}

@fragment
fn fs_main(v: VertexOut) -> @location(0) vec4<f32> {
    return vec4<f32>(v.color, 1.0);
}
