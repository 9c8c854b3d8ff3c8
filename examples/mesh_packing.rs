//! The project's main job: pack a few thousand varied meshes into one `MeshPool`,
//! render them headless into an offscreen texture with one indirect draw, write the
//! picture to a PNG file and print a summary.
//!
//! ```sh
//! cargo run --release --example mesh_packing -- --meshes 3000 --output out/mesh_packing.png
//! ```
//! Runs on any adapter, including Mesa's software ones (`--backend vulkan` or `gl`).

use std::path::PathBuf;
use std::time::Instant;

use clap::{Parser, ValueEnum};
use gpu_arena::headless::{Headless, HeadlessDescriptor};
use gpu_arena::mesh_pool::{MeshPool, MeshPoolDescriptor};
use gpu_suballoc::scene::{self, ColorVertex, Renderer};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Backend {
    Vulkan,
    Gl,
    Dx12,
    Metal,
    Any,
}

/// Pack meshes into mega-buffers and render them with one indirect draw.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Number of meshes to generate and pack.
    #[arg(long, default_value_t = 3000)]
    meshes: usize,
    /// Image width in pixels.
    #[arg(long, default_value_t = 1024)]
    width: u32,
    /// Image height in pixels.
    #[arg(long, default_value_t = 1024)]
    height: u32,
    /// Where to write the PNG.
    #[arg(long, default_value = "out/mesh_packing.png")]
    output: PathBuf,
    /// Graphics backend (default: WGPU_BACKEND, else any).
    #[arg(long, value_enum)]
    backend: Option<Backend>,
    /// Seed of the mesh generator.
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
    if args.meshes == 0 || args.width == 0 || args.height == 0 {
        return Err("--meshes, --width and --height must be at least 1".into());
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

    eprintln!("[2/5] generating {} meshes", args.meshes);
    let start = Instant::now();
    let meshes = scene::generate_meshes(args.meshes, args.seed);
    let generate_ms = ms(start);
    let vertex_count: usize = meshes.iter().map(|m| m.vertices.len()).sum();
    let index_count: usize = meshes.iter().map(|m| m.indices.len()).sum();

    eprintln!("[3/5] packing into a mesh pool");
    let pool: MeshPool<ColorVertex, u32> = MeshPool::new(
        &gpu.device,
        &gpu.queue,
        &MeshPoolDescriptor {
            label: Some("mesh_packing"),
            initial_vertex_bytes: 1 << 20,
            initial_index_bytes: 256 << 10,
            initial_meshes: 256,
            ..Default::default()
        },
    )?;
    let start = Instant::now();
    let step = (meshes.len() / 10).max(1);
    for (i, mesh) in meshes.iter().enumerate() {
        pool.insert(&mesh.vertices, &mesh.indices)?;
        if (i + 1) % step == 0 || i + 1 == meshes.len() {
            eprint!(
                "\r      {:>3}% ({} meshes)",
                (i + 1) * 100 / meshes.len(),
                i + 1
            );
        }
    }
    eprintln!();
    let pack_ms = ms(start);
    let start = Instant::now();
    pool.commit_now()?; // lands every staged insert with a few merged copies
    gpu.device.poll(wgpu::PollType::wait_indefinitely())?;
    let upload_ms = ms(start);

    eprintln!(
        "[4/5] rendering {}x{} with {}",
        args.width,
        args.height,
        gpu.describe()
    );
    let renderer = Renderer::new(&gpu.device, args.width, args.height);
    let start = Instant::now();
    let mut draw_result = Ok(0);
    renderer.render(&gpu.device, &gpu.queue, |pass| {
        draw_result = pool.draw(pass, 0);
        0
    });
    let draw_calls = draw_result?;
    let index = gpu.queue.submit([]);
    gpu.device.poll(wgpu::PollType::Wait {
        submission_index: Some(index),
        timeout: None,
    })?;
    let render_ms = ms(start);

    eprintln!("[5/5] writing {}", args.output.display());
    let start = Instant::now();
    let pixels = renderer.read_pixels(&gpu.device, &gpu.queue);
    scene::write_png(&args.output, args.width, args.height, &pixels)?;
    let write_ms = ms(start);

    let stats = pool.stats();
    println!("adapter      {}", gpu.describe());
    println!(
        "meshes       {} ({} vertices, {} indices)",
        stats.meshes, vertex_count, index_count
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
        "draw calls   {draw_calls} ({})",
        if pool.uses_indirect() {
            "multi_draw_indexed_indirect"
        } else {
            "one draw_indexed per mesh"
        }
    );
    println!(
        "timings      generate {generate_ms:.1} ms, pack {pack_ms:.1} ms, upload {upload_ms:.1} ms, render {render_ms:.1} ms, readback+png {write_ms:.1} ms"
    );
    println!(
        "image        {} ({}x{})",
        args.output.display(),
        args.width,
        args.height
    );
    Ok(())
}
