//! What each accounts operation answers, one enum per operation, every status documented,
//! and the use case's failures mapped onto it (exhaustively).

use application::{
    DepositMoneyError, GetAccountError, ListAccountsError, MakeTransferError, OpenAccountError,
};
use poem_openapi::ApiResponse;

use super::dto::{AccountDto, AccountPage, TransferDto, TransferPage};
use crate::api::error_responses;
use crate::errors::ErrorBody;
use crate::response_json::Json;

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
    /// Invalid input.
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
    /// `Insufficient funds`, `Currency mismatch` or `Cannot transfer to the same account`;
    /// nothing moved.
    #[oai(status = 422)]
    Unprocessable(Json<ErrorBody>),
    #[oai(status = 500)]
    InternalError(Json<ErrorBody>),
}

error_responses! {
    OpenAccountError => OpenAccountResponse {},
    GetAccountError => GetAccountResponse {
        GetAccountError::NotFound(_) => NotFound,
    },
    GetAccountError => ListTransfersResponse {
        GetAccountError::NotFound(_) => NotFound,
    },
    ListAccountsError => ListAccountsResponse {
        ListAccountsError::Forbidden => Forbidden,
    },
    DepositMoneyError => DepositResponse {
        DepositMoneyError::Forbidden => Forbidden,
        DepositMoneyError::NotFound(_) => NotFound,
        DepositMoneyError::IdempotencyConflict => Conflict,
    },
    MakeTransferError => TransferResponse {
        MakeTransferError::NotFound(_) => NotFound,
        MakeTransferError::Forbidden => Forbidden,
        MakeTransferError::SameAccount | MakeTransferError::InsufficientFunds | MakeTransferError::CurrencyMismatch => Unprocessable,
        MakeTransferError::IdempotencyConflict => Conflict,
    },
}
