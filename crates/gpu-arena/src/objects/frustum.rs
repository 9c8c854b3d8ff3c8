//! [`Bounds`] (a bounding sphere) and [`Frustum`] (six planes from a view-projection
//! matrix), with the visibility test that the crate's `shaders/cull.wgsl` runs on the GPU, written
//! once here for the CPU path and for checking the GPU's answer.

use bytemuck::{Pod, Zeroable};

/// A bounding sphere in world space.
///
/// ```
/// let b = gpu_arena::objects::Bounds::sphere([0.0, 1.0, 0.0], 0.5);
/// assert_eq!(b.radius, 0.5);
/// ```
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct Bounds {
    /// Centre.
    pub center: [f32; 3],
    /// Radius (at least 0).
    pub radius: f32,
}

impl Bounds {
    /// A sphere of `radius` around `center`.
    ///
    /// ```
    /// let b = gpu_arena::objects::Bounds::sphere([1.0, 2.0, 3.0], 4.0);
    /// assert_eq!(b.center, [1.0, 2.0, 3.0]);
    /// ```
    pub fn sphere(center: [f32; 3], radius: f32) -> Bounds {
        Bounds { center, radius }
    }

    /// The smallest sphere around the box `min..max` (its centre and half diagonal).
    ///
    /// ```
    /// let b = gpu_arena::objects::Bounds::from_box([-1.0; 3], [1.0; 3]);
    /// assert_eq!(b.center, [0.0; 3]);
    /// assert!((b.radius - 3f32.sqrt()).abs() < 1e-6);
    /// ```
    pub fn from_box(min: [f32; 3], max: [f32; 3]) -> Bounds {
        let center = [0, 1, 2].map(|k| 0.5 * (min[k] + max[k]));
        let half = [0, 1, 2].map(|k| 0.5 * (max[k] - min[k]));
        Bounds {
            center,
            radius: (half[0] * half[0] + half[1] * half[1] + half[2] * half[2]).sqrt(),
        }
    }
}

/// The six planes of a view frustum, `[nx, ny, nz, d]` each, normals pointing inward
/// and normalised: a point `p` is inside a plane when `n · p + d >= 0`.
///
/// ```
/// use gpu_arena::objects::{Bounds, Frustum};
/// // An orthographic box: x and y in -1..1, depth 0..1 (wgpu's clip space).
/// let identity = [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]];
/// let f = Frustum::from_view_projection(identity);
/// assert!(f.contains(&Bounds::sphere([0.0, 0.0, 0.5], 0.1)));
/// assert!(!f.contains(&Bounds::sphere([3.0, 0.0, 0.5], 0.1)));
/// ```
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
pub struct Frustum {
    /// Left, right, bottom, top, near, far.
    pub planes: [[f32; 4]; 6],
}

impl Frustum {
    /// The frustum of a view-projection matrix given as four columns (glam's
    /// `Mat4::to_cols_array_2d`, cgmath's and nalgebra's column order) mapping world
    /// space to wgpu's clip space (depth 0..1).
    ///
    /// ```
    /// let m = [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]];
    /// let f = gpu_arena::objects::Frustum::from_view_projection(m);
    /// assert_eq!(f.planes[4], [0.0, 0.0, 1.0, 0.0]); // near: z >= 0
    /// ```
    pub fn from_view_projection(columns: [[f32; 4]; 4]) -> Frustum {
        let row = |r: usize| [0, 1, 2, 3].map(|c| columns[c][r]);
        let (x, y, z, w) = (row(0), row(1), row(2), row(3));
        let add = |a: [f32; 4], b: [f32; 4]| [0, 1, 2, 3].map(|k| a[k] + b[k]);
        let sub = |a: [f32; 4], b: [f32; 4]| [0, 1, 2, 3].map(|k| a[k] - b[k]);
        let planes = [add(w, x), sub(w, x), add(w, y), sub(w, y), z, sub(w, z)].map(|p| {
            let length = (p[0] * p[0] + p[1] * p[1] + p[2] * p[2]).sqrt();
            if length > 0.0 {
                p.map(|v| v / length)
            } else {
                p
            }
        });
        Frustum { planes }
    }

    /// Whether any part of `bounds` may be inside (the test the crate's `shaders/cull.wgsl` runs):
    /// false only when the sphere lies wholly outside one plane.
    ///
    /// ```
    /// # use gpu_arena::objects::{Bounds, Frustum};
    /// # let f = Frustum::from_view_projection([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]);
    /// assert!(f.contains(&Bounds::sphere([1.05, 0.0, 0.5], 0.1))); // straddles x = 1
    /// ```
    pub fn contains(&self, bounds: &Bounds) -> bool {
        self.planes
            .iter()
            .all(|p| self.distance(p, bounds) >= -bounds.radius)
    }

    /// How far inside the nearest plane the sphere's centre lies, less its radius:
    /// negative when culled. Tests use it to tell clear cases from ones within
    /// rounding of a plane.
    ///
    /// ```
    /// # use gpu_arena::objects::{Bounds, Frustum};
    /// # let f = Frustum::from_view_projection([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]);
    /// assert!((f.margin(&Bounds::sphere([0.0, 0.0, 0.5], 0.1)) - 0.6).abs() < 1e-6);
    /// ```
    pub fn margin(&self, bounds: &Bounds) -> f32 {
        self.planes
            .iter()
            .map(|p| self.distance(p, bounds) + bounds.radius)
            .fold(f32::INFINITY, f32::min)
    }

    fn distance(&self, plane: &[f32; 4], bounds: &Bounds) -> f32 {
        let c = bounds.center;
        plane[0] * c[0] + plane[1] * c[1] + plane[2] * c[2] + plane[3]
    }
}
