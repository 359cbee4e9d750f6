//! `/api/v1/auth`: register, login, refresh, logout, password reset, me (the caller's
//! sessions, password and email verification are in `account`).

mod account;
pub(crate) mod dto;

pub(crate) use self::account::AccountSecurityApi;

use application::auth::{
    ConfirmResetError, LoginError, LogoutError, RefreshError, RegisterError, RequestResetError,
};
use application::users::GetUserError;
use application::{AuthService, Register, UserService};
use poem_openapi::payload::Json;
use poem_openapi::{ApiRequest, ApiResponse, OpenApi};

use self::dto::{
    AuthTokensDto, LoginBody, RefreshTokenBody, RegisterBody, ResetConfirmBody, ResetRequestBody,
    login_credentials,
};
use super::ApiTags;
use crate::api::users::dto::UserDto;
use crate::auth::BearerAuth;
use crate::client_ip::Client;
use crate::errors::ErrorBody;
use crate::json::{FormBody, JsonBody};

pub(crate) struct AuthApi {
    pub(crate) auth: AuthService,
    pub(crate) users: UserService,
}

/// JSON or an HTML form.
#[derive(ApiRequest)]
pub(crate) enum RegisterRequest {
    Json(JsonBody<RegisterBody>),
    Form(FormBody<RegisterBody>),
}

/// JSON or an HTML form.
#[derive(ApiRequest)]
pub(crate) enum LoginRequest {
    Json(JsonBody<LoginBody>),
    Form(FormBody<LoginBody>),
}

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

#[OpenApi(prefix_path = "/api/v1/auth", tag = "ApiTags::Auth")]
impl AuthApi {
    /// Create an account (role `user`) and its first session.
    #[oai(path = "/register", method = "post", operation_id = "register")]
    async fn register(&self, body: RegisterRequest, client: Client) -> RegisterResponse {
        let body = match body {
            RegisterRequest::Json(JsonBody(body)) | RegisterRequest::Form(FormBody(body)) => body,
        };
        let command = match Register::try_from(body) {
            Ok(command) => command,
            Err(errors) => return RegisterResponse::BadRequest(errors.into_body()),
        };
        match self.auth.register(command, client.0).await {
            Ok(session) => RegisterResponse::Created(Json(session.into())),
            Err(error @ RegisterError::EmailTaken) => {
                RegisterResponse::Conflict(ErrorBody::new(error.to_string()))
            }
            Err(RegisterError::Unexpected(error)) => {
                RegisterResponse::InternalError(ErrorBody::internal(&error))
            }
        }
    }

    /// Log in with email and password.
    #[oai(path = "/login", method = "post", operation_id = "login")]
    async fn login(&self, body: LoginRequest, client: Client) -> LoginResponse {
        let body = match body {
            LoginRequest::Json(JsonBody(body)) | LoginRequest::Form(FormBody(body)) => body,
        };
        let (email, password) = match login_credentials(&body) {
            Ok(credentials) => credentials,
            Err(errors) => return LoginResponse::BadRequest(errors.into_body()),
        };
        match self.auth.login(&email, &password, client.0).await {
            Ok(session) => LoginResponse::Ok(Json(session.into())),
            Err(error @ LoginError::InvalidCredentials) => {
                LoginResponse::Unauthorized(ErrorBody::new(error.to_string()))
            }
            Err(error @ LoginError::EmailNotVerified) => {
                LoginResponse::Forbidden(ErrorBody::new(error.to_string()))
            }
            Err(error @ LoginError::TooManyAttempts { retry_after }) => {
                LoginResponse::TooManyRequests(
                    ErrorBody::new(error.to_string()),
                    retry_after.as_secs().max(1),
                )
            }
            Err(LoginError::Unexpected(error)) => {
                LoginResponse::InternalError(ErrorBody::internal(&error))
            }
        }
    }

    /// Exchange a refresh token for a new pair.
    #[oai(path = "/refresh", method = "post", operation_id = "refresh")]
    async fn refresh(&self, body: JsonBody<RefreshTokenBody>, client: Client) -> RefreshResponse {
        let token = match body.0.token() {
            Ok(token) => token,
            Err(errors) => return RefreshResponse::BadRequest(errors.into_body()),
        };
        match self.auth.refresh(token, client.0).await {
            Ok(session) => RefreshResponse::Ok(Json(session.into())),
            Err(error @ RefreshError::InvalidToken) => {
                RefreshResponse::Unauthorized(ErrorBody::new(error.to_string()))
            }
            Err(error @ RefreshError::EmailNotVerified) => {
                RefreshResponse::Forbidden(ErrorBody::new(error.to_string()))
            }
            Err(RefreshError::Unexpected(error)) => {
                RefreshResponse::InternalError(ErrorBody::internal(&error))
            }
        }
    }

    /// End the session of a refresh token: it and its access tokens stop working.
    #[oai(path = "/logout", method = "post", operation_id = "logout")]
    async fn logout(&self, auth: BearerAuth, body: JsonBody<RefreshTokenBody>) -> LogoutResponse {
        let token = match body.0.token() {
            Ok(token) => token,
            Err(errors) => return LogoutResponse::BadRequest(errors.into_body()),
        };
        match self.auth.logout(auth.0.actor, token).await {
            Ok(()) => LogoutResponse::LoggedOut,
            Err(LogoutError::Unexpected(error)) => {
                LogoutResponse::InternalError(ErrorBody::internal(&error))
            }
        }
    }

    /// Ask for a password-reset email. Always 202: the answer does not reveal whether the
    /// account exists.
    #[oai(
        path = "/password-reset",
        method = "post",
        operation_id = "requestPasswordReset"
    )]
    async fn request_password_reset(
        &self,
        body: JsonBody<ResetRequestBody>,
    ) -> ResetRequestResponse {
        let email = match body.0.email() {
            Ok(email) => email,
            Err(errors) => return ResetRequestResponse::BadRequest(errors.into_body()),
        };
        match self.auth.request_password_reset(&email).await {
            Ok(()) => ResetRequestResponse::Accepted,
            Err(RequestResetError::Unexpected(error)) => {
                ResetRequestResponse::InternalError(ErrorBody::internal(&error))
            }
        }
    }

    /// Set a new password with the token from the reset email (single use, 30 minutes).
    #[oai(
        path = "/password-reset/confirm",
        method = "post",
        operation_id = "confirmPasswordReset"
    )]
    async fn confirm_password_reset(
        &self,
        body: JsonBody<ResetConfirmBody>,
    ) -> ResetConfirmResponse {
        let (token, password) = match body.0.parse() {
            Ok(parsed) => parsed,
            Err(errors) => return ResetConfirmResponse::BadRequest(errors.into_body()),
        };
        match self.auth.confirm_password_reset(token, &password).await {
            Ok(()) => ResetConfirmResponse::Reset,
            Err(error @ ConfirmResetError::InvalidToken) => {
                ResetConfirmResponse::BadRequest(ErrorBody::new(error.to_string()))
            }
            Err(ConfirmResetError::Unexpected(error)) => {
                ResetConfirmResponse::InternalError(ErrorBody::internal(&error))
            }
        }
    }

    /// The authenticated user.
    #[oai(path = "/me", method = "get", operation_id = "me")]
    async fn me(&self, auth: BearerAuth) -> MeResponse {
        match self.users.get(auth.0.actor, auth.0.actor.user_id).await {
            Ok(user) => MeResponse::Ok(Json(user.into())),
            Err(error @ GetUserError::NotFound(_)) => {
                MeResponse::NotFound(ErrorBody::new(error.to_string()))
            }
            Err(GetUserError::Unexpected(error)) => {
                MeResponse::InternalError(ErrorBody::internal(&error))
            }
        }
    }
}
