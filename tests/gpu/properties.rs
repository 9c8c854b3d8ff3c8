//! Property tests of the pools: random sequences of inserts, batches, removals,
//! commits, clears and compactions on mesh pools, and of inserts, updates and
//! removals on bindless pools, and of object inserts, removals, moves, mesh
//! removals, compactions and culls on object pools, all with small slabs (so that growth, new slabs and
//! dedicated slabs happen), with every invariant walked (`validate`) after every
//! step, and every live mesh or record read back (and walked on the GPU) at the end.

use gpu_arena::bindless::{BindlessPool, BindlessPoolDescriptor, ObjectId};
use gpu_arena::mesh_pool::{MeshHandle, MeshPool, MeshPoolDescriptor};
use gpu_arena::objects::{Bounds, CullPath, Frustum, ObjectHandle, ObjectPool};
use gpu_suballoc::{bindless_walk, on_every_adapter};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Op {
    /// A mesh of this many vertices and triangles.
    Insert(u16, u16),
    /// This many meshes at once.
    Batch(u8),
    /// The live mesh at this index (modulo the count).
    Remove(usize),
    Commit,
    Clear,
    Compact,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (1u16..600, 1u16..200).prop_map(|(v, t)| Op::Insert(v, t)),
        2 => (1u8..6).prop_map(Op::Batch),
        4 => any::<usize>().prop_map(Op::Remove),
        2 => Just(Op::Commit),
        1 => Just(Op::Clear),
        1 => Just(Op::Compact),
    ]
}

/// A mesh's vertices and indices.
type Data = (Vec<[u32; 2]>, Vec<u32>);

/// A mesh's data: vertices tagged with `tag`, indices over them.
fn mesh(tag: u32, vertices: u16, triangles: u16) -> Data {
    let v = (0..u32::from(vertices)).map(|k| [tag, k]).collect();
    let i = (0..u32::from(triangles) * 3)
        .map(|k| k.wrapping_mul(2_654_435_761) % u32::from(vertices))
        .collect();
    (v, i)
}

/// Runs `ops` on a small-slab pool; with `max_slabs` bounded, inserts may be refused
/// (then nothing changes) and full slabs written in place grow instead of spilling.
fn run(ops: &[Op], rebase: bool, max_slabs: u32) {
    on_every_adapter(|gpu| {
        let pool = MeshPool::<[u32; 2], u32>::new(
            &gpu.device,
            &gpu.queue,
            &MeshPoolDescriptor {
                initial_vertex_bytes: 1024,
                initial_index_bytes: 1024,
                initial_meshes: 4,
                max_slab_bytes: 16 << 10,
                dedicated_bytes: 4 << 10,
                rebase_indices: rebase,
                max_slabs,
                ..Default::default()
            },
        )
        .unwrap();
        let mut live: Vec<(MeshHandle, Data)> = Vec::new();
        let mut tag = 0;
        for op in ops {
            match *op {
                Op::Insert(v, t) => {
                    tag += 1;
                    let data = mesh(tag, v, t);
                    let before = pool.len();
                    match pool.insert(&data.0, &data.1) {
                        Ok(h) => live.push((h, data)),
                        Err(e) => {
                            assert!(max_slabs != u32::MAX, "insert failed: {e}");
                            assert_eq!(pool.len(), before, "a refused insert changes nothing");
                        }
                    }
                }
                Op::Batch(n) => {
                    let datas: Vec<_> = (0..n)
                        .map(|k| {
                            tag += 1;
                            mesh(tag, 20 + u16::from(k) * 40, 10 + u16::from(k))
                        })
                        .collect();
                    let list: Vec<(&[[u32; 2]], &[u32])> =
                        datas.iter().map(|(v, i)| (&v[..], &i[..])).collect();
                    let before = pool.len();
                    match pool.insert_batch(&list) {
                        Ok(handles) => live.extend(handles.into_iter().zip(datas)),
                        Err(e) => {
                            assert!(max_slabs != u32::MAX, "batch failed: {e}");
                            assert_eq!(pool.len(), before, "a refused batch changes nothing");
                        }
                    }
                }
                Op::Remove(k) if !live.is_empty() => {
                    let (h, _) = live.swap_remove(k % live.len());
                    pool.remove(h).unwrap();
                }
                Op::Remove(_) => {}
                Op::Commit => {
                    pool.commit_now().unwrap();
                }
                Op::Clear => {
                    pool.clear();
                    live.clear();
                }
                Op::Compact => match pool.compact(None) {
                    Ok(_) => assert!(!rebase, "a rebased pool compacted"),
                    Err(e) => assert!(rebase, "compaction failed: {e}"),
                },
            }
            if let Err(e) = pool.validate() {
                panic!("after {op:?}: {e}");
            }
        }
        assert_eq!(pool.len(), live.len());
        for (h, (vertices, indices)) in &live {
            let (v, i) = pool.read_mesh(*h).unwrap();
            assert_eq!(&v, vertices);
            let shift = if rebase {
                pool.read_mesh(*h).unwrap().1[0] - indices[0]
            } else {
                0
            };
            assert!(
                i.iter().zip(indices).all(|(s, o)| *s == o + shift),
                "indices read back as stored"
            );
        }
        pool.validate().unwrap();
    });
}

#[derive(Clone, Debug)]
enum RecordOp {
    /// A record of this many words.
    Insert(u16),
    /// The live object at this index (modulo the count) gets this many words.
    Update(usize, u16),
    /// The live object at this index (modulo the count).
    Remove(usize),
}

fn record_op() -> impl Strategy<Value = RecordOp> {
    prop_oneof![
        5 => (1u16..300).prop_map(RecordOp::Insert),
        2 => (any::<usize>(), 1u16..300).prop_map(|(k, n)| RecordOp::Update(k, n)),
        3 => any::<usize>().prop_map(RecordOp::Remove),
    ]
}

fn run_records(ops: &[RecordOp]) {
    on_every_adapter(|gpu| {
        let pool = BindlessPool::new(
            &gpu.device,
            &gpu.queue,
            &BindlessPoolDescriptor {
                initial_data_bytes: 512,
                initial_objects: 4,
                max_slab_bytes: 8 << 10,
                ..Default::default()
            },
        )
        .unwrap();
        let mut live: Vec<(ObjectId, Vec<u32>)> = Vec::new();
        let mut tag = 0u32;
        let record = |tag: u32, words: u16| -> Vec<u32> {
            (0..u32::from(words)).map(|w| tag << 16 | w).collect()
        };
        for op in ops {
            tag += 1;
            match *op {
                RecordOp::Insert(n) => {
                    let r = record(tag, n);
                    live.push((pool.insert(&r).unwrap(), r));
                }
                RecordOp::Update(k, n) if !live.is_empty() => {
                    let k = k % live.len();
                    let r = record(tag, n);
                    // A record that no longer fits its slab is refused; the old stays.
                    if pool.update(live[k].0, &r).is_ok() {
                        live[k].1 = r;
                    }
                }
                RecordOp::Remove(k) if !live.is_empty() => {
                    let (id, _) = live.swap_remove(k % live.len());
                    pool.remove(id).unwrap();
                }
                _ => {}
            }
            if let Err(e) = pool.validate() {
                panic!("after {op:?}: {e}");
            }
        }
        let walked = bindless_walk::run(&gpu.device, &gpu.queue, &pool).unwrap();
        for (id, r) in &live {
            assert_eq!(&pool.read(*id).unwrap(), r);
            assert_eq!(walked.of(*id), Some(bindless_walk::hash(r)));
        }
    });
}

#[derive(Clone, Debug)]
enum ObjectOp {
    /// An object of mesh `k` (modulo the live meshes), inside the view or not.
    Insert(usize, bool),
    /// The object at this index (modulo the count).
    Remove(usize),
    /// The mesh at this index: its objects become orphans.
    RemoveMesh(usize),
    /// The object at this index moves inside the view or out of it.
    Move(usize, bool),
    /// Compacts the mesh pool (meshes move; objects follow at the next cull).
    Compact,
    /// Culls, and checks the visible set read back.
    Cull,
}

fn object_op() -> impl Strategy<Value = ObjectOp> {
    prop_oneof![
        6 => (any::<usize>(), any::<bool>()).prop_map(|(k, v)| ObjectOp::Insert(k, v)),
        3 => any::<usize>().prop_map(ObjectOp::Remove),
        1 => any::<usize>().prop_map(ObjectOp::RemoveMesh),
        2 => (any::<usize>(), any::<bool>()).prop_map(|(k, v)| ObjectOp::Move(k, v)),
        1 => Just(ObjectOp::Compact),
        3 => Just(ObjectOp::Cull),
    ]
}

/// Bounds well inside the identity view (clip space) or well outside it.
fn bounds(k: usize, inside: bool) -> Bounds {
    let x = (k % 7) as f32 * 0.1 - 0.3;
    if inside {
        Bounds::sphere([x, -x, 0.5], 0.05)
    } else {
        Bounds::sphere([x + 5.0, 0.0, 0.5], 0.05)
    }
}

fn run_objects(ops: &[ObjectOp], path: fn(&gpu_arena::headless::Headless) -> CullPath) {
    on_every_adapter(|gpu| {
        let meshes =
            MeshPool::<[f32; 3], u32>::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
        let mut mesh_handles: Vec<(MeshHandle, bool)> = (0..6)
            .map(|k| {
                let v = [[k as f32; 3]; 5];
                (meshes.insert(&v, &[0, 1, 2, 2, 3, 4]).unwrap(), true)
            })
            .collect();
        let objects = ObjectPool::<u32>::new(
            &gpu.device,
            &gpu.queue,
            &gpu_arena::objects::ObjectPoolDescriptor {
                path: path(gpu),
                ..Default::default()
            },
        )
        .unwrap();
        // Each live object: handle, mesh index, inside the view.
        let mut live: Vec<(ObjectHandle, usize, bool)> = Vec::new();
        let identity = Frustum::from_view_projection([
            [1.0, 0.0, 0.0, 0.0],
            [0.0, 1.0, 0.0, 0.0],
            [0.0, 0.0, 1.0, 0.0],
            [0.0, 0.0, 0.0, 1.0],
        ]);
        for (n, op) in ops.iter().enumerate() {
            match *op {
                ObjectOp::Insert(k, inside) => {
                    let alive: Vec<usize> = (0..mesh_handles.len())
                        .filter(|&m| mesh_handles[m].1)
                        .collect();
                    if let Some(&m) = alive.get(k % alive.len().max(1)) {
                        let h = objects
                            .insert(&meshes, mesh_handles[m].0, bounds(n, inside), n as u32)
                            .unwrap();
                        live.push((h, m, inside));
                    }
                }
                ObjectOp::Remove(k) if !live.is_empty() => {
                    let (h, _, _) = live.swap_remove(k % live.len());
                    objects.remove(h).unwrap();
                }
                ObjectOp::RemoveMesh(k) => {
                    let m = k % mesh_handles.len();
                    if mesh_handles[m].1 {
                        meshes.remove(mesh_handles[m].0).unwrap();
                        mesh_handles[m].1 = false;
                    }
                }
                ObjectOp::Move(k, inside) if !live.is_empty() => {
                    let k = k % live.len();
                    objects.set_bounds(live[k].0, bounds(n, inside)).unwrap();
                    live[k].2 = inside;
                }
                ObjectOp::Compact => {
                    meshes.compact(None).unwrap();
                }
                ObjectOp::Cull => {
                    let mut encoder = gpu.device.create_command_encoder(&Default::default());
                    let report = objects.cull(&mut encoder, &meshes, &identity).unwrap();
                    gpu.queue.submit([encoder.finish()]);
                    let orphans = live.iter().filter(|o| !mesh_handles[o.1].1).count();
                    assert_eq!(report.orphans as usize, orphans, "after {op:?}");
                    let mut seen = objects.read_visible().unwrap();
                    let mut expected: Vec<ObjectHandle> = live
                        .iter()
                        .filter(|o| o.2 && mesh_handles[o.1].1)
                        .map(|o| o.0)
                        .collect();
                    seen.sort_by_key(|h| format!("{h:?}"));
                    expected.sort_by_key(|h| format!("{h:?}"));
                    assert_eq!(seen, expected, "visible after step {n}");
                }
                _ => {}
            }
            if let Err(e) = objects.validate().and_then(|()| meshes.validate()) {
                panic!("after {op:?}: {e}");
            }
        }
    });
}

/// Found by the property test: a compaction that emptied a slab into another,
/// then a batch that grew that other slab before the next commit, lost the moved
/// mesh (the growth copied only the bytes that inserts had written).
#[test]
fn a_batch_after_a_compaction_keeps_every_mesh() {
    use Op::*;
    run(
        &[
            Insert(437, 24),
            Insert(269, 146),
            Remove(10053626579167826282),
            Insert(250, 135),
            Insert(437, 148),
            Insert(425, 175),
            Remove(3762505561006641581),
            Insert(502, 123),
            Compact,
            Batch(5),
        ],
        false,
        u32::MAX,
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_pool_operations_keep_every_invariant(ops in prop::collection::vec(op(), 1..40)) {
        run(&ops, false, u32::MAX);
    }

    #[test]
    fn random_operations_on_a_pool_of_at_most_three_slabs_keep_every_invariant(ops in prop::collection::vec(op(), 1..40)) {
        run(&ops, false, 3);
    }

    #[test]
    fn random_record_operations_keep_every_bindless_invariant(ops in prop::collection::vec(record_op(), 1..60)) {
        run_records(&ops);
    }

    #[test]
    fn random_object_operations_keep_every_invariant_and_the_visible_set(ops in prop::collection::vec(object_op(), 1..50)) {
        run_objects(&ops, |gpu| CullPath::for_device(&gpu.device, &gpu.adapter));
    }

    #[test]
    fn random_object_operations_culled_on_the_cpu_keep_every_invariant(ops in prop::collection::vec(object_op(), 1..50)) {
        run_objects(&ops, |_| CullPath::Cpu);
    }

    #[test]
    fn random_operations_on_a_rebasing_pool_keep_every_invariant(ops in prop::collection::vec(op(), 1..40)) {
        run(&ops, true, u32::MAX);
    }
}
