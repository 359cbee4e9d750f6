//! A small map whose entries are trusted for a fixed time, for the reads made on every
//! authenticated request (auth states, session liveness).
//!
//! An invalidation must not be undone by a read that was already under way: a request
//! that read a session as live just before it was revoked would otherwise store "live"
//! just after the revocation removed the entry, and the revoked token would pass for
//! another `ttl`. So a caller takes a [`Ticket`] before it reads, and [`TtlCache::put`]
//! keeps the value only if nothing was removed since.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::RwLock;

use chrono::{DateTime, Duration, Utc};

/// Above this many entries a cache starts over rather than grow without bound.
const MAX_ENTRIES: usize = 100_000;

/// Entries younger than `ttl` are returned; older ones are read again by the caller.
#[derive(Debug)]
pub(crate) struct TtlCache<K, V> {
    ttl: Duration,
    state: RwLock<State<K, V>>,
}

#[derive(Debug)]
struct State<K, V> {
    entries: HashMap<K, (V, DateTime<Utc>)>,
    /// How many removals there have been: a [`Ticket`] remembers the count it saw.
    removals: u64,
}

/// Taken before reading a value to cache; see the module documentation.
#[derive(Debug, Clone, Copy)]
#[must_use]
pub(crate) struct Ticket {
    removals: u64,
}

impl<K: Eq + Hash, V: Copy> TtlCache<K, V> {
    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            state: RwLock::new(State {
                entries: HashMap::new(),
                removals: 0,
            }),
        }
    }

    /// The value stored for `key` less than `ttl` before `now`.
    pub(crate) fn get(&self, key: &K, now: DateTime<Utc>) -> Option<V> {
        self.state
            .read()
            .expect("cache lock")
            .entries
            .get(key)
            .filter(|(_, stored_at)| now - *stored_at < self.ttl)
            .map(|(value, _)| *value)
    }

    /// To take before reading the value that [`TtlCache::put`] will store.
    pub(crate) fn ticket(&self) -> Ticket {
        Ticket {
            removals: self.state.read().expect("cache lock").removals,
        }
    }

    /// Stores `value`, read at `now` after `ticket` was taken, unless an entry was removed
    /// in between (the value may predate that invalidation).
    pub(crate) fn put(&self, key: K, value: V, now: DateTime<Utc>, ticket: Ticket) {
        let mut state = self.state.write().expect("cache lock");
        if state.removals != ticket.removals {
            return;
        }
        if state.entries.len() >= MAX_ENTRIES {
            state.entries.clear();
        }
        state.entries.insert(key, (value, now));
    }

    pub(crate) fn remove(&self, key: &K) {
        let mut state = self.state.write().expect("cache lock");
        state.removals += 1;
        state.entries.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    #[test]
    fn an_entry_is_trusted_for_its_ttl_and_not_after() {
        let cache = TtlCache::new(Duration::seconds(1));
        let now = Utc.with_ymd_and_hms(2026, 12, 4, 0, 0, 0).unwrap();
        cache.put(1, true, now, cache.ticket());

        assert_eq!(cache.get(&1, now + Duration::milliseconds(999)), Some(true));
        assert_eq!(cache.get(&1, now + Duration::seconds(1)), None);
        assert_eq!(cache.get(&2, now), None);
    }

    #[test]
    fn a_removed_entry_is_gone() {
        let cache = TtlCache::new(Duration::seconds(1));
        let now = Utc.with_ymd_and_hms(2026, 12, 4, 0, 0, 0).unwrap();
        cache.put(1, true, now, cache.ticket());

        cache.remove(&1);

        assert_eq!(cache.get(&1, now), None);
    }

    #[test]
    fn a_value_read_across_a_removal_is_not_stored() {
        let cache = TtlCache::new(Duration::seconds(1));
        let now = Utc.with_ymd_and_hms(2026, 12, 4, 0, 0, 0).unwrap();
        let before_the_removal = cache.ticket();

        cache.remove(&1);
        cache.put(1, true, now, before_the_removal);
        cache.put(2, true, now, before_the_removal);

        assert_eq!(cache.get(&1, now), None);
        assert_eq!(cache.get(&2, now), None);
        cache.put(1, false, now, cache.ticket());
        assert_eq!(cache.get(&1, now), Some(false));
    }
}
