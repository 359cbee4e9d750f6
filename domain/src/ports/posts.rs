//! The post repository port.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::RepositoryError;
use crate::id::PostId;
use crate::pagination::Page;
use crate::post::{NewPost, Post, PostChanges, PostQuery};

/// Stores and finds posts.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait PostRepository: Send + Sync + 'static {
    /// Stores a new post.
    ///
    /// # Errors
    /// `RepositoryError` for storage failures (the author must exist).
    async fn insert(&self, post: NewPost) -> Result<Post, RepositoryError>;

    /// The post with this id, whoever may see it.
    ///
    /// # Errors
    /// `RepositoryError` only for storage failures; a missing post is `Ok(None)`.
    async fn find_by_id(&self, id: PostId) -> Result<Option<Post>, RepositoryError>;

    /// One page of posts, newest first: published ones, plus drafts of
    /// `query.drafts_visible_to` (all drafts when it is `None`), filtered by author,
    /// published flag and a case-insensitive substring of the title or content.
    ///
    /// # Errors
    /// `RepositoryError` only for storage failures.
    async fn list(&self, query: &PostQuery) -> Result<Page<Post>, RepositoryError>;

    /// Applies `changes`, sets `updated_at`, returns the post as stored (`None`: gone).
    ///
    /// # Errors
    /// `RepositoryError` only for storage failures.
    async fn update(
        &self,
        id: PostId,
        changes: PostChanges,
        now: DateTime<Utc>,
    ) -> Result<Option<Post>, RepositoryError>;

    /// Deletes the post; returns whether it existed.
    ///
    /// # Errors
    /// `RepositoryError` only for storage failures.
    async fn delete(&self, id: PostId) -> Result<bool, RepositoryError>;
}
