//! [`SessionRepository`] in memory (the one-time tokens are in `one_time_tokens`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::ports::{ConsumeRefreshTokenError, RepositoryError, SessionRepository};
use domain::{
    ClientInfo, ConsumedRefreshToken, NewRefreshToken, NewSession, Page, PageRequest,
    PasswordChange, Session, SessionId, SessionVersion, TokenHash, UserId,
};

use super::tables::{RefreshTokenRow, SessionRow, Tables};
use super::{MemoryStore, page_of};

impl Tables {
    fn insert_refresh_token(&mut self, token: &NewRefreshToken) {
        self.refresh_tokens.insert(
            token.token_hash.as_str().to_owned(),
            RefreshTokenRow {
                user_id: token.user_id,
                family_id: token.family_id,
                expires_at: token.expires_at,
                used_at: None,
                revoked_at: None,
            },
        );
    }

    pub(super) fn no_user(id: UserId) -> RepositoryError {
        RepositoryError(anyhow::anyhow!("no user {id}"))
    }
}

#[async_trait]
impl SessionRepository for MemoryStore {
    async fn start(
        &self,
        session: NewSession,
        token: NewRefreshToken,
    ) -> Result<(), RepositoryError> {
        let mut tables = self.tables();
        if !tables.users.contains_key(&session.user_id) {
            return Err(Tables::no_user(session.user_id));
        }
        tables.sessions.insert(
            session.id,
            SessionRow {
                user_id: session.user_id,
                user_agent: session.client.user_agent().map(str::to_owned),
                ip: session.client.ip,
                created_at: session.created_at,
                last_used_at: session.created_at,
                expires_at: session.expires_at,
                revoked_at: None,
            },
        );
        tables.insert_refresh_token(&token);
        Ok(())
    }

    async fn rotate(
        &self,
        token: NewRefreshToken,
        client: ClientInfo,
    ) -> Result<(), RepositoryError> {
        let mut tables = self.tables();
        // The session shows where it was last used from.
        let session = tables
            .sessions
            .get_mut(&token.family_id)
            .ok_or_else(|| RepositoryError(anyhow::anyhow!("no session {}", token.family_id)))?;
        session.last_used_at = token.created_at;
        session.expires_at = token.expires_at;
        session.user_agent = client.user_agent().map(str::to_owned);
        session.ip = client.ip;
        tables.insert_refresh_token(&token);
        Ok(())
    }

    async fn consume_refresh_token(
        &self,
        hash: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<ConsumedRefreshToken, ConsumeRefreshTokenError> {
        let mut tables = self.tables();
        let token = tables
            .refresh_tokens
            .get_mut(hash.as_str())
            .ok_or(ConsumeRefreshTokenError::Unknown)?;
        // The order matters: a revoked family stays revoked whatever else is true.
        if token.revoked_at.is_some() {
            return Err(ConsumeRefreshTokenError::Revoked);
        }
        if token.used_at.is_some() {
            return Err(ConsumeRefreshTokenError::AlreadyUsed {
                user_id: token.user_id,
                family_id: token.family_id,
            });
        }
        if token.expires_at <= now {
            return Err(ConsumeRefreshTokenError::Expired);
        }
        token.used_at = Some(now);
        Ok(ConsumedRefreshToken {
            user_id: token.user_id,
            family_id: token.family_id,
        })
    }

    async fn revoke(&self, session: SessionId, now: DateTime<Utc>) -> Result<(), RepositoryError> {
        self.tables().revoke_sessions(|id, _| id == session, now);
        Ok(())
    }

    async fn revoke_by_token(
        &self,
        hash: &TokenHash,
        user_id: UserId,
        now: DateTime<Utc>,
    ) -> Result<Option<SessionId>, RepositoryError> {
        let mut tables = self.tables();
        let Some(family) = tables
            .refresh_tokens
            .get(hash.as_str())
            .filter(|token| token.user_id == user_id)
            .map(|token| token.family_id)
        else {
            return Ok(None);
        };
        tables.revoke_sessions(|id, _| id == family, now);
        Ok(Some(family))
    }

    async fn revoke_owned(
        &self,
        user_id: UserId,
        session: SessionId,
        now: DateTime<Utc>,
    ) -> Result<bool, RepositoryError> {
        let revoked = self
            .tables()
            .revoke_sessions(|id, row| id == session && row.user_id == user_id, now);
        Ok(revoked > 0)
    }

    async fn revoke_all(&self, user_id: UserId, now: DateTime<Utc>) -> Result<(), RepositoryError> {
        let mut tables = self.tables();
        if let Some(user) = tables.users.get_mut(&user_id) {
            user.session_version = user.session_version.next();
        }
        tables.revoke_sessions(|_, row| row.user_id == user_id, now);
        Ok(())
    }

    async fn list(
        &self,
        user_id: UserId,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Page<Session>, RepositoryError> {
        let mut live: Vec<Session> = self
            .tables()
            .sessions
            .iter()
            .filter(|(_, row)| {
                row.user_id == user_id && row.revoked_at.is_none() && row.expires_at > now
            })
            .map(|(id, row)| Session {
                id: *id,
                user_agent: row.user_agent.clone(),
                ip: row.ip.clone(),
                created_at: row.created_at,
                last_used_at: row.last_used_at,
                expires_at: row.expires_at,
            })
            .collect();
        // Newest first.
        live.sort_by_key(|session| std::cmp::Reverse((session.created_at, session.id)));
        Ok(page_of(&live, page))
    }

    async fn is_live(&self, session: SessionId) -> Result<bool, RepositoryError> {
        Ok(self
            .tables()
            .sessions
            .get(&session)
            .is_some_and(|row| row.revoked_at.is_none()))
    }

    async fn change_password(
        &self,
        mut change: PasswordChange,
    ) -> Result<SessionVersion, RepositoryError> {
        let jobs = self.traced(std::mem::take(&mut change.outbox));
        let (version, kinds) = {
            let mut tables = self.tables();
            let now = change.now;
            let user = tables
                .users
                .get_mut(&change.user_id)
                .ok_or_else(|| Tables::no_user(change.user_id))?;
            user.password_hash = change.password_hash;
            user.session_version = user.session_version.next();
            user.user.updated_at = now;
            let version = user.session_version;
            let (owner, current) = (change.user_id, change.session_id);
            tables.revoke_sessions(|id, row| row.user_id == owner && id != current, now);
            // The current session goes on with a new refresh token only.
            for token in tables.refresh_tokens.values_mut() {
                if token.family_id == current && token.revoked_at.is_none() {
                    token.revoked_at = Some(now);
                }
            }
            if let Some(session) = tables.sessions.get_mut(&current) {
                session.last_used_at = now;
            }
            tables.insert_refresh_token(&change.next_token);
            (version, tables.insert_jobs(jobs))
        };
        self.jobs_committed(&kinds);
        Ok(version)
    }
}
