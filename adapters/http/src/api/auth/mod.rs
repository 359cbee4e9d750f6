//! `/api/v1/auth`: register, login, refresh, logout, password reset, me (the caller's
//! sessions, password and email verification are in `account`).

mod account;
pub(crate) mod dto;
mod responses;

pub(crate) use self::account::AccountSecurityApi;

use application::{AuthService, Register, UserService};
use poem_openapi::{ApiRequest, OpenApi};

use self::dto::{
    LoginBody, RefreshTokenBody, RegisterBody, ResetConfirmBody, ResetRequestBody,
    login_credentials,
};
use self::responses::{
    LoginResponse, LogoutResponse, MeResponse, RefreshResponse, RegisterResponse,
    ResetConfirmResponse, ResetRequestResponse,
};
use super::{ApiTags, respond};
use crate::auth::BearerAuth;
use crate::client_ip::Client;
use crate::json::{FormBody, JsonBody};
use crate::response_json::Json;

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
        respond(self.auth.register(command, client.0).await, |session| {
            RegisterResponse::Created(Json(session.into()))
        })
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
        respond(
            self.auth.login(&email, &password, client.0).await,
            |session| LoginResponse::Ok(Json(session.into())),
        )
    }

    /// Exchange a refresh token for a new pair.
    #[oai(path = "/refresh", method = "post", operation_id = "refresh")]
    async fn refresh(&self, body: JsonBody<RefreshTokenBody>, client: Client) -> RefreshResponse {
        let token = match body.0.token() {
            Ok(token) => token,
            Err(errors) => return RefreshResponse::BadRequest(errors.into_body()),
        };
        respond(self.auth.refresh(token, client.0).await, |session| {
            RefreshResponse::Ok(Json(session.into()))
        })
    }

    /// End the session of a refresh token: it and its access tokens stop working.
    #[oai(path = "/logout", method = "post", operation_id = "logout")]
    async fn logout(&self, auth: BearerAuth, body: JsonBody<RefreshTokenBody>) -> LogoutResponse {
        let token = match body.0.token() {
            Ok(token) => token,
            Err(errors) => return LogoutResponse::BadRequest(errors.into_body()),
        };
        respond(self.auth.logout(auth.0.actor, token).await, |()| {
            LogoutResponse::LoggedOut
        })
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
        respond(self.auth.request_password_reset(&email).await, |()| {
            ResetRequestResponse::Accepted
        })
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
        respond(
            self.auth.confirm_password_reset(token, &password).await,
            |()| ResetConfirmResponse::Reset,
        )
    }

    /// The authenticated user.
    #[oai(path = "/me", method = "get", operation_id = "me")]
    async fn me(&self, auth: BearerAuth) -> MeResponse {
        respond(
            self.users.get(auth.0.actor, auth.0.actor.user_id).await,
            |user| MeResponse::Ok(Json(user.into())),
        )
    }
}
