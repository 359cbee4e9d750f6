//! The caller's own sessions: listing and ending them, and changing the password from one.

use domain::{
    AuthState, Page, PageRequest, Password, PasswordChange, RevocationReason, Session, SessionId,
};

use super::errors::{ChangePasswordError, DeleteSessionError, SessionsError};
use super::service::{AuthService, IssuedSession};
use crate::authenticator::Caller;
use crate::jobs::password_changed_email_job;

impl AuthService {
    /// The caller's live sessions, newest first.
    #[tracing::instrument(name = "AuthService.list_sessions", skip_all, fields(actor = %caller.actor.user_id))]
    pub async fn list_sessions(
        &self,
        caller: Caller,
        page: PageRequest,
    ) -> Result<Page<Session>, SessionsError> {
        Ok(self
            .ports
            .sessions
            .list(caller.actor.user_id, page, self.ports.clock.now())
            .await?)
    }

    /// Ends one of the caller's sessions: its refresh token and access tokens stop
    /// working, its sockets are disconnected.
    #[tracing::instrument(name = "AuthService.delete_session", skip_all, fields(actor = %caller.actor.user_id, %session))]
    pub async fn delete_session(
        &self,
        caller: Caller,
        session: SessionId,
    ) -> Result<(), DeleteSessionError> {
        let user = caller.actor.user_id;
        let revoked = self
            .ports
            .sessions
            .revoke_owned(user, session, self.ports.clock.now())
            .await?;
        if !revoked {
            return Err(DeleteSessionError::NotFound(session));
        }
        self.ended(user, Some(session), RevocationReason::SessionDeleted)
            .await;
        Ok(())
    }

    /// Ends every session of the caller, this one included.
    #[tracing::instrument(name = "AuthService.logout_all", skip_all, fields(actor = %caller.actor.user_id))]
    pub async fn logout_all(&self, caller: Caller) -> Result<(), SessionsError> {
        let user = caller.actor.user_id;
        self.ports
            .sessions
            .revoke_all(user, self.ports.clock.now())
            .await?;
        self.ended(user, None, RevocationReason::LoggedOutEverywhere)
            .await;
        tracing::info!(%user, "logged out everywhere");
        Ok(())
    }

    /// Changes the caller's password, given the current one: every other session and
    /// every earlier access token stop working, this session goes on with the new token
    /// pair, and a notice is queued in the same transaction. Wrong current passwords count
    /// against the account's failed-login limit.
    #[tracing::instrument(name = "AuthService.change_password", skip_all, fields(actor = %caller.actor.user_id))]
    pub async fn change_password(
        &self,
        caller: Caller,
        current: &Password,
        new: &Password,
    ) -> Result<IssuedSession, ChangePasswordError> {
        let user_id = caller.actor.user_id;
        let user = self
            .ports
            .users
            .find_by_id(user_id)
            .await?
            .ok_or(ChangePasswordError::NotFound(user_id))?;
        let failures_key = format!("failed-logins:{}", user.email);
        let policy = self.config.failed_login_policy;
        let attempt = self.ports.rate_limiter.hit(&failures_key, policy).await;
        if !attempt.allowed {
            return Err(ChangePasswordError::TooManyAttempts {
                retry_after: attempt.reset_after,
            });
        }
        let credentials = self
            .ports
            .users
            .find_credentials_by_email(&user.email)
            .await?
            .ok_or(ChangePasswordError::NotFound(user_id))?;
        if !self
            .ports
            .hasher
            .verify(current, &credentials.password_hash)
            .await?
        {
            return Err(ChangePasswordError::IncorrectPassword);
        }
        self.ports.rate_limiter.reset(&failures_key).await;
        let password_hash = self.ports.hasher.hash(new).await?;
        let now = self.ports.clock.now();
        let (refresh, next_token) = self.next_refresh_token(user_id, caller.session_id)?;
        let session_version = self
            .ports
            .sessions
            .change_password(PasswordChange {
                user_id,
                session_id: caller.session_id,
                password_hash,
                next_token,
                outbox: password_changed_email_job(user_id, now).into(),
                now,
            })
            .await?;
        self.ended(user_id, None, RevocationReason::PasswordChanged)
            .await;
        tracing::info!(%user_id, "password changed; other sessions revoked");
        let state = AuthState {
            role: caller.actor.role,
            session_version,
        };
        Ok(self.issue(credentials.user, state, caller.session_id, refresh)?)
    }
}
