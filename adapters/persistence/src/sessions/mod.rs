//! Sessions and their tokens on Diesel: sessions and refresh tokens here, listing and password
//! changes in `listing` and `password`, reset and verification tokens in their own files.

mod listing;
mod password;
mod resets;
mod rows;
pub(crate) mod verification;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::AsyncConnection as _;
use diesel_async::RunQueryDsl;
use domain::ports::{ConsumeRefreshTokenError, RepositoryError, SessionRepository};
use domain::{
    ClientInfo, ConsumedRefreshToken, NewRefreshToken, NewSession, Page, PageRequest,
    PasswordChange, Session, SessionId, SessionVersion, TokenHash, UserId,
};

use self::rows::{NewRefreshTokenRow, NewSessionRow, revoke_sessions};
use crate::database::Database;
use crate::errors::unexpected;
use crate::jobs::JobSignals;
use crate::schema::{refresh_tokens, sessions, users};
use crate::sql_types::{DbId, DbTime};

/// [`SessionRepository`], `PasswordResetRepository` and `EmailVerificationRepository` on
/// PostgreSQL or SQLite.
#[derive(Debug, Clone)]
pub struct DieselSessionRepository {
    database: Database,
    jobs: JobSignals,
}

impl DieselSessionRepository {
    /// The repositories on `database`, reporting the jobs their writes store to `jobs`.
    #[must_use]
    pub fn new(database: Database, jobs: JobSignals) -> Self {
        Self { database, jobs }
    }
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
    #[tracing::instrument(name = "db sessions.start", skip_all, fields(otel.kind = "client", db.system.name = self.database.system_name(), user_id = %session.user_id))]
    async fn start(
        &self,
        session: NewSession,
        token: NewRefreshToken,
    ) -> Result<(), RepositoryError> {
        let session = NewSessionRow {
            id: DbId(session.id.as_uuid()),
            user_id: DbId(session.user_id.as_uuid()),
            user_agent: session.client.user_agent().map(str::to_owned),
            ip: session.client.ip,
            created_at: DbTime(session.created_at),
            last_used_at: DbTime(session.created_at),
            expires_at: DbTime(session.expires_at),
        };
        let token = NewRefreshTokenRow::from(&token);
        with_connection!(self.database, |connection| {
            connection
                .transaction::<_, diesel::result::Error, _>(async move |transaction| {
                    diesel::insert_into(sessions::table)
                        .values(&session)
                        .execute(transaction)
                        .await?;
                    diesel::insert_into(refresh_tokens::table)
                        .values(&token)
                        .execute(transaction)
                        .await?;
                    Ok(())
                })
                .await
                .map_err(unexpected)?;
        });
        Ok(())
    }

    #[tracing::instrument(name = "db sessions.rotate", skip_all, fields(otel.kind = "client", db.system.name = self.database.system_name(), user_id = %token.user_id))]
    async fn rotate(
        &self,
        token: NewRefreshToken,
        client: ClientInfo,
    ) -> Result<(), RepositoryError> {
        let session = DbId(token.family_id.as_uuid());
        let used_at = DbTime(token.created_at);
        let expires_at = DbTime(token.expires_at);
        let token = NewRefreshTokenRow::from(&token);
        let user_agent = client.user_agent().map(str::to_owned);
        with_connection!(self.database, |connection| {
            connection
                .transaction::<_, diesel::result::Error, _>(async move |transaction| {
                    // The session shows where it was last used from.
                    diesel::update(sessions::table.find(session))
                        .set((
                            sessions::last_used_at.eq(used_at),
                            sessions::expires_at.eq(expires_at),
                            sessions::user_agent.eq(user_agent),
                            sessions::ip.eq(client.ip),
                        ))
                        .execute(transaction)
                        .await?;
                    diesel::insert_into(refresh_tokens::table)
                        .values(&token)
                        .execute(transaction)
                        .await?;
                    Ok(())
                })
                .await
                .map_err(unexpected)?;
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
                family_id: SessionId::from_uuid(family_id.0),
            });
        }
        // Why it could not be consumed: the order matters (a revoked family stays revoked
        // whatever else is true of the token).
        match state {
            None => Err(ConsumeRefreshTokenError::Unknown),
            Some(state) if state.revoked_at.is_some() => Err(ConsumeRefreshTokenError::Revoked),
            Some(state) if state.used_at.is_some() => Err(ConsumeRefreshTokenError::AlreadyUsed {
                user_id: UserId::from_uuid(state.user_id.0),
                family_id: SessionId::from_uuid(state.family_id.0),
            }),
            Some(state) if state.expires_at.0 <= now => Err(ConsumeRefreshTokenError::Expired),
            // Consumed by a concurrent request between our two statements.
            Some(state) => Err(ConsumeRefreshTokenError::AlreadyUsed {
                user_id: UserId::from_uuid(state.user_id.0),
                family_id: SessionId::from_uuid(state.family_id.0),
            }),
        }
    }

    #[tracing::instrument(name = "db sessions.revoke", skip(self), fields(otel.kind = "client", db.system.name = self.database.system_name()))]
    async fn revoke(&self, session: SessionId, now: DateTime<Utc>) -> Result<(), RepositoryError> {
        with_connection!(self.database, |connection| {
            connection
                .transaction::<_, diesel::result::Error, _>(async move |transaction| {
                    revoke_sessions!(
                        transaction,
                        sessions::id.eq(DbId(session.as_uuid())),
                        DbTime(now)
                    )
                })
                .await
                .map_err(unexpected)?;
        });
        Ok(())
    }

    #[tracing::instrument(name = "db sessions.revoke_by_token", skip(self, hash), fields(otel.kind = "client", db.system.name = self.database.system_name()))]
    async fn revoke_by_token(
        &self,
        hash: &TokenHash,
        user_id: UserId,
        now: DateTime<Utc>,
    ) -> Result<Option<SessionId>, RepositoryError> {
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
            return Ok(None);
        };
        let session = SessionId::from_uuid(family.0);
        self.revoke(session, now).await?;
        Ok(Some(session))
    }

    #[tracing::instrument(name = "db sessions.revoke_owned", skip(self), fields(otel.kind = "client", db.system.name = self.database.system_name()))]
    async fn revoke_owned(
        &self,
        user_id: UserId,
        session: SessionId,
        now: DateTime<Utc>,
    ) -> Result<bool, RepositoryError> {
        let revoked = with_connection!(self.database, |connection| {
            connection
                .transaction::<_, diesel::result::Error, _>(async move |transaction| {
                    revoke_sessions!(
                        transaction,
                        sessions::id
                            .eq(DbId(session.as_uuid()))
                            .and(sessions::user_id.eq(DbId(user_id.as_uuid())))
                            .and(sessions::revoked_at.is_null()),
                        DbTime(now)
                    )
                })
                .await
                .map_err(unexpected)?
        });
        Ok(revoked > 0)
    }

    #[tracing::instrument(name = "db sessions.revoke_all", skip(self), fields(otel.kind = "client", db.system.name = self.database.system_name()))]
    async fn revoke_all(&self, user_id: UserId, now: DateTime<Utc>) -> Result<(), RepositoryError> {
        let user = DbId(user_id.as_uuid());
        with_connection!(self.database, |connection| {
            connection
                .transaction::<_, diesel::result::Error, _>(async move |transaction| {
                    diesel::update(users::table.find(user))
                        .set(users::session_version.eq(users::session_version + 1))
                        .execute(transaction)
                        .await?;
                    revoke_sessions!(transaction, sessions::user_id.eq(user), DbTime(now))
                })
                .await
                .map_err(unexpected)?;
        });
        Ok(())
    }

    #[tracing::instrument(name = "db sessions.list", skip(self), fields(otel.kind = "client", db.system.name = self.database.system_name()))]
    async fn list(
        &self,
        user_id: UserId,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Page<Session>, RepositoryError> {
        listing::list(&self.database, user_id, page, now).await
    }

    #[tracing::instrument(name = "db sessions.is_live", skip(self), fields(otel.kind = "client", db.system.name = self.database.system_name()))]
    async fn is_live(&self, session: SessionId) -> Result<bool, RepositoryError> {
        listing::is_live(&self.database, session).await
    }

    #[tracing::instrument(name = "db sessions.change_password", skip_all, fields(otel.kind = "client", db.system.name = self.database.system_name(), user_id = %change.user_id))]
    async fn change_password(
        &self,
        change: PasswordChange,
    ) -> Result<SessionVersion, RepositoryError> {
        password::change_password(&self.database, &self.jobs, change).await
    }
}
