//! The statements that move money, per backend, and why a movement did not commit.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::ports::{RepositoryError, TransferCommand};
use domain::{Account, AccountId, TransferRuleError, check_transfer};

use super::rows::{AccountRow, TransferRow, transfer_row};
use crate::database::SqliteConnectionWrapper;
use crate::prepared::postgres_statement;
use crate::schema::{accounts, transfers};
use crate::sql_types::{DbId, DbTime, Id, UtcTime};

/// The statements that move money, which differ per backend. Each locks both accounts,
/// lets the domain's [`check_transfer`] judge them as locked, and keeps only what it allows;
/// it returns the stored transfer and the recipient's account.
pub(super) trait MoveMoney {
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

/// Why a money movement's transaction ended without committing.
#[derive(Debug)]
pub(super) enum Failure {
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
