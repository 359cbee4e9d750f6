//! Security ports: password hashing and access tokens.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::actor::Actor;
use crate::id::{SessionId, UserId};
use crate::session::SessionVersion;
use crate::user::{Password, PasswordHash, Role};

/// The hasher failed for a reason unrelated to the password (e.g. its worker pool is gone).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed")]
pub struct PasswordHashError(#[source] pub anyhow::Error);

/// Hashes and verifies passwords. Implementations are slow on purpose and MUST keep that
/// work off the async executor's threads.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait PasswordHasher: Send + Sync + 'static {
    /// A salted hash of `password`, in PHC string format.
    ///
    /// # Errors
    /// `PasswordHashError` only when hashing itself could not run.
    async fn hash(&self, password: &Password) -> Result<PasswordHash, PasswordHashError>;

    /// Whether `password` matches `hash`. A malformed hash is `Ok(false)`, not an error.
    ///
    /// # Errors
    /// `PasswordHashError` only when verification itself could not run.
    async fn verify(
        &self,
        password: &Password,
        hash: &PasswordHash,
    ) -> Result<bool, PasswordHashError>;
}

/// What a valid access token says about its bearer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessClaims {
    pub user_id: UserId,
    pub role: Role,
    /// The session the token was issued in: when it ends, the token stops working.
    pub session_id: SessionId,
    /// The user's session version when the token was issued (see `AuthState`).
    pub session_version: SessionVersion,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl AccessClaims {
    /// The caller these claims authenticate.
    #[must_use]
    pub const fn actor(&self) -> Actor {
        Actor {
            user_id: self.user_id,
            role: self.role,
        }
    }
}

/// A signed access token and its lifetime.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken {
    pub token: String,
    pub expires_in_seconds: u64,
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("AccessToken")
            .field("token", &"<redacted>")
            .field("expires_in_seconds", &self.expires_in_seconds)
            .finish()
    }
}

/// The token is not one this service issued, or it is no longer valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Invalid token")]
pub struct InvalidToken;

/// An access token could not be signed (a misconfigured key).
#[derive(Debug, thiserror::Error)]
#[error("could not sign an access token")]
pub struct SigningError(#[source] pub anyhow::Error);

/// Issues access tokens.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait TokenIssuer: Send + Sync + 'static {
    /// A token for `actor` in session `session_id` at `session_version`, valid from `now`
    /// for the configured lifetime.
    ///
    /// # Errors
    /// Only if signing itself fails (a misconfigured key).
    fn issue(
        &self,
        actor: Actor,
        session_id: SessionId,
        session_version: SessionVersion,
        now: DateTime<Utc>,
    ) -> Result<AccessToken, SigningError>;
}

/// Verifies access tokens.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait TokenVerifier: Send + Sync + 'static {
    /// The claims of `token` if it is valid at `now`.
    ///
    /// # Errors
    /// `InvalidToken` for every token that is malformed, signed with another key or
    /// algorithm, expired, not yet valid, or meant for another issuer or audience.
    fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<AccessClaims, InvalidToken>;
}
