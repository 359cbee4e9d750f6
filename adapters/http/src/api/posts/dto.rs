//! The posts wire format, and the one named function per body that parses it into a
//! domain command.

use application::CreatePost;
use domain::{Post, PostChanges, PostContent, PostTitle};
use poem_openapi::Object;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::api::page::PageDto;
use crate::errors::ValidationErrors;
use crate::timestamp::Timestamp;

/// A post.
#[derive(Debug, Object, Serialize)]
#[oai(rename = "Post", rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
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
pub(crate) type PostPage = PageDto<PostDto>;

/// `POST /api/v1/posts`.
#[derive(Debug, Object, Deserialize)]
#[oai(rename = "CreatePost", rename_all = "camelCase", deny_unknown_fields)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct CreatePostBody {
    title: String,
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
    title: Option<String>,
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
