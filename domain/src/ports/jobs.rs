//! The job queue ports: enqueueing (what use cases need) and the worker's side (claim,
//! finish, recover), plus the admin's view.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::id::JobId;
use crate::job::{AfterFailure, Job, JobKind, JobQuery, JobStatus, NewJob};
use crate::pagination::Page;
use crate::ports::RepositoryError;

/// What enqueueing did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// The job is stored.
    Created,
    /// A pending job with the same queue and dedup key exists; nothing was stored.
    Duplicate,
}

/// Stores jobs for later execution.
///
/// Use cases that must not lose a job when their own write commits enqueue it through
/// their repository in the same transaction instead (see `UserRepository::insert`).
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait JobQueue: Send + Sync + 'static {
    /// Stores `job` as `queued`.
    ///
    /// # Errors
    /// `RepositoryError` for storage failures; a duplicate is `Ok(Enqueued::Duplicate)`.
    async fn enqueue(&self, job: NewJob) -> Result<Enqueued, RepositoryError>;
}

/// Identifies the holder of leases: a claim is only honoured for the owner that made it.
/// A worker whose lease expired can no longer complete, fail or release the job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LeaseOwner(pub Uuid);

impl LeaseOwner {
    #[must_use]
    pub fn generate() -> Self {
        Self(Uuid::now_v7())
    }
}

/// What a worker asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimRequest {
    pub owner: LeaseOwner,
    /// Only jobs of these kinds (the ones the worker can run).
    pub kinds: Vec<JobKind>,
    /// At most this many jobs.
    pub limit: u32,
    /// How long the claim holds: after this the job may be recovered.
    pub lease: Duration,
    pub now: DateTime<Utc>,
}

impl ClaimRequest {
    /// When the leases this claim takes run out (the far future for an absurd lease).
    #[must_use]
    pub fn lease_ends_at(&self) -> DateTime<Utc> {
        chrono::Duration::from_std(self.lease)
            .ok()
            .and_then(|lease| self.now.checked_add_signed(lease))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

/// Why an admin's retry was refused.
#[derive(Debug, thiserror::Error)]
pub enum RetryJobRecordError {
    #[error("no job with this id")]
    NotFound,
    /// Only dead and failed jobs may be retried.
    #[error("the job is {0}")]
    NotRetryable(JobStatus),
    /// Another pending job holds the same dedup key.
    #[error("a pending job has the same deduplication key")]
    DuplicatePending,
    #[error(transparent)]
    Unexpected(#[from] RepositoryError),
}

/// The storage side of workers and of the admin's view. Adapters must make `claim` safe
/// under concurrency: two claims never return the same job while its lease holds.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait JobRepository: Send + Sync + 'static {
    /// Marks up to `limit` runnable jobs (queued or failed, `run_at <= now`, of the given
    /// kinds, oldest `run_at` first) as running under a lease for `owner`, counts one
    /// attempt each, and returns them.
    ///
    /// # Errors
    /// `RepositoryError` for storage failures.
    async fn claim(&self, request: &ClaimRequest) -> Result<Vec<Job>, RepositoryError>;

    /// Marks the jobs `owner` still holds as succeeded (their payload is dropped: it may
    /// hold secrets and is not needed any more). Returns how many were still held.
    ///
    /// # Errors
    /// `RepositoryError` for storage failures.
    async fn succeed(
        &self,
        owner: LeaseOwner,
        ids: &[JobId],
        now: DateTime<Utc>,
    ) -> Result<u64, RepositoryError>;

    /// Records a failed attempt of a job `owner` still holds: `failed` with the new
    /// `run_at`, or `dead`. Returns whether the job was still held.
    ///
    /// # Errors
    /// `RepositoryError` for storage failures.
    async fn fail(
        &self,
        owner: LeaseOwner,
        id: JobId,
        error: &str,
        next: AfterFailure,
        now: DateTime<Utc>,
    ) -> Result<bool, RepositoryError>;

    /// Gives jobs `owner` still holds back to the queue, runnable at once, without counting
    /// the attempt (a worker stopping before it could finish them). Returns how many.
    ///
    /// # Errors
    /// `RepositoryError` for storage failures.
    async fn release(
        &self,
        owner: LeaseOwner,
        ids: &[JobId],
        now: DateTime<Utc>,
    ) -> Result<u64, RepositoryError>;

    /// Extends to `until` the leases of the jobs `owner` still holds (the heartbeat of a
    /// live worker, so that a job longer than its lease is not claimed again while it
    /// runs). Returns how many were still held.
    ///
    /// # Errors
    /// `RepositoryError` for storage failures.
    async fn extend_leases(
        &self,
        owner: LeaseOwner,
        ids: &[JobId],
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, RepositoryError>;

    /// Running jobs whose lease expired before `now` (their worker died or hung) become
    /// `failed`, runnable at once, or `dead` when that was their last attempt. Returns how
    /// many.
    ///
    /// # Errors
    /// `RepositoryError` for storage failures.
    async fn recover_expired(&self, now: DateTime<Utc>) -> Result<u64, RepositoryError>;

    /// Deletes succeeded and dead jobs last updated before `before`. Returns how many.
    ///
    /// # Errors
    /// `RepositoryError` for storage failures.
    async fn prune(&self, before: DateTime<Utc>) -> Result<u64, RepositoryError>;

    /// Waits until jobs may have been enqueued (by this process, or by others where the
    /// backend can tell), or until `timeout` passes. Workers call it when idle; it is a
    /// hint, never a guarantee, so they poll as well.
    async fn wait_for_jobs(&self, timeout: Duration);

    /// One page of jobs, newest first.
    ///
    /// # Errors
    /// `RepositoryError` for storage failures.
    async fn list(&self, query: &JobQuery) -> Result<Page<Job>, RepositoryError>;

    /// Queues a dead or failed job again, runnable at once, with a fresh set of attempts;
    /// its last error stays for reference. Returns the job as stored.
    ///
    /// # Errors
    /// `RetryJobRecordError::NotFound` when no job has this id; `NotRetryable` when it is
    /// queued, running or succeeded; `DuplicatePending` when another pending job has its
    /// dedup key; `Unexpected` otherwise.
    async fn retry(&self, id: JobId, now: DateTime<Utc>) -> Result<Job, RetryJobRecordError>;
}
