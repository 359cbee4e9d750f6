//! The authentication feature: register, login, refresh, logout, password reset, email
//! verification, password change and the caller's sessions.

mod errors;
mod reset;
mod service;
mod session_tokens;
mod sessions;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_account;
mod verification;

pub use errors::{
    ChangePasswordError, ConfirmResetError, DeleteSessionError, LoginError, LogoutError,
    RefreshError, RegisterError, RequestResetError, ResendVerificationError, SessionsError,
    VerifyEmailError,
};
pub use service::{AuthConfig, AuthPorts, AuthService, IssuedSession, Register};
pub(crate) use verification::verification_token;
