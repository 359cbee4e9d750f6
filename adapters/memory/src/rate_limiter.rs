//! A fixed-window rate limiter in process memory, the semantics of express-rate-limit's
//! default store: each key counts hits in a window that starts at its first hit; the
//! window's end is what `RateLimit-Reset` reports.
//!
//! Keys are spread over shards, each behind its own mutex, so that concurrent requests for
//! different clients rarely contend. Expired windows are swept from a shard when it grows.
//! A multi-process deployment wants a shared store (Redis) behind the same port.

use std::collections::HashMap;
use std::hash::{BuildHasher as _, RandomState};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use domain::ports::{RateDecision, RateLimiter, RatePolicy};

const SHARDS: usize = 16;
/// A shard is swept of expired windows when it holds more keys than this.
const SWEEP_ABOVE: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    hits: u32,
}

/// See the module documentation.
#[derive(Debug)]
pub struct InMemoryRateLimiter {
    shards: Vec<Mutex<HashMap<String, Window>>>,
    hasher: RandomState,
}

impl Default for InMemoryRateLimiter {
    fn default() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
        }
    }
}

impl InMemoryRateLimiter {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn shard(&self, key: &str) -> &Mutex<HashMap<String, Window>> {
        let index = usize::try_from(self.hasher.hash_one(key) % SHARDS as u64).unwrap_or(0);
        &self.shards[index]
    }

    fn apply(&self, key: &str, policy: RatePolicy, count_hit: bool, now: Instant) -> RateDecision {
        let mut shard = self.shard(key).lock().expect("rate limiter shard lock");
        if shard.len() > SWEEP_ABOVE {
            shard.retain(|_, window| now.duration_since(window.started) < policy.window);
        }
        let window = match shard.get(key) {
            Some(window) if now.duration_since(window.started) < policy.window => *window,
            _ => Window {
                started: now,
                hits: 0,
            },
        };
        let window = if count_hit {
            Window {
                hits: window.hits.saturating_add(1),
                ..window
            }
        } else {
            window
        };
        if count_hit {
            shard.insert(key.to_owned(), window);
        }
        decide(window, policy, now)
    }
}

fn decide(window: Window, policy: RatePolicy, now: Instant) -> RateDecision {
    let elapsed = now.duration_since(window.started);
    RateDecision {
        allowed: window.hits <= policy.limit,
        limit: policy.limit,
        remaining: policy.limit.saturating_sub(window.hits),
        reset_after: policy
            .window
            .saturating_sub(elapsed)
            .max(Duration::from_secs(1)),
    }
}

#[async_trait]
impl RateLimiter for InMemoryRateLimiter {
    async fn hit(&self, key: &str, policy: RatePolicy) -> RateDecision {
        self.apply(key, policy, true, Instant::now())
    }

    async fn peek(&self, key: &str, policy: RatePolicy) -> RateDecision {
        self.apply(key, policy, false, Instant::now())
    }

    async fn reset(&self, key: &str) {
        self.shard(key)
            .lock()
            .expect("rate limiter shard lock")
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: RatePolicy = RatePolicy {
        limit: 3,
        window: Duration::from_mins(1),
    };

    #[test]
    fn hits_within_the_limit_are_allowed_and_the_next_is_not() {
        let limiter = InMemoryRateLimiter::new();
        let now = Instant::now();

        let decisions: Vec<_> = (0..4)
            .map(|_| limiter.apply("client", POLICY, true, now))
            .collect();

        assert_eq!(
            decisions
                .iter()
                .map(|decision| decision.remaining)
                .collect::<Vec<_>>(),
            [2, 1, 0, 0]
        );
        assert_eq!(
            decisions
                .iter()
                .map(|decision| decision.allowed)
                .collect::<Vec<_>>(),
            [true, true, true, false]
        );
    }

    #[test]
    fn a_new_window_starts_after_the_old_one_ends() {
        let limiter = InMemoryRateLimiter::new();
        let start = Instant::now();
        for _ in 0..4 {
            limiter.apply("client", POLICY, true, start);
        }

        let later = limiter.apply("client", POLICY, true, start + Duration::from_secs(61));

        assert!(later.allowed);
        assert_eq!(later.remaining, 2);
    }

    #[test]
    fn reset_after_counts_down_to_the_end_of_the_window() {
        let limiter = InMemoryRateLimiter::new();
        let start = Instant::now();
        limiter.apply("client", POLICY, true, start);

        let decision = limiter.apply("client", POLICY, true, start + Duration::from_secs(20));

        assert_eq!(decision.reset_after, Duration::from_secs(40));
    }

    #[test]
    fn keys_are_counted_separately_and_peeking_counts_nothing() {
        let limiter = InMemoryRateLimiter::new();
        let now = Instant::now();
        limiter.apply("a", POLICY, true, now);

        assert_eq!(limiter.apply("b", POLICY, false, now).remaining, 3);
        assert_eq!(limiter.apply("a", POLICY, false, now).remaining, 2);
        assert_eq!(limiter.apply("a", POLICY, false, now).remaining, 2);
    }

    #[tokio::test]
    async fn reset_forgets_a_key() {
        let limiter = InMemoryRateLimiter::new();
        limiter.hit("a", POLICY).await;

        limiter.reset("a").await;

        assert_eq!(limiter.peek("a", POLICY).await.remaining, 3);
    }
}
