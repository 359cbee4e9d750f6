//! What a handle does after a transaction committed jobs: count them and wake a worker of
//! this process (other processes find them by polling).

use std::time::Duration;

use super::Database;

impl Database {
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
