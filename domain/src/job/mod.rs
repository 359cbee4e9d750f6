//! Background jobs: what a job is, its life cycle, and the retry rule.
//!
//! A job is stored work (`kind` + JSON `payload`) that a worker runs later, at least once.
//! Its life cycle:
//!
//! ```text
//!            claim                 success
//! queued ──────────► running ──────────────► succeeded ──► pruned after retention
//!   ▲                 │  │  failure, attempts left
//!   │ release         │  └──────────────────► failed ──(run_at reached, claim)──► running
//!   └─────────────────┘  failure, none left,
//!                        or a permanent one ─► dead ──(admin retry)──► queued
//! ```
//!
//! A worker that dies holds its job only until the lease expires; the job then counts as a
//! failed attempt (`failed`, or `dead` when none is left).

mod names;
mod outbox;
mod retry;
mod stored;

use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;

pub use self::names::{JobKind, JobNameError, MAX_JOB_NAME_LENGTH, QueueName};
pub use self::outbox::Outbox;
pub use self::retry::{AfterFailure, RetryPolicy};
pub use self::stored::{LEASE_EXPIRED_ERROR, MAX_ERROR_CHARS, stored_error};

use chrono::{DateTime, Utc};

use crate::id::JobId;
use crate::pagination::PageRequest;
use crate::trace::TraceParent;

/// Where a job is in its life cycle (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobStatus {
    /// Waiting for its `run_at`.
    Queued,
    /// Claimed by a worker, under a lease.
    Running,
    Succeeded,
    /// Failed an attempt; runs again at `run_at`.
    Failed,
    /// Out of attempts, or failed permanently; only an admin's retry runs it again.
    Dead,
}

/// A status name that is none of the five.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Must be one of: queued, running, succeeded, failed, dead")]
pub struct JobStatusError;

impl JobStatus {
    /// Every status, in life-cycle order.
    pub const ALL: [Self; 5] = [
        Self::Queued,
        Self::Running,
        Self::Succeeded,
        Self::Failed,
        Self::Dead,
    ];

    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Dead => "dead",
        }
    }

    /// Whether an admin may ask for another run: only jobs that gave up or wait for a
    /// retry. A queued or running job will run anyway; a succeeded one must not run twice.
    #[must_use]
    pub const fn is_retryable(self) -> bool {
        matches!(self, Self::Dead | Self::Failed)
    }
}

impl FromStr for JobStatus {
    type Err = JobStatusError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "queued" => Ok(Self::Queued),
            "running" => Ok(Self::Running),
            "succeeded" => Ok(Self::Succeeded),
            "failed" => Ok(Self::Failed),
            "dead" => Ok(Self::Dead),
            _ => Err(JobStatusError),
        }
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// A job's input as JSON text. The application encodes and decodes it per kind; storage
/// keeps it as it is.
#[derive(Clone, PartialEq, Eq)]
pub struct JobPayload(String);

impl JobPayload {
    /// Wraps JSON text produced by the application (or read back from storage).
    #[must_use]
    pub fn from_json(json: String) -> Self {
        Self(json)
    }

    #[must_use]
    pub fn as_json(&self) -> &str {
        &self.0
    }
}

/// Payloads may carry secrets (a password-reset token): never printed.
impl fmt::Debug for JobPayload {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "JobPayload({} bytes)", self.0.len())
    }
}

/// Attempts a job gets unless its kind says otherwise.
pub const DEFAULT_MAX_ATTEMPTS: NonZeroU32 = NonZeroU32::new(10).expect("10 is not zero");

/// A job to enqueue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    pub id: JobId,
    pub queue: QueueName,
    pub kind: JobKind,
    pub payload: JobPayload,
    /// Not before this instant.
    pub run_at: DateTime<Utc>,
    pub max_attempts: NonZeroU32,
    /// While a job with the same queue and key is pending (queued, running or failed),
    /// enqueueing another is a no-op.
    pub dedup_key: Option<String>,
    pub created_at: DateTime<Utc>,
    /// The trace of the work that enqueued it; `None` lets the queue take the current one.
    pub trace: Option<TraceParent>,
}

impl NewJob {
    /// A job to run as soon as possible, with the default number of attempts and no
    /// deduplication.
    #[must_use]
    pub fn new(queue: QueueName, kind: JobKind, payload: JobPayload, now: DateTime<Utc>) -> Self {
        Self {
            id: JobId::generate(),
            queue,
            kind,
            payload,
            run_at: now,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            dedup_key: None,
            created_at: now,
            trace: None,
        }
    }

    #[must_use]
    pub fn with_max_attempts(self, max_attempts: NonZeroU32) -> Self {
        Self {
            max_attempts,
            ..self
        }
    }

    #[must_use]
    pub fn with_dedup_key(self, key: impl Into<String>) -> Self {
        Self {
            dedup_key: Some(key.into()),
            ..self
        }
    }

    #[must_use]
    pub fn run_at(self, run_at: DateTime<Utc>) -> Self {
        Self { run_at, ..self }
    }
}

/// A stored job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: JobId,
    pub queue: QueueName,
    pub kind: JobKind,
    pub payload: JobPayload,
    pub status: JobStatus,
    /// Attempts started so far (a claim starts one).
    pub attempts: u32,
    pub max_attempts: u32,
    /// When it runs next (queued, failed) or last became runnable.
    pub run_at: DateTime<Utc>,
    /// The error of the last failed attempt.
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The trace its attempts continue: the enqueuing request's, when there was one.
    pub trace: Option<TraceParent>,
}

/// A page request over jobs, newest first, optionally by status and queue.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JobQuery {
    pub page: PageRequest,
    pub status: Option<JobStatus>,
    pub queue: Option<QueueName>,
}

#[cfg(test)]
mod tests;
