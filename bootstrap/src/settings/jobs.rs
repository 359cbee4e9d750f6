//! The `JOB_*` variables: how many workers run jobs in this process, and the queue's
//! timings.

use super::ConfigError;
use super::values::{parse, positive_setting};

/// The job queue's workers and timings (`JOB_*` variables).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobSettings {
    pub workers: usize,
    /// How long a worker's claim on a job holds (a dead worker's job waits this long).
    pub lease_seconds: u64,
    /// First retry delay of a failed job, doubled per attempt.
    pub retry_base_ms: u64,
    /// Longest retry delay.
    pub retry_max_seconds: u64,
    /// How often idle workers look for jobs other processes enqueued.
    pub poll_interval_ms: u64,
    /// How long succeeded and dead jobs are kept.
    pub retention_hours: u64,
}

impl JobSettings {
    pub(super) fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(Self {
            workers: parse(get, "JOB_WORKERS", "4", "a number")?,
            lease_seconds: positive_setting(get, "JOB_LEASE_SECONDS", "60", "a number of seconds")?,
            retry_base_ms: positive_setting(
                get,
                "JOB_RETRY_BASE_MS",
                "1000",
                "a number of milliseconds",
            )?,
            retry_max_seconds: positive_setting(
                get,
                "JOB_RETRY_MAX_SECONDS",
                "3600",
                "a number of seconds",
            )?,
            poll_interval_ms: positive_setting(
                get,
                "JOB_POLL_INTERVAL_MS",
                "500",
                "a number of milliseconds",
            )?,
            retention_hours: positive_setting(
                get,
                "JOB_RETENTION_HOURS",
                "168",
                "a number of hours",
            )?,
        })
    }
}
