//! Redis adapters: state shared by every instance of the service.
//!
//! - [`RedisRateLimiter`] keeps the rate-limit counters in Redis, so that several instances
//!   behind a balancer count a client's (and a user's) requests together;
//! - [`SocketIoBus`] carries socket.io's room events and broadcasts between instances (the
//!   pub/sub driver of `socketioxide-redis`'s adapter);
//! - [`RedisRevocations`] tells every instance which sessions ended.
//!
//! Each use has its own command connection (`link`) and, where it listens, its own pub/sub
//! connection (`subscriber`); while Redis does not answer, each falls back to this instance
//! alone and comes back by itself.

mod link;
mod rate_limiter;
mod revocations;
mod socket_io;
mod subscriber;

use std::time::Duration;

pub use rate_limiter::RedisRateLimiter;
pub use revocations::{RedisRevocations, Revoked};
pub use socket_io::SocketIoBus;

/// Where Redis is and how long to wait for it.
#[derive(Debug, Clone)]
pub struct RedisConfig {
    /// `redis://host:port/db` (`rediss://` for TLS is not enabled in this build).
    pub url: String,
    /// Longest wait for an answer (and for a connection) before this instance goes on alone.
    pub timeout: Duration,
    /// Prefix of every key, so that several services can share one Redis database.
    pub key_prefix: String,
}
