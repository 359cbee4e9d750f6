//! `/api/v1/auth`.

mod login;
mod rate_limits;
mod register;
mod reset;
mod sessions;
mod tokens;
