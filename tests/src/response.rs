//! A response read whole, with assertions that print the body when they fail.

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;

/// Status, headers and body of one response.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl TestResponse {
    pub(crate) async fn read(response: reqwest::Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .expect("read the response body")
            .to_vec();
        Self {
            status,
            headers,
            body,
        }
    }

    /// The body as JSON (panics with the raw body if it is not JSON).
    #[must_use]
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|error| {
            panic!(
                "body is not JSON ({error}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// The `x-request-id` header (every response has one).
    #[must_use]
    pub fn request_id(&self) -> &str {
        self.header("x-request-id")
            .expect("every response carries x-request-id")
    }

    /// Asserts the status, and returns the JSON body.
    #[track_caller]
    pub fn expect(&self, status: u16) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            String::from_utf8_lossy(&self.body)
        );
        if self.body.is_empty() {
            Value::Null
        } else {
            self.json()
        }
    }

    /// Asserts an error response with exactly `{"error": message, "requestId": <x-request-id>}`.
    #[track_caller]
    pub fn expect_error(&self, status: u16, message: &str) {
        let body = self.expect(status);
        assert_eq!(
            body,
            serde_json::json!({ "error": message, "requestId": self.request_id() })
        );
    }

    /// Asserts a 400 `Validation failed` whose `details` equal `details` exactly.
    #[track_caller]
    pub fn expect_validation_error(&self, details: &Value) {
        let body = self.expect(400);
        assert_eq!(
            body,
            serde_json::json!({ "error": "Validation failed", "requestId": self.request_id(), "details": details })
        );
    }
}
