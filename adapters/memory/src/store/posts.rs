//! [`PostRepository`] in memory.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::ports::{PostRepository, RepositoryError};
use domain::{NewPost, Page, Post, PostChanges, PostId, PostQuery};

use super::{MemoryStore, contains_folded, page_of};

/// Whether a listing with `query` shows `post`.
fn listed(post: &Post, query: &PostQuery) -> bool {
    let visible = query
        .drafts_visible_to
        .is_none_or(|viewer| post.published || post.author_id == viewer);
    let searched = query.search.as_ref().is_none_or(|term| {
        contains_folded(post.title.as_str(), term.as_str())
            || post
                .content
                .as_ref()
                .is_some_and(|content| contains_folded(content.as_str(), term.as_str()))
    });
    visible
        && searched
        && query
            .author_id
            .is_none_or(|author| post.author_id == author)
        && query
            .published
            .is_none_or(|published| post.published == published)
}

#[async_trait]
impl PostRepository for MemoryStore {
    async fn insert(&self, post: NewPost) -> Result<Post, RepositoryError> {
        let mut tables = self.tables();
        if !tables.users.contains_key(&post.author_id) {
            return Err(RepositoryError(anyhow::anyhow!(
                "no author {}",
                post.author_id
            )));
        }
        let stored = Post {
            id: post.id,
            title: post.title,
            content: post.content,
            published: post.published,
            author_id: post.author_id,
            created_at: post.created_at,
            updated_at: post.created_at,
        };
        tables.posts.insert(post.id, stored.clone());
        Ok(stored)
    }

    async fn find_by_id(&self, id: PostId) -> Result<Option<Post>, RepositoryError> {
        Ok(self.tables().posts.get(&id).cloned())
    }

    async fn list(&self, query: &PostQuery) -> Result<Page<Post>, RepositoryError> {
        let mut posts: Vec<Post> = self
            .tables()
            .posts
            .values()
            .filter(|post| listed(post, query))
            .cloned()
            .collect();
        // Newest first.
        posts.sort_by_key(|post| std::cmp::Reverse((post.created_at, post.id)));
        Ok(page_of(&posts, query.page))
    }

    async fn update(
        &self,
        id: PostId,
        changes: PostChanges,
        now: DateTime<Utc>,
    ) -> Result<Option<Post>, RepositoryError> {
        let mut tables = self.tables();
        let Some(post) = tables.posts.get_mut(&id) else {
            return Ok(None);
        };
        if let Some(title) = changes.title {
            post.title = title;
        }
        if let Some(content) = changes.content {
            post.content = Some(content);
        }
        if let Some(published) = changes.published {
            post.published = published;
        }
        post.updated_at = now;
        Ok(Some(post.clone()))
    }

    async fn delete(&self, id: PostId) -> Result<bool, RepositoryError> {
        Ok(self.tables().posts.remove(&id).is_some())
    }
}
