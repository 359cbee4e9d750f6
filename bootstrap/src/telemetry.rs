//! Logs and traces for the process: pretty in development, JSON in production, filtered by
//! `RUST_LOG` (default `info`); spans exported over OTLP when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set. Tests stay silent unless `TEST_LOG` is set.

use adapter_tracing::TracingConfig;
pub use adapter_tracing::TracingGuard;

use crate::settings::Settings;

/// Installs the process's subscriber (a second call does nothing) and starts the exporter.
///
/// # Errors
/// The OTLP exporter could not be built.
pub fn init(settings: &Settings) -> anyhow::Result<TracingGuard> {
    adapter_tracing::install(&TracingConfig {
        format: settings.log_format,
        otlp: settings.otlp.clone(),
    })
}
