//! The users listing and search: one page, and the count of every match (which the
//! `totals` decorator reuses for a moment).

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use domain::ports::RepositoryError;
use domain::{Page, SearchTerm, User, UserQuery};

use super::DieselUserRepository;
use super::rows::UserRow;
use crate::database::Database;
use crate::errors::unexpected;
use crate::expressions::contains_pattern;
use crate::paging::limit_offset;
use crate::schema::users;

// Two statements, not one with `count(*) OVER ()`: the window count must visit every match,
// while the page query stops after `limit` rows of the (created_at, id) index and the count
// can use the trigram index (see bench/search-plan.sh). The count is skipped when the page
// itself shows the total. The search reads `search_text`, lower(name) || '\n' || email: a
// plain LIKE on lower-case text (the term is lower case too) costs a fraction of ILIKE on
// two columns. Each shape is a concrete (not boxed) statement, so that it is prepared once
// per connection and cached.

impl DieselUserRepository {
    /// One page of users, oldest first, matching `query.search` in name or email if given
    /// (see [`UserRepository::list`](domain::ports::UserRepository::list)); and the total of
    /// every page when this one shows it (it is partial, and not past the end).
    ///
    /// # Errors
    /// `RepositoryError` for storage failures.
    #[tracing::instrument(name = "db users.page", skip(self), fields(otel.kind = "client", db.system.name = self.database.system_name()))]
    pub async fn page(
        &self,
        query: &UserQuery,
    ) -> Result<(Vec<User>, Option<u64>), RepositoryError> {
        page(&self.database, query).await
    }

    /// How many users match `search` (all of them without one).
    ///
    /// # Errors
    /// `RepositoryError` for storage failures.
    #[tracing::instrument(name = "db users.count", skip(self), fields(otel.kind = "client", db.system.name = self.database.system_name()))]
    pub async fn count(&self, search: Option<&SearchTerm>) -> Result<u64, RepositoryError> {
        count(&self.database, search).await
    }

    /// One page of users whose total, when the page does not show it, comes from `count`.
    pub(crate) async fn page_counted_by<F>(
        &self,
        query: &UserQuery,
        count: impl FnOnce() -> F,
    ) -> Result<Page<User>, RepositoryError>
    where
        F: Future<Output = Result<u64, RepositoryError>>,
    {
        let (items, shown) = self.page(query).await?;
        let total = match shown {
            Some(total) => total,
            None => count().await?,
        };
        Ok(Page {
            items,
            request: query.page,
            total,
        })
    }
}

async fn page(
    database: &Database,
    query: &UserQuery,
) -> Result<(Vec<User>, Option<u64>), RepositoryError> {
    let (limit, offset) = limit_offset(query.page);
    let pattern = query.search.as_ref().map(pattern);
    let rows: Vec<UserRow> = with_connection!(database, |connection| {
        match &pattern {
            Some(pattern) => {
                users::table
                    .filter(users::search_text.like(pattern).escape('\\'))
                    .select(UserRow::as_select())
                    .order((users::created_at.asc(), users::id.asc()))
                    .limit(limit)
                    .offset(offset)
                    .load(connection)
                    .await
            }
            None => {
                users::table
                    .select(UserRow::as_select())
                    .order((users::created_at.asc(), users::id.asc()))
                    .limit(limit)
                    .offset(offset)
                    .load(connection)
                    .await
            }
        }
        .map_err(unexpected)?
    });
    let shown = i64::try_from(rows.len()).unwrap_or(i64::MAX);
    let total = (shown < limit && (shown > 0 || offset == 0))
        .then(|| u64::try_from(offset + shown).unwrap_or(0));
    let users = rows
        .into_iter()
        .map(User::try_from)
        .collect::<Result<_, _>>()?;
    Ok((users, total))
}

async fn count(database: &Database, search: Option<&SearchTerm>) -> Result<u64, RepositoryError> {
    let pattern = search.map(pattern);
    let total: i64 = with_connection!(database, |connection| {
        match &pattern {
            Some(pattern) => {
                users::table
                    .filter(users::search_text.like(pattern).escape('\\'))
                    .count()
                    .get_result(connection)
                    .await
            }
            None => users::table.count().get_result(connection).await,
        }
        .map_err(unexpected)?
    });
    Ok(u64::try_from(total).unwrap_or(0))
}

fn pattern(term: &SearchTerm) -> String {
    contains_pattern(term.as_str())
}
