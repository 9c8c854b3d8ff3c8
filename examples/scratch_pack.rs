//! scratch
use gpu_arena::mesh_pool::*;
use std::time::Instant;
type V = [f32; 8];
fn main() {
    let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    let mut seed = 0x5EEDu64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut vs: Vec<Vec<V>> = vec![];
    let mut is: Vec<Vec<u32>> = vec![];
    for _ in 0..10000 {
        let n = 24 + (next() % 489) as u32;
        vs.push((0..n).map(|k| [k as f32; 8]).collect());
        is.push((0..n * 3 / 2).map(|k| (k * 7) % n).collect());
    }
    let list: Vec<(&[V], &[u32])> = vs.iter().zip(&is).map(|(v, i)| (&v[..], &i[..])).collect();
    let warm: MeshPool<V, u32> = MeshPool::new(
        &gpu.device,
        &gpu.queue,
        &MeshPoolDescriptor {
            initial_vertex_bytes: 96 << 20,
            initial_index_bytes: 32 << 20,
            initial_meshes: 10000,
            ..Default::default()
        },
    )
    .unwrap();
    for it in 0..4 {
        let t0 = Instant::now();
        warm.clear();
        warm.insert_batch(&list).unwrap();
        gpu.queue.submit([]);
        gpu.device
            .poll(wgpu::PollType::wait_indefinitely())
            .unwrap();
        println!("warm it {it}: {:.1} ms", t0.elapsed().as_secs_f64() * 1e3);
    }
    for it in 0..4 {
        let t0 = Instant::now();
        let pool: MeshPool<V, u32> = MeshPool::new(
            &gpu.device,
            &gpu.queue,
            &MeshPoolDescriptor {
                initial_vertex_bytes: 96 << 20,
                initial_index_bytes: 32 << 20,
                initial_meshes: 10000,
                ..Default::default()
            },
        )
        .unwrap();
        let t1 = Instant::now();
        pool.insert_batch(&list).unwrap();
        let t2 = Instant::now();
        gpu.queue.submit([]);
        gpu.device
            .poll(wgpu::PollType::wait_indefinitely())
            .unwrap();
        let t3 = Instant::now();
        drop(pool);
        println!(
            "it {it}: new {:.1} ms, insert_batch {:.1} ms, gpu wait {:.1} ms",
            (t1 - t0).as_secs_f64() * 1e3,
            (t2 - t1).as_secs_f64() * 1e3,
            (t3 - t2).as_secs_f64() * 1e3
        );
    }
}
