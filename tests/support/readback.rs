//! Reading GPU buffers and textures back in tests. The `*_async` forms are
//! [`Readback`]s (the browser tests await them); the plain ones wait (native only).

use gpu_arena::Readback;

/// Copies `size` bytes at `offset` of `source` into a new readback buffer and submits
/// the copy; the bytes arrive with the readback.
pub fn copy_async(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    source: &wgpu::Buffer,
    offset: u64,
    size: u64,
) -> Readback<Vec<u8>> {
    let staging = staging(device, size);
    let mut encoder = device.create_command_encoder(&Default::default());
    encoder.copy_buffer_to_buffer(source, offset, &staging, 0, size);
    Readback::submit(device, queue, encoder, staging, size, <[u8]>::to_vec)
}

/// [`copy_async`], waited for.
#[cfg(not(target_arch = "wasm32"))]
pub fn copy_and_map(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    source: &wgpu::Buffer,
    offset: u64,
    size: u64,
) -> Vec<u8> {
    copy_async(device, queue, source, offset, size)
        .wait()
        .expect("buffer readback")
}

/// A `MAP_READ | COPY_DST` buffer of `size` bytes.
fn staging(device: &wgpu::Device, size: u64) -> wgpu::Buffer {
    device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("test readback"),
        size,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    })
}

/// How many RGBA8 pixels differ between two pictures of the same size.
pub fn differing_pixels(a: &[u8], b: &[u8]) -> usize {
    assert_eq!(a.len(), b.len(), "pictures of different sizes");
    a.chunks(4).zip(b.chunks(4)).filter(|(x, y)| x != y).count()
}

/// An RGBA8 texture's pixels as tightly packed rows, read back without blocking.
pub fn texture_rgba8_async(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    texture: &wgpu::Texture,
    width: u32,
    height: u32,
) -> Readback<Vec<u8>> {
    let row = width * 4;
    let padded = row.next_multiple_of(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT);
    let size = u64::from(padded) * u64::from(height);
    let buffer = staging(device, size);
    let mut encoder = device.create_command_encoder(&Default::default());
    encoder.copy_texture_to_buffer(
        texture.as_image_copy(),
        wgpu::TexelCopyBufferInfo {
            buffer: &buffer,
            layout: wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(padded),
                rows_per_image: None,
            },
        },
        wgpu::Extent3d {
            width,
            height,
            depth_or_array_layers: 1,
        },
    );
    Readback::submit(device, queue, encoder, buffer, size, move |view| {
        let mut pixels = Vec::with_capacity((row * height) as usize);
        for y in 0..height as usize {
            pixels.extend_from_slice(&view[y * padded as usize..][..row as usize]);
        }
        pixels
    })
}

/// [`texture_rgba8_async`], waited for.
#[cfg(not(target_arch = "wasm32"))]
pub fn texture_rgba8(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    texture: &wgpu::Texture,
    width: u32,
    height: u32,
) -> Vec<u8> {
    texture_rgba8_async(device, queue, texture, width, height)
        .wait()
        .expect("texture readback")
}

/// Maps `buffer` (which must be `MAP_READ` and have its copies submitted) and returns
/// its bytes (blocking; native only).
#[cfg(not(target_arch = "wasm32"))]
pub fn map(device: &wgpu::Device, queue: &wgpu::Queue, buffer: &wgpu::Buffer) -> Vec<u8> {
    let nothing = device.create_command_encoder(&Default::default());
    Readback::submit(
        device,
        queue,
        nothing,
        buffer.clone(),
        buffer.size(),
        <[u8]>::to_vec,
    )
    .wait()
    .expect("map readback buffer")
}
