//! The user repository port.

use async_trait::async_trait;

use crate::id::UserId;
use crate::pagination::Page;
use crate::session::{AuthState, NewVerificationToken};
use crate::user::{Email, NewUser, User, UserChanges, UserCredentials, UserQuery};

use super::RepositoryError;

/// Why a user could not be inserted.
#[derive(Debug, thiserror::Error)]
pub enum InsertUserError {
    #[error("a user with this email already exists")]
    EmailTaken,
    #[error(transparent)]
    Unexpected(#[from] RepositoryError),
}

/// Why a user could not be updated.
#[derive(Debug, thiserror::Error)]
pub enum UpdateUserRecordError {
    #[error("no user with this id")]
    NotFound,
    #[error("a user with this email already exists")]
    EmailTaken,
    /// The change would demote the only admin.
    #[error("the user is the last admin")]
    LastAdmin,
    #[error(transparent)]
    Unexpected(#[from] RepositoryError),
}

/// Why a user could not be deleted.
#[derive(Debug, thiserror::Error)]
pub enum DeleteUserRecordError {
    #[error("no user with this id")]
    NotFound,
    /// The user owns accounts, whose ledger must be kept.
    #[error("the user owns accounts")]
    OwnsAccounts,
    /// The user is the only admin.
    #[error("the user is the last admin")]
    LastAdmin,
    #[error(transparent)]
    Unexpected(#[from] RepositoryError),
}

/// Stores and finds users. Emails are compared case-insensitively: adapters store the
/// already lower-cased [`Email`] and enforce uniqueness on it.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait UserRepository: Send + Sync + 'static {
    /// Stores a new user with its outbox (its welcome email) and its verification token in
    /// one transaction: all are stored or none is. Returns the user as stored.
    ///
    /// # Errors
    /// `InsertUserError::EmailTaken` when another user has the same email (adapters detect it
    /// by the unique constraint, not by a prior read, so that it holds under races);
    /// `Unexpected` for anything else.
    async fn insert(&self, user: NewUser) -> Result<User, InsertUserError>;

    /// The user with this id, if any.
    ///
    /// # Errors
    /// `RepositoryError` only for storage failures; a missing user is `Ok(None)`.
    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, RepositoryError>;

    /// The role and session version of the user with this id, if any (read on every
    /// authenticated request, so it must be cheap).
    ///
    /// # Errors
    /// `RepositoryError` only for storage failures; a missing user is `Ok(None)`.
    async fn find_auth_state(&self, id: UserId) -> Result<Option<AuthState>, RepositoryError>;

    /// The user with this email and their password hash, if any.
    ///
    /// # Errors
    /// `RepositoryError` only for storage failures; a missing user is `Ok(None)`.
    async fn find_credentials_by_email(
        &self,
        email: &Email,
    ) -> Result<Option<UserCredentials>, RepositoryError>;

    /// One page of users, oldest first, filtered by a case-insensitive substring of the name
    /// or email when the query has a search term. The page's items are always current; its
    /// `total` may be reused for a moment (adapters may cache it briefly, forgetting it on
    /// their own writes), so other processes' writes can take a few seconds to show in it.
    ///
    /// # Errors
    /// `RepositoryError` only for storage failures.
    async fn list(&self, query: &UserQuery) -> Result<Page<User>, RepositoryError>;

    /// Applies `changes` (fields that are `None` stay as they are), sets `updated_at` to
    /// `now`, and returns the user as stored. When `changes.role` is `Some`, the user's
    /// session version is incremented too, so that access tokens carrying the old role stop
    /// working (callers pass a role only when it changes).
    ///
    /// # Errors
    /// `UpdateUserRecordError::NotFound` when no user has this id; `EmailTaken` when the new
    /// email belongs to another user (by the unique constraint); `LastAdmin` when the new
    /// role would leave no admin, judged atomically with the change (two admins demoting
    /// each other at once must not both succeed); `Unexpected` otherwise.
    ///
    /// When `changes.email` is `Some` (callers pass it only when it changes the address), the
    /// address becomes unverified, and `verification` (its new token) is stored, superseding
    /// the user's earlier ones, with its outbox (the email carrying it), in the same
    /// transaction.
    async fn update(
        &self,
        id: UserId,
        changes: UserChanges,
        verification: Option<NewVerificationToken>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<User, UpdateUserRecordError>;

    /// Deletes the user and everything that belongs only to them.
    ///
    /// # Errors
    /// `DeleteUserRecordError::NotFound` when no user has this id; `OwnsAccounts` when
    /// accounts still belong to the user (by the foreign key); `LastAdmin` when the user is
    /// the only admin, judged atomically with the deletion; `Unexpected` otherwise.
    async fn delete(&self, id: UserId) -> Result<(), DeleteUserRecordError>;
}
