//! Redis adapters: state shared by every instance of the service.
//!
//! [`RedisRateLimiter`] keeps the rate-limit counters in Redis, so that several instances
//! behind a balancer count a client's (and a user's) requests together;
//! [`RedisRevocations`] tells every instance which sessions ended.

mod rate_limiter;
mod revocations;

pub use rate_limiter::{RedisConfig, RedisRateLimiter};
pub use revocations::{RedisRevocations, Revoked};
