//! `/api/v1/accounts` and `/api/v1/transfers`.

use application::{
    AccountService, DepositMoneyError, GetAccountError, ListAccountsError, MakeTransferError,
    OpenAccountError,
};
use domain::{Account, AccountId, Amount, Currency, Transfer, UserId};
use poem::Request;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde::Deserialize;
use uuid::Uuid;

use super::ApiTags;
use super::page::{PageMeta, page_request};
use crate::auth::BearerAuth;
use crate::errors::{ErrorBody, ValidationErrors};
use crate::json::JsonBody;
use crate::timestamp::Timestamp;

const MAX_IDEMPOTENCY_KEY_LENGTH: usize = 255;
const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";

pub(crate) struct AccountsApi {
    pub(crate) accounts: AccountService,
}

/// An account. `balance` is in minor units of `currency` (1050 USD cents is 10.50 USD).
#[derive(Debug, Object)]
#[oai(rename = "Account", rename_all = "camelCase")]
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
            balance: account.balance,
            currency: account.currency.as_str().to_owned(),
            created_at: account.created_at.into(),
            updated_at: account.updated_at.into(),
        }
    }
}

/// A completed transfer; `amount` in minor units.
#[derive(Debug, Object)]
#[oai(rename = "Transfer", rename_all = "camelCase")]
pub(crate) struct TransferDto {
    id: Uuid,
    from_account_id: Uuid,
    to_account_id: Uuid,
    amount: i64,
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

#[derive(Debug, Object)]
pub(crate) struct AccountPage {
    data: Vec<AccountDto>,
    meta: PageMeta,
}

#[derive(Debug, Object)]
pub(crate) struct TransferPage {
    data: Vec<TransferDto>,
    meta: PageMeta,
}

/// `POST /api/v1/accounts`.
#[derive(Debug, Object, Deserialize)]
#[oai(rename = "OpenAccount", rename_all = "camelCase", deny_unknown_fields)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct OpenAccountBody {
    /// ISO 4217; defaults to `USD`.
    currency: Option<String>,
}

/// `POST /api/v1/accounts/{id}/deposits`.
#[derive(Debug, Object, Deserialize)]
#[oai(rename = "Deposit", rename_all = "camelCase", deny_unknown_fields)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct DepositBody {
    /// Minor units, 1 to 10^12; an integer (floats are refused).
    amount: i64,
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
    from_account_id: Uuid,
    to_account_id: Uuid,
    /// Minor units, 1 to 10^12; an integer (floats are refused).
    amount: i64,
}

#[derive(ApiResponse)]
pub(crate) enum OpenAccountResponse {
    #[oai(status = 201)]
    Created(Json<AccountDto>),
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    #[oai(status = 500)]
    InternalError(Json<ErrorBody>),
}

#[derive(ApiResponse)]
pub(crate) enum ListAccountsResponse {
    #[oai(status = 200)]
    Ok(Json<AccountPage>),
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// `ownerId` of another user, from a non-admin.
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    #[oai(status = 500)]
    InternalError(Json<ErrorBody>),
}

#[derive(ApiResponse)]
pub(crate) enum GetAccountResponse {
    #[oai(status = 200)]
    Ok(Json<AccountDto>),
    /// No such account, or not the caller's.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    #[oai(status = 500)]
    InternalError(Json<ErrorBody>),
}

#[derive(ApiResponse)]
pub(crate) enum DepositResponse {
    /// The account after the deposit (or, for a replayed key, as it is).
    #[oai(status = 201)]
    Created(Json<AccountDto>),
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// Not an admin.
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// The `Idempotency-Key` was used with another request.
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    #[oai(status = 500)]
    InternalError(Json<ErrorBody>),
}

#[derive(ApiResponse)]
pub(crate) enum ListTransfersResponse {
    #[oai(status = 200)]
    Ok(Json<TransferPage>),
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// No such account, or not the caller's.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    #[oai(status = 500)]
    InternalError(Json<ErrorBody>),
}

#[derive(ApiResponse)]
pub(crate) enum TransferResponse {
    /// Done; with a reused `Idempotency-Key`, the original transfer (`Idempotent-Replayed: true`).
    #[oai(status = 201)]
    Created(
        Json<TransferDto>,
        #[oai(header = "Idempotent-Replayed")] Option<String>,
    ),
    /// Invalid input, or `Cannot transfer to the same account`.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// The source account is not the caller's.
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// The `Idempotency-Key` was used with another request.
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    /// `Insufficient funds` or `Currency mismatch`; nothing moved.
    #[oai(status = 422)]
    Unprocessable(Json<ErrorBody>),
    #[oai(status = 500)]
    InternalError(Json<ErrorBody>),
}

/// A sane `Idempotency-Key`: 1 to 255 visible ASCII characters (or none).
///
/// Read from the raw header rather than from the documented `Header<Option<String>>`
/// parameter: that one reads a value that is not visible ASCII (`café` in UTF-8, a stray
/// `0xFF`) as no header at all, and a retry would then move money twice. A key that is
/// present is either valid or a 400, never ignored.
fn idempotency_key(request: &Request) -> Result<Option<String>, &'static str> {
    let mut values = request.headers().get_all(IDEMPOTENCY_KEY_HEADER).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err("Must be sent once");
    }
    let bytes = value.as_bytes();
    if !(1..=MAX_IDEMPOTENCY_KEY_LENGTH).contains(&bytes.len())
        || !bytes.iter().all(u8::is_ascii_graphic)
    {
        return Err("Must be 1 to 255 visible ASCII characters");
    }
    Ok(Some(String::from_utf8_lossy(bytes).into_owned()))
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Accounts")]
impl AccountsApi {
    /// Open an account for the caller, with a zero balance.
    #[oai(path = "/accounts", method = "post", operation_id = "openAccount")]
    async fn open(&self, auth: BearerAuth, body: JsonBody<OpenAccountBody>) -> OpenAccountResponse {
        let currency = match body.0.currency.as_deref().map(Currency::parse).transpose() {
            Ok(currency) => currency.unwrap_or(Currency::USD),
            Err(error) => {
                return OpenAccountResponse::BadRequest(
                    ValidationErrors::field("currency", error.to_string()).into_body(),
                );
            }
        };
        match self.accounts.open(auth.0, currency).await {
            Ok(account) => OpenAccountResponse::Created(Json(account.into())),
            Err(OpenAccountError::Unexpected(error)) => {
                OpenAccountResponse::InternalError(ErrorBody::internal(&error))
            }
        }
    }

    /// The caller's accounts (admins: anyone's with `ownerId`, or all).
    #[oai(path = "/accounts", method = "get", operation_id = "listAccounts")]
    async fn list(
        &self,
        auth: BearerAuth,
        page: Query<Option<u32>>,
        limit: Query<Option<u32>>,
        #[oai(name = "ownerId")] owner_id: Query<Option<Uuid>>,
    ) -> ListAccountsResponse {
        let mut errors = ValidationErrors::default();
        let Some(page) = page_request(page.0, limit.0, &mut errors) else {
            return ListAccountsResponse::BadRequest(errors.into_body());
        };
        match self
            .accounts
            .list(auth.0, owner_id.0.map(UserId::from_uuid), page)
            .await
        {
            Ok(page) => {
                let meta = PageMeta::from(&page);
                ListAccountsResponse::Ok(Json(AccountPage {
                    data: page.items.into_iter().map(AccountDto::from).collect(),
                    meta,
                }))
            }
            Err(error @ ListAccountsError::Forbidden) => {
                ListAccountsResponse::Forbidden(ErrorBody::new(error.to_string()))
            }
            Err(ListAccountsError::Unexpected(error)) => {
                ListAccountsResponse::InternalError(ErrorBody::internal(&error))
            }
        }
    }

    /// One account: its owner or an admin.
    #[oai(path = "/accounts/:id", method = "get", operation_id = "getAccount")]
    async fn get(&self, auth: BearerAuth, id: Path<Uuid>) -> GetAccountResponse {
        match self.accounts.get(auth.0, AccountId::from_uuid(id.0)).await {
            Ok(account) => GetAccountResponse::Ok(Json(account.into())),
            Err(error @ GetAccountError::NotFound(_)) => {
                GetAccountResponse::NotFound(ErrorBody::new(error.to_string()))
            }
            Err(GetAccountError::Unexpected(error)) => {
                GetAccountResponse::InternalError(ErrorBody::internal(&error))
            }
        }
    }

    /// Fund an account (admins only). Honours `Idempotency-Key`.
    #[oai(
        path = "/accounts/:id/deposits",
        method = "post",
        operation_id = "deposit"
    )]
    async fn deposit(
        &self,
        auth: BearerAuth,
        id: Path<Uuid>,
        // Declared for the document; the value is read raw (see `idempotency_key`).
        #[oai(name = "Idempotency-Key")] _key: Header<Option<String>>,
        request: &Request,
        body: JsonBody<DepositBody>,
    ) -> DepositResponse {
        let mut errors = ValidationErrors::default();
        let amount = errors.check("amount", Amount::new(body.0.amount));
        let key = errors.check("Idempotency-Key", idempotency_key(request));
        let (Some(amount), Some(key)) = (amount, key) else {
            return DepositResponse::BadRequest(errors.into_body());
        };
        match self
            .accounts
            .deposit(auth.0, AccountId::from_uuid(id.0), amount, key)
            .await
        {
            Ok(account) => DepositResponse::Created(Json(account.into())),
            Err(error @ DepositMoneyError::Forbidden) => {
                DepositResponse::Forbidden(ErrorBody::new(error.to_string()))
            }
            Err(error @ DepositMoneyError::NotFound(_)) => {
                DepositResponse::NotFound(ErrorBody::new(error.to_string()))
            }
            Err(error @ DepositMoneyError::IdempotencyConflict) => {
                DepositResponse::Conflict(ErrorBody::new(error.to_string()))
            }
            Err(DepositMoneyError::Unexpected(error)) => {
                DepositResponse::InternalError(ErrorBody::internal(&error))
            }
        }
    }

    /// The transfers from or to an account, newest first: its owner or an admin.
    #[oai(
        path = "/accounts/:id/transfers",
        method = "get",
        operation_id = "listTransfers"
    )]
    async fn transfers(
        &self,
        auth: BearerAuth,
        id: Path<Uuid>,
        page: Query<Option<u32>>,
        limit: Query<Option<u32>>,
    ) -> ListTransfersResponse {
        let mut errors = ValidationErrors::default();
        let Some(page) = page_request(page.0, limit.0, &mut errors) else {
            return ListTransfersResponse::BadRequest(errors.into_body());
        };
        match self
            .accounts
            .history(auth.0, AccountId::from_uuid(id.0), page)
            .await
        {
            Ok(page) => {
                let meta = PageMeta::from(&page);
                ListTransfersResponse::Ok(Json(TransferPage {
                    data: page.items.into_iter().map(TransferDto::from).collect(),
                    meta,
                }))
            }
            Err(error @ GetAccountError::NotFound(_)) => {
                ListTransfersResponse::NotFound(ErrorBody::new(error.to_string()))
            }
            Err(GetAccountError::Unexpected(error)) => {
                ListTransfersResponse::InternalError(ErrorBody::internal(&error))
            }
        }
    }

    /// Move money from an account of the caller (admins: any) to any account in the same
    /// currency, atomically. With `Idempotency-Key`, a retry with the same body returns the
    /// original transfer and moves nothing; the same key with another body is 409.
    #[oai(path = "/transfers", method = "post", operation_id = "createTransfer")]
    async fn transfer(
        &self,
        auth: BearerAuth,
        // Declared for the document; the value is read raw (see `idempotency_key`).
        #[oai(name = "Idempotency-Key")] _key: Header<Option<String>>,
        request: &Request,
        body: JsonBody<TransferBody>,
    ) -> TransferResponse {
        let mut errors = ValidationErrors::default();
        let amount = errors.check("amount", Amount::new(body.0.amount));
        let key = errors.check("Idempotency-Key", idempotency_key(request));
        let (Some(amount), Some(key)) = (amount, key) else {
            return TransferResponse::BadRequest(errors.into_body());
        };
        let (from, to) = (
            AccountId::from_uuid(body.0.from_account_id),
            AccountId::from_uuid(body.0.to_account_id),
        );
        match self.accounts.transfer(auth.0, from, to, amount, key).await {
            Ok(receipt) => TransferResponse::Created(
                Json(receipt.transfer.into()),
                receipt.replayed.then(|| "true".to_owned()),
            ),
            Err(error @ MakeTransferError::NotFound(_)) => {
                TransferResponse::NotFound(ErrorBody::new(error.to_string()))
            }
            Err(error @ MakeTransferError::Forbidden) => {
                TransferResponse::Forbidden(ErrorBody::new(error.to_string()))
            }
            Err(error @ MakeTransferError::SameAccount) => {
                TransferResponse::BadRequest(ErrorBody::new(error.to_string()))
            }
            Err(
                error
                @ (MakeTransferError::InsufficientFunds | MakeTransferError::CurrencyMismatch),
            ) => TransferResponse::Unprocessable(ErrorBody::new(error.to_string())),
            Err(error @ MakeTransferError::IdempotencyConflict) => {
                TransferResponse::Conflict(ErrorBody::new(error.to_string()))
            }
            Err(MakeTransferError::Unexpected(error)) => {
                TransferResponse::InternalError(ErrorBody::internal(&error))
            }
        }
    }
}
