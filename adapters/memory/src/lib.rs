//! In-process adapters: state that lives in this process's memory. The rate limiter, and
//! every storage port ([`MemoryStore`], `DATABASE_URL=memory://`).

mod rate_limiter;
mod store;

pub use rate_limiter::InMemoryRateLimiter;
pub use store::MemoryStore;
