//! One error enum per authentication use case.

use std::time::Duration;

use domain::ports::{PasswordHashError, RepositoryError};

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("A user with this email already exists")]
    EmailTaken,
    #[error("unexpected failure while registering")]
    Unexpected(#[source] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Unknown email or wrong password: deliberately the same outcome.
    #[error("Invalid email or password")]
    InvalidCredentials,
    /// Too many failed logins for this account recently.
    #[error("Too many requests")]
    TooManyAttempts { retry_after: Duration },
    #[error("unexpected failure while logging in")]
    Unexpected(#[source] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    /// Unknown, expired, revoked or reused (reuse also revokes the token's family).
    #[error("Invalid token")]
    InvalidToken,
    #[error("unexpected failure while refreshing a session")]
    Unexpected(#[source] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum LogoutError {
    #[error("unexpected failure while logging out")]
    Unexpected(#[source] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum RequestResetError {
    #[error("unexpected failure while requesting a password reset")]
    Unexpected(#[source] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum ConfirmResetError {
    #[error("Invalid or expired token")]
    InvalidToken,
    #[error("unexpected failure while resetting a password")]
    Unexpected(#[source] anyhow::Error),
}

macro_rules! unexpected_from_infrastructure {
    ($($error:ident),+ $(,)?) => {$(
        impl From<RepositoryError> for $error {
            fn from(error: RepositoryError) -> Self {
                Self::Unexpected(anyhow::Error::new(error))
            }
        }
        impl From<PasswordHashError> for $error {
            fn from(error: PasswordHashError) -> Self {
                Self::Unexpected(anyhow::Error::new(error))
            }
        }
        impl From<anyhow::Error> for $error {
            fn from(error: anyhow::Error) -> Self {
                Self::Unexpected(error)
            }
        }
    )+};
}

unexpected_from_infrastructure!(
    RegisterError,
    LoginError,
    RefreshError,
    LogoutError,
    RequestResetError,
    ConfirmResetError
);
