//! Session storage ports: refresh tokens and password-reset tokens.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::RepositoryError;
use crate::id::UserId;
use crate::job::NewJob;
use crate::session::{ConsumedRefreshToken, NewRefreshToken, NewResetToken, TokenHash};
use crate::user::PasswordHash;

/// Why a refresh token could not be consumed.
#[derive(Debug, thiserror::Error)]
pub enum ConsumeRefreshTokenError {
    #[error("unknown refresh token")]
    Unknown,
    #[error("expired refresh token")]
    Expired,
    #[error("revoked refresh token")]
    Revoked,
    /// The token was already spent: someone replays it. The caller revokes the family.
    #[error("refresh token reused")]
    AlreadyUsed { user_id: UserId, family_id: Uuid },
    #[error(transparent)]
    Unexpected(#[from] RepositoryError),
}

/// Why a password could not be reset.
#[derive(Debug, thiserror::Error)]
pub enum ResetPasswordError {
    /// Unknown, expired, already used, or superseded by a newer request.
    #[error("invalid or expired reset token")]
    InvalidToken,
    #[error(transparent)]
    Unexpected(#[from] RepositoryError),
}

/// Stores refresh tokens (by hash only).
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait SessionRepository: Send + Sync + 'static {
    /// Stores a new refresh token.
    ///
    /// # Errors
    /// `RepositoryError` for storage failures.
    async fn insert_refresh_token(&self, token: NewRefreshToken) -> Result<(), RepositoryError>;

    /// Marks the token with this hash as spent, atomically: of two concurrent calls with
    /// the same token, exactly one succeeds.
    ///
    /// # Errors
    /// `Unknown` when no token has this hash; `Revoked` when its family was revoked;
    /// `Expired` when past its expiry at `now`; `AlreadyUsed` (with its family) when it was
    /// spent before; `Unexpected` for storage failures.
    async fn consume_refresh_token(
        &self,
        hash: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<ConsumedRefreshToken, ConsumeRefreshTokenError>;

    /// Revokes every token of the family.
    ///
    /// # Errors
    /// `RepositoryError` for storage failures.
    async fn revoke_family(
        &self,
        family_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(), RepositoryError>;

    /// Revokes the family of the token with this hash if it belongs to `user_id` (logout);
    /// returns whether anything was revoked.
    ///
    /// # Errors
    /// `RepositoryError` for storage failures.
    async fn revoke_family_of(
        &self,
        hash: &TokenHash,
        user_id: UserId,
        now: DateTime<Utc>,
    ) -> Result<bool, RepositoryError>;
}

/// Stores password-reset tokens (by hash only) and performs the reset.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait PasswordResetRepository: Send + Sync + 'static {
    /// Stores a new reset token for its user, invalidating the user's earlier ones, and
    /// enqueues `jobs` (the email carrying the token) in the same transaction.
    ///
    /// # Errors
    /// `RepositoryError` for storage failures.
    async fn replace_reset_token(
        &self,
        token: NewResetToken,
        jobs: Vec<NewJob>,
    ) -> Result<(), RepositoryError>;

    /// In one transaction: consumes the unused, unexpired token with this hash, sets the
    /// user's password hash, increments their session version (outstanding access tokens
    /// stop working), invalidates their other reset tokens and revokes all their refresh
    /// tokens. Returns the user's id.
    ///
    /// # Errors
    /// `ResetPasswordError::InvalidToken` when no usable token has this hash at `now`;
    /// `Unexpected` for storage failures.
    async fn reset_password(
        &self,
        hash: &TokenHash,
        new_password: PasswordHash,
        now: DateTime<Utc>,
    ) -> Result<UserId, ResetPasswordError>;
}
