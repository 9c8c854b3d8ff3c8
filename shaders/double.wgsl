// The headless_compute example's kernel: values[i] = values[i] * 2 + 1.

@group(0) @binding(0) var<storage, read_write> values: array<u32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x < arrayLength(&values)) {
        values[id.x] = values[id.x] * 2u + 1u;
    }
}
