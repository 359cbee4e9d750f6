//! `/api/v1/auth`.

mod account_sessions;
mod login;
mod rate_limits;
mod register;
mod reset;
mod sessions;
mod tokens;
mod verification;
