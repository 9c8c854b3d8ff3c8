//! CPU benchmarks of `offset-alloc` against offset-allocator 0.2.0, xalloc's
//! `SysTlsf` and range-alloc, side by side in one process.
//!
//! * `churn/*`: a 2^30-unit heap, sizes log-uniform in 16..65536, churn that keeps
//!   10,000 to 20,000 allocations live, 2 million operations (range-alloc, which is
//!   O(n), runs the first 200,000). The stream is generated once with xorshift and
//!   replayed identically for every allocator; ours must match offset-allocator's
//!   offsets exactly (checked before timing).
//! * `construct/*`: `new(1 << 30)`.
//! * `refuse/*`: one refused request (1,001 units where the largest free regions hold
//!   1,000) with 1 and with 20,000 free regions: `try_allocate` stays bounded
//!   whatever the count (it probes at most 8 regions, and its error carries bin
//!   bounds); `try_allocate_exhaustive` pays for the 20,000 regions of the bin it
//!   scans; offset-allocator 0.2.0 refuses without probing.
//! * `--replay ours|theirs|null` (not criterion): replays the churn stream once, for
//!   counting instructions with callgrind (`benches/instructions.sh`); `null` is the
//!   harness alone, subtracted from the other two.
//! * `--ratio N` (not criterion): N interleaved replays of each allocator; prints the
//!   fastest of each and their ratio.
//! * A printed report (not timed): heap bytes each allocator holds per live
//!   allocation at the end of the churn, measured with a counting global allocator,
//!   and utilisation under same-size churn.

use std::hint::black_box;
use std::time::Duration;

use cap::Cap;
use criterion::{BatchSize, Criterion, Throughput};
use gpu_suballoc::Rng;

#[global_allocator]
static HEAP: Cap<std::alloc::System> = Cap::new(std::alloc::System, usize::MAX);

const HEAP_UNITS: u32 = 1 << 30;
const OPS: usize = 2_000_000;
const RANGE_ALLOC_OPS: usize = 200_000;
const FREE: u32 = 1 << 31;

/// The churn stream: an allocation is its size; a free is `FREE | index` into the
/// live list (swap-removed).
fn churn_stream(ops: usize) -> Vec<u32> {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut live = 0usize;
    let (low, high) = (16f64.ln(), 65536f64.ln());
    (0..ops)
        .map(|_| {
            let alloc = if live < 10_000 {
                true
            } else if live >= 20_000 {
                false
            } else {
                rng.next_u64() & 1 == 0
            };
            if alloc {
                live += 1;
                (low + (high - low) * rng.unit_f64()).exp() as u32
            } else {
                let index = (rng.next_u64() % live as u64) as u32;
                live -= 1;
                FREE | index
            }
        })
        .collect()
}

/// The allocators under test, behind one interface so the harness is identical.
/// Every wrapper is `#[inline(always)]`, so each crate's own inlining attributes
/// decide whether its `allocate`/`free` are inlined into the replay loop.
trait Subject {
    type Handle: Copy;
    fn alloc(&mut self, size: u32) -> Option<Self::Handle>;
    fn offset(&self, handle: &Self::Handle) -> u32;
    fn free(&mut self, handle: Self::Handle);
}

impl Subject for offset_alloc::Allocator {
    type Handle = offset_alloc::Allocation;
    #[inline(always)]
    fn alloc(&mut self, size: u32) -> Option<Self::Handle> {
        self.allocate(size)
    }
    #[inline(always)]
    fn offset(&self, handle: &Self::Handle) -> u32 {
        handle.offset
    }
    #[inline(always)]
    fn free(&mut self, handle: Self::Handle) {
        offset_alloc::Allocator::free(self, handle)
    }
}

impl Subject for offset_allocator::Allocator {
    type Handle = offset_allocator::Allocation;
    #[inline(always)]
    fn alloc(&mut self, size: u32) -> Option<Self::Handle> {
        self.allocate(size)
    }
    #[inline(always)]
    fn offset(&self, handle: &Self::Handle) -> u32 {
        handle.offset
    }
    #[inline(always)]
    fn free(&mut self, handle: Self::Handle) {
        offset_allocator::Allocator::free(self, handle)
    }
}

struct Xalloc(xalloc::SysTlsf<u32>, Vec<Option<xalloc::SysTlsfRegion>>);

impl Subject for Xalloc {
    type Handle = (u32, u32); // (slot in the region table, offset): regions are not Copy
    #[inline(always)]
    fn alloc(&mut self, size: u32) -> Option<(u32, u32)> {
        let (region, offset) = self.0.alloc(size)?;
        self.1.push(Some(region));
        Some(((self.1.len() - 1) as u32, offset))
    }
    #[inline(always)]
    fn offset(&self, handle: &(u32, u32)) -> u32 {
        handle.1
    }
    #[inline(always)]
    fn free(&mut self, handle: (u32, u32)) {
        let region = self.1[handle.0 as usize]
            .take()
            .expect("double free in benchmark");
        assert!(self.0.dealloc(region).is_ok(), "xalloc refused a region");
    }
}

struct RangeAlloc(range_alloc::RangeAllocator<u32>);

impl Subject for RangeAlloc {
    type Handle = (u32, u32);
    #[inline(always)]
    fn alloc(&mut self, size: u32) -> Option<(u32, u32)> {
        let r = self.0.allocate_range(size).ok()?;
        Some((r.start, r.end))
    }
    #[inline(always)]
    fn offset(&self, handle: &(u32, u32)) -> u32 {
        handle.0
    }
    #[inline(always)]
    fn free(&mut self, (start, end): (u32, u32)) {
        self.0.free_range(start..end)
    }
}

/// Replays `stream`, returning a checksum of the offsets handed out.
#[inline(never)]
fn replay<S: Subject>(subject: &mut S, stream: &[u32], live: &mut Vec<S::Handle>) -> u64 {
    let mut checksum = 0u64;
    for &op in stream {
        if op & FREE != 0 {
            let handle = live.swap_remove((op & !FREE) as usize);
            subject.free(handle);
        } else {
            let handle = subject.alloc(op).expect("benchmark heap never runs out");
            checksum = checksum
                .wrapping_mul(31)
                .wrapping_add(u64::from(subject.offset(&handle)));
            live.push(handle);
        }
    }
    checksum
}

/// The harness without an allocator: every request gets offset 0. Replaying it counts
/// what the replay loop itself costs.
struct Null(u32);

impl Subject for Null {
    type Handle = u32;
    #[inline(always)]
    fn alloc(&mut self, size: u32) -> Option<u32> {
        self.0 = black_box(self.0 ^ size);
        Some(0)
    }
    #[inline(always)]
    fn offset(&self, handle: &u32) -> u32 {
        *handle
    }
    #[inline(always)]
    fn free(&mut self, handle: u32) {
        self.0 = black_box(self.0 ^ handle);
    }
}

fn ours() -> offset_alloc::Allocator {
    offset_alloc::Allocator::new(HEAP_UNITS)
}
fn theirs() -> offset_allocator::Allocator {
    offset_allocator::Allocator::new(HEAP_UNITS)
}
fn xalloc() -> Xalloc {
    Xalloc(xalloc::SysTlsf::new(HEAP_UNITS), Vec::with_capacity(OPS))
}
fn range_alloc() -> RangeAlloc {
    RangeAlloc(range_alloc::RangeAllocator::new(0..HEAP_UNITS))
}

fn bench_churn(c: &mut Criterion, stream: &[u32]) {
    // Same decisions: identical offset checksums on the whole stream.
    let mut live = Vec::new();
    let a = replay(&mut ours(), stream, &mut live);
    live.clear();
    let b = replay(&mut theirs(), stream, &mut Vec::new());
    assert_eq!(
        a, b,
        "offset-alloc and offset-allocator made different decisions"
    );

    let mut group = c.benchmark_group("churn");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(6))
        .warm_up_time(Duration::from_secs(1));
    group.throughput(Throughput::Elements(stream.len() as u64));
    group.bench_function("offset-alloc", |bench| {
        bench.iter_batched_ref(
            || (ours(), Vec::with_capacity(20_001)),
            |(s, l)| black_box(replay(s, stream, l)),
            BatchSize::LargeInput,
        )
    });
    group.bench_function("offset-allocator", |bench| {
        bench.iter_batched_ref(
            || (theirs(), Vec::with_capacity(20_001)),
            |(s, l)| black_box(replay(s, stream, l)),
            BatchSize::LargeInput,
        )
    });
    group.bench_function("xalloc-SysTlsf", |bench| {
        bench.iter_batched_ref(
            || (xalloc(), Vec::with_capacity(20_001)),
            |(s, l)| black_box(replay(s, stream, l)),
            BatchSize::LargeInput,
        )
    });
    let short = &stream[..RANGE_ALLOC_OPS];
    group.throughput(Throughput::Elements(short.len() as u64));
    group.bench_function("range-alloc", |bench| {
        bench.iter_batched_ref(
            || (range_alloc(), Vec::with_capacity(20_001)),
            |(s, l)| black_box(replay(s, short, l)),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

/// An allocator of `regions * 1001` units holding `regions` free regions of 1,000
/// units between one-unit allocations, and nothing else free.
fn holes(regions: u32) -> offset_alloc::Allocator {
    let mut allocator = offset_alloc::Allocator::new(regions * 1001);
    let kept: Vec<_> = (0..regions)
        .map(|_| {
            let hole = allocator.allocate(1000).expect("fits");
            allocator.allocate(1).expect("fits");
            hole
        })
        .collect();
    for hole in kept {
        allocator.free(hole);
    }
    allocator
}

/// The same layout in offset-allocator 0.2.0, plus a free tail of 23 units: its
/// last `allocate(1000)` takes a region of 1,024 units, because it refuses 1,000
/// out of the 1,001 that ours takes them from (a request rounds up to the 1,024
/// bin, a region of 1,001 down to the 960 one).
fn their_holes(regions: u32) -> offset_allocator::Allocator {
    let mut allocator =
        offset_allocator::Allocator::with_max_allocs(regions * 1001 + 23, 2 * regions + 2);
    let kept: Vec<_> = (0..regions)
        .map(|_| {
            let hole = allocator.allocate(1000).expect("fits");
            allocator.allocate(1).expect("fits");
            hole
        })
        .collect();
    for hole in kept {
        allocator.free(hole);
    }
    allocator
}

fn bench_refuse(c: &mut Criterion) {
    let mut group = c.benchmark_group("refuse");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    for regions in [1u32, 20_000] {
        let mut allocator = holes(regions);
        assert!(allocator.try_allocate(1001).is_err());
        group.bench_function(format!("try_allocate/{regions}"), |bench| {
            bench.iter(|| black_box(allocator.try_allocate(black_box(1001)).is_err()))
        });
        group.bench_function(format!("try_allocate_exhaustive/{regions}"), |bench| {
            bench.iter(|| black_box(allocator.try_allocate_exhaustive(black_box(1001)).is_err()))
        });
        let mut theirs = their_holes(regions);
        assert!(theirs.allocate(1001).is_none());
        group.bench_function(format!("offset-allocator/{regions}"), |bench| {
            bench.iter(|| black_box(theirs.allocate(black_box(1001)).is_none()))
        });
    }
    group.finish();
}

fn bench_construct(c: &mut Criterion) {
    let mut group = c.benchmark_group("construct");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_millis(500));
    group.bench_function("offset-alloc", |bench| {
        bench.iter(|| black_box(offset_alloc::Allocator::<u32>::new(black_box(HEAP_UNITS))))
    });
    group.bench_function("offset-allocator", |bench| {
        bench.iter(|| {
            black_box(offset_allocator::Allocator::<u32>::new(black_box(
                HEAP_UNITS,
            )))
        })
    });
    group.finish();
}

/// Heap bytes a subject holds per live allocation after the whole churn stream.
fn heap_per_live<S: Subject>(make: impl FnOnce() -> S, stream: &[u32]) -> (f64, usize) {
    let mut live = Vec::with_capacity(20_001);
    let before = HEAP.allocated();
    let mut subject = make();
    replay(&mut subject, stream, &mut live);
    let bytes = HEAP.allocated() - before;
    let count = live.len();
    drop(subject);
    (bytes as f64 / count as f64, count)
}

/// Lowest used/total seen while repeatedly freeing one random allocation and refilling
/// with the same size until the heap refuses.
fn same_size_utilisation<S: Subject>(mut subject: S, size: u32, rounds: usize) -> f64 {
    const TOTAL: f64 = (1u32 << 24) as f64;
    let mut live = Vec::new();
    while let Some(h) = subject.alloc(size) {
        live.push(h);
    }
    let mut lowest = live.len() as f64 * f64::from(size) / TOTAL;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..rounds {
        let victim = live.swap_remove((rng.next_u64() % live.len() as u64) as usize);
        subject.free(victim);
        while let Some(h) = subject.alloc(size) {
            live.push(h);
        }
        lowest = lowest.min(live.len() as f64 * f64::from(size) / TOTAL);
    }
    lowest
}

fn report(stream: &[u32]) {
    println!(
        "\n== metadata: heap bytes per live allocation after {} churn operations ==",
        stream.len()
    );
    let (o, n) = heap_per_live(ours, stream);
    let (t, _) = heap_per_live(theirs, stream);
    let (x, _) = heap_per_live(xalloc, stream);
    println!("live allocations: {n}");
    println!(
        "offset-alloc       {o:8.1} B/live  ({} B per node)",
        offset_alloc::Allocator::<u32>::NODE_BYTES
    );
    println!("offset-allocator   {t:8.1} B/live  (nodes preallocated for 128 Ki)");
    println!("xalloc-SysTlsf     {x:8.1} B/live  (its region table included)");

    println!(
        "\n== utilisation under same-size churn: lowest used/total, 2^24 units, 4000 rounds =="
    );
    println!(
        "{:>6} {:>17} {:>13} {:>20}",
        "size", "offset-allocator", "offset-alloc", "offset-alloc BinSize"
    );
    let max_allocs = 1 << 19; // enough nodes for 2^24 / 81 allocations, for all three
    for size in [81u32, 529, 921, 1023, 4113, 32785] {
        let theirs = same_size_utilisation(
            offset_allocator::Allocator::<u32>::with_max_allocs(1 << 24, max_allocs),
            size,
            4000,
        );
        let ours = same_size_utilisation(
            offset_alloc::Allocator::<u32>::with_max_allocs(1 << 24, max_allocs),
            size,
            4000,
        );
        let options = offset_alloc::AllocatorOptions {
            max_allocs: Some(max_allocs),
            rounding: offset_alloc::Rounding::BinSize,
            ..Default::default()
        };
        let binned = same_size_utilisation(
            offset_alloc::Allocator::<u32>::with_options(1 << 24, options).unwrap(),
            size,
            4000,
        );
        println!("{size:>6} {theirs:>17.4} {ours:>13.4} {binned:>20.4}");
    }
    println!();
}

fn main() {
    if std::env::args().any(|a| a == "--test") {
        // `cargo test --benches`: check the harness agrees with itself, quickly.
        let stream = churn_stream(20_000);
        assert_eq!(
            replay(&mut ours(), &stream, &mut Vec::new()),
            replay(&mut theirs(), &stream, &mut Vec::new())
        );
        return;
    }
    let args: Vec<String> = std::env::args().collect();
    if let Some(k) = args.iter().position(|a| a == "--replay") {
        // One replay for an instruction counter; prints the checksum so nothing is elided.
        let stream = churn_stream(OPS);
        let mut live = Vec::with_capacity(20_001);
        let checksum = match args.get(k + 1).map(String::as_str) {
            Some("ours") => replay(&mut ours(), &stream, &mut live),
            Some("theirs") => replay(&mut theirs(), &stream, &mut Vec::with_capacity(20_001)),
            Some("null") => replay(&mut Null(0), &stream, &mut Vec::with_capacity(20_001)),
            other => panic!("--replay takes ours, theirs or null, not {other:?}"),
        };
        println!("replayed {} operations, checksum {checksum}", stream.len());
        return;
    }
    if let Some(k) = args.iter().position(|a| a == "--ratio") {
        // Interleaved replays, fastest of each: the minimum is what a noisy, shared
        // machine distorts least.
        let rounds: usize = args.get(k + 1).and_then(|n| n.parse().ok()).unwrap_or(20);
        let stream = churn_stream(OPS);
        let (mut best_ours, mut best_theirs) = (f64::MAX, f64::MAX);
        for _ in 0..rounds {
            let mut live = Vec::with_capacity(20_001);
            let mut subject = ours();
            let start = std::time::Instant::now();
            black_box(replay(&mut subject, &stream, &mut live));
            best_ours = best_ours.min(start.elapsed().as_secs_f64());
            let mut live = Vec::with_capacity(20_001);
            let mut subject = theirs();
            let start = std::time::Instant::now();
            black_box(replay(&mut subject, &stream, &mut live));
            best_theirs = best_theirs.min(start.elapsed().as_secs_f64());
        }
        let per_op = |t: f64| t * 1e9 / stream.len() as f64;
        println!(
            "fastest of {rounds} interleaved replays: offset-alloc {:.2} ns/op, offset-allocator {:.2} ns/op, ratio {:.3}",
            per_op(best_ours),
            per_op(best_theirs),
            best_ours / best_theirs
        );
        return;
    }
    let stream = churn_stream(OPS);
    report(&stream);
    let mut c = Criterion::default().configure_from_args();
    bench_churn(&mut c, &stream);
    bench_construct(&mut c);
    bench_refuse(&mut c);
    c.final_summary();
}
