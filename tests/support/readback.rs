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

/// How many pixels of two RGBA8 pictures differ by more than `tolerance` in any
/// colour channel (alpha is ignored: a canvas is composited opaque).
pub fn differing_rgb(a: &[u8], b: &[u8], tolerance: u8) -> usize {
    a.chunks_exact(4)
        .zip(b.chunks_exact(4))
        .filter(|(x, y)| (0..3).any(|c| x[c].abs_diff(y[c]) > tolerance))
        .count()
}

/// Pixels of an RGBA8 picture that differ from `background` by more than 8 in some
/// colour channel: a crude count of what was drawn, to tell an empty picture from a
/// scene.
pub fn differing_from(picture: &[u8], background: [u8; 4]) -> usize {
    picture
        .chunks_exact(4)
        .filter(|p| (0..3).any(|c| p[c].abs_diff(background[c]) > 8))
        .count()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differing_rgb_ignores_alpha_and_differences_within_the_tolerance() {
        let a = [10, 20, 30, 255, 0, 0, 0, 255];
        let b = [11, 20, 30, 0, 0, 9, 0, 255];
        assert_eq!(differing_rgb(&a, &b, 1), 1);
        assert_eq!(differing_rgb(&a, &b, 9), 0);
    }

    #[test]
    fn differing_from_counts_pixels_away_from_the_background() {
        let sky = [40, 50, 60, 255];
        let picture = [40, 50, 60, 255, 200, 50, 60, 255, 44, 50, 60, 255];
        assert_eq!(differing_from(&picture, sky), 1);
    }
}
