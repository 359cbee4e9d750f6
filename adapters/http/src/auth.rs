//! Bearer authentication as a poem-openapi security scheme.
//!
//! A missing or non-bearer `Authorization` header is rejected by poem-openapi before the
//! checker runs (401 `Authentication required`); a bearer token that does not verify is
//! rejected by the checker (401 `Invalid token`).

use application::{AuthenticateError, Authenticator, Caller};
use domain::ports::{AccessClaims, is_storage_unavailable};
use poem::Request;
use poem_openapi::SecurityScheme;
use poem_openapi::auth::Bearer;

use crate::errors::InvalidTokenError;
use crate::request_context::record_user;

/// The authenticated caller of an operation (who, and in which session).
#[derive(Debug, SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT", checker = "authenticate")]
pub(crate) struct BearerAuth(pub(crate) Caller);

/// The claims of the request's bearer token, verified by the rate limiter (which reads the
/// same `Authorization` header), so that the token is not verified twice.
#[derive(Debug, Clone, Copy)]
pub(crate) struct VerifiedToken(pub(crate) AccessClaims);

async fn authenticate(request: &Request, bearer: Bearer) -> poem::Result<Caller> {
    let authenticator = request
        .data::<Authenticator>()
        .expect("the router installs the authenticator");
    let authenticated = match request.extensions().get::<VerifiedToken>() {
        Some(verified) => authenticator.authenticate_claims(verified.0).await,
        None => authenticator.authenticate(&bearer.token).await,
    };
    let caller = authenticated.map_err(|error| match error {
        AuthenticateError::InvalidToken => poem::Error::from(InvalidTokenError),
        AuthenticateError::Unexpected(error) if is_storage_unavailable(error.as_ref()) => {
            tracing::warn!(
                error = format!("{error:#}"),
                "could not check a token: the database is unavailable"
            );
            poem::Error::from_string(
                format!("{error:#}"),
                poem::http::StatusCode::SERVICE_UNAVAILABLE,
            )
        }
        AuthenticateError::Unexpected(error) => poem::Error::from_string(
            format!("{error:#}"),
            poem::http::StatusCode::INTERNAL_SERVER_ERROR,
        ),
    })?;
    record_user(caller.actor.user_id);
    Ok(caller)
}
