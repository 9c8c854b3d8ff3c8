// Walks a bindless pool's offset table: for every object i, hashes the words of its
// record (data[offset .. offset + len]) into results[i]. Removed objects have len 0
// and hash to 0. One dispatch serves every object.

struct Entry {
    offset: u32,
    len: u32,
}

@group(0) @binding(0) var<storage, read> table: array<Entry>;
@group(0) @binding(1) var<storage, read> data: array<u32>;
@group(0) @binding(2) var<storage, read_write> results: array<u32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = id.x;
    if (i >= arrayLength(&table) || i >= arrayLength(&results)) {
        return;
    }
    let entry = table[i];
    var hash = 0u;
    for (var k = 0u; k < entry.len; k = k + 1u) {
        hash = hash * 31u + data[entry.offset + k] + 1u;
    }
    results[i] = hash;
}
