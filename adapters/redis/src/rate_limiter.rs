//! Fixed-window rate limits in Redis, with express-rate-limit's Redis-store semantics: the
//! window of a key starts at its first hit (`INCR`, then `PEXPIRE` when the key has no
//! expiry yet), atomically in one Lua script, so concurrent hits on several instances
//! count exactly. The several counters of one request (client, user, ...) are hit by one
//! script call: one round trip per request, not one per counter. (Its keys may then sit in
//! different hash slots: a standalone Redis, not a cluster.)
//!
//! Redis going away must not take the API with it: a hit that Redis cannot answer is
//! counted by the in-process fallback instead (see [`Link`](crate::link) for how an outage
//! is noticed, reported and ended).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use domain::ports::{RateDecision, RateHit, RateLimiter, RatePolicy, Telemetry};
use redis::{RedisResult, Script};

use crate::RedisConfig;
use crate::link::{Health, Link, Use};

/// Counts one hit on each key (its window in the same position of `ARGV`) and returns
/// `{count, milliseconds until the window resets}` for each, flattened.
const HIT: &str = r"
local result = {}
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then
    redis.call('PEXPIRE', key, ARGV[i])
    ttl = tonumber(ARGV[i])
  end
  result[2 * i - 1] = count
  result[2 * i] = ttl
end
return result
";

/// The same without counting (`{0, window}` for a key not seen in this window).
const PEEK: &str = r"
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
";

/// See the module documentation.
pub struct RedisRateLimiter {
    link: Link,
    hit: Script,
    peek: Script,
    key_prefix: String,
    fallback: Arc<dyn RateLimiter>,
}

impl std::fmt::Debug for RedisRateLimiter {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("RedisRateLimiter")
            .field("key_prefix", &self.key_prefix)
            .finish_non_exhaustive()
    }
}

impl RedisRateLimiter {
    /// A limiter on the Redis at `config.url`, counting with `fallback` while Redis cannot
    /// answer. Does not connect yet.
    ///
    /// # Errors
    /// When the URL is not a Redis URL.
    pub fn new(
        config: &RedisConfig,
        fallback: Arc<dyn RateLimiter>,
        telemetry: Arc<dyn Telemetry>,
    ) -> anyhow::Result<Self> {
        let purpose = Use {
            component: "rate_limits",
            alone: "Redis does not answer: rate limits are counted in this process until it does",
            shared: "Redis answers again: rate limits are shared by every instance again",
        };
        Ok(Self {
            link: Link::new(config, Health::new(purpose, telemetry))?,
            hit: Script::new(HIT),
            peek: Script::new(PEEK),
            key_prefix: config.key_prefix.clone(),
            fallback,
        })
    }

    /// Runs `script` on the keys with their policies' windows.
    async fn run(&self, script: &Script, hits: &[RateHit]) -> RedisResult<Vec<RateDecision>> {
        let mut invocation = script.prepare_invoke();
        for hit in hits {
            invocation.key(format!("{}{}", self.key_prefix, hit.key));
        }
        for hit in hits {
            invocation.arg(window_ms(hit.policy));
        }
        let flat: Vec<i64> = self
            .link
            .run(async |mut connection| invocation.invoke_async(&mut connection).await)
            .await?;
        if flat.len() != hits.len() * 2 {
            return Err(redis::RedisError::from((
                redis::ErrorKind::Parse,
                "a rate-limit script answered the wrong number of values",
            )));
        }
        Ok(hits
            .iter()
            .zip(flat.chunks_exact(2))
            .map(|(hit, pair)| decision(pair[0], pair[1], hit.policy))
            .collect())
    }
}

fn one(key: &str, policy: RatePolicy) -> RateHit {
    RateHit {
        key: key.to_owned(),
        policy,
    }
}

fn window_ms(policy: RatePolicy) -> u64 {
    u64::try_from(policy.window.as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}

fn decision(count: i64, ttl_ms: i64, policy: RatePolicy) -> RateDecision {
    let count = u32::try_from(count.max(0)).unwrap_or(u32::MAX);
    RateDecision {
        allowed: count <= policy.limit,
        limit: policy.limit,
        remaining: policy.limit.saturating_sub(count),
        reset_after: Duration::from_millis(u64::try_from(ttl_ms).unwrap_or(0)),
    }
}

#[async_trait]
impl RateLimiter for RedisRateLimiter {
    async fn hit(&self, key: &str, policy: RatePolicy) -> RateDecision {
        match self.run(&self.hit, &[one(key, policy)]).await {
            Ok(decisions) => decisions[0],
            Err(_) => self.fallback.hit(key, policy).await,
        }
    }

    async fn hit_all(&self, hits: &[RateHit]) -> Vec<RateDecision> {
        match self.run(&self.hit, hits).await {
            Ok(decisions) => decisions,
            Err(_) => self.fallback.hit_all(hits).await,
        }
    }

    async fn peek(&self, key: &str, policy: RatePolicy) -> RateDecision {
        match self.run(&self.peek, &[one(key, policy)]).await {
            Ok(decisions) => decisions[0],
            Err(_) => self.fallback.peek(key, policy).await,
        }
    }

    async fn reset(&self, key: &str) {
        let prefixed = format!("{}{key}", self.key_prefix);
        let deleted: RedisResult<()> = self
            .link
            .run(async |mut connection| {
                redis::cmd("DEL")
                    .arg(&prefixed)
                    .query_async(&mut connection)
                    .await
            })
            .await;
        if let Err(error) = deleted {
            tracing::debug!(%error, "could not reset a rate-limit key in Redis");
        }
        self.fallback.reset(key).await;
    }
}
