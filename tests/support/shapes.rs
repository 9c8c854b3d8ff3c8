//! Procedural 3D meshes for the 3D scene: spheres, tori, boxes, cylinders and rocks
//! (perturbed spheres) at varied tessellations, so that vertex and index counts vary
//! from a few dozen to a few thousand. Positions are centred on the origin and fit
//! in a sphere of radius `Mesh3::radius`.

use bytemuck::{Pod, Zeroable};
use glam::Vec3;

use crate::rng::Rng;

/// The vertex format of `shaders/scene.wgsl`: position and normal (24 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
pub struct Vertex3 {
    /// Object-space position.
    pub position: [f32; 3],
    /// Unit normal.
    pub normal: [f32; 3],
}

/// One 3D mesh.
#[derive(Clone, Debug)]
pub struct Mesh3 {
    /// What it is ("sphere 12x24", a model's primitive name...).
    pub name: String,
    /// Its vertices.
    pub vertices: Vec<Vertex3>,
    /// Its triangle list.
    pub indices: Vec<u32>,
    /// Radius of a sphere around the origin holding every vertex.
    pub radius: f32,
}

impl Mesh3 {
    /// A mesh of `vertices` and `indices`, its radius measured.
    pub fn new(name: String, vertices: Vec<Vertex3>, indices: Vec<u32>) -> Mesh3 {
        let radius = vertices
            .iter()
            .map(|v| Vec3::from(v.position).length())
            .fold(0.0, f32::max);
        Mesh3 {
            name,
            vertices,
            indices,
            radius,
        }
    }
}

fn vertex(position: Vec3, normal: Vec3) -> Vertex3 {
    Vertex3 {
        position: position.to_array(),
        normal: normal.normalize_or_zero().to_array(),
    }
}

/// Triangles of a `rows` x `cols` grid of vertices laid out row by row.
fn grid_indices(rows: u32, cols: u32) -> Vec<u32> {
    let mut indices = Vec::with_capacity(((rows - 1) * (cols - 1) * 6) as usize);
    for r in 0..rows - 1 {
        for c in 0..cols - 1 {
            let (a, b) = (r * cols + c, r * cols + c + 1);
            let (d, e) = (a + cols, b + cols);
            indices.extend_from_slice(&[a, d, b, b, d, e]);
        }
    }
    indices
}

/// A UV sphere of radius 1 with `stacks` x `slices` quads, each vertex pushed out by
/// `bump(direction)` (1 for a plain sphere).
fn sphere_with(stacks: u32, slices: u32, bump: impl Fn(Vec3) -> f32) -> (Vec<Vertex3>, Vec<u32>) {
    let mut vertices = Vec::new();
    for i in 0..=stacks {
        let phi = std::f32::consts::PI * i as f32 / stacks as f32;
        for j in 0..=slices {
            let theta = std::f32::consts::TAU * j as f32 / slices as f32;
            let dir = Vec3::new(phi.sin() * theta.cos(), phi.cos(), phi.sin() * theta.sin());
            vertices.push(vertex(dir * bump(dir), dir));
        }
    }
    (vertices, grid_indices(stacks + 1, slices + 1))
}

/// A sphere of radius 1.
pub fn sphere(stacks: u32, slices: u32) -> Mesh3 {
    let (v, i) = sphere_with(stacks, slices, |_| 1.0);
    Mesh3::new(format!("sphere {stacks}x{slices}"), v, i)
}

/// A rock: a sphere whose radius varies smoothly with direction (seeded).
pub fn rock(stacks: u32, slices: u32, seed: u64) -> Mesh3 {
    let mut rng = Rng(seed | 1);
    let lobes: Vec<(Vec3, f32)> = (0..6)
        .map(|_| {
            let d = Vec3::new(rng.unit() - 0.5, rng.unit() - 0.5, rng.unit() - 0.5);
            (d.normalize_or(Vec3::Y), 0.1 + 0.25 * rng.unit())
        })
        .collect();
    let (mut v, i) = sphere_with(stacks, slices, |dir| {
        0.7 + lobes
            .iter()
            .map(|(d, h)| h * dir.dot(*d).max(0.0).powi(3))
            .sum::<f32>()
    });
    smooth_normals(&mut v, &i);
    Mesh3::new(format!("rock {stacks}x{slices} #{seed}"), v, i)
}

/// A torus in the xz plane: ring radius 0.7, tube radius `tube`.
pub fn torus(rings: u32, sides: u32, tube: f32) -> Mesh3 {
    let major = 1.0 - tube;
    let mut vertices = Vec::new();
    for i in 0..=rings {
        let u = std::f32::consts::TAU * i as f32 / rings as f32;
        let centre = Vec3::new(u.cos(), 0.0, u.sin()) * major;
        for j in 0..=sides {
            let w = std::f32::consts::TAU * j as f32 / sides as f32;
            let normal = Vec3::new(u.cos() * w.cos(), w.sin(), u.sin() * w.cos());
            vertices.push(vertex(centre + normal * tube, normal));
        }
    }
    let indices = grid_indices(rings + 1, sides + 1);
    Mesh3::new(format!("torus {rings}x{sides}"), vertices, indices)
}

/// A box of half extents `half`, four vertices per face (flat normals).
pub fn cuboid(half: Vec3) -> Mesh3 {
    let mut vertices = Vec::new();
    let mut indices = Vec::new();
    for axis in 0..3 {
        for sign in [-1.0f32, 1.0] {
            let mut n = Vec3::ZERO;
            n[axis] = sign;
            let (u, w) = (
                n.any_orthonormal_vector(),
                n.cross(n.any_orthonormal_vector()),
            );
            let base = vertices.len() as u32;
            for (a, b) in [(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)] {
                vertices.push(vertex((n + u * a + w * b) * half, n));
            }
            // Counter-clockwise seen from outside.
            let flip = u.cross(w).dot(n) < 0.0;
            let quad = if flip {
                [0, 2, 1, 0, 3, 2]
            } else {
                [0, 1, 2, 0, 2, 3]
            };
            indices.extend(quad.iter().map(|k| base + k));
        }
    }
    Mesh3::new(
        format!("box {:.2}x{:.2}x{:.2}", half.x, half.y, half.z),
        vertices,
        indices,
    )
}

/// A closed cylinder of radius 1 along y from -h to h with `segments` sides.
pub fn cylinder(segments: u32, h: f32) -> Mesh3 {
    let mut vertices = Vec::new();
    let mut indices = Vec::new();
    for k in 0..=segments {
        let a = std::f32::consts::TAU * k as f32 / segments as f32;
        let n = Vec3::new(a.cos(), 0.0, a.sin());
        vertices.push(vertex(n + Vec3::Y * h, n));
        vertices.push(vertex(n - Vec3::Y * h, n));
    }
    for k in 0..segments {
        let (t0, b0, t1, b1) = (2 * k, 2 * k + 1, 2 * k + 2, 2 * k + 3);
        indices.extend_from_slice(&[t0, t1, b0, b0, t1, b1]);
    }
    for (y, up) in [(h, true), (-h, false)] {
        let normal = if up { Vec3::Y } else { Vec3::NEG_Y };
        let centre = vertices.len() as u32;
        vertices.push(vertex(Vec3::Y * y, normal));
        for k in 0..=segments {
            let a = std::f32::consts::TAU * k as f32 / segments as f32;
            vertices.push(vertex(Vec3::new(a.cos(), y, a.sin()), normal));
        }
        for k in 0..segments {
            let (a, b) = (centre + 1 + k, centre + 2 + k);
            if up {
                indices.extend_from_slice(&[centre, b, a]);
            } else {
                indices.extend_from_slice(&[centre, a, b]);
            }
        }
    }
    Mesh3::new(format!("cylinder {segments}"), vertices, indices)
}

/// Recomputes vertex normals as the area-weighted sum of the faces around them.
pub fn smooth_normals(vertices: &mut [Vertex3], indices: &[u32]) {
    let mut sums = vec![Vec3::ZERO; vertices.len()];
    for t in indices.chunks_exact(3) {
        let [a, b, c] = [t[0], t[1], t[2]].map(|k| Vec3::from(vertices[k as usize].position));
        let n = (b - a).cross(c - a);
        for k in t {
            sums[*k as usize] += n;
        }
    }
    for (v, n) in vertices.iter_mut().zip(sums) {
        v.normal = n.normalize_or(Vec3::Y).to_array();
    }
}

/// `count` varied meshes: the five kinds in turn, each at a seeded tessellation
/// (spheres of 4 to 32 stacks, tori of 8 to 48 rings...: 24 to 4,000 triangles).
pub fn generate(count: usize, seed: u64) -> Vec<Mesh3> {
    generate_with(count, seed, 1.0)
}

/// As [`generate`], with tessellations scaled down to about a sixth (12 to 200
/// triangles): for scenes of a hundred thousand objects on a software rasterizer.
pub fn generate_coarse(count: usize, seed: u64) -> Vec<Mesh3> {
    generate_with(count, seed, 0.17)
}

fn generate_with(count: usize, seed: u64, detail: f32) -> Vec<Mesh3> {
    let mut rng = Rng(seed | 1);
    (0..count)
        .map(|k| {
            let mut between = |lo: u32, hi: u32, least: u32| {
                let (lo, hi) = ((lo as f32 * detail) as u32, (hi as f32 * detail) as u32);
                (lo + rng.below(u64::from(hi.saturating_sub(lo)) + 1) as u32).max(least)
            };
            match k % 5 {
                0 => {
                    let stacks = between(4, 32, 3);
                    sphere(stacks, stacks * 2)
                }
                1 => {
                    let (rings, sides) = (between(8, 48, 6), between(4, 20, 3));
                    torus(rings, sides, 0.15 + 0.2 * rng.unit())
                }
                2 => cuboid(Vec3::new(
                    0.3 + 0.5 * rng.unit(),
                    0.3 + 0.5 * rng.unit(),
                    0.3 + 0.5 * rng.unit(),
                )),
                3 => {
                    let segments = between(5, 64, 5);
                    cylinder(segments, 0.4 + 0.6 * rng.unit())
                }
                _ => {
                    let stacks = between(5, 24, 3);
                    rock(stacks, stacks * 2, rng.next_u64())
                }
            }
        })
        .collect()
}
