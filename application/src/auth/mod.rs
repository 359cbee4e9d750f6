//! The authentication feature: register, login, refresh, logout, password reset, me.

mod errors;
mod reset;
mod service;
#[cfg(test)]
mod tests;

pub use errors::{
    ConfirmResetError, LoginError, LogoutError, RefreshError, RegisterError, RequestResetError,
};
pub use service::{AuthConfig, AuthPorts, AuthService, IssuedSession, Register};
