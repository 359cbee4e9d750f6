//! One error enum per authentication use case.

use std::time::Duration;

use domain::{SessionId, UserId};

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
    /// The password is right, but `REQUIRE_VERIFIED_EMAIL` is on and the address is not.
    #[error("Email not verified")]
    EmailNotVerified,
    #[error("unexpected failure while logging in")]
    Unexpected(#[source] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    /// Unknown, expired, revoked or reused (reuse also revokes the token's family).
    #[error("Invalid token")]
    InvalidToken,
    #[error("Email not verified")]
    EmailNotVerified,
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

#[derive(Debug, thiserror::Error)]
pub enum VerifyEmailError {
    /// Unknown, expired, used, superseded, or sent to an address the user no longer has.
    #[error("Invalid or expired token")]
    InvalidToken,
    #[error("unexpected failure while verifying an email address")]
    Unexpected(#[source] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum ResendVerificationError {
    #[error("Email already verified")]
    AlreadyVerified,
    /// The caller's account was deleted since their token was checked.
    #[error("User with ID {0} not found")]
    NotFound(UserId),
    #[error("unexpected failure while sending a verification email")]
    Unexpected(#[source] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum ChangePasswordError {
    #[error("Current password is incorrect")]
    IncorrectPassword,
    /// Too many wrong current passwords (counted with failed logins).
    #[error("Too many requests")]
    TooManyAttempts { retry_after: Duration },
    #[error("User with ID {0} not found")]
    NotFound(UserId),
    #[error("unexpected failure while changing a password")]
    Unexpected(#[source] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum SessionsError {
    #[error("unexpected failure while reading or ending sessions")]
    Unexpected(#[source] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum DeleteSessionError {
    /// No live session of the caller has this id (another user's is not told apart).
    #[error("Session with ID {0} not found")]
    NotFound(SessionId),
    #[error("unexpected failure while ending a session")]
    Unexpected(#[source] anyhow::Error),
}

crate::errors::unexpected_from_infrastructure!(
    RegisterError => RegisterError::Unexpected,
    LoginError => LoginError::Unexpected,
    RefreshError => RefreshError::Unexpected,
    LogoutError => LogoutError::Unexpected,
    RequestResetError => RequestResetError::Unexpected,
    ConfirmResetError => ConfirmResetError::Unexpected,
    VerifyEmailError => VerifyEmailError::Unexpected,
    ResendVerificationError => ResendVerificationError::Unexpected,
    ChangePasswordError => ChangePasswordError::Unexpected,
    SessionsError => SessionsError::Unexpected,
    DeleteSessionError => DeleteSessionError::Unexpected,
);
