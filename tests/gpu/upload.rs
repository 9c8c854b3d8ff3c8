//! Batched uploads (`UploadBatch`): coalesced copies that land exactly as individual
//! writes would, across growth, overlaps and stale handles.

use gpu_arena::headless::Headless;
use gpu_arena::{Arena, ArenaDescriptor, ArenaError, ArenaHandle};
use gpu_suballoc::{Rng, on_every_adapter};

fn arena(gpu: &Headless, desc: ArenaDescriptor<'_>) -> Arena {
    Arena::new(&gpu.device, &gpu.queue, &desc).expect("arena")
}

fn bytes_of(arena: &Arena, all: &[u8], h: ArenaHandle) -> Vec<u8> {
    let r = arena.range(h).unwrap();
    all[r.offset as usize..(r.offset + r.len) as usize].to_vec()
}

#[test]
fn batched_writes_give_the_same_contents_as_individual_writes() {
    on_every_adapter(|gpu| {
        let one = arena(gpu, ArenaDescriptor::default());
        let two = arena(gpu, ArenaDescriptor::default());
        let mut rng = Rng(5);
        let sizes: Vec<u64> = (0..300).map(|_| 1 + rng.below(300)).collect();
        let a: Vec<_> = sizes.iter().map(|s| one.alloc(*s).unwrap()).collect();
        let b: Vec<_> = sizes.iter().map(|s| two.alloc(*s).unwrap()).collect();
        let mut batch = two.batch();
        for _ in 0..2000 {
            let k = rng.below(sizes.len() as u64) as usize;
            let len = sizes[k];
            // Whole allocations (odd lengths padded inside) or aligned word ranges.
            let (offset, data) = if rng.below(2) == 0 {
                (
                    0,
                    (0..len).map(|_| rng.next_u64() as u8).collect::<Vec<u8>>(),
                )
            } else if len >= 4 {
                let words = len / 4;
                let at = 4 * rng.below(words);
                let n = 4 * (1 + rng.below((len - at) / 4));
                (at, (0..n).map(|_| rng.next_u64() as u8).collect())
            } else {
                continue;
            };
            one.write(a[k], offset, &data).unwrap();
            batch.write(b[k], offset, &data).unwrap();
        }
        let report = batch.submit().unwrap();
        assert!(report.copies < report.writes, "{report:?}");
        let (all_one, all_two) = (one.read_all().unwrap(), two.read_all().unwrap());
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(bytes_of(&one, &all_one, *x), bytes_of(&two, &all_two, *y));
        }
    });
}

#[test]
fn adjacent_writes_become_one_copy_and_gaps_are_not_bridged() {
    on_every_adapter(|gpu| {
        let arena = arena(gpu, ArenaDescriptor::default());
        let hs: Vec<_> = (0..64).map(|_| arena.alloc(256).unwrap()).collect();
        let mut batch = arena.batch();
        for (i, h) in hs.iter().enumerate().rev() {
            batch.write(*h, 0, &[i as u8; 256]).unwrap(); // out of order: sorted at submit
        }
        assert_eq!(batch.submit().unwrap().copies, 1);
        let mut batch = arena.batch();
        for (i, h) in hs.iter().enumerate().step_by(2) {
            batch.write(*h, 0, &[100 + i as u8; 256]).unwrap();
        }
        assert_eq!(
            batch.submit().unwrap().copies,
            32,
            "every other allocation: no merging over gaps"
        );
        for (i, h) in hs.iter().enumerate() {
            let expected = if i % 2 == 0 { 100 + i as u8 } else { i as u8 };
            assert_eq!(
                arena.read(*h).unwrap(),
                vec![expected; 256],
                "allocation {i}"
            );
        }
    });
}

#[test]
fn a_batch_lands_correctly_when_the_arena_grows_before_submit() {
    on_every_adapter(|gpu| {
        let arena = arena(
            gpu,
            ArenaDescriptor {
                initial_size: 256,
                ..Default::default()
            },
        );
        let first = arena.alloc_slice(&[1u8; 64]).unwrap();
        let mut batch = arena.batch();
        batch.write(first.raw(), 0, &[9; 64]).unwrap();
        let grown = arena.alloc_slice(&[2u8; 4096]).unwrap(); // grows the buffer
        assert!(arena.stats().growth_count > 0);
        batch.write(grown.raw(), 4092, &[3; 4]).unwrap();
        batch.submit().unwrap();
        assert_eq!(arena.read(first).unwrap(), [9; 64]);
        let g = arena.read(grown).unwrap();
        assert_eq!((g[0], g[4091], g[4092]), (2, 2, 3));
    });
}

#[test]
fn overlapping_writes_in_one_batch_apply_in_order() {
    on_every_adapter(|gpu| {
        let arena = arena(gpu, ArenaDescriptor::default());
        let h = arena.alloc(16).unwrap();
        let mut batch = arena.batch();
        batch.write(h, 0, &[1; 16]).unwrap();
        batch.write(h, 4, &[2; 8]).unwrap();
        batch.write(h, 8, &[3; 4]).unwrap();
        batch.submit().unwrap();
        assert_eq!(
            arena.read(h).unwrap(),
            [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 1, 1, 1, 1]
        );
    });
}

#[test]
fn a_batch_with_a_freed_handle_uploads_nothing() {
    on_every_adapter(|gpu| {
        let arena = arena(gpu, ArenaDescriptor::default());
        let a = arena.alloc_slice(&[0u8; 8]).unwrap();
        let b = arena.alloc_slice(&[0u8; 8]).unwrap();
        let mut batch = arena.batch();
        batch.write(a.raw(), 0, &[1; 8]).unwrap();
        batch.write(b.raw(), 0, &[2; 8]).unwrap();
        arena.free(b).unwrap();
        assert!(matches!(
            batch.submit(),
            Err(ArenaError::StaleHandle { .. })
        ));
        assert_eq!(arena.read(a).unwrap(), [0; 8]);
    });
}

#[test]
fn borrowed_and_copied_writes_mix_with_padding_and_overlaps() {
    on_every_adapter(|gpu| {
        let arena = arena(gpu, ArenaDescriptor::default());
        let a = arena.alloc(7).unwrap();
        let b = arena.alloc(16).unwrap();
        let odd = vec![5u8; 7];
        let words = vec![6u8; 16];
        let mut batch = arena.batch();
        batch.write_borrowed(a, 0, &odd).unwrap(); // odd length, padded inside
        batch.write_borrowed(b, 0, &words).unwrap();
        batch.write(b, 4, &[9; 8]).unwrap(); // overlaps the borrowed write: later wins
        assert!(batch.write_borrowed(b, 2, &words[..4]).is_err());
        let report = batch.submit().unwrap();
        assert_eq!(report.copies, 1, "a and b are adjacent: one interval");
        assert_eq!(arena.read(a).unwrap(), odd);
        assert_eq!(
            arena.read(b).unwrap(),
            [6, 6, 6, 6, 9, 9, 9, 9, 9, 9, 9, 9, 6, 6, 6, 6]
        );
    });
}
