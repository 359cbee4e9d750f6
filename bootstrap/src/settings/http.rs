//! The `HTTP_*` variables: limits on the clients' connections and request bodies.

use super::ConfigError;
use super::values::positive_setting;

/// Limits on the clients' connections and request bodies (`HTTP_*` variables).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    pub max_connections: usize,
    pub header_timeout_seconds: u64,
    pub body_timeout_seconds: u64,
    pub idle_timeout_seconds: u64,
    pub http2_max_streams: u32,
}

impl HttpLimits {
    pub(super) fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(Self {
            max_connections: positive_setting(
                get,
                "HTTP_MAX_CONNECTIONS",
                "10000",
                "a positive number",
            )?,
            header_timeout_seconds: positive_setting(
                get,
                "HTTP_HEADER_TIMEOUT_SECONDS",
                "10",
                "a number of seconds",
            )?,
            body_timeout_seconds: positive_setting(
                get,
                "HTTP_BODY_TIMEOUT_SECONDS",
                "30",
                "a number of seconds",
            )?,
            idle_timeout_seconds: positive_setting(
                get,
                "HTTP_IDLE_TIMEOUT_SECONDS",
                "60",
                "a number of seconds",
            )?,
            http2_max_streams: positive_setting(
                get,
                "HTTP2_MAX_CONCURRENT_STREAMS",
                "100",
                "a positive number",
            )?,
        })
    }
}
