//! The job workers' composition: the queue's repository (on a database, on a
//! relaxed-durability pool of its own), the email handler with its mailer (SMTP or the outbox), and the worker settings; run with
//! the app or alone (the `worker` command).

use std::sync::Arc;
use std::time::Duration;

use adapter_mail::{MailSettings, OutboxMailer, SmtpMailer, SmtpOptions};
use adapter_tracing::SpanTraces;
use adapter_worker::{Observers, WorkerConfig, Workers};
use application::MailJobs;
use domain::RetryPolicy;
use domain::ports::{AccountMailer, Clock, JobRepository, SystemClock, Telemetry};
use secrecy::ExposeSecret as _;

use crate::metrics::ProcessMetrics;
use crate::settings::Settings;
use crate::storage::Storage;

/// How long running jobs may finish after a shutdown signal before they are released to
/// the queue (shorter than the HTTP grace: both run at once, within a typical 30 s
/// termination grace of an orchestrator).
const JOB_SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// Connections of the workers' bookkeeping pool: the dispatcher's claims, the success
/// recorder, failures and maintenance.
const WORKER_CONNECTIONS: usize = 4;

/// What the job workers need, built with the app and started when it runs.
pub(crate) struct JobRuntime {
    jobs: Arc<dyn JobRepository>,
    /// Wakes the workers when any process enqueues (PostgreSQL).
    listener: Option<std::pin::Pin<Box<dyn Future<Output = ()> + Send>>>,
    handler: Arc<MailJobs>,
    clock: Arc<dyn Clock>,
    telemetry: Arc<dyn Telemetry>,
    config: WorkerConfig,
}

impl std::fmt::Debug for JobRuntime {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("JobRuntime")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The `worker` command: job workers without HTTP, until `shutdown` completes.
pub async fn run_workers(
    settings: &Settings,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    if settings.jobs.workers == 0 {
        anyhow::bail!("JOB_WORKERS is 0: the worker command needs at least one worker");
    }
    let storage = Storage::open(settings).await?;
    if !storage.is_shared() {
        anyhow::bail!(
            "DATABASE_URL=memory:// lives in one process: the worker command needs a database"
        );
    }
    // A worker process has no API listener: its metrics are on METRICS_ADDR, if anywhere.
    let metrics = ProcessMetrics::start(settings, storage).await?;
    let runtime = JobRuntime::build(
        settings,
        &metrics.storage,
        Arc::new(SystemClock),
        metrics.port(),
    )?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let serve_metrics = crate::metrics::serve(metrics.listener, async move {
        let mut stopped = stopped;
        let _ = stopped.wait_for(|stopped| *stopped).await;
    });
    let run = async move {
        runtime.run_until(shutdown).await;
        let _ = stop.send(true);
    };
    let ((), served) = tokio::join!(run, serve_metrics);
    served
}

impl JobRuntime {
    /// The repository, the email handler and the worker settings for `storage`.
    pub(crate) fn build(
        settings: &Settings,
        storage: &Storage,
        clock: Arc<dyn Clock>,
        telemetry: Arc<dyn Telemetry>,
    ) -> anyhow::Result<Self> {
        let handler = Arc::new(MailJobs::new(
            storage.users(),
            mailer(settings)?,
            Arc::clone(&clock),
        ));
        let workers = storage.for_workers(WORKER_CONNECTIONS)?;
        Ok(Self {
            jobs: workers.jobs,
            listener: workers.listener,
            handler,
            clock,
            telemetry,
            config: worker_config(settings),
        })
    }

    /// Starts the workers, unless the configuration asks for none (`JOB_WORKERS=0`).
    fn start(&self) -> Option<Workers> {
        (self.config.concurrency > 0).then(|| {
            Workers::start(
                self.jobs.clone(),
                self.handler.clone(),
                Arc::clone(&self.clock),
                Observers {
                    telemetry: Arc::clone(&self.telemetry),
                    traces: Arc::new(SpanTraces),
                },
                self.config,
            )
        })
    }

    /// Runs the workers (and, on PostgreSQL, the listener that wakes them when any process
    /// enqueues) until `shutdown` completes, then stops them gracefully.
    pub(crate) async fn run_until(mut self, shutdown: impl Future<Output = ()>) {
        let workers = self.start();
        let listener = self
            .listener
            .take()
            .filter(|_| workers.is_some())
            .map(tokio::spawn);
        shutdown.await;
        if let Some(listener) = listener {
            listener.abort();
        }
        if let Some(workers) = workers {
            workers.shutdown(JOB_SHUTDOWN_GRACE).await;
        }
    }
}

/// SMTP when `SMTP_URL` is set, the outbox directory otherwise.
fn mailer(settings: &Settings) -> anyhow::Result<Arc<dyn AccountMailer>> {
    let mail = mail_settings(settings)?;
    Ok(match &settings.smtp_url {
        Some(url) => {
            let options = SmtpOptions {
                timeout: Duration::from_secs(settings.smtp_timeout_seconds),
                ..SmtpOptions::default()
            };
            Arc::new(SmtpMailer::from_url(url.expose_secret(), mail, options)?)
        }
        None => Arc::new(OutboxMailer::new(settings.mail_outbox_dir.clone(), mail)),
    })
}

fn worker_config(settings: &Settings) -> WorkerConfig {
    WorkerConfig {
        lease: Duration::from_secs(settings.jobs.lease_seconds),
        poll_interval: Duration::from_millis(settings.jobs.poll_interval_ms),
        retry: RetryPolicy {
            base: Duration::from_millis(settings.jobs.retry_base_ms),
            max: Duration::from_secs(settings.jobs.retry_max_seconds),
        },
        retention: Duration::from_secs(settings.jobs.retention_hours * 60 * 60),
        ..WorkerConfig::with_concurrency(settings.jobs.workers)
    }
}

fn mail_settings(settings: &Settings) -> anyhow::Result<MailSettings> {
    Ok(MailSettings {
        from: settings
            .mail_from
            .parse()
            .map_err(|error| anyhow::anyhow!("invalid MAIL_FROM: {error}"))?,
        public_url: settings.public_url.clone(),
    })
}
