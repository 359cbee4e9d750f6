//! Where the Prometheus registry is served, and the gauges sampled rather than counted.

use std::sync::Arc;
use std::time::Duration;

use adapter_http::{ConnectionLimits, HttpServer, MetricsText};
use adapter_metrics::PrometheusTelemetry;
use adapter_persistence::{Database, DieselJobRepository};
use anyhow::Context as _;
use domain::ports::{JobRepository as _, Telemetry as _};
use domain::{JobQuery, JobStatus, PageRequest};

use crate::settings::{Environment, Settings};

/// How often the pool and the queue are sampled, and histograms drained into buckets.
const SAMPLE_INTERVAL: Duration = Duration::from_secs(5);

/// `/metrics` on the API listener, to loopback peers: unless `METRICS_ADDR` gives it a
/// listener of its own, and never in production (API.md).
pub(crate) fn served_on_api_listener(
    settings: &Settings,
    telemetry: &Arc<PrometheusTelemetry>,
) -> Option<MetricsText> {
    if settings.environment == Environment::Production || settings.metrics_addr.is_some() {
        return None;
    }
    let telemetry = Arc::clone(telemetry);
    Some(Arc::new(move || telemetry.render()))
}

/// Every few seconds, for as long as the registry lives (the task holds it weakly): the
/// pool's connections, the pending jobs, and the histograms' upkeep.
pub(crate) fn spawn_sampler(telemetry: &Arc<PrometheusTelemetry>, database: Database) {
    let telemetry = Arc::downgrade(telemetry);
    let jobs = DieselJobRepository::new(database.clone());
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(SAMPLE_INTERVAL);
        loop {
            interval.tick().await;
            let Some(telemetry) = telemetry.upgrade() else {
                return;
            };
            let (idle, used) = database.connection_counts();
            telemetry.database_connections(idle, used);
            if let Some(pending) = pending_jobs(&jobs).await {
                telemetry.jobs_pending(pending);
            }
            telemetry.run_upkeep();
        }
    });
}

/// Queued jobs and failed ones awaiting a retry; `None` when the database did not answer
/// (the gauge keeps its last value).
async fn pending_jobs(jobs: &DieselJobRepository) -> Option<u64> {
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
pub(crate) async fn bind_listener(
    settings: &Settings,
    telemetry: &Arc<PrometheusTelemetry>,
) -> anyhow::Result<Option<HttpServer>> {
    let Some(address) = settings.metrics_addr else {
        return Ok(None);
    };
    let telemetry = Arc::clone(telemetry);
    let render: MetricsText = Arc::new(move || telemetry.render());
    let server = HttpServer::bind_metrics(address, render, ConnectionLimits::default())
        .await
        .with_context(|| format!("could not listen on METRICS_ADDR {address}"))?;
    Ok(Some(server))
}
