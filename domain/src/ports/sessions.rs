//! Session storage ports: sessions and their refresh tokens, password-reset tokens and
//! email-verification tokens.

use super::RepositoryError;
use crate::id::{SessionId, UserId};
use crate::pagination::{Page, PageRequest};
use crate::session::{
    ClientInfo, ConsumedRefreshToken, NewRefreshToken, NewResetToken, NewSession,
    NewVerificationToken, PasswordChange, Session, SessionVersion, TokenHash,
};
use crate::user::PasswordHash;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

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
    AlreadyUsed {
        user_id: UserId,
        family_id: SessionId,
    },
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

/// Why an email could not be verified.
#[derive(Debug, thiserror::Error)]
pub enum VerifyEmailError {
    /// Unknown, expired, already used, superseded, or for an address the user no longer has.
    #[error("Invalid or expired token")]
    InvalidToken,
    #[error(transparent)]
    Unexpected(#[from] RepositoryError),
}

/// Stores sessions and their refresh tokens (by hash only).
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait SessionRepository: Send + Sync + 'static {
    /// Stores a new session and its first refresh token, in one transaction.
    ///
    /// # Errors
    /// `RepositoryError` for storage failures.
    async fn start(
        &self,
        session: NewSession,
        token: NewRefreshToken,
    ) -> Result<(), RepositoryError>;

    /// Stores the next refresh token of a session (after one was consumed) and records the
    /// session's use by `client` at the token's creation time.
    ///
    /// # Errors
    /// `RepositoryError` for storage failures.
    async fn rotate(
        &self,
        token: NewRefreshToken,
        client: ClientInfo,
    ) -> Result<(), RepositoryError>;

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

    /// Ends the session: it and every refresh token of it are revoked.
    ///
    /// # Errors
    /// `RepositoryError` for storage failures.
    async fn revoke(&self, session: SessionId, now: DateTime<Utc>) -> Result<(), RepositoryError>;

    /// Ends the session of the refresh token with this hash if it belongs to `user_id`
    /// (logout); returns the session that ended, if any.
    ///
    /// # Errors
    /// `RepositoryError` for storage failures.
    async fn revoke_by_token(
        &self,
        hash: &TokenHash,
        user_id: UserId,
        now: DateTime<Utc>,
    ) -> Result<Option<SessionId>, RepositoryError>;

    /// Ends `session` if it is a live session of `user_id`; returns whether it was.
    ///
    /// # Errors
    /// `RepositoryError` for storage failures.
    async fn revoke_owned(
        &self,
        user_id: UserId,
        session: SessionId,
        now: DateTime<Utc>,
    ) -> Result<bool, RepositoryError>;

    /// Ends every session of the user and increments their session version (every access
    /// token they hold stops working), in one transaction.
    ///
    /// # Errors
    /// `RepositoryError` for storage failures.
    async fn revoke_all(&self, user_id: UserId, now: DateTime<Utc>) -> Result<(), RepositoryError>;

    /// One page of the user's live sessions (not revoked, not expired at `now`), newest
    /// first.
    ///
    /// # Errors
    /// `RepositoryError` for storage failures.
    async fn list(
        &self,
        user_id: UserId,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Page<Session>, RepositoryError>;

    /// Whether the session exists and is not revoked (read for every authenticated request
    /// through a short cache, so it must be cheap).
    ///
    /// # Errors
    /// `RepositoryError` for storage failures.
    async fn is_live(&self, session: SessionId) -> Result<bool, RepositoryError>;

    /// Applies a password change (see [`PasswordChange`]) in one transaction and returns the
    /// user's new session version.
    ///
    /// # Errors
    /// `RepositoryError` for storage failures (nothing is changed then).
    async fn change_password(
        &self,
        change: PasswordChange,
    ) -> Result<SessionVersion, RepositoryError>;
}

/// Stores email-verification tokens (by hash only) and marks addresses verified.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait EmailVerificationRepository: Send + Sync + 'static {
    /// Stores a new verification token for its user, superseding their earlier ones, and
    /// its outbox (the email carrying the token) in the same transaction.
    ///
    /// # Errors
    /// `RepositoryError` for storage failures.
    async fn replace_verification_token(
        &self,
        token: NewVerificationToken,
    ) -> Result<(), RepositoryError>;

    /// In one transaction: spends the unused, unexpired token with this hash and marks its
    /// user's email verified, if the user's email is still the one the token was sent to.
    /// Returns the user's id.
    ///
    /// # Errors
    /// `VerifyEmailError::InvalidToken` when no usable token has this hash at `now`;
    /// `Unexpected` for storage failures.
    async fn verify_email(
        &self,
        hash: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<UserId, VerifyEmailError>;
}

/// Stores password-reset tokens (by hash only) and performs the reset.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait PasswordResetRepository: Send + Sync + 'static {
    /// Stores a new reset token for its user, invalidating the user's earlier ones, and
    /// its outbox (the email carrying the token) in the same transaction.
    ///
    /// # Errors
    /// `RepositoryError` for storage failures.
    async fn replace_reset_token(&self, token: NewResetToken) -> Result<(), RepositoryError>;

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
