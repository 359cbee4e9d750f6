//! helmet's default security headers on every response, and no `Server` banner.
//!
//! The Swagger UI page needs inline scripts and styles, so it gets a relaxed
//! Content-Security-Policy; every other response gets helmet's strict default.

use poem::http::header::{CONTENT_SECURITY_POLICY, SERVER};
use poem::http::{HeaderMap, HeaderName, HeaderValue};
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

/// Built at compile time (no parsing or validation per request).
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
            strict: template(STRICT_CSP),
            docs: template(DOCS_CSP),
        }
    }
}

/// The security headers with `csp` as the Content-Security-Policy, as a header map.
fn template(csp: &'static str) -> HeaderMap {
    let mut headers = HeaderMap::with_capacity(HEADERS.len() + 8);
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
    headers.extend(HEADERS);
    headers
}

pub(crate) struct SecurityHeadersEndpoint<E> {
    inner: E,
    docs_path: &'static str,
    strict: HeaderMap,
    docs: HeaderMap,
}

impl<E: Endpoint> Endpoint for SecurityHeadersEndpoint<E> {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        let template = if request.uri().path() == self.docs_path {
            &self.docs
        } else {
            &self.strict
        };
        let mut response = self.inner.call(request).await?.into_response();
        let headers = response.headers_mut();
        let own = std::mem::replace(headers, template.clone());
        add_own_headers(headers, own, template);
        Ok(response)
    }
}

/// Adds the response's `own` headers to its security headers, except those the template
/// sets (ours win) and the banners (`Server`, `X-Powered-By`). Cloning one small prepared
/// map and adding the response's few headers costs a quarter of inserting twelve headers
/// into each response.
fn add_own_headers(headers: &mut HeaderMap, own: HeaderMap, template: &HeaderMap) {
    let mut current: Option<HeaderName> = None;
    for (name, value) in own {
        // `None`: another value of the header just seen.
        if let Some(name) = name {
            current = Some(name);
        }
        let Some(name) = &current else { continue };
        if template.contains_key(name) || name == SERVER || name.as_str() == "x-powered-by" {
            continue;
        }
        headers.append(name.clone(), value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_responses_headers_are_kept_ours_win_and_banners_go() {
        let template = template(STRICT_CSP);
        let mut own = HeaderMap::new();
        own.insert("content-type", HeaderValue::from_static("application/json"));
        own.append("set-cookie", HeaderValue::from_static("a=1"));
        own.append("set-cookie", HeaderValue::from_static("b=2"));
        own.insert("x-frame-options", HeaderValue::from_static("ALLOWALL"));
        own.insert(SERVER, HeaderValue::from_static("poem"));
        own.insert("x-powered-by", HeaderValue::from_static("Express"));
        let mut headers = template.clone();
        add_own_headers(&mut headers, own, &template);

        assert_eq!(headers["content-type"], "application/json");
        assert_eq!(
            headers.get_all("set-cookie").iter().collect::<Vec<_>>(),
            ["a=1", "b=2"]
        );
        assert_eq!(headers["x-frame-options"], "SAMEORIGIN");
        assert_eq!(headers[CONTENT_SECURITY_POLICY], STRICT_CSP);
        assert!(!headers.contains_key(SERVER));
        assert!(!headers.contains_key("x-powered-by"));
        assert_eq!(headers.len(), HEADERS.len() + 4);
    }
}
