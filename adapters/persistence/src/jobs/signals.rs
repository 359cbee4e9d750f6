//! What the job queue does around the jobs any transaction stores: each is stamped with the
//! trace of the work enqueueing it; once committed, they are counted and an idle worker of
//! this process is woken (other processes are woken by PostgreSQL's `NOTIFY`, sent inside
//! the transaction, see `listener`, or find the jobs by polling).
//!
//! One [`JobSignals`] is shared by the job repository and by every repository whose writes
//! carry an outbox (users, sessions): whichever stores a job wakes the workers that wait in
//! [`JobRepository::wait_for_jobs`](domain::ports::JobRepository::wait_for_jobs). The
//! [`Database`](crate::Database) itself holds only connections.

use std::sync::Arc;
use std::time::Duration;

use domain::Outbox;
use domain::ports::{NoTelemetry, NoTraces, Telemetry, TraceContext};
use tokio::sync::Notify;

use super::NewJobRow;

/// The job queue's signals in this process. Cheap to clone; clones share them.
#[derive(Clone)]
pub struct JobSignals {
    /// Wakes an idle worker of this process when a transaction stored jobs.
    enqueued: Arc<Notify>,
    /// Counts the jobs committed (`jobs_enqueued_total`).
    telemetry: Arc<dyn Telemetry>,
    /// The trace each stored job is stamped with, unless it has its own.
    traces: Arc<dyn TraceContext>,
}

impl std::fmt::Debug for JobSignals {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("JobSignals").finish_non_exhaustive()
    }
}

impl Default for JobSignals {
    fn default() -> Self {
        Self {
            enqueued: Arc::default(),
            telemetry: Arc::new(NoTelemetry),
            traces: Arc::new(NoTraces),
        }
    }
}

/// The kinds of the jobs a transaction stores, to report once it commits.
#[must_use = "report the jobs with `JobSignals::committed` once the transaction commits"]
pub(crate) struct Staged(Vec<String>);

impl JobSignals {
    /// Counts committed jobs in `telemetry`.
    #[must_use]
    pub fn with_telemetry(mut self, telemetry: Arc<dyn Telemetry>) -> Self {
        self.telemetry = telemetry;
        self
    }

    /// Stamps stored jobs with the current trace of `traces`, so that their attempts
    /// continue the trace of the request that enqueued them.
    #[must_use]
    pub fn with_traces(mut self, traces: Arc<dyn TraceContext>) -> Self {
        self.traces = traces;
        self
    }

    /// The rows to insert for `outbox` (each job with its own trace or else the current
    /// one), and what to report once they are committed.
    pub(crate) fn stage(&self, outbox: Outbox) -> (Vec<NewJobRow>, Staged) {
        let current = self.traces.current();
        let rows: Vec<NewJobRow> = outbox
            .into_jobs()
            .into_iter()
            .map(|mut job| {
                job.trace = job.trace.or(current);
                NewJobRow::from(job)
            })
            .collect();
        let kinds = rows.iter().map(|row| row.kind().to_owned()).collect();
        (rows, Staged(kinds))
    }

    /// The transaction that stored `staged` committed: counts its jobs and, if there were
    /// any, wakes a worker.
    pub(crate) fn committed(&self, Staged(kinds): Staged) {
        if kinds.is_empty() {
            return;
        }
        for kind in kinds {
            self.telemetry.jobs_enqueued(&kind, 1);
        }
        self.wake();
    }

    /// Tells a worker waiting in [`JobSignals::wait`] that jobs may be runnable. The signal
    /// is kept when nobody waits, so a worker between two claims does not miss it.
    pub(crate) fn wake(&self) {
        self.enqueued.notify_one();
    }

    /// Returns when this process stored or freed jobs, or after `timeout`.
    pub(crate) async fn wait(&self, timeout: Duration) {
        let _ = tokio::time::timeout(timeout, self.enqueued.notified()).await;
    }
}
