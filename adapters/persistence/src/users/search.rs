//! The users listing and search: one page, and its total (reused for a moment, see
//! `crate::totals`).

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use domain::ports::RepositoryError;
use domain::{Page, User, UserQuery};

use super::rows::UserRow;
use crate::database::Database;
use crate::errors::unexpected;
use crate::expressions::contains_pattern;
use crate::paging::{limit_offset, page_of};
use crate::schema::users;
use crate::totals::Lookup;

/// A page of users, oldest first, matching `query.search` in name or email if given.
pub(super) async fn list(
    database: &Database,
    query: &UserQuery,
) -> Result<Page<User>, RepositoryError> {
    let (limit, offset) = limit_offset(query.page);
    // Two statements, not one with `count(*) OVER ()`: the window count must visit every
    // match, while the page query stops after `limit` rows of the (created_at, id) index
    // and the count can use the trigram index (see bench/search-plan.sh). The count is
    // skipped when the page itself shows the total, and reused for two seconds
    // otherwise (writes through this process forget it). The search reads `search_text`,
    // lower(name) || '\n' || email: a plain LIKE on lower-case text (the term is lower
    // case too) costs a fraction of ILIKE on two columns.
    let pattern = query
        .search
        .as_ref()
        .map(|term| contains_pattern(term.as_str()));
    // Totals of the same search are reused for a moment (see `totals`).
    let totals_key = pattern.clone().unwrap_or_default();
    let (rows, total) = with_connection!(database, |connection| {
        // Concrete (not boxed) statements, one pair per shape, so that each is prepared
        // once per connection and cached.
        let rows: Vec<UserRow> = match &pattern {
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
        .map_err(unexpected)?;
        let page_is_partial = i64::try_from(rows.len()).unwrap_or(i64::MAX) < limit;
        let total: i64 = if page_is_partial && (!rows.is_empty() || offset == 0) {
            offset + i64::try_from(rows.len()).unwrap_or(0)
        } else {
            match database.user_totals().lookup(&totals_key) {
                Lookup::Known(total) => total,
                Lookup::Count(claim) => {
                    let total = match &pattern {
                        Some(pattern) => {
                            users::table
                                .filter(users::search_text.like(pattern).escape('\\'))
                                .count()
                                .get_result(connection)
                                .await
                        }
                        None => users::table.count().get_result(connection).await,
                    }
                    .map_err(unexpected)?;
                    database.user_totals().put(claim, total);
                    total
                }
            }
        };
        (rows, total)
    });
    page_of(rows, query.page, total)
}
