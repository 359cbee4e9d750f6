//! The accounts and transfers tables' rows, and their conversion into domain values.

use diesel::prelude::*;
use domain::ports::{RepositoryError, TransferCommand};
use domain::{Account, AccountId, Amount, Balance, Currency, Transfer, TransferId, UserId};

use crate::schema::{accounts, transfers};
use crate::sql_types::{DbId, DbTime};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = accounts)]
pub(super) struct AccountRow {
    pub(super) id: DbId,
    pub(super) owner_id: DbId,
    pub(super) balance: i64,
    pub(super) currency: String,
    pub(super) created_at: DbTime,
    pub(super) updated_at: DbTime,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = transfers)]
pub(super) struct TransferRow {
    pub(super) id: DbId,
    pub(super) from_account_id: DbId,
    pub(super) to_account_id: DbId,
    pub(super) amount: i64,
    pub(super) currency: String,
    pub(super) created_at: DbTime,
}

impl TryFrom<AccountRow> for Account {
    type Error = RepositoryError;

    fn try_from(row: AccountRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: AccountId::from_uuid(row.id.0),
            owner_id: UserId::from_uuid(row.owner_id.0),
            balance: Balance::new(row.balance).map_err(|_| {
                RepositoryError(anyhow::anyhow!("negative balance of account {}", row.id.0))
            })?,
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

pub(super) fn transfer_row(command: &TransferCommand, from: &Account) -> TransferRow {
    TransferRow {
        id: DbId(command.id.as_uuid()),
        from_account_id: DbId(command.from.as_uuid()),
        to_account_id: DbId(command.to.as_uuid()),
        amount: command.amount.minor_units(),
        currency: from.currency.as_str().to_owned(),
        created_at: DbTime(command.now),
    }
}
