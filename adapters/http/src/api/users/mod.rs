//! `/api/v1/users`: list, get, create, update, delete.

pub(crate) mod dto;

use application::{
    CreateUser, CreateUserError, DeleteUserError, GetUserError, ListUsersError, UpdateUserError,
    UserService,
};
use domain::{SearchTerm, UserChanges, UserId, UserQuery};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};
use uuid::Uuid;

use self::dto::{CreateUserBody, UpdateUserBody, UserDto, UserPage};
use super::ApiTags;
use super::page::page_request;
use crate::auth::BearerAuth;
use crate::errors::{ErrorBody, ValidationErrors};
use crate::json::JsonBody;

pub(crate) struct UsersApi {
    pub(crate) users: UserService,
}

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

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Users")]
impl UsersApi {
    /// List users, oldest first; `search` matches name or email, ignoring case.
    #[oai(path = "/users", method = "get", operation_id = "listUsers")]
    async fn list(
        &self,
        auth: BearerAuth,
        /// From 1 (default 1).
        page: Query<Option<u32>>,
        /// 1 to 100 (default 10).
        limit: Query<Option<u32>>,
        /// Case-insensitive substring of the name or email.
        search: Query<Option<String>>,
    ) -> ListUsersResponse {
        let mut errors = ValidationErrors::default();
        let page = page_request(page.0, limit.0, &mut errors);
        let search = errors.check(
            "search",
            search.0.as_deref().map(SearchTerm::parse).transpose(),
        );
        let (Some(page), Some(search)) = (page, search) else {
            return ListUsersResponse::BadRequest(errors.into_body());
        };
        let query = UserQuery {
            page,
            search: search.flatten(),
        };
        match self.users.list(auth.0.actor, query).await {
            Ok(users) => ListUsersResponse::Ok(Json(users.into())),
            Err(ListUsersError::Unexpected(error)) => {
                ListUsersResponse::InternalError(ErrorBody::internal(&error))
            }
        }
    }

    /// Get one user.
    #[oai(path = "/users/:id", method = "get", operation_id = "getUser")]
    async fn get(&self, auth: BearerAuth, id: Path<Uuid>) -> GetUserResponse {
        match self.users.get(auth.0.actor, UserId::from_uuid(id.0)).await {
            Ok(user) => GetUserResponse::Ok(Json(user.into())),
            Err(error @ GetUserError::NotFound(_)) => {
                GetUserResponse::NotFound(ErrorBody::new(error.to_string()))
            }
            Err(GetUserError::Unexpected(error)) => {
                GetUserResponse::InternalError(ErrorBody::internal(&error))
            }
        }
    }

    /// Create a user with any role (admins only). Queues the welcome email.
    #[oai(path = "/users", method = "post", operation_id = "createUser")]
    async fn create(&self, auth: BearerAuth, body: JsonBody<CreateUserBody>) -> CreateUserResponse {
        let command = match CreateUser::try_from(body.0) {
            Ok(command) => command,
            Err(errors) => return CreateUserResponse::BadRequest(errors.into_body()),
        };
        match self.users.create(auth.0.actor, command).await {
            Ok(user) => CreateUserResponse::Created(Json(user.into())),
            Err(error @ CreateUserError::Forbidden) => {
                CreateUserResponse::Forbidden(ErrorBody::new(error.to_string()))
            }
            Err(error @ CreateUserError::EmailTaken) => {
                CreateUserResponse::Conflict(ErrorBody::new(error.to_string()))
            }
            Err(CreateUserError::Unexpected(error)) => {
                CreateUserResponse::InternalError(ErrorBody::internal(&error))
            }
        }
    }

    /// Update a profile: the user themselves or an admin; only an admin may change `role`.
    #[oai(path = "/users/:id", method = "put", operation_id = "updateUser")]
    async fn update(
        &self,
        auth: BearerAuth,
        id: Path<Uuid>,
        body: JsonBody<UpdateUserBody>,
    ) -> UpdateUserResponse {
        let changes = match UserChanges::try_from(body.0) {
            Ok(changes) => changes,
            Err(errors) => return UpdateUserResponse::BadRequest(errors.into_body()),
        };
        match self
            .users
            .update(auth.0.actor, UserId::from_uuid(id.0), changes)
            .await
        {
            Ok(user) => UpdateUserResponse::Ok(Json(user.into())),
            Err(error @ UpdateUserError::Forbidden) => {
                UpdateUserResponse::Forbidden(ErrorBody::new(error.to_string()))
            }
            Err(error @ UpdateUserError::NotFound(_)) => {
                UpdateUserResponse::NotFound(ErrorBody::new(error.to_string()))
            }
            Err(error @ (UpdateUserError::EmailTaken | UpdateUserError::LastAdmin)) => {
                UpdateUserResponse::Conflict(ErrorBody::new(error.to_string()))
            }
            Err(UpdateUserError::Unexpected(error)) => {
                UpdateUserResponse::InternalError(ErrorBody::internal(&error))
            }
        }
    }

    /// Delete a user (admins only).
    #[oai(path = "/users/:id", method = "delete", operation_id = "deleteUser")]
    async fn delete(&self, auth: BearerAuth, id: Path<Uuid>) -> DeleteUserResponse {
        match self
            .users
            .delete(auth.0.actor, UserId::from_uuid(id.0))
            .await
        {
            Ok(()) => DeleteUserResponse::Deleted,
            Err(error @ DeleteUserError::Forbidden) => {
                DeleteUserResponse::Forbidden(ErrorBody::new(error.to_string()))
            }
            Err(error @ DeleteUserError::NotFound(_)) => {
                DeleteUserResponse::NotFound(ErrorBody::new(error.to_string()))
            }
            Err(
                error @ (DeleteUserError::OwnsAccounts
                | DeleteUserError::DeletingSelf
                | DeleteUserError::LastAdmin),
            ) => DeleteUserResponse::Conflict(ErrorBody::new(error.to_string())),
            Err(DeleteUserError::Unexpected(error)) => {
                DeleteUserResponse::InternalError(ErrorBody::internal(&error))
            }
        }
    }
}
