//! Accounts, deposits, transfers and idempotency keys on Diesel: the repository; the rows
//! are in `rows`, the statements that move money in `money`, the key claim in
//! `idempotency`.
//!
//! A transfer is one transaction: (idempotency key) → lock both accounts → the domain's
//! `check_transfer` judges them as locked → debit, credit and the transfer row, kept only
//! if the rule allows (`money::MoveMoney`). On PostgreSQL the locks and writes are one statement,
//! taking the row locks in account-id order so that opposite transfers cannot deadlock; on
//! SQLite the transaction first takes the write lock, so that concurrent writers queue on
//! the busy timeout instead of failing their upgrade from reader to writer. Transient
//! failures (deadlock, serialisation failure, busy) are retried a few times.

#[macro_use]
mod idempotency;
mod money;
mod rows;

use std::time::Duration;

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, RunQueryDsl};
use domain::ports::{
    AccountRepository, DepositCommand, DepositError, IdempotencyClaim, NewAccount, RepositoryError,
    TransferCommand, TransferError, TransferOutcome,
};
use domain::{Account, AccountId, Page, PageRequest, Transfer, UserId};
use uuid::Uuid;

use self::money::{Failure, MoveMoney as _};
use self::rows::{AccountRow, TransferRow};
use crate::database::Database;
use crate::errors::{is_transient, unexpected};
use crate::paging::{limit_offset, page_of};
use crate::schema::{accounts, deposits, idempotency_keys, transfers};
use crate::sql_types::{DbId, DbTime};
use crate::write_lock::WriteFirst as _;

/// Attempts of a money movement before a transient failure is reported.
const MAX_ATTEMPTS: u32 = 5;

/// [`AccountRepository`] on PostgreSQL or SQLite.
#[derive(Debug, Clone)]
pub struct DieselAccountRepository {
    database: Database,
}

impl DieselAccountRepository {
    #[must_use]
    pub fn new(database: Database) -> Self {
        Self { database }
    }
}

/// Runs `$attempt` (an async block) up to `MAX_ATTEMPTS` times while it fails transiently.
macro_rules! with_retries {
    ($attempt:expr) => {{
        let mut attempt = 1;
        loop {
            match $attempt.await {
                Err(Failure::Database(error)) if is_transient(&error) && attempt < MAX_ATTEMPTS => {
                    tracing::debug!(attempt, error = %error, "transient database failure: retrying");
                    tokio::time::sleep(Duration::from_millis(5 * u64::from(attempt))).await;
                    attempt += 1;
                }
                outcome => break outcome,
            }
        }
    }};
}

#[async_trait]
impl AccountRepository for DieselAccountRepository {
    #[tracing::instrument(name = "db accounts.insert", skip_all, fields(otel.kind = "client", db.system.name = self.database.system_name(), account_id = %account.id))]
    async fn insert(&self, account: NewAccount) -> Result<Account, RepositoryError> {
        let row = AccountRow {
            id: DbId(account.id.as_uuid()),
            owner_id: DbId(account.owner_id.as_uuid()),
            balance: 0,
            currency: account.currency.as_str().to_owned(),
            created_at: DbTime(account.created_at),
            updated_at: DbTime(account.created_at),
        };
        let stored = with_connection!(self.database, |connection| {
            diesel::insert_into(accounts::table)
                .values(&row)
                .returning(AccountRow::as_returning())
                .get_result(connection)
                .await
                .map_err(unexpected)?
        });
        stored.try_into()
    }

    #[tracing::instrument(name = "db accounts.find_by_id", skip(self), fields(otel.kind = "client", db.system.name = self.database.system_name()))]
    async fn find_by_id(&self, id: AccountId) -> Result<Option<Account>, RepositoryError> {
        let row = with_connection!(self.database, |connection| {
            accounts::table
                .find(DbId(id.as_uuid()))
                .select(AccountRow::as_select())
                .first(connection)
                .await
                .optional()
                .map_err(unexpected)?
        });
        row.map(Account::try_from).transpose()
    }

    #[tracing::instrument(name = "db accounts.list", skip(self), fields(otel.kind = "client", db.system.name = self.database.system_name()))]
    async fn list(
        &self,
        owner: Option<UserId>,
        page: PageRequest,
    ) -> Result<Page<Account>, RepositoryError> {
        let (limit, offset) = limit_offset(page);
        let (rows, total) = with_connection!(self.database, |connection| {
            let mut select = accounts::table.select(AccountRow::as_select()).into_boxed();
            let mut count = accounts::table.count().into_boxed();
            if let Some(owner) = owner {
                select = select.filter(accounts::owner_id.eq(DbId(owner.as_uuid())));
                count = count.filter(accounts::owner_id.eq(DbId(owner.as_uuid())));
            }
            let rows: Vec<AccountRow> = select
                .order((accounts::created_at.asc(), accounts::id.asc()))
                .limit(limit)
                .offset(offset)
                .load(connection)
                .await
                .map_err(unexpected)?;
            let total: i64 = count.get_result(connection).await.map_err(unexpected)?;
            (rows, total)
        });
        page_of(rows, page, total)
    }

    #[tracing::instrument(name = "db accounts.deposit", skip_all, fields(otel.kind = "client", db.system.name = self.database.system_name(), account_id = %command.account_id))]
    async fn deposit(&self, command: DepositCommand) -> Result<Account, DepositError> {
        let account_id = DbId(command.account_id.as_uuid());
        let amount = command.amount.minor_units();
        let now = DbTime(command.now);
        let outcome: Result<AccountRow, Failure> = with_retries!(async {
            let idempotency = command.idempotency.clone();
            with_connection!(self.database, |connection| {
                connection
                    .transaction::<_, Failure, _>(async move |transaction| {
                        transaction.lock_for_writing().await?;
                        let deposit_id = Uuid::now_v7();
                        let replayed = match &idempotency {
                            Some(key) => claim_key!(transaction, key, deposit_id, now)?.is_some(),
                            None => false,
                        };
                        if !replayed {
                            let credited = diesel::update(accounts::table.find(account_id))
                                .set((
                                    accounts::balance.eq(accounts::balance + amount),
                                    accounts::updated_at.eq(now),
                                ))
                                .execute(transaction)
                                .await?;
                            if credited == 0 {
                                return Err(Failure::AccountNotFound(AccountId::from_uuid(
                                    account_id.0,
                                )));
                            }
                            diesel::insert_into(deposits::table)
                                .values((
                                    deposits::id.eq(DbId(deposit_id)),
                                    deposits::account_id.eq(account_id),
                                    deposits::amount.eq(amount),
                                    deposits::created_at.eq(now),
                                ))
                                .execute(transaction)
                                .await?;
                        }
                        accounts::table
                            .find(account_id)
                            .select(AccountRow::as_select())
                            .first(transaction)
                            .await
                            .optional()?
                            .ok_or(Failure::AccountNotFound(AccountId::from_uuid(account_id.0)))
                    })
                    .await
            })
        });
        match outcome {
            Ok(row) => Ok(row.try_into()?),
            Err(Failure::AccountNotFound(_)) => Err(DepositError::AccountNotFound),
            Err(Failure::IdempotencyConflict) => Err(DepositError::IdempotencyConflict),
            Err(Failure::Database(error)) => Err(unexpected(error).into()),
            Err(Failure::Storage(error)) => Err(error.into()),
            Err(Failure::Rule(rule)) => {
                Err(RepositoryError(anyhow::anyhow!("unexpected rule in a deposit: {rule}")).into())
            }
        }
    }

    #[tracing::instrument(name = "db accounts.transfer", skip_all, fields(otel.kind = "client", db.system.name = self.database.system_name(), from = %command.from, to = %command.to))]
    async fn transfer(&self, command: TransferCommand) -> Result<TransferOutcome, TransferError> {
        let outcome: Result<TransferOutcome, Failure> = with_retries!(async {
            let command = command.clone();
            with_connection!(self.database, |connection| {
                connection
                    .transaction::<_, Failure, _>(async move |transaction| {
                        transaction.lock_for_writing().await?;
                        let now = DbTime(command.now);
                        let transfer_id = command.id.as_uuid();
                        let replay = match &command.idempotency {
                            Some(key) => claim_key!(transaction, key, transfer_id, now)?,
                            None => None,
                        };
                        if let Some(original) = replay {
                            let row: TransferRow = transfers::table
                                .find(DbId(original))
                                .select(TransferRow::as_select())
                                .first(transaction)
                                .await?;
                            let recipient: DbId = accounts::table
                                .find(row.to_account_id)
                                .select(accounts::owner_id)
                                .first(transaction)
                                .await?;
                            let transfer = Transfer::try_from(row).map_err(Failure::Storage)?;
                            return Ok(TransferOutcome {
                                transfer,
                                recipient_id: UserId::from_uuid(recipient.0),
                                replayed: true,
                            });
                        }

                        let (row, to) = transaction.move_money(&command).await?;
                        let transfer = Transfer::try_from(row).map_err(Failure::Storage)?;
                        Ok(TransferOutcome {
                            transfer,
                            recipient_id: to.owner_id,
                            replayed: false,
                        })
                    })
                    .await
            })
        });
        outcome.map_err(|failure| match failure {
            Failure::AccountNotFound(id) => TransferError::AccountNotFound(id),
            Failure::Rule(rule) => TransferError::Rule(rule),
            Failure::IdempotencyConflict => TransferError::IdempotencyConflict,
            Failure::Database(error) => TransferError::Unexpected(unexpected(error)),
            Failure::Storage(error) => TransferError::Unexpected(error),
        })
    }

    #[tracing::instrument(name = "db accounts.transfers_of", skip(self), fields(otel.kind = "client", db.system.name = self.database.system_name()))]
    async fn transfers_of(
        &self,
        account: AccountId,
        page: PageRequest,
    ) -> Result<Page<Transfer>, RepositoryError> {
        let (limit, offset) = limit_offset(page);
        let id = DbId(account.as_uuid());
        let (rows, total) = with_connection!(self.database, |connection| {
            let involving = transfers::from_account_id
                .eq(id)
                .or(transfers::to_account_id.eq(id));
            let rows: Vec<TransferRow> = transfers::table
                .filter(involving)
                .select(TransferRow::as_select())
                .order((transfers::created_at.desc(), transfers::id.desc()))
                .limit(limit)
                .offset(offset)
                .load(connection)
                .await
                .map_err(unexpected)?;
            let total: i64 = transfers::table
                .filter(involving)
                .count()
                .get_result(connection)
                .await
                .map_err(unexpected)?;
            (rows, total)
        });
        page_of(rows, page, total)
    }
}
