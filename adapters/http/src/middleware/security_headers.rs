//! helmet's default security headers on every response, and no `Server` banner.
//!
//! The Swagger UI page needs inline scripts and styles, so it gets a relaxed
//! Content-Security-Policy; every other response gets helmet's strict default.

use poem::http::header::CONTENT_SECURITY_POLICY;
use poem::http::{HeaderName, HeaderValue};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};

/// helmet 8's default Content-Security-Policy.
const STRICT_CSP: &str = "default-src 'self';base-uri 'self';font-src 'self' https: data:;\
form-action 'self';frame-ancestors 'self';img-src 'self' data:;object-src 'none';\
script-src 'self';script-src-attr 'none';style-src 'self' https: 'unsafe-inline';\
upgrade-insecure-requests";

/// The docs page: Swagger UI is one HTML document with inline script and style.
const DOCS_CSP: &str = "default-src 'self';base-uri 'self';font-src 'self' https: data:;\
form-action 'self';frame-ancestors 'self';img-src 'self' data:;object-src 'none';\
script-src 'self' 'unsafe-inline';script-src-attr 'none';style-src 'self' 'unsafe-inline'";

/// Built at compile time: a response only copies them (no parsing or validation per request).
const HEADERS: [(HeaderName, HeaderValue); 11] = [
    header("cross-origin-opener-policy", "same-origin"),
    header("cross-origin-resource-policy", "same-origin"),
    header("origin-agent-cluster", "?1"),
    header("referrer-policy", "no-referrer"),
    header(
        "strict-transport-security",
        "max-age=31536000; includeSubDomains",
    ),
    header("x-content-type-options", "nosniff"),
    header("x-dns-prefetch-control", "off"),
    header("x-download-options", "noopen"),
    header("x-frame-options", "SAMEORIGIN"),
    header("x-permitted-cross-domain-policies", "none"),
    header("x-xss-protection", "0"),
];

const fn header(name: &'static str, value: &'static str) -> (HeaderName, HeaderValue) {
    (
        HeaderName::from_static(name),
        HeaderValue::from_static(value),
    )
}

/// See the module documentation.
#[derive(Debug, Clone)]
pub(crate) struct SecurityHeaders {
    pub(crate) docs_path: &'static str,
}

impl<E: Endpoint> Middleware<E> for SecurityHeaders {
    type Output = SecurityHeadersEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        SecurityHeadersEndpoint {
            inner,
            docs_path: self.docs_path,
        }
    }
}

pub(crate) struct SecurityHeadersEndpoint<E> {
    inner: E,
    docs_path: &'static str,
}

impl<E: Endpoint> Endpoint for SecurityHeadersEndpoint<E> {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        let is_docs = request.uri().path() == self.docs_path;
        let mut response = self.inner.call(request).await?.into_response();
        let headers = response.headers_mut();
        let csp = if is_docs { DOCS_CSP } else { STRICT_CSP };
        headers.reserve(HEADERS.len() + 1);
        headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
        for (name, value) in HEADERS {
            headers.insert(name, value);
        }
        headers.remove("server");
        headers.remove("x-powered-by");
        Ok(response)
    }
}
