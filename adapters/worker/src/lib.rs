//! The job worker runtime: a driving adapter, like the HTTP server, that takes its input
//! from the job queue instead of a socket and hands it to the application's
//! [`JobHandler`].
//!
//! One [`Workers`] runs up to `concurrency` attempts at once:
//!
//! - **Claims** as many jobs as it has free slots plus one more round (prefetched, so that
//!   a slot that frees up starts its next job without a database round trip), only of the
//!   kinds its handler runs, each under a lease owned by this runtime. Idle, it waits for
//!   the repository's hint that jobs were enqueued, or polls every `poll_interval`.
//! - **Runs** each attempt in its own task, cancelled after `attempt_timeout`. A panic is a
//!   retryable failure, not a dead worker.
//! - **Renews** the lease of every job it holds three times per lease (a heartbeat), so a
//!   job that runs longer than its lease is not claimed again while its worker lives; a
//!   worker that dies stops renewing, and its jobs are recovered after their lease.
//! - **Records** successes in batches (one statement for many jobs), failures one by one:
//!   retried after exponential backoff with jitter, or dead after the last attempt or a
//!   permanent failure.
//! - **Maintains** the queue every `maintenance_interval` (or half a lease, if shorter):
//!   jobs whose lease expired (their worker died) become runnable again; finished jobs
//!   older than `retention` are deleted.
//! - **Stops** gracefully: no new claims; running attempts get a grace period; the ones
//!   still running after it are cancelled and their jobs, with the prefetched ones,
//!   released to the queue without counting the attempt. Nothing is lost: a job is
//!   finished, released, or (if the process dies) recovered after its lease. Delivery is
//!   therefore at least once.
//!
//! This file holds the configuration and the handle; the loop is in `runtime`.

mod runtime;

use std::sync::Arc;
use std::time::Duration;

use application::JobHandler;
use domain::RetryPolicy;
use domain::ports::{Clock, JobRepository, NoTelemetry, NoTraces, Telemetry, TraceContext};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use self::runtime::Runtime;

/// How the runtime behaves; see the crate documentation.
#[derive(Debug, Clone, Copy)]
pub struct WorkerConfig {
    /// Attempts running at once (at least 1).
    pub concurrency: usize,
    /// How long a claim holds without being renewed; a live worker renews it every third
    /// of it, so this is how long a dead worker's jobs wait before they run again.
    pub lease: Duration,
    /// The longest an attempt may run before it is cancelled (a retryable failure).
    pub attempt_timeout: Duration,
    /// How often an idle runtime looks for jobs that other processes enqueued.
    pub poll_interval: Duration,
    /// How often expired leases are recovered and finished jobs pruned.
    pub maintenance_interval: Duration,
    pub retry: RetryPolicy,
    /// How long succeeded and dead jobs are kept.
    pub retention: Duration,
}

impl WorkerConfig {
    /// Production defaults for `concurrency` workers: 60 s leases, attempts of at most
    /// 5 min, polling every 500 ms, maintenance every 10 s, retries from 1 s doubling up to
    /// 1 h, 7 days of retention.
    #[must_use]
    pub fn with_concurrency(concurrency: usize) -> Self {
        Self {
            concurrency,
            lease: Duration::from_mins(1),
            attempt_timeout: Duration::from_mins(5),
            poll_interval: Duration::from_millis(500),
            maintenance_interval: Duration::from_secs(10),
            retry: RetryPolicy {
                base: Duration::from_secs(1),
                max: Duration::from_hours(1),
            },
            retention: Duration::from_hours(168),
        }
    }
}

/// Where the runtime reports: the metrics of finished attempts, and the trace each attempt
/// continues (the enqueuing request's).
#[derive(Clone)]
pub struct Observers {
    pub telemetry: Arc<dyn Telemetry>,
    pub traces: Arc<dyn TraceContext>,
}

impl Observers {
    /// Reports nothing; attempts still get trace ids for their log lines.
    #[must_use]
    pub fn none() -> Self {
        Self {
            telemetry: Arc::new(NoTelemetry),
            traces: Arc::new(NoTraces),
        }
    }
}

impl std::fmt::Debug for Observers {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Observers").finish_non_exhaustive()
    }
}

/// What a graceful stop did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Attempts that ended within the grace period.
    pub finished: usize,
    /// Jobs given back to the queue because their attempt was cancelled.
    pub released: u64,
}

/// A running worker runtime. Stop it with [`Workers::shutdown`].
#[derive(Debug)]
pub struct Workers {
    stop: watch::Sender<Option<Duration>>,
    runtime: JoinHandle<ShutdownReport>,
}

impl Workers {
    /// Starts claiming and running jobs of the kinds `handler` runs.
    pub fn start(
        jobs: Arc<dyn JobRepository>,
        handler: Arc<dyn JobHandler>,
        clock: Arc<dyn Clock>,
        observers: Observers,
        config: WorkerConfig,
    ) -> Self {
        let (stop, stopped) = watch::channel(None);
        let runtime = Runtime::new(jobs, handler, clock, observers, config);
        Self {
            stop,
            runtime: tokio::spawn(Arc::new(runtime).run(stopped)),
        }
    }

    /// Stops claiming, lets running attempts finish for up to `grace`, cancels the rest and
    /// releases their jobs, and records every outcome before returning.
    pub async fn shutdown(self, grace: Duration) -> ShutdownReport {
        // The runtime may have ended on its own (a panic): nothing to tell then.
        let _ = self.stop.send(Some(grace));
        match self.runtime.await {
            Ok(report) => {
                tracing::info!(
                    finished = report.finished,
                    released = report.released,
                    "job workers stopped"
                );
                report
            }
            Err(error) => {
                tracing::error!(%error, "the job worker runtime failed");
                ShutdownReport::default()
            }
        }
    }

    /// Stops at once without finishing, recording or releasing anything, as if the process
    /// had died: its jobs run again once their leases expire. For operators' emergency
    /// stops and for tests of lease recovery.
    pub fn abort(self) {
        self.runtime.abort();
    }
}
