//! A password change: one transaction that sets the hash, ends every other session and
//! every earlier access token, renews the current session's refresh token, and queues the
//! notice.

use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, RunQueryDsl};
use domain::ports::RepositoryError;
use domain::{PasswordChange, SessionVersion};

use super::rows::{NewRefreshTokenRow, revoke_sessions};
use crate::database::Database;
use crate::errors::unexpected;
use crate::jobs::{JobSignals, insert_jobs};
use crate::schema::{refresh_tokens, sessions, users};
use crate::sql_types::{DbId, DbTime};

pub(super) async fn change_password(
    database: &Database,
    jobs: &JobSignals,
    change: PasswordChange,
) -> Result<SessionVersion, RepositoryError> {
    let user = DbId(change.user_id.as_uuid());
    let current = DbId(change.session_id.as_uuid());
    let password_hash = change.password_hash.as_str().to_owned();
    let now = DbTime(change.now);
    let token = NewRefreshTokenRow::from(&change.next_token);
    let (job_rows, staged) = jobs.stage(change.outbox);
    let version = with_connection!(database, |connection| {
        connection
            .transaction::<_, diesel::result::Error, _>(async move |transaction| {
                let version: i64 = diesel::update(users::table.find(user))
                    .set((
                        users::password_hash.eq(&password_hash),
                        users::session_version.eq(users::session_version + 1),
                        users::updated_at.eq(now),
                    ))
                    .returning(users::session_version)
                    .get_result(transaction)
                    .await?;
                revoke_sessions!(
                    transaction,
                    sessions::user_id.eq(user).and(sessions::id.ne(current)),
                    now
                )?;
                // The current session goes on with a new refresh token only.
                diesel::update(
                    refresh_tokens::table
                        .filter(refresh_tokens::family_id.eq(current))
                        .filter(refresh_tokens::revoked_at.is_null()),
                )
                .set(refresh_tokens::revoked_at.eq(Some(now)))
                .execute(transaction)
                .await?;
                diesel::update(sessions::table.find(current))
                    .set(sessions::last_used_at.eq(now))
                    .execute(transaction)
                    .await?;
                diesel::insert_into(refresh_tokens::table)
                    .values(&token)
                    .execute(transaction)
                    .await?;
                insert_jobs!(transaction, &job_rows)?;
                Ok(version)
            })
            .await
            .map_err(unexpected)?
    });
    jobs.committed(staged);
    Ok(SessionVersion::new(version))
}
