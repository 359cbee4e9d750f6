//! What each posts operation answers, one enum per operation, every status documented, and
//! the use case's failures mapped onto it (exhaustively: a new failure does not compile
//! until it has a status).

use application::{ChangePostError, CreatePostError, GetPostError, ListPostsError};
use poem_openapi::ApiResponse;

use super::dto::{PostDto, PostPage};
use crate::api::error_responses;
use crate::errors::ErrorBody;
use crate::response_json::Json;

#[derive(ApiResponse)]
pub(crate) enum ListPostsResponse {
    #[oai(status = 200)]
    Ok(Json<PostPage>),
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    #[oai(status = 500)]
    InternalError(Json<ErrorBody>),
}

#[derive(ApiResponse)]
pub(crate) enum GetPostResponse {
    #[oai(status = 200)]
    Ok(Json<PostDto>),
    /// No such post, or another user's draft.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    #[oai(status = 500)]
    InternalError(Json<ErrorBody>),
}

#[derive(ApiResponse)]
pub(crate) enum CreatePostResponse {
    #[oai(status = 201)]
    Created(Json<PostDto>),
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    #[oai(status = 500)]
    InternalError(Json<ErrorBody>),
}

#[derive(ApiResponse)]
pub(crate) enum UpdatePostResponse {
    #[oai(status = 200)]
    Ok(Json<PostDto>),
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// Not the author nor an admin.
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    /// No such post, or another user's draft.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    #[oai(status = 500)]
    InternalError(Json<ErrorBody>),
}

#[derive(ApiResponse)]
pub(crate) enum DeletePostResponse {
    #[oai(status = 204)]
    Deleted,
    /// Not the author nor an admin.
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    /// No such post, or another user's draft.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    #[oai(status = 500)]
    InternalError(Json<ErrorBody>),
}

error_responses! {
    ListPostsError => ListPostsResponse {},
    GetPostError => GetPostResponse {
        GetPostError::NotFound(_) => NotFound,
    },
    CreatePostError => CreatePostResponse {},
    ChangePostError => UpdatePostResponse {
        ChangePostError::NotFound(_) => NotFound,
        ChangePostError::Forbidden => Forbidden,
    },
    ChangePostError => DeletePostResponse {
        ChangePostError::NotFound(_) => NotFound,
        ChangePostError::Forbidden => Forbidden,
    },
}
