//! What the jobs operations read and write: a job as admins see it, and pages of them.

use domain::{Job, JobStatus};
use poem_openapi::{Enum, Object};
use serde::Serialize;
use uuid::Uuid;

use crate::api::page::PageDto;
use crate::timestamp::Timestamp;

/// Where a job is in its life cycle.
#[derive(Debug, Clone, Copy, Enum, Serialize)]
#[oai(rename = "JobStatus", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub(crate) enum JobStatusDto {
    Queued,
    Running,
    Succeeded,
    /// Failed an attempt; runs again at `runAt`.
    Failed,
    /// Out of attempts (or failed permanently): runs again only when retried.
    Dead,
}

impl From<JobStatus> for JobStatusDto {
    fn from(status: JobStatus) -> Self {
        match status {
            JobStatus::Queued => Self::Queued,
            JobStatus::Running => Self::Running,
            JobStatus::Succeeded => Self::Succeeded,
            JobStatus::Failed => Self::Failed,
            JobStatus::Dead => Self::Dead,
        }
    }
}

/// A background job. Its payload is not shown (it may carry a secret).
#[derive(Debug, Object, Serialize)]
#[oai(rename = "Job", rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
pub(crate) struct JobDto {
    id: Uuid,
    queue: String,
    kind: String,
    status: JobStatusDto,
    /// Attempts started so far.
    attempts: u32,
    max_attempts: u32,
    /// When it runs next (queued, failed) or last became runnable.
    run_at: Timestamp,
    /// The error of the last failed attempt.
    last_error: Option<String>,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl From<Job> for JobDto {
    fn from(job: Job) -> Self {
        Self {
            id: job.id.as_uuid(),
            queue: job.queue.as_str().to_owned(),
            kind: job.kind.as_str().to_owned(),
            status: job.status.into(),
            attempts: job.attempts,
            max_attempts: job.max_attempts,
            run_at: job.run_at.into(),
            last_error: job.last_error,
            created_at: job.created_at.into(),
            updated_at: job.updated_at.into(),
        }
    }
}

pub(crate) type JobPage = PageDto<JobDto>;
