//! The authentication wire format, and the named functions that parse each body.

use application::{IssuedSession, Register};
use domain::{Email, Password, Session, SessionId, UserName};
use poem_openapi::Object;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::api::page::PageDto;
use crate::api::users::dto::UserDto;
use crate::errors::ValidationErrors;
use crate::timestamp::Timestamp;

/// Longest opaque token accepted (ours are 43 characters).
pub(crate) const MAX_TOKEN_LENGTH: usize = 512;

/// `POST /api/v1/auth/register`: always creates a plain user (no `role` here).
#[derive(Debug, Object, Deserialize)]
#[oai(rename = "Register", rename_all = "camelCase", deny_unknown_fields)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct RegisterBody {
    email: String,
    password: String,
    name: Option<String>,
}

impl TryFrom<RegisterBody> for Register {
    type Error = ValidationErrors;

    fn try_from(body: RegisterBody) -> Result<Self, Self::Error> {
        let mut errors = ValidationErrors::default();
        let email = errors.check("email", Email::parse(&body.email));
        let password = errors.check("password", Password::parse(&body.password));
        let name = errors.check(
            "name",
            body.name.as_deref().map(UserName::parse).transpose(),
        );
        let (Some(email), Some(password), Some(name)) = (email, password, name) else {
            return Err(errors);
        };
        Ok(Self {
            email,
            password,
            name,
        })
    }
}

/// `POST /api/v1/auth/login`.
#[derive(Debug, Object, Deserialize)]
#[oai(rename = "Login", rename_all = "camelCase", deny_unknown_fields)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct LoginBody {
    email: String,
    password: String,
}

/// The email and password of a login.
pub(crate) fn login_credentials(body: &LoginBody) -> Result<(Email, Password), ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let email = errors.check("email", Email::parse(&body.email));
    let password = errors.check("password", Password::parse(&body.password));
    match (email, password) {
        (Some(email), Some(password)) => Ok((email, password)),
        _ => Err(errors),
    }
}

/// `POST /api/v1/auth/refresh` and `POST /api/v1/auth/logout`.
#[derive(Debug, Object, Deserialize)]
#[oai(rename = "RefreshToken", rename_all = "camelCase", deny_unknown_fields)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct RefreshTokenBody {
    refresh_token: String,
}

impl RefreshTokenBody {
    /// The presented token, if it is plausibly one.
    pub(crate) fn token(&self) -> Result<&str, ValidationErrors> {
        plausible_token("refreshToken", &self.refresh_token)
    }
}

/// `POST /api/v1/auth/password-reset`.
#[derive(Debug, Object, Deserialize)]
#[oai(
    rename = "PasswordResetRequest",
    rename_all = "camelCase",
    deny_unknown_fields
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ResetRequestBody {
    email: String,
}

impl ResetRequestBody {
    pub(crate) fn email(&self) -> Result<Email, ValidationErrors> {
        Email::parse(&self.email)
            .map_err(|error| ValidationErrors::field("email", error.to_string()))
    }
}

/// `POST /api/v1/auth/password-reset/confirm`.
#[derive(Debug, Object, Deserialize)]
#[oai(
    rename = "PasswordResetConfirm",
    rename_all = "camelCase",
    deny_unknown_fields
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ResetConfirmBody {
    token: String,
    password: String,
}

impl ResetConfirmBody {
    /// The presented token and the new password.
    pub(crate) fn parse(&self) -> Result<(&str, Password), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let token = errors.check(
            "token",
            plausible_token("token", &self.token).map_err(|_| "Must be 1 to 512 characters"),
        );
        let password = errors.check("password", Password::parse(&self.password));
        match (token, password) {
            (Some(token), Some(password)) => Ok((token, password)),
            _ => Err(errors),
        }
    }
}

fn plausible_token<'a>(field: &str, token: &'a str) -> Result<&'a str, ValidationErrors> {
    if token.is_empty() || token.len() > MAX_TOKEN_LENGTH {
        return Err(ValidationErrors::field(
            field,
            "Must be 1 to 512 characters",
        ));
    }
    Ok(token)
}

/// A session: the user and their tokens.
#[derive(Debug, Object, Serialize)]
#[oai(rename = "AuthTokens", rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
pub(crate) struct AuthTokensDto {
    user: UserDto,
    /// A JWT for the `Authorization: Bearer` header.
    access_token: String,
    /// Opaque; exchange it at `/auth/refresh` for a new pair (it works once).
    refresh_token: String,
    /// Always `Bearer`.
    token_type: String,
    /// Seconds until the access token expires.
    expires_in: u64,
}

impl From<IssuedSession> for AuthTokensDto {
    fn from(session: IssuedSession) -> Self {
        Self {
            user: session.user.into(),
            access_token: session.access.token,
            refresh_token: session.refresh.expose().to_owned(),
            token_type: "Bearer".to_owned(),
            expires_in: session.access.expires_in_seconds,
        }
    }
}

/// `POST /api/v1/auth/verify-email`.
#[derive(Debug, Object, Deserialize)]
#[oai(rename = "VerifyEmail", rename_all = "camelCase", deny_unknown_fields)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct VerifyEmailBody {
    /// The token from the link in the email.
    token: String,
}

impl VerifyEmailBody {
    pub(crate) fn token(&self) -> Result<&str, ValidationErrors> {
        plausible_token("token", &self.token)
    }
}

/// `POST /api/v1/auth/password`.
#[derive(Debug, Object, Deserialize)]
#[oai(
    rename = "ChangePassword",
    rename_all = "camelCase",
    deny_unknown_fields
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ChangePasswordBody {
    current_password: String,
    new_password: String,
}

impl ChangePasswordBody {
    /// The current and the new password.
    pub(crate) fn parse(&self) -> Result<(Password, Password), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let current = errors.check("currentPassword", Password::parse(&self.current_password));
        let new = errors.check("newPassword", Password::parse(&self.new_password));
        match (current, new) {
            (Some(current), Some(new)) => Ok((current, new)),
            _ => Err(errors),
        }
    }
}

/// A signed-in session of the caller (a login and the refreshes that followed it).
#[derive(Debug, Object, Serialize)]
#[oai(rename = "Session", rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
pub(crate) struct SessionDto {
    id: Uuid,
    created_at: Timestamp,
    /// When its refresh token was last exchanged (its start, if never).
    last_used_at: Timestamp,
    /// When its refresh token expires, unless it is refreshed before.
    expires_at: Timestamp,
    /// As sent by the client at the start or last refresh (at most 512 characters).
    user_agent: Option<String>,
    /// The client's address at the start or last refresh.
    ip: Option<String>,
    /// Whether the access token of this request belongs to this session.
    current: bool,
}

impl SessionDto {
    pub(crate) fn new(session: Session, current: SessionId) -> Self {
        Self {
            id: session.id.as_uuid(),
            created_at: session.created_at.into(),
            last_used_at: session.last_used_at.into(),
            expires_at: session.expires_at.into(),
            user_agent: session.user_agent,
            ip: session.ip,
            current: session.id == current,
        }
    }
}

/// A page of sessions.
pub(crate) type SessionPage = PageDto<SessionDto>;
