//! The posts feature: list, get, create, update, delete. Others' drafts are invisible
//! (404, never 403); only the author or an admin changes a post; publishing announces it.

#[cfg(test)]
mod tests;

use std::sync::Arc;

use domain::ports::{Clock, DomainEvent, EventPublisher, PostRepository};
use domain::post::becomes_published;
use domain::{
    Actor, NewPost, Page, PageRequest, Post, PostChanges, PostContent, PostId, PostQuery,
    PostTitle, SearchTerm, UserId,
};

/// A new post, parsed.
#[derive(Debug)]
pub struct CreatePost {
    pub title: PostTitle,
    pub content: Option<PostContent>,
    pub published: bool,
}

/// The filters of a listing, parsed.
#[derive(Debug, Default)]
pub struct PostFilters {
    pub page: PageRequest,
    pub author_id: Option<UserId>,
    pub published: Option<bool>,
    pub search: Option<SearchTerm>,
}

#[derive(Debug, thiserror::Error)]
pub enum ListPostsError {
    #[error("unexpected failure while listing posts")]
    Unexpected(#[source] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum GetPostError {
    #[error("Post with ID {0} not found")]
    NotFound(PostId),
    #[error("unexpected failure while reading a post")]
    Unexpected(#[source] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum CreatePostError {
    #[error("unexpected failure while creating a post")]
    Unexpected(#[source] anyhow::Error),
}

/// Why a post could not be updated or deleted.
#[derive(Debug, thiserror::Error)]
pub enum ChangePostError {
    #[error("Post with ID {0} not found")]
    NotFound(PostId),
    #[error("Forbidden")]
    Forbidden,
    #[error("unexpected failure while changing a post")]
    Unexpected(#[source] anyhow::Error),
}

crate::errors::unexpected_from_infrastructure!(
    ListPostsError => ListPostsError::Unexpected,
    GetPostError => GetPostError::Unexpected,
    CreatePostError => CreatePostError::Unexpected,
    ChangePostError => ChangePostError::Unexpected,
);

impl From<GetPostError> for ChangePostError {
    fn from(error: GetPostError) -> Self {
        match error {
            GetPostError::NotFound(id) => Self::NotFound(id),
            GetPostError::Unexpected(error) => Self::Unexpected(error),
        }
    }
}

/// The posts use cases.
#[derive(Clone)]
pub struct PostService {
    posts: Arc<dyn PostRepository>,
    events: Arc<dyn EventPublisher>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for PostService {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("PostService")
            .finish_non_exhaustive()
    }
}

impl PostService {
    pub fn new(
        posts: Arc<dyn PostRepository>,
        events: Arc<dyn EventPublisher>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            posts,
            events,
            clock,
        }
    }

    /// Published posts and the caller's own drafts (an admin sees every draft).
    #[tracing::instrument(name = "PostService.list", skip(self), fields(actor = %actor.user_id))]
    pub async fn list(
        &self,
        actor: Actor,
        filters: PostFilters,
    ) -> Result<Page<Post>, ListPostsError> {
        let query = PostQuery {
            page: filters.page,
            author_id: filters.author_id,
            published: filters.published,
            search: filters.search,
            drafts_visible_to: actor.draft_scope(),
        };
        Ok(self.posts.list(&query).await?)
    }

    #[tracing::instrument(name = "PostService.get", skip(self), fields(actor = %actor.user_id))]
    pub async fn get(&self, actor: Actor, id: PostId) -> Result<Post, GetPostError> {
        self.visible(actor, id).await
    }

    #[tracing::instrument(name = "PostService.create", skip(self, command), fields(actor = %actor.user_id))]
    pub async fn create(&self, actor: Actor, command: CreatePost) -> Result<Post, CreatePostError> {
        let post = self
            .posts
            .insert(NewPost {
                id: PostId::generate(),
                title: command.title,
                content: command.content,
                published: command.published,
                author_id: actor.user_id,
                created_at: self.clock.now(),
            })
            .await?;
        if post.published {
            self.events
                .publish(DomainEvent::PostPublished(post.clone()))
                .await;
        }
        Ok(post)
    }

    #[tracing::instrument(name = "PostService.update", skip(self, changes), fields(actor = %actor.user_id))]
    pub async fn update(
        &self,
        actor: Actor,
        id: PostId,
        changes: PostChanges,
    ) -> Result<Post, ChangePostError> {
        let before = self.visible(actor, id).await?;
        if !actor.may_change_post(&before) {
            return Err(ChangePostError::Forbidden);
        }
        let after = self
            .posts
            .update(id, changes, self.clock.now())
            .await?
            .ok_or(ChangePostError::NotFound(id))?;
        if becomes_published(&before, &after) {
            self.events
                .publish(DomainEvent::PostPublished(after.clone()))
                .await;
        }
        Ok(after)
    }

    #[tracing::instrument(name = "PostService.delete", skip(self), fields(actor = %actor.user_id))]
    pub async fn delete(&self, actor: Actor, id: PostId) -> Result<(), ChangePostError> {
        let post = self.visible(actor, id).await?;
        if !actor.may_change_post(&post) {
            return Err(ChangePostError::Forbidden);
        }
        if !self.posts.delete(id).await? {
            return Err(ChangePostError::NotFound(id));
        }
        Ok(())
    }

    /// The post if it exists and the actor may see it; otherwise "not found" either way.
    async fn visible(&self, actor: Actor, id: PostId) -> Result<Post, GetPostError> {
        self.posts
            .find_by_id(id)
            .await?
            .filter(|post| actor.may_see_post(post))
            .ok_or(GetPostError::NotFound(id))
    }
}
