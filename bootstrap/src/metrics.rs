//! Where the Prometheus registry is served, and the gauges sampled rather than counted.

use std::sync::Arc;
use std::time::Duration;

use adapter_http::{ConnectionLimits, HttpServer, MetricsText};
use adapter_metrics::PrometheusTelemetry;
use anyhow::Context as _;
use domain::ports::{JobRepository, Telemetry};
use domain::{JobQuery, JobStatus, PageRequest};

use crate::settings::{Environment, Settings};
use crate::storage::Storage;

/// How often the pool and the queue are sampled, and histograms drained into buckets.
const SAMPLE_INTERVAL: Duration = Duration::from_secs(5);
/// How long a scrape in progress may finish at shutdown.
const METRICS_GRACE: Duration = Duration::from_secs(1);

/// `/metrics` on the API listener, to loopback peers: unless `METRICS_ADDR` gives it a
/// listener of its own, and never in production (API.md).
pub(crate) fn served_on_api_listener(
    settings: &Settings,
    telemetry: &Arc<PrometheusTelemetry>,
) -> Option<MetricsText> {
    if settings.environment == Environment::Production || settings.metrics_addr.is_some() {
        return None;
    }
    Some(renderer(telemetry))
}

/// This process's metrics: the registry, the storage that counts stored jobs into it, and the `METRICS_ADDR` listener when one is configured. The sampler runs for as
/// long as the registry lives.
pub(crate) struct ProcessMetrics {
    pub(crate) telemetry: Arc<PrometheusTelemetry>,
    pub(crate) storage: Storage,
    pub(crate) listener: Option<HttpServer>,
}

impl ProcessMetrics {
    /// Starts counting into a new registry; binds `METRICS_ADDR` when set.
    pub(crate) async fn start(settings: &Settings, storage: Storage) -> anyhow::Result<Self> {
        let telemetry = Arc::new(PrometheusTelemetry::new(env!("CARGO_PKG_VERSION")));
        let storage = storage.with_telemetry(Arc::clone(&telemetry) as Arc<dyn Telemetry>);
        spawn_sampler(&telemetry, storage.clone());
        let listener = bind_listener(settings, &telemetry).await?;
        Ok(Self {
            telemetry,
            storage,
            listener,
        })
    }

    /// The registry as the port the adapters count through.
    pub(crate) fn port(&self) -> Arc<dyn Telemetry> {
        Arc::clone(&self.telemetry) as Arc<dyn Telemetry>
    }
}

/// Serves the `METRICS_ADDR` listener, if there is one, until `stop` completes.
pub(crate) async fn serve(
    listener: Option<HttpServer>,
    stop: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let Some(listener) = listener else {
        return Ok(());
    };
    listener
        .run_until(stop, METRICS_GRACE)
        .await
        .context("the metrics listener failed")
}

fn renderer(telemetry: &Arc<PrometheusTelemetry>) -> MetricsText {
    let telemetry = Arc::clone(telemetry);
    Arc::new(move || telemetry.render())
}

/// Every few seconds, for as long as the registry lives (the task holds it weakly): the
/// pool's connections (of a database), the pending jobs, and the histograms' upkeep.
fn spawn_sampler(telemetry: &Arc<PrometheusTelemetry>, storage: Storage) {
    let telemetry = Arc::downgrade(telemetry);
    let jobs = storage.jobs();
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(SAMPLE_INTERVAL);
        loop {
            interval.tick().await;
            let Some(telemetry) = telemetry.upgrade() else {
                return;
            };
            if let Some((idle, used)) = storage.connection_counts() {
                telemetry.database_connections(idle, used);
            }
            if let Some(pending) = pending_jobs(jobs.as_ref()).await {
                telemetry.jobs_pending(pending);
            }
            telemetry.run_upkeep();
        }
    });
}

/// Queued jobs and failed ones awaiting a retry; `None` when the database did not answer
/// (the gauge keeps its last value).
async fn pending_jobs(jobs: &dyn JobRepository) -> Option<u64> {
    let mut pending = 0;
    for status in [JobStatus::Queued, JobStatus::Failed] {
        let query = JobQuery {
            page: PageRequest::new(Some(1), Some(1)).ok()?,
            status: Some(status),
            queue: None,
        };
        pending += jobs.list(&query).await.ok()?.total;
    }
    Some(pending)
}

/// The `METRICS_ADDR` listener, when one is configured.
async fn bind_listener(
    settings: &Settings,
    telemetry: &Arc<PrometheusTelemetry>,
) -> anyhow::Result<Option<HttpServer>> {
    let Some(address) = settings.metrics_addr else {
        return Ok(None);
    };
    let server =
        HttpServer::bind_metrics(address, renderer(telemetry), ConnectionLimits::default())
            .await
            .with_context(|| format!("could not listen on METRICS_ADDR {address}"))?;
    Ok(Some(server))
}
