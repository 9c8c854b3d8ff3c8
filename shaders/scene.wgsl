// The 3D scene of the main job and the GPU-driven drawing tests: each object's model
// matrix and colour come from a storage table at the draw's instance index (its
// first_instance, written by the culling pass or by a direct draw), lit by one
// directional light plus ambient.

struct Camera {
    view_projection: mat4x4<f32>,
    light: vec4<f32>, // direction the light travels, w unused
}

struct Object {
    model: mat4x4<f32>,
    color: vec4<f32>,
}

@group(0) @binding(0) var<uniform> camera: Camera;
@group(0) @binding(1) var<storage, read> objects: array<Object>;

struct VertexIn {
    @location(0) position: vec3<f32>,
    @location(1) normal: vec3<f32>,
}

struct VertexOut {
    @builtin(position) clip: vec4<f32>,
    @location(0) normal: vec3<f32>,
    @location(1) color: vec3<f32>,
}

@vertex
fn vs_main(v: VertexIn, @builtin(instance_index) instance: u32) -> VertexOut {
    let object = objects[instance];
    var out: VertexOut;
    out.clip = camera.view_projection * (object.model * vec4<f32>(v.position, 1.0));
    // Uniform scale only: the model matrix turns normals too.
    out.normal = (object.model * vec4<f32>(v.normal, 0.0)).xyz;
    out.color = object.color.rgb;
    return out;
}

@fragment
fn fs_main(v: VertexOut) -> @location(0) vec4<f32> {
    let n = normalize(v.normal);
    let diffuse = abs(dot(n, -camera.light.xyz)); // two-sided: no face culling
    return vec4<f32>(v.color * (0.3 + 0.7 * diffuse), 1.0);
}
