//! What each jobs operation answers, every status documented, and the use case's failures
//! mapped onto it (exhaustively).

use application::{ListJobsError, RetryJobError};
use poem_openapi::ApiResponse;

use super::dto::{JobDto, JobPage};
use crate::api::error_responses;
use crate::errors::ErrorBody;
use crate::response_json::Json;

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

error_responses! {
    ListJobsError => ListJobsResponse {
        ListJobsError::Forbidden => Forbidden,
    },
    RetryJobError => RetryJobResponse {
        RetryJobError::Forbidden => Forbidden,
        RetryJobError::NotFound(_) => NotFound,
        RetryJobError::NotRetryable(_) | RetryJobError::DuplicatePending => Conflict,
    },
}
