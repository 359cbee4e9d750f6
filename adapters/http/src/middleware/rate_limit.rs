//! Rate limits on `/api/v1`: a global limit per client, a stricter one on
//! `/api/v1/auth/*`, and one per user for requests with a valid bearer token (whatever
//! address they come from). Every applicable counter is hit; the response describes the
//! limit closest to exhaustion (a refusing one first) in `RateLimit-Policy`,
//! `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (the draft IETF headers,
//! as express-rate-limit's `standardHeaders` sends them); a refused request is a JSON 429
//! `Too many requests` with `Retry-After`.

use std::sync::Arc;

use application::Authenticator;
use domain::ports::{RateDecision, RateHit, RateLimiter, RatePolicy, Telemetry};
use poem::http::{HeaderName, HeaderValue, StatusCode};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};

use crate::auth::VerifiedToken;
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
const AUTHORIZATION: HeaderName = poem::http::header::AUTHORIZATION;

/// See the module documentation.
#[derive(Clone)]
pub(crate) struct RateLimit {
    pub(crate) limiter: Arc<dyn RateLimiter>,
    pub(crate) global: RatePolicy,
    pub(crate) auth: RatePolicy,
    pub(crate) user: RatePolicy,
    /// Tells whose bearer token a request carries (signature and lifetime only).
    pub(crate) authenticator: Authenticator,
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
        // Global, auth, user: the more specific later; counted in one call (one round trip
        // to a shared limiter).
        let mut hits = Vec::with_capacity(3);
        let mut names = ["global"; 3];
        hits.push(counter("global", &client, self.config.global));
        if is_auth {
            names[hits.len()] = "auth";
            hits.push(counter("auth", &client, self.config.auth));
        }
        if let Some(claims) =
            bearer_token(&request).and_then(|token| self.config.authenticator.verify(token))
        {
            // Verified once: the operation's security checker takes it from here.
            request.extensions_mut().insert(VerifiedToken(claims));
            names[hits.len()] = "user";
            hits.push(counter("user", claims.user_id, self.config.user));
        }
        let decisions = self.config.limiter.hit_all(&hits).await;
        let closest = closest_to_exhaustion(&decisions[..decisions.len().min(hits.len())]);
        let (decision, policy, limit) = (decisions[closest], hits[closest].policy, names[closest]);
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

/// The counter of `kind` (`global`, `auth`, `user`) for `subject` (an address, a user id).
fn counter(kind: &str, subject: impl std::fmt::Display, policy: RatePolicy) -> RateHit {
    RateHit {
        key: format!("{kind}:{subject}"),
        policy,
    }
}

/// Which limit the client needs to know about: one that refuses, else the one with the
/// fewest requests left; the more specific limit (later) on a tie.
fn closest_to_exhaustion(decisions: &[RateDecision]) -> usize {
    let specific_first = || (0..decisions.len()).rev();
    specific_first()
        .find(|&index| !decisions[index].allowed)
        .or_else(|| specific_first().min_by_key(|&index| decisions[index].remaining))
        .expect("the global limit always applies")
}

/// The token of an `Authorization: Bearer` header, if any.
fn bearer_token(request: &Request) -> Option<&str> {
    let value = request.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
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
