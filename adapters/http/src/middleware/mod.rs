//! Cross-cutting HTTP behaviour, outermost first (see `app::router` for the order):
//! request context and log line, security headers, CORS, rate limits, compression, body
//! limit, and the route table (`Allow` on 405s, route templates for metrics).

pub(crate) mod body_limit;
pub(crate) mod compression;
pub(crate) mod cors;
pub(crate) mod rate_limit;
pub(crate) mod request_log;
pub(crate) mod routes;
pub(crate) mod security_headers;
