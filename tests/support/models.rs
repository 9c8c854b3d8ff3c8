//! Loading real models into [`Mesh3`]s: glTF 2.0 (`.gltf` with embedded or external
//! buffers, `.glb`) through the `gltf` crate and Wavefront OBJ through `tobj`. Each
//! triangle primitive of each mesh becomes one `Mesh3`, placed by its node's
//! transform in the default scene, and the whole model is centred and scaled to fit
//! a unit sphere so that it sits in the scene like a procedural mesh.

use std::path::Path;

use base64::Engine;
use glam::{Mat4, Vec3};

use crate::shapes::{Mesh3, Vertex3, smooth_normals};

/// Why a model could not be loaded.
#[derive(Debug)]
pub struct ModelError(pub String);

impl std::fmt::Display for ModelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ModelError {}

fn error(path: &Path, what: impl std::fmt::Display) -> ModelError {
    ModelError(format!("{}: {what}", path.display()))
}

/// The primitives of the model at `path` (by extension: `.gltf`, `.glb`, `.obj`),
/// fitted into a unit sphere together.
pub fn load(path: &Path) -> Result<Vec<Mesh3>, ModelError> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let meshes = match extension.as_deref() {
        Some("gltf" | "glb") => load_gltf(path)?,
        Some("obj") => load_obj(path)?,
        _ => {
            return Err(error(
                path,
                "unknown model format (use .gltf, .glb or .obj)",
            ));
        }
    };
    if meshes.is_empty() {
        return Err(error(path, "no triangle meshes in the file"));
    }
    Ok(fit_unit_sphere(meshes))
}

/// Every primitive of a glTF file, transformed by its nodes.
fn load_gltf(path: &Path) -> Result<Vec<Mesh3>, ModelError> {
    let bytes = std::fs::read(path).map_err(|e| error(path, e))?;
    let gltf = gltf::Gltf::from_slice(&bytes).map_err(|e| error(path, e))?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut buffers = Vec::new();
    for buffer in gltf.document.buffers() {
        let data = match buffer.source() {
            gltf::buffer::Source::Bin => gltf
                .blob
                .clone()
                .ok_or_else(|| error(path, "the GLB has no binary chunk"))?,
            gltf::buffer::Source::Uri(uri) => {
                if let Some((_, encoded)) = uri.split_once(";base64,") {
                    base64::engine::general_purpose::STANDARD
                        .decode(encoded)
                        .map_err(|e| error(path, format!("buffer {}: {e}", buffer.index())))?
                } else {
                    std::fs::read(base.join(uri)).map_err(|e| error(path, format!("{uri}: {e}")))?
                }
            }
        };
        if data.len() < buffer.length() {
            return Err(error(
                path,
                format!("buffer {} is truncated", buffer.index()),
            ));
        }
        buffers.push(data);
    }
    let mut meshes = Vec::new();
    // Walk the default scene (or every scene) with each node's world transform.
    let mut stack: Vec<(gltf::Node<'_>, Mat4)> = match gltf.document.default_scene() {
        Some(scene) => scene.nodes().map(|n| (n, Mat4::IDENTITY)).collect(),
        None => gltf
            .document
            .scenes()
            .flat_map(|s| s.nodes())
            .map(|n| (n, Mat4::IDENTITY))
            .collect(),
    };
    let mut placed_any = false;
    while let Some((node, parent)) = stack.pop() {
        let world = parent * Mat4::from_cols_array_2d(&node.transform().matrix());
        stack.extend(node.children().map(|c| (c, world)));
        if let Some(mesh) = node.mesh() {
            placed_any = true;
            primitives(path, &mesh, world, &buffers, &mut meshes)?;
        }
    }
    if !placed_any {
        for mesh in gltf.document.meshes() {
            primitives(path, &mesh, Mat4::IDENTITY, &buffers, &mut meshes)?;
        }
    }
    Ok(meshes)
}

fn primitives(
    path: &Path,
    mesh: &gltf::Mesh<'_>,
    world: Mat4,
    buffers: &[Vec<u8>],
    out: &mut Vec<Mesh3>,
) -> Result<(), ModelError> {
    for primitive in mesh.primitives() {
        if primitive.mode() != gltf::mesh::Mode::Triangles {
            log::warn!(
                "{}: skipping a {:?} primitive of mesh {}",
                path.display(),
                primitive.mode(),
                mesh.index()
            );
            continue;
        }
        let reader = primitive.reader(|b| buffers.get(b.index()).map(|d| &d[..]));
        let positions: Vec<[f32; 3]> = reader
            .read_positions()
            .ok_or_else(|| error(path, format!("mesh {} has no positions", mesh.index())))?
            .collect();
        let normals: Option<Vec<[f32; 3]>> = reader.read_normals().map(Iterator::collect);
        let indices: Vec<u32> = match reader.read_indices() {
            Some(indices) => indices.into_u32().collect(),
            None => (0..positions.len() as u32).collect(),
        };
        let name = format!(
            "{} mesh {} primitive {}",
            mesh.name().unwrap_or("unnamed"),
            mesh.index(),
            primitive.index()
        );
        out.push(build(
            path,
            name,
            &positions,
            normals.as_deref(),
            indices,
            world,
        )?);
    }
    Ok(())
}

/// Every model of an OBJ file (triangulated, one index per vertex).
fn load_obj(path: &Path) -> Result<Vec<Mesh3>, ModelError> {
    let options = tobj::LoadOptions {
        triangulate: true,
        single_index: true,
        ..Default::default()
    };
    let (models, _materials) = tobj::load_obj(path, &options).map_err(|e| error(path, e))?;
    models
        .into_iter()
        .map(|model| {
            let m = model.mesh;
            let positions: Vec<[f32; 3]> = m
                .positions
                .chunks_exact(3)
                .map(|p| [p[0], p[1], p[2]])
                .collect();
            let normals: Vec<[f32; 3]> = m
                .normals
                .chunks_exact(3)
                .map(|n| [n[0], n[1], n[2]])
                .collect();
            let normals = (normals.len() == positions.len()).then_some(&normals[..]);
            build(
                path,
                model.name,
                &positions,
                normals,
                m.indices,
                Mat4::IDENTITY,
            )
        })
        .collect()
}

/// A mesh from loaded attributes, checked: indices in range, whole triangles.
fn build(
    path: &Path,
    name: String,
    positions: &[[f32; 3]],
    normals: Option<&[[f32; 3]]>,
    indices: Vec<u32>,
    world: Mat4,
) -> Result<Mesh3, ModelError> {
    if positions.is_empty() || indices.is_empty() || !indices.len().is_multiple_of(3) {
        return Err(error(path, format!("{name}: no whole triangles")));
    }
    if let Some(bad) = indices.iter().find(|&&i| i as usize >= positions.len()) {
        return Err(error(
            path,
            format!("{name}: index {bad} past its {} vertices", positions.len()),
        ));
    }
    let mut vertices: Vec<Vertex3> = positions
        .iter()
        .enumerate()
        .map(|(k, p)| Vertex3 {
            position: world.transform_point3(Vec3::from(*p)).to_array(),
            normal: normals.map_or([0.0; 3], |n| {
                world
                    .transform_vector3(Vec3::from(n[k]))
                    .normalize_or(Vec3::Y)
                    .to_array()
            }),
        })
        .collect();
    if normals.is_none() {
        smooth_normals(&mut vertices, &indices);
    }
    Ok(Mesh3::new(name, vertices, indices))
}

/// Moves and scales meshes together so that their union fits a unit sphere.
fn fit_unit_sphere(mut meshes: Vec<Mesh3>) -> Vec<Mesh3> {
    let (mut lo, mut hi) = (Vec3::splat(f32::INFINITY), Vec3::splat(f32::NEG_INFINITY));
    for v in meshes.iter().flat_map(|m| &m.vertices) {
        lo = lo.min(Vec3::from(v.position));
        hi = hi.max(Vec3::from(v.position));
    }
    let centre = (lo + hi) * 0.5;
    let radius = meshes
        .iter()
        .flat_map(|m| &m.vertices)
        .map(|v| (Vec3::from(v.position) - centre).length())
        .fold(0.0, f32::max)
        .max(1e-6);
    for mesh in &mut meshes {
        for v in &mut mesh.vertices {
            v.position = ((Vec3::from(v.position) - centre) / radius).to_array();
        }
        *mesh = Mesh3::new(
            std::mem::take(&mut mesh.name),
            std::mem::take(&mut mesh.vertices),
            std::mem::take(&mut mesh.indices),
        );
    }
    meshes
}

/// A unit cube as OBJ text (8 positions, 6 quads; no normals), for tests and CI.
pub const CUBE_OBJ: &str = "o cube\nv -1 -1 -1\nv 1 -1 -1\nv 1 1 -1\nv -1 1 -1\nv -1 -1 1\nv 1 -1 1\nv 1 1 1\nv -1 1 1\n\
f 1 2 3 4\nf 5 8 7 6\nf 1 5 6 2\nf 2 6 7 3\nf 3 7 8 4\nf 5 1 4 8\n";

/// A glTF document (JSON) holding one triangle in an embedded base64 buffer, placed
/// by a node translated by `(2, 0, 0)`; as `.gltf` text, or as a `.glb` when `glb`.
pub fn triangle_gltf(glb: bool) -> Vec<u8> {
    let mut bin = Vec::new();
    for p in [[0.0f32, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]] {
        for c in p {
            bin.extend_from_slice(&c.to_le_bytes());
        }
    }
    for i in [0u16, 1, 2] {
        bin.extend_from_slice(&i.to_le_bytes());
    }
    bin.extend_from_slice(&[0, 0]); // pad to 4
    let uri = if glb {
        String::new()
    } else {
        format!(
            r#","uri":"data:application/octet-stream;base64,{}""#,
            base64::engine::general_purpose::STANDARD.encode(&bin)
        )
    };
    let json = format!(
        r#"{{"asset":{{"version":"2.0"}},"scene":0,"scenes":[{{"nodes":[0]}}],
"nodes":[{{"mesh":0,"translation":[2,0,0]}}],
"meshes":[{{"name":"tri","primitives":[{{"attributes":{{"POSITION":0}},"indices":1}}]}}],
"buffers":[{{"byteLength":{len}{uri}}}],
"bufferViews":[{{"buffer":0,"byteOffset":0,"byteLength":36}},{{"buffer":0,"byteOffset":36,"byteLength":6}}],
"accessors":[{{"bufferView":0,"componentType":5126,"count":3,"type":"VEC3","min":[0,0,0],"max":[1,1,0]}},
{{"bufferView":1,"componentType":5123,"count":3,"type":"SCALAR"}}]}}"#,
        len = bin.len()
    );
    if !glb {
        return json.into_bytes();
    }
    let mut json = json.into_bytes();
    while !json.len().is_multiple_of(4) {
        json.push(b' ');
    }
    let total = 12 + 8 + json.len() + 8 + bin.len();
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(b"glTF");
    out.extend_from_slice(&2u32.to_le_bytes());
    out.extend_from_slice(&(total as u32).to_le_bytes());
    out.extend_from_slice(&(json.len() as u32).to_le_bytes());
    out.extend_from_slice(b"JSON");
    out.extend_from_slice(&json);
    out.extend_from_slice(&(bin.len() as u32).to_le_bytes());
    out.extend_from_slice(b"BIN\0");
    out.extend_from_slice(&bin);
    out
}
