//! The innermost layer: every error an endpoint or extractor returns, and every panic, becomes
//! the JSON error response here, below the layers that decorate responses (rate-limit, CORS
//! and security headers), so that error responses carry them too.

use std::panic::AssertUnwindSafe;

use futures_util::FutureExt as _;
use poem::http::StatusCode;
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};

use crate::errors::{ErrorBody, error_response};

/// See the module documentation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Recover;

impl<E: Endpoint> Middleware<E> for Recover {
    type Output = RecoverEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        RecoverEndpoint { inner }
    }
}

pub(crate) struct RecoverEndpoint<E> {
    inner: E,
}

impl<E: Endpoint> Endpoint for RecoverEndpoint<E> {
    type Output = Response;

    // Not an `async fn`: measured, the `async fn` form of this layer cost three times as
    // many instructions (its catch_unwind wrapper is moved into the future, whole).
    fn call(&self, request: Request) -> impl Future<Output = poem::Result<Response>> + Send {
        AssertUnwindSafe(self.inner.call(request))
            .catch_unwind()
            .map(|outcome| {
                Ok(match outcome {
                    Ok(Ok(output)) => output.into_response(),
                    Ok(Err(error)) => error_response(&error),
                    Err(_panic) => (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        ErrorBody::internal(&anyhow::anyhow!("handler panicked")),
                    )
                        .into_response(),
                })
            })
    }
}

#[cfg(test)]
mod tests {
    use poem::endpoint::make_sync;
    use poem::http::StatusCode;
    use poem::{Endpoint, EndpointExt, Request, handler};

    use super::Recover;

    #[handler]
    fn panics() -> &'static str {
        panic!("a bug")
    }

    #[handler]
    fn fails() -> poem::Result<&'static str> {
        Err(poem::error::NotFoundError.into())
    }

    async fn answer(endpoint: impl Endpoint) -> (StatusCode, serde_json::Value) {
        let response = endpoint
            .with(Recover)
            .call(Request::default())
            .await
            .expect("errors become responses");
        let status = response.status();
        let body = response.into_body().into_json().await.expect("a JSON body");
        (status, body)
    }

    #[tokio::test]
    async fn a_panic_is_a_json_500() {
        let (status, body) = answer(panics).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["error"], "Internal server error");
    }

    #[tokio::test]
    async fn an_error_is_its_json_response() {
        let (status, body) = answer(fails).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["error"], "Not found");
    }

    #[tokio::test]
    async fn a_response_passes_unchanged() {
        let response = make_sync(|_| "fine")
            .with(Recover)
            .call(Request::default())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.into_body().into_string().await.unwrap(), "fine");
    }
}
