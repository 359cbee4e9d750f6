//! Short-lived totals of list queries, by query.
//!
//! A page of users shows `total`, the number of matches over all pages. The page itself
//! is cheap (it stops after `limit` rows of an index), but counting every match of a
//! popular term is not: at 100,000 users a term matching 10,000 costs ~7 ms of database
//! CPU per request, every request. Totals are therefore kept for a couple of seconds per
//! query. Writes through this process forget them at once, so a client never sees its own
//! change missing from a total; writes by other processes show within the time to live.
//!
//! When a total grows old, one caller counts again while the others keep the old total for
//! up to [`RECOUNT_TIMEOUT`]: under load, every request of a popular term arriving during
//! the count would otherwise count too (tens of 7 ms counts at once, which was the p99 of
//! the search at 100,000 users). A count that started before a write is not stored after it.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long a total is served without counting again.
const TIME_TO_LIVE: Duration = Duration::from_secs(2);
/// How long an old total is served while one caller counts; a recount that has not ended
/// by then (a failed query, say) is handed to the next caller.
const RECOUNT_TIMEOUT: Duration = Duration::from_secs(1);
/// Distinct queries remembered; past this the cache starts over (a scan of many distinct
/// terms gains nothing from it anyway).
const MAX_ENTRIES: usize = 4_096;

#[derive(Debug)]
struct Entry {
    total: u64,
    counted_at: Instant,
    /// When a caller set out to count again, if one has.
    recounting_since: Option<Instant>,
}

#[derive(Debug, Default)]
struct State {
    entries: HashMap<String, Entry>,
    /// Incremented by every [`Totals::forget`].
    generation: u64,
}

/// What the caller of [`Totals::lookup`] does.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// Use this total.
    Known(u64),
    /// Count, then hand the total to [`Totals::put`] with this claim.
    Count(Claim),
}

/// The right to store a count of `key`, made before the count began.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Claim {
    key: String,
    generation: u64,
}

/// Totals by query key.
#[derive(Debug, Default)]
pub(crate) struct Totals {
    state: Mutex<State>,
}

impl Totals {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The total of `key` if it is recent enough (or being counted again by another
    /// caller); otherwise the claim to count it.
    pub(crate) fn lookup(&self, key: &str) -> Lookup {
        let mut state = self.state();
        let generation = state.generation;
        let count = || {
            Lookup::Count(Claim {
                key: key.to_owned(),
                generation,
            })
        };
        let Some(entry) = state.entries.get_mut(key) else {
            return count();
        };
        if entry.counted_at.elapsed() < TIME_TO_LIVE {
            return Lookup::Known(entry.total);
        }
        match entry.recounting_since {
            Some(since) if since.elapsed() < RECOUNT_TIMEOUT => Lookup::Known(entry.total),
            _ => {
                entry.recounting_since = Some(Instant::now());
                count()
            }
        }
    }

    /// Stores a total counted under `claim`, unless the rows changed since the claim.
    pub(crate) fn put(&self, claim: Claim, total: u64) {
        let mut state = self.state();
        if state.generation != claim.generation {
            return;
        }
        if state.entries.len() >= MAX_ENTRIES && !state.entries.contains_key(&claim.key) {
            state.entries.clear();
        }
        state.entries.insert(
            claim.key,
            Entry {
                total,
                counted_at: Instant::now(),
                recounting_since: None,
            },
        );
    }

    /// Forgets every total: the rows they counted changed.
    pub(crate) fn forget(&self) {
        let mut state = self.state();
        state.entries.clear();
        state.generation += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(totals: &Totals, key: &str) -> Claim {
        match totals.lookup(key) {
            Lookup::Count(claim) => claim,
            Lookup::Known(total) => panic!("expected a claim, got the total {total}"),
        }
    }

    /// Makes the total of `key` older than the time to live.
    fn age(totals: &Totals, key: &str) {
        let mut state = totals.state();
        let entry = state.entries.get_mut(key).unwrap();
        entry.counted_at = Instant::now().checked_sub(TIME_TO_LIVE).unwrap();
    }

    #[test]
    fn a_total_is_served_until_forgotten() {
        let totals = Totals::default();
        let ann = claim(&totals, "users:%ann%");
        totals.put(ann, 3);

        assert_eq!(totals.lookup("users:%ann%"), Lookup::Known(3));
        assert!(matches!(totals.lookup("users:%bob%"), Lookup::Count(_)));
        totals.forget();
        assert!(matches!(totals.lookup("users:%ann%"), Lookup::Count(_)));
    }

    #[test]
    fn an_old_total_is_counted_again_by_one_caller_while_the_others_keep_it() {
        let totals = Totals::default();
        totals.put(claim(&totals, "k"), 3);
        age(&totals, "k");

        let recount = claim(&totals, "k");
        assert_eq!(
            totals.lookup("k"),
            Lookup::Known(3),
            "a second caller keeps the old total"
        );
        totals.put(recount, 4);

        assert_eq!(totals.lookup("k"), Lookup::Known(4));
    }

    #[test]
    fn a_recount_that_never_ends_is_handed_to_the_next_caller() {
        let totals = Totals::default();
        totals.put(claim(&totals, "k"), 3);
        age(&totals, "k");
        let _abandoned = claim(&totals, "k");
        totals
            .state()
            .entries
            .get_mut("k")
            .unwrap()
            .recounting_since = Instant::now().checked_sub(RECOUNT_TIMEOUT);

        assert!(matches!(totals.lookup("k"), Lookup::Count(_)));
    }

    #[test]
    fn a_count_begun_before_a_write_is_not_stored_after_it() {
        let totals = Totals::default();
        let before_the_write = claim(&totals, "k");
        totals.forget();
        totals.put(before_the_write, 3);

        assert!(matches!(totals.lookup("k"), Lookup::Count(_)));
    }

    #[test]
    fn the_cache_starts_over_instead_of_growing_without_bound() {
        let totals = Totals::default();
        for index in 0..=MAX_ENTRIES {
            let key = format!("users:{index}");
            totals.put(claim(&totals, &key), 1);
        }

        assert_eq!(totals.state().entries.len(), 1);
    }
}
