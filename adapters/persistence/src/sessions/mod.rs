//! Refresh tokens and password-reset tokens on Diesel: the repository and the refresh
//! tokens here, the reset tokens in `resets`.

mod resets;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use domain::ports::{ConsumeRefreshTokenError, RepositoryError, SessionRepository};
use domain::{ConsumedRefreshToken, NewRefreshToken, TokenHash, UserId};
use uuid::Uuid;

use crate::database::Database;
use crate::errors::unexpected;
use crate::schema::refresh_tokens;
use crate::sql_types::{DbId, DbTime};

/// [`SessionRepository`] and [`PasswordResetRepository`] on PostgreSQL or SQLite.
#[derive(Debug, Clone)]
pub struct DieselSessionRepository {
    database: Database,
}

impl DieselSessionRepository {
    #[must_use]
    pub fn new(database: Database) -> Self {
        Self { database }
    }
}

#[derive(Insertable)]
#[diesel(table_name = refresh_tokens)]
struct NewRefreshTokenRow {
    id: DbId,
    user_id: DbId,
    family_id: DbId,
    token_hash: String,
    created_at: DbTime,
    expires_at: DbTime,
}

#[derive(Queryable)]
struct RefreshTokenState {
    user_id: DbId,
    family_id: DbId,
    expires_at: DbTime,
    used_at: Option<DbTime>,
    revoked_at: Option<DbTime>,
}

#[async_trait]
impl SessionRepository for DieselSessionRepository {
    #[tracing::instrument(name = "db sessions.insert_refresh_token", skip_all, fields(otel.kind = "client", db.system.name = self.database.system_name(), user_id = %token.user_id))]
    async fn insert_refresh_token(&self, token: NewRefreshToken) -> Result<(), RepositoryError> {
        let row = NewRefreshTokenRow {
            id: DbId(token.id),
            user_id: DbId(token.user_id.as_uuid()),
            family_id: DbId(token.family_id),
            token_hash: token.token_hash.as_str().to_owned(),
            created_at: DbTime(token.created_at),
            expires_at: DbTime(token.expires_at),
        };
        with_connection!(self.database, |connection| {
            diesel::insert_into(refresh_tokens::table)
                .values(&row)
                .execute(connection)
                .await
                .map_err(unexpected)?
        });
        Ok(())
    }

    #[tracing::instrument(name = "db sessions.consume_refresh_token", skip_all, fields(otel.kind = "client", db.system.name = self.database.system_name()))]
    async fn consume_refresh_token(
        &self,
        hash: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<ConsumedRefreshToken, ConsumeRefreshTokenError> {
        let hash = hash.as_str();
        // One conditional UPDATE decides: of two concurrent presentations, one wins.
        let (consumed, state) = with_connection!(self.database, |connection| {
            let consumed: Option<(DbId, DbId)> = diesel::update(
                refresh_tokens::table
                    .filter(refresh_tokens::token_hash.eq(hash))
                    .filter(refresh_tokens::used_at.is_null())
                    .filter(refresh_tokens::revoked_at.is_null())
                    .filter(refresh_tokens::expires_at.gt(DbTime(now))),
            )
            .set(refresh_tokens::used_at.eq(Some(DbTime(now))))
            .returning((refresh_tokens::user_id, refresh_tokens::family_id))
            .get_result(connection)
            .await
            .optional()
            .map_err(unexpected)?;
            let state: Option<RefreshTokenState> = if consumed.is_some() {
                None
            } else {
                refresh_tokens::table
                    .filter(refresh_tokens::token_hash.eq(hash))
                    .select((
                        refresh_tokens::user_id,
                        refresh_tokens::family_id,
                        refresh_tokens::expires_at,
                        refresh_tokens::used_at,
                        refresh_tokens::revoked_at,
                    ))
                    .first(connection)
                    .await
                    .optional()
                    .map_err(unexpected)?
            };
            (consumed, state)
        });
        if let Some((user_id, family_id)) = consumed {
            return Ok(ConsumedRefreshToken {
                user_id: UserId::from_uuid(user_id.0),
                family_id: family_id.0,
            });
        }
        // Why it could not be consumed: the order matters (a revoked family stays revoked
        // whatever else is true of the token).
        match state {
            None => Err(ConsumeRefreshTokenError::Unknown),
            Some(state) if state.revoked_at.is_some() => Err(ConsumeRefreshTokenError::Revoked),
            Some(state) if state.used_at.is_some() => Err(ConsumeRefreshTokenError::AlreadyUsed {
                user_id: UserId::from_uuid(state.user_id.0),
                family_id: state.family_id.0,
            }),
            Some(state) if state.expires_at.0 <= now => Err(ConsumeRefreshTokenError::Expired),
            // Consumed by a concurrent request between our two statements.
            Some(state) => Err(ConsumeRefreshTokenError::AlreadyUsed {
                user_id: UserId::from_uuid(state.user_id.0),
                family_id: state.family_id.0,
            }),
        }
    }

    #[tracing::instrument(name = "db sessions.revoke_family", skip(self), fields(otel.kind = "client", db.system.name = self.database.system_name()))]
    async fn revoke_family(
        &self,
        family_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(), RepositoryError> {
        with_connection!(self.database, |connection| {
            diesel::update(
                refresh_tokens::table
                    .filter(refresh_tokens::family_id.eq(DbId(family_id)))
                    .filter(refresh_tokens::revoked_at.is_null()),
            )
            .set(refresh_tokens::revoked_at.eq(Some(DbTime(now))))
            .execute(connection)
            .await
            .map_err(unexpected)?
        });
        Ok(())
    }

    #[tracing::instrument(name = "db sessions.revoke_family_of", skip(self, hash), fields(otel.kind = "client", db.system.name = self.database.system_name()))]
    async fn revoke_family_of(
        &self,
        hash: &TokenHash,
        user_id: UserId,
        now: DateTime<Utc>,
    ) -> Result<bool, RepositoryError> {
        let family: Option<DbId> = with_connection!(self.database, |connection| {
            refresh_tokens::table
                .filter(refresh_tokens::token_hash.eq(hash.as_str()))
                .filter(refresh_tokens::user_id.eq(DbId(user_id.as_uuid())))
                .select(refresh_tokens::family_id)
                .first(connection)
                .await
                .optional()
                .map_err(unexpected)?
        });
        let Some(family) = family else {
            return Ok(false);
        };
        self.revoke_family(family.0, now).await?;
        Ok(true)
    }
}
