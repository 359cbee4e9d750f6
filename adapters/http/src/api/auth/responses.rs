//! What each `/auth` operation answers, one enum per operation, every status documented,
//! and the use case's failures mapped onto it (exhaustively).

use application::auth::{
    ConfirmResetError, LoginError, LogoutError, RefreshError, RegisterError, RequestResetError,
};
use application::users::GetUserError;
use poem_openapi::ApiResponse;

use super::dto::AuthTokensDto;
use crate::api::error_responses;
use crate::api::users::dto::UserDto;
use crate::errors::ErrorBody;
use crate::response_json::Json;

#[derive(ApiResponse)]
pub(crate) enum RegisterResponse {
    /// The account and its first session; the welcome email is on its way.
    #[oai(status = 201)]
    Created(Json<AuthTokensDto>),
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// The email belongs to another account.
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    #[oai(status = 500)]
    InternalError(Json<ErrorBody>),
}

#[derive(ApiResponse)]
pub(crate) enum LoginResponse {
    #[oai(status = 200)]
    Ok(Json<AuthTokensDto>),
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// `Invalid email or password` (the same for an unknown email).
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
    /// `Email not verified` (only with `REQUIRE_VERIFIED_EMAIL`, and only after the right
    /// password).
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    /// Too many failed logins for this account, or too many requests from this client.
    #[oai(status = 429)]
    TooManyRequests(Json<ErrorBody>, #[oai(header = "Retry-After")] u64),
    #[oai(status = 500)]
    InternalError(Json<ErrorBody>),
}

#[derive(ApiResponse)]
pub(crate) enum RefreshResponse {
    /// A new pair; the presented refresh token is spent.
    #[oai(status = 200)]
    Ok(Json<AuthTokensDto>),
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// Unknown, expired, revoked or already used (reuse revokes the whole session).
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
    /// `Email not verified` (only with `REQUIRE_VERIFIED_EMAIL`).
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    #[oai(status = 500)]
    InternalError(Json<ErrorBody>),
}

#[derive(ApiResponse)]
pub(crate) enum LogoutResponse {
    /// The session of this refresh token is over (also when it was already over).
    #[oai(status = 204)]
    LoggedOut,
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    #[oai(status = 500)]
    InternalError(Json<ErrorBody>),
}

#[derive(ApiResponse)]
pub(crate) enum ResetRequestResponse {
    /// Always, whether or not the account exists.
    #[oai(status = 202)]
    Accepted,
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    #[oai(status = 500)]
    InternalError(Json<ErrorBody>),
}

#[derive(ApiResponse)]
pub(crate) enum ResetConfirmResponse {
    /// The password is changed and every session of the account is over.
    #[oai(status = 204)]
    Reset,
    /// Invalid input, or `Invalid or expired token`.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    #[oai(status = 500)]
    InternalError(Json<ErrorBody>),
}

#[derive(ApiResponse)]
pub(crate) enum MeResponse {
    #[oai(status = 200)]
    Ok(Json<UserDto>),
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    #[oai(status = 500)]
    InternalError(Json<ErrorBody>),
}

impl From<LoginError> for LoginResponse {
    fn from(error: LoginError) -> Self {
        match error {
            LoginError::InvalidCredentials => Self::Unauthorized(ErrorBody::new(error.to_string())),
            LoginError::EmailNotVerified => Self::Forbidden(ErrorBody::new(error.to_string())),
            LoginError::TooManyAttempts { retry_after } => Self::TooManyRequests(
                ErrorBody::new(error.to_string()),
                retry_after.as_secs().max(1),
            ),
            LoginError::Unexpected(error) => Self::InternalError(ErrorBody::internal(&error)),
        }
    }
}

error_responses! {
    RegisterError => RegisterResponse {
        RegisterError::EmailTaken => Conflict,
    },
    RefreshError => RefreshResponse {
        RefreshError::InvalidToken => Unauthorized,
        RefreshError::EmailNotVerified => Forbidden,
    },
    LogoutError => LogoutResponse {},
    GetUserError => MeResponse {
        GetUserError::NotFound(_) => NotFound,
    },
    RequestResetError => ResetRequestResponse {},
    ConfirmResetError => ResetConfirmResponse {
        ConfirmResetError::InvalidToken => BadRequest,
    },
}
