//! Cross-cutting HTTP behaviour, outermost first (see `app::router` for the order):
//! request context and log line, security headers, CORS, rate limits, compression, body
//! limit, and `Allow` on 405s.

pub(crate) mod allow;

pub(crate) mod body_limit;
pub(crate) mod compression;
pub(crate) mod cors;
pub(crate) mod rate_limit;
pub(crate) mod request_log;
pub(crate) mod security_headers;
