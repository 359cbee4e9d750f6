//! The accounts wire format: accounts, transfers and their pages, the request bodies, and
//! the `Idempotency-Key` header.

use domain::{Account, AccountId, Amount, Currency, IdempotencyKey, Transfer};
use poem::Request;
use poem_openapi::Object;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::api::page::PageDto;
use crate::errors::ValidationErrors;
use crate::timestamp::Timestamp;

const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";

#[derive(Debug, Object, Serialize)]
#[oai(rename = "Account", rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
pub(crate) struct AccountDto {
    id: Uuid,
    owner_id: Uuid,
    balance: i64,
    currency: String,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl From<Account> for AccountDto {
    fn from(account: Account) -> Self {
        Self {
            id: account.id.as_uuid(),
            owner_id: account.owner_id.as_uuid(),
            balance: account.balance.minor_units(),
            currency: account.currency.as_str().to_owned(),
            created_at: account.created_at.into(),
            updated_at: account.updated_at.into(),
        }
    }
}

/// A completed transfer; `amount` in minor units.
#[derive(Debug, Object, Serialize)]
#[oai(rename = "Transfer", rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
pub(crate) struct TransferDto {
    id: Uuid,
    pub(super) from_account_id: Uuid,
    pub(super) to_account_id: Uuid,
    pub(super) amount: i64,
    currency: String,
    created_at: Timestamp,
}

impl From<Transfer> for TransferDto {
    fn from(transfer: Transfer) -> Self {
        Self {
            id: transfer.id.as_uuid(),
            from_account_id: transfer.from_account_id.as_uuid(),
            to_account_id: transfer.to_account_id.as_uuid(),
            amount: transfer.amount.minor_units(),
            currency: transfer.currency.as_str().to_owned(),
            created_at: transfer.created_at.into(),
        }
    }
}

pub(crate) type AccountPage = PageDto<AccountDto>;

pub(crate) type TransferPage = PageDto<TransferDto>;

/// `POST /api/v1/accounts`.
#[derive(Debug, Object, Deserialize)]
#[oai(rename = "OpenAccount", rename_all = "camelCase", deny_unknown_fields)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct OpenAccountBody {
    /// ISO 4217; defaults to `USD`.
    pub(super) currency: Option<String>,
}

impl TryFrom<OpenAccountBody> for Currency {
    type Error = ValidationErrors;

    fn try_from(body: OpenAccountBody) -> Result<Self, Self::Error> {
        body.currency.as_deref().map_or(Ok(Currency::USD), |code| {
            Currency::parse(code)
                .map_err(|error| ValidationErrors::field("currency", error.to_string()))
        })
    }
}

/// `POST /api/v1/accounts/{id}/deposits`.
#[derive(Debug, Object, Deserialize)]
#[oai(rename = "Deposit", rename_all = "camelCase", deny_unknown_fields)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct DepositBody {
    /// Minor units, 1 to 10^12; an integer (floats are refused).
    pub(super) amount: i64,
}

impl TryFrom<DepositBody> for Amount {
    type Error = ValidationErrors;

    fn try_from(body: DepositBody) -> Result<Self, Self::Error> {
        Amount::new(body.amount)
            .map_err(|error| ValidationErrors::field("amount", error.to_string()))
    }
}

/// `POST /api/v1/transfers`.
#[derive(Debug, Object, Deserialize)]
#[oai(
    rename = "CreateTransfer",
    rename_all = "camelCase",
    deny_unknown_fields
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct TransferBody {
    pub(super) from_account_id: Uuid,
    pub(super) to_account_id: Uuid,
    /// Minor units, 1 to 10^12; an integer (floats are refused).
    pub(super) amount: i64,
}

/// A transfer as asked for: from, to, how much.
pub(super) struct TransferOrder {
    pub(super) from: AccountId,
    pub(super) to: AccountId,
    pub(super) amount: Amount,
}

impl TryFrom<TransferBody> for TransferOrder {
    type Error = ValidationErrors;

    fn try_from(body: TransferBody) -> Result<Self, Self::Error> {
        let amount = Amount::new(body.amount)
            .map_err(|error| ValidationErrors::field("amount", error.to_string()))?;
        Ok(Self {
            from: AccountId::from_uuid(body.from_account_id),
            to: AccountId::from_uuid(body.to_account_id),
            amount,
        })
    }
}

/// A sane `Idempotency-Key`: 1 to 255 visible ASCII characters (or none).
///
/// Read from the raw header rather than from the documented `Header<Option<String>>`
/// parameter: that one reads a value that is not visible ASCII (`café` in UTF-8, a stray
/// `0xFF`) as no header at all, and a retry would then move money twice. A key that is
/// present is either valid or a 400, never ignored.
pub(super) fn idempotency_key(request: &Request) -> Result<Option<IdempotencyKey>, &'static str> {
    let mut values = request.headers().get_all(IDEMPOTENCY_KEY_HEADER).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err("Must be sent once");
    }
    IdempotencyKey::parse(value.as_bytes())
        .map(Some)
        .map_err(|_| "Must be 1 to 255 visible ASCII characters")
}
