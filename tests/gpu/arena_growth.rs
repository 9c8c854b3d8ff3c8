//! GPU tests of arena growth: data queued before and after a growth lands, offsets
//! stay, and growth past the arena's or the device's limit is refused with a typed
//! error that changes nothing.

use gpu_arena::{Arena, ArenaDescriptor, ArenaError};
use gpu_suballoc::{Rng, on_every_adapter};

use crate::arena::arena;

#[test]
fn growth_keeps_uploads_queued_before_and_after_it() {
    on_every_adapter(|gpu| {
        let arena = arena(
            gpu,
            ArenaDescriptor {
                label: Some("growth"),
                initial_size: 256,
                ..Default::default()
            },
        );
        let mut rng = Rng(7);
        let mut expected = Vec::new();
        // No submit happens between these uploads: the ones before the growth are still
        // pending writes when the growth copy is submitted.
        for _ in 0..200 {
            let len = 4 * (1 + rng.below(30) as usize);
            let data = rng.bytes(len);
            expected.push((arena.alloc_slice(&data).unwrap(), data));
        }
        let stats = arena.stats();
        assert!(stats.growth_count >= 3, "{stats}");
        assert_eq!(stats.buffer_generation, stats.growth_count);
        // Rewrite a few early allocations after the growth.
        for (h, data) in expected.iter_mut().take(20) {
            data.iter_mut().for_each(|b| *b = b.wrapping_add(1));
            arena.write(*h, 0, data).unwrap();
        }
        for (h, data) in &expected {
            assert_eq!(&arena.read(*h).unwrap(), data);
        }
    });
}

#[test]
fn growth_keeps_every_offset() {
    on_every_adapter(|gpu| {
        let arena = arena(
            gpu,
            ArenaDescriptor {
                initial_size: 64,
                ..Default::default()
            },
        );
        let a = arena.alloc_slice(&[5u32; 8]).unwrap();
        let before = arena.range(a).unwrap();
        let generation = arena.buffer_generation();
        let b = arena.alloc_slice(&[6u32; 64]).unwrap();
        assert!(arena.buffer_generation() > generation);
        assert_eq!(arena.range(a).unwrap(), before);
        assert_eq!(arena.read_slice(a).unwrap(), [5; 8]);
        assert_eq!(arena.read_slice(b).unwrap(), [6; 64]);
    });
}

#[test]
fn growth_is_refused_at_the_maximum_with_a_typed_error() {
    on_every_adapter(|gpu| {
        let arena = arena(
            gpu,
            ArenaDescriptor {
                initial_size: 256,
                max_size: 1024,
                ..Default::default()
            },
        );
        let kept: Vec<_> = (0..4)
            .map(|i| arena.alloc_slice(&[i as u8; 200]).unwrap())
            .collect();
        match arena.alloc(400) {
            Err(ArenaError::OutOfSpace {
                requested: 400,
                capacity: 1024,
                max_size: 1024,
                limit: gpu_arena::Limit::MaxSize,
                available,
                ..
            }) => assert!(available < 400),
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            arena.alloc(2048),
            Err(ArenaError::OverLimit {
                requested: 2048,
                limit: 1024,
                ..
            })
        ));
        for (i, h) in kept.iter().enumerate() {
            assert_eq!(
                arena.read_slice(*h).unwrap(),
                vec![i as u8; 200],
                "nothing stored is lost"
            );
        }
    });
}

#[test]
fn growth_that_cannot_help_is_refused_without_growing() {
    on_every_adapter(|gpu| {
        let arena = arena(
            gpu,
            ArenaDescriptor {
                initial_size: 256,
                max_size: 1024,
                ..Default::default()
            },
        );
        let kept = arena.alloc_slice(&[7u8; 200]).unwrap();
        // 200 used at the front: at most 824 bytes can ever follow.
        assert!(matches!(
            arena.alloc(900),
            Err(ArenaError::OutOfSpace {
                requested: 900,
                capacity: 256,
                ..
            })
        ));
        assert_eq!(
            arena.stats().growth_count,
            0,
            "the buffer was not grown in vain"
        );
        assert!(
            arena.alloc(824).is_ok(),
            "the exact remainder still fits after growing"
        );
        assert_eq!(arena.read_slice(kept).unwrap(), [7; 200]);
    });
}

#[test]
fn arena_larger_than_the_device_limit_is_refused() {
    on_every_adapter(|gpu| {
        let limit = gpu.device.limits().max_buffer_size;
        let desc = ArenaDescriptor {
            initial_size: limit.saturating_add(4),
            ..Default::default()
        };
        assert!(matches!(
            Arena::new(&gpu.device, &gpu.queue, &desc),
            Err(ArenaError::OverLimit { .. })
        ));
    });
}
