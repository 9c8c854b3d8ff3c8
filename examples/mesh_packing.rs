//! The project's main job: a 3D scene of tens of thousands of objects built from a
//! few hundred procedural meshes (spheres, tori, boxes, cylinders, rocks) and any
//! models given with `--model`, packed into one `MeshPool`, culled on the GPU against
//! a perspective camera and drawn with one indirect call per slab, headless, with a
//! depth buffer and simple lighting. Writes the picture to a PNG file and prints a
//! summary, including the per-frame cost of the GPU-driven frame.
//!
//! ```sh
//! cargo run --release --example mesh_packing -- --objects 20000 --output out/mesh_packing.png
//! cargo run --release --example mesh_packing -- --model teapot.obj --model helmet.glb
//! ```
//! Runs on any adapter, including Mesa's software ones (`--backend vulkan` or `gl`).

use std::path::PathBuf;
use std::time::Instant;

use clap::{Parser, ValueEnum};
use gpu_arena::headless::{Headless, HeadlessDescriptor};
use gpu_arena::objects::CullPath;
use gpu_suballoc::packed::PackedScene;
use gpu_suballoc::shapes::{self, Mesh3};
use gpu_suballoc::{models, scene};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Backend {
    Vulkan,
    Gl,
    Dx12,
    Metal,
    Any,
}

/// Pack meshes into mega-buffers and draw a 3D scene of them GPU-driven.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Objects to place (each a mesh with a transform and a colour).
    #[arg(long, default_value_t = 20_000)]
    objects: usize,
    /// Procedural meshes to generate and pack.
    #[arg(long, default_value_t = 300)]
    meshes: usize,
    /// A glTF (.gltf, .glb) or OBJ model to pack and place as well (repeatable).
    #[arg(long)]
    model: Vec<PathBuf>,
    /// Image width in pixels.
    #[arg(long, default_value_t = 1280)]
    width: u32,
    /// Image height in pixels.
    #[arg(long, default_value_t = 720)]
    height: u32,
    /// Frames to time after the first.
    #[arg(long, default_value_t = 5)]
    frames: u32,
    /// Where to write the PNG.
    #[arg(long, default_value = "out/mesh_packing.png")]
    output: PathBuf,
    /// Graphics backend (default: WGPU_BACKEND, else any).
    #[arg(long, value_enum)]
    backend: Option<Backend>,
    /// Seed of the scene generator.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let args = Args::parse();
    if args.meshes + args.model.len() == 0 || args.width == 0 || args.height == 0 {
        return Err("--meshes (or a --model), --width and --height must be at least 1".into());
    }

    eprintln!("[1/5] opening a headless device");
    let backends = args.backend.map(|b| match b {
        Backend::Vulkan => wgpu::Backends::VULKAN,
        Backend::Gl => wgpu::Backends::GL,
        Backend::Dx12 => wgpu::Backends::DX12,
        Backend::Metal => wgpu::Backends::METAL,
        Backend::Any => wgpu::Backends::all(),
    });
    let gpu = Headless::new(&HeadlessDescriptor {
        backends,
        label: "mesh_packing",
        ..Default::default()
    })?;
    let max_side = gpu.device.limits().max_texture_dimension_2d;
    if args.width > max_side || args.height > max_side {
        return Err(format!(
            "image {}x{} exceeds the adapter's {max_side} pixel limit",
            args.width, args.height
        )
        .into());
    }

    eprintln!(
        "[2/5] generating {} meshes, loading {} models",
        args.meshes,
        args.model.len()
    );
    let start = Instant::now();
    let mut meshes: Vec<Mesh3> = shapes::generate(args.meshes, args.seed);
    let mut groups: Vec<(Vec<usize>, f32)> = (0..meshes.len())
        .map(|k| (vec![k], meshes[k].radius))
        .collect();
    for path in &args.model {
        let loaded = models::load(path)?;
        eprintln!(
            "      {}: {} primitives, {} triangles",
            path.display(),
            loaded.len(),
            loaded.iter().map(|m| m.indices.len() / 3).sum::<usize>()
        );
        let first = meshes.len();
        let radius = loaded.iter().map(|m| m.radius).fold(0.0, f32::max);
        meshes.extend(loaded);
        groups.push(((first..meshes.len()).collect(), radius));
    }
    let generate_ms = ms(start);
    let vertex_count: usize = meshes.iter().map(|m| m.vertices.len()).sum();
    let index_count: usize = meshes.iter().map(|m| m.indices.len()).sum();

    eprintln!(
        "[3/5] packing {} meshes into a mesh pool, placing {} objects",
        meshes.len(),
        args.objects
    );
    let start = Instant::now();
    let mut scene = PackedScene::new(
        &gpu.device,
        &gpu.queue,
        &meshes,
        &groups,
        args.objects,
        CullPath::for_device(&gpu.device, &gpu.adapter),
        (args.width, args.height),
        args.seed,
    )?;
    gpu.device.poll(wgpu::PollType::wait_indefinitely())?;
    let pack_ms = ms(start);

    eprintln!(
        "[4/5] rendering {}x{} with {}",
        args.width,
        args.height,
        gpu.describe()
    );
    // One frame: cull into the encoder, draw in the pass, submit, wait.
    let mut frame = || -> Result<(f64, f64, u32, u32), Box<dyn std::error::Error>> {
        let start = Instant::now();
        let mut encoder = gpu.device.create_command_encoder(&Default::default());
        let done = scene.record(&gpu.device, &gpu.queue, &mut encoder)?;
        let index = gpu.queue.submit([encoder.finish()]);
        let cpu_ms = ms(start);
        gpu.device.poll(wgpu::PollType::Wait {
            submission_index: Some(index),
            timeout: None,
        })?;
        Ok((cpu_ms, ms(start), done.calls, done.cull.workgroups))
    };
    let (first_cpu, first_total, calls, workgroups) = frame()?;
    let mut cpu = Vec::new();
    let mut total = Vec::new();
    for _ in 0..args.frames {
        let (c, t, _, _) = frame()?;
        cpu.push(c);
        total.push(t);
    }
    let median = |v: &mut Vec<f64>, fallback: f64| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(fallback)
    };
    let (cpu_ms, frame_ms) = (median(&mut cpu, first_cpu), median(&mut total, first_total));
    let (pool, objects) = (&scene.pool, &scene.objects);
    let visible = objects.read_visible()?.len();

    eprintln!("[5/5] writing {}", args.output.display());
    let start = Instant::now();
    let pixels = scene.renderer.read_pixels(&gpu.device, &gpu.queue);
    scene::write_png(&args.output, args.width, args.height, &pixels)?;
    let write_ms = ms(start);

    let stats = pool.stats();
    println!("adapter      {}", gpu.describe());
    println!(
        "meshes       {} ({} vertices, {} indices; {} from models)",
        stats.meshes,
        vertex_count,
        index_count,
        meshes.len() - args.meshes
    );
    let used = stats.vertex_bytes + stats.index_bytes;
    println!(
        "slabs        {} ({} dedicated): {:.2} MiB of vertices, {:.2} MiB of indices in {:.2} MiB of buffers, fill ratio {:.3}",
        stats.slabs,
        stats.dedicated_slabs,
        mib(stats.vertex_bytes),
        mib(stats.index_bytes),
        mib(stats.capacity),
        used as f64 / stats.capacity as f64
    );
    println!(
        "objects      {} placed: {visible} visible, {} culled",
        objects.len(),
        objects.len() - visible
    );
    let path = match objects.path() {
        CullPath::Counted(_) => "GPU culling, one multi_draw_indexed_indirect_count per slab",
        CullPath::ZeroInstances(_) => {
            "GPU culling, one multi_draw_indexed_indirect per slab (culled slots draw nothing)"
        }
        _ => "CPU culling, one draw_indexed per visible object",
    };
    println!("draw calls   {calls} per frame ({path}; {workgroups} culling workgroups)");
    println!(
        "per frame    CPU {cpu_ms:.2} ms to cull, encode and submit; {frame_ms:.2} ms until the GPU is done (median of {} frames)",
        args.frames.max(1)
    );
    println!(
        "timings      generate {generate_ms:.1} ms, pack and place {pack_ms:.1} ms, first frame {first_total:.1} ms, readback+png {write_ms:.1} ms"
    );
    println!(
        "image        {} ({}x{})",
        args.output.display(),
        args.width,
        args.height
    );
    Ok(())
}
