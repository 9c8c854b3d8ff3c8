//! CPU benchmarks of `offset-alloc` against offset-allocator 0.2.0, xalloc's
//! `SysTlsf` and range-alloc, side by side in one process.
//!
//! * `churn/*`: a 2^30-unit heap, sizes log-uniform in 16..65536, churn that keeps
//!   10,000 to 20,000 allocations live, 2 million operations (range-alloc, which is
//!   O(n), runs the first 200,000). The stream is generated once with xorshift and
//!   replayed identically for every allocator; ours must match offset-allocator's
//!   offsets exactly (checked before timing).
//! * `construct/*`: `new(1 << 30)`.
//! * A printed report (not timed): heap bytes each allocator holds per live
//!   allocation at the end of the churn, measured with a counting global allocator,
//!   and utilisation under same-size churn.

use std::hint::black_box;
use std::time::Duration;

use cap::Cap;
use criterion::{BatchSize, Criterion, Throughput};

#[global_allocator]
static HEAP: Cap<std::alloc::System> = Cap::new(std::alloc::System, usize::MAX);

const HEAP_UNITS: u32 = 1 << 30;
const OPS: usize = 2_000_000;
const RANGE_ALLOC_OPS: usize = 200_000;
const FREE: u32 = 1 << 31;

/// Deterministic xorshift64 generator.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Uniform in 0..1.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The churn stream: an allocation is its size; a free is `FREE | index` into the
/// live list (swap-removed).
fn churn_stream(ops: usize) -> Vec<u32> {
    let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
    let mut live = 0usize;
    let (low, high) = (16f64.ln(), 65536f64.ln());
    (0..ops)
        .map(|_| {
            let alloc = if live < 10_000 {
                true
            } else if live >= 20_000 {
                false
            } else {
                rng.next() & 1 == 0
            };
            if alloc {
                live += 1;
                (low + (high - low) * rng.unit()).exp() as u32
            } else {
                let index = (rng.next() % live as u64) as u32;
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
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for _ in 0..rounds {
        let victim = live.swap_remove((rng.next() % live.len() as u64) as usize);
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
    let stream = churn_stream(OPS);
    report(&stream);
    let mut c = Criterion::default().configure_from_args();
    bench_churn(&mut c, &stream);
    bench_construct(&mut c);
    c.final_summary();
}
