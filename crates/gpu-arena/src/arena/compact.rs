//! Compaction: move live allocations together into a fresh buffer.
//!
//! wgpu cannot copy within one buffer, so [`Arena::compact`] packs allocations front
//! to back (in offset order, each keeping its alignment, filling padding holes left
//! by earlier ones where they fit) into a new buffer of the same size, with one copy
//! per run of adjacent allocations that move by the same distance. The
//! allocator is rebuilt in one pass with `offset_alloc::Allocator::with_layout`.
//! Handles keep their values (the arena looks offsets up), the buffer generation is
//! bumped, and the report lists every move so callers can patch GPU-side tables.
//!
//! With a budget, packing stops before the bytes moved would exceed it; everything
//! after stays at its offset (still copied, since the buffer is new), and a later call
//! continues. Deferred frees still pending are dropped: work in flight keeps reading
//! the old buffer, which wgpu keeps alive until that work is done.
//!
//! Compaction runs in two steps: a plan (the new layout, the new allocator and the
//! new buffer: everything that can fail) and its application (infallible), so a
//! caller compacting several arenas together (a mesh pool's vertices and indices)
//! plans them all before changing any.

use offset_alloc::{Allocator, AllocatorOptions};

use crate::arena::Arena;
use crate::arena::core::UNIT;
use crate::arena::state::State;
use crate::error::ArenaError;
use crate::handle::ArenaHandle;
use crate::slots::Key;

/// One allocation that compaction moved.
///
/// ```
/// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
/// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
/// let a = arena.alloc(64).unwrap();
/// let b = arena.alloc(64).unwrap();
/// arena.free(a).unwrap();
/// let report = arena.compact(None).unwrap();
/// assert_eq!(report.moves[0], gpu_arena::Move { handle: b, old_offset: 64, new_offset: 0, size: 64 });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Move {
    /// The allocation (its handle is unchanged).
    pub handle: ArenaHandle,
    /// Byte offset before.
    pub old_offset: u64,
    /// Byte offset after.
    pub new_offset: u64,
    /// Reserved bytes.
    pub size: u64,
}

/// What [`Arena::compact`] did.
///
/// ```
/// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
/// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
/// let report = arena.compact(None).unwrap();
/// assert!(report.complete && report.moves.is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CompactionReport {
    /// Allocations that changed offset.
    pub moves: Vec<Move>,
    /// Bytes of the allocations that moved.
    pub bytes_moved: u64,
    /// Buffer copies recorded.
    pub copies: usize,
    /// Whether every allocation is now packed (false when the budget ran out).
    pub complete: bool,
    /// The buffer generation afterwards.
    pub buffer_generation: u32,
}

/// What [`Arena::plan_compaction`] decided.
pub(crate) enum Planned {
    /// Nothing moves; `complete` is false when the budget stopped the packing.
    Nothing { complete: bool },
    /// Moves to apply.
    Work(Box<CompactionPlan>),
}

/// A compaction decided but not applied: the new layout, allocator and buffer.
pub(crate) struct CompactionPlan {
    /// Each live allocation (offset order) and its new offset.
    live: Vec<(Key, u64, u64, u64)>,
    targets: Vec<u64>,
    allocator: Allocator,
    handles: Vec<Option<offset_alloc::Allocation>>,
    buffer: wgpu::Buffer,
    bytes_moved: u64,
    complete: bool,
}

impl Arena {
    /// Packs live allocations together into a fresh buffer, moving at most `budget`
    /// bytes (`None`: no limit). Handles stay valid; look offsets up again (or apply
    /// the returned moves) and rebuild bind groups, as the buffer generation changes
    /// whenever something moved.
    ///
    /// Time: O(allocations log allocations) on the CPU, plus the GPU copies.
    ///
    /// # Errors
    /// [`ArenaError::CompactionRefused`] if the rebuilt layout is refused (not
    /// expected), [`ArenaError::Device`] if the new buffer is; nothing changes then.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let arena = gpu_arena::Arena::new(&gpu.device, &gpu.queue, &Default::default()).unwrap();
    /// let handles: Vec<_> = (0..10u8).map(|i| arena.alloc_slice(&[i; 100]).unwrap()).collect();
    /// for h in handles.iter().step_by(2) {
    ///     arena.free(*h).unwrap();
    /// }
    /// assert!(arena.stats().contiguity() < 1.0);
    /// arena.compact(None).unwrap();
    /// assert_eq!(arena.stats().contiguity(), 1.0);
    /// assert_eq!(arena.read(handles[1]).unwrap(), [1; 100]);
    /// ```
    pub fn compact(&self, budget: Option<u64>) -> Result<CompactionReport, ArenaError> {
        let mut state = self.state.lock();
        match self.plan_compaction(&mut state, budget)? {
            Planned::Work(plan) => Ok(self.apply_compaction(&mut state, plan)),
            Planned::Nothing { complete } => Ok(CompactionReport {
                complete,
                buffer_generation: state.buffer_generation,
                ..Default::default()
            }),
        }
    }

    /// Decides a compaction and creates its buffer; [`Planned::Nothing`] when nothing
    /// would move (and no deferred free is pending). Changes nothing (but realizes a
    /// waiting deferred growth: compaction copies from the full-size buffer).
    pub(crate) fn plan_compaction(
        &self,
        state: &mut State,
        budget: Option<u64>,
    ) -> Result<Planned, ArenaError> {
        state.realize(&self.core, None)?;
        let mut live: Vec<(Key, u64, u64, u64)> = state
            .slots
            .iter()
            .map(|(key, s)| (key, s.offset, s.size, s.align))
            .collect();
        live.sort_unstable_by_key(|&(_, offset, _, _)| offset);

        // Decide where everything goes: front to back in offset order, each allocation
        // at its alignment, first into a padding hole left earlier if it fits there.
        // Holes lie below the cursor, which never passes the next old offset, so a
        // budget stop can leave the rest in place without collisions.
        let budget = budget.unwrap_or(u64::MAX);
        let (mut cursor, mut bytes_moved, mut complete, mut packing) = (0u64, 0u64, true, true);
        let mut holes: Vec<(u64, u64)> = Vec::new();
        let mut targets = Vec::with_capacity(live.len());
        for &(_, offset, size, align) in &live {
            let mut target = offset;
            if packing {
                let in_hole = holes.iter().enumerate().find_map(|(k, &(start, end))| {
                    let at = start.next_multiple_of(align);
                    (at + size <= end).then_some((k, at))
                });
                let (candidate, hole) = match in_hole {
                    Some((k, at)) => (at, Some(k)),
                    None => (cursor.next_multiple_of(align), None),
                };
                if candidate == offset || bytes_moved + size <= budget {
                    if candidate != offset {
                        bytes_moved += size;
                    }
                    target = candidate;
                    match hole {
                        Some(k) => {
                            let (start, end) = holes.swap_remove(k);
                            if candidate > start {
                                holes.push((start, candidate));
                            }
                            if candidate + size < end {
                                holes.push((candidate + size, end));
                            }
                        }
                        None => {
                            if candidate > cursor {
                                holes.push((cursor, candidate));
                            }
                        }
                    }
                } else {
                    packing = false;
                    complete = false;
                }
            }
            targets.push(target);
            cursor = cursor.max(target + size);
        }
        let pending_freed = !state.pending.is_empty();
        if bytes_moved == 0 && !pending_freed {
            return Ok(Planned::Nothing { complete });
        }

        // Rebuild the allocator with the new layout (sorted by new offset).
        let mut by_target: Vec<usize> = (0..live.len()).collect();
        by_target.sort_unstable_by_key(|&k| targets[k]);
        let ranges: Vec<(u32, u32)> = by_target
            .iter()
            .map(|&k| ((targets[k] / UNIT) as u32, (live[k].2 / UNIT) as u32))
            .collect();
        let options = AllocatorOptions {
            max_allocs: Some(state.allocator.max_allocs()),
            ..Default::default()
        };
        let (allocator, sorted_handles) =
            Allocator::with_layout((state.capacity / UNIT) as u32, options, &ranges).map_err(
                |e| ArenaError::CompactionRefused {
                    label: self.core.label.clone(),
                    reason: format!("the packed layout was refused: {e}"),
                },
            )?;
        let mut handles = vec![None; live.len()];
        for (&k, handle) in by_target.iter().zip(sorted_handles) {
            handles[k] = Some(handle);
        }
        let buffer = self.core.create_buffer(state.capacity)?;
        Ok(Planned::Work(Box::new(CompactionPlan {
            live,
            targets,
            allocator,
            handles,
            buffer,
            bytes_moved,
            complete,
        })))
    }

    /// Copies every allocation to its planned offset in the plan's buffer and switches
    /// the arena to it.
    pub(crate) fn apply_compaction(
        &self,
        state: &mut State,
        plan: Box<CompactionPlan>,
    ) -> CompactionReport {
        let CompactionPlan {
            live,
            targets,
            allocator,
            handles,
            buffer,
            bytes_moved,
            complete,
        } = *plan;

        // Copy runs of adjacent allocations that move by the same distance into a fresh
        // buffer. Runs never span a gap: another allocation may now sit in it.
        let mut encoder =
            self.core
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("gpu-arena compaction"),
                });
        let mut copies = 0;
        let mut index = 0;
        while index < live.len() {
            let delta = live[index].1 - targets[index];
            let mut end = index + 1;
            while end < live.len()
                && live[end].1 - targets[end] == delta
                && live[end].1 == live[end - 1].1 + live[end - 1].2
            {
                end += 1;
            }
            let from = live[index].1;
            let to_end = live[end - 1].1 + live[end - 1].2;
            encoder.copy_buffer_to_buffer(
                &state.buffer,
                from,
                &buffer,
                from - delta,
                to_end - from,
            );
            copies += 1;
            index = end;
        }
        self.core.queue.submit([encoder.finish()]);

        let mut moves = Vec::new();
        for ((&(key, old_offset, size, _), &new_offset), allocation) in
            live.iter().zip(&targets).zip(handles)
        {
            let Ok(slot) = state.slots.get_mut(key, &self.core.label) else {
                unreachable!("compaction holds the lock: every slot it listed is live");
            };
            slot.offset = new_offset;
            if let Some(allocation) = allocation {
                slot.allocation = allocation;
            }
            if new_offset != old_offset {
                moves.push(Move {
                    handle: ArenaHandle { key },
                    old_offset,
                    new_offset,
                    size,
                });
            }
        }
        state.pending.clear();
        state.allocator = allocator;
        state.buffer = buffer;
        state.buffer_generation = state.buffer_generation.wrapping_add(1);
        // Everything live was copied; nothing past the last allocation holds data.
        state.written_end = state.used_end();
        state.fresh = false;
        log::debug!(
            "{}: compacted, {} bytes in {} moves, {} copies",
            self.core.label,
            bytes_moved,
            moves.len(),
            copies
        );
        CompactionReport {
            moves,
            bytes_moved,
            copies,
            complete,
            buffer_generation: state.buffer_generation,
        }
    }
}
