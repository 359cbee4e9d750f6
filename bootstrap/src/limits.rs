//! Which rate limiter the service counts with: Redis when `REDIS_URL` is set (every
//! instance counts together, and each falls back to its own memory while Redis does not
//! answer), this process's memory otherwise.

use std::sync::Arc;
use std::time::Duration;

use adapter_memory::InMemoryRateLimiter;
use adapter_redis::{RedisConfig, RedisRateLimiter};
use domain::ports::{RateLimiter, Telemetry};
use secrecy::ExposeSecret as _;

use crate::settings::Settings;

/// Longest wait for Redis before a hit is counted in process instead.
const REDIS_TIMEOUT: Duration = Duration::from_millis(500);
/// The rate limiter's part of the key space, after `REDIS_KEY_PREFIX`.
const RATE_LIMIT_KEYS: &str = "ratelimit:";

/// Where Redis is (`REDIS_URL`), with the service's keys under `part` of its prefix.
pub(crate) fn redis_config(settings: &Settings, part: &str) -> Option<RedisConfig> {
    settings.redis_url.as_ref().map(|url| RedisConfig {
        url: url.expose_secret().to_owned(),
        timeout: REDIS_TIMEOUT,
        key_prefix: format!("{}{part}", settings.redis_key_prefix),
    })
}

pub(crate) fn rate_limiter(
    settings: &Settings,
    telemetry: Arc<dyn Telemetry>,
) -> anyhow::Result<Arc<dyn RateLimiter>> {
    let in_process: Arc<dyn RateLimiter> = Arc::new(InMemoryRateLimiter::new());
    let Some(redis) = redis_config(settings, RATE_LIMIT_KEYS) else {
        return Ok(in_process);
    };
    let limiter = RedisRateLimiter::new(&redis, in_process, telemetry)
        .map_err(|error| anyhow::anyhow!("invalid REDIS_URL: {error}"))?;
    tracing::info!("rate limits are counted in Redis, shared by every instance");
    Ok(Arc::new(limiter))
}
