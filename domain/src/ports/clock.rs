//! The clock port: the use cases ask it for "now" so that tests can fix time.

use chrono::{DateTime, SubsecRound, Utc};

/// Tells the current time.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait Clock: Send + Sync + 'static {
    /// Now, truncated to microseconds: the precision every supported database stores, so
    /// that a value written and read back compares equal.
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(6)
    }
}
