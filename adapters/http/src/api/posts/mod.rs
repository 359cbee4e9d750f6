//! `/api/v1/posts`.

use application::{
    ChangePostError, CreatePost, CreatePostError, GetPostError, ListPostsError, PostFilters,
    PostService,
};
use domain::{Post, PostChanges, PostContent, PostId, PostTitle, SearchTerm, UserId};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde::Deserialize;
use uuid::Uuid;

use super::ApiTags;
use super::page::{PageMeta, page_request};
use crate::auth::BearerAuth;
use crate::errors::{ErrorBody, ValidationErrors};
use crate::json::JsonBody;
use crate::timestamp::Timestamp;

pub(crate) struct PostsApi {
    pub(crate) posts: PostService,
}

/// A post.
#[derive(Debug, Object)]
#[oai(rename = "Post", rename_all = "camelCase")]
pub(crate) struct PostDto {
    id: Uuid,
    title: String,
    content: Option<String>,
    published: bool,
    author_id: Uuid,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl From<Post> for PostDto {
    fn from(post: Post) -> Self {
        Self {
            id: post.id.as_uuid(),
            title: post.title.as_str().to_owned(),
            content: post.content.map(|content| content.as_str().to_owned()),
            published: post.published,
            author_id: post.author_id.as_uuid(),
            created_at: post.created_at.into(),
            updated_at: post.updated_at.into(),
        }
    }
}

/// One page of posts.
#[derive(Debug, Object)]
pub(crate) struct PostPage {
    data: Vec<PostDto>,
    meta: PageMeta,
}

/// `POST /api/v1/posts`.
#[derive(Debug, Object, Deserialize)]
#[oai(rename = "CreatePost", rename_all = "camelCase", deny_unknown_fields)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct CreatePostBody {
    #[oai(validator(min_length = 1, max_length = 200))]
    title: String,
    #[oai(validator(max_length = 100_000))]
    content: Option<String>,
    /// Defaults to `false` (a draft).
    published: Option<bool>,
}

impl TryFrom<CreatePostBody> for CreatePost {
    type Error = ValidationErrors;

    fn try_from(body: CreatePostBody) -> Result<Self, Self::Error> {
        let mut errors = ValidationErrors::default();
        let title = errors.check("title", PostTitle::parse(&body.title));
        let content = errors.check(
            "content",
            body.content.as_deref().map(PostContent::parse).transpose(),
        );
        let (Some(title), Some(content)) = (title, content) else {
            return Err(errors);
        };
        Ok(Self {
            title,
            content,
            published: body.published.unwrap_or(false),
        })
    }
}

/// `PUT /api/v1/posts/{id}`: only the given fields change.
#[derive(Debug, Object, Deserialize)]
#[oai(rename = "UpdatePost", rename_all = "camelCase", deny_unknown_fields)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct UpdatePostBody {
    #[oai(validator(min_length = 1, max_length = 200))]
    title: Option<String>,
    #[oai(validator(max_length = 100_000))]
    content: Option<String>,
    published: Option<bool>,
}

impl TryFrom<UpdatePostBody> for PostChanges {
    type Error = ValidationErrors;

    fn try_from(body: UpdatePostBody) -> Result<Self, Self::Error> {
        let mut errors = ValidationErrors::default();
        let title = errors.check(
            "title",
            body.title.as_deref().map(PostTitle::parse).transpose(),
        );
        let content = errors.check(
            "content",
            body.content.as_deref().map(PostContent::parse).transpose(),
        );
        let (Some(title), Some(content)) = (title, content) else {
            return Err(errors);
        };
        Ok(Self {
            title,
            content,
            published: body.published,
        })
    }
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
        match self.posts.list(auth.0, filters).await {
            Ok(page) => {
                let meta = PageMeta::from(&page);
                ListPostsResponse::Ok(Json(PostPage {
                    data: page.items.into_iter().map(PostDto::from).collect(),
                    meta,
                }))
            }
            Err(ListPostsError::Unexpected(error)) => {
                ListPostsResponse::InternalError(ErrorBody::internal(&error))
            }
        }
    }

    /// One post (another user's draft is not found).
    #[oai(path = "/posts/:id", method = "get", operation_id = "getPost")]
    async fn get(&self, auth: BearerAuth, id: Path<Uuid>) -> GetPostResponse {
        match self.posts.get(auth.0, PostId::from_uuid(id.0)).await {
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
        match self.posts.create(auth.0, command).await {
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
            .update(auth.0, PostId::from_uuid(id.0), changes)
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
        match self.posts.delete(auth.0, PostId::from_uuid(id.0)).await {
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
