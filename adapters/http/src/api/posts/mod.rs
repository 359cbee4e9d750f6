//! `/api/v1/posts`.

use application::{CreatePost, PostFilters, PostService};
use domain::{PostChanges, PostId, SearchTerm, UserId};
use poem_openapi::OpenApi;
use poem_openapi::param::{Path, Query};
use uuid::Uuid;

use crate::response_json::Json;

mod dto;
mod responses;

pub(crate) use self::dto::PostDto;
use self::dto::{CreatePostBody, UpdatePostBody};
use self::responses::{
    CreatePostResponse, DeletePostResponse, GetPostResponse, ListPostsResponse, UpdatePostResponse,
};
use super::ApiTags;
use super::page::page_request;
use super::respond;
use crate::auth::BearerAuth;
use crate::errors::ValidationErrors;
use crate::json::JsonBody;

pub(crate) struct PostsApi {
    pub(crate) posts: PostService,
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Posts")]
impl PostsApi {
    /// Published posts and the caller's own drafts, newest first.
    #[oai(path = "/posts", method = "get", operation_id = "listPosts")]
    async fn list(
        &self,
        auth: BearerAuth,
        page: Query<Option<u32>>,
        limit: Query<Option<u32>>,
        #[oai(name = "authorId")] author_id: Query<Option<Uuid>>,
        published: Query<Option<bool>>,
        /// Case-insensitive substring of the title or content.
        search: Query<Option<String>>,
    ) -> ListPostsResponse {
        let mut errors = ValidationErrors::default();
        let page = page_request(page.0, limit.0, &mut errors);
        let search = errors.check(
            "search",
            search.0.as_deref().map(SearchTerm::parse).transpose(),
        );
        let (Some(page), Some(search)) = (page, search) else {
            return ListPostsResponse::BadRequest(errors.into_body());
        };
        let filters = PostFilters {
            page,
            author_id: author_id.0.map(UserId::from_uuid),
            published: published.0,
            search: search.flatten(),
        };
        respond(self.posts.list(auth.0.actor, filters).await, |page| {
            ListPostsResponse::Ok(Json(page.into()))
        })
    }

    /// One post (another user's draft is not found).
    #[oai(path = "/posts/:id", method = "get", operation_id = "getPost")]
    async fn get(&self, auth: BearerAuth, id: Path<Uuid>) -> GetPostResponse {
        respond(
            self.posts.get(auth.0.actor, PostId::from_uuid(id.0)).await,
            |post| GetPostResponse::Ok(Json(post.into())),
        )
    }

    /// Write a post; the caller is its author. Publishing announces it in room `posts`.
    #[oai(path = "/posts", method = "post", operation_id = "createPost")]
    async fn create(&self, auth: BearerAuth, body: JsonBody<CreatePostBody>) -> CreatePostResponse {
        let command = match CreatePost::try_from(body.0) {
            Ok(command) => command,
            Err(errors) => return CreatePostResponse::BadRequest(errors.into_body()),
        };
        respond(self.posts.create(auth.0.actor, command).await, |post| {
            CreatePostResponse::Created(Json(post.into()))
        })
    }

    /// Change a post: its author or an admin.
    #[oai(path = "/posts/:id", method = "put", operation_id = "updatePost")]
    async fn update(
        &self,
        auth: BearerAuth,
        id: Path<Uuid>,
        body: JsonBody<UpdatePostBody>,
    ) -> UpdatePostResponse {
        let changes = match PostChanges::try_from(body.0) {
            Ok(changes) => changes,
            Err(errors) => return UpdatePostResponse::BadRequest(errors.into_body()),
        };
        let updated = self
            .posts
            .update(auth.0.actor, PostId::from_uuid(id.0), changes)
            .await;
        respond(updated, |post| UpdatePostResponse::Ok(Json(post.into())))
    }

    /// Delete a post: its author or an admin.
    #[oai(path = "/posts/:id", method = "delete", operation_id = "deletePost")]
    async fn delete(&self, auth: BearerAuth, id: Path<Uuid>) -> DeletePostResponse {
        let deleted = self
            .posts
            .delete(auth.0.actor, PostId::from_uuid(id.0))
            .await;
        respond(deleted, |()| DeletePostResponse::Deleted)
    }
}
