//! The authentication wire format, and the named functions that parse each body.

use application::{IssuedSession, Register};
use domain::{Email, Password, UserName};
use poem_openapi::Object;
use serde::Deserialize;

use crate::api::users::dto::UserDto;
use crate::errors::ValidationErrors;

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
#[derive(Debug, Object)]
#[oai(rename = "AuthTokens", rename_all = "camelCase")]
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
