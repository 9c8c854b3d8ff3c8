// Reads one arena sub-range and writes another: output[i] = input[i] * 3 + 1.
// Both bindings are ranges of the same storage arena, bound at offsets that honour
// the device's min_storage_buffer_offset_alignment. Both are read_write so that the
// two bindings of one buffer share a compatible usage.

@group(0) @binding(0) var<storage, read_write> input: array<u32>;
@group(0) @binding(1) var<storage, read_write> output: array<u32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = id.x;
    if (i < arrayLength(&input) && i < arrayLength(&output)) {
        output[i] = input[i] * 3u + 1u;
    }
}
