//! CORS, done the way the seed meant and not the way it wrote it.
//!
//! The seed combined `origin: '*'` with `credentials: true`. Here an origin gets CORS
//! headers only if the policy allows it: listed origins get credentials; development with
//! no list allows any origin *without* credentials; production with no list allows none.
//! A disallowed origin is not an error: the response simply carries no CORS headers and
//! the browser refuses it (same-origin requests, e.g. from the docs page, keep working).

use poem::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};

const ALLOWED_METHODS: &str = "GET, POST, PUT, PATCH, DELETE, OPTIONS";
const ALLOWED_HEADERS: &str = "authorization, content-type, idempotency-key, x-request-id";
const EXPOSED_HEADERS: &str = "x-request-id, retry-after, ratelimit-policy, ratelimit-limit, ratelimit-remaining, ratelimit-reset";
const PREFLIGHT_MAX_AGE_SECONDS: &str = "600";

/// Which cross-origin callers may use the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsPolicy {
    /// No cross-origin access (production without `ALLOWED_ORIGINS`).
    Closed,
    /// Any origin, without credentials (development without `ALLOWED_ORIGINS`).
    AnyOriginWithoutCredentials,
    /// Exactly these origins (scheme://host[:port]), with credentials.
    Origins(Vec<String>),
}

impl CorsPolicy {
    /// The `Access-Control-Allow-Origin` value for `origin`, and whether credentials are
    /// allowed; `None` when the origin gets no CORS access.
    fn allow(&self, origin: &str) -> Option<(HeaderValue, bool)> {
        match self {
            Self::Closed => None,
            Self::AnyOriginWithoutCredentials => Some((HeaderValue::from_static("*"), false)),
            Self::Origins(origins) => origins
                .iter()
                .any(|allowed| allowed.eq_ignore_ascii_case(origin))
                .then(|| {
                    HeaderValue::from_str(origin)
                        .ok()
                        .map(|value| (value, true))
                })
                .flatten(),
        }
    }
}

/// The middleware applying a [`CorsPolicy`].
#[derive(Debug, Clone)]
pub(crate) struct Cors(pub(crate) CorsPolicy);

impl<E: Endpoint> Middleware<E> for Cors {
    type Output = CorsEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        CorsEndpoint {
            inner,
            policy: self.0.clone(),
        }
    }
}

pub(crate) struct CorsEndpoint<E> {
    inner: E,
    policy: CorsPolicy,
}

impl<E: Endpoint> Endpoint for CorsEndpoint<E> {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        let allowed = request
            .headers()
            .get(header::ORIGIN)
            .and_then(|origin| origin.to_str().ok())
            .and_then(|origin| self.policy.allow(origin));
        let is_preflight = request.method() == Method::OPTIONS
            && request
                .headers()
                .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);

        if is_preflight {
            let mut response = StatusCode::NO_CONTENT.into_response();
            if let Some((origin, credentials)) = allowed {
                let headers = response.headers_mut();
                add_origin_headers(headers, origin, credentials);
                headers.insert(
                    header::ACCESS_CONTROL_ALLOW_METHODS,
                    HeaderValue::from_static(ALLOWED_METHODS),
                );
                headers.insert(
                    header::ACCESS_CONTROL_ALLOW_HEADERS,
                    HeaderValue::from_static(ALLOWED_HEADERS),
                );
                headers.insert(
                    header::ACCESS_CONTROL_MAX_AGE,
                    HeaderValue::from_static(PREFLIGHT_MAX_AGE_SECONDS),
                );
            }
            return Ok(response);
        }

        let mut response = self.inner.call(request).await?.into_response();
        if let Some((origin, credentials)) = allowed {
            let headers = response.headers_mut();
            add_origin_headers(headers, origin, credentials);
            headers.insert(
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static(EXPOSED_HEADERS),
            );
        }
        Ok(response)
    }
}

fn add_origin_headers(headers: &mut HeaderMap, origin: HeaderValue, credentials: bool) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    if credentials {
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
    }
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_origins_get_credentials_and_others_nothing() {
        let policy = CorsPolicy::Origins(vec!["https://app.example.com".to_owned()]);
        assert_eq!(
            policy.allow("https://app.example.com"),
            Some((HeaderValue::from_static("https://app.example.com"), true))
        );
        assert_eq!(policy.allow("https://evil.example.com"), None);
    }

    #[test]
    fn any_origin_never_comes_with_credentials() {
        assert_eq!(
            CorsPolicy::AnyOriginWithoutCredentials.allow("https://anywhere.example"),
            Some((HeaderValue::from_static("*"), false))
        );
    }

    #[test]
    fn a_closed_policy_allows_no_origin() {
        assert_eq!(CorsPolicy::Closed.allow("https://app.example.com"), None);
    }
}
