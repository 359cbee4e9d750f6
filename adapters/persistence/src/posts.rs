//! The post repository on Diesel.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use domain::ports::{PostRepository, RepositoryError};
use domain::{NewPost, Page, Post, PostChanges, PostContent, PostId, PostQuery, PostTitle, UserId};

use crate::database::Database;
use crate::errors::unexpected;
use crate::expressions::contains_ignoring_case;
use crate::paging::{limit_offset, page_of};
use crate::schema::posts;
use crate::sql_types::{DbId, DbTime};

/// [`PostRepository`] on PostgreSQL or SQLite.
#[derive(Debug, Clone)]
pub struct DieselPostRepository {
    database: Database,
}

impl DieselPostRepository {
    #[must_use]
    pub fn new(database: Database) -> Self {
        Self { database }
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = posts)]
struct PostRow {
    id: DbId,
    title: String,
    content: Option<String>,
    published: bool,
    author_id: DbId,
    created_at: DbTime,
    updated_at: DbTime,
}

#[derive(AsChangeset)]
#[diesel(table_name = posts)]
struct PostChangeset {
    title: Option<String>,
    content: Option<String>,
    published: Option<bool>,
    updated_at: DbTime,
}

impl TryFrom<PostRow> for Post {
    type Error = RepositoryError;

    fn try_from(row: PostRow) -> Result<Self, Self::Error> {
        let corrupt =
            |what: &str| RepositoryError(anyhow::anyhow!("corrupt post row {}: {what}", row.id.0));
        Ok(Self {
            id: PostId::from_uuid(row.id.0),
            title: PostTitle::parse(&row.title).map_err(|_| corrupt("title"))?,
            content: row
                .content
                .as_deref()
                .map(PostContent::parse)
                .transpose()
                .map_err(|_| corrupt("content"))?,
            published: row.published,
            author_id: UserId::from_uuid(row.author_id.0),
            created_at: row.created_at.0,
            updated_at: row.updated_at.0,
        })
    }
}

#[async_trait]
impl PostRepository for DieselPostRepository {
    #[tracing::instrument(name = "db posts.insert", skip_all, fields(otel.kind = "client", db.system.name = self.database.system_name(), post_id = %post.id))]
    async fn insert(&self, post: NewPost) -> Result<Post, RepositoryError> {
        let row = PostRow {
            id: DbId(post.id.as_uuid()),
            title: post.title.as_str().to_owned(),
            content: post
                .content
                .as_ref()
                .map(|content| content.as_str().to_owned()),
            published: post.published,
            author_id: DbId(post.author_id.as_uuid()),
            created_at: DbTime(post.created_at),
            updated_at: DbTime(post.created_at),
        };
        let stored = with_connection!(self.database, |connection| {
            diesel::insert_into(posts::table)
                .values(&row)
                .returning(PostRow::as_returning())
                .get_result(connection)
                .await
                .map_err(unexpected)?
        });
        stored.try_into()
    }

    #[tracing::instrument(name = "db posts.find_by_id", skip(self), fields(otel.kind = "client", db.system.name = self.database.system_name()))]
    async fn find_by_id(&self, id: PostId) -> Result<Option<Post>, RepositoryError> {
        let row = with_connection!(self.database, |connection| {
            posts::table
                .find(DbId(id.as_uuid()))
                .select(PostRow::as_select())
                .first(connection)
                .await
                .optional()
                .map_err(unexpected)?
        });
        row.map(Post::try_from).transpose()
    }

    #[tracing::instrument(name = "db posts.list", skip(self), fields(otel.kind = "client", db.system.name = self.database.system_name()))]
    async fn list(&self, query: &PostQuery) -> Result<Page<Post>, RepositoryError> {
        let (limit, offset) = limit_offset(query.page);
        let (rows, total) = with_connection!(self.database, |connection| {
            // The same filter twice: once for the page, once for the total.
            macro_rules! filtered {
                ($select:expr) => {{
                    let mut statement = $select.into_boxed();
                    if let Some(viewer) = query.drafts_visible_to {
                        statement = statement.filter(
                            posts::published
                                .eq(true)
                                .or(posts::author_id.eq(DbId(viewer.as_uuid()))),
                        );
                    }
                    if let Some(author) = query.author_id {
                        statement = statement.filter(posts::author_id.eq(DbId(author.as_uuid())));
                    }
                    if let Some(published) = query.published {
                        statement = statement.filter(posts::published.eq(published));
                    }
                    if let Some(term) = &query.search {
                        statement = statement.filter(
                            contains_ignoring_case(posts::title, term.as_str())
                                .or(contains_ignoring_case(posts::content, term.as_str())),
                        );
                    }
                    statement
                }};
            }
            let rows: Vec<PostRow> = filtered!(posts::table.select(PostRow::as_select()))
                .order((posts::created_at.desc(), posts::id.desc()))
                .limit(limit)
                .offset(offset)
                .load(connection)
                .await
                .map_err(unexpected)?;
            let page_is_partial = i64::try_from(rows.len()).unwrap_or(i64::MAX) < limit;
            let total: i64 = if page_is_partial && (!rows.is_empty() || offset == 0) {
                offset + i64::try_from(rows.len()).unwrap_or(0)
            } else {
                filtered!(posts::table.count())
                    .get_result(connection)
                    .await
                    .map_err(unexpected)?
            };
            (rows, total)
        });
        page_of(rows, query.page, total)
    }

    #[tracing::instrument(name = "db posts.update", skip(self, changes), fields(otel.kind = "client", db.system.name = self.database.system_name()))]
    async fn update(
        &self,
        id: PostId,
        changes: PostChanges,
        now: DateTime<Utc>,
    ) -> Result<Option<Post>, RepositoryError> {
        let changeset = PostChangeset {
            title: changes.title.map(|title| title.as_str().to_owned()),
            content: changes.content.map(|content| content.as_str().to_owned()),
            published: changes.published,
            updated_at: DbTime(now),
        };
        let row = with_connection!(self.database, |connection| {
            diesel::update(posts::table.find(DbId(id.as_uuid())))
                .set(&changeset)
                .returning(PostRow::as_returning())
                .get_result(connection)
                .await
                .optional()
                .map_err(unexpected)?
        });
        row.map(Post::try_from).transpose()
    }

    #[tracing::instrument(name = "db posts.delete", skip(self), fields(otel.kind = "client", db.system.name = self.database.system_name()))]
    async fn delete(&self, id: PostId) -> Result<bool, RepositoryError> {
        let deleted = with_connection!(self.database, |connection| {
            diesel::delete(posts::table.find(DbId(id.as_uuid())))
                .execute(connection)
                .await
                .map_err(unexpected)?
        });
        Ok(deleted > 0)
    }
}
