//! The Redis rate limiter against a real Redis (`TEST_REDIS_URL`; these tests say SKIPPED
//! and pass nothing when it is unset), and its fallback when Redis cannot be reached.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use adapter_memory::InMemoryRateLimiter;
use adapter_redis::{RedisConfig, RedisRateLimiter};
use domain::ports::{NoTelemetry, RateHit, RateLimiter as _, RatePolicy};

const POLICY: RatePolicy = RatePolicy {
    limit: 3,
    window: Duration::from_mins(1),
};

/// A limiter on the test Redis with keys of its own, or `None` (and a notice) without one.
fn limiter() -> Option<RedisRateLimiter> {
    let url = common::test_redis_url()?;
    Some(on(&url, &unique_prefix()))
}

fn on(url: &str, prefix: &str) -> RedisRateLimiter {
    RedisRateLimiter::new(
        &RedisConfig {
            url: url.to_owned(),
            timeout: Duration::from_millis(500),
            key_prefix: prefix.to_owned(),
        },
        Arc::new(InMemoryRateLimiter::new()),
        Arc::new(NoTelemetry),
    )
    .expect("a valid Redis URL")
}

fn hit(key: &str, policy: RatePolicy) -> RateHit {
    RateHit {
        key: key.to_owned(),
        policy,
    }
}

fn unique_prefix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("test:{}:{nanos}:", std::process::id())
}

#[tokio::test]
async fn hits_are_counted_until_the_limit_and_refused_beyond_it() {
    let Some(limiter) = limiter() else { return };

    let decisions: Vec<_> = [
        limiter.hit("ann", POLICY).await,
        limiter.hit("ann", POLICY).await,
        limiter.hit("ann", POLICY).await,
        limiter.hit("ann", POLICY).await,
    ]
    .into();

    let remaining: Vec<u32> = decisions
        .iter()
        .map(|decision| decision.remaining)
        .collect();
    assert_eq!(remaining, [2, 1, 0, 0]);
    assert_eq!(
        decisions
            .iter()
            .map(|decision| decision.allowed)
            .collect::<Vec<_>>(),
        [true, true, true, false]
    );
    assert!(
        decisions[3].reset_after <= POLICY.window
            && decisions[3].reset_after > Duration::from_secs(58)
    );
    assert!(
        limiter.hit("bob", POLICY).await.allowed,
        "keys are counted apart"
    );
}

#[tokio::test]
async fn a_window_starts_at_its_first_hit_and_ends_after_the_policy_window() {
    let Some(limiter) = limiter() else { return };
    let short = RatePolicy {
        limit: 1,
        window: Duration::from_millis(300),
    };

    assert!(limiter.hit("ann", short).await.allowed);
    assert!(!limiter.hit("ann", short).await.allowed);
    tokio::time::sleep(Duration::from_millis(400)).await;

    assert!(limiter.hit("ann", short).await.allowed, "a new window");
}

#[tokio::test]
async fn the_counters_of_one_request_are_hit_together_each_under_its_own_policy() {
    let Some(limiter) = limiter() else { return };
    let generous = RatePolicy {
        limit: 100,
        window: Duration::from_mins(15),
    };
    limiter.hit("user:ann", POLICY).await;

    let decisions = limiter
        .hit_all(&[hit("global:192.0.2.1", generous), hit("user:ann", POLICY)])
        .await;
    let again = limiter
        .hit_all(&[hit("global:192.0.2.1", generous), hit("user:ann", POLICY)])
        .await;

    let remaining = |decisions: &[domain::ports::RateDecision]| {
        decisions
            .iter()
            .map(|decision| (decision.limit, decision.remaining))
            .collect::<Vec<_>>()
    };
    assert_eq!(remaining(&decisions), [(100, 99), (3, 1)]);
    assert_eq!(remaining(&again), [(100, 98), (3, 0)]);
    assert!(
        decisions[0].reset_after > Duration::from_secs(890),
        "its own window"
    );
    assert!(decisions[1].reset_after <= POLICY.window);
    assert!(limiter.hit_all(&[]).await.is_empty());
}

#[tokio::test]
async fn peek_does_not_count_and_reset_forgets() {
    let Some(limiter) = limiter() else { return };

    assert_eq!(limiter.peek("ann", POLICY).await.remaining, 3);
    limiter.hit("ann", POLICY).await;
    assert_eq!(limiter.peek("ann", POLICY).await.remaining, 2);
    assert_eq!(limiter.peek("ann", POLICY).await.remaining, 2);
    limiter.reset("ann").await;

    assert_eq!(limiter.hit("ann", POLICY).await.remaining, 2);
}

#[tokio::test]
async fn two_limiters_on_one_redis_count_together_and_exactly_under_concurrency() {
    if limiter().is_none() {
        return;
    }
    let url = std::env::var("TEST_REDIS_URL").unwrap();
    // Two limiters as two instances would have them: one Redis, one key prefix.
    let prefix = unique_prefix();
    let (one, two) = (Arc::new(on(&url, &prefix)), Arc::new(on(&url, &prefix)));
    let policy = RatePolicy {
        limit: 10,
        window: Duration::from_mins(1),
    };

    let hits = (0..40).map(|n| {
        let limiter = if n % 2 == 0 {
            Arc::clone(&one)
        } else {
            Arc::clone(&two)
        };
        tokio::spawn(async move { limiter.hit("crowd", policy).await.allowed })
    });
    let mut allowed = 0;
    for hit in hits.collect::<Vec<_>>() {
        if hit.await.unwrap() {
            allowed += 1;
        }
    }

    assert_eq!(allowed, 10, "exactly the limit, over both limiters");
}

#[tokio::test]
async fn an_unreachable_redis_falls_back_to_counting_in_process_without_waiting_long() {
    // Nothing listens on port 1.
    let limiter = on("redis://127.0.0.1:1/0", "unreachable:");

    let started = Instant::now();
    let decisions = [
        limiter.hit("ann", POLICY).await,
        limiter.hit("ann", POLICY).await,
        limiter.hit("ann", POLICY).await,
        limiter.hit_all(&[hit("ann", POLICY)]).await[0],
    ];

    assert_eq!(
        decisions
            .iter()
            .map(|decision| decision.allowed)
            .collect::<Vec<_>>(),
        [true, true, true, false],
        "the fallback counts"
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
}
