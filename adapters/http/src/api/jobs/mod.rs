//! `/api/v1/admin/jobs`: the job queue as admins see it.

use application::JobAdminService;
use domain::{JobId, JobQuery, JobStatus, QueueName};
use poem_openapi::OpenApi;
use poem_openapi::param::{Path, Query};
use uuid::Uuid;

use crate::response_json::Json;

pub(crate) mod dto;
mod responses;

use self::responses::{ListJobsResponse, RetryJobResponse};
use super::page::page_request;
use super::{ApiTags, respond};
use crate::auth::BearerAuth;
use crate::errors::ValidationErrors;

pub(crate) struct JobsApi {
    pub(crate) jobs: JobAdminService,
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
        respond(self.jobs.list(auth.0.actor, query).await, |page| {
            ListJobsResponse::Ok(Json(page.into()))
        })
    }

    /// Run a dead or failed job again, with a fresh set of attempts (admins only).
    #[oai(path = "/jobs/:id/retry", method = "post", operation_id = "retryJob")]
    async fn retry(&self, auth: BearerAuth, id: Path<Uuid>) -> RetryJobResponse {
        respond(
            self.jobs.retry(auth.0.actor, JobId::from_uuid(id.0)).await,
            |job| RetryJobResponse::Accepted(Json(job.into())),
        )
    }
}
