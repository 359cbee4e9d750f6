//! Password-reset tokens: one live token per user, and the reset that spends it, sets the
//! password and ends every session in one transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, RunQueryDsl};
use domain::ports::{PasswordResetRepository, RepositoryError, ResetPasswordError};
use domain::{NewResetToken, PasswordHash, TokenHash, UserId};

use super::DieselSessionRepository;
use super::rows::revoke_sessions;
use crate::errors::unexpected;
use crate::jobs::insert_jobs;
use crate::schema::{password_reset_tokens, sessions, users};
use crate::sql_types::{DbId, DbTime};

#[derive(Insertable)]
#[diesel(table_name = password_reset_tokens)]
struct NewResetTokenRow {
    id: DbId,
    user_id: DbId,
    token_hash: String,
    created_at: DbTime,
    expires_at: DbTime,
}

/// The outcome of the reset transaction, before it becomes a port error.
#[derive(Debug)]
enum ResetFailure {
    InvalidToken,
    Database(diesel::result::Error),
}

impl From<diesel::result::Error> for ResetFailure {
    fn from(error: diesel::result::Error) -> Self {
        Self::Database(error)
    }
}

#[async_trait]
impl PasswordResetRepository for DieselSessionRepository {
    #[tracing::instrument(name = "db password_resets.replace_reset_token", skip_all, fields(otel.kind = "client", db.system.name = self.database.system_name(), user_id = %token.user_id))]
    async fn replace_reset_token(&self, token: NewResetToken) -> Result<(), RepositoryError> {
        let row = NewResetTokenRow {
            id: DbId(token.id),
            user_id: DbId(token.user_id.as_uuid()),
            token_hash: token.token_hash.as_str().to_owned(),
            created_at: DbTime(token.created_at),
            expires_at: DbTime(token.expires_at),
        };
        let now = DbTime(token.created_at);
        let (job_rows, staged) = self.jobs.stage(token.outbox);
        with_connection!(self.database, |connection| {
            connection
                .transaction::<_, diesel::result::Error, _>(async move |transaction| {
                    // A newer request supersedes the older ones.
                    diesel::update(
                        password_reset_tokens::table
                            .filter(password_reset_tokens::user_id.eq(row.user_id))
                            .filter(password_reset_tokens::used_at.is_null()),
                    )
                    .set(password_reset_tokens::used_at.eq(Some(now)))
                    .execute(transaction)
                    .await?;
                    diesel::insert_into(password_reset_tokens::table)
                        .values(&row)
                        .execute(transaction)
                        .await?;
                    insert_jobs!(transaction, &job_rows)?;
                    Ok(())
                })
                .await
                .map_err(unexpected)?;
        });
        self.jobs.committed(staged);
        Ok(())
    }

    #[tracing::instrument(name = "db password_resets.reset_password", skip_all, fields(otel.kind = "client", db.system.name = self.database.system_name()))]
    async fn reset_password(
        &self,
        hash: &TokenHash,
        new_password: PasswordHash,
        now: DateTime<Utc>,
    ) -> Result<UserId, ResetPasswordError> {
        let hash = hash.as_str().to_owned();
        let password_hash = new_password.as_str().to_owned();
        let now = DbTime(now);
        let outcome = with_connection!(self.database, |connection| {
            let hash = hash.clone();
            let password_hash = password_hash.clone();
            connection
                .transaction::<_, ResetFailure, _>(async move |transaction| {
                    let user_id: DbId = diesel::update(
                        password_reset_tokens::table
                            .filter(password_reset_tokens::token_hash.eq(&hash))
                            .filter(password_reset_tokens::used_at.is_null())
                            .filter(password_reset_tokens::expires_at.gt(now)),
                    )
                    .set(password_reset_tokens::used_at.eq(Some(now)))
                    .returning(password_reset_tokens::user_id)
                    .get_result(transaction)
                    .await
                    .optional()?
                    .ok_or(ResetFailure::InvalidToken)?;
                    diesel::update(users::table.find(user_id))
                        .set((
                            users::password_hash.eq(&password_hash),
                            users::session_version.eq(users::session_version + 1),
                            users::updated_at.eq(now),
                        ))
                        .execute(transaction)
                        .await?;
                    diesel::update(
                        password_reset_tokens::table
                            .filter(password_reset_tokens::user_id.eq(user_id))
                            .filter(password_reset_tokens::used_at.is_null()),
                    )
                    .set(password_reset_tokens::used_at.eq(Some(now)))
                    .execute(transaction)
                    .await?;
                    revoke_sessions!(transaction, sessions::user_id.eq(user_id), now)?;
                    Ok(UserId::from_uuid(user_id.0))
                })
                .await
        });
        outcome.map_err(|failure| match failure {
            ResetFailure::InvalidToken => ResetPasswordError::InvalidToken,
            ResetFailure::Database(error) => ResetPasswordError::Unexpected(unexpected(error)),
        })
    }
}
