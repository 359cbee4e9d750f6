//! Email-verification tokens: one live token per user, stored with the change that calls
//! for it (a new user, a new address, a resend) and spent by the verification.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, RunQueryDsl};
use domain::ports::{EmailVerificationRepository, RepositoryError, VerifyEmailError};
use domain::{NewVerificationToken, TokenHash, UserId};

use super::DieselSessionRepository;
use crate::errors::unexpected;
use crate::jobs::insert_jobs;
use crate::schema::{email_verification_tokens, users};
use crate::sql_types::{DbId, DbTime};

#[derive(Insertable)]
#[diesel(table_name = email_verification_tokens)]
pub(crate) struct NewVerificationRow {
    pub(crate) id: DbId,
    pub(crate) user_id: DbId,
    pub(crate) email: String,
    pub(crate) token_hash: String,
    pub(crate) created_at: DbTime,
    pub(crate) expires_at: DbTime,
}

impl From<&NewVerificationToken> for NewVerificationRow {
    fn from(token: &NewVerificationToken) -> Self {
        Self {
            id: DbId(token.id),
            user_id: DbId(token.user_id.as_uuid()),
            email: token.email.as_str().to_owned(),
            token_hash: token.token_hash.as_str().to_owned(),
            created_at: DbTime(token.created_at),
            expires_at: DbTime(token.expires_at),
        }
    }
}

/// Stores a verification token inside the caller's transaction, spending the user's
/// earlier ones (a newer link supersedes the older). A macro because the connection type
/// differs per backend.
macro_rules! store_verification_token {
    ($connection:expr, $row:expr) => {{
        let row: &$crate::sessions::verification::NewVerificationRow = $row;
        diesel::update(
            $crate::schema::email_verification_tokens::table
                .filter($crate::schema::email_verification_tokens::user_id.eq(row.user_id))
                .filter($crate::schema::email_verification_tokens::used_at.is_null()),
        )
        .set($crate::schema::email_verification_tokens::used_at.eq(Some(row.created_at)))
        .execute(&mut *$connection)
        .await?;
        diesel::insert_into($crate::schema::email_verification_tokens::table)
            .values(row)
            .execute(&mut *$connection)
            .await?;
        diesel::QueryResult::Ok(())
    }};
}
pub(crate) use store_verification_token;

/// The outcome of the verification transaction, before it becomes a port error.
#[derive(Debug)]
enum VerifyFailure {
    InvalidToken,
    Database(diesel::result::Error),
}

impl From<diesel::result::Error> for VerifyFailure {
    fn from(error: diesel::result::Error) -> Self {
        Self::Database(error)
    }
}

#[async_trait]
impl EmailVerificationRepository for DieselSessionRepository {
    #[tracing::instrument(name = "db email_verifications.replace_verification_token", skip_all, fields(otel.kind = "client", db.system.name = self.database.system_name(), user_id = %token.user_id))]
    async fn replace_verification_token(
        &self,
        token: NewVerificationToken,
    ) -> Result<(), RepositoryError> {
        let row = NewVerificationRow::from(&token);
        let (job_rows, staged) = self.jobs.stage(token.outbox);
        with_connection!(self.database, |connection| {
            connection
                .transaction::<_, diesel::result::Error, _>(async move |transaction| {
                    store_verification_token!(transaction, &row)?;
                    insert_jobs!(transaction, &job_rows)?;
                    Ok(())
                })
                .await
                .map_err(unexpected)?;
        });
        self.jobs.committed(staged);
        Ok(())
    }

    #[tracing::instrument(name = "db email_verifications.verify_email", skip_all, fields(otel.kind = "client", db.system.name = self.database.system_name()))]
    async fn verify_email(
        &self,
        hash: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<UserId, VerifyEmailError> {
        let hash = hash.as_str().to_owned();
        let now = DbTime(now);
        let outcome = with_connection!(self.database, |connection| {
            let hash = hash.clone();
            connection
                .transaction::<_, VerifyFailure, _>(async move |transaction| {
                    let (user_id, email): (DbId, String) = diesel::update(
                        email_verification_tokens::table
                            .filter(email_verification_tokens::token_hash.eq(&hash))
                            .filter(email_verification_tokens::used_at.is_null())
                            .filter(email_verification_tokens::expires_at.gt(now)),
                    )
                    .set(email_verification_tokens::used_at.eq(Some(now)))
                    .returning((
                        email_verification_tokens::user_id,
                        email_verification_tokens::email,
                    ))
                    .get_result(transaction)
                    .await
                    .optional()?
                    .ok_or(VerifyFailure::InvalidToken)?;
                    // Only the address the link was sent to: after a change of address the
                    // old link proves nothing about the new one.
                    let verified =
                        diesel::update(users::table.find(user_id).filter(users::email.eq(&email)))
                            .set((
                                users::email_verified_at.eq(Some(now)),
                                users::updated_at.eq(now),
                            ))
                            .execute(transaction)
                            .await?;
                    if verified == 0 {
                        return Err(VerifyFailure::InvalidToken);
                    }
                    Ok(UserId::from_uuid(user_id.0))
                })
                .await
        });
        outcome.map_err(|failure| match failure {
            VerifyFailure::InvalidToken => VerifyEmailError::InvalidToken,
            VerifyFailure::Database(error) => VerifyEmailError::Unexpected(unexpected(error)),
        })
    }
}
