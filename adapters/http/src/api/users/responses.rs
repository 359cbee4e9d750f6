//! What each users operation answers, one enum per operation, every status documented,
//! and the use case's failures mapped onto it (exhaustively).

use application::{
    CreateUserError, DeleteUserError, GetUserError, ListUsersError, UpdateUserError,
};
use poem_openapi::ApiResponse;

use super::dto::{UserDto, UserPage};
use crate::api::error_responses;
use crate::errors::ErrorBody;
use crate::response_json::Json;

#[derive(ApiResponse)]
pub(crate) enum ListUsersResponse {
    #[oai(status = 200)]
    Ok(Json<UserPage>),
    /// `page`, `limit` or `search` out of range.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    #[oai(status = 500)]
    InternalError(Json<ErrorBody>),
}

#[derive(ApiResponse)]
pub(crate) enum GetUserResponse {
    #[oai(status = 200)]
    Ok(Json<UserDto>),
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    #[oai(status = 500)]
    InternalError(Json<ErrorBody>),
}

#[derive(ApiResponse)]
pub(crate) enum CreateUserResponse {
    #[oai(status = 201)]
    Created(Json<UserDto>),
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// The caller is not an admin.
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    /// The email belongs to another user.
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    #[oai(status = 500)]
    InternalError(Json<ErrorBody>),
}

#[derive(ApiResponse)]
pub(crate) enum UpdateUserResponse {
    #[oai(status = 200)]
    Ok(Json<UserDto>),
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// Not the user themselves nor an admin, or a non-admin changing a role.
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// The new email belongs to another user, or the change would demote the last admin.
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    #[oai(status = 500)]
    InternalError(Json<ErrorBody>),
}

#[derive(ApiResponse)]
pub(crate) enum DeleteUserResponse {
    #[oai(status = 204)]
    Deleted,
    /// The caller is not an admin.
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// The user owns accounts (whose history is kept), is the caller, or is the last admin.
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    #[oai(status = 500)]
    InternalError(Json<ErrorBody>),
}

error_responses! {
    ListUsersError => ListUsersResponse {},
    GetUserError => GetUserResponse {
        GetUserError::NotFound(_) => NotFound,
    },
    CreateUserError => CreateUserResponse {
        CreateUserError::Forbidden => Forbidden,
        CreateUserError::EmailTaken => Conflict,
    },
    UpdateUserError => UpdateUserResponse {
        UpdateUserError::Forbidden => Forbidden,
        UpdateUserError::NotFound(_) => NotFound,
        UpdateUserError::EmailTaken | UpdateUserError::LastAdmin => Conflict,
    },
    DeleteUserError => DeleteUserResponse {
        DeleteUserError::Forbidden => Forbidden,
        DeleteUserError::NotFound(_) => NotFound,
        DeleteUserError::OwnsAccounts | DeleteUserError::DeletingSelf | DeleteUserError::LastAdmin => Conflict,
    },
}
