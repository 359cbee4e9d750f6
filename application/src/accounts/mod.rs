//! The accounts feature: open, list, get, deposit (admins), transfer, history.

#[cfg(test)]
mod tests;

use std::sync::Arc;

use chrono::Duration;
use domain::ports::{
    AccountRepository, Clock, DepositCommand, DepositError, DomainEvent, EventPublisher,
    IdempotencyClaim, NewAccount, TransferCommand, TransferError,
};
use domain::{
    Account, AccountId, Actor, Amount, Currency, IdempotencyKey, Page, PageRequest,
    RequestFingerprint, Transfer, TransferId, TransferRuleError, UserId,
};

/// How long an `Idempotency-Key` is remembered.
pub const IDEMPOTENCY_TTL: Duration = Duration::hours(24);

#[derive(Debug, thiserror::Error)]
pub enum OpenAccountError {
    #[error("unexpected failure while opening an account")]
    Unexpected(#[source] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum ListAccountsError {
    /// A non-admin asked for another user's accounts.
    #[error("Forbidden")]
    Forbidden,
    #[error("unexpected failure while listing accounts")]
    Unexpected(#[source] anyhow::Error),
}

/// Why an account (or its history) could not be read.
#[derive(Debug, thiserror::Error)]
pub enum GetAccountError {
    /// Missing, or not the caller's.
    #[error("Account with ID {0} not found")]
    NotFound(AccountId),
    #[error("unexpected failure while reading an account")]
    Unexpected(#[source] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum DepositMoneyError {
    #[error("Forbidden")]
    Forbidden,
    #[error("Account with ID {0} not found")]
    NotFound(AccountId),
    #[error("Idempotency-Key was already used with a different request")]
    IdempotencyConflict,
    #[error("unexpected failure while depositing")]
    Unexpected(#[source] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum MakeTransferError {
    #[error("Account with ID {0} not found")]
    NotFound(AccountId),
    /// The source account is not the caller's.
    #[error("Forbidden")]
    Forbidden,
    #[error("Cannot transfer to the same account")]
    SameAccount,
    #[error("Currency mismatch")]
    CurrencyMismatch,
    #[error("Insufficient funds")]
    InsufficientFunds,
    #[error("Idempotency-Key was already used with a different request")]
    IdempotencyConflict,
    #[error("unexpected failure while transferring")]
    Unexpected(#[source] anyhow::Error),
}

crate::errors::unexpected_from_infrastructure!(
    OpenAccountError => OpenAccountError::Unexpected,
    ListAccountsError => ListAccountsError::Unexpected,
    GetAccountError => GetAccountError::Unexpected,
    DepositMoneyError => DepositMoneyError::Unexpected,
    MakeTransferError => MakeTransferError::Unexpected,
);

/// A transfer, as the use case returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferReceipt {
    pub transfer: Transfer,
    /// An earlier request with the same idempotency key made this transfer.
    pub replayed: bool,
}

/// The accounts use cases.
#[derive(Clone)]
pub struct AccountService {
    accounts: Arc<dyn AccountRepository>,
    events: Arc<dyn EventPublisher>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for AccountService {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("AccountService")
            .finish_non_exhaustive()
    }
}

impl AccountService {
    pub fn new(
        accounts: Arc<dyn AccountRepository>,
        events: Arc<dyn EventPublisher>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            accounts,
            events,
            clock,
        }
    }

    /// Opens an account for the caller, with a zero balance.
    #[tracing::instrument(name = "AccountService.open", skip(self), fields(actor = %actor.user_id))]
    pub async fn open(
        &self,
        actor: Actor,
        currency: Currency,
    ) -> Result<Account, OpenAccountError> {
        let account = NewAccount {
            id: AccountId::generate(),
            owner_id: actor.user_id,
            currency,
            created_at: self.clock.now(),
        };
        Ok(self.accounts.insert(account).await?)
    }

    /// The caller's accounts; an admin may list anyone's (`owner`) or everyone's.
    #[tracing::instrument(name = "AccountService.list", skip(self), fields(actor = %actor.user_id))]
    pub async fn list(
        &self,
        actor: Actor,
        owner: Option<UserId>,
        page: PageRequest,
    ) -> Result<Page<Account>, ListAccountsError> {
        let owner = match (actor.is_admin(), owner) {
            (true, owner) => owner,
            (false, Some(owner)) if owner != actor.user_id => {
                return Err(ListAccountsError::Forbidden);
            }
            (false, _) => Some(actor.user_id),
        };
        Ok(self.accounts.list(owner, page).await?)
    }

    /// One account, for its owner or an admin (others get "not found").
    #[tracing::instrument(name = "AccountService.get", skip(self), fields(actor = %actor.user_id))]
    pub async fn get(&self, actor: Actor, id: AccountId) -> Result<Account, GetAccountError> {
        self.accounts
            .find_by_id(id)
            .await?
            .filter(|account| actor.may_see_account(account))
            .ok_or(GetAccountError::NotFound(id))
    }

    /// Adds money to an account; admins only.
    #[tracing::instrument(name = "AccountService.deposit", skip(self), fields(actor = %actor.user_id))]
    pub async fn deposit(
        &self,
        actor: Actor,
        id: AccountId,
        amount: Amount,
        key: Option<IdempotencyKey>,
    ) -> Result<Account, DepositMoneyError> {
        if !actor.is_admin() {
            return Err(DepositMoneyError::Forbidden);
        }
        let now = self.clock.now();
        let idempotency = key.map(|key| IdempotencyClaim {
            user_id: actor.user_id,
            key,
            fingerprint: RequestFingerprint::Deposit {
                account: id,
                amount,
            },
            expires_at: now + IDEMPOTENCY_TTL,
        });
        self.accounts
            .deposit(DepositCommand {
                account_id: id,
                amount,
                idempotency,
                now,
            })
            .await
            .map_err(|error| match error {
                DepositError::AccountNotFound => DepositMoneyError::NotFound(id),
                DepositError::IdempotencyConflict => DepositMoneyError::IdempotencyConflict,
                DepositError::Unexpected(error) => error.into(),
            })
    }

    /// Moves money from an account the caller owns (admins: any) to any account of the same
    /// currency. With a reused `Idempotency-Key` and the same request, returns the original
    /// transfer and moves nothing.
    #[tracing::instrument(name = "AccountService.transfer", skip(self), fields(actor = %actor.user_id))]
    pub async fn transfer(
        &self,
        actor: Actor,
        from: AccountId,
        to: AccountId,
        amount: Amount,
        key: Option<IdempotencyKey>,
    ) -> Result<TransferReceipt, MakeTransferError> {
        let now = self.clock.now();
        let idempotency = key.map(|key| IdempotencyClaim {
            user_id: actor.user_id,
            key,
            fingerprint: RequestFingerprint::Transfer { from, to, amount },
            expires_at: now + IDEMPOTENCY_TTL,
        });
        let command = TransferCommand {
            id: TransferId::generate(),
            actor,
            from,
            to,
            amount,
            idempotency,
            now,
        };
        let outcome = self
            .accounts
            .transfer(command)
            .await
            .map_err(|error| match error {
                TransferError::AccountNotFound(id) => MakeTransferError::NotFound(id),
                TransferError::Rule(TransferRuleError::NotOwner) => MakeTransferError::Forbidden,
                TransferError::Rule(TransferRuleError::SameAccount) => {
                    MakeTransferError::SameAccount
                }
                TransferError::Rule(TransferRuleError::CurrencyMismatch) => {
                    MakeTransferError::CurrencyMismatch
                }
                TransferError::Rule(TransferRuleError::InsufficientFunds) => {
                    MakeTransferError::InsufficientFunds
                }
                TransferError::IdempotencyConflict => MakeTransferError::IdempotencyConflict,
                TransferError::Unexpected(error) => error.into(),
            })?;
        if !outcome.replayed {
            let event = DomainEvent::TransferReceived {
                transfer: outcome.transfer.clone(),
                recipient: outcome.recipient_id,
            };
            self.events.publish(event).await;
        }
        Ok(TransferReceipt {
            transfer: outcome.transfer,
            replayed: outcome.replayed,
        })
    }

    /// The transfers from or to an account, newest first; for its owner or an admin.
    #[tracing::instrument(name = "AccountService.history", skip(self), fields(actor = %actor.user_id))]
    pub async fn history(
        &self,
        actor: Actor,
        id: AccountId,
        page: PageRequest,
    ) -> Result<Page<Transfer>, GetAccountError> {
        self.get(actor, id).await?;
        Ok(self.accounts.transfers_of(id, page).await?)
    }
}
