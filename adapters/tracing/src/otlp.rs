//! OpenTelemetry export over OTLP/HTTP with protobuf bodies.
//!
//! Spans go through the SDK's batch processor: ending a span only hands it to a bounded
//! queue (2048 spans; `OTEL_BSP_MAX_QUEUE_SIZE`), and a thread of the processor's own sends
//! them in batches (every 5 s or 512 spans; `OTEL_BSP_*`). A collector that is down or
//! silent therefore slows no request: the sending thread waits for it (at most
//! `OTEL_EXPORTER_OTLP_TIMEOUT`, 10 s by default), the queue fills, and the spans that do not
//! fit are dropped and counted by the SDK, so memory stays bounded. Spans follow the
//! sampled flag of an incoming `traceparent` (parent-based, always on for new traces).

use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{SpanExporter, WithExportConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};

/// The service name of exported spans unless `OTEL_SERVICE_NAME` says otherwise.
const DEFAULT_SERVICE_NAME: &str = "backend";
/// How long the spans still queued at shutdown may take to reach the collector.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// Where spans go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtlpConfig {
    /// The collector's base URL (`OTEL_EXPORTER_OTLP_ENDPOINT`); spans are sent to
    /// `<endpoint>/v1/traces`, as the OpenTelemetry specification says for this variable.
    pub endpoint: String,
    /// `service.name` of the exported spans.
    pub service_name: String,
}

impl OtlpConfig {
    /// Export to `endpoint`, named by `OTEL_SERVICE_NAME` or else `backend`.
    #[must_use]
    pub fn new(endpoint: &str, service_name: Option<&str>) -> Self {
        Self {
            endpoint: endpoint.to_owned(),
            service_name: service_name
                .filter(|name| !name.is_empty())
                .unwrap_or(DEFAULT_SERVICE_NAME)
                .to_owned(),
        }
    }

    fn traces_url(&self) -> String {
        format!("{}/v1/traces", self.endpoint.trim_end_matches('/'))
    }
}

/// The tracer provider and its batch processor.
pub(crate) struct Exporter {
    provider: SdkTracerProvider,
}

impl Exporter {
    pub(crate) fn start(config: &OtlpConfig) -> anyhow::Result<Self> {
        let exporter = SpanExporter::builder()
            .with_http()
            .with_endpoint(config.traces_url())
            .build()
            .map_err(|error| anyhow::anyhow!("could not build the OTLP exporter: {error}"))?;
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(
                Resource::builder()
                    .with_service_name(config.service_name.clone())
                    .build(),
            )
            .build();
        Ok(Self { provider })
    }

    pub(crate) fn tracer(&self) -> SdkTracer {
        self.provider.tracer(env!("CARGO_PKG_NAME"))
    }

    pub(crate) fn shutdown(self) {
        if let Err(error) = self.provider.shutdown_with_timeout(SHUTDOWN_TIMEOUT) {
            tracing::warn!(%error, "spans still queued for the collector were not all sent");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_go_to_the_traces_path_under_the_endpoint() {
        for endpoint in ["http://collector:4318", "http://collector:4318/"] {
            assert_eq!(
                OtlpConfig::new(endpoint, None).traces_url(),
                "http://collector:4318/v1/traces"
            );
        }
        let named = OtlpConfig::new("http://collector:4318", Some("billing"));
        assert_eq!(named.service_name, "billing");
        assert_eq!(
            OtlpConfig::new("http://c", Some("")).service_name,
            "backend"
        );
    }
}
