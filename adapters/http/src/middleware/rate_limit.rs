//! Rate limits on `/api/v1`: a global limit per client, and a stricter one on
//! `/api/v1/auth/*`. Limited responses carry `RateLimit-Policy`, `RateLimit-Limit`,
//! `RateLimit-Remaining` and `RateLimit-Reset` (the draft IETF headers, as
//! express-rate-limit's `standardHeaders` sends them); a refused request is a JSON 429
//! `Too many requests` with `Retry-After`.

use std::sync::Arc;

use domain::ports::{RateDecision, RateLimiter, RatePolicy, Telemetry};
use poem::http::{HeaderName, HeaderValue, StatusCode};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};

use crate::client_ip::{ClientAddress, TrustedProxies};
use crate::errors::ErrorBody;

const API_PREFIX: &str = "/api/v1/";
const AUTH_PREFIX: &str = "/api/v1/auth/";

// Header names as constants: inserting by `&str` parses and validates the name each time.
const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
const RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
const RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
const RATELIMIT_RESET: HeaderName = HeaderName::from_static("ratelimit-reset");
const RETRY_AFTER: HeaderName = poem::http::header::RETRY_AFTER;

/// See the module documentation.
#[derive(Clone)]
pub(crate) struct RateLimit {
    pub(crate) limiter: Arc<dyn RateLimiter>,
    pub(crate) global: RatePolicy,
    pub(crate) auth: RatePolicy,
    pub(crate) trusted_proxies: TrustedProxies,
    /// Counts refusals, by limit (`rate_limit_rejections_total`).
    pub(crate) telemetry: Arc<dyn Telemetry>,
}

impl<E: Endpoint> Middleware<E> for RateLimit {
    type Output = RateLimitEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        RateLimitEndpoint {
            inner,
            config: self.clone(),
        }
    }
}

pub(crate) struct RateLimitEndpoint<E> {
    inner: E,
    config: RateLimit,
}

impl<E: Endpoint> Endpoint for RateLimitEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut request: Request) -> poem::Result<Response> {
        let path = request.uri().path();
        if !path.starts_with(API_PREFIX) {
            return Ok(self.inner.call(request).await?.into_response());
        }
        let is_auth = path.starts_with(AUTH_PREFIX);
        let address = self.config.trusted_proxies.client_ip(&request);
        let client = address.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
        // Resolved once, here; sessions record it (`client_ip::Client`).
        if let Some(address) = address {
            request.extensions_mut().insert(ClientAddress(address));
        }
        let global = (
            self.config
                .limiter
                .hit(&format!("global:{client}"), self.config.global)
                .await,
            self.config.global,
        );
        let auth = if is_auth {
            Some((
                self.config
                    .limiter
                    .hit(&format!("auth:{client}"), self.config.auth)
                    .await,
                self.config.auth,
            ))
        } else {
            None
        };
        // The tighter of the two is what the client needs to know.
        let (decision, policy, limit) = match auth {
            Some(auth)
                if !auth.0.allowed
                    || (global.0.allowed && auth.0.remaining <= global.0.remaining) =>
            {
                (auth.0, auth.1, "auth")
            }
            _ => (global.0, global.1, "global"),
        };
        let mut response = if decision.allowed {
            self.inner.call(request).await?.into_response()
        } else {
            self.config.telemetry.rate_limit_rejected(limit);
            let mut response = (
                StatusCode::TOO_MANY_REQUESTS,
                ErrorBody::new("Too many requests"),
            )
                .into_response();
            response
                .headers_mut()
                .insert(RETRY_AFTER, header_number(decision.reset_after.as_secs()));
            response
        };
        add_headers(&mut response, decision, policy);
        Ok(response)
    }
}

fn add_headers(response: &mut Response, decision: RateDecision, policy: RatePolicy) {
    let headers = response.headers_mut();
    if let Ok(value) =
        HeaderValue::from_str(&format!("{};w={}", policy.limit, policy.window.as_secs()))
    {
        headers.insert(RATELIMIT_POLICY, value);
    }
    headers.insert(RATELIMIT_LIMIT, header_number(u64::from(decision.limit)));
    headers.insert(
        RATELIMIT_REMAINING,
        header_number(u64::from(decision.remaining)),
    );
    headers.insert(
        RATELIMIT_RESET,
        header_number(decision.reset_after.as_secs()),
    );
}

fn header_number(number: u64) -> HeaderValue {
    HeaderValue::from(number)
}
