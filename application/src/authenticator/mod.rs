//! Authentication of API callers: from a bearer token to a [`Caller`].
//!
//! A token must verify (signature, algorithm, issuer, audience, time) *and* still match
//! its user and session: the user must exist and have the session version the token was
//! issued at (role changes, password changes and resets, logout-all increment it), and the
//! token's session must not be revoked (logout, a deleted session).

use std::sync::Arc;

use domain::ports::{AccessClaims, Clock, TokenVerifier};
use domain::{Actor, SessionId};

use crate::auth_states::{AuthStates, SessionStates};

/// Why a bearer token does not authenticate anyone.
#[derive(Debug, thiserror::Error)]
pub enum AuthenticateError {
    #[error("Invalid token")]
    InvalidToken,
    #[error("could not check the token's user")]
    Unexpected(#[source] anyhow::Error),
}

/// An authenticated caller: who acts, and in which session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    pub actor: Actor,
    pub session_id: SessionId,
}

/// Turns bearer tokens into callers.
#[derive(Clone)]
pub struct Authenticator {
    verifier: Arc<dyn TokenVerifier>,
    auth_states: Arc<AuthStates>,
    session_states: Arc<SessionStates>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Authenticator")
            .finish_non_exhaustive()
    }
}

impl Authenticator {
    pub fn new(
        verifier: Arc<dyn TokenVerifier>,
        auth_states: Arc<AuthStates>,
        session_states: Arc<SessionStates>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            verifier,
            auth_states,
            session_states,
            clock,
        }
    }

    /// The claims of a bearer token whose signature and lifetime check out, without the
    /// database reads of [`Authenticator::authenticate`]: e.g. for counting requests against
    /// a per-user rate limit before the request is served (a revoked token still counts).
    /// [`Authenticator::authenticate_claims`] finishes the check without verifying again.
    #[must_use]
    pub fn verify(&self, token: &str) -> Option<AccessClaims> {
        self.verifier.verify(token, self.clock.now()).ok()
    }

    /// The caller a bearer token stands for, with the user's current role.
    #[tracing::instrument(name = "Authenticator.authenticate", level = "debug", skip_all)]
    pub async fn authenticate(&self, token: &str) -> Result<Caller, AuthenticateError> {
        let claims = self.verify(token).ok_or(AuthenticateError::InvalidToken)?;
        self.authenticate_claims(claims).await
    }

    /// The caller of claims that [`Authenticator::verify`] returned: the user must exist
    /// with the token's session version, and the session must be live.
    pub async fn authenticate_claims(
        &self,
        claims: AccessClaims,
    ) -> Result<Caller, AuthenticateError> {
        let unexpected = |error| AuthenticateError::Unexpected(anyhow::Error::new(error));
        let state = self
            .auth_states
            .get(claims.user_id)
            .await
            .map_err(unexpected)?
            .ok_or(AuthenticateError::InvalidToken)?;
        if state.session_version != claims.session_version {
            return Err(AuthenticateError::InvalidToken);
        }
        if !self
            .session_states
            .is_live(claims.session_id)
            .await
            .map_err(unexpected)?
        {
            return Err(AuthenticateError::InvalidToken);
        }
        Ok(Caller {
            actor: Actor {
                user_id: claims.user_id,
                role: state.role,
            },
            session_id: claims.session_id,
        })
    }
}

#[cfg(test)]
mod tests;
