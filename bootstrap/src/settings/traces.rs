//! `OTEL_EXPORTER_OTLP_ENDPOINT` and `OTEL_SERVICE_NAME`: where spans are exported, if
//! anywhere, and under which service name.

use adapter_tracing::OtlpConfig;

use super::ConfigError;
use super::values::invalid;

/// `None` unless `OTEL_EXPORTER_OTLP_ENDPOINT` names an `http://` collector.
pub(super) fn otlp(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<Option<OtlpConfig>, ConfigError> {
    let Some(endpoint) = get("OTEL_EXPORTER_OTLP_ENDPOINT") else {
        return Ok(None);
    };
    let endpoint = endpoint.trim();
    let Some(authority) = endpoint.strip_prefix("http://") else {
        return Err(invalid(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!(
                "expected http://host:port of a collector, got '{endpoint}' (the exporter \
                 has no TLS: send to a local collector or agent)"
            ),
        ));
    };
    if authority.trim_end_matches('/').is_empty() || authority.contains(char::is_whitespace) {
        return Err(invalid(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("expected http://host:port of a collector, got '{endpoint}'"),
        ));
    }
    Ok(Some(OtlpConfig::new(
        endpoint,
        get("OTEL_SERVICE_NAME").as_deref().map(str::trim),
    )))
}
