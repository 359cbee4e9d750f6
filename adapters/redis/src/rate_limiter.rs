//! Fixed-window rate limits in Redis, with express-rate-limit's Redis-store semantics: the
//! window of a key starts at its first hit (`INCR`, then `PEXPIRE` when the key has no
//! expiry yet), atomically in one Lua script, so concurrent hits on several instances
//! count exactly.
//!
//! Redis going away must not take the API with it: a hit that Redis cannot answer is
//! counted by the in-process fallback instead (see [`Link`](crate::link) for how an outage
//! is noticed, reported and ended).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use domain::ports::{RateDecision, RateLimiter, RatePolicy, Telemetry};
use redis::{RedisResult, Script};

use crate::RedisConfig;
use crate::link::{Health, Link, Use};

/// Counts one hit and returns `{count, milliseconds until the window resets}`.
const HIT: &str = r"
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
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

    /// Runs `script` on `key` with the policy's window.
    async fn run(
        &self,
        script: &Script,
        key: &str,
        policy: RatePolicy,
    ) -> RedisResult<RateDecision> {
        let window = u64::try_from(policy.window.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let mut invocation = script.key(format!("{}{key}", self.key_prefix));
        invocation.arg(window);
        let (count, ttl): (u64, i64) = self
            .link
            .run(async |mut connection| invocation.invoke_async(&mut connection).await)
            .await?;
        Ok(decision(count, ttl, policy))
    }
}

fn decision(count: u64, ttl_ms: i64, policy: RatePolicy) -> RateDecision {
    let count = u32::try_from(count).unwrap_or(u32::MAX);
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
        match self.run(&self.hit, key, policy).await {
            Ok(decision) => decision,
            Err(_) => self.fallback.hit(key, policy).await,
        }
    }

    async fn peek(&self, key: &str, policy: RatePolicy) -> RateDecision {
        match self.run(&self.peek, key, policy).await {
            Ok(decision) => decision,
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
