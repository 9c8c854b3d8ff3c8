//! A CPU reference for pictures of the 2D scene ([`crate::scene`]): which pixels the
//! meshes' triangles surely cover (the pixel centre over a pixel inside a triangle)
//! and which they surely leave alone (over a pixel away from every triangle). Pixels
//! within a pixel of an edge are left undecided, since rasterization rules differ
//! there. A GPU picture must agree on every decided pixel: no covered pixel left at
//! the background, no uncovered one drawn.

use crate::scene::Mesh;

/// What the reference says of one pixel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cover {
    /// A triangle surely covers its centre.
    Inside,
    /// Its centre is within a pixel of some triangle's edge.
    Edge,
    /// No triangle comes within a pixel of its centre.
    Outside,
}

/// The reference for `meshes` drawn into a `width` x `height` target.
pub fn coverage<'a>(
    meshes: impl IntoIterator<Item = &'a Mesh>,
    width: u32,
    height: u32,
) -> Vec<Cover> {
    let (w, h) = (width as f32, height as f32);
    let mut cover = vec![Cover::Outside; (width * height) as usize];
    let to_pixels = |p: [f32; 3]| [(p[0] + 1.0) * 0.5 * w, (1.0 - p[1]) * 0.5 * h];
    for mesh in meshes {
        for t in mesh.indices.chunks_exact(3) {
            let [a, b, c] = [0, 1, 2].map(|k| to_pixels(mesh.vertices[t[k] as usize].position));
            let area = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
            if area.abs() < 1e-6 {
                continue;
            }
            let sign = area.signum();
            // Signed distance of `p` from edge `u -> v`, positive on the inside.
            let distance = |u: [f32; 2], v: [f32; 2], p: [f32; 2]| {
                let (ex, ey) = (v[0] - u[0], v[1] - u[1]);
                sign * (ex * (p[1] - u[1]) - ey * (p[0] - u[0])) / (ex * ex + ey * ey).sqrt()
            };
            let lo = |k: usize| (a[k].min(b[k]).min(c[k]) - 1.5).floor().max(0.0) as u32;
            let hi = |k: usize, n: u32| ((a[k].max(b[k]).max(c[k]) + 1.5).ceil() as u32).min(n);
            for y in lo(1)..hi(1, height) {
                for x in lo(0)..hi(0, width) {
                    let p = [x as f32 + 0.5, y as f32 + 0.5];
                    let d = distance(a, b, p)
                        .min(distance(b, c, p))
                        .min(distance(c, a, p));
                    let cell = &mut cover[(y * width + x) as usize];
                    if d > 1.0 {
                        *cell = Cover::Inside;
                    } else if d > -1.0 && *cell == Cover::Outside {
                        *cell = Cover::Edge;
                    }
                }
            }
        }
    }
    cover
}

/// Decided pixels where an RGBA8 `picture` disagrees with `cover`: covered ones left
/// at `background`, and uncovered ones drawn. `(missing, extra)`.
pub fn disagreements(picture: &[u8], cover: &[Cover], background: [u8; 4]) -> (usize, usize) {
    let mut missing = 0;
    let mut extra = 0;
    for (pixel, cell) in picture.chunks_exact(4).zip(cover) {
        let drawn = pixel[..3] != background[..3];
        match cell {
            Cover::Inside if !drawn => missing += 1,
            Cover::Outside if drawn => extra += 1,
            _ => {}
        }
    }
    (missing, extra)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scene::ColorVertex;

    fn quad(x0: f32, y0: f32, x1: f32, y1: f32) -> Mesh {
        let v = |x, y| ColorVertex {
            position: [x, y, 0.5],
            color: [1.0; 3],
        };
        Mesh {
            vertices: vec![v(x0, y0), v(x1, y0), v(x1, y1), v(x0, y1)],
            indices: vec![0, 1, 2, 2, 3, 0],
        }
    }

    #[test]
    fn a_quad_covers_its_interior_and_leaves_the_rest() {
        // The left half of clip space, on a 16 x 16 target: columns 0..8.
        let cover = coverage([&quad(-1.0, -1.0, 0.0, 1.0)], 16, 16);
        assert_eq!(cover[8 * 16 + 1], Cover::Inside);
        assert_eq!(cover[8 * 16 + 12], Cover::Outside);
        assert_eq!(cover[8 * 16 + 8], Cover::Edge, "next to the edge at x = 8");
    }

    #[test]
    fn disagreements_count_missing_and_extra_pixels() {
        let cover = [Cover::Inside, Cover::Outside, Cover::Edge, Cover::Inside];
        let bg = [1, 2, 3, 255];
        let picture = [bg, [9, 9, 9, 255], [9, 9, 9, 255], [9, 2, 3, 255]].concat();
        assert_eq!(disagreements(&picture, &cover, bg), (1, 1));
    }
}
