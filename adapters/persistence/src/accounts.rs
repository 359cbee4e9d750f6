//! Accounts, deposits, transfers and idempotency keys on Diesel.
//!
//! A transfer is one transaction: (idempotency key) → lock both accounts → the domain's
//! `check_transfer` judges them as locked → debit, credit and the transfer row, kept only
//! if the rule allows ([`MoveMoney`]). On PostgreSQL the locks and writes are one statement,
//! taking the row locks in account-id order so that opposite transfers cannot deadlock; on
//! SQLite the transaction first takes the write lock, so that concurrent writers queue on
//! the busy timeout instead of failing their upgrade from reader to writer. Transient
//! failures (deadlock, serialisation failure, busy) are retried a few times.

use std::time::Duration;

use async_trait::async_trait;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use domain::ports::{
    AccountRepository, DepositCommand, DepositError, IdempotencyKey, NewAccount, RepositoryError,
    TransferCommand, TransferError, TransferOutcome,
};
use domain::{
    Account, AccountId, Amount, Currency, Page, PageRequest, Transfer, TransferId,
    TransferRuleError, UserId, check_transfer,
};
use uuid::Uuid;

use crate::database::{Database, SqliteConnectionWrapper};
use crate::errors::{is_transient, unexpected};
use crate::paging::{limit_offset, page_of};
use crate::prepared::postgres_statement;
use crate::schema::{accounts, deposits, idempotency_keys, transfers};
use crate::sql_types::{DbId, DbTime, Id, UtcTime};

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

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = accounts)]
struct AccountRow {
    id: DbId,
    owner_id: DbId,
    balance: i64,
    currency: String,
    created_at: DbTime,
    updated_at: DbTime,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = transfers)]
struct TransferRow {
    id: DbId,
    from_account_id: DbId,
    to_account_id: DbId,
    amount: i64,
    currency: String,
    created_at: DbTime,
}

impl TryFrom<AccountRow> for Account {
    type Error = RepositoryError;

    fn try_from(row: AccountRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: AccountId::from_uuid(row.id.0),
            owner_id: UserId::from_uuid(row.owner_id.0),
            balance: row.balance,
            currency: Currency::parse(&row.currency).map_err(|_| {
                RepositoryError(anyhow::anyhow!("corrupt currency of account {}", row.id.0))
            })?,
            created_at: row.created_at.0,
            updated_at: row.updated_at.0,
        })
    }
}

impl TryFrom<TransferRow> for Transfer {
    type Error = RepositoryError;

    fn try_from(row: TransferRow) -> Result<Self, Self::Error> {
        let corrupt =
            |what: &str| RepositoryError(anyhow::anyhow!("corrupt transfer {}: {what}", row.id.0));
        Ok(Self {
            id: TransferId::from_uuid(row.id.0),
            from_account_id: AccountId::from_uuid(row.from_account_id.0),
            to_account_id: AccountId::from_uuid(row.to_account_id.0),
            amount: Amount::new(row.amount).map_err(|_| corrupt("amount"))?,
            currency: Currency::parse(&row.currency).map_err(|_| corrupt("currency"))?,
            created_at: row.created_at.0,
        })
    }
}

/// Makes a transaction take the database's write lock before it reads anything.
pub(crate) trait WriteFirst {
    fn lock_for_writing(&mut self) -> impl Future<Output = QueryResult<()>> + Send;
}

impl WriteFirst for AsyncPgConnection {
    /// Row locks taken by the guarded updates do this job on PostgreSQL.
    async fn lock_for_writing(&mut self) -> QueryResult<()> {
        Ok(())
    }
}

impl WriteFirst for SqliteConnectionWrapper {
    /// A write statement (touching no row) takes SQLite's write lock, waiting on the busy
    /// timeout; a transaction that read first would fail its upgrade instead.
    async fn lock_for_writing(&mut self) -> QueryResult<()> {
        diesel::sql_query("UPDATE accounts SET balance = balance WHERE 0")
            .execute(self)
            .await
            .map(drop)
    }
}

/// The statements that move money, which differ per backend. Each locks both accounts,
/// lets the domain's [`check_transfer`] judge them as locked, and keeps only what it allows;
/// it returns the stored transfer and the recipient's account.
trait MoveMoney {
    fn move_money(
        &mut self,
        command: &TransferCommand,
    ) -> impl Future<Output = Result<(TransferRow, Account), Failure>> + Send;
}

/// The whole movement as one statement, so that a transfer costs three round trips
/// (`BEGIN`, this, `COMMIT`) instead of six. `locked` takes both row locks in id order (so
/// that A→B and B→A cannot deadlock) and yields the accounts as they were; `moved` and
/// `recorded` write only when both accounts exist and differ, share a currency and the
/// source covers the amount, which the domain's rule also demands. The rule then judges the
/// returned rows: when it refuses, the transaction rolls back whatever was written.
///
/// The new balances are computed from `locked`, the rows as locked (which nobody else can
/// change any more), not from the `UPDATE`'s own scan: under the statement's snapshot that
/// scan may see an older version of a row another transfer has just committed, and
/// PostgreSQL checks `balance >= 0` on the row computed from that version before it moves
/// on to the newer one, failing a transfer the locked balance covers.
const POSTGRES_TRANSFER: &str = "\
    WITH locked AS ( \
        SELECT id, owner_id, balance, currency, created_at, updated_at FROM accounts \
        WHERE id IN ($1, $2) ORDER BY id FOR UPDATE \
    ), moved AS ( \
        UPDATE accounts \
        SET balance = locked.balance + CASE WHEN locked.id = $2 THEN $3 ELSE -$3 END, \
            updated_at = $4 \
        FROM locked \
        WHERE accounts.id = locked.id \
          AND (SELECT count(*) FROM locked) = 2 \
          AND (SELECT count(DISTINCT currency) FROM locked) = 1 \
          AND (SELECT balance FROM locked WHERE id = $1) >= $3 \
        RETURNING accounts.id \
    ), recorded AS ( \
        INSERT INTO transfers (id, from_account_id, to_account_id, amount, currency, created_at) \
        SELECT $5, $1, $2, $3, currency, $4 FROM locked \
        WHERE id = $1 AND (SELECT count(*) FROM moved) = 2 \
        RETURNING id \
    ) \
    SELECT id, owner_id, balance, currency, created_at, updated_at, \
        EXISTS (SELECT FROM recorded) AS recorded \
    FROM locked";

postgres_statement! {
    /// [`POSTGRES_TRANSFER`] with its parameters. Rows: the account as locked, and whether
    /// the transfer was recorded.
    struct PostgresTransfer(POSTGRES_TRANSFER) -> ((Id, Id, BigInt, Text, UtcTime, UtcTime), Bool) {
        from: DbId as Id,
        to: DbId as Id,
        amount: i64 as BigInt,
        now: DbTime as UtcTime,
        id: DbId as Id,
    }
}

impl MoveMoney for AsyncPgConnection {
    async fn move_money(
        &mut self,
        command: &TransferCommand,
    ) -> Result<(TransferRow, Account), Failure> {
        let locked: Vec<(AccountRow, bool)> = PostgresTransfer {
            from: DbId(command.from.as_uuid()),
            to: DbId(command.to.as_uuid()),
            amount: command.amount.minor_units(),
            now: DbTime(command.now),
            id: DbId(command.id.as_uuid()),
        }
        .load(self)
        .await?;
        let recorded = locked.iter().any(|(_, recorded)| *recorded);
        let (from, to) = judge(command, locked.into_iter().map(|(account, _)| account))?;
        if !recorded {
            return Err(Failure::Storage(RepositoryError(anyhow::anyhow!(
                "the rule allowed transfer {} but the statement did not move it",
                command.id
            ))));
        }
        Ok((transfer_row(command, &from), to))
    }
}

impl MoveMoney for SqliteConnectionWrapper {
    /// The transaction already holds SQLite's write lock ([`WriteFirst`]), so the accounts
    /// read here cannot change before the writes.
    async fn move_money(
        &mut self,
        command: &TransferCommand,
    ) -> Result<(TransferRow, Account), Failure> {
        let rows: Vec<AccountRow> = accounts::table
            .filter(accounts::id.eq_any([DbId(command.from.as_uuid()), DbId(command.to.as_uuid())]))
            .select(AccountRow::as_select())
            .load(self)
            .await?;
        let (from, to) = judge(command, rows)?;
        let amount = command.amount.minor_units();
        let now = DbTime(command.now);
        let debited = diesel::update(
            accounts::table
                .find(DbId(from.id.as_uuid()))
                .filter(accounts::balance.ge(amount)),
        )
        .set((
            accounts::balance.eq(accounts::balance - amount),
            accounts::updated_at.eq(now),
        ))
        .execute(self)
        .await?;
        if debited == 0 {
            return Err(Failure::Rule(TransferRuleError::InsufficientFunds));
        }
        diesel::update(accounts::table.find(DbId(to.id.as_uuid())))
            .set((
                accounts::balance.eq(accounts::balance + amount),
                accounts::updated_at.eq(now),
            ))
            .execute(self)
            .await?;
        let row = transfer_row(command, &from);
        diesel::insert_into(transfers::table)
            .values(&row)
            .execute(self)
            .await?;
        Ok((row, to))
    }
}

/// The source and destination of `command` among the locked `rows`, if the domain's rule
/// allows the transfer between them.
fn judge(
    command: &TransferCommand,
    rows: impl IntoIterator<Item = AccountRow>,
) -> Result<(Account, Account), Failure> {
    let found: Vec<Account> = rows
        .into_iter()
        .map(Account::try_from)
        .collect::<Result<_, _>>()
        .map_err(Failure::Storage)?;
    let pick = |id: AccountId| {
        found
            .iter()
            .find(|account| account.id == id)
            .cloned()
            .ok_or(Failure::AccountNotFound(id))
    };
    let (from, to) = (pick(command.from)?, pick(command.to)?);
    check_transfer(&command.actor, &from, &to, command.amount).map_err(Failure::Rule)?;
    Ok((from, to))
}

fn transfer_row(command: &TransferCommand, from: &Account) -> TransferRow {
    TransferRow {
        id: DbId(command.id.as_uuid()),
        from_account_id: DbId(command.from.as_uuid()),
        to_account_id: DbId(command.to.as_uuid()),
        amount: command.amount.minor_units(),
        currency: from.currency.as_str().to_owned(),
        created_at: DbTime(command.now),
    }
}

/// Why a money movement's transaction ended without committing.
#[derive(Debug)]
enum Failure {
    Database(diesel::result::Error),
    AccountNotFound(AccountId),
    Rule(TransferRuleError),
    IdempotencyConflict,
    /// No connection, or a row that breaks an invariant.
    Storage(RepositoryError),
}

impl From<RepositoryError> for Failure {
    fn from(error: RepositoryError) -> Self {
        Self::Storage(error)
    }
}

impl From<diesel::result::Error> for Failure {
    fn from(error: diesel::result::Error) -> Self {
        Self::Database(error)
    }
}

/// Claims an idempotency key for `$resource` inside the current transaction, or finds what
/// it was used for: evaluates to `Ok(None)` (first use: go ahead), `Ok(Some(resource id))`
/// (the same request before: replay it), or `Err(Failure::IdempotencyConflict)`. The primary
/// key serialises concurrent claims: a later one waits for the first to commit, then sees it.
macro_rules! claim_key {
    ($connection:expr, $key:expr, $resource:expr, $now:expr) => {{
        let key: &IdempotencyKey = $key;
        let user = DbId(key.user_id.as_uuid());
        diesel::delete(
            idempotency_keys::table
                .filter(idempotency_keys::user_id.eq(user))
                .filter(idempotency_keys::key.eq(&key.key))
                .filter(idempotency_keys::expires_at.le($now)),
        )
        .execute($connection)
        .await?;
        let claimed = diesel::insert_into(idempotency_keys::table)
            .values((
                idempotency_keys::user_id.eq(user),
                idempotency_keys::key.eq(&key.key),
                idempotency_keys::fingerprint.eq(&key.fingerprint),
                idempotency_keys::resource_id.eq(DbId($resource)),
                idempotency_keys::created_at.eq($now),
                idempotency_keys::expires_at.eq(DbTime(key.expires_at)),
            ))
            .on_conflict_do_nothing()
            .execute($connection)
            .await?;
        if claimed == 1 {
            Ok(None)
        } else {
            let (fingerprint, resource): (String, DbId) = idempotency_keys::table
                .filter(idempotency_keys::user_id.eq(user))
                .filter(idempotency_keys::key.eq(&key.key))
                .select((idempotency_keys::fingerprint, idempotency_keys::resource_id))
                .first($connection)
                .await?;
            if fingerprint == key.fingerprint {
                Ok(Some(resource.0))
            } else {
                Err(Failure::IdempotencyConflict)
            }
        }
    }};
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
    #[tracing::instrument(skip_all, fields(account_id = %account.id))]
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

    #[tracing::instrument(skip(self))]
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

    #[tracing::instrument(skip(self))]
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

    #[tracing::instrument(skip_all, fields(account_id = %command.account_id))]
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

    #[tracing::instrument(skip_all, fields(from = %command.from, to = %command.to))]
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

    #[tracing::instrument(skip(self))]
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
