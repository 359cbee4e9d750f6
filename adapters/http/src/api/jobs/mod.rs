//! `/api/v1/admin/jobs`: the job queue as admins see it.

use application::{JobAdminService, ListJobsError, RetryJobError};
use domain::{Job, JobId, JobQuery, JobStatus, QueueName};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use uuid::Uuid;

use super::ApiTags;
use super::page::{PageMeta, page_request, wire_page};
use crate::auth::BearerAuth;
use crate::errors::{ErrorBody, ValidationErrors};
use crate::timestamp::Timestamp;

pub(crate) struct JobsApi {
    pub(crate) jobs: JobAdminService,
}

/// Where a job is in its life cycle.
#[derive(Debug, Clone, Copy, Enum)]
#[oai(rename = "JobStatus", rename_all = "lowercase")]
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
#[derive(Debug, Object)]
#[oai(rename = "Job", rename_all = "camelCase")]
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

#[derive(Debug, Object)]
pub(crate) struct JobPage {
    data: Vec<JobDto>,
    meta: PageMeta,
}

#[derive(ApiResponse)]
pub(crate) enum ListJobsResponse {
    #[oai(status = 200)]
    Ok(Json<JobPage>),
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// Not an admin.
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    #[oai(status = 500)]
    InternalError(Json<ErrorBody>),
}

#[derive(ApiResponse)]
pub(crate) enum RetryJobResponse {
    /// Requeued: runs again soon with a fresh set of attempts.
    #[oai(status = 202)]
    Accepted(Json<JobDto>),
    /// Not an admin.
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// The job is queued, running or succeeded, or another pending job does the same work.
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    #[oai(status = 500)]
    InternalError(Json<ErrorBody>),
}

/// The `status` and `queue` filters, each problem recorded in `errors`.
fn filters(
    status: Option<&str>,
    queue: Option<&str>,
    errors: &mut ValidationErrors,
) -> (Option<JobStatus>, Option<QueueName>) {
    let status = status.and_then(|status| errors.check("status", status.parse::<JobStatus>()));
    let queue = queue.and_then(|queue| errors.check("queue", QueueName::parse(queue)));
    (status, queue)
}

#[OpenApi(prefix_path = "/api/v1/admin", tag = "ApiTags::Jobs")]
impl JobsApi {
    /// Background jobs, newest first (admins only).
    #[oai(path = "/jobs", method = "get", operation_id = "listJobs")]
    async fn list(
        &self,
        auth: BearerAuth,
        page: Query<Option<u32>>,
        limit: Query<Option<u32>>,
        /// `queued`, `running`, `succeeded`, `failed` or `dead`.
        status: Query<Option<String>>,
        /// A queue name, e.g. `mail`.
        queue: Query<Option<String>>,
    ) -> ListJobsResponse {
        let mut errors = ValidationErrors::default();
        let page = page_request(page.0, limit.0, &mut errors);
        let (status, queue) = filters(status.0.as_deref(), queue.0.as_deref(), &mut errors);
        let Some(page) = page.filter(|_| errors.is_empty()) else {
            return ListJobsResponse::BadRequest(errors.into_body());
        };
        let query = JobQuery {
            page,
            status,
            queue,
        };
        match self.jobs.list(auth.0.actor, query).await {
            Ok(page) => {
                let (data, meta) = wire_page(page);
                ListJobsResponse::Ok(Json(JobPage { data, meta }))
            }
            Err(error @ ListJobsError::Forbidden) => {
                ListJobsResponse::Forbidden(ErrorBody::new(error.to_string()))
            }
            Err(ListJobsError::Unexpected(error)) => {
                ListJobsResponse::InternalError(ErrorBody::internal(&error))
            }
        }
    }

    /// Run a dead or failed job again, with a fresh set of attempts (admins only).
    #[oai(path = "/jobs/:id/retry", method = "post", operation_id = "retryJob")]
    async fn retry(&self, auth: BearerAuth, id: Path<Uuid>) -> RetryJobResponse {
        match self.jobs.retry(auth.0.actor, JobId::from_uuid(id.0)).await {
            Ok(job) => RetryJobResponse::Accepted(Json(job.into())),
            Err(error @ RetryJobError::Forbidden) => {
                RetryJobResponse::Forbidden(ErrorBody::new(error.to_string()))
            }
            Err(error @ RetryJobError::NotFound(_)) => {
                RetryJobResponse::NotFound(ErrorBody::new(error.to_string()))
            }
            Err(error @ (RetryJobError::NotRetryable(_) | RetryJobError::DuplicatePending)) => {
                RetryJobResponse::Conflict(ErrorBody::new(error.to_string()))
            }
            Err(RetryJobError::Unexpected(error)) => {
                RetryJobResponse::InternalError(ErrorBody::internal(&error))
            }
        }
    }
}
