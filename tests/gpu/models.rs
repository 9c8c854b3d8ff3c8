//! Real models in the pool: glTF (`.gltf` with an embedded buffer, `.glb`) and OBJ
//! files that the tests write themselves, loaded through the `gltf` and `tobj`
//! crates, every primitive packed into a mesh pool and read back unchanged.

use gpu_arena::mesh_pool::MeshPool;
use gpu_suballoc::models::{self, CUBE_OBJ};
use gpu_suballoc::on_every_adapter;
use gpu_suballoc::shapes::Vertex3;

fn written(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("gpu-suballoc-models-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn an_obj_cube_loads_as_twelve_triangles_fitted_into_a_unit_sphere() {
    let meshes = models::load(&written("cube.obj", CUBE_OBJ.as_bytes())).unwrap();
    assert_eq!(meshes.len(), 1);
    let cube = &meshes[0];
    assert_eq!(cube.indices.len(), 36, "six quads, triangulated");
    assert!((cube.radius - 1.0).abs() < 1e-5, "fitted: {}", cube.radius);
    assert!(
        cube.vertices.iter().all(|v| {
            let n = v.normal;
            ((n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt() - 1.0).abs() < 1e-4
        }),
        "normals were computed"
    );
}

#[test]
fn gltf_and_glb_triangles_load_with_their_node_transform() {
    for (name, glb) in [("tri.gltf", false), ("tri.glb", true)] {
        let meshes = models::load(&written(name, &models::triangle_gltf(glb))).unwrap();
        assert_eq!(meshes.len(), 1, "{name}");
        let tri = &meshes[0];
        assert_eq!(tri.indices, [0, 1, 2], "{name}");
        // Translated by the node, then fitted: the shape survives (a right angle at
        // the first vertex, legs of equal length).
        let p: Vec<glam::Vec3> = tri.vertices.iter().map(|v| v.position.into()).collect();
        let (a, b) = (p[1] - p[0], p[2] - p[0]);
        assert!(
            a.dot(b).abs() < 1e-5 && (a.length() - b.length()).abs() < 1e-5,
            "{name}: {p:?}"
        );
        assert!(tri.name.starts_with("tri"), "{}", tri.name);
    }
}

#[test]
fn broken_models_are_refused_with_the_reason() {
    let bad_index = "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 9\n";
    for (name, bytes, says) in [
        ("bad.obj", bad_index.as_bytes(), ""),
        ("empty.obj", &b""[..], "no whole triangles"),
        ("model.stl", &b"solid"[..], "unknown model format"),
        ("bad.gltf", &b"{not json"[..], ""),
    ] {
        let err = models::load(&written(name, bytes))
            .expect_err(name)
            .to_string();
        assert!(err.contains(name) && err.contains(says), "{name}: {err}");
    }
}

#[test]
fn every_primitive_of_a_model_is_packed_into_the_pool_and_reads_back() {
    on_every_adapter(|gpu| {
        let mut meshes = models::load(&written("cube.obj", CUBE_OBJ.as_bytes())).unwrap();
        meshes.extend(models::load(&written("tri.glb", &models::triangle_gltf(true))).unwrap());
        let pool: MeshPool<Vertex3, u32> =
            MeshPool::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
        let handles: Vec<_> = meshes
            .iter()
            .map(|m| pool.insert(&m.vertices, &m.indices).unwrap())
            .collect();
        for (h, m) in handles.iter().zip(&meshes) {
            assert_eq!(
                pool.read_mesh(*h).unwrap(),
                (m.vertices.clone(), m.indices.clone())
            );
        }
    });
}
