//! The admins' view of the queue: list jobs, retry the ones that gave up.

use std::sync::Arc;

use domain::ports::{Clock, JobRepository, RepositoryError, RetryJobRecordError};
use domain::{Actor, Job, JobId, JobQuery, JobStatus, Page};

#[derive(Debug, thiserror::Error)]
pub enum ListJobsError {
    #[error("Forbidden")]
    Forbidden,
    #[error("unexpected failure while listing jobs")]
    Unexpected(#[source] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum RetryJobError {
    #[error("Forbidden")]
    Forbidden,
    #[error("Job with ID {0} not found")]
    NotFound(JobId),
    #[error("Only dead or failed jobs can be retried; this one is {0}")]
    NotRetryable(JobStatus),
    #[error("Another pending job does the same work")]
    DuplicatePending,
    #[error("unexpected failure while retrying a job")]
    Unexpected(#[source] anyhow::Error),
}

impl From<RepositoryError> for ListJobsError {
    fn from(error: RepositoryError) -> Self {
        Self::Unexpected(error.into())
    }
}

/// Job administration; admins only.
#[derive(Clone)]
pub struct JobAdminService {
    jobs: Arc<dyn JobRepository>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for JobAdminService {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("JobAdminService")
            .finish_non_exhaustive()
    }
}

impl JobAdminService {
    pub fn new(jobs: Arc<dyn JobRepository>, clock: Arc<dyn Clock>) -> Self {
        Self { jobs, clock }
    }

    /// One page of jobs, newest first.
    #[tracing::instrument(name = "JobAdminService.list", skip(self), fields(actor = %actor.user_id))]
    pub async fn list(&self, actor: Actor, query: JobQuery) -> Result<Page<Job>, ListJobsError> {
        if !actor.is_admin() {
            return Err(ListJobsError::Forbidden);
        }
        Ok(self.jobs.list(&query).await?)
    }

    /// Queues a dead or failed job again with a fresh set of attempts.
    #[tracing::instrument(name = "JobAdminService.retry", skip(self), fields(actor = %actor.user_id))]
    pub async fn retry(&self, actor: Actor, id: JobId) -> Result<Job, RetryJobError> {
        if !actor.is_admin() {
            return Err(RetryJobError::Forbidden);
        }
        let job = self
            .jobs
            .retry(id, self.clock.now())
            .await
            .map_err(|error| match error {
                RetryJobRecordError::NotFound => RetryJobError::NotFound(id),
                RetryJobRecordError::NotRetryable(status) => RetryJobError::NotRetryable(status),
                RetryJobRecordError::DuplicatePending => RetryJobError::DuplicatePending,
                RetryJobRecordError::Unexpected(error) => RetryJobError::Unexpected(error.into()),
            })?;
        tracing::info!(job_id = %id, kind = %job.kind, "job requeued by an admin");
        Ok(job)
    }
}
