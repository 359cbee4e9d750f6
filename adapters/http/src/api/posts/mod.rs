//! `/api/v1/posts`.

use application::{
    ChangePostError, CreatePost, CreatePostError, GetPostError, ListPostsError, PostFilters,
    PostService,
};
use domain::{PostChanges, PostId, SearchTerm, UserId};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};
use uuid::Uuid;

mod dto;

pub(crate) use self::dto::PostDto;
use self::dto::{CreatePostBody, PostPage, UpdatePostBody};
use super::ApiTags;
use super::page::{page_request, wire_page};
use crate::auth::BearerAuth;
use crate::errors::{ErrorBody, ValidationErrors};
use crate::json::JsonBody;

pub(crate) struct PostsApi {
    pub(crate) posts: PostService,
}

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
        match self.posts.list(auth.0.actor, filters).await {
            Ok(page) => {
                let (data, meta) = wire_page(page);
                ListPostsResponse::Ok(Json(PostPage { data, meta }))
            }
            Err(ListPostsError::Unexpected(error)) => {
                ListPostsResponse::InternalError(ErrorBody::internal(&error))
            }
        }
    }

    /// One post (another user's draft is not found).
    #[oai(path = "/posts/:id", method = "get", operation_id = "getPost")]
    async fn get(&self, auth: BearerAuth, id: Path<Uuid>) -> GetPostResponse {
        match self.posts.get(auth.0.actor, PostId::from_uuid(id.0)).await {
            Ok(post) => GetPostResponse::Ok(Json(post.into())),
            Err(error @ GetPostError::NotFound(_)) => {
                GetPostResponse::NotFound(ErrorBody::new(error.to_string()))
            }
            Err(GetPostError::Unexpected(error)) => {
                GetPostResponse::InternalError(ErrorBody::internal(&error))
            }
        }
    }

    /// Write a post; the caller is its author. Publishing announces it in room `posts`.
    #[oai(path = "/posts", method = "post", operation_id = "createPost")]
    async fn create(&self, auth: BearerAuth, body: JsonBody<CreatePostBody>) -> CreatePostResponse {
        let command = match CreatePost::try_from(body.0) {
            Ok(command) => command,
            Err(errors) => return CreatePostResponse::BadRequest(errors.into_body()),
        };
        match self.posts.create(auth.0.actor, command).await {
            Ok(post) => CreatePostResponse::Created(Json(post.into())),
            Err(CreatePostError::Unexpected(error)) => {
                CreatePostResponse::InternalError(ErrorBody::internal(&error))
            }
        }
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
        match self
            .posts
            .update(auth.0.actor, PostId::from_uuid(id.0), changes)
            .await
        {
            Ok(post) => UpdatePostResponse::Ok(Json(post.into())),
            Err(error @ ChangePostError::NotFound(_)) => {
                UpdatePostResponse::NotFound(ErrorBody::new(error.to_string()))
            }
            Err(error @ ChangePostError::Forbidden) => {
                UpdatePostResponse::Forbidden(ErrorBody::new(error.to_string()))
            }
            Err(ChangePostError::Unexpected(error)) => {
                UpdatePostResponse::InternalError(ErrorBody::internal(&error))
            }
        }
    }

    /// Delete a post: its author or an admin.
    #[oai(path = "/posts/:id", method = "delete", operation_id = "deletePost")]
    async fn delete(&self, auth: BearerAuth, id: Path<Uuid>) -> DeletePostResponse {
        match self
            .posts
            .delete(auth.0.actor, PostId::from_uuid(id.0))
            .await
        {
            Ok(()) => DeletePostResponse::Deleted,
            Err(error @ ChangePostError::NotFound(_)) => {
                DeletePostResponse::NotFound(ErrorBody::new(error.to_string()))
            }
            Err(error @ ChangePostError::Forbidden) => {
                DeletePostResponse::Forbidden(ErrorBody::new(error.to_string()))
            }
            Err(ChangePostError::Unexpected(error)) => {
                DeletePostResponse::InternalError(ErrorBody::internal(&error))
            }
        }
    }
}
