//! What a user sees of their sessions, and the liveness check behind every request.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use domain::ports::RepositoryError;
use domain::{Page, PageRequest, Session, SessionId, UserId};

use crate::database::Database;
use crate::errors::unexpected;
use crate::paging::{limit_offset, page_of};
use crate::schema::sessions;
use crate::sql_types::{DbId, DbTime};

#[derive(Queryable, Selectable)]
#[diesel(table_name = sessions)]
struct SessionRow {
    id: DbId,
    user_agent: Option<String>,
    ip: Option<String>,
    created_at: DbTime,
    last_used_at: DbTime,
    expires_at: DbTime,
}

impl TryFrom<SessionRow> for Session {
    type Error = RepositoryError;

    fn try_from(row: SessionRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: SessionId::from_uuid(row.id.0),
            user_agent: row.user_agent,
            ip: row.ip,
            created_at: row.created_at.0,
            last_used_at: row.last_used_at.0,
            expires_at: row.expires_at.0,
        })
    }
}

/// The live sessions of `user_id` matching the listing's filter (a macro: the filter's type
/// names the columns it compares).
macro_rules! live_sessions_of {
    ($user_id:expr, $now:expr) => {
        sessions::table
            .filter(sessions::user_id.eq($user_id))
            .filter(sessions::revoked_at.is_null())
            .filter(sessions::expires_at.gt($now))
    };
}

pub(super) async fn list(
    database: &Database,
    user_id: UserId,
    page: PageRequest,
    now: DateTime<Utc>,
) -> Result<Page<Session>, RepositoryError> {
    let (limit, offset) = limit_offset(page);
    let user_id = DbId(user_id.as_uuid());
    let now = DbTime(now);
    let (rows, total) = with_connection!(database, |connection| {
        let rows: Vec<SessionRow> = live_sessions_of!(user_id, now)
            .order((sessions::created_at.desc(), sessions::id.desc()))
            .limit(limit)
            .offset(offset)
            .select(SessionRow::as_select())
            .load(connection)
            .await
            .map_err(unexpected)?;
        let total: i64 = live_sessions_of!(user_id, now)
            .count()
            .get_result(connection)
            .await
            .map_err(unexpected)?;
        (rows, total)
    });
    page_of(rows, page, total)
}

pub(super) async fn is_live(
    database: &Database,
    session: SessionId,
) -> Result<bool, RepositoryError> {
    let revoked_at: Option<Option<DbTime>> = with_connection!(database, |connection| {
        sessions::table
            .find(DbId(session.as_uuid()))
            .select(sessions::revoked_at)
            .first(connection)
            .await
            .optional()
            .map_err(unexpected)?
    });
    Ok(matches!(revoked_at, Some(None)))
}
