//! `/api/v1/accounts` and `/api/v1/transfers`.

use application::AccountService;
use domain::{AccountId, Amount, Currency, UserId};
use poem::Request;
use poem_openapi::OpenApi;
use poem_openapi::param::{Header, Path, Query};
use uuid::Uuid;

use crate::response_json::Json;

pub(crate) mod dto;
mod responses;

pub(crate) use self::dto::TransferDto;
use self::dto::{DepositBody, OpenAccountBody, TransferBody, TransferOrder, idempotency_key};
use self::responses::{
    DepositResponse, GetAccountResponse, ListAccountsResponse, ListTransfersResponse,
    OpenAccountResponse, TransferResponse,
};
use super::page::page_request;
use super::{ApiTags, respond};
use crate::auth::BearerAuth;
use crate::errors::ValidationErrors;
use crate::json::JsonBody;

pub(crate) struct AccountsApi {
    pub(crate) accounts: AccountService,
}

/// An account. `balance` is in minor units of `currency` (1050 USD cents is 10.50 USD).
#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Accounts")]
impl AccountsApi {
    /// Open an account for the caller, with a zero balance.
    #[oai(path = "/accounts", method = "post", operation_id = "openAccount")]
    async fn open(&self, auth: BearerAuth, body: JsonBody<OpenAccountBody>) -> OpenAccountResponse {
        let currency = match Currency::try_from(body.0) {
            Ok(currency) => currency,
            Err(errors) => return OpenAccountResponse::BadRequest(errors.into_body()),
        };
        respond(
            self.accounts.open(auth.0.actor, currency).await,
            |account| OpenAccountResponse::Created(Json(account.into())),
        )
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
        let listed = self
            .accounts
            .list(auth.0.actor, owner_id.0.map(UserId::from_uuid), page)
            .await;
        respond(listed, |page| ListAccountsResponse::Ok(Json(page.into())))
    }

    /// One account: its owner or an admin.
    #[oai(path = "/accounts/:id", method = "get", operation_id = "getAccount")]
    async fn get(&self, auth: BearerAuth, id: Path<Uuid>) -> GetAccountResponse {
        let account = self
            .accounts
            .get(auth.0.actor, AccountId::from_uuid(id.0))
            .await;
        respond(account, |account| {
            GetAccountResponse::Ok(Json(account.into()))
        })
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
        let amount = errors.absorb(Amount::try_from(body.0));
        let key = errors.check("Idempotency-Key", idempotency_key(request));
        let (Some(amount), Some(key)) = (amount, key) else {
            return DepositResponse::BadRequest(errors.into_body());
        };
        let deposited = self
            .accounts
            .deposit(auth.0.actor, AccountId::from_uuid(id.0), amount, key)
            .await;
        respond(deposited, |account| {
            DepositResponse::Created(Json(account.into()))
        })
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
        let history = self
            .accounts
            .history(auth.0.actor, AccountId::from_uuid(id.0), page)
            .await;
        respond(history, |page| ListTransfersResponse::Ok(Json(page.into())))
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
        let order = errors.absorb(TransferOrder::try_from(body.0));
        let key = errors.check("Idempotency-Key", idempotency_key(request));
        let (Some(order), Some(key)) = (order, key) else {
            return TransferResponse::BadRequest(errors.into_body());
        };
        let transferred = self
            .accounts
            .transfer(auth.0.actor, order.from, order.to, order.amount, key)
            .await;
        respond(transferred, |receipt| {
            TransferResponse::Created(
                Json(receipt.transfer.into()),
                receipt.replayed.then(|| "true".to_owned()),
            )
        })
    }
}
