//! The OpenAPI operations, one module per feature. Handlers only translate: they parse
//! input into domain values, call one use case, and answer its outcome with [`respond`].

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

/// The response to a use case's outcome: `ok` makes it from the value, and each failure
/// becomes a status through the response's `From` the use case's error (beside each
/// response enum, in the feature's `responses.rs`).
pub(crate) fn respond<T, E, R: From<E>>(outcome: Result<T, E>, ok: impl FnOnce(T) -> R) -> R {
    outcome.map_or_else(R::from, ok)
}

/// `From` a use case's error for its response enum: each listed failure answers with its
/// variant and the error's message, and `Unexpected` with a 500 (the match is exhaustive:
/// a new failure does not compile until it is listed).
///
/// ```text
/// error_responses! {
///     GetPostError => GetPostResponse { GetPostError::NotFound(_) => NotFound },
/// }
/// ```
macro_rules! error_responses {
    ($($error:ident => $response:ident { $($failure:pat => $variant:ident),* $(,)? }),+ $(,)?) => {$(
        impl From<$error> for $response {
            fn from(error: $error) -> Self {
                match error {
                    $($failure => Self::$variant(crate::errors::ErrorBody::new(error.to_string())),)*
                    $error::Unexpected(error) => {
                        Self::InternalError(crate::errors::ErrorBody::internal(&error))
                    }
                }
            }
        }
    )+};
}

pub(crate) use error_responses;
