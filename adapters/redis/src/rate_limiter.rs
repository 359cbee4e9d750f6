//! Fixed-window rate limits in Redis, with express-rate-limit's Redis-store semantics: the
//! window of a key starts at its first hit (`INCR`, then `PEXPIRE` when the key has no
//! expiry yet), atomically in one Lua script, so concurrent hits on several instances
//! count exactly.
//!
//! Redis going away must not take the API with it: a hit that Redis cannot answer (down,
//! unreachable, slower than the response timeout) is counted by the in-process fallback
//! instead, with one warning when that starts and one when Redis answers again. While it
//! does not answer, Redis is asked again once a second (`PROBE_INTERVAL`), not on every
//! hit, so an outage costs requests no waiting beyond the first. The connection manager
//! reconnects by itself, and connects lazily, so an instance also starts while Redis is
//! down.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use domain::ports::{RateDecision, RateLimiter, RatePolicy};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{RedisResult, Script};

/// How long hits go straight to the fallback after Redis failed to answer.
const PROBE_INTERVAL: Duration = Duration::from_secs(1);

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

/// Where Redis is and how long to wait for it.
#[derive(Debug, Clone)]
pub struct RedisConfig {
    /// `redis://host:port/db` (`rediss://` for TLS is not enabled in this build).
    pub url: String,
    /// Longest wait for an answer (and for a connection) before the fallback counts.
    pub timeout: Duration,
    /// Prefix of every key, so that several services can share one Redis database.
    pub key_prefix: String,
}

/// See the module documentation.
pub struct RedisRateLimiter {
    client: redis::Client,
    manager_config: ConnectionManagerConfig,
    /// Replaced by a fresh one when a command times out: a connection whose answers are
    /// late, or lost, would leave later commands waiting behind them.
    connection: Mutex<ConnectionManager>,
    hit: Script,
    peek: Script,
    key_prefix: String,
    fallback: Arc<dyn RateLimiter>,
    /// Whether the last call fell back (for warning once per outage).
    degraded: AtomicBool,
    /// Until when hits skip Redis after a failure.
    skip_until: Mutex<Option<Instant>>,
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
    pub fn new(config: &RedisConfig, fallback: Arc<dyn RateLimiter>) -> anyhow::Result<Self> {
        let client = redis::Client::open(config.url.as_str())?;
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(config.timeout))
            .set_response_timeout(Some(config.timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(1));
        Ok(Self {
            connection: Mutex::new(ConnectionManager::new_lazy_with_config(
                client.clone(),
                manager_config.clone(),
            )?),
            client,
            manager_config,
            hit: Script::new(HIT),
            peek: Script::new(PEEK),
            key_prefix: config.key_prefix.clone(),
            fallback,
            degraded: AtomicBool::new(false),
            skip_until: Mutex::new(None),
        })
    }

    fn connection(&self) -> ConnectionManager {
        self.connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Drops the connection for a new one (opened at the next command).
    fn reconnect(&self) {
        match ConnectionManager::new_lazy_with_config(
            self.client.clone(),
            self.manager_config.clone(),
        ) {
            Ok(fresh) => {
                *self
                    .connection
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = fresh;
            }
            Err(error) => tracing::warn!(%error, "could not replace the Redis connection"),
        }
    }

    /// Whether Redis failed less than `PROBE_INTERVAL` ago.
    fn skipping(&self) -> bool {
        self.skip_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some_and(|until| Instant::now() < until)
    }

    /// Runs `script` on `key` with the policy's window.
    async fn run(
        &self,
        script: &Script,
        key: &str,
        policy: RatePolicy,
    ) -> RedisResult<RateDecision> {
        if self.skipping() {
            return Err(redis::RedisError::from((
                redis::ErrorKind::Io,
                "Redis failed a moment ago",
            )));
        }
        let window = u64::try_from(policy.window.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let (count, ttl): (u64, i64) = script
            .key(format!("{}{key}", self.key_prefix))
            .arg(window)
            .invoke_async(&mut self.connection())
            .await?;
        Ok(decision(count, ttl, policy))
    }

    /// Whether Redis answered; says so once when that changes.
    fn answered(&self, result: &RedisResult<RateDecision>) {
        match result {
            Ok(_) => {
                *self
                    .skip_until
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = None;
                if self.degraded.swap(false, Ordering::Relaxed) {
                    tracing::warn!(
                        "Redis answers again: rate limits are shared by every instance again"
                    );
                }
            }
            Err(error) => {
                if error.is_timeout() {
                    self.reconnect();
                }
                let mut skip_until = self
                    .skip_until
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                if skip_until.is_none_or(|until| Instant::now() >= until) {
                    *skip_until = Some(Instant::now() + PROBE_INTERVAL);
                }
                drop(skip_until);
                if !self.degraded.swap(true, Ordering::Relaxed) {
                    tracing::warn!(%error, "Redis does not answer: rate limits are counted in this process until it does");
                }
            }
        }
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
        let result = self.run(&self.hit, key, policy).await;
        self.answered(&result);
        match result {
            Ok(decision) => decision,
            Err(_) => self.fallback.hit(key, policy).await,
        }
    }

    async fn peek(&self, key: &str, policy: RatePolicy) -> RateDecision {
        let result = self.run(&self.peek, key, policy).await;
        self.answered(&result);
        match result {
            Ok(decision) => decision,
            Err(_) => self.fallback.peek(key, policy).await,
        }
    }

    async fn reset(&self, key: &str) {
        let deleted: RedisResult<()> = redis::cmd("DEL")
            .arg(format!("{}{key}", self.key_prefix))
            .query_async(&mut self.connection())
            .await;
        if let Err(error) = deleted {
            tracing::debug!(%error, "could not reset a rate-limit key in Redis");
        }
        self.fallback.reset(key).await;
    }
}
