//! `/api/v1/users`: list, get, create, update, delete.

pub(crate) mod dto;
mod responses;

use application::{CreateUser, UserService};
use domain::{SearchTerm, UserChanges, UserId, UserQuery};
use poem_openapi::OpenApi;
use poem_openapi::param::{Path, Query};
use uuid::Uuid;

use self::dto::{CreateUserBody, UpdateUserBody};
use self::responses::{
    CreateUserResponse, DeleteUserResponse, GetUserResponse, ListUsersResponse, UpdateUserResponse,
};
use super::page::page_request;
use super::{ApiTags, respond};
use crate::auth::BearerAuth;
use crate::errors::ValidationErrors;
use crate::json::JsonBody;
use crate::response_json::Json;

pub(crate) struct UsersApi {
    pub(crate) users: UserService,
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
        respond(self.users.list(auth.0.actor, query).await, |users| {
            ListUsersResponse::Ok(Json(users.into()))
        })
    }

    /// Get one user.
    #[oai(path = "/users/:id", method = "get", operation_id = "getUser")]
    async fn get(&self, auth: BearerAuth, id: Path<Uuid>) -> GetUserResponse {
        respond(
            self.users.get(auth.0.actor, UserId::from_uuid(id.0)).await,
            |user| GetUserResponse::Ok(Json(user.into())),
        )
    }

    /// Create a user with any role (admins only). Queues the welcome email.
    #[oai(path = "/users", method = "post", operation_id = "createUser")]
    async fn create(&self, auth: BearerAuth, body: JsonBody<CreateUserBody>) -> CreateUserResponse {
        let command = match CreateUser::try_from(body.0) {
            Ok(command) => command,
            Err(errors) => return CreateUserResponse::BadRequest(errors.into_body()),
        };
        respond(self.users.create(auth.0.actor, command).await, |user| {
            CreateUserResponse::Created(Json(user.into()))
        })
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
        respond(
            self.users
                .update(auth.0.actor, UserId::from_uuid(id.0), changes)
                .await,
            |user| UpdateUserResponse::Ok(Json(user.into())),
        )
    }

    /// Delete a user (admins only).
    #[oai(path = "/users/:id", method = "delete", operation_id = "deleteUser")]
    async fn delete(&self, auth: BearerAuth, id: Path<Uuid>) -> DeleteUserResponse {
        respond(
            self.users
                .delete(auth.0.actor, UserId::from_uuid(id.0))
                .await,
            |()| DeleteUserResponse::Deleted,
        )
    }
}
