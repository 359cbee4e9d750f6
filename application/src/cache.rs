//! A small map whose entries are trusted for a fixed time, for the reads made on every
//! authenticated request (auth states, session liveness).

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
    entries: RwLock<HashMap<K, (V, DateTime<Utc>)>>,
}

impl<K: Eq + Hash, V: Copy> TtlCache<K, V> {
    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: RwLock::new(HashMap::new()),
        }
    }

    /// The value stored for `key` less than `ttl` before `now`.
    pub(crate) fn get(&self, key: &K, now: DateTime<Utc>) -> Option<V> {
        self.entries
            .read()
            .expect("cache lock")
            .get(key)
            .filter(|(_, stored_at)| now - *stored_at < self.ttl)
            .map(|(value, _)| *value)
    }

    pub(crate) fn put(&self, key: K, value: V, now: DateTime<Utc>) {
        let mut entries = self.entries.write().expect("cache lock");
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key, (value, now));
    }

    pub(crate) fn remove(&self, key: &K) {
        self.entries.write().expect("cache lock").remove(key);
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
        cache.put(1, true, now);

        assert_eq!(cache.get(&1, now + Duration::milliseconds(999)), Some(true));
        assert_eq!(cache.get(&1, now + Duration::seconds(1)), None);
        assert_eq!(cache.get(&2, now), None);
    }

    #[test]
    fn a_removed_entry_is_gone() {
        let cache = TtlCache::new(Duration::seconds(1));
        let now = Utc.with_ymd_and_hms(2026, 12, 4, 0, 0, 0).unwrap();
        cache.put(1, true, now);

        cache.remove(&1);

        assert_eq!(cache.get(&1, now), None);
    }
}
