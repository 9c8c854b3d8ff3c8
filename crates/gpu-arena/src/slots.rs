//! The generational slot map behind every handle this crate issues.
//!
//! Arenas, mesh pools and bindless pools all hand out small `Copy` handles that name
//! a slot of a table and the generation the slot had when the handle was issued.
//! They share this one implementation and one identity space: every owner takes its
//! identity from the same counter, so a handle given to the wrong owner is caught
//! (foreign), one used after its slot was freed is caught (stale), and the error says
//! what kind of owner issued it. Freed slots are reused, their generation bumped.

use std::sync::atomic::{AtomicU32, Ordering};

use crate::error::{ArenaError, HandleId, HandleKind};

/// One identity space for every arena and pool.
static NEXT_OWNER: AtomicU32 = AtomicU32::new(1);

/// A fresh owner identity.
pub(crate) fn next_owner() -> u32 {
    NEXT_OWNER.fetch_add(1, Ordering::Relaxed)
}

/// The key inside every public handle: owner identity, slot, generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub owner: u32,
    pub slot: u32,
    pub generation: u32,
}

impl Key {
    /// The key as an error reports it, for a handle of `kind`.
    pub fn id(self, kind: HandleKind) -> HandleId {
        HandleId {
            kind,
            owner: self.owner,
            slot: self.slot,
            generation: self.generation,
        }
    }
}

struct Entry<T> {
    /// Bumped on every removal, so keys to earlier lives are stale.
    generation: u32,
    value: Option<T>,
}

/// Slots of values of `T` addressed by [`Key`]s issued for one owner.
pub(crate) struct SlotMap<T> {
    kind: HandleKind,
    owner: u32,
    entries: Vec<Entry<T>>,
    free: Vec<u32>,
    live: usize,
}

impl<T> SlotMap<T> {
    /// An empty map for an owner of `kind` with identity `owner`.
    pub fn new(kind: HandleKind, owner: u32) -> Self {
        SlotMap {
            kind,
            owner,
            entries: Vec::new(),
            free: Vec::new(),
            live: 0,
        }
    }

    /// Stores `value` in a free slot (or a new one) and returns its key.
    pub fn insert(&mut self, value: T) -> Key {
        self.live += 1;
        let slot = match self.free.pop() {
            Some(slot) => {
                self.entries[slot as usize].value = Some(value);
                slot
            }
            None => {
                self.entries.push(Entry {
                    generation: 0,
                    value: Some(value),
                });
                (self.entries.len() - 1) as u32
            }
        };
        Key {
            owner: self.owner,
            slot,
            generation: self.entries[slot as usize].generation,
        }
    }

    /// The key [`Self::insert`] would return next (its slot and generation), so a
    /// caller can write GPU data that names it before committing.
    pub fn next_key(&self) -> Key {
        let slot = self
            .free
            .last()
            .copied()
            .unwrap_or(self.entries.len() as u32);
        Key {
            owner: self.owner,
            slot,
            generation: self.entries.get(slot as usize).map_or(0, |e| e.generation),
        }
    }

    /// The key the `k`-th of the next inserts will return (`next_key` is `key_after(0)`),
    /// if nothing is removed in between.
    pub fn key_after(&self, k: usize) -> Key {
        let slot = if k < self.free.len() {
            self.free[self.free.len() - 1 - k]
        } else {
            (self.entries.len() + k - self.free.len()) as u32
        };
        Key {
            owner: self.owner,
            slot,
            generation: self.entries.get(slot as usize).map_or(0, |e| e.generation),
        }
    }

    /// The live value `key` names.
    pub fn get(&self, key: Key, label: &str) -> Result<&T, ArenaError> {
        match self.entries.get(key.slot as usize) {
            Some(Entry {
                generation,
                value: Some(value),
            }) if key.owner == self.owner && *generation == key.generation => Ok(value),
            _ => Err(self.refusal(key, label)),
        }
    }

    /// The live value `key` names, mutably.
    pub fn get_mut(&mut self, key: Key, label: &str) -> Result<&mut T, ArenaError> {
        self.get(key, label)?;
        match self.entries[key.slot as usize].value.as_mut() {
            Some(value) => Ok(value),
            None => unreachable!("checked live above"),
        }
    }

    /// Removes the value `key` names; its slot's generation is bumped.
    pub fn remove(&mut self, key: Key, label: &str) -> Result<T, ArenaError> {
        self.get(key, label)?;
        Ok(self.take(key.slot))
    }

    /// Removes the value in `slot` (which must be live).
    fn take(&mut self, slot: u32) -> T {
        let entry = &mut self.entries[slot as usize];
        entry.generation = entry.generation.wrapping_add(1);
        self.free.push(slot);
        self.live -= 1;
        match entry.value.take() {
            Some(value) => value,
            None => unreachable!("slot {slot} was checked live"),
        }
    }

    /// Removes every value and returns them; every key issued so far becomes stale.
    pub fn clear(&mut self) -> Vec<T> {
        let mut values = Vec::with_capacity(self.live);
        for (slot, entry) in self.entries.iter_mut().enumerate() {
            if let Some(value) = entry.value.take() {
                entry.generation = entry.generation.wrapping_add(1);
                self.free.push(slot as u32);
                values.push(value);
            }
        }
        self.live = 0;
        values
    }

    /// Live values with their keys.
    pub fn iter(&self) -> impl Iterator<Item = (Key, &T)> + '_ {
        let owner = self.owner;
        self.entries
            .iter()
            .enumerate()
            .filter_map(move |(slot, e)| {
                e.value.as_ref().map(|v| {
                    (
                        Key {
                            owner,
                            slot: slot as u32,
                            generation: e.generation,
                        },
                        v,
                    )
                })
            })
    }

    /// Number of live values.
    pub fn len(&self) -> usize {
        self.live
    }

    /// The error for a key that names no live value here.
    fn refusal(&self, key: Key, label: &str) -> ArenaError {
        let handle = key.id(self.kind);
        if key.owner != self.owner {
            ArenaError::ForeignHandle {
                label: label.to_owned(),
                handle,
                kind: self.kind,
                owner: self.owner,
            }
        } else {
            ArenaError::StaleHandle {
                label: label.to_owned(),
                handle,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> SlotMap<&'static str> {
        SlotMap::new(HandleKind::MeshPool, next_owner())
    }

    #[test]
    fn a_removed_key_is_stale_and_its_slot_is_reused_with_a_new_generation() {
        let mut m = map();
        let a = m.insert("a");
        assert_eq!(m.remove(a, "m").unwrap(), "a");
        assert!(matches!(m.get(a, "m"), Err(ArenaError::StaleHandle { .. })));
        let b = m.insert("b");
        assert_eq!((b.slot, b.generation), (a.slot, a.generation + 1));
        assert!(
            m.get(a, "m").is_err(),
            "the old key does not reach the new value"
        );
        assert_eq!(*m.get(b, "m").unwrap(), "b");
    }

    #[test]
    fn a_key_of_another_owner_is_foreign_and_names_both_kinds() {
        let (mut one, two) = (map(), map());
        let a = one.insert("a");
        match two.get(a, "two") {
            Err(ArenaError::ForeignHandle {
                handle,
                kind,
                owner,
                label,
            }) => {
                assert_eq!(handle.owner, one.owner);
                assert_eq!(
                    (kind, owner, label.as_str()),
                    (HandleKind::MeshPool, two.owner, "two")
                );
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn next_key_predicts_insert() {
        let mut m = map();
        let a = m.insert("a");
        m.insert("b");
        m.remove(a, "m").unwrap();
        let predicted = m.next_key();
        assert_eq!(m.insert("c"), predicted);
        assert_eq!(m.next_key().slot, 2);
    }

    #[test]
    fn key_after_predicts_a_run_of_inserts() {
        let mut m = map();
        let keys: Vec<_> = (0..4).map(|_| m.insert("x")).collect();
        m.remove(keys[1], "m").unwrap();
        m.remove(keys[3], "m").unwrap();
        let predicted: Vec<_> = (0..4).map(|k| m.key_after(k)).collect();
        let inserted: Vec<_> = (0..4).map(|_| m.insert("y")).collect();
        assert_eq!(predicted, inserted);
    }

    #[test]
    fn clear_makes_every_key_stale() {
        let mut m = map();
        let keys: Vec<_> = (0..5).map(|_| m.insert("x")).collect();
        assert_eq!(m.clear().len(), 5);
        assert_eq!(m.len(), 0);
        assert!(keys.iter().all(|k| m.get(*k, "m").is_err()));
    }
}
