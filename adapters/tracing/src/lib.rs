//! Logs and traces, one technology: the `tracing` subscriber.
//!
//! - Log lines: compact text for people, or one JSON object per line for machines, filtered
//!   by `RUST_LOG` (default `info`).
//! - [`SpanTraces`]: the domain's [`TraceContext`](domain::ports::TraceContext) port, which
//!   keeps each request's and job's W3C trace with its span.
//! - With an OTLP endpoint, spans are exported to an OpenTelemetry collector over
//!   OTLP/HTTP ([`otlp`]): the requests, the use cases, the database statement groups, the
//!   SMTP calls and the jobs, each job in the trace of the request that enqueued it.
//!
//! The use-case, database and SMTP spans are at `DEBUG`: the log filter leaves them out, so
//! they cost nothing unless export is on, where the exporter's own filter takes them.

mod otlp;
mod span_traces;

pub use otlp::OtlpConfig;
pub use span_traces::SpanTraces;

use tracing::Level;
use tracing_subscriber::filter::{DynFilterFn, EnvFilter};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{Layer as _, Registry};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Compact text.
    Pretty,
    /// One JSON object per line, the event's fields at the top level.
    Json,
}

/// Logs, and where to export traces.
#[derive(Debug, Clone)]
pub struct TracingConfig {
    pub format: LogFormat,
    /// `None`: no export (the default).
    pub otlp: Option<OtlpConfig>,
}

/// Keeps the exporter running. [`TracingGuard::shutdown`] sends the spans still queued; a
/// guard dropped without it drops them.
#[must_use = "the exporter stops with its guard"]
pub struct TracingGuard {
    exporter: Option<otlp::Exporter>,
}

impl TracingGuard {
    /// Sends the spans still queued, waiting for the collector at most its timeout.
    pub fn shutdown(mut self) {
        if let Some(exporter) = self.exporter.take() {
            exporter.shutdown();
        }
    }
}

impl std::fmt::Debug for TracingGuard {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("TracingGuard")
            .field("exporting", &self.exporter.is_some())
            .finish()
    }
}

/// Installs the process's subscriber. When one is installed already (a second call, or a
/// test harness's own), nothing changes and no exporter starts.
///
/// # Errors
/// The exporter could not be built (an invalid endpoint).
pub fn install(config: &TracingConfig) -> anyhow::Result<TracingGuard> {
    install_writing_to(config, std::io::stdout)
}

/// [`install`], with the log lines written to `writer` instead of standard output (tests
/// read the lines the service writes).
///
/// # Errors
/// The exporter could not be built (an invalid endpoint).
pub fn install_writing_to<W>(config: &TracingConfig, writer: W) -> anyhow::Result<TracingGuard>
where
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    if tracing::dispatcher::has_been_set() {
        return Ok(TracingGuard { exporter: None });
    }
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt::layer().with_writer(writer);
    let logs = match config.format {
        LogFormat::Pretty => logs.compact().boxed(),
        LogFormat::Json => logs
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .boxed(),
    }
    .with_filter(filter);
    let exporter = config
        .otlp
        .as_ref()
        .map(otlp::Exporter::start)
        .transpose()?;
    let spans = exporter.as_ref().map(|exporter| {
        tracing_opentelemetry::layer()
            .with_tracer(exporter.tracer())
            // Entering a span would start its OpenTelemetry span, after which it can no
            // longer take the parent of an incoming `traceparent`; nothing here reads
            // OpenTelemetry's own current context.
            .with_context_activation(false)
            .with_filter(DynFilterFn::new(|metadata, context| {
                exported(metadata, context.lookup_current().is_some())
            }))
    });
    let _ = Registry::default().with(logs).with(spans).try_init();
    Ok(TracingGuard { exporter })
}

/// What the exporter takes: everything at `INFO` and above, and this service's own
/// `DEBUG` spans (use cases, statement groups, SMTP calls); but statement groups only inside
/// another span (a request, a job), never as traces of their own: the worker's claims and
/// maintenance would otherwise send several traces a second while nothing happens.
fn exported(metadata: &tracing::Metadata<'_>, inside_a_span: bool) -> bool {
    if metadata.is_span() && !inside_a_span && metadata.target().starts_with(PERSISTENCE) {
        return false;
    }
    *metadata.level() <= Level::INFO
        || (metadata.is_span() && *metadata.level() <= Level::DEBUG && is_ours(metadata.target()))
}

/// The target prefix of the statement groups' spans.
const PERSISTENCE: &str = "adapter_persistence";

fn is_ours(target: &str) -> bool {
    ["application", "adapter_", "bootstrap", "backend"]
        .iter()
        .any(|prefix| target.starts_with(prefix))
}

#[cfg(test)]
mod tests {
    use super::{exported, is_ours};

    #[test]
    fn the_services_own_crates_are_recognised_by_target() {
        assert!(is_ours("application::users"));
        assert!(is_ours("adapter_persistence::users"));
        assert!(is_ours("adapter_mail"));
        assert!(!is_ours("hyper::proto"));
        assert!(!is_ours("diesel"));
    }

    #[test]
    fn statement_groups_are_exported_inside_a_request_or_job_only() {
        // The registry alone enables every span, so each has its metadata.
        tracing::subscriber::with_default(tracing_subscriber::Registry::default(), || {
            let statement =
                tracing::debug_span!(target: "adapter_persistence::jobs", "db jobs.claim");
            let use_case = tracing::debug_span!(target: "application::users", "UserService.get");
            let noise = tracing::debug_span!(target: "hyper::proto", "parse");
            let (statement, use_case, noise) = (
                statement.metadata().unwrap(),
                use_case.metadata().unwrap(),
                noise.metadata().unwrap(),
            );
            assert!(exported(statement, true));
            assert!(!exported(statement, false));
            assert!(exported(use_case, false));
            assert!(!exported(noise, true));
        });
    }
}
