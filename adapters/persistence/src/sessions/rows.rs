//! The sessions' and refresh tokens' rows, and the statement that ends sessions.

use diesel::prelude::*;
use domain::NewRefreshToken;

use crate::schema::{refresh_tokens, sessions};
use crate::sql_types::{DbId, DbTime};

#[derive(Insertable)]
#[diesel(table_name = sessions)]
pub(super) struct NewSessionRow {
    pub(super) id: DbId,
    pub(super) user_id: DbId,
    pub(super) user_agent: Option<String>,
    pub(super) ip: Option<String>,
    pub(super) created_at: DbTime,
    pub(super) last_used_at: DbTime,
    pub(super) expires_at: DbTime,
}

#[derive(Insertable)]
#[diesel(table_name = refresh_tokens)]
pub(super) struct NewRefreshTokenRow {
    pub(super) id: DbId,
    pub(super) user_id: DbId,
    pub(super) family_id: DbId,
    pub(super) token_hash: String,
    pub(super) created_at: DbTime,
    pub(super) expires_at: DbTime,
}

impl From<&NewRefreshToken> for NewRefreshTokenRow {
    fn from(token: &NewRefreshToken) -> Self {
        Self {
            id: DbId(token.id),
            user_id: DbId(token.user_id.as_uuid()),
            family_id: DbId(token.family_id.as_uuid()),
            token_hash: token.token_hash.as_str().to_owned(),
            created_at: DbTime(token.created_at),
            expires_at: DbTime(token.expires_at),
        }
    }
}

/// Revokes, inside the caller's transaction, the live sessions matching `$filter` (an
/// expression on `sessions`) and their live refresh tokens, at `$now` (a `DbTime`);
/// evaluates to the number of sessions revoked. A macro because the connection type
/// differs per backend.
macro_rules! revoke_sessions {
    ($connection:expr, $filter:expr, $now:expr) => {{
        let now: $crate::sql_types::DbTime = $now;
        let revoked: Vec<$crate::sql_types::DbId> = diesel::update(
            $crate::schema::sessions::table
                .filter($filter)
                .filter($crate::schema::sessions::revoked_at.is_null()),
        )
        .set($crate::schema::sessions::revoked_at.eq(Some(now)))
        .returning($crate::schema::sessions::id)
        .get_results(&mut *$connection)
        .await?;
        if !revoked.is_empty() {
            diesel::update(
                $crate::schema::refresh_tokens::table
                    .filter($crate::schema::refresh_tokens::family_id.eq_any(&revoked))
                    .filter($crate::schema::refresh_tokens::revoked_at.is_null()),
            )
            .set($crate::schema::refresh_tokens::revoked_at.eq(Some(now)))
            .execute(&mut *$connection)
            .await?;
        }
        diesel::QueryResult::Ok(revoked.len())
    }};
}
pub(crate) use revoke_sessions;
