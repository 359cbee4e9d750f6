//! [`AccountRepository`] in memory: each deposit and transfer is checked whole under the
//! tables' lock, then written whole, so money is never created, lost or overdrawn.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::ports::{
    AccountRepository, DepositCommand, DepositError, IdempotencyClaim, NewAccount, RepositoryError,
    TransferCommand, TransferError, TransferOutcome,
};
use domain::{
    Account, AccountId, Balance, Page, PageRequest, Transfer, TransferId, TransferRuleError,
    UserId, check_transfer,
};
use uuid::Uuid;

use super::tables::{IdempotencyRow, Tables};
use super::{MemoryStore, page_of};

/// The key was used with another request.
struct Conflict;

impl Tables {
    /// What `key` was used for before: `Ok(None)` on first use (or after it expired),
    /// `Ok(Some(resource id))` for the same request, `Err(Conflict)` for another.
    fn earlier_use(
        &mut self,
        key: &IdempotencyClaim,
        now: DateTime<Utc>,
    ) -> Result<Option<Uuid>, Conflict> {
        let id = (key.user_id, key.key.clone());
        if self
            .idempotency_keys
            .get(&id)
            .is_some_and(|row| row.expires_at <= now)
        {
            self.idempotency_keys.remove(&id);
        }
        match self.idempotency_keys.get(&id) {
            None => Ok(None),
            Some(row) if row.fingerprint == key.fingerprint => Ok(Some(row.resource_id)),
            Some(_) => Err(Conflict),
        }
    }

    fn remember(&mut self, key: Option<IdempotencyClaim>, resource_id: Uuid) {
        if let Some(key) = key {
            self.idempotency_keys.insert(
                (key.user_id, key.key),
                IdempotencyRow {
                    fingerprint: key.fingerprint,
                    resource_id,
                    expires_at: key.expires_at,
                },
            );
        }
    }

    fn account(&self, id: AccountId) -> Result<&Account, TransferError> {
        self.accounts
            .get(&id)
            .ok_or(TransferError::AccountNotFound(id))
    }
}

fn overflow(account: AccountId) -> RepositoryError {
    RepositoryError(anyhow::anyhow!(
        "the balance of account {account} would overflow"
    ))
}

#[async_trait]
impl AccountRepository for MemoryStore {
    async fn insert(&self, account: NewAccount) -> Result<Account, RepositoryError> {
        let mut tables = self.tables();
        if !tables.users.contains_key(&account.owner_id) {
            return Err(RepositoryError(anyhow::anyhow!(
                "no owner {}",
                account.owner_id
            )));
        }
        let stored = Account {
            id: account.id,
            owner_id: account.owner_id,
            balance: Balance::ZERO,
            currency: account.currency,
            created_at: account.created_at,
            updated_at: account.created_at,
        };
        tables.accounts.insert(account.id, stored.clone());
        Ok(stored)
    }

    async fn find_by_id(&self, id: AccountId) -> Result<Option<Account>, RepositoryError> {
        Ok(self.tables().accounts.get(&id).cloned())
    }

    async fn list(
        &self,
        owner: Option<UserId>,
        page: PageRequest,
    ) -> Result<Page<Account>, RepositoryError> {
        let mut accounts: Vec<Account> = self
            .tables()
            .accounts
            .values()
            .filter(|account| owner.is_none_or(|owner| account.owner_id == owner))
            .cloned()
            .collect();
        accounts.sort_by_key(|account| (account.created_at, account.id));
        Ok(page_of(&accounts, page))
    }

    async fn deposit(&self, command: DepositCommand) -> Result<Account, DepositError> {
        let mut tables = self.tables();
        let replayed = match &command.idempotency {
            Some(key) => tables
                .earlier_use(key, command.now)
                .map_err(|Conflict| DepositError::IdempotencyConflict)?
                .is_some(),
            None => false,
        };
        let account = tables
            .accounts
            .get_mut(&command.account_id)
            .ok_or(DepositError::AccountNotFound)?;
        if replayed {
            return Ok(account.clone());
        }
        let amount = command.amount.minor_units();
        account.balance = account
            .balance
            .credited(command.amount)
            .ok_or_else(|| overflow(command.account_id))?;
        account.updated_at = command.now;
        let account = account.clone();
        let deposit_id = Uuid::now_v7();
        tables
            .deposits
            .push((deposit_id, command.account_id, amount, command.now));
        tables.remember(command.idempotency, deposit_id);
        Ok(account)
    }

    async fn transfer(&self, command: TransferCommand) -> Result<TransferOutcome, TransferError> {
        let mut tables = self.tables();
        if let Some(key) = &command.idempotency
            && let Some(original) = tables
                .earlier_use(key, command.now)
                .map_err(|Conflict| TransferError::IdempotencyConflict)?
        {
            let original = TransferId::from_uuid(original);
            let transfer = tables
                .transfers
                .iter()
                .find(|transfer| transfer.id == original)
                .cloned()
                .ok_or_else(|| RepositoryError(anyhow::anyhow!("no transfer {original}")))?;
            let recipient_id = tables.account(transfer.to_account_id)?.owner_id;
            return Ok(TransferOutcome {
                transfer,
                recipient_id,
                replayed: true,
            });
        }
        let from = tables.account(command.from)?.clone();
        let to = tables.account(command.to)?.clone();
        check_transfer(&command.actor, &from, &to, command.amount)?;
        let debited = from
            .balance
            .debited(command.amount)
            .ok_or(TransferError::Rule(TransferRuleError::InsufficientFunds))?;
        let credited = to
            .balance
            .credited(command.amount)
            .ok_or_else(|| overflow(to.id))?;
        for (id, balance) in [(from.id, debited), (to.id, credited)] {
            let account = tables
                .accounts
                .get_mut(&id)
                .expect("both accounts were found");
            account.balance = balance;
            account.updated_at = command.now;
        }
        let transfer = Transfer {
            id: command.id,
            from_account_id: from.id,
            to_account_id: to.id,
            amount: command.amount,
            currency: from.currency,
            created_at: command.now,
        };
        tables.transfers.push(transfer.clone());
        tables.remember(command.idempotency, command.id.as_uuid());
        Ok(TransferOutcome {
            transfer,
            recipient_id: to.owner_id,
            replayed: false,
        })
    }

    async fn transfers_of(
        &self,
        account: AccountId,
        page: PageRequest,
    ) -> Result<Page<Transfer>, RepositoryError> {
        let mut involving: Vec<Transfer> = self
            .tables()
            .transfers
            .iter()
            .filter(|transfer| {
                transfer.from_account_id == account || transfer.to_account_id == account
            })
            .cloned()
            .collect();
        // Newest first.
        involving.sort_by_key(|transfer| std::cmp::Reverse((transfer.created_at, transfer.id)));
        Ok(page_of(&involving, page))
    }
}
