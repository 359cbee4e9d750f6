//! Short-lived totals of list queries.
//!
//! A page of users shows `total`, the number of matches over all pages. The page itself
//! is cheap (it stops after `limit` rows of an index), but counting every match of a
//! popular term is not: at 100,000 users a term matching 10,000 costs ~7 ms of database
//! CPU per request, every request. Totals are therefore kept for a couple of seconds per
//! query. Writes through this process forget them at once, so a client never sees its own
//! change missing from a total; writes by other processes show within the time to live.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long a total is served without counting again.
const TIME_TO_LIVE: Duration = Duration::from_secs(2);
/// Distinct queries remembered; past this the cache starts over (a scan of many distinct
/// terms gains nothing from it anyway).
const MAX_ENTRIES: usize = 4_096;

/// Totals by query key.
#[derive(Debug, Default)]
pub(crate) struct Totals {
    entries: Mutex<HashMap<String, (i64, Instant)>>,
}

impl Totals {
    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, (i64, Instant)>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The total counted for `key` less than the time to live ago.
    pub(crate) fn get(&self, key: &str) -> Option<i64> {
        let entries = self.entries();
        let (total, counted_at) = entries.get(key)?;
        (counted_at.elapsed() < TIME_TO_LIVE).then_some(*total)
    }

    pub(crate) fn put(&self, key: String, total: i64) {
        let mut entries = self.entries();
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key, (total, Instant::now()));
    }

    /// Forgets every total: the rows they counted changed.
    pub(crate) fn forget(&self) {
        self.entries().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_total_is_served_until_forgotten() {
        let totals = Totals::default();
        totals.put("users:%ann%".to_owned(), 3);

        assert_eq!(totals.get("users:%ann%"), Some(3));
        assert_eq!(totals.get("users:%bob%"), None);
        totals.forget();
        assert_eq!(totals.get("users:%ann%"), None);
    }

    #[test]
    fn the_cache_starts_over_instead_of_growing_without_bound() {
        let totals = Totals::default();
        for index in 0..=MAX_ENTRIES {
            totals.put(format!("users:{index}"), 1);
        }

        assert_eq!(totals.entries().len(), 1);
    }
}
