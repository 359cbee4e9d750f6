//! The account repository port: accounts, deposits, transfers, and idempotency keys.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::RepositoryError;
use crate::account::{Account, Transfer, TransferRuleError};
use crate::actor::Actor;
use crate::id::{AccountId, TransferId, UserId};
use crate::idempotency::{IdempotencyKey, RequestFingerprint};
use crate::money::{Amount, Currency};
use crate::pagination::{Page, PageRequest};

/// A client's `Idempotency-Key`, scoped to its user, with what the request asked for so
/// that a reuse for another request is recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyClaim {
    pub user_id: UserId,
    pub key: IdempotencyKey,
    pub fingerprint: RequestFingerprint,
    /// Keys are forgotten after this.
    pub expires_at: DateTime<Utc>,
}

/// A new account to store.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub id: AccountId,
    pub owner_id: UserId,
    pub currency: Currency,
    pub created_at: DateTime<Utc>,
}

/// Money to add to an account.
#[derive(Debug, Clone)]
pub struct DepositCommand {
    pub account_id: AccountId,
    pub amount: Amount,
    pub idempotency: Option<IdempotencyClaim>,
    pub now: DateTime<Utc>,
}

/// Money to move between two accounts, on behalf of `actor`.
#[derive(Debug, Clone)]
pub struct TransferCommand {
    pub id: TransferId,
    pub actor: Actor,
    pub from: AccountId,
    pub to: AccountId,
    pub amount: Amount,
    pub idempotency: Option<IdempotencyClaim>,
    pub now: DateTime<Utc>,
}

/// A transfer as stored, with the owner of the receiving account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferOutcome {
    pub transfer: Transfer,
    pub recipient_id: UserId,
    /// The idempotency key matched an earlier transfer: nothing moved this time.
    pub replayed: bool,
}

/// Why a deposit failed.
#[derive(Debug, thiserror::Error)]
pub enum DepositError {
    #[error("no account with this id")]
    AccountNotFound,
    #[error("the idempotency key was used with another request")]
    IdempotencyConflict,
    #[error(transparent)]
    Unexpected(#[from] RepositoryError),
}

/// Why a transfer failed. Nothing moved.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    #[error("no account {0}")]
    AccountNotFound(AccountId),
    #[error(transparent)]
    Rule(#[from] TransferRuleError),
    #[error("the idempotency key was used with another request")]
    IdempotencyConflict,
    #[error(transparent)]
    Unexpected(#[from] RepositoryError),
}

/// Stores accounts and moves money, atomically.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait AccountRepository: Send + Sync + 'static {
    /// Stores a new account with a zero balance.
    ///
    /// # Errors
    /// `RepositoryError` for storage failures.
    async fn insert(&self, account: NewAccount) -> Result<Account, RepositoryError>;

    /// The account with this id.
    ///
    /// # Errors
    /// `RepositoryError` only for storage failures; a missing account is `Ok(None)`.
    async fn find_by_id(&self, id: AccountId) -> Result<Option<Account>, RepositoryError>;

    /// One page of accounts, oldest first, of `owner` (all accounts when `None`).
    ///
    /// # Errors
    /// `RepositoryError` only for storage failures.
    async fn list(
        &self,
        owner: Option<UserId>,
        page: PageRequest,
    ) -> Result<Page<Account>, RepositoryError>;

    /// Adds money to an account and returns it. With an idempotency key already used for
    /// the same request, adds nothing and returns the account as it is.
    ///
    /// # Errors
    /// `AccountNotFound`; `IdempotencyConflict` when the key was used with another request;
    /// `Unexpected` for storage failures (transient conflicts are retried first).
    async fn deposit(&self, command: DepositCommand) -> Result<Account, DepositError>;

    /// Moves money in one transaction: both accounts are read, `check_transfer` decides,
    /// the source is debited only if it still holds the amount, the destination credited,
    /// the transfer recorded. With an idempotency key already used for the same request, it
    /// returns the original transfer (`replayed`) and moves nothing.
    ///
    /// # Errors
    /// `AccountNotFound` (with the missing id); `Rule` for a refused transfer (including
    /// `InsufficientFunds` found by the guarded debit); `IdempotencyConflict`; `Unexpected`
    /// for storage failures (deadlocks, serialisation failures and busy databases are
    /// retried a bounded number of times first).
    async fn transfer(&self, command: TransferCommand) -> Result<TransferOutcome, TransferError>;

    /// One page of the transfers from or to an account, newest first.
    ///
    /// # Errors
    /// `RepositoryError` only for storage failures.
    async fn transfers_of(
        &self,
        account: AccountId,
        page: PageRequest,
    ) -> Result<Page<Transfer>, RepositoryError>;
}
