//! Redis adapters: state shared by every instance of the service.
//!
//! [`RedisRateLimiter`] keeps the rate-limit counters in Redis, so that several instances
//! behind a balancer count a client's (and a user's) requests together.

mod rate_limiter;

pub use rate_limiter::{RedisConfig, RedisRateLimiter};
