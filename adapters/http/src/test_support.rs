//! Helpers for the unit tests of endpoints.

use poem::http::{Method, StatusCode};
use poem::{Endpoint, IntoResponse as _, Request};

/// The status and body with which `endpoint` answers `method uri` (an error as the
/// response it becomes).
pub(crate) async fn answer(
    endpoint: &impl Endpoint,
    method: Method,
    uri: &str,
) -> (StatusCode, String) {
    let request = Request::builder()
        .method(method)
        .uri(uri.parse().expect("a valid URI"))
        .finish();
    let response = match endpoint.call(request).await {
        Ok(output) => output.into_response(),
        Err(error) => error.into_response(),
    };
    let status = response.status();
    let body = response
        .into_body()
        .into_string()
        .await
        .expect("a text body");
    (status, body)
}
