//! How a session's tokens are made and how sessions end: the first refresh token and
//! the session row, the next refresh token of a session, the access token issued with each,
//! and what this process does when sessions end (forget their cached states, tell the
//! realtime gateway).

use domain::ports::DomainEvent;
use domain::{
    Actor, AuthState, ClientInfo, NewRefreshToken, NewSession, OpaqueToken, RevocationReason,
    SessionId, User, UserId,
};
use uuid::Uuid;

use super::service::{AuthService, IssuedSession};

impl AuthService {
    /// A new session for `user`: stored with its first refresh token, then a token pair.
    pub(super) async fn start_session(
        &self,
        user: User,
        state: AuthState,
        client: ClientInfo,
    ) -> anyhow::Result<IssuedSession> {
        let session_id = SessionId::generate();
        let (refresh, token) = self.next_refresh_token(user.id, session_id)?;
        self.ports
            .sessions
            .start(
                NewSession {
                    id: session_id,
                    user_id: user.id,
                    client,
                    created_at: token.created_at,
                    expires_at: token.expires_at,
                },
                token,
            )
            .await?;
        self.issue(user, state, session_id, refresh)
    }

    /// The next refresh token of a session (to store) and its text (for the client).
    pub(super) fn next_refresh_token(
        &self,
        user_id: UserId,
        session: SessionId,
    ) -> anyhow::Result<(OpaqueToken, NewRefreshToken)> {
        let now = self.ports.clock.now();
        let (refresh, token_hash) = self.ports.opaque_tokens.generate();
        let token = NewRefreshToken {
            id: Uuid::now_v7(),
            user_id,
            family_id: session,
            token_hash,
            created_at: now,
            expires_at: now + chrono::Duration::from_std(self.config.refresh_token_ttl)?,
        };
        Ok((refresh, token))
    }

    /// An access token for `user` in `session`, issued with its refresh token.
    pub(super) fn issue(
        &self,
        user: User,
        state: AuthState,
        session: SessionId,
        refresh: OpaqueToken,
    ) -> anyhow::Result<IssuedSession> {
        let actor = Actor {
            user_id: user.id,
            role: state.role,
        };
        let access = self
            .ports
            .issuer
            .issue(
                actor,
                session,
                state.session_version,
                self.ports.clock.now(),
            )
            .map_err(anyhow::Error::new)?;
        Ok(IssuedSession {
            user,
            access,
            refresh,
        })
    }

    /// Forgets what this process cached about the ended sessions (one session, or every
    /// session of the user) and tells the realtime gateway to disconnect their sockets.
    pub(super) async fn ended(
        &self,
        user: UserId,
        session: Option<SessionId>,
        reason: RevocationReason,
    ) {
        match session {
            Some(session) => self.ports.session_states.invalidate(session),
            None => self.ports.auth_states.invalidate(user),
        }
        self.ports
            .events
            .publish(DomainEvent::SessionsRevoked {
                user,
                session,
                reason,
            })
            .await;
    }
}
