//! In-process adapters: state that lives in this process's memory.

mod rate_limiter;

pub use rate_limiter::InMemoryRateLimiter;
