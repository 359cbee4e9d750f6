//! What a handle does around the jobs a transaction enqueues: stamp each with the trace of
//! the work enqueueing it, then, once committed, count them and wake a worker of this
//! process (other processes find them by polling).

use std::time::Duration;

use domain::NewJob;

use super::Database;
use crate::jobs::NewJobRow;

impl Database {
    /// Stamps enqueued jobs with the current trace of `traces` (every handle cloned from
    /// this one afterwards shares it), so that their attempts continue the trace of the
    /// request that enqueued them.
    #[must_use]
    pub fn with_traces(mut self, traces: std::sync::Arc<dyn domain::ports::TraceContext>) -> Self {
        self.traces = traces;
        self
    }

    /// The rows to insert for `jobs`, each with its own trace or else the current one.
    pub(crate) fn job_rows(&self, jobs: Vec<NewJob>) -> Vec<NewJobRow> {
        let current = self.traces.current();
        jobs.into_iter()
            .map(|job| {
                NewJobRow::from(NewJob {
                    trace: job.trace.or(current),
                    ..job
                })
            })
            .collect()
    }

    /// Counts committed jobs in `telemetry` (every handle cloned from this one afterwards
    /// shares it).
    #[must_use]
    pub fn with_telemetry(
        mut self,
        telemetry: std::sync::Arc<dyn domain::ports::Telemetry>,
    ) -> Self {
        self.telemetry = telemetry;
        self
    }

    /// Tells a worker waiting in [`Database::jobs_enqueued`] that jobs were committed. The
    /// signal is kept when nobody waits, so a worker between two claims does not miss it.
    pub(crate) fn signal_jobs_enqueued(&self) {
        self.jobs_enqueued.notify_one();
    }

    /// New jobs of these kinds were committed: counts them and wakes a worker.
    pub(crate) fn jobs_committed<'a>(&self, kinds: impl IntoIterator<Item = &'a str>) {
        for kind in kinds {
            self.telemetry.jobs_enqueued(kind, 1);
        }
        self.signal_jobs_enqueued();
    }

    /// Returns when this process committed jobs, or after `timeout` (other processes'
    /// jobs are found by polling).
    pub(crate) async fn jobs_enqueued(&self, timeout: Duration) {
        let _ = tokio::time::timeout(timeout, self.jobs_enqueued.notified()).await;
    }
}
