//! The OpenAPI operations, one module per feature. Handlers only translate: they parse
//! input into domain values, call one use case, and map its outcome exhaustively.

pub(crate) mod accounts;
pub(crate) mod auth;
pub(crate) mod health;
pub(crate) mod jobs;
pub(crate) mod posts;
pub(crate) mod users;

mod page;

use poem_openapi::Tags;

#[derive(Tags)]
pub(crate) enum ApiTags {
    /// Sign-up, login, sessions and password reset.
    Auth,
    /// Liveness and readiness.
    Health,
    /// User accounts and roles.
    Users,
    /// Posts and drafts.
    Posts,
    /// Money: accounts, deposits, transfers.
    Accounts,
    /// Background jobs (admins only).
    Jobs,
}
